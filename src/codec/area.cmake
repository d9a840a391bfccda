# codec: the HVW1 wire format (frames, batches, interning, LZ4), its JSON form, CLI, tests,
# fuzzers and benchmark.
hv_library_sources(src/codec/wire.c src/codec/intern.c src/codec/codec.c src/codec/gen.c)
hv_add_test(NAME codec_wire SOURCES tests/codec/wire_test.c)
