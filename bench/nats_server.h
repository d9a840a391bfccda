/*
 * What the benchmarks that compare with NATS share: a loopback port, nats-server as a child
 * process (started from a configuration file, ready when its log says so, killed with SIGKILL),
 * and the versions for the rows' params.
 */
#ifndef HV_BENCH_NATS_SERVER_H
#define HV_BENCH_NATS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A loopback port nobody uses now (type SOCK_STREAM or SOCK_DGRAM), 0 if none. */
uint16_t hv_bench_free_port(int type);

typedef struct hv_nats_server {
    pid_t pid; /* 0: not running */
    char conf[300], log[300];
} hv_nats_server;

/* Starts `nats-server -c s->conf -l s->log` (its output to /dev/null) and waits until the log
 * says "Server is ready", at most ready_ns. Returns 0, HV_EIO (it exited, or no fork), or
 * HV_ETIMEDOUT (then it is still running: kill it). */
int hv_nats_server_spawn(hv_nats_server *s, uint64_t ready_ns);
/* kill -9 and reap (nothing when not running). */
void hv_nats_server_kill(hv_nats_server *s);
/* "nats-server 2.9.10, libnats 3.4.1" (or "none" without libnats). */
void hv_nats_versions(char *out, size_t cap);

#endif
