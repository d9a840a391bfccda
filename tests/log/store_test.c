/*
 * A replica's data directory as `hivewire log verify` reads it (store.c, verify.c), made by a
 * real raft_uv replica in a child process: a replica killed mid-run (kill -9) and a write cut
 * short at the end of its open segment (as a power loss leaves it) still verify, restart, finish
 * the run with the trades of the scripted run, and restart again to the same state hash; and
 * every kind of damage is refused with the file and the byte.
 *
 * With HV_LOG_KEEP=DIR, the test leaves a finished replica's directory in DIR for the CLI tests.
 */
#include "hv_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include <hivewire/rng.h>

#include "log/log_int.h"
#include "log_util.h"
#include "replica_util.h"

#define CYCLES  150
#define SEG     (32u << 10)
#define SNAP_AT 128u

static const char *g_keep;

static void temp_dir(char *out, size_t cap, const char *what)
{
    snprintf(out, cap, "/tmp/hv-log-%s-XXXXXX", what);
    assert_non_null(mkdtemp(out));
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    char p[4400];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void verify_ok(const char *dir, hv_log_verify_report *rep)
{
    char err[1024] = "";
    int rc = hv__log_verify(dir, rep, NULL, err, sizeof(err));
    if (rc != 0)
        fail_msg("verify %s: %s", dir, err);
    if (rep->problems != 0)
        fail_msg("verify %s: %" PRIu64 " problems, the first: %s", dir, rep->problems,
                 rep->first_problem);
}

/* The scripted run's trades, computed without any log. */
static uint64_t reference_trades(uint64_t cycles, uint64_t seed, uint64_t *entries)
{
    logrun r;
    hv_log_entry e;
    assert_int_equal(logrun_init(&r, cycles, seed), 0);
    *entries = 0;
    while (logrun_entry(&r, &e))
        (*entries)++;
    uint64_t h = r.trades;
    logrun_fini(&r);
    return h;
}

/* The open segment written last and the end of what was written in it. */
static int last_open(const char *dir, char *path, size_t cap, off_t *written)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned long long best = 0, k;
    int found = 0;
    while (d != NULL && (de = readdir(d)) != NULL)
        if (sscanf(de->d_name, "open-%llu", &k) == 1 && k >= best) {
            best = k;
            snprintf(path, cap, "%s/%s", dir, de->d_name);
            found = 1;
        }
    if (d != NULL)
        closedir(d);
    if (!found)
        return 0;
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    uint8_t *b = malloc((size_t)st.st_size);
    ssize_t n = read(fd, b, (size_t)st.st_size);
    close(fd);
    off_t end = n;
    while (end > 8 && b[end - 1] == 0)
        end--;
    free(b);
    *written = end;
    return end > 16;
}

static void a_replica_killed_mid_write_restarts_and_its_log_verifies(void **state)
{
    (void)state;
    uint64_t entries = 0, trades = reference_trades(CYCLES, 5, &entries);
    hv_rng g;
    hv_rng_seed(&g, 77);
    for (int round = 0; round < 3; round++) {
        char dir[64];
        temp_dir(dir, sizeof(dir), "kill");
        solo s;
        assert_int_equal(solo_start(&s, dir, CYCLES, 5, 1, SEG, SNAP_AT), 0);
        uint64_t kill_at = 50 + hv_rng_below(&g, entries - 100);
        assert_true(solo_wait_applied(&s, kill_at));
        solo_kill(&s); /* kill -9, in the middle of its writes */
        hv_log_verify_report *rep = calloc(1, sizeof(*rep));
        verify_ok(dir, rep);
        assert_true(rep->status.seq >= kill_at);
        /* a power loss: the last write cut short somewhere in its last 4 KiB */
        char open_path[4400];
        off_t written = 0;
        if (last_open(dir, open_path, sizeof(open_path), &written)) {
            off_t cut = written - 1 - (off_t)hv_rng_below(&g, written > 4096 ? 4096 : written - 16);
            assert_int_equal(truncate(open_path, cut), 0);
            verify_ok(dir, rep);
        }
        uint64_t kept = rep->status.seq;
        /* started again: it loads what survived, finishes the run from there */
        assert_int_equal(solo_start(&s, dir, CYCLES, 5, 1, SEG, SNAP_AT), 0);
        solo_end end;
        assert_int_equal(solo_wait_end(&s, &end), 0);
        assert_true(end.finished);
        assert_int_equal(end.seq, entries);
        assert_true(end.seq >= kept);
        assert_int_equal(end.trades_hash, trades);
        verify_ok(dir, rep);
        assert_true(rep->status.finished);
        assert_int_equal(rep->status.trades_hash, trades);
        assert_memory_equal(rep->state_hash, end.state_hash, 32);
        assert_true(rep->store.snapshot); /* it took snapshots, and verify restored one */
        /* and again, adding nothing: the same state from disk */
        solo_end again;
        assert_int_equal(solo_start(&s, dir, CYCLES, 5, 0, SEG, SNAP_AT), 0);
        assert_int_equal(solo_wait_end(&s, &again), 0);
        assert_memory_equal(again.state_hash, end.state_hash, 32);
        free(rep);
        if (round == 0 && g_keep != NULL) {
            char cmd[512];
            snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s' '%s'", g_keep, dir, g_keep);
            assert_int_equal(system(cmd), 0);
        }
        remove_dir(dir);
    }
}

/* ---- Damage ---------------------------------------------------------------------------------- */

static char g_good[64];

static int setup_good(void **state)
{
    (void)state;
    temp_dir(g_good, sizeof(g_good), "good");
    solo s;
    solo_end end;
    if (solo_start(&s, g_good, 60, 9, 1, 8u << 10, 64) != 0 || solo_wait_end(&s, &end) != 0)
        return -1;
    return 0;
}

static int teardown_good(void **state)
{
    (void)state;
    remove_dir(g_good);
    return 0;
}

static void copy_good(char *dir, size_t cap)
{
    temp_dir(dir, cap, "bad");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp -r '%s'/. '%s'", g_good, dir);
    assert_int_equal(system(cmd), 0);
}

/* The n-th closed segment (in index order) of dir. */
static void closed_segment(const char *dir, int n, char *path, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char names[64][64];
    int k = 0;
    while ((de = readdir(d)) != NULL && k < 64)
        if (strlen(de->d_name) == 33 && de->d_name[16] == '-')
            memcpy(names[k++], de->d_name, 34);
    closedir(d);
    assert_true(n < k);
    qsort(names, (size_t)k, 64, (int (*)(const void *, const void *))strcmp);
    snprintf(path, cap, "%s/%s", dir, names[n]);
}

static void poke(const char *path, off_t at, uint8_t x)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= x;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

static void expect(const char *dir, int rc_want, const char *fragment)
{
    hv_log_verify_report *rep = calloc(1, sizeof(*rep));
    char err[1024] = "";
    int rc = hv__log_verify(dir, rep, NULL, err, sizeof(err));
    const char *msg = rc != 0 ? err : rep->first_problem;
    if (rc != rc_want || strstr(msg, fragment) == NULL)
        fail_msg("verify %s: rc %d (%s), want %d with '%s'", dir, rc, msg, rc_want, fragment);
    free(rep);
}

static void a_damaged_log_is_refused_with_the_file_and_the_byte(void **state)
{
    (void)state;
    hv_log_verify_report *rep = calloc(1, sizeof(*rep));
    verify_ok(g_good, rep);
    assert_true(rep->store.segments >= 3);
    free(rep);
    char dir[64], seg[4400];
    /* a flipped bit in a closed segment's data */
    copy_good(dir, sizeof(dir));
    closed_segment(dir, 1, seg, sizeof(seg));
    poke(seg, 200, 0x10);
    expect(dir, HV_ECHECKSUM, "checksum mismatch");
    expect(dir, HV_ECHECKSUM, strrchr(seg, '/') + 1);
    remove_dir(dir);
    /* a closed segment cut short */
    copy_good(dir, sizeof(dir));
    closed_segment(dir, 1, seg, sizeof(seg));
    assert_int_equal(truncate(seg, 300), 0);
    expect(dir, HV_ETRUNCATED, "cut short");
    remove_dir(dir);
    /* a segment gone: a gap */
    copy_good(dir, sizeof(dir));
    closed_segment(dir, 1, seg, sizeof(seg));
    assert_int_equal(unlink(seg), 0);
    expect(dir, HV_EBADLEN, "a gap in the log");
    remove_dir(dir);
    /* not a segment at all, under a segment's name */
    copy_good(dir, sizeof(dir));
    closed_segment(dir, 0, seg, sizeof(seg));
    int fd = open(seg, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "hello, world, not raft", 22), 22);
    close(fd);
    expect(dir, HV_EBADVERSION, "not a raft segment");
    remove_dir(dir);
    expect("/nonexistent/hv-log", HV_ENOTFOUND, "/nonexistent/hv-log");
}

/* Entries that are whole to raft but wrong to the log: a repeated proposal, a broken chain. */
static void a_log_that_breaks_the_chain_or_repeats_a_proposal_is_reported(void **state)
{
    (void)state;
    char dir[64], seg[4400];
    copy_good(dir, sizeof(dir));
    /* a decision's proposal id changed, and the batch's CRC made to match as a careful forger
     * would: raft reads it, the log does not take it */
    closed_segment(dir, 2, seg, sizeof(seg));
    int fd = open(seg, O_RDWR);
    struct stat st;
    fstat(fd, &st);
    uint8_t *b = malloc((size_t)st.st_size);
    assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
    /* batches: crc1 crc2 n, n headers, the data; the first decision found is changed */
    size_t off = 8;
    int done = 0;
    while (!done && off + 16 <= (size_t)st.st_size) {
        uint64_t n;
        memcpy(&n, b + off + 8, 8);
        if (n == 0)
            break;
        size_t data = off + 16 + 16 * n, at = data;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t len;
            memcpy(&len, b + off + 16 + 16 * i + 12, 4);
            if (!done && b[off + 16 + 16 * i + 8] == 1 && b[at + 5] == HV_LOG_DECISION) {
                b[at + 56] ^= 1; /* its proposal id */
                done = 1;
            }
            at += len;
        }
        if (done) {
            uint32_t crc2 = hv__log_crc32(b + data, at - data, 0);
            memcpy(b + off + 4, &crc2, 4);
        }
        off = at;
    }
    assert_true(done);
    assert_int_equal(pwrite(fd, b, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    free(b);
    hv_log_verify_report *rep = calloc(1, sizeof(*rep));
    char err[1024];
    assert_int_equal(hv__log_verify(dir, rep, NULL, err, sizeof(err)), 0);
    assert_true(rep->problems >= 1); /* the chain breaks after it, or the id is a repeat */
    assert_true(strstr(rep->first_problem, "hash chain") != NULL ||
                strstr(rep->first_problem, "proposal") != NULL);
    free(rep);
    remove_dir(dir);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    g_keep = getenv("HV_LOG_KEEP");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_replica_killed_mid_write_restarts_and_its_log_verifies),
        cmocka_unit_test(a_damaged_log_is_refused_with_the_file_and_the_byte),
        cmocka_unit_test(a_log_that_breaks_the_chain_or_repeats_a_proposal_is_reported),
    };
    return cmocka_run_group_tests(tests, setup_good, teardown_good);
}
