#!/bin/sh
# Runs one row of a CLI case table (tests/cli/cases/*.cases) and checks its exit code and
# output. CTest runs one test per row (src/cli/area.cmake), in every build, so the rows run
# under ASan+UBSan too.
#
# usage: run_case.sh HIVEWIRE GEN DATA_DIR WORK_DIR CASE_FILE NAME
#
# A row, with shell quoting (the line after the name is evaluated by `set --`):
#
#   NAME  EXIT  PATTERN... -- ARG...
#
#   EXIT     the exit code hivewire must return (0, 1 or 2)
#   PATTERN  text that stdout+stderr must contain; 're:X' is an extended regex that must
#            match a line; '!X' is text that must not appear; 'cols:N': no line of stdout is
#            longer than N characters
#   ARG      hivewire's arguments, where
#              @DATA@            is tests/cli/data (copies of the repro files)
#              @TMP@             is an empty directory of this case
#              @GEN:KIND:N@      is a file `hv_test_gen KIND N` writes (made once, cached)
#              '<PATH'           (a whole argument, quoted) feeds PATH on standard input
set -u

hw=$1 gen=$2 data=$3 work=$4 cases=$5 name=$6

line=$(grep -E "^$name[[:space:]]" "$cases")
if [ -z "$line" ] || [ "$(printf '%s\n' "$line" | wc -l)" -ne 1 ]; then
    echo "run_case: no single row named $name in $cases"
    exit 1
fi

tmp=$work/tmp/$name
gendir=$work/gen
rm -rf "$tmp"
mkdir -p "$tmp" "$gendir" || exit 1

# A generated input, made once per build tree (written aside, then renamed, so tests running
# in parallel never read half a file).
generated() {
    spec=$1
    kind=${spec%%:*}
    n=${spec#*:}
    file=$gendir/$kind-$n.csv
    if [ ! -f "$file" ]; then
        part=$file.part.$$
        if [ "$kind" = sparse ]; then
            "$gen" sparse "$n" "$part" || exit 1
        else
            "$gen" "$kind" "$n" >"$part" || exit 1
        fi
        mv -f "$part" "$file" || exit 1
    fi
    printf '%s' "$file"
}

expand() {
    a=$1
    case $a in
    *@GEN:*@*)
        pre=${a%%@GEN:*}
        rest=${a#*@GEN:}
        spec=${rest%%@*}
        post=${rest#*@}
        a=$pre$(generated "$spec")$post
        ;;
    esac
    a=$(printf '%s' "$a" | sed -e "s|@DATA@|$data|g" -e "s|@TMP@|$tmp|g")
    printf '%s' "$a"
}

eval "set -- $line"
shift 1
want=$1
shift 1

: >"$tmp/.patterns"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    printf '%s\n' "$1" >>"$tmp/.patterns"
    shift
done
if [ $# -eq 0 ]; then
    echo "run_case: $name: no '--' before the arguments"
    exit 1
fi
shift

stdin=/dev/null
n=$#
for a in "$@"; do
    a=$(expand "$a") || exit 1
    case $a in
    '<'*) stdin=${a#<} ;;
    *) set -- "$@" "$a" ;;
    esac
done
shift "$n"

"$hw" "$@" <"$stdin" >"$tmp/.stdout" 2>"$tmp/.stderr"
rc=$?
cat "$tmp/.stdout" "$tmp/.stderr" >"$tmp/.out"

fail=0
if [ "$rc" -ne "$want" ]; then
    echo "FAIL: exit code $rc, want $want"
    fail=1
fi
while IFS= read -r p; do
    case $p in
    re:*) grep -E -q -e "${p#re:}" "$tmp/.out" || { echo "FAIL: no line matches /${p#re:}/"; fail=1; } ;;
    '!'*) ! grep -F -q -e "${p#!}" "$tmp/.out" || { echo "FAIL: output contains '${p#!}'"; fail=1; } ;;
    cols:*)
        long=$(awk -v n="${p#cols:}" 'length($0) > n' "$tmp/.stdout" | head -n 3)
        [ -z "$long" ] || { echo "FAIL: stdout lines longer than ${p#cols:} columns:"; echo "$long"; fail=1; } ;;
    *) grep -F -q -e "$p" "$tmp/.out" || { echo "FAIL: output lacks '$p'"; fail=1; } ;;
    esac
done <"$tmp/.patterns"

echo "hivewire $* (exit $rc):"
head -c 4000 "$tmp/.out"
exit $fail
