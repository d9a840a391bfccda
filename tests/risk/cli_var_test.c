#include "hv_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <hivewire/risk.h>
#include <hivewire/rng.h>

int hv_cmd_var(int argc, char **argv);

/* Runs `hivewire var` with argv, capturing stdout into out[cap]. Returns the exit code. */
static int run(char **argv, int argc, char *out, size_t cap)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(1);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 1) >= 0);
    int rc = hv_cmd_var(argc, argv);
    fflush(stdout);
    assert_true(dup2(saved, 1) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void json_output_matches_the_library_and_counts_bad_rows(void **state)
{
    (void)state;
    char path[] = "/tmp/hv_cli_var_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "day,ret\n1,0.01\n2,-0.02\n3,oops\n4,0.03\n5,-0.05\n6,0.00\n7,-0.01");
    char *argv[] = { "var", "--returns", path, "--column", "ret", "--confidence", "0.8", "--json" };
    char out[4096];
    assert_int_equal(run(argv, 8, out, sizeof(out)), 0);
    json_error_t err;
    json_t *doc = json_loads(out, 0, &err);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "observations")), 6);
    assert_int_equal(json_integer_value(json_object_get(doc, "bad_rows")), 1);
    json_t *res = json_array_get(json_object_get(doc, "results"), 0);
    double r[6] = { 0.01, -0.02, 0.03, -0.05, 0.00, -0.01 }, s[6];
    hv_var_es want;
    assert_int_equal(hv_var_historical(r, 6, 0.8, s, &want), 0);
    assert_true(fabs(json_real_value(json_object_get(res, "var")) - want.var) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(res, "es")) - want.es) < 1e-9);
    json_decref(doc);
    unlink(path);
}

static void prices_become_log_returns_and_every_method_runs(void **state)
{
    (void)state;
    char path[] = "/tmp/hv_cli_var_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    /* 101 prices whose log returns are seeded normal draws: moments Cornish-Fisher accepts,
     * and 100 returns, the fewest with a historical tail at 99%. */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("date,close\n", f);
    hv_rng rng;
    hv_rng_seed(&rng, 3);
    double p = 100;
    for (int i = 0; i < 101; i++) {
        fprintf(f, "%d,%.10f\n", i, p);
        p *= exp(0.01 * hv_rng_normal(&rng));
    }
    fclose(f);
    char *argv[] = { "var",    "--returns", path,  "--column", "close", "--prices",
                     "--json", "--method",  "all", "--sims",   "1000" };
    char out[8192];
    assert_int_equal(run(argv, 11, out, sizeof(out)), 0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "observations")), 100);
    json_t *res = json_object_get(doc, "results");
    assert_int_equal(json_array_size(res), 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(json_real_value(json_object_get(json_array_get(res, i), "es")) > 0);
    json_decref(doc);
    /* Too few returns for some methods: the others still print, the exit code says failure.
     * Two returns at 50% hold one in the historical tail. */
    write_file(path, "close\n100\n101\n99\n");
    char *argv_half[] = { "var",      "--returns",    path,       "--column", "close",
                          "--prices", "--json",       "--method", "all",      "--sims",
                          "1000",     "--confidence", "0.5" };
    assert_int_equal(run(argv_half, 13, out, sizeof(out)), 1);
    doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    res = json_object_get(doc, "results");
    assert_int_equal(json_array_size(res), 4);
    assert_non_null(json_object_get(json_array_get(res, 0), "var"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 2), "error")),
                        "HV_ETOOFEWOBS");
    json_decref(doc);
    unlink(path);
}

static void too_few_returns_and_a_gain_tail_are_explained(void **state)
{
    (void)state;
    char path[] = "/tmp/hv_cli_var_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "0.01\n");
    char *one[] = { "var", "--returns", path, "--json" };
    char out[4096];
    /* One return at 99%: an error, not a number. */
    assert_int_equal(run(one, 4, out, sizeof(out)), 1);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    json_t *res = json_array_get(json_object_get(doc, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(res, "error")), "HV_ETOOFEWOBS");
    assert_null(json_object_get(res, "var"));
    json_decref(doc);
    /* Only gains: the text says so, the JSON keeps the negative number. */
    write_file(path, "0.01\n0.02\n0.03\n0.04\n");
    char *gain[] = { "var", "--returns", path, "--confidence", "0.5" };
    assert_int_equal(run(gain, 5, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "no loss at this confidence: the tail is a gain"));
    char *gain_json[] = { "var", "--returns", path, "--confidence", "0.5", "--json" };
    assert_int_equal(run(gain_json, 6, out, sizeof(out)), 0);
    doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    res = json_array_get(json_object_get(doc, "results"), 0);
    assert_true(json_real_value(json_object_get(res, "var")) < 0);
    json_decref(doc);
    /* Monte Carlo with 50 draws at 99%: no draw in the tail, an error rather than a number. */
    char *mc[] = { "var", "--returns", path, "--method", "montecarlo", "--sims", "50", "--json" };
    assert_int_equal(run(mc, 8, out, sizeof(out)), 1);
    doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    res = json_array_get(json_object_get(doc, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(res, "error")), "HV_ETOOFEWOBS");
    json_decref(doc);
    unlink(path);
}

static void bad_usage_and_bad_input_have_distinct_exit_codes(void **state)
{
    (void)state;
    char out[4096];
    char *no_file[] = { "var" };
    assert_int_equal(run(no_file, 1, out, sizeof(out)), 2);
    char *bad_conf[] = { "var", "--returns", "x", "--confidence", "1" };
    assert_int_equal(run(bad_conf, 5, out, sizeof(out)), 2);
    char *bad_method[] = { "var", "--returns", "x", "--method", "median" };
    assert_int_equal(run(bad_method, 5, out, sizeof(out)), 2);
    char *directory[] = { "var", "--returns", "/tmp" };
    assert_int_equal(run(directory, 3, out, sizeof(out)), 1);
    char *missing[] = { "var", "--returns", "/nonexistent/returns.txt" };
    assert_int_equal(run(missing, 3, out, sizeof(out)), 1);
    char *help[] = { "var", "--help" };
    assert_int_equal(run(help, 2, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "usage"));
}

static void strict_mode_fails_on_a_bad_row(void **state)
{
    (void)state;
    char path[] = "/tmp/hv_cli_var_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "0.01\n-0.02\nx\n0.03\n");
    char out[4096];
    /* Three returns: at 50% the historical tail holds one, so only the bad row can fail. */
    char *lenient[] = { "var", "--returns", path, "--confidence", "0.5" };
    assert_int_equal(run(lenient, 5, out, sizeof(out)), 0);
    char *strict[] = { "var", "--returns", path, "--confidence", "0.5", "--strict" };
    assert_int_equal(run(strict, 6, out, sizeof(out)), 1);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_output_matches_the_library_and_counts_bad_rows),
        cmocka_unit_test(prices_become_log_returns_and_every_method_runs),
        cmocka_unit_test(too_few_returns_and_a_gain_tail_are_explained),
        cmocka_unit_test(bad_usage_and_bad_input_have_distinct_exit_codes),
        cmocka_unit_test(strict_mode_fails_on_a_bad_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
