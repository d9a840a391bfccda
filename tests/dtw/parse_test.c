/* The CLI's series file parser: values, line endings, located errors, limits. */
#include <stdio.h>
#include <string.h>

#include "hv_test.h"

#include "dtw/dtw_int.h"

static int parse(const char *text, hv__dtw_series_file *f, hv__dtw_parse_error *e)
{
    return hv__dtw_parse_series(text, strlen(text), f, e);
}

static void rows_of_comma_separated_numbers_are_read(void **state)
{
    (void)state;
    hv__dtw_series_file f;
    hv__dtw_parse_error e;
    assert_int_equal(parse("1,2.5,-3e2\n 4 ,\t5,6 \n7", &f, &e), 0);
    assert_int_equal(f.rows, 3);
    assert_int_equal(f.nvalues, 7);
    assert_int_equal(f.offsets[1], 3);
    assert_int_equal(f.offsets[3], 7);
    assert_true(f.values[2] == -300 && f.values[3] == 4 && f.values[6] == 7);
    hv__dtw_series_file_fini(&f);
}

static void crlf_and_a_final_newline_are_accepted(void **state)
{
    (void)state;
    hv__dtw_series_file f;
    hv__dtw_parse_error e;
    assert_int_equal(parse("1,2\r\n3,4\r\n", &f, &e), 0);
    assert_int_equal(f.rows, 2);
    assert_true(f.values[1] == 2 && f.values[3] == 4);
    hv__dtw_series_file_fini(&f);
}

static void assert_error(const char *text, size_t line, size_t column, const char *needle)
{
    hv__dtw_series_file f;
    hv__dtw_parse_error e;
    assert_int_equal(parse(text, &f, &e), HV_EPARSE);
    if (e.line != line || e.column != column || strstr(e.msg, needle) == NULL)
        fail_msg("'%s': got %zu:%zu %s, want %zu:%zu *%s*", text, e.line, e.column, e.msg, line,
                 column, needle);
    assert_null(f.values);
}

static void bad_input_is_reported_with_line_and_column(void **state)
{
    (void)state;
    assert_error("1,2\n\n3,4\n", 2, 1, "empty line");
    assert_error("1,2\n3,x4\n", 2, 3, "unexpected character 'x'");
    assert_error("1,2\n3,,4\n", 2, 3, "empty field");
    assert_error("1,2,\n", 1, 5, "empty field");
    assert_error("1,2\n3,1.2.3\n", 2, 3, "malformed number");
    assert_error("1,nan\n", 1, 3, "unexpected character 'n'");
    assert_error("1,1e999\n", 1, 3, "out of range");
    assert_error("0x10\n", 1, 2, "unexpected character 'x'");
    assert_error("1 2\n", 1, 2, "unexpected character ' '");
    assert_error("", 1, 1, "no series");
    assert_error("   \n", 1, 1, "empty line");
    assert_error("1,123456789012345678901234567890123456789012345678901234567890123456\n", 1, 3,
                 "longer than");
}

static void control_bytes_are_named_in_hex(void **state)
{
    (void)state;
    const char text[] = { '1', ',', '2', '\0', '3', '\n' };
    hv__dtw_series_file f;
    hv__dtw_parse_error e;
    assert_int_equal(hv__dtw_parse_series(text, sizeof(text), &f, &e), HV_EPARSE);
    assert_int_equal(e.column, 4);
    assert_non_null(strstr(e.msg, "0x00"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_of_comma_separated_numbers_are_read),
        cmocka_unit_test(crlf_and_a_final_newline_are_accepted),
        cmocka_unit_test(bad_input_is_reported_with_line_and_column),
        cmocka_unit_test(control_bytes_are_named_in_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
