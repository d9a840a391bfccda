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

hv_cli_command(NAME backtest FUNC hv_cmd_backtest TABLE spec
               HELP "replay bars through the simulated exchange with limits and the profiler"
               SOURCES src/trading/cli_trading.c)

# The CLI end to end: a seeded synthetic backtest with every limit on, reports written.
add_test(NAME trading_cli_backtest
         COMMAND hivewire backtest --synthetic 600 --seed 3 --max-position 150 --max-notional 1e6
                 --max-orders 5 --interval-days 20 --max-drawdown 0.5 --quiet
                 --out ${CMAKE_BINARY_DIR}/backtest-test)
set_tests_properties(trading_cli_backtest PROPERTIES TIMEOUT 60 LABELS "unit")
# Bad options and inputs of backtest (and every other command) are rows of the table-driven
# suite in tests/cli/cases/.

# Invariants of exchange + portfolio + limits under arbitrary operation streams.
hv_add_fuzzer(NAME trading_exchange SOURCES fuzz/trading_exchange.c
              CORPUS fuzz/corpus/trading_exchange)

# State export (what the replicated log snapshots, docs/LOG.md).
hv_add_test(NAME trading_state SOURCES tests/trading/state_test.c TIMEOUT 60)
