#include "hv_test.h"

#include <math.h>
#include <string.h>

#include <hivewire/market.h>

static void known_dates_map_to_known_day_numbers(void **state)
{
    (void)state;
    int32_t d;
    assert_int_equal(hv_date_to_day(1970, 1, 1, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(hv_date_to_day(2000, 1, 3, &d), 0);
    assert_int_equal(d, 10959);
    assert_int_equal(hv_date_to_day(1969, 12, 31, &d), 0);
    assert_int_equal(d, -1);
    assert_int_equal(hv_date_to_day(2000, 2, 29, &d), 0);
    assert_int_equal(hv_date_to_day(1900, 2, 29, &d), HV_ERANGE);
    assert_int_equal(hv_date_to_day(2001, 2, 29, &d), HV_ERANGE);
    assert_int_equal(hv_date_to_day(2000, 13, 1, &d), HV_ERANGE);
    assert_int_equal(hv_date_to_day(2000, 4, 31, &d), HV_ERANGE);
    assert_int_equal(hv_date_to_day(0, 1, 1, &d), HV_ERANGE);
    char buf[11];
    hv_day_format(18369, buf);
    assert_string_equal(buf, "2020-04-17");
}

static void every_day_of_four_centuries_round_trips(void **state)
{
    (void)state;
    int32_t first, last;
    assert_int_equal(hv_date_to_day(1800, 1, 1, &first), 0);
    assert_int_equal(hv_date_to_day(2200, 12, 31, &last), 0);
    int py = 1799, pm = 12, pd = 31;
    for (int32_t x = first; x <= last; x++) {
        int y, m, d;
        hv_day_to_date(x, &y, &m, &d);
        int32_t back;
        assert_int_equal(hv_date_to_day(y, m, d, &back), 0);
        assert_int_equal(back, x);
        /* Consecutive days: same month and d = pd + 1, or the first of the next month. */
        assert_true((y == py && m == pm && d == pd + 1) || (d == 1 && (m == pm + 1 || m == 1)));
        py = y, pm = m, pd = d;
    }
}

static void log_returns_stay_finite_when_the_price_ratio_underflows(void **state)
{
    (void)state;
    /* 1e-300 / 1e207 underflows to 0 and 1e207 / 1e-300 overflows: found by fuzzing. */
    double p[3] = { 1e207, 1e-300, 1e207 }, r[2];
    assert_int_equal(hv_log_returns(p, 3, r), 2);
    assert_true(isfinite(r[0]) && isfinite(r[1]));
    assert_true(fabs(r[0] - (log(1e-300) - log(1e207))) < 1e-9);
    assert_true(fabs(r[1] + r[0]) < 1e-9);
}

static void log_returns_match_hand_computed_values(void **state)
{
    (void)state;
    double p[4] = { 100, 110, 99, 99 };
    double r[3];
    assert_int_equal(hv_log_returns(p, 4, r), 3);
    assert_true(fabs(r[0] - log(1.1)) < 1e-15);
    assert_true(fabs(r[1] - log(0.9)) < 1e-15);
    assert_true(r[2] == 0);
    /* In place: out may alias prices. */
    assert_int_equal(hv_log_returns(p, 4, p), 3);
    assert_true(fabs(p[0] - log(1.1)) < 1e-15 && fabs(p[1] - log(0.9)) < 1e-15);
    assert_int_equal(hv_log_returns(p, 1, r), 0);
    double bad[3] = { 1, 0, 2 };
    assert_int_equal(hv_log_returns(bad, 3, r), HV_EINVAL);
    double nan_p[2] = { 1, NAN };
    assert_int_equal(hv_log_returns(nan_p, 2, r), HV_EINVAL);
}

static void series_grows_and_keeps_its_bars(void **state)
{
    (void)state;
    hv_series s;
    hv_series_init(&s);
    for (int i = 0; i < 1000; i++) {
        hv_bar b = { .day = i,
                     .open = i + 1,
                     .high = i + 1,
                     .low = i + 1,
                     .close = i + 1,
                     .adjclose = i + 1,
                     .volume = 0 };
        assert_int_equal(hv_series_push(&s, &b), 0);
    }
    assert_int_equal(s.len, 1000);
    assert_true(s.cap >= 1000);
    for (int i = 0; i < 1000; i++)
        assert_true(s.bars[i].day == i && s.bars[i].close == i + 1);
    double r[999];
    assert_int_equal(hv_series_log_returns(&s, 0, r, 999), 999);
    assert_true(fabs(r[0] - log(2.0)) < 1e-15);
    assert_int_equal(hv_series_log_returns(&s, 1, r, 998), HV_ENOBUFS);
    hv_series_fini(&s);
    assert_null(s.bars);
    assert_int_equal(s.len, 0);
}

static void column_grows_and_keeps_its_values(void **state)
{
    (void)state;
    hv_column c;
    hv_column_init(&c);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(hv_column_push(&c, i * 0.5), 0);
    assert_int_equal(c.len, 5000);
    assert_true(c.v[4999] == 4999 * 0.5);
    hv_column_fini(&c);
    assert_null(c.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_dates_map_to_known_day_numbers),
        cmocka_unit_test(every_day_of_four_centuries_round_trips),
        cmocka_unit_test(log_returns_match_hand_computed_values),
        cmocka_unit_test(log_returns_stay_finite_when_the_price_ratio_underflows),
        cmocka_unit_test(series_grows_and_keeps_its_bars),
        cmocka_unit_test(column_grows_and_keeps_its_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
