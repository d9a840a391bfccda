/* Shared includes for cmocka tests. cmocka needs these headers before its own. */
#ifndef HV_TESTS_HV_TEST_H
#define HV_TESTS_HV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#endif
