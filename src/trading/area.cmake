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
