# consensus: the voting engine, signed votes, result voting and the deterministic simulator.
hv_library_sources(src/consensus/policy.c src/consensus/vote_auth.c src/consensus/engine.c
                   src/consensus/result.c)

hv_add_test(NAME consensus_engine SOURCES tests/consensus/engine_test.c TIMEOUT 120)
hv_add_test(NAME consensus_vote_auth SOURCES tests/consensus/vote_auth_test.c)
hv_add_test(NAME consensus_policy SOURCES tests/consensus/policy_test.c)
hv_add_test(NAME consensus_result SOURCES tests/consensus/result_test.c)
hv_library_sources(src/consensus/sim.c)
hv_cli_command(NAME sim FUNC hv_cmd_sim TABLE group HELP "deterministic simulations: hivewire sim consensus|swarm --seed N"
               SOURCES src/consensus/cli_consensus.c)
hv_add_test(NAME consensus_sim SOURCES tests/consensus/sim_test.c src/consensus/cli_consensus.c
            src/swarm/cli_sim.c src/cli/cli.c src/cli/opts.c src/cli/sim.c src/cli/progress.c
            src/cli/report.c TIMEOUT 200)
hv_bench_area(NAME consensus FUNC hv_bench_consensus
              HELP "engine time per decision: MAJORITY, signed BFT, result voting; early on/off"
              SOURCES bench/consensus_bench.c)
hv_add_fuzzer(NAME consensus_engine SOURCES fuzz/consensus_engine.c
              CORPUS fuzz/corpus/consensus_engine)
hv_add_fuzzer(NAME consensus_result SOURCES fuzz/consensus_result.c
              CORPUS fuzz/corpus/consensus_result)
