#!/bin/sh
# `make install` as a user meets it: installs this build into a temporary prefix, moves the
# tree elsewhere (the pkg-config file and the CMake package are relocatable), then builds the
# examples against it with pkg-config (shared and static) and with find_package(hivewire)
# (shared, and a consumer of hivewire::hivewire_static), and runs them. Also: the man page and
# the completion are installed; the installed hivewire links no benchmark peer and no malloc
# shim, and runs the hivewire-bench installed beside it.
#
# usage: install_test.sh BUILD_DIR SOURCE_DIR C_COMPILER CMAKE
set -u
build=$1 src=$2 cc=$3 cmake=$4
work=$build/install-test
rm -rf "$work"
mkdir -p "$work" || exit 1
fail() {
    echo "install_test: $*"
    exit 1
}

"$cmake" --install "$build" --prefix "$work/first" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "cmake --install failed"; }
mv "$work/first" "$work/prefix" || exit 1
p=$work/prefix
libdir=$(ls -d "$p"/lib*/pkgconfig | sed 's|/pkgconfig$||')

for f in bin/hivewire bin/hivewire-bench include/hivewire/hivewire.h include/hivewire/net.h \
    share/man/man1/hivewire.1 share/bash-completion/completions/hivewire; do
    [ -e "$p/$f" ] || fail "not installed: $f"
done
for f in libhivewire.so libhivewire.a pkgconfig/hivewire.pc cmake/hivewire/hivewireConfig.cmake; do
    [ -e "$libdir/$f" ] || fail "not installed: ${libdir#"$p"/}/$f"
done

# The installed CLI: no benchmark peer, no allocation-counting malloc, and bench runs the
# hivewire-bench beside it.
deps=$(ldd "$p/bin/hivewire") || fail "ldd hivewire"
for peer in libzmq libmsgpackc libprotobuf-c libnats libck; do
    printf '%s\n' "$deps" | grep -q "$peer" && fail "the installed hivewire links $peer"
done
nm -D --defined-only "$p/bin/hivewire" | grep -qw malloc && fail "the installed hivewire defines malloc"
"$p/bin/hivewire" bench --help | grep -q 'usage: hivewire-bench' ||
    fail "hivewire bench does not run the installed hivewire-bench"

examples="bus_two_agents codec_frame consensus_round dtw_search var"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags hivewire) || fail "pkg-config --cflags hivewire"
libs=$(pkg-config --libs hivewire) || fail "pkg-config --libs hivewire"
# libhivewire.a with its dependencies' shared libraries: the modules of Requires.private (the
# system has shared libraries of them, not always static ones of theirs).
static_libs=$(pkg-config --libs $(pkg-config --print-requires-private hivewire)) ||
    fail "pkg-config: the modules of hivewire's Requires.private"
mkdir -p "$work/pc"
for ex in $examples; do
    # shellcheck disable=SC2086
    "$cc" -std=c11 -Wall -Wextra -Werror $cflags "$src/examples/$ex.c" $libs -lm \
        -Wl,-rpath,"$libdir" -o "$work/pc/$ex" || fail "pkg-config build of $ex"
    "$work/pc/$ex" >"$work/pc/$ex.out" || fail "$ex (pkg-config, shared) exits $?"
done
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror $cflags "$src/examples/consensus_round.c" \
    "$libdir/libhivewire.a" $static_libs -lpthread -lm -o "$work/pc/consensus_round_static" ||
    fail "static pkg-config build"
"$work/pc/consensus_round_static" >/dev/null || fail "consensus_round (static) exits $?"

# find_package(hivewire): the examples' own project, and a consumer of the static library.
"$cmake" -S "$src/examples" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$p" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_RPATH="$libdir" >"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log"; fail "configuring the examples with find_package(hivewire)"; }
"$cmake" --build "$work/cmake" >>"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log"; fail "building the examples with find_package(hivewire)"; }
(cd "$work/cmake" && ctest --output-on-failure >>"$work/cmake.log" 2>&1) ||
    { cat "$work/cmake.log"; fail "the examples built with find_package(hivewire) fail"; }

mkdir -p "$work/static-src"
cat >"$work/static-src/CMakeLists.txt" <<EOT
cmake_minimum_required(VERSION 3.25)
project(hivewire_static_consumer LANGUAGES C)
find_package(hivewire 0.1 REQUIRED)
add_executable(var_static "$src/examples/var.c")
target_link_libraries(var_static PRIVATE hivewire::hivewire_static)
EOT
"$cmake" -S "$work/static-src" -B "$work/static" -DCMAKE_PREFIX_PATH="$p" \
    -DCMAKE_C_COMPILER="$cc" >"$work/static.log" 2>&1 &&
    "$cmake" --build "$work/static" >>"$work/static.log" 2>&1 ||
    { cat "$work/static.log"; fail "a consumer of hivewire::hivewire_static"; }
"$work/static/var_static" >/dev/null || fail "var (hivewire::hivewire_static) exits $?"

echo "install_test: installed, moved, and 5 examples built and run with pkg-config and" \
    "find_package(hivewire), shared and static"
