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

# hv_cli_command(NAME name FUNC c_function HELP "one line" SOURCES files... [LIBS libs...])
# Registers `hivewire <name>`; c_function has the signature int f(int argc, char **argv)
# (argv[0] is the command name) and returns the process exit code.
function(hv_cli_command)
  cmake_parse_arguments(C "" "NAME;FUNC;HELP" "SOURCES;LIBS" ${ARGN})
  foreach(f IN LISTS C_SOURCES)
    set_property(GLOBAL APPEND PROPERTY HV_CLI_SOURCES ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY HV_CLI_LIBS ${C_LIBS})
  set_property(GLOBAL APPEND PROPERTY HV_CLI_COMMANDS "${C_NAME}|${C_FUNC}|${C_HELP}")
endfunction()

# hv_bench_area(NAME name FUNC c_function HELP "one line" SOURCES files... [LIBS libs...]
#               [DEFINES defs...])
# Registers `hivewire bench <name>`; c_function: int f(const hv_bench_opts *opts).
function(hv_bench_area)
  cmake_parse_arguments(B "" "NAME;FUNC;HELP" "SOURCES;LIBS;DEFINES" ${ARGN})
  foreach(f IN LISTS B_SOURCES)
    set_property(GLOBAL APPEND PROPERTY HV_CLI_SOURCES ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY HV_CLI_LIBS ${B_LIBS})
  set_property(GLOBAL APPEND PROPERTY HV_CLI_DEFINES ${B_DEFINES})
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

# Generates the CLI's command and bench tables and builds the `hivewire` executable.
function(hv_finish_cli)
  get_property(cmds GLOBAL PROPERTY HV_CLI_COMMANDS)
  get_property(benches GLOBAL PROPERTY HV_BENCH_AREAS)
  get_property(srcs GLOBAL PROPERTY HV_CLI_SOURCES)
  get_property(libs GLOBAL PROPERTY HV_CLI_LIBS)
  get_property(defs GLOBAL PROPERTY HV_CLI_DEFINES)
  get_property(fuzzers GLOBAL PROPERTY HV_FUZZERS)
  set(decl "")
  set(cmd_rows "")
  foreach(c IN LISTS cmds)
    string(REPLACE "|" ";" parts "${c}")
    list(GET parts 0 n)
    list(GET parts 1 fn)
    list(GET parts 2 help)
    string(APPEND decl "int ${fn}(int argc, char **argv);\n")
    string(APPEND cmd_rows "    { \"${n}\", ${fn}, \"${help}\" },\n")
  endforeach()
  set(bench_rows "")
  foreach(b IN LISTS benches)
    string(REPLACE "|" ";" parts "${b}")
    list(GET parts 0 n)
    list(GET parts 1 fn)
    list(GET parts 2 help)
    string(APPEND decl "int ${fn}(const struct hv_bench_opts *opts);\n")
    string(APPEND bench_rows "    { \"${n}\", ${fn}, \"${help}\" },\n")
  endforeach()
  file(WRITE ${CMAKE_BINARY_DIR}/generated/cli_tables.h.tmp
"/* Generated by cmake/hivewire.cmake from the areas' registrations. Do not edit. */
struct hv_bench_opts;
${decl}
static const struct hv_cli_cmd hv_cli_cmds[] = {
${cmd_rows}    { NULL, NULL, NULL }
};
static const struct hv_cli_bench hv_cli_benches[] = {
${bench_rows}    { NULL, NULL, NULL }
};
")
  configure_file(${CMAKE_BINARY_DIR}/generated/cli_tables.h.tmp
                 ${CMAKE_BINARY_DIR}/generated/cli_tables.h COPYONLY)
  add_executable(hivewire ${PROJECT_SOURCE_DIR}/src/cli/main.c ${PROJECT_SOURCE_DIR}/src/cli/cli.c
                          ${PROJECT_SOURCE_DIR}/bench/bench.c ${PROJECT_SOURCE_DIR}/bench/alloc_count.c
                          ${srcs})
  target_include_directories(hivewire PRIVATE ${CMAKE_BINARY_DIR}/generated ${PROJECT_SOURCE_DIR}/src
                                              ${PROJECT_SOURCE_DIR}/bench ${PROJECT_SOURCE_DIR})
  target_compile_definitions(hivewire PRIVATE ${defs})
  target_link_libraries(hivewire PRIVATE hivewire_static ${libs})
  # Every benchmark area must at least run: a --quick smoke test (not a measurement, asserts no
  # speed) in the normal and ASan builds.
  if(NOT HV_SANITIZE STREQUAL "thread")
    foreach(b IN LISTS benches)
      string(REPLACE "|" ";" parts "${b}")
      list(GET parts 0 n)
      add_test(NAME bench_smoke_${n} COMMAND hivewire bench ${n} --quick --json)
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
