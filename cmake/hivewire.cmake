# Helpers that let each area (src/<area>/area.cmake) register its pieces without editing shared
# files: library sources, link dependencies, tests, CLI commands, benchmarks and fuzzers.

# hv_library_sources(files...): add C files to libhivewire.
function(hv_library_sources)
  foreach(f IN LISTS ARGN)
    target_sources(hivewire_obj PRIVATE ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
endfunction()

# hv_library_link(targets...): link libhivewire (and so every test and the CLI) against these.
function(hv_library_link)
  target_link_libraries(hivewire_obj PUBLIC ${ARGN})
endfunction()

# hv_add_test(NAME n SOURCES files... [LABELS l...] [LIBS libs...] [TIMEOUT s])
# A cmocka test executable linked with the static library, run by CTest.
# LABELS concurrent: the test also runs in the ThreadSanitizer build.
function(hv_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LABELS;LIBS" ${ARGN})
  set(srcs "")
  foreach(f IN LISTS T_SOURCES)
    list(APPEND srcs ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  add_executable(test_${T_NAME} ${srcs})
  target_include_directories(test_${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src
                                                    ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(test_${T_NAME} PRIVATE hivewire_static PkgConfig::CMOCKA ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND test_${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "unit;${T_LABELS}"
                       ENVIRONMENT "HV_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# hv_cli_command(NAME name FUNC c_function TABLE spec|group HELP "one line" SOURCES files...
#                [LIBS libs...])
# Registers `hivewire <name>`; c_function has the signature int f(int argc, char **argv)
# (argv[0] is the command name) and returns the process exit code. Its options are a table of
# src/cli/opts.h, which the command exports for --help, the man page and the completion:
# TABLE spec: `const hv_cli_spec *const hv__cmd_spec_<name>`; TABLE group (a command with
# subcommands): `const hv_cli_group *const hv__cmd_group_<name>`.
function(hv_cli_command)
  cmake_parse_arguments(C "" "NAME;FUNC;HELP;TABLE" "SOURCES;LIBS" ${ARGN})
  if(NOT C_TABLE MATCHES "^(spec|group)$")
    message(FATAL_ERROR "hv_cli_command(${C_NAME}): TABLE spec or TABLE group is required: every "
                        "command declares its options in a table (src/cli/opts.h)")
  endif()
  foreach(f IN LISTS C_SOURCES)
    set_property(GLOBAL APPEND PROPERTY HV_CLI_SOURCES ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY HV_CLI_LIBS ${C_LIBS})
  set_property(GLOBAL APPEND PROPERTY HV_CLI_COMMANDS "${C_NAME}|${C_FUNC}|${C_HELP}|${C_TABLE}")
endfunction()

# hv_bench_area(NAME name FUNC c_function HELP "one line" SOURCES files... [LIBS libs...]
#               [DEFINES defs...])
# Registers `hivewire-bench <name>`; c_function: int f(const hv_bench_opts *opts). The sources,
# libraries (the peers) and definitions go into hivewire-bench only, never into hivewire.
function(hv_bench_area)
  cmake_parse_arguments(B "" "NAME;FUNC;HELP" "SOURCES;LIBS;DEFINES" ${ARGN})
  foreach(f IN LISTS B_SOURCES)
    set_property(GLOBAL APPEND PROPERTY HV_BENCH_SOURCES ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY HV_BENCH_LIBS ${B_LIBS})
  set_property(GLOBAL APPEND PROPERTY HV_BENCH_DEFINES ${B_DEFINES})
  set_property(GLOBAL APPEND PROPERTY HV_BENCH_AREAS "${B_NAME}|${B_FUNC}|${B_HELP}")
endfunction()

# hv_add_fuzzer(NAME n SOURCES files... CORPUS dir)
# In a HV_FUZZ build: a libFuzzer binary fuzz_<n>. In every build: a CTest test that replays
# the seed corpus through the same harness (fuzz/driver.c provides main), so the corpus stays
# green under ASan/UBSan even where libFuzzer is not available.
function(hv_add_fuzzer)
  cmake_parse_arguments(F "" "NAME;CORPUS" "SOURCES" ${ARGN})
  set(srcs "")
  foreach(f IN LISTS F_SOURCES)
    list(APPEND srcs ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  if(HV_FUZZ)
    add_executable(fuzz_${F_NAME} ${srcs})
    target_compile_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer)
    target_include_directories(fuzz_${F_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(fuzz_${F_NAME} PRIVATE hivewire_static)
    set_property(GLOBAL APPEND PROPERTY HV_FUZZERS "${F_NAME}|${PROJECT_SOURCE_DIR}/${F_CORPUS}")
  else()
    add_executable(fuzzreplay_${F_NAME} ${srcs} ${PROJECT_SOURCE_DIR}/fuzz/driver.c)
    target_include_directories(fuzzreplay_${F_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(fuzzreplay_${F_NAME} PRIVATE hivewire_static)
    add_test(NAME fuzzreplay_${F_NAME}
             COMMAND fuzzreplay_${F_NAME} ${PROJECT_SOURCE_DIR}/${F_CORPUS})
    set_tests_properties(fuzzreplay_${F_NAME} PROPERTIES TIMEOUT 300 LABELS "fuzzreplay")
  endif()
endfunction()

# Writes content to path only when it changed (no rebuild of what includes an unchanged file).
function(hv_write_generated path content)
  file(WRITE ${path}.tmp "${content}")
  configure_file(${path}.tmp ${path} COPYONLY)
endfunction()

# Generates the CLI's command table and the benchmarks' area table, and builds `hivewire`, its
# man page and bash completion, and `hivewire-bench`.
function(hv_finish_cli)
  get_property(cmds GLOBAL PROPERTY HV_CLI_COMMANDS)
  get_property(benches GLOBAL PROPERTY HV_BENCH_AREAS)
  get_property(srcs GLOBAL PROPERTY HV_CLI_SOURCES)
  get_property(libs GLOBAL PROPERTY HV_CLI_LIBS)
  get_property(bench_srcs GLOBAL PROPERTY HV_BENCH_SOURCES)
  get_property(bench_libs GLOBAL PROPERTY HV_BENCH_LIBS)
  get_property(bench_defs GLOBAL PROPERTY HV_BENCH_DEFINES)
  get_property(fuzzers GLOBAL PROPERTY HV_FUZZERS)
  set(decl "")
  set(cmd_rows "")
  foreach(c IN LISTS cmds)
    string(REPLACE "|" ";" parts "${c}")
    list(GET parts 0 n)
    list(GET parts 1 fn)
    list(GET parts 2 help)
    list(GET parts 3 table)
    string(APPEND decl "int ${fn}(int argc, char **argv);\n")
    if(table STREQUAL "spec")
      string(APPEND decl "extern const hv_cli_spec *const hv__cmd_spec_${n};\n")
      string(APPEND cmd_rows "    { \"${n}\", ${fn}, \"${help}\", &hv__cmd_spec_${n}, NULL },\n")
    else()
      string(APPEND decl "extern const hv_cli_group *const hv__cmd_group_${n};\n")
      string(APPEND cmd_rows "    { \"${n}\", ${fn}, \"${help}\", NULL, &hv__cmd_group_${n} },\n")
    endif()
  endforeach()
  hv_write_generated(${CMAKE_BINARY_DIR}/generated/cli_tables.h
"/* Generated by cmake/hivewire.cmake from the areas' registrations. Do not edit. */
#include \"cli/cli.h\"
#include \"cli/opts.h\"

${decl}
static const struct hv_cli_cmd hv_cli_cmds[] = {
${cmd_rows}    { NULL, NULL, NULL, NULL, NULL }
};
")
  set(decl "")
  set(bench_rows "")
  set(area_rows "")
  foreach(b IN LISTS benches)
    string(REPLACE "|" ";" parts "${b}")
    list(GET parts 0 n)
    list(GET parts 1 fn)
    list(GET parts 2 help)
    string(APPEND decl "int ${fn}(const struct hv_bench_opts *opts);\n")
    string(APPEND bench_rows "    { \"${n}\", ${fn}, \"${help}\" },\n")
    string(APPEND area_rows "    { \"${n}\", \"${help}\" },\n")
  endforeach()
  # The areas by name, for hivewire's own help, man page and completion (it links no benchmark).
  hv_write_generated(${CMAKE_BINARY_DIR}/generated/bench_areas.h
"/* Generated by cmake/hivewire.cmake from the areas' registrations. Do not edit. */
static const struct hv_cli_area {
    const char *name, *help;
} hv_cli_bench_areas[] = {
${area_rows}    { NULL, NULL }
};
")
  hv_write_generated(${CMAKE_BINARY_DIR}/generated/bench_tables.h
"/* Generated by cmake/hivewire.cmake from the areas' registrations. Do not edit. */
#include \"cli/cli.h\"

struct hv_bench_opts;
${decl}
static const struct hv_cli_bench hv_cli_benches[] = {
${bench_rows}    { NULL, NULL, NULL }
};
")

  # The commands, as a static library: hivewire takes them all; hivewire-bench only the helpers
  # a benchmark calls (the swarm over processes, the observer).
  add_library(hivewire_cli STATIC ${PROJECT_SOURCE_DIR}/src/cli/cli.c
                                  ${PROJECT_SOURCE_DIR}/src/cli/bench_spec.c ${srcs})
  target_include_directories(hivewire_cli PUBLIC ${CMAKE_BINARY_DIR}/generated
                                                 ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(hivewire_cli PUBLIC hivewire_static ${libs})

  add_executable(hivewire ${PROJECT_SOURCE_DIR}/src/cli/main.c ${PROJECT_SOURCE_DIR}/src/cli/doc.c)
  target_link_libraries(hivewire PRIVATE hivewire_cli)

  # The man page and the bash completion, generated from the commands' option tables.
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/hivewire.1 ${CMAKE_BINARY_DIR}/hivewire.bash
                     COMMAND hivewire help --man > ${CMAKE_BINARY_DIR}/hivewire.1
                     COMMAND hivewire help --bash-completion > ${CMAKE_BINARY_DIR}/hivewire.bash
                     DEPENDS hivewire
                     COMMENT "hivewire.1 and hivewire.bash from the option tables")
  add_custom_target(hivewire_docs ALL DEPENDS ${CMAKE_BINARY_DIR}/hivewire.1
                                              ${CMAKE_BINARY_DIR}/hivewire.bash)

  add_executable(hivewire-bench ${PROJECT_SOURCE_DIR}/bench/main.c
                                ${PROJECT_SOURCE_DIR}/bench/bench.c
                                ${PROJECT_SOURCE_DIR}/bench/alloc_count.c ${bench_srcs})
  target_include_directories(hivewire-bench PRIVATE ${PROJECT_SOURCE_DIR}/bench)
  target_compile_definitions(hivewire-bench PRIVATE ${bench_defs})
  target_link_libraries(hivewire-bench PRIVATE hivewire_cli ${bench_libs})
  # Every benchmark area must at least run: a --quick smoke test (not a measurement, asserts no
  # speed) in the normal and ASan builds.
  if(NOT HV_SANITIZE STREQUAL "thread")
    foreach(b IN LISTS benches)
      string(REPLACE "|" ";" parts "${b}")
      list(GET parts 0 n)
      add_test(NAME bench_smoke_${n} COMMAND hivewire-bench ${n} --quick --json)
      set_tests_properties(bench_smoke_${n} PROPERTIES TIMEOUT 300 LABELS "benchsmoke")
    endforeach()
  endif()
  # The list of fuzzers for scripts/run-fuzzers.
  set(rows "")
  foreach(f IN LISTS fuzzers)
    string(APPEND rows "${f}\n")
  endforeach()
  file(WRITE ${CMAKE_BINARY_DIR}/fuzzers.txt "${rows}")
endfunction()
