# log: the replicated decision log (canonical/raft 0.15): entries, hash chain, the trading
# state machine and its snapshots.
pkg_check_modules(RAFT REQUIRED IMPORTED_TARGET raft)
hv_library_sources(src/log/entry.c src/log/fsm.c)
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
