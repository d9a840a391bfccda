# The library as its users get it (docs/API.md): install rules, a relocatable pkg-config file and
# a CMake package (find_package(hivewire) with imported targets), the public headers from C++,
# the examples, and a test that installs into a temporary prefix and builds consumers against it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# ---- Install: libraries, headers, programs, pkg-config file, CMake package ----------------------

# The shared library hides its dependencies (the public headers need none of them); the static
# one passes them on to whoever links it.
get_target_property(_hv_deps hivewire_obj INTERFACE_LINK_LIBRARIES)
target_link_libraries(hivewire_static INTERFACE ${_hv_deps})
target_link_libraries(hivewire_shared PRIVATE ${_hv_deps})
set_target_properties(hivewire_static PROPERTIES EXPORT_NAME hivewire_static)
set_target_properties(hivewire_shared PROPERTIES EXPORT_NAME hivewire)

# The pkg-config modules behind the PkgConfig:: targets the library links: the pkg-config
# file's Requires.private, and what the CMake package looks up for hivewire::hivewire_static.
# An area that links a new module adds it here (configuring stops until it does).
set(HV_PKG_MODULES SODIUM=libsodium LZ4=liblz4 JANSSON=jansson
                   "NGTCP2=libngtcp2 libngtcp2_crypto_gnutls" GNUTLS=gnutls LIBUV=libuv RAFT=raft)
set(HV_PC_REQUIRES "")
set(HV_CONFIG_DEPS "")
foreach(m IN LISTS HV_PKG_MODULES)
  string(REGEX REPLACE "=.*" "" _prefix "${m}")
  string(REGEX REPLACE "^[^=]*=" "" _mods "${m}")
  string(APPEND HV_PC_REQUIRES " ${_mods}")
  string(APPEND HV_CONFIG_DEPS
         "  pkg_check_modules(${_prefix} QUIET IMPORTED_TARGET ${_mods})\n")
  list(APPEND _hv_known PkgConfig::${_prefix})
endforeach()
foreach(d IN LISTS _hv_deps)
  if(d MATCHES "^PkgConfig::" AND NOT d IN_LIST _hv_known)
    message(FATAL_ERROR "cmake/install.cmake: add the pkg-config module of ${d} to HV_PKG_MODULES")
  endif()
endforeach()
string(STRIP "${HV_PC_REQUIRES}" HV_PC_REQUIRES)

install(TARGETS hivewire_static hivewire_shared EXPORT hivewireTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS hivewire hivewire-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_BINARY_DIR}/hivewire.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_BINARY_DIR}/hivewire.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME hivewire)
install(DIRECTORY include/hivewire DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The data: the script that fetches it, and the files themselves when this tree has them
# (hivewire run looks in PREFIX/share/hivewire/data; docs/REPORT.md, "Where the data is found").
install(PROGRAMS scripts/fetch-data DESTINATION ${CMAKE_INSTALL_DATADIR}/hivewire)
install(FILES data/sp500-2000.csv data/stocks.csv DESTINATION ${CMAKE_INSTALL_DATADIR}/hivewire/data
        OPTIONAL)

# pkg-config: prefix is found from the .pc file's own place, so the tree can be moved or installed
# with `cmake --install --prefix DIR` (what `make install PREFIX=DIR` does).
set(_hv_pcdir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH HV_PC_TO_PREFIX /${_hv_pcdir} /)
string(REGEX REPLACE "/$" "" HV_PC_TO_PREFIX "${HV_PC_TO_PREFIX}")
configure_file(cmake/hivewire.pc.in ${CMAKE_BINARY_DIR}/hivewire.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/hivewire.pc DESTINATION ${_hv_pcdir})

# CMake: hivewire::hivewire (shared) and hivewire::hivewire_static.
set(_hv_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/hivewire)
install(EXPORT hivewireTargets NAMESPACE hivewire:: DESTINATION ${_hv_cmakedir})
configure_package_config_file(cmake/hivewireConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/hivewireConfig.cmake
                              INSTALL_DESTINATION ${_hv_cmakedir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/hivewireConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/hivewireConfig.cmake
              ${CMAKE_BINARY_DIR}/hivewireConfigVersion.cmake
        DESTINATION ${_hv_cmakedir})
# Inside this build the same names work (the examples use them).
add_library(hivewire::hivewire ALIAS hivewire_shared)
add_library(hivewire::hivewire_static ALIAS hivewire_static)

# A library installed where the dynamic loader looks needs its cache refreshed: done here when
# installing as root into a directory ld.so.conf lists; otherwise the install says what to do.
install(CODE "
  set(_libdir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
  execute_process(COMMAND sh -c \"ldconfig -v -N 2>/dev/null | grep -qx \\\"\${_libdir}:.*\\\"\"
                  RESULT_VARIABLE _listed)
  execute_process(COMMAND id -u OUTPUT_VARIABLE _uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_listed EQUAL 0 AND _uid STREQUAL \"0\")
    execute_process(COMMAND ldconfig)
    message(STATUS \"hivewire: ran ldconfig for \${_libdir}\")
  elseif(_listed EQUAL 0)
    message(STATUS \"hivewire: run 'sudo ldconfig' so programs find libhivewire.so\")
  else()
    message(STATUS \"hivewire: \${_libdir} is not a system library directory: link with \"
                   \"-Wl,-rpath,\${_libdir} or set LD_LIBRARY_PATH to run programs against \"
                   \"libhivewire.so\")
  endif()")

# ---- The public headers from C++ -----------------------------------------------------------------

# Every public struct, from the headers, for the layout comparison (a new struct is covered
# without editing the test).
set(_hv_types "")
file(GLOB _hv_headers ${PROJECT_SOURCE_DIR}/include/hivewire/*.h)
list(SORT _hv_headers)
foreach(h IN LISTS _hv_headers)
  file(STRINGS ${h} _lines REGEX "^typedef struct hv_[a-z0-9_]+ {")
  foreach(l IN LISTS _lines)
    string(REGEX REPLACE "^typedef struct (hv_[a-z0-9_]+) {.*" "\\1" _t "${l}")
    string(APPEND _hv_types " \\\n    X(${_t})")
  endforeach()
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/generated/hv_api_types.h.tmp
     "/* Generated by cmake/install.cmake from the public headers. Do not edit. */\n"
     "#define HV_API_TYPES(X)${_hv_types}\n")
configure_file(${CMAKE_BINARY_DIR}/generated/hv_api_types.h.tmp
               ${CMAKE_BINARY_DIR}/generated/hv_api_types.h COPYONLY)

include(CheckLanguage)
check_language(CXX)
# The libFuzzer build compiles with clang's fuzzer flags, which g++ does not take.
if(CMAKE_CXX_COMPILER AND NOT HV_FUZZ)
  enable_language(CXX)
  set(_hv_cxx_srcs ${PROJECT_SOURCE_DIR}/tests/api/cxx_test.cpp
                   ${PROJECT_SOURCE_DIR}/tests/api/layout.c)
  foreach(h IN LISTS _hv_headers)
    get_filename_component(_n ${h} NAME_WE)
    set(_f ${CMAKE_BINARY_DIR}/generated/cxx/hdr_${_n}.cpp)
    file(WRITE ${_f}.tmp "// Generated: <hivewire/${_n}.h> alone in a C++ translation unit.\n"
                         "#include <hivewire/${_n}.h>\n")
    configure_file(${_f}.tmp ${_f} COPYONLY)
    list(APPEND _hv_cxx_srcs ${_f})
  endforeach()
  add_executable(test_api_cxx ${_hv_cxx_srcs})
  set_target_properties(test_api_cxx PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
                                                CXX_EXTENSIONS OFF)
  # The C-only warnings of the project's flags do not apply to C++.
  get_target_property(_opts test_api_cxx COMPILE_OPTIONS)
  list(REMOVE_ITEM _opts -Wstrict-prototypes -Wmissing-prototypes)
  set_target_properties(test_api_cxx PROPERTIES COMPILE_OPTIONS "${_opts}")
  target_compile_options(test_api_cxx PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wpedantic>)
  target_include_directories(test_api_cxx PRIVATE ${CMAKE_BINARY_DIR}/generated
                                                  ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(test_api_cxx PRIVATE hivewire_static)
  add_test(NAME api_cxx_headers COMMAND test_api_cxx)
  set_tests_properties(api_cxx_headers PROPERTIES TIMEOUT 60 LABELS "unit")
endif()

# ---- Examples ----------------------------------------------------------------------------------

# Built here against the library just built, and run by CTest (examples/CMakeLists.txt); the
# install test builds them again against an installed tree.
add_subdirectory(examples)

# ---- The install test ----------------------------------------------------------------------------

# Not in the sanitizer and fuzzing builds: their libraries need the sanitizers' runtimes in
# every consumer.
if(NOT HV_SANITIZE AND NOT HV_FUZZ)
  add_test(NAME install_consumers
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/install/install_test.sh ${CMAKE_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER} ${CMAKE_COMMAND})
  set_tests_properties(install_consumers PROPERTIES TIMEOUT 600 LABELS "unit;install"
                       PASS_REGULAR_EXPRESSION "install_test: installed")
endif()
