/*
 * Test helper: a one-replica decision log on raft_uv in a child process, proposing a scripted
 * run (log_util.h) from wherever its log ends, telling the parent over a pipe how far it got.
 * The parent kills it (SIGKILL) whenever it likes, as a crash would.
 */
#ifndef HV_TESTS_REPLICA_UTIL_H
#define HV_TESTS_REPLICA_UTIL_H

#include <stdint.h>
#include <sys/types.h>

#include <hivewire/log.h>

typedef struct solo {
    pid_t pid;
    int fd; /* the child's reports: one byte per entry applied, then the end record */
} solo;

/* What the child sends when it has proposed the whole run and closed cleanly. */
typedef struct solo_end {
    uint64_t seq;
    uint64_t trades_hash;
    uint8_t state_hash[HV_LOG_HASH_BYTES];
    int finished;
} solo_end;

/* Starts the child on dir with the scripted run of `cycles` cycles from `seed`; `propose` 0
 * only opens the log and reports (a restart that adds nothing). Segments of seg_bytes,
 * snapshots every `threshold` entries. Returns 0 or -1. */
int solo_start(solo *s, const char *dir, uint64_t cycles, uint64_t seed, int propose,
               size_t seg_bytes, unsigned threshold);
/* Reads until n entries were applied (1), or the child ended first (0). */
int solo_wait_applied(solo *s, uint64_t n);
/* Reads the end record; 0 ok, -1 the child died first. Reaps the child. */
int solo_wait_end(solo *s, solo_end *out);
/* kill -9 and reap. */
void solo_kill(solo *s);

#endif
