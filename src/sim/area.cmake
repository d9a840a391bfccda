# sim: what the deterministic simulators share (the seeded network model).
hv_library_sources(src/sim/simnet.c)
