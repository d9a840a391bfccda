# profiler: scoped trading-cycle timers (self/total), text table, JSON and HTML reports.
hv_library_sources(src/profiler/profiler.c src/profiler/report.c src/profiler/html.c
                   src/profiler/returns.c)

hv_add_test(NAME profiler_profiler SOURCES tests/profiler/profiler_test.c TIMEOUT 60)
hv_add_test(NAME profiler_report SOURCES tests/profiler/report_test.c TIMEOUT 60)
hv_add_test(NAME profiler_returns SOURCES tests/profiler/returns_test.c TIMEOUT 60)

hv_bench_area(NAME profiler FUNC hv_bench_profiler
              HELP "profiler scope overhead vs a bare clock_gettime pair"
              SOURCES bench/profiler_bench.c)
