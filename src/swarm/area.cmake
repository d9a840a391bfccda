# swarm: the trading swarm (agents on the bus, consensus, simulated exchange, profiler).
hv_library_sources(src/swarm/wire.c src/swarm/agent.c src/swarm/role_md.c
                   src/swarm/role_pattern.c src/swarm/role_risk.c src/swarm/role_strategy.c
                   src/swarm/role_exec.c src/swarm/role_coord.c src/swarm/coord_profile.c
                   src/swarm/cast.c src/swarm/swarm.c src/swarm/sim.c src/swarm/gateway.c
                   src/swarm/node.c src/swarm/soak.c src/swarm/replicated.c)

hv_cli_command(NAME run FUNC hv_cmd_run TABLE spec
               HELP "run the trading swarm over the S&P 500 series (make run)"
               SOURCES src/swarm/cli_swarm.c src/swarm/cli_sim.c src/swarm/cli_opts.c
                       src/swarm/cli_node.c src/swarm/cli_report.c src/swarm/cli_replicas.c)
hv_cli_command(NAME coordinator FUNC hv_cmd_coordinator TABLE spec
               HELP "run a trading swarm coordinator: its agents connect over QUIC")
hv_cli_command(NAME agent FUNC hv_cmd_agent TABLE spec
               HELP "run agents of a trading swarm, connected to its coordinator over QUIC")

hv_add_test(NAME swarm_wire SOURCES tests/swarm/wire_test.c TIMEOUT 60)
hv_add_test(NAME swarm_swarm SOURCES tests/swarm/swarm_test.c LABELS concurrent TIMEOUT 300)
hv_add_test(NAME swarm_roles SOURCES tests/swarm/roles_test.c tests/log/log_util.c TIMEOUT 60)
hv_add_test(NAME swarm_sim SOURCES tests/swarm/sim_test.c TIMEOUT 600)

# The CLI end to end: a short synthetic run writes both reports; a tripped kill switch is
# reported; a missing data file says how to get it.
add_test(NAME swarm_cli_run
         COMMAND hivewire run --synthetic 300 --seed 3 --capacity 64 --no-progress --quiet
                 --out ${CMAKE_BINARY_DIR}/swarm-run-test)
set_tests_properties(swarm_cli_run PROPERTIES TIMEOUT 120 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "trade list hash")
add_test(NAME swarm_cli_run_kill_switch
         COMMAND hivewire run --synthetic 300 --seed 3 --capacity 64 --no-progress --quiet
                 --no-report --no-risk-vote --rule-critical simple --max-drawdown 0.0005)
set_tests_properties(swarm_cli_run_kill_switch PROPERTIES TIMEOUT 120 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "kill switch +HALTED at cycle [0-9]+ \\(kill switch: drawdown")
add_test(NAME swarm_cli_run_missing_data
         COMMAND hivewire run --data ${CMAKE_BINARY_DIR}/no-such-file.csv --no-report)
set_tests_properties(swarm_cli_run_missing_data PROPERTIES TIMEOUT 60 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "run scripts/fetch-data, or use --synthetic N")
add_test(NAME swarm_cli_run_bad_usage COMMAND hivewire run --wait sometimes)
set_tests_properties(swarm_cli_run_bad_usage PROPERTIES TIMEOUT 60 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "--wait: .sometimes. is not one of block, spin, yield")

hv_bench_area(NAME cycle FUNC hv_bench_cycle
              HELP "swarm trading cycles: latency p50/p99, cycles/s, share of each stage"
              SOURCES bench/cycle_bench.c DEFINES HV_CYCLE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# The frame decoder every agent runs on its inbox (and, later, on network input).
hv_add_fuzzer(NAME swarm_wire SOURCES fuzz/swarm_wire.c CORPUS fuzz/corpus/swarm_wire)

# The same trades whichever way the swarm runs: one thread, a thread per agent, the simulator.
add_test(NAME swarm_same_trades_every_runner
         COMMAND ${PROJECT_SOURCE_DIR}/tests/swarm/same_trades.sh $<TARGET_FILE:hivewire>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(swarm_same_trades_every_runner PROPERTIES TIMEOUT 300 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "same trades|skipped")

# Thousands of seeds of the whole-swarm simulator with every fault (make sim-long: many more).
# Under the sanitizers a quarter of them: the same code, four times slower.
if(HV_SANITIZE)
  set(HV_SIM_SEEDS_PER_TEST 250)
else()
  set(HV_SIM_SEEDS_PER_TEST 1000)
endif()
foreach(first 1 100001)
  add_test(NAME swarm_sim_seeds_from_${first}
           COMMAND hivewire sim swarm --seed ${first} --seeds ${HV_SIM_SEEDS_PER_TEST}
                   --faults all --synthetic 150)
  set_tests_properties(swarm_sim_seeds_from_${first} PROPERTIES TIMEOUT 900 LABELS "unit"
                       PASS_REGULAR_EXPRESSION ": 0 failed" FAIL_REGULAR_EXPRESSION "VIOLATION")
endforeach()
add_test(NAME swarm_sim_cli_replays_a_seed
         COMMAND hivewire sim swarm --seed 9 --faults loss,crash --synthetic 200)
set_tests_properties(swarm_sim_cli_replays_a_seed PROPERTIES TIMEOUT 120 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "invariants: all held")
add_test(NAME swarm_sim_cli_bad_fault COMMAND hivewire sim swarm --faults byzantine)
set_tests_properties(swarm_sim_cli_bad_fault PROPERTIES TIMEOUT 60 LABELS "unit"
                     PASS_REGULAR_EXPRESSION "--faults: .byzantine. is not none, all, or a list")

# The swarm over processes on loopback (QUIC, mutual TLS, certificates made for the test).
foreach(scenario same-trades kill-pattern kill-execution)
  add_test(NAME swarm_remote_${scenario}
           COMMAND ${PROJECT_SOURCE_DIR}/tests/swarm/remote.sh $<TARGET_FILE:hivewire> ${scenario})
  set_tests_properties(swarm_remote_${scenario} PROPERTIES TIMEOUT 300 LABELS "unit;net"
                       PASS_REGULAR_EXPRESSION "same trades|the run completed")
endforeach()

# The swarm across a network of its own (two namespaces and a veth pair): 5% loss each way,
# and delay with reordering through a seeded relay. Skips, saying why, without root, ip or nft.
add_executable(hv_udp_relay ${PROJECT_SOURCE_DIR}/tests/swarm/udp_relay.c)
foreach(net loss delay)
  add_test(NAME swarm_netns_${net}
           COMMAND ${PROJECT_SOURCE_DIR}/tests/swarm/netns.sh $<TARGET_FILE:hivewire>
                   $<TARGET_FILE:hv_udp_relay> ${net})
  set_tests_properties(swarm_netns_${net} PROPERTIES TIMEOUT 600 LABELS "unit;net" RUN_SERIAL ON
                       PASS_REGULAR_EXPRESSION "same trades|skipped: ")
endforeach()

# The reports of run and backtest on the built binary: typed JSON equal on stdout and on disk,
# trades.csv, every return statistic against a replay of the fills; Ctrl-C's partial reports.
hv_add_test(NAME swarm_cli_report
            SOURCES tests/swarm/cli_report_test.c tests/obs/runproc.c TIMEOUT 400)
set_property(TEST swarm_cli_report APPEND PROPERTY ENVIRONMENT "HV_BIN=$<TARGET_FILE:hivewire>")

# out/run.html in headless Chromium: a screenshot (out/run.png in the build directory) and a DOM
# check that every chart has data, no label overlaps another, every table is whole.
hv_add_test(NAME swarm_report_html
            SOURCES tests/swarm/report_html_test.c tests/obs/runproc.c tests/cdp.c TIMEOUT 300)
set_property(TEST swarm_report_html APPEND PROPERTY ENVIRONMENT "HV_BIN=$<TARGET_FILE:hivewire>"
             "HV_BUILD_DIR=${CMAKE_BINARY_DIR}")
