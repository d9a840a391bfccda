/* `hivewire dtw`: exit codes, output and located errors, by calling the command directly with
 * stdout/stderr redirected to temporary files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv_test.h"

#include <hivewire/common.h>

#include "cli/cli.h"

int hv_cmd_dtw(int argc, char **argv);

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs the command with the given arguments (file names relative to dir), captures stdout and
 * stderr into out/err (NUL-terminated), returns the exit code. */
static int run(char *out, size_t out_cap, char *err, size_t err_cap, int argc, const char **args)
{
    char *argv[16], storage[16][160];
    argv[0] = "dtw";
    for (int i = 0; i < argc; i++) {
        if (strstr(args[i], ".txt") != NULL)
            snprintf(storage[i], sizeof(storage[i]), "%s/%s", dir, args[i]);
        else
            snprintf(storage[i], sizeof(storage[i]), "%s", args[i]);
        argv[i + 1] = storage[i];
    }
    char op[128], ep[128];
    snprintf(op, sizeof(op), "%s/stdout", dir);
    snprintf(ep, sizeof(ep), "%s/stderr", dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    assert_non_null(freopen(op, "w", stdout));
    assert_non_null(freopen(ep, "w", stderr));
    int rc = hv_cmd_dtw(argc + 1, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    FILE *f = fopen(op, "r");
    size_t n = fread(out, 1, out_cap - 1, f);
    out[n] = '\0';
    fclose(f);
    f = fopen(ep, "r");
    n = fread(err, 1, err_cap - 1, f);
    err[n] = '\0';
    fclose(f);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hv-dtw-cli-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file("q.txt", "1,2,3,4,5,6,7,8,9,10\n");
    write_file("p.txt", "1,2,3,4,5,6,7,8,9,10\n10,9,8,7,6,5,4,3,2,1\n"
                        "1,1,2,3,5,8,13,21,34,55\n2,3,4,5,6,7,8,9,10,12\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = { "q.txt", "p.txt", "bad.txt", "short.txt", "stdout", "stderr" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static char out[1 << 16], err[1 << 12];

static void top_k_lists_nearest_patterns_and_pruning(void **state)
{
    (void)state;
    const char *a[] = { "--query", "q.txt", "--patterns", "p.txt", "--k", "2" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 6, a), HV_EXIT_OK);
    assert_non_null(strstr(out, "2 nearest of 4 patterns"));
    assert_non_null(strstr(out, "  1\t0\t0\n"));
    assert_non_null(strstr(out, "  2\t3\t"));
    assert_non_null(strstr(out, "pruning: 4 candidates"));
}

static void json_output_has_top_and_pruning(void **state)
{
    (void)state;
    const char *a[] = { "--query", "q.txt",  "--patterns", "p.txt", "--k",
                        "3",       "--json", "--threads",  "2" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 9, a), HV_EXIT_OK);
    assert_non_null(strstr(out, "\"top\":[{\"pattern\":0,\"distance\":0.0}"));
    assert_non_null(strstr(out, "\"pruning\":{\"candidates\":4"));
}

static void all_prints_every_distance(void **state)
{
    (void)state;
    const char *a[] = { "--query", "q.txt", "--patterns", "p.txt", "--all", "--band", "0" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 7, a), HV_EXIT_OK);
    /* z-normalised ascending vs descending ramp with band 0: sum of (2 z_i)^2 = 4 * 10 = 40 */
    assert_non_null(strstr(out, "  1\t40\n"));
    assert_non_null(strstr(out, "  0\t0\n"));
}

static void bad_number_is_located(void **state)
{
    (void)state;
    write_file("bad.txt", "1,2,3,4,5,6,7,8,9,10\n1,2,3,4,x5,6,7,8,9,10\n");
    const char *a[] = { "--query", "q.txt", "--patterns", "bad.txt" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 4, a), HV_EXIT_FAIL);
    assert_non_null(strstr(err, "bad.txt:2:9: unexpected character 'x'"));
}

static void length_mismatch_is_located(void **state)
{
    (void)state;
    write_file("short.txt", "1,2,3,4,5,6,7,8,9,10\n1,2,3\n");
    const char *a[] = { "--query", "q.txt", "--patterns", "short.txt" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 4, a), HV_EXIT_FAIL);
    assert_non_null(strstr(err, "short.txt:2: series has 3 values but the query has 10"));
}

static void bad_usage_exits_two(void **state)
{
    (void)state;
    const char *a[] = { "--query", "q.txt", "--patterns", "p.txt", "--band", "1.5" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 6, a), HV_EXIT_USAGE);
    assert_non_null(strstr(err, "--band"));
    const char *b[] = { "--query", "q.txt" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 2, b), HV_EXIT_USAGE);
    const char *c[] = { "--query", "q.txt", "--patterns", "p.txt", "--k", "0" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 6, c), HV_EXIT_USAGE);
    const char *h[] = { "--help" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 1, h), HV_EXIT_OK);
    assert_non_null(strstr(out, "usage: hivewire dtw"));
}

static void missing_file_is_reported(void **state)
{
    (void)state;
    const char *a[] = { "--query", "nothere.txt", "--patterns", "p.txt" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 4, a), HV_EXIT_FAIL);
    assert_non_null(strstr(err, "nothere.txt"));
}

static void directory_as_input_is_named(void **state)
{
    (void)state;
    const char *a[] = { "--query", dir, "--patterns", "p.txt" };
    assert_int_equal(run(out, sizeof(out), err, sizeof(err), 4, a), HV_EXIT_FAIL);
    assert_non_null(strstr(err, "is a directory"));
    assert_null(strstr(err, "input/output error"));
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(hv__cli_read_file(dir, 1024, &buf, &len), HV_EISDIR);
    FILE *f = fopen(dir, "rb"); /* a directory opens; reading it must not pass for I/O error */
    if (f != NULL) {
        assert_int_equal(hv__cli_read_all(f, 1024, &buf, &len), HV_EISDIR);
        fclose(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(directory_as_input_is_named),
        cmocka_unit_test(top_k_lists_nearest_patterns_and_pruning),
        cmocka_unit_test(json_output_has_top_and_pruning),
        cmocka_unit_test(all_prints_every_distance),
        cmocka_unit_test(bad_number_is_located),
        cmocka_unit_test(length_mismatch_is_located),
        cmocka_unit_test(bad_usage_exits_two),
        cmocka_unit_test(missing_file_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
