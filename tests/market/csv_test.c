#include "hv_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivewire/market.h>

#include "market/testdata.h"

static int day_of(int y, int m, int d)
{
    int32_t out = 0;
    assert_int_equal(hv_date_to_day(y, m, d, &out), 0);
    return out;
}

static int parse(const char *text, const hv_csv_opts *o, hv_series *s, hv_csv_report *rep)
{
    hv_series_init(s);
    return hv_csv_parse_bars(text, strlen(text), o, s, rep);
}

static void well_formed_file_gives_every_bar(void **state)
{
    (void)state;
    const char *t = "date,open,high,low,close,adjclose,volume\n"
                    "2000-01-03,10,12,9,11,11.5,1000\n"
                    "2000-01-04,11,11,8,9,9.5,2000\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 2);
    assert_int_equal(rep.rows_ok, 2);
    assert_int_equal(rep.rows_bad, 0);
    assert_int_equal(rep.lines, 3);
    assert_int_equal(s.bars[0].day, day_of(2000, 1, 3));
    assert_true(s.bars[0].open == 10 && s.bars[0].high == 12 && s.bars[0].low == 9);
    assert_true(s.bars[0].close == 11 && s.bars[0].adjclose == 11.5);
    assert_true(s.bars[1].volume == 2000);
    assert_string_equal(rep.file, "<memory>");
    hv_series_fini(&s);
}

static void final_row_without_newline_is_read(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,5\n2000-01-04,6";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 2);
    assert_true(s.bars[1].close == 6);
    assert_int_equal(rep.lines, 3);
    hv_series_fini(&s);
}

static void a_utf8_byte_order_mark_is_skipped(void **state)
{
    (void)state;
    const char *t = "\xEF\xBB\xBF"
                    "Date,Close\r\n2000-01-03,5\r\n";
    hv_series s;
    assert_int_equal(parse(t, NULL, &s, NULL), 0);
    assert_int_equal(s.len, 1);
    hv_series_fini(&s);
}

static void crlf_and_lone_cr_end_rows(void **state)
{
    (void)state;
    const char *t = "date,close\r\n2000-01-03,5\r\n2000-01-04,6\r2000-01-05,7\r\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 3);
    assert_true(s.bars[2].close == 7);
    assert_int_equal(rep.lines, 4);
    hv_series_fini(&s);
}

static void quoted_fields_may_hold_commas_quotes_and_newlines(void **state)
{
    (void)state;
    const char *t = "date,note,close\n"
                    "2000-01-03,\"a, \"\"quoted\"\"\nnote\",\"5.5\"\n"
                    "2000-01-04,x,oops\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 1);
    assert_true(s.bars[0].close == 5.5);
    /* The bad row starts on line 4 because the quoted field spans lines 2-3. */
    assert_int_equal(rep.rows_bad, 1);
    assert_int_equal(rep.issues[0].line, 4);
    assert_int_equal(rep.issues[0].column, 3);
    assert_string_equal(rep.issues[0].column_name, "close");
    hv_series_fini(&s);
}

static void columns_are_found_by_header_name_in_any_order(void **state)
{
    (void)state;
    const char *t = "Volume, Adj Close ,CLOSE,extra,Date\n"
                    "7,4,5,zz,2001-02-28\n";
    hv_series s;
    assert_int_equal(parse(t, NULL, &s, NULL), 0);
    assert_int_equal(s.len, 1);
    assert_int_equal(s.bars[0].day, day_of(2001, 2, 28));
    assert_true(s.bars[0].close == 5 && s.bars[0].adjclose == 4 && s.bars[0].volume == 7);
    /* Missing open/high/low take the close. */
    assert_true(s.bars[0].open == 5 && s.bars[0].high == 5 && s.bars[0].low == 5);
    hv_series_fini(&s);
}

static void bad_rows_are_reported_with_line_and_column_and_skipped(void **state)
{
    (void)state;
    const char *t = "date,open,high,low,close,adjclose,volume\n"
                    "2000-01-03,10,12,9,11,11,1000\n"
                    "2000-01-04,10,12,9,abc,11,1000\n"
                    "2000-02-30,10,12,9,11,11,1000\n"
                    "2000-01-05,10,12,9,11\n"
                    "2000-01-06,10,12,9,-1,11,1000\n"
                    "2000-01-07,10,12,9,11,11,1000\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 2);
    assert_int_equal(rep.rows, 6);
    assert_int_equal(rep.rows_bad, 4);
    assert_int_equal(rep.issues_kept, 4);
    assert_int_equal(rep.issues[0].line, 3);
    assert_int_equal(rep.issues[0].column, 5);
    assert_non_null(strstr(rep.issues[0].reason, "abc"));
    assert_int_equal(rep.issues[1].line, 4);
    assert_int_equal(rep.issues[1].column, 1);
    assert_int_equal(rep.issues[2].line, 5);
    assert_int_equal(rep.issues[2].column, 0);
    assert_int_equal(rep.issues[3].line, 6);
    assert_int_equal(rep.issues[3].column, 5);
    hv_series_fini(&s);
}

static void strict_mode_stops_at_the_first_bad_row(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,1\n2000-01-04,x\n2000-01-05,3\n";
    hv_csv_opts o = { .size = sizeof(o), .strict = 1, .file = "t.csv" };
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, &o, &s, &rep), HV_EBADROW);
    assert_int_equal(s.len, 1);
    assert_int_equal(rep.rows_bad, 1);
    assert_int_equal(rep.issues[0].line, 3);
    char msg[200];
    hv_csv_issue_format(rep.file, &rep.issues[0], msg, sizeof(msg));
    assert_string_equal(msg, "t.csv:3:2 (close): not a number: 'x'");
    hv_series_fini(&s);
}

typedef struct seen {
    int n;
    uint32_t lines[8];
} seen;

static void on_issue(void *user, const char *file, const hv_csv_issue *is)
{
    seen *s = user;
    assert_string_equal(file, "f.csv");
    if (s->n < 8)
        s->lines[s->n] = is->line;
    s->n++;
}

static void issue_callback_sees_every_bad_row_in_order(void **state)
{
    (void)state;
    char text[8192] = "date,close\n";
    for (int i = 0; i < 40; i++) {
        char row[64];
        snprintf(row, sizeof(row), "2001-01-%02d,%s\n", i % 28 + 1, "bad");
        strcat(text, row);
    }
    seen sn = { 0 };
    hv_csv_opts o = { .size = sizeof(o), .file = "f.csv", .on_issue = on_issue, .user = &sn };
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(text, &o, &s, &rep), 0);
    assert_int_equal(sn.n, 40);
    assert_int_equal(rep.rows_bad, 40);
    assert_int_equal(rep.issues_kept, HV_CSV_ISSUES_KEPT);
    for (int i = 0; i < 8; i++)
        assert_int_equal(sn.lines[i], i + 2);
    hv_series_fini(&s);
}

static void header_without_date_or_close_is_a_parse_error(void **state)
{
    (void)state;
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse("day,close\n2000-01-03,1\n", NULL, &s, &rep), HV_EPARSE);
    assert_int_equal(rep.issues_kept, 1);
    assert_int_equal(parse("", NULL, &s, &rep), HV_EPARSE);
    assert_int_equal(parse("\n\n  \n", NULL, &s, &rep), HV_EPARSE);
    assert_int_equal(s.len, 0);
    hv_series_fini(&s);
}

static void dates_must_increase(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-04,1\n2000-01-04,2\n2000-01-03,3\n2000-01-05,4\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 2);
    assert_int_equal(rep.rows_bad, 2);
    assert_non_null(strstr(rep.issues[0].reason, "date"));
    hv_series_fini(&s);
}

static void inconsistent_high_and_low_are_bad_rows(void **state)
{
    (void)state;
    const char *t = "date,open,high,low,close\n"
                    "2000-01-03,10,9,8,9\n"      /* high < open */
                    "2000-01-04,10,12,10.5,11\n" /* low > open */
                    "2000-01-05,10,12,9,11\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 1);
    assert_int_equal(rep.issues[0].column, 3);
    assert_int_equal(rep.issues[1].column, 4);
    hv_series_fini(&s);
}

static void named_dates_and_symbol_filter_read_a_multi_symbol_file(void **state)
{
    (void)state;
    const char *t = "symbol,date,price\n"
                    "MSFT,Jan 1 2000,39.81\n"
                    "MSFT,Feb 1 2000,36.35\n"
                    "IBM,Jan 1 2000,100.52\n"
                    "IBM,Feb 1 2000,92.11\n";
    hv_csv_opts o = { .size = sizeof(o), .symbol = "IBM" };
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, &o, &s, &rep), 0);
    assert_int_equal(s.len, 2);
    assert_int_equal(rep.rows_filtered, 2);
    assert_int_equal(s.bars[1].day, day_of(2000, 2, 1));
    assert_true(s.bars[1].close == 92.11);
    hv_series_fini(&s);
    /* Without a filter, a second symbol stops the load rather than mixing series. */
    assert_int_equal(parse(t, NULL, &s, &rep), HV_EPARSE);
    assert_int_equal(s.len, 2);
    assert_non_null(strstr(rep.issues[0].reason, "symbol"));
    hv_series_fini(&s);
    /* A filter on a file without a symbol column is an error, not an empty result. */
    assert_int_equal(parse("date,close\n2000-01-03,1\n", &o, &s, &rep), HV_EPARSE);
    hv_series_fini(&s);
}

static void symbols_are_listed_in_the_order_they_first_appear(void **state)
{
    (void)state;
    const char *t = "date,symbol,price\n"
                    "Jan 1 2000,MSFT,39.81\n"
                    "Jan 1 2000,IBM,100.52\n"
                    "Feb 1 2000,MSFT,36.35\n"
                    "Mar 1 2000\n"
                    "Feb 1 2000,\"A,B\",92.11\n";
    char names[3][HV_CSV_SYMBOL_BYTES];
    size_t n = 0;
    assert_int_equal(hv_csv_parse_symbols(t, strlen(t), NULL, names, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "MSFT");
    assert_string_equal(names[1], "IBM");
    assert_string_equal(names[2], "A,B");
    /* one fewer than there are: the first ones, and HV_EFULL says there are more */
    assert_int_equal(hv_csv_parse_symbols(t, strlen(t), NULL, names, 2, &n), HV_EFULL);
    assert_int_equal(n, 2);
    assert_int_equal(hv_csv_parse_symbols(t, strlen(t), NULL, NULL, 0, &n), HV_EFULL);
    assert_int_equal(n, 0);
    /* no symbol column, no header, bad arguments */
    const char *u = "date,close\n2000-01-03,1\n";
    assert_int_equal(hv_csv_parse_symbols(u, strlen(u), NULL, names, 3, &n), HV_ENOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(hv_csv_parse_symbols("", 0, NULL, names, 3, &n), HV_EPARSE);
    assert_int_equal(hv_csv_parse_symbols(t, strlen(t), NULL, names, 3, NULL), HV_EINVAL);
    assert_int_equal(hv_csv_parse_symbols(t, strlen(t), NULL, NULL, 3, &n), HV_EINVAL);
    hv_csv_opts small = { .size = sizeof(small), .rows_max = 2 };
    assert_int_equal(hv_csv_parse_symbols(t, strlen(t), &small, names, 3, &n), HV_ETOOBIG);
}

static void non_numbers_and_non_finite_values_are_rejected(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,nan\n2000-01-04,inf\n2000-01-05,0x10\n"
                    "2000-01-06,1e\n2000-01-07,\n2000-01-08,1e999\n2000-01-09,--1\n"
                    "2000-01-10,1.5e2\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(rep.rows_bad, 7);
    assert_int_equal(s.len, 1);
    assert_true(s.bars[0].close == 150);
    hv_series_fini(&s);
}

static void unterminated_quote_is_reported_and_reading_resumes(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,\"5\n2000-01-04,6\n";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(rep.rows_bad, 1);
    assert_int_equal(rep.issues[0].err, HV_EPARSE);
    assert_int_equal(rep.issues[0].line, 2);
    assert_int_equal(rep.issues[0].column, 2);
    assert_int_equal(s.len, 1);
    assert_true(s.bars[0].close == 6);
    hv_series_fini(&s);
}

static void text_after_a_closing_quote_is_a_bad_row(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,\"5\"x\n2000-01-04,a\"b\n2000-01-05,7";
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(rep.rows_bad, 2);
    assert_int_equal(s.len, 1);
    hv_series_fini(&s);
}

static void too_many_fields_is_a_bad_row(void **state)
{
    (void)state;
    char t[4096] = "date,close\n2000-01-03";
    for (int i = 0; i < HV_CSV_FIELDS_MAX + 5; i++)
        strcat(t, ",1");
    strcat(t, "\n2000-01-04,2\n");
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, NULL, &s, &rep), 0);
    assert_int_equal(rep.rows_bad, 1);
    assert_int_equal(s.len, 1);
    hv_series_fini(&s);
}

static void row_and_byte_bounds_stop_the_load(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,1\n2000-01-04,2\n2000-01-05,3\n";
    hv_csv_opts o = { .size = sizeof(o), .rows_max = 2 };
    hv_series s;
    hv_csv_report rep;
    assert_int_equal(parse(t, &o, &s, &rep), HV_ETOOBIG);
    assert_int_equal(s.len, 2);
    hv_series_fini(&s);
    /* The fatal issue names the first row past the bound, so a message can say where. */
    assert_int_equal(rep.issues_kept, 1);
    assert_int_equal(rep.issues[0].line, 4);
    assert_int_equal(rep.issues[0].err, HV_ETOOBIG);
    assert_int_equal(rep.issues[0].fatal, 1);
    assert_non_null(strstr(rep.issues[0].reason, "more than 2 data rows"));
    o.rows_max = 3;
    assert_int_equal(parse(t, &o, &s, &rep), 0);
    assert_int_equal(rep.issues_kept, 0);
    hv_series_fini(&s);
    size_t len = strlen(t);
    hv_csv_opts b = { .size = sizeof(b), .bytes_max = len - 1 };
    assert_int_equal(parse(t, &b, &s, &rep), HV_ETOOBIG);
    assert_int_equal(s.len, 0);
    assert_int_equal(rep.issues[0].line, 0);
    char msg[200];
    hv_csv_issue_format("t.csv", &rep.issues[0], msg, sizeof(msg));
    assert_string_equal(msg, "t.csv: larger than the input bound of 49 bytes");
    b.bytes_max = len;
    assert_int_equal(parse(t, &b, &s, &rep), 0);
    hv_series_fini(&s);
}

static void a_file_over_the_byte_bound_is_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/hv_csv_big_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fputs("date,close\n", f);
    for (int i = 0; i < 20000; i++) /* about 280 KB: crosses several buffer doublings */
        fprintf(f, "2000-01-%02d,%d\n", i % 28 + 1, i + 1);
    fclose(f);
    hv_series s;
    hv_series_init(&s);
    hv_csv_opts o = { .size = sizeof(o), .bytes_max = 200000 };
    assert_int_equal(hv_csv_load_bars(path, &o, &s, NULL), HV_ETOOBIG);
    assert_int_equal(s.len, 0);
    hv_csv_report rep;
    assert_int_equal(hv_csv_load_bars(path, &o, &s, &rep), HV_ETOOBIG);
    assert_string_equal(rep.file, path);
    assert_int_equal(rep.issues_kept, 1);
    assert_int_equal(rep.issues[0].line, 0);
    assert_non_null(strstr(rep.issues[0].reason, "larger than the input bound of 200000 bytes"));
    o.bytes_max = 1000000;
    assert_int_equal(hv_csv_load_bars(path, &o, &s, &rep), 0);
    assert_int_equal(rep.rows, 20000);
    assert_string_equal(rep.file, path);
    hv_series_fini(&s);
    unlink(path);
}

static void bad_arguments_are_rejected(void **state)
{
    (void)state;
    hv_series s;
    hv_series_init(&s);
    hv_csv_opts small = { .size = 1 };
    assert_int_equal(hv_csv_parse_bars("x", 1, &small, &s, NULL), HV_EINVAL);
    assert_int_equal(hv_csv_parse_bars(NULL, 1, NULL, &s, NULL), HV_EINVAL);
    assert_int_equal(hv_csv_parse_bars("x", 1, NULL, NULL, NULL), HV_EINVAL);
    assert_int_equal(hv_csv_load_bars("/nonexistent/hv.csv", NULL, &s, NULL), HV_ENOTFOUND);
    /* A directory is named as such, not reported as an I/O error. */
    assert_int_equal(hv_csv_load_bars("/tmp", NULL, &s, NULL), HV_EISDIR);
    hv_column c;
    hv_column_init(&c);
    assert_int_equal(hv_csv_load_column("/tmp", NULL, NULL, &c, NULL), HV_EISDIR);
    hv_column_fini(&c);
    hv_series_fini(&s);
}

static void column_is_read_by_name(void **state)
{
    (void)state;
    const char *t = "a,Ret\n1,0.01\n2,-0.02\n3,x\n4,0.03";
    hv_column c;
    hv_column_init(&c);
    hv_csv_report rep;
    assert_int_equal(hv_csv_parse_column(t, strlen(t), "ret", NULL, &c, &rep), 0);
    assert_int_equal(c.len, 3);
    assert_true(c.v[0] == 0.01 && c.v[1] == -0.02 && c.v[2] == 0.03);
    assert_int_equal(rep.rows_bad, 1);
    assert_int_equal(rep.issues[0].line, 4);
    assert_int_equal(rep.issues[0].column, 2);
    assert_int_equal(hv_csv_parse_column(t, strlen(t), "nope", NULL, &c, &rep), HV_ENOTFOUND);
    hv_column_fini(&c);
}

/* A price column must hold prices: with opts.positive a zero or negative value is a bad row
 * that names its line, instead of a later failure that cannot say where. */
static void positive_columns_name_the_row_of_a_zero(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,10\n2000-01-04,0\n2000-01-05,-1\n2000-01-06,11\n";
    hv_column c;
    hv_column_init(&c);
    hv_csv_report rep;
    hv_csv_opts o = { .size = sizeof(o), .positive = 1 };
    assert_int_equal(hv_csv_parse_column(t, strlen(t), "close", &o, &c, &rep), 0);
    assert_int_equal(c.len, 2);
    assert_int_equal(rep.rows_bad, 2);
    assert_int_equal(rep.issues[0].line, 3);
    assert_int_equal(rep.issues[0].column, 2);
    assert_string_equal(rep.issues[0].reason, "must be > 0: '0'");
    assert_int_equal(rep.issues[1].line, 4);
    hv_column_fini(&c);
    o.positive = 0;
    assert_int_equal(hv_csv_parse_column(t, strlen(t), "close", &o, &c, &rep), 0);
    assert_int_equal(c.len, 4);
    hv_column_fini(&c);
    o.positive = 1;
    o.strict = 1;
    assert_int_equal(hv_csv_parse_column(t, strlen(t), "close", &o, &c, &rep), HV_EBADROW);
    assert_int_equal(c.len, 1);
    hv_column_fini(&c);
}

/* Plain decimals take a fast path; it must give strtod()'s value bit for bit. Random decimals
 * of 1 to 17 digits (15 and fewer take the fast path), any point position and sign. */
static void decimals_parse_exactly_as_strtod(void **state)
{
    (void)state;
    enum { N = 20000 };
    static char text[N * 24 + 8];
    static double want[N];
    uint64_t x = 88172645463325252ull;
    size_t len = (size_t)sprintf(text, "v\n");
    for (int i = 0; i < N; i++) {
        char num[24];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int digits = 1 + (int)(x % 17), dot = (int)((x >> 8) % (uint64_t)(digits + 1));
        size_t k = 0;
        if ((x >> 20) & 1)
            num[k++] = '-';
        for (int d = 0; d < digits; d++) {
            if (d == dot && d > 0)
                num[k++] = '.';
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            num[k++] = (char)('0' + x % 10);
        }
        num[k] = '\0';
        want[i] = strtod(num, NULL);
        len += (size_t)sprintf(text + len, "%s\n", num);
    }
    hv_column c;
    hv_column_init(&c);
    assert_int_equal(hv_csv_parse_column(text, len, "v", NULL, &c, NULL), 0);
    assert_int_equal(c.len, N);
    for (int i = 0; i < N; i++)
        assert_memory_equal(&c.v[i], &want[i], sizeof(double));
    hv_column_fini(&c);
}

/* The stream readers parse what a pipe or standard input holds, with the same bounds. */
static void streams_read_like_files(void **state)
{
    (void)state;
    const char *t = "date,close\n2000-01-03,10\n2000-01-04,11\n";
    FILE *f = fmemopen((void *)t, strlen(t), "r");
    assert_non_null(f);
    hv_series s;
    hv_series_init(&s);
    hv_csv_report rep;
    assert_int_equal(hv_csv_read_bars(f, NULL, &s, &rep), 0);
    assert_int_equal(s.len, 2);
    assert_string_equal(rep.file, "<stream>");
    hv_series_fini(&s);
    rewind(f);
    hv_column c;
    hv_column_init(&c);
    hv_csv_opts o = { .size = sizeof(o), .file = "<stdin>", .bytes_max = 8 };
    assert_int_equal(hv_csv_read_column(f, "close", &o, &c, &rep), HV_ETOOBIG);
    assert_string_equal(rep.file, "<stdin>");
    assert_int_equal(rep.issues[0].err, HV_ETOOBIG);
    hv_column_fini(&c);
    fclose(f);
    assert_int_equal(hv_csv_read_bars(NULL, NULL, &s, NULL), HV_EINVAL);
}

static void single_column_works_with_or_without_a_header(void **state)
{
    (void)state;
    hv_column c;
    hv_column_init(&c);
    const char *plain = "0.01\n-0.02\r\n0.5";
    assert_int_equal(hv_csv_parse_column(plain, strlen(plain), NULL, NULL, &c, NULL), 0);
    assert_int_equal(c.len, 3);
    assert_true(c.v[0] == 0.01 && c.v[2] == 0.5);
    hv_column_fini(&c);
    const char *hdr = "returns\n0.01\n\n-0.02\n";
    assert_int_equal(hv_csv_parse_column(hdr, strlen(hdr), NULL, NULL, &c, NULL), 0);
    assert_int_equal(c.len, 2);
    hv_column_fini(&c);
    const char *wide = "a,b\n1,2\n";
    assert_int_equal(hv_csv_parse_column(wide, strlen(wide), NULL, NULL, &c, NULL), HV_EPARSE);
    hv_column_fini(&c);
}

static void real_sp500_file_loads_every_row(void **state)
{
    (void)state;
    char path[1024];
    hv_test_data_file("sp500-2000.csv", path, sizeof(path));
    hv_series s;
    hv_series_init(&s);
    hv_csv_report rep;
    hv_csv_opts o = { .size = sizeof(o), .strict = 1 };
    assert_int_equal(hv_csv_load_bars(path, &o, &s, &rep), 0);
    assert_int_equal(s.len, 5105);
    assert_int_equal(rep.rows_bad, 0);
    assert_int_equal(rep.lines, 5106);
    assert_int_equal(s.bars[0].day, day_of(2000, 1, 3));
    assert_int_equal(s.bars[s.len - 1].day, day_of(2020, 4, 17));
    assert_true(s.bars[0].close == 1455.219971);
    assert_true(s.bars[s.len - 1].close == 2874.560059);
    assert_true(s.bars[s.len - 1].volume == 5792140000.0);
    hv_series_fini(&s);
}

static void real_stocks_file_loads_each_symbol(void **state)
{
    (void)state;
    char path[1024];
    hv_test_data_file("stocks.csv", path, sizeof(path));
    static const struct {
        const char *sym;
        size_t n;
    } want[] = {
        { "MSFT", 123 }, { "AMZN", 123 }, { "IBM", 123 }, { "GOOG", 68 }, { "AAPL", 123 }
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        hv_series s;
        hv_series_init(&s);
        hv_csv_opts o = { .size = sizeof(o), .strict = 1, .symbol = want[i].sym };
        assert_int_equal(hv_csv_load_bars(path, &o, &s, NULL), 0);
        assert_int_equal(s.len, want[i].n);
        hv_series_fini(&s);
    }
    char names[8][HV_CSV_SYMBOL_BYTES];
    size_t n = 0;
    assert_int_equal(hv_csv_load_symbols(path, NULL, names, 8, &n), 0);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], want[i].sym);
    assert_int_equal(hv_csv_load_symbols("/nonexistent/stocks.csv", NULL, names, 8, &n),
                     HV_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_formed_file_gives_every_bar),
        cmocka_unit_test(final_row_without_newline_is_read),
        cmocka_unit_test(a_utf8_byte_order_mark_is_skipped),
        cmocka_unit_test(crlf_and_lone_cr_end_rows),
        cmocka_unit_test(quoted_fields_may_hold_commas_quotes_and_newlines),
        cmocka_unit_test(columns_are_found_by_header_name_in_any_order),
        cmocka_unit_test(bad_rows_are_reported_with_line_and_column_and_skipped),
        cmocka_unit_test(strict_mode_stops_at_the_first_bad_row),
        cmocka_unit_test(issue_callback_sees_every_bad_row_in_order),
        cmocka_unit_test(header_without_date_or_close_is_a_parse_error),
        cmocka_unit_test(dates_must_increase),
        cmocka_unit_test(inconsistent_high_and_low_are_bad_rows),
        cmocka_unit_test(named_dates_and_symbol_filter_read_a_multi_symbol_file),
        cmocka_unit_test(symbols_are_listed_in_the_order_they_first_appear),
        cmocka_unit_test(non_numbers_and_non_finite_values_are_rejected),
        cmocka_unit_test(unterminated_quote_is_reported_and_reading_resumes),
        cmocka_unit_test(text_after_a_closing_quote_is_a_bad_row),
        cmocka_unit_test(too_many_fields_is_a_bad_row),
        cmocka_unit_test(row_and_byte_bounds_stop_the_load),
        cmocka_unit_test(a_file_over_the_byte_bound_is_refused),
        cmocka_unit_test(bad_arguments_are_rejected),
        cmocka_unit_test(column_is_read_by_name),
        cmocka_unit_test(positive_columns_name_the_row_of_a_zero),
        cmocka_unit_test(streams_read_like_files),
        cmocka_unit_test(decimals_parse_exactly_as_strtod),
        cmocka_unit_test(single_column_works_with_or_without_a_header),
        cmocka_unit_test(real_sp500_file_loads_every_row),
        cmocka_unit_test(real_stocks_file_loads_each_symbol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
