#!/bin/sh
# `hivewire bench` with no hivewire-bench beside it says where the program comes from, exit 1.
# usage: bench_missing.sh HIVEWIRE
set -u
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cp "$1" "$dir/hivewire" || exit 1
out=$("$dir/hivewire" bench codec --quick 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 1 ] || { echo "bench_missing: exit $rc, want 1"; exit 1; }
printf '%s\n' "$out" | grep -q "hivewire-bench, and there is none in $dir" ||
    { echo "bench_missing: the message does not name hivewire-bench and $dir"; exit 1; }
echo "bench_missing: ok"
