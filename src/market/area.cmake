# market: bars, the CSV reader, log returns, the synthetic generator and the replay feed.
hv_library_sources(src/market/series.c src/market/csv.c src/market/csv_file.c src/market/synth.c
                   src/market/replay.c)

hv_add_test(NAME market_csv SOURCES tests/market/csv_test.c)
hv_add_test(NAME market_series SOURCES tests/market/series_test.c)
hv_add_test(NAME market_synth SOURCES tests/market/synth_test.c)
hv_add_test(NAME market_replay SOURCES tests/market/replay_test.c)
hv_add_test(NAME market_cli SOURCES tests/market/cli_market_test.c src/market/cli_market.c
            src/cli/cli.c src/cli/opts.c src/cli/sim.c)

hv_add_fuzzer(NAME market_csv SOURCES fuzz/market_csv.c CORPUS fuzz/corpus/market_csv)

hv_cli_command(NAME market FUNC hv_cmd_market TABLE group
               HELP "market data: hivewire market stats FILE | synth --bars N | replay FILE"
               SOURCES src/market/cli_market.c)
