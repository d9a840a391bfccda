# trading: order state machine, simulated exchange, portfolio accounting, pre-trade limits.
hv_library_sources(src/trading/order.c src/trading/portfolio.c src/trading/limits.c
                   src/trading/exchange.c)

hv_add_test(NAME trading_order SOURCES tests/trading/order_test.c TIMEOUT 60)
hv_add_test(NAME trading_portfolio SOURCES tests/trading/portfolio_test.c TIMEOUT 60)
hv_add_test(NAME trading_limits SOURCES tests/trading/limits_test.c TIMEOUT 60)
hv_add_test(NAME trading_exchange SOURCES tests/trading/exchange_test.c TIMEOUT 60)

hv_bench_area(NAME trading FUNC hv_bench_trading
              HELP "simulated exchange: orders/s through submit, ack, fill, report"
              SOURCES bench/trading_bench.c)

hv_cli_command(NAME backtest FUNC hv_cmd_backtest
               HELP "replay bars through the simulated exchange with limits and the profiler"
               SOURCES src/trading/cli_trading.c)

# The CLI end to end: a seeded synthetic backtest with every limit on, reports written.
add_test(NAME trading_cli_backtest
         COMMAND hivewire backtest --synthetic 600 --seed 3 --max-position 150 --max-notional 1e6
                 --max-orders 5 --interval-days 20 --max-drawdown 0.5 --quiet
                 --out ${CMAKE_BINARY_DIR}/backtest-test)
set_tests_properties(trading_cli_backtest PROPERTIES TIMEOUT 60 LABELS "unit")
add_test(NAME trading_cli_backtest_bad_usage COMMAND hivewire backtest --fast 50 --slow 10)
set_tests_properties(trading_cli_backtest_bad_usage PROPERTIES TIMEOUT 60 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "need 1 <= --fast < --slow")

# Bad option values are usage errors: exit code 2 and a message naming the option.
function(hv_backtest_usage_test name expect)
  add_test(NAME trading_cli_backtest_${name}
           COMMAND sh -c "out=$(\"$0\" backtest \"$@\" --quiet 2>&1); rc=$?; echo \"$out\"; [ $rc -eq 2 ] && echo \"$out\" | grep -qF -- '${expect}'"
                   $<TARGET_FILE:hivewire> ${ARGN})
  set_tests_properties(trading_cli_backtest_${name} PROPERTIES TIMEOUT 60 LABELS "unit")
endfunction()
hv_backtest_usage_test(rejects_nan_cash "--cash takes a finite number" --cash nan)
hv_backtest_usage_test(rejects_inf_cash "--cash takes a finite number" --cash inf)
hv_backtest_usage_test(rejects_zero_synthetic "--synthetic takes an integer in 1.." --synthetic 0)
hv_backtest_usage_test(rejects_zero_participation "--participation takes" --participation 0)
hv_backtest_usage_test(rejects_nan_fee "--fee-bps takes a finite number" --fee-bps nan)
hv_backtest_usage_test(rejects_huge_latency "--latency-us takes an integer" --latency-us 1e30)
hv_backtest_usage_test(rejects_drawdown_above_one "--max-drawdown takes" --max-drawdown 1.5)
hv_backtest_usage_test(rejects_too_many_orders "--max-orders takes" --max-orders 2000000)

# Invariants of exchange + portfolio + limits under arbitrary operation streams.
hv_add_fuzzer(NAME trading_exchange SOURCES fuzz/trading_exchange.c
              CORPUS fuzz/corpus/trading_exchange)
