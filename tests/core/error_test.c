#include "hv_test.h"

#include <errno.h>
#include <string.h>

/* The umbrella header: every public header must compile together (no clashing names). */
#include <hivewire/hivewire.h>

static void every_code_has_a_distinct_message_and_name(void **state)
{
    (void)state;
    static const int codes[] = {
#define HV_CODE_(name, val, cls, msg) (val),
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

static void every_code_is_retryable_or_fatal_as_its_table_row_says(void **state)
{
    (void)state;
    static const struct {
        int code;
        int retry;
    } rows[] = {
#define HV_CLASS_(name, val, cls, msg) { (val), #cls[0] == 'R' },
        HV_ERRNO_MAP(HV_CLASS_)
#undef HV_CLASS_
    };
    size_t retryable = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(hv_err_retryable(rows[i].code), rows[i].retry);
        retryable += (size_t)rows[i].retry;
    }
    assert_int_equal(retryable, 10);
}

static void transient_conditions_are_retryable_and_bad_input_is_not(void **state)
{
    (void)state;
    static const int retry[] = { HV_EAGAIN,     HV_ETIMEDOUT,     HV_EFULL,     HV_ENOMEM,
                                 HV_EIO,        HV_ENOSUBSCRIBER, HV_EREJECTED, HV_EPEERCLOSED,
                                 HV_ETRANSPORT, HV_ENOTLEADER };
    static const int fatal[] = { HV_EINVAL,   HV_EBADMAGIC, HV_ETRUNCATED,      HV_EBADSIG,
                                 HV_EDUPVOTE, HV_ELIMIT,    HV_EHALTED,         HV_EAUTH,
                                 HV_ESTATE,   HV_ENOAGENT,  HV_EPROPOSALCLOSED, HV_EHANDSHAKE,
                                 HV_ECHAIN };
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
        assert_int_equal(hv_err_retryable(retry[i]), 1);
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        assert_int_equal(hv_err_retryable(fatal[i]), 0);
    /* not an error, or not a known one: never retried */
    assert_int_equal(hv_err_retryable(0), 0);
    assert_int_equal(hv_err_retryable(5), 0);
    assert_int_equal(hv_err_retryable(-9999), 0);
    assert_int_equal(hv_err_retryable(hv_err_from_errno(EAGAIN)), 1);
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
        cmocka_unit_test(every_code_is_retryable_or_fatal_as_its_table_row_says),
        cmocka_unit_test(transient_conditions_are_retryable_and_bad_input_is_not),
        cmocka_unit_test(unknown_code_is_reported_as_unknown),
        cmocka_unit_test(errno_values_map_to_hv_codes),
        cmocka_unit_test(clock_is_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
