# risk: VaR and expected shortfall (historical, Gaussian, Cornish-Fisher, Monte Carlo), the
# rolling window, the `hivewire var` command and `hivewire-bench var`.
hv_library_sources(src/risk/normal.c src/risk/select.c src/risk/var.c src/risk/mc.c
                   src/risk/roll.c)

hv_add_test(NAME risk_var SOURCES tests/risk/var_test.c)
hv_add_test(NAME risk_mc SOURCES tests/risk/mc_test.c)
hv_add_test(NAME risk_roll SOURCES tests/risk/roll_test.c)
hv_add_test(NAME risk_cli_var SOURCES tests/risk/cli_var_test.c src/risk/cli_var.c src/cli/cli.c
            src/cli/opts.c src/cli/sim.c)

hv_cli_command(NAME var FUNC hv_cmd_var TABLE spec
               HELP "VaR and expected shortfall of a return series: hivewire var --returns FILE"
               SOURCES src/risk/cli_var.c)

hv_bench_area(NAME var FUNC hv_bench_var
              HELP "VaR/ES by method over 250 returns, vs a full sort; rolling vs recompute"
              SOURCES bench/var_bench.c
              DEFINES HV_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}")

hv_add_fuzzer(NAME risk_var SOURCES fuzz/risk_var.c CORPUS fuzz/corpus/risk_var)
