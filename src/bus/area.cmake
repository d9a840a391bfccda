# bus: the in-process message bus (rings, topics, inboxes, delivery policies, metrics).
hv_library_sources(src/bus/ring.c src/bus/topics.c src/bus/pool.c src/bus/inbox.c
                    src/bus/publish.c src/bus/recv.c src/bus/agent.c src/bus/bus.c)

hv_add_test(NAME bus_ring SOURCES tests/bus/ring_test.c LABELS concurrent TIMEOUT 120)
hv_add_test(NAME bus_topics SOURCES tests/bus/topics_test.c TIMEOUT 60)
hv_add_test(NAME bus_bus SOURCES tests/bus/bus_test.c LABELS concurrent TIMEOUT 180)
hv_add_test(NAME bus_redelivery SOURCES tests/bus/redelivery_test.c LABELS concurrent TIMEOUT 120)

hv_add_fuzzer(NAME bus_subject SOURCES fuzz/bus_subject.c CORPUS fuzz/corpus/bus_subject)

set(HV_BUS_BENCH_LIBS "")
set(HV_BUS_BENCH_DEFS "")
if(HV_WITH_PEERS)
  pkg_check_modules(ZMQ IMPORTED_TARGET libzmq)
  pkg_check_modules(CK IMPORTED_TARGET ck)
  if(ZMQ_FOUND)
    list(APPEND HV_BUS_BENCH_LIBS PkgConfig::ZMQ)
    list(APPEND HV_BUS_BENCH_DEFS HV_HAVE_ZMQ=1)
  endif()
  if(CK_FOUND)
    list(APPEND HV_BUS_BENCH_LIBS PkgConfig::CK)
    list(APPEND HV_BUS_BENCH_DEFS HV_HAVE_CK=1)
  endif()
endif()
hv_bench_area(NAME bus FUNC hv_bench_bus
              HELP "bus: SPSC ring vs ck_ring, bus vs ZeroMQ inproc, fan-out, topic match, memory"
              SOURCES bench/bus/harness.c bench/bus/spsc.c bench/bus/p2p.c bench/bus/paced.c
                      bench/bus/fanout.c bench/bus/all_to_all.c bench/bus/topic_match.c
                      bench/bus/memory.c
              LIBS ${HV_BUS_BENCH_LIBS} DEFINES ${HV_BUS_BENCH_DEFS})

hv_cli_command(NAME subject FUNC hv_cmd_subject TABLE spec
               HELP "check bus subjects/patterns and show which subjects a pattern matches"
               SOURCES src/bus/cli_bus.c)
