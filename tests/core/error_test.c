#include "hv_test.h"

#include <errno.h>
#include <string.h>

/* The umbrella header: every public header must compile together (no clashing names). */
#include <hivewire/hivewire.h>

static void every_code_has_a_distinct_message_and_name(void **state)
{
    (void)state;
    static const int codes[] = {
#define HV_CODE_(name, val, msg) (val),
        HV_ERRNO_MAP(HV_CODE_)
#undef HV_CODE_
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_string_not_equal(hv_strerror(codes[i]), "unknown error");
        assert_non_null(hv_err_name(codes[i]));
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(codes[i], codes[j]);
    }
}

static void unknown_code_is_reported_as_unknown(void **state)
{
    (void)state;
    assert_string_equal(hv_strerror(-9999), "unknown error");
    assert_null(hv_err_name(-9999));
    assert_string_equal(hv_strerror(0), "success");
}

static void errno_values_map_to_hv_codes(void **state)
{
    (void)state;
    assert_int_equal(hv_err_from_errno(ENOMEM), HV_ENOMEM);
    assert_int_equal(hv_err_from_errno(ENOENT), HV_ENOTFOUND);
    assert_int_equal(hv_err_from_errno(EIO), HV_EIO);
    assert_int_equal(hv_err_from_errno(EISDIR), HV_EISDIR);
    assert_string_equal(hv_strerror(HV_EISDIR), "is a directory");
    assert_string_equal(hv_err_name(HV_EISDIR), "HV_EISDIR");
    assert_int_equal(hv_err_from_errno(0), 0);
    assert_string_equal(hv_err_name(HV_EINVAL), "HV_EINVAL");
}

static void clock_is_monotonic(void **state)
{
    (void)state;
    uint64_t a = hv_now_ns(), b = hv_now_ns();
    assert_true(b >= a);
    assert_string_equal(hv_version(), HV_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_a_distinct_message_and_name),
        cmocka_unit_test(unknown_code_is_reported_as_unknown),
        cmocka_unit_test(errno_values_map_to_hv_codes),
        cmocka_unit_test(clock_is_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
