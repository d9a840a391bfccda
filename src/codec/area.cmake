# codec: the HVW1 wire format (frames, batches, interning, LZ4), its JSON form, CLI, tests,
# fuzzers and benchmark.
hv_library_sources(src/codec/types.c src/codec/text.c src/codec/frame.c src/codec/compress.c
                   src/codec/payload.c src/codec/equal.c src/codec/explain.c src/codec/batch.c
                   src/codec/intern.c src/codec/codec.c src/codec/gen.c
                   src/codec/json.c src/codec/stream.c)
hv_add_test(NAME codec_wire SOURCES tests/codec/wire_test.c)
hv_add_test(NAME codec_text SOURCES tests/codec/text_test.c)
# The same tests of the byte-by-byte text checks that targets without 16-byte vectors use.
hv_add_test(NAME codec_text_bytes SOURCES tests/codec/text_test.c)
target_compile_definitions(test_codec_text_bytes PRIVATE HV__TEXT_V16=0)
hv_cli_command(NAME encode FUNC hv_cmd_encode TABLE spec HELP "JSON messages on stdin to HVW1 frames on stdout"
               SOURCES src/codec/cli_codec.c src/codec/cli_util.c)
hv_cli_command(NAME decode FUNC hv_cmd_decode TABLE spec HELP "HVW1 frames or batches on stdin to JSON lines")
hv_add_test(NAME codec_codec SOURCES tests/codec/codec_test.c)
hv_add_test(NAME codec_json SOURCES tests/codec/json_test.c)
hv_add_test(NAME codec_stream SOURCES tests/codec/stream_test.c)
hv_add_test(NAME codec_conformance SOURCES tests/codec/conformance_test.c)
hv_add_test(NAME codec_cli SOURCES tests/codec/cli_test.c src/codec/cli_codec.c src/codec/cli_stream.c src/codec/cli_util.c
                            src/cli/cli.c src/cli/opts.c)

# Benchmark, with msgpack-c and protobuf-c peers (protobuf C generated at build time).
set(_hv_codec_peers OFF)
if(HV_WITH_PEERS)
  pkg_check_modules(MSGPACK IMPORTED_TARGET msgpack)
  pkg_check_modules(PROTOBUFC IMPORTED_TARGET libprotobuf-c)
  find_program(PROTOC_C protoc-c)
  if(MSGPACK_FOUND AND PROTOBUFC_FOUND AND PROTOC_C)
    set(_hv_codec_peers ON)
  endif()
endif()
if(_hv_codec_peers)
  set(_gen ${CMAKE_BINARY_DIR}/generated/peers)
  file(MAKE_DIRECTORY ${_gen})
  add_custom_command(
    OUTPUT ${_gen}/codec_bench.pb-c.c ${_gen}/codec_bench.pb-c.h
    COMMAND ${PROTOC_C} --c_out=${_gen} -I${PROJECT_SOURCE_DIR}/bench/peers
            ${PROJECT_SOURCE_DIR}/bench/peers/codec_bench.proto
    DEPENDS ${PROJECT_SOURCE_DIR}/bench/peers/codec_bench.proto
    COMMENT "protoc-c bench/peers/codec_bench.proto")
  add_library(hv_codec_bench_pb STATIC ${_gen}/codec_bench.pb-c.c)
  target_include_directories(hv_codec_bench_pb PUBLIC ${_gen})
  target_compile_options(hv_codec_bench_pb PRIVATE -w) # generated code
  target_link_libraries(hv_codec_bench_pb PUBLIC PkgConfig::PROTOBUFC)
  hv_bench_area(NAME codec FUNC hv_bench_codec
                HELP "HVW1 encode+decode vs msgpack-c, protobuf-c and JSON"
                SOURCES bench/codec_bench.c LIBS hv_codec_bench_pb PkgConfig::MSGPACK
                DEFINES HV_CODEC_PEERS=1)
else()
  hv_bench_area(NAME codec FUNC hv_bench_codec HELP "HVW1 encode+decode vs JSON"
                SOURCES bench/codec_bench.c)
endif()

hv_add_fuzzer(NAME codec_decode SOURCES fuzz/codec_decode.c CORPUS fuzz/corpus/codec_decode)
hv_add_fuzzer(NAME codec_json SOURCES fuzz/codec_json.c CORPUS fuzz/corpus/codec_json)
hv_cli_command(NAME stream FUNC hv_cmd_stream TABLE group
               HELP "split stdin into an HVW1 stream of frames, or join and verify one"
               SOURCES src/codec/cli_stream.c)
