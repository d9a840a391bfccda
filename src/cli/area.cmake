# cli: the option parser every command uses, and the option rows and loaders the simulated-market
# commands share. main.c and cli.c are added by hv_finish_cli (cmake/hivewire.cmake).
set_property(GLOBAL APPEND PROPERTY HV_CLI_SOURCES ${PROJECT_SOURCE_DIR}/src/cli/opts.c
                                                   ${PROJECT_SOURCE_DIR}/src/cli/sim.c
                                                   ${PROJECT_SOURCE_DIR}/src/cli/report.c
                                                   ${PROJECT_SOURCE_DIR}/src/cli/progress.c)

# The option parser's own tests (every command's spec passes its self-check).
hv_add_test(NAME cli_opts SOURCES tests/cli/opts_test.c src/cli/opts.c src/cli/cli.c)
# The outputs checked before a run; summary rows within 80 columns.
hv_add_test(NAME cli_report SOURCES tests/cli/report_test.c src/cli/report.c src/cli/cli.c
            TIMEOUT 60)

# The table-driven suite of bad inputs and options: one CTest test per row of
# tests/cli/cases/*.cases (format in tests/cli/run_case.sh), run against the hivewire of this
# build (so under ASan+UBSan in the sanitizer build). Any area adds rows by adding lines, or a
# file, there; large inputs come from tests/cli/gen.c at test time.
add_executable(hv_test_gen ${PROJECT_SOURCE_DIR}/tests/cli/gen.c)
target_link_libraries(hv_test_gen PRIVATE hivewire_static)
file(GLOB HV_CLI_CASE_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/cli/cases/*.cases)
foreach(f IN LISTS HV_CLI_CASE_FILES)
  # Only the names are read here (a row's text may hold characters CMake lists treat specially);
  # run_case.sh reads the row itself.
  file(READ ${f} _hv_cases)
  string(REGEX MATCHALL "\n[A-Za-z0-9_]+[ \t]" _hv_names "\n${_hv_cases}")
  foreach(n IN LISTS _hv_names)
    string(STRIP "${n}" n)
    add_test(NAME cli_${n}
             COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/run_case.sh $<TARGET_FILE:hivewire>
                     $<TARGET_FILE:hv_test_gen> ${PROJECT_SOURCE_DIR}/tests/cli/data
                     ${CMAKE_BINARY_DIR}/cli-cases ${f} ${n})
    set_tests_properties(cli_${n} PROPERTIES TIMEOUT 600 LABELS "unit;cli")
  endforeach()
endforeach()

# The generated man page and bash completion list every command, subcommand and option, and
# every one of them answers --help (hivewire help CMD [SUB] too).
add_test(NAME cli_docs
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/docs_test.sh $<TARGET_FILE:hivewire>
                 ${CMAKE_BINARY_DIR}/hivewire.1 ${CMAKE_BINARY_DIR}/hivewire.bash)
set_tests_properties(cli_docs PROPERTIES TIMEOUT 300 LABELS "unit;cli")

# hivewire bench without a hivewire-bench beside hivewire says where to get it (the case rows
# above run the one beside it).
add_test(NAME cli_bench_missing
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/bench_missing.sh $<TARGET_FILE:hivewire>)
set_tests_properties(cli_bench_missing PROPERTIES TIMEOUT 60 LABELS "unit;cli")

# Where the default data is found (in $HIVEWIRE_DATA, ./data, PREFIX/share/hivewire/data next to
# an installed binary), and the command named when it is nowhere.
add_test(NAME cli_data_lookup
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/cli/datadir.sh $<TARGET_FILE:hivewire>
                 ${PROJECT_SOURCE_DIR}/tests/cli/data/F08h_one_zero_price.csv
                 ${CMAKE_BINARY_DIR}/cli-datadir)
set_tests_properties(cli_data_lookup PROPERTIES TIMEOUT 120 LABELS "unit;cli"
                     PASS_REGULAR_EXPRESSION "data lookup: all places checked")
