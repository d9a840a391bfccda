# consensus: the voting engine, signed votes, result voting and the deterministic simulator.
hv_library_sources(src/consensus/policy.c src/consensus/vote_auth.c src/consensus/engine.c
                   src/consensus/result.c)

hv_add_test(NAME consensus_engine SOURCES tests/consensus/engine_test.c TIMEOUT 120)
