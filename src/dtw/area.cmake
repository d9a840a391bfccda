# dtw: DTW pattern matching (UCR cascade), multi-threaded batch search, the pattern library.

set(HV_DTW_SOURCES src/dtw/kernels.c src/dtw/search.c src/dtw/pool.c src/dtw/library.c
                   src/dtw/series_parse.c)
hv_library_sources(${HV_DTW_SOURCES})
# Scalar and AVX2 paths must perform the same IEEE operations: no fused multiply-add in either.
set_source_files_properties(${HV_DTW_SOURCES} DIRECTORY ${PROJECT_SOURCE_DIR}
                            PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")

hv_add_test(NAME dtw_kernels SOURCES tests/dtw/kernels_test.c)
hv_add_test(NAME dtw_search SOURCES tests/dtw/search_test.c)
hv_add_test(NAME dtw_pool SOURCES tests/dtw/pool_test.c LABELS concurrent)
hv_add_test(NAME dtw_library SOURCES tests/dtw/library_test.c)
hv_add_test(NAME dtw_parse SOURCES tests/dtw/parse_test.c)
hv_add_test(NAME dtw_cli SOURCES tests/dtw/cli_test.c src/dtw/cli_dtw.c src/cli/cli.c src/cli/opts.c)
# The malloc interposer of the bench harness counts allocations on the query path.
hv_add_test(NAME dtw_alloc SOURCES tests/dtw/alloc_test.c bench/alloc_count.c)

hv_cli_command(NAME dtw FUNC hv_cmd_dtw TABLE spec HELP "DTW top-k search of query series against patterns"
               SOURCES src/dtw/cli_dtw.c)
hv_bench_area(NAME dtw FUNC hv_bench_dtw HELP "DTW 1-NN cascade vs brute force, K=1000, n=64..256"
              SOURCES bench/dtw_bench.c DEFINES HV_DTW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
# The parser and the search are compiled into the fuzzer itself so libFuzzer sees their
# coverage (the library archive is not instrumented); the archive's copies are then unused.
hv_add_fuzzer(NAME dtw_series
              SOURCES fuzz/dtw_series.c src/dtw/series_parse.c src/dtw/kernels.c src/dtw/search.c
              CORPUS fuzz/corpus/dtw_series)
