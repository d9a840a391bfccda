/* The table-driven option parser: conversions at the edges of every kind, stores by field
 * width, the messages that name the option, and the spec self-check. */
#include "hv_test.h"

#include <fcntl.h>
#include <math.h>

#include "cli/opts.h"

typedef struct demo {
    uint64_t count;
    uint32_t small;
    int64_t offset;
    int32_t offset32;
    double frac;
    double ratio;
    const char *path;
    int verbose;
    int color;
    int mode;
    uint64_t span_ns;
    uint64_t applied;
} demo;

typedef struct other {
    double rate;
} other;

static const hv_opt_choice modes[] = { { "fast", 1, NULL },
                                       { "safe", 2, NULL },
                                       { NULL, 0, NULL } };

static int apply_twice(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                       size_t cap)
{
    (void)opt;
    if (v->u == 13) {
        snprintf(why, cap, "13 is unlucky");
        return -1;
    }
    ((demo *)target)->applied = 2 * v->u;
    return 0;
}

static const hv_opt demo_rows[] = {
    { .name = "count",
      .short_name = 'n',
      .kind = HV_OPT_U64,
      HV_OPT_AT(demo, count),
      .umin = 1,
      .umax = 1000,
      .help = "a count" },
    { .name = "small",
      .kind = HV_OPT_U64,
      HV_OPT_AT(demo, small),
      .umax = UINT32_MAX,
      .help = "a 32-bit count" },
    { .name = "offset",
      .kind = HV_OPT_I64,
      HV_OPT_AT(demo, offset),
      .imin = INT64_MIN,
      .imax = INT64_MAX,
      .help = "any signed value" },
    { .name = "offset32",
      .kind = HV_OPT_I64,
      HV_OPT_AT(demo, offset32),
      .imin = -5,
      .imax = 5,
      .help = "a small signed value" },
    { .name = "frac",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_MIN_OPEN | HV_OPT_MAX_OPEN,
      HV_OPT_AT(demo, frac),
      .dmax = 1,
      .help = "strictly between 0 and 1" },
    { .name = "ratio",
      .kind = HV_OPT_DOUBLE,
      HV_OPT_AT(demo, ratio),
      .dmin = -2,
      .dmax = 2,
      .needs = "count",
      .help = "closed range, needs --count" },
    { .name = "path",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_PATH,
      HV_OPT_AT(demo, path),
      .help = "a file" },
    { .name = "verbose",
      .short_name = 'v',
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(demo, verbose),
      .help = "more output" },
    { .name = "no-color",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      HV_OPT_AT(demo, color),
      .help = "plain output" },
    { .name = "mode", .kind = HV_OPT_ENUM, HV_OPT_AT(demo, mode), .choices = modes, .help = "how" },
    { .name = "span-s",
      .kind = HV_OPT_U64,
      HV_OPT_AT(demo, span_ns),
      .umin = 1,
      .umax = 1000,
      .scale = 1000000000ull,
      .help = "seconds, stored in ns" },
    { .name = "twice",
      .kind = HV_OPT_U64,
      .apply = apply_twice,
      .umax = 100,
      .help = "stored doubled by a hook" },
    { 0 },
};

static const hv_opt other_rows[] = {
    { .name = "rate",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_REQUIRED,
      HV_OPT_AT(other, rate),
      .dmin = 0,
      .dmax = 10,
      .field = "rate_hz",
      .help = "required, in another struct" },
    { 0 },
};

static const hv_opt_section sections[] = {
    { "demo", demo_rows, 0 },
    { "other", other_rows, 1 },
    { 0 },
};

static const hv_cli_spec spec = {
    .name = "demo",
    .synopsis = "[options] FILE...",
    .summary = "a test spec",
    .sections = sections,
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = 3,
};

typedef struct run_out {
    demo d;
    other o;
    hv_opts_result res;
    char err[1024];
} run_out;

/* Parses argv (NULL-terminated, after the command name) with stderr captured into out->err. */
static int parse(run_out *out, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "demo";
    for (; *args != NULL; args++)
        argv[argc++] = (char *)*args;
    memset(out, 0, sizeof(*out));
    out->d.color = 1;
    void *targets[] = { &out->d, &out->o };
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(2);
    assert_true(saved >= 0 && dup2(fileno(tmp), 2) >= 0);
    int rc = hv__opts_parse(&spec, targets, argc, argv, &out->res);
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out->err, 1, sizeof(out->err) - 1, tmp);
    out->err[n] = '\0';
    fclose(tmp);
    return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_error(const char *const *args, const char *fragment)
{
    run_out r;
    assert_int_equal(parse(&r, args), HV_EXIT_USAGE);
    if (strstr(r.err, fragment) == NULL)
        fail_msg("message '%s' lacks '%s'", r.err, fragment);
}

static void values_land_in_their_fields_at_their_width(void **state)
{
    (void)state;
    run_out r;
    assert_int_equal(parse(&r, ARGS("--rate", "2.5", "-n", "7", "--small=4294967295", "--offset",
                                    "-9223372036854775808", "--offset32", "-5", "--frac", "0.25",
                                    "--path", "x.csv", "-v", "--no-color", "--mode", "safe",
                                    "--span-s", "3", "--twice", "21", "a")),
                     HV_OPTS_PROCEED);
    assert_int_equal(r.d.count, 7);
    assert_int_equal(r.d.small, UINT32_MAX);
    assert_true(r.d.offset == INT64_MIN);
    assert_int_equal(r.d.offset32, -5);
    assert_true(r.d.frac == 0.25);
    assert_string_equal(r.d.path, "x.csv");
    assert_int_equal(r.d.verbose, 1);
    assert_int_equal(r.d.color, 0);
    assert_int_equal(r.d.mode, 2);
    assert_int_equal(r.d.span_ns, 3000000000ull);
    assert_int_equal(r.d.applied, 42);
    assert_true(r.o.rate == 2.5);
    assert_int_equal(r.res.noperands, 1);
    assert_string_equal(r.res.operands[0], "a");
    assert_true(hv__opts_given(&spec, &r.res, "count"));
    assert_false(hv__opts_given(&spec, &r.res, "ratio"));
}

static void integer_ranges_hold_at_both_edges(void **state)
{
    (void)state;
    run_out r;
    assert_int_equal(parse(&r, ARGS("--rate", "0", "--count", "1", "a")), HV_OPTS_PROCEED);
    assert_int_equal(parse(&r, ARGS("--rate", "0", "--count", "1000", "a")), HV_OPTS_PROCEED);
    assert_int_equal(parse(&r, ARGS("--rate", "0", "--count", "1e3", "a")), HV_OPTS_PROCEED);
    assert_int_equal(r.d.count, 1000);
    expect_error(ARGS("--rate", "0", "--count", "0", "a"), "--count: 0 is out of range [1, 1000]");
    expect_error(ARGS("--rate", "0", "--count", "1001", "a"), "--count: 1001 is out of range");
    expect_error(ARGS("--rate", "0", "--count", "-1", "a"), "--count: -1 is out of range");
    expect_error(ARGS("--rate", "0", "--count", "1.5", "a"), "--count: '1.5' is not an integer");
    expect_error(ARGS("--rate", "0", "--count", "12abc", "a"), "'12abc' is not an integer");
    expect_error(ARGS("--rate", "0", "--count", "99999999999999999999999", "a"),
                 "is out of range [1, 1000]");
    expect_error(ARGS("--rate", "0", "-n", "1e30", "a"), "-n: 1e30 is out of range");
    expect_error(ARGS("--rate", "0", "--offset32", "6", "a"),
                 "--offset32: 6 is out of range [-5, 5]");
    expect_error(ARGS("--rate", "0", "--offset", "9223372036854775808", "a"), "is out of range");
    expect_error(ARGS("--rate", "0", "--span-s", "1001", "a"),
                 "--span-s: 1001 is out of range [1, 1000]");
    expect_error(ARGS("--rate", "0", "--twice", "13", "a"), "--twice: 13 is unlucky");
}

static void numbers_must_be_finite_and_inside_open_or_closed_ends(void **state)
{
    (void)state;
    run_out r;
    assert_int_equal(parse(&r, ARGS("--rate", "10", "--count", "1", "--ratio", "-2", "a")),
                     HV_OPTS_PROCEED);
    assert_true(r.d.ratio == -2 && r.o.rate == 10);
    expect_error(ARGS("--rate", "10.000001", "a"), "--rate: 10.000001 is out of range [0, 10]");
    expect_error(ARGS("--rate", "0", "--frac", "0", "a"), "--frac: 0 is out of range (0, 1)");
    expect_error(ARGS("--rate", "0", "--frac", "1", "a"), "--frac: 1 is out of range (0, 1)");
    expect_error(ARGS("--rate", "nan", "a"), "--rate: 'nan' is not a finite number");
    expect_error(ARGS("--rate", "inf", "a"), "--rate: inf is out of range");
    expect_error(ARGS("--rate", "1e308", "a"), "--rate: 1e308 is out of range");
    expect_error(ARGS("--rate", "1e999", "a"), "--rate: 1e999 is out of range");
    expect_error(ARGS("--rate", "two", "a"), "--rate: 'two' is not a number");
}

static void each_error_names_the_one_option(void **state)
{
    (void)state;
    expect_error(ARGS("--rate", "1", "a", "--count"), "option --count needs a value");
    expect_error(ARGS("--rate", "1", "--path", "--verbose", "a"), "option --path needs a value");
    expect_error(ARGS("--rate", "1", "--path=", "a"), "--path: the value is empty");
    expect_error(ARGS("--rate", "1", "--cont", "3", "a"), "unknown option '--cont'");
    expect_error(ARGS("--rate", "1", "-x", "a"), "unknown option '-x'");
    expect_error(ARGS("--rate", "1", "--verbose=1", "a"), "option --verbose takes no value");
    expect_error(ARGS("--rate", "1", "--mode", "slow", "a"),
                 "--mode: 'slow' is not one of fast, safe");
    expect_error(ARGS("a"), "option --rate is required");
    expect_error(ARGS("--rate", "1", "--ratio", "1", "a"), "option --ratio needs --count too");
    expect_error(ARGS("--rate", "1"), "missing FILE");
    expect_error(ARGS("--rate", "1", "a", "b", "c", "d"),
                 "unexpected argument 'd': at most 3 FILE");
}

static void operands_may_follow_double_dash_or_be_negative_numbers(void **state)
{
    (void)state;
    run_out r;
    assert_int_equal(parse(&r, ARGS("--rate", "1", "-5", "--", "--verbose")), HV_OPTS_PROCEED);
    assert_int_equal(r.res.noperands, 2);
    assert_string_equal(r.res.operands[0], "-5");
    assert_string_equal(r.res.operands[1], "--verbose");
    assert_int_equal(r.d.verbose, 0);
}

static void help_exits_zero_wherever_it_is(void **state)
{
    (void)state;
    int saved = dup(1), null = open("/dev/null", O_WRONLY);
    assert_true(saved >= 0 && null >= 0);
    fflush(stdout);
    dup2(null, 1);
    run_out r;
    int rc1 = parse(&r, ARGS("--count", "5", "--help"));
    int rc2 = parse(&r, ARGS("-h"));
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(null);
    assert_int_equal(rc1, HV_EXIT_OK);
    assert_int_equal(rc2, HV_EXIT_OK);
}

/* The help text shows every option, its range and default, in at most 80 columns. */
static void help_lists_every_row_within_80_columns(void **state)
{
    (void)state;
    char buf[8192];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    assert_non_null(f);
    hv__opts_help(&spec, f);
    fclose(f);
    for (const hv_opt *o = demo_rows; o->name != NULL; o++) {
        char want[64];
        snprintf(want, sizeof(want), "--%s", o->name);
        assert_non_null(strstr(buf, want));
    }
    assert_non_null(strstr(buf, "(in [1, 1000])"));
    assert_non_null(strstr(buf, "(in (0, 1))"));
    assert_non_null(strstr(buf, "--mode fast|safe"));
    assert_non_null(strstr(buf, "(required)"));
    for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n"))
        assert_true(strlen(line) <= 80);
}

static void library_field_errors_map_to_their_option(void **state)
{
    (void)state;
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    hv_field_error e = { "rate_hz", "must be > 0" }, unknown = { "other_field", "bad" };
    int rc1 = hv__opts_field_error(&spec, &e);
    int rc2 = hv__opts_field_error(&spec, &unknown);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(null);
    assert_int_equal(rc1, HV_EXIT_USAGE);
    assert_int_equal(rc2, HV_EXIT_USAGE);
    assert_ptr_equal(hv__opts_find(&spec, "rate"), &other_rows[0]);
    assert_null(hv__opts_find(&spec, "rat"));
}

/* Broken tables are caught by the self-check, so the parser can trust a table it runs. */
static void the_self_check_catches_broken_tables(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(hv__opts_check_spec(&spec, why, sizeof(why)), 0);
    static const hv_opt wide[] = {
        { .name = "w",
          .kind = HV_OPT_U64,
          HV_OPT_AT(demo, small),
          .umax = UINT64_MAX,
          .help = "x" },
        { 0 },
    };
    static const hv_opt scaled[] = {
        { .name = "s",
          .kind = HV_OPT_U64,
          HV_OPT_AT(demo, span_ns),
          .umax = UINT64_MAX / 10,
          .scale = 100,
          .help = "x" },
        { 0 },
    };
    static const hv_opt wrong_width[] = {
        { .name = "d", .kind = HV_OPT_DOUBLE, HV_OPT_AT(demo, small), .dmax = 1, .help = "x" },
        { 0 },
    };
    static const hv_opt twice[] = {
        { .name = "a", .kind = HV_OPT_FLAG, HV_OPT_AT(demo, verbose), .help = "x" },
        { .name = "a", .kind = HV_OPT_FLAG, HV_OPT_AT(demo, color), .help = "x" },
        { 0 },
    };
    static const hv_opt bad_needs[] = {
        { .name = "a", .kind = HV_OPT_FLAG, HV_OPT_AT(demo, verbose), .needs = "zz", .help = "x" },
        { 0 },
    };
    static const hv_opt takes_h[] = {
        { .name = "a",
          .short_name = 'h',
          .kind = HV_OPT_FLAG,
          HV_OPT_AT(demo, verbose),
          .help = "x" },
        { 0 },
    };
    static const hv_opt no_choices[] = {
        { .name = "a", .kind = HV_OPT_ENUM, HV_OPT_AT(demo, mode), .help = "x" },
        { 0 },
    };
    const hv_opt *broken[] = { wide, scaled, wrong_width, twice, bad_needs, takes_h, no_choices };
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        hv_opt_section sec[] = { { NULL, broken[i], 0 }, { 0 } };
        hv_cli_spec bad = { .name = "bad", .sections = sec };
        assert_int_equal(hv__opts_check_spec(&bad, why, sizeof(why)), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_land_in_their_fields_at_their_width),
        cmocka_unit_test(integer_ranges_hold_at_both_edges),
        cmocka_unit_test(numbers_must_be_finite_and_inside_open_or_closed_ends),
        cmocka_unit_test(each_error_names_the_one_option),
        cmocka_unit_test(operands_may_follow_double_dash_or_be_negative_numbers),
        cmocka_unit_test(help_exits_zero_wherever_it_is),
        cmocka_unit_test(help_lists_every_row_within_80_columns),
        cmocka_unit_test(library_field_errors_map_to_their_option),
        cmocka_unit_test(the_self_check_catches_broken_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
