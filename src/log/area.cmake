# log: the replicated decision log (canonical/raft 0.15): entries, hash chain, the trading
# state machine and its snapshots.
pkg_check_modules(RAFT REQUIRED IMPORTED_TARGET raft)
hv_library_sources(src/log/entry.c src/log/fsm.c src/log/store.c src/log/verify.c
                   src/log/replica.c src/log/tls.c)
hv_library_link(PkgConfig::RAFT)

hv_add_test(NAME log_entry SOURCES tests/log/entry_test.c tests/log/log_util.c TIMEOUT 60)
hv_add_test(NAME log_fsm SOURCES tests/log/fsm_test.c tests/log/log_util.c TIMEOUT 120)

hv_add_fuzzer(NAME log_entry SOURCES fuzz/log_entry.c CORPUS fuzz/corpus/log_entry)
hv_add_fuzzer(NAME log_snapshot SOURCES fuzz/log_snapshot.c CORPUS fuzz/corpus/log_snapshot)

# Raft on canonical/raft's fixture (simulated time, network and disk): a few seeds as a unit
# test, thousands in make test (fewer under the sanitizers).
hv_add_test(NAME log_raft SOURCES tests/log/raft_test.c tests/log/log_util.c TIMEOUT 120)
if(HV_SANITIZE)
  set(HV_RAFT_SEEDS 300)
else()
  set(HV_RAFT_SEEDS 2000)
endif()
add_test(NAME log_raft_seeds COMMAND test_log_raft --seeds ${HV_RAFT_SEEDS} --first 1000)
set_tests_properties(log_raft_seeds PROPERTIES TIMEOUT 600 LABELS "unit")

hv_cli_command(NAME log FUNC hv_cmd_log TABLE group
               HELP "show or verify a replica's decision log (hash chain, no gaps, no repeats)"
               SOURCES src/log/cli_log.c)
hv_add_fuzzer(NAME log_segment SOURCES fuzz/log_segment.c CORPUS fuzz/corpus/log_segment)

# A raft_uv replica in a child process: killed mid-write, a write cut short, restarted to the
# same state; damaged directories refused. Leaves a verified directory for the CLI tests.
hv_add_test(NAME log_store SOURCES tests/log/store_test.c tests/log/replica_util.c
            tests/log/log_util.c TIMEOUT 300)
set_tests_properties(log_store PROPERTIES FIXTURES_SETUP log_dir)
set_property(TEST log_store APPEND PROPERTY ENVIRONMENT "HV_LOG_KEEP=${CMAKE_BINARY_DIR}/log-dir")
# The CLI on the directory log_store left: it verifies, and show prints every entry.
add_test(NAME log_cli_verify COMMAND hivewire log verify --data-dir ${CMAKE_BINARY_DIR}/log-dir)
set_tests_properties(log_cli_verify PROPERTIES TIMEOUT 60 LABELS "unit" FIXTURES_REQUIRED log_dir
                     PASS_REGULAR_EXPRESSION "log verify +ok"
                     FAIL_REGULAR_EXPRESSION "problems")
add_test(NAME log_cli_show COMMAND hivewire log show --data-dir ${CMAKE_BINARY_DIR}/log-dir)
set_tests_properties(log_cli_show PROPERTIES TIMEOUT 60 LABELS "unit" FIXTURES_REQUIRED log_dir
                     PASS_REGULAR_EXPRESSION "decision +#[0-9]+ +proposal [0-9]+ \\(cycle")

# The replicas' mutual-TLS transport on loopback (certificates made by the test), and three
# replicas on it.
hv_add_test(NAME log_tls SOURCES tests/log/tls_test.c tests/log/log_util.c TIMEOUT 180
            LABELS net)

# The log against NATS JetStream (3 nats-servers started by the bench), when libnats is there.
set(HV_LOG_BENCH_LIBS "")
set(HV_LOG_BENCH_DEFS "")
if(HV_WITH_PEERS)
  pkg_check_modules(NATS IMPORTED_TARGET libnats)
  if(NATS_FOUND)
    list(APPEND HV_LOG_BENCH_LIBS PkgConfig::NATS)
    list(APPEND HV_LOG_BENCH_DEFS HV_HAVE_NATS=1)
  endif()
endif()
hv_bench_area(NAME log FUNC hv_bench_log
              HELP "log: commit latency, decisions/s, failover of 3 replicas vs NATS JetStream R3"
              SOURCES bench/log_bench.c LIBS ${HV_LOG_BENCH_LIBS}
              DEFINES ${HV_LOG_BENCH_DEFS} HV_LOG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# The swarm's coordinator on three in-process replicas (src/swarm/replicated.c): the same trades,
# the same state on every replica and from disk, and again after a restart. Concurrent: the
# replicas' loop runs on a thread of its own beside the runner's (also under TSan).
hv_add_test(NAME swarm_replicated SOURCES tests/swarm/replicated_test.c TIMEOUT 300
            LABELS net concurrent)
add_test(NAME log_run_replicas
         COMMAND ${PROJECT_SOURCE_DIR}/tests/log/replicas.sh $<TARGET_FILE:hivewire>
                 ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR})
set_tests_properties(log_run_replicas PROPERTIES TIMEOUT 300 LABELS "unit;net"
                     PASS_REGULAR_EXPRESSION "same trades, same state|skipped")

# The real failover: three replica processes (coordinator --replica K) and the agents' process
# on loopback, kill -9 of the leader mid-run: a new leader takes the run over, the run completes
# with the same trades, the survivors' logs verify and agree, and all three restart to one state.
add_test(NAME log_failover COMMAND ${PROJECT_SOURCE_DIR}/tests/log/failover.sh
                                   $<TARGET_FILE:hivewire>)
set_tests_properties(log_failover PROPERTIES TIMEOUT 120 LABELS "unit;net"
                     PASS_REGULAR_EXPRESSION "restarted from disk: replicas 1, 2, 3 at state")
