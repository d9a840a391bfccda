# codec: the HVW1 wire format (frames, batches, interning, LZ4), its JSON form, CLI, tests,
# fuzzers and benchmark.
hv_library_sources(src/codec/wire.c src/codec/intern.c src/codec/codec.c src/codec/gen.c
                   src/codec/json.c)
hv_add_test(NAME codec_wire SOURCES tests/codec/wire_test.c)
hv_cli_command(NAME encode FUNC hv_cmd_encode HELP "JSON messages on stdin to HVW1 frames on stdout"
               SOURCES src/codec/cli_codec.c)
hv_cli_command(NAME decode FUNC hv_cmd_decode HELP "HVW1 frames or batches on stdin to JSON lines")
hv_add_test(NAME codec_codec SOURCES tests/codec/codec_test.c)
hv_add_test(NAME codec_json SOURCES tests/codec/json_test.c)
hv_add_test(NAME codec_cli SOURCES tests/codec/cli_test.c src/codec/cli_codec.c src/cli/cli.c)
