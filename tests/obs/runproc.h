/*
 * Test helper: runs `hivewire` as a child process (stdout discarded, stderr captured), reads
 * what it prints, speaks plain HTTP/1.0 to it on loopback. Every wait is bounded and waits on
 * the event itself (poll on the child's stderr or the socket), never a sleep.
 */
#ifndef HV_TESTS_OBS_RUNPROC_H
#define HV_TESTS_OBS_RUNPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct run_proc {
    pid_t pid;
    int err_fd;
    char err[1 << 16];
    size_t len;
    int eof;
} run_proc;

/* The hivewire binary (HV_BIN from the environment, set by CTest). */
const char *rp_binary(void);

/* Starts argv[0] with argv. 0 or -1. */
int rp_start(run_proc *p, char *const argv[]);
/* Waits up to timeout_ms for more stderr. 1 read some, 0 nothing came, -1 the child closed it. */
int rp_pump(run_proc *p, int timeout_ms);
/* Reads stderr until it holds needle: a pointer into p->err, or NULL (timeout or EOF). */
const char *rp_wait_for(run_proc *p, const char *needle, int timeout_ms);
/* The port printed after "<what> at http://127.0.0.1:" (what: "metrics", "dashboard"); 0 if
 * it did not come within timeout_ms. */
uint16_t rp_port(run_proc *p, const char *what, int timeout_ms);
/* rp_start(), then rp_port(what) within 60 s: the port, or 0 (p->err says why). */
uint16_t rp_serve(run_proc *p, char *const argv[], const char *what);
/* Sends sig (0: none), reads stderr to its end and reaps the child: its exit status, or -1
 * (killed by a signal, or not done within timeout_ms: then it is killed). */
int rp_finish(run_proc *p, int sig, int timeout_ms);

/* GET path from 127.0.0.1:port. Returns the HTTP status and a malloc'd body (NUL-ended), or
 * -1. */
int http_get(uint16_t port, const char *path, char **body, size_t *len, int timeout_ms);

#endif
