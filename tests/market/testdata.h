/* Locates the real market data fetched by scripts/fetch-data, for tests that use it. */
#ifndef HV_TESTS_MARKET_TESTDATA_H
#define HV_TESTS_MARKET_TESTDATA_H

#include "hv_test.h" /* hv_test_data_file(): skips, or fails under HV_REQUIRE_DATA=1 */

#endif
