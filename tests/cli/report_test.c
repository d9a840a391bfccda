/*
 * The CLI's report pieces (src/cli/report.c): the check of the outputs before a run, and the
 * summary rows wrapped to 80 columns.
 */
#include "hv_test.h"

#include <errno.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/report.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hv-cli-report-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *const files[] = { "run.json", "run.html", "trades.csv", NULL };

/* A missing directory is made with its parents; an existing one with the files in it passes,
 * and nothing in it is truncated or left behind. */
static void the_out_directory_is_made_and_kept_whole(void **state)
{
    (void)state;
    char out[128], file[160];
    snprintf(out, sizeof(out), "%s/a/b/c", dir);
    assert_int_equal(hv__cli_out_check("run", "--out", out, files), 0);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(file, sizeof(file), "%s/run.json", out);
    FILE *f = fopen(file, "w");
    fputs("{}", f);
    fclose(f);
    assert_int_equal(hv__cli_out_check("run", "--out", out, files), 0);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_size, 2);
    char ls[256];
    snprintf(ls, sizeof(ls), "test $(ls -A %s | wc -l) -eq 1", out); /* no probe file left */
    assert_int_equal(system(ls), 0);
}

/* What cannot be written fails before the run: a file where the directory should be, a
 * directory where a report should be, a place where nothing can be created. */
static void what_cannot_be_written_is_refused(void **state)
{
    (void)state;
    char out[128], file[160];
    snprintf(out, sizeof(out), "%s/plain", dir);
    FILE *f = fopen(out, "w");
    fclose(f);
    assert_int_equal(hv__cli_out_check("run", "--out", out, files), HV_EXIT_FAIL);
    snprintf(file, sizeof(file), "%s/inside", out); /* a parent that is a file */
    assert_int_equal(hv__cli_out_check("run", "--out", file, files), HV_EXIT_FAIL);
    snprintf(out, sizeof(out), "%s/d", dir);
    snprintf(file, sizeof(file), "%s/d/run.html", dir);
    assert_int_equal(mkdir(out, 0777), 0);
    assert_int_equal(mkdir(file, 0777), 0);
    assert_int_equal(hv__cli_out_check("run", "--out", out, files), HV_EXIT_FAIL);
    assert_int_equal(hv__cli_out_check("run", "--out", "/proc/hivewire-no/out", files),
                     HV_EXIT_FAIL);
    assert_int_equal(hv__cli_out_check("run", "--out", "/proc", files), HV_EXIT_FAIL);
    assert_int_equal(hv__cli_out_check("run", "--out", out, NULL), 0); /* no file named */
}

static char *row(const char *key, const char *val, int wide)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    hv__cli_print_row(f, key, val, wide);
    fclose(f);
    return buf;
}

static size_t longest_line(const char *s, size_t *lines)
{
    size_t best = 0;
    *lines = 0;
    while (*s) {
        size_t n = strcspn(s, "\n");
        best = n > best ? n : best;
        (*lines)++;
        s += n + (s[n] != 0);
    }
    return best;
}

/* A value that fits stays on the key's line; a longer one wraps at spaces onto lines indented
 * under the value, none past 80 columns, no word cut; --wide keeps it whole. */
static void rows_wrap_at_80_columns(void **state)
{
    (void)state;
    size_t lines;
    char *r = row("fees", "20421.55", 0);
    assert_string_equal(r, "fees                     20421.55\n");
    free(r);
    const char *v = "4645 counted, 1050 after the decision, 0 refused; 659 decided early; auth "
                    "BLAKE2b MACs (every voter in this process)";
    r = row("votes", v, 0);
    assert_true(longest_line(r, &lines) <= 80);
    assert_int_equal(lines, 3);
    assert_non_null(strstr(r, "\n                         decided early"));
    assert_null(strstr(r, "  \n"));
    free(r);
    r = row("votes", v, 1);
    assert_true(longest_line(r, &lines) > 80);
    assert_int_equal(lines, 1);
    free(r);
    /* exactly the width left: one line; one more character: two */
    char w55[56], w56[57];
    memset(w55, 'x', 55);
    w55[55] = 0;
    r = row("k", w55, 0);
    assert_true(longest_line(r, &lines) == 80 && lines == 1);
    free(r);
    memcpy(w56, w55, 55);
    w56[50] = ' ';
    w56[55] = 'y';
    w56[56] = 0;
    r = row("k", w56, 0);
    assert_true(longest_line(r, &lines) <= 80 && lines == 2);
    free(r);
    /* a word longer than the line stands alone, whole */
    char path[120];
    memset(path, 'p', sizeof(path) - 1);
    path[sizeof(path) - 1] = 0;
    char val[200];
    snprintf(val, sizeof(val), "a %s b", path);
    r = row("data", val, 0);
    assert_non_null(strstr(r, path));
    assert_int_equal(longest_line(r, &lines), 25 + strlen(path));
    assert_int_equal(lines, 3);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_out_directory_is_made_and_kept_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(what_cannot_be_written_is_refused, setup, teardown),
        cmocka_unit_test(rows_wrap_at_80_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
