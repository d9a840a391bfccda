#include "hv_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <hivewire/market.h>

int hv_cmd_market(int argc, char **argv);

/* Runs `hivewire market` with argv, capturing stdout into a malloc'd string. */
static int run(char **argv, int argc, char **out)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(1);
    assert_true(saved >= 0 && dup2(fileno(tmp), 1) >= 0);
    int rc = hv_cmd_market(argc, argv);
    fflush(stdout);
    assert_true(dup2(saved, 1) >= 0);
    close(saved);
    long n = ftell(tmp);
    rewind(tmp);
    *out = malloc((size_t)n + 1);
    assert_non_null(*out);
    size_t got = fread(*out, 1, (size_t)n, tmp);
    (*out)[got] = '\0';
    fclose(tmp);
    return rc;
}

static void temp_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void stats_reports_rows_dates_and_bad_rows_as_json(void **state)
{
    (void)state;
    char path[] = "/tmp/hv_cli_market_XXXXXX";
    temp_file(path, "date,close\n2000-01-03,10\n2000-01-04,x\n2000-01-05,11\n2000-01-06,12");
    char *argv[] = { "market", "stats", path, "--json" }, *out;
    assert_int_equal(run(argv, 4, &out), 0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "rows")), 3);
    assert_int_equal(json_integer_value(json_object_get(doc, "bad_rows")), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "first_date")), "2000-01-03");
    assert_string_equal(json_string_value(json_object_get(doc, "last_date")), "2000-01-06");
    json_t *is = json_array_get(json_object_get(doc, "issues"), 0);
    assert_int_equal(json_integer_value(json_object_get(is, "line")), 3);
    assert_int_equal(json_integer_value(json_object_get(is, "column")), 2);
    json_decref(doc);
    free(out);
    char *strict[] = { "market", "stats", path, "--strict" };
    assert_int_equal(run(strict, 4, &out), 1);
    free(out);
    unlink(path);
}

static void synth_output_reads_back_as_valid_bars(void **state)
{
    (void)state;
    char *argv[] = { "market", "synth", "--bars", "500", "--seed", "4", "--regimes" }, *out;
    assert_int_equal(run(argv, 7, &out), 0);
    hv_series s;
    hv_series_init(&s);
    hv_csv_opts o = { .size = sizeof(o), .strict = 1 };
    assert_int_equal(hv_csv_parse_bars(out, strlen(out), &o, &s, NULL), 0);
    assert_int_equal(s.len, 500);
    hv_series_fini(&s);
    free(out);
}

static void replay_emits_every_tick_and_stops_at_the_limit(void **state)
{
    (void)state;
    char path[] = "/tmp/hv_cli_market_XXXXXX";
    temp_file(path, "date,open,high,low,close\n2000-01-03,10,12,9,11\n2000-01-04,11,11,8,9\n");
    char *argv[] = { "market", "replay", path, "--ticks", "4" }, *out;
    assert_int_equal(run(argv, 5, &out), 0);
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 8);
    free(out);
    char *limited[] = { "market", "replay", path, "--limit", "3" };
    assert_int_equal(run(limited, 5, &out), 0);
    lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2); /* only two bars exist */
    free(out);
    unlink(path);
}

static void bad_usage_exits_with_two(void **state)
{
    (void)state;
    char *out;
    char *none[] = { "market" };
    assert_int_equal(run(none, 1, &out), 2);
    free(out);
    char *unknown[] = { "market", "frobnicate" };
    assert_int_equal(run(unknown, 2, &out), 2);
    free(out);
    char *bars[] = { "market", "synth", "--bars", "0" };
    assert_int_equal(run(bars, 4, &out), 2);
    free(out);
    char *missing[] = { "market", "stats", "/nonexistent/bars.csv" };
    assert_int_equal(run(missing, 3, &out), 1);
    free(out);
    char *directory[] = { "market", "stats", "/tmp" };
    assert_int_equal(run(directory, 3, &out), 1);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stats_reports_rows_dates_and_bad_rows_as_json),
        cmocka_unit_test(synth_output_reads_back_as_valid_bars),
        cmocka_unit_test(replay_emits_every_tick_and_stops_at_the_limit),
        cmocka_unit_test(bad_usage_exits_with_two),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
