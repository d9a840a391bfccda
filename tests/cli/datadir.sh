#!/bin/sh
# Where `hivewire` finds its default data (src/cli/sim.c): in $HIVEWIRE_DATA, in ./data, and in
# PREFIX/share/hivewire/data next to an installed PREFIX/bin/hivewire; when it is nowhere, the
# message names the command that fetches it. Builds a throwaway prefix with a copy of the binary.
#
# usage: datadir.sh HIVEWIRE CSV WORK_DIR   (CSV: a small valid bar file)
set -u
hw=$1 csv=$2 work=$3
rm -rf "$work"
mkdir -p "$work/prefix/bin" "$work/prefix/share/hivewire/data" "$work/env" "$work/cwd/data" \
    "$work/empty" || exit 1
cp "$hw" "$work/prefix/bin/hivewire" || exit 1
bin=$work/prefix/bin/hivewire
fail=0
check() { # name, expected text, output
    if printf '%s\n' "$3" | grep -F -q -e "$2"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: wanted '$2' in:"
        printf '%s\n' "$3"
        fail=1
    fi
}

# Nowhere: the places looked in, and the command to run (no fetch script installed here).
out=$(cd "$work/empty" && env -u HIVEWIRE_DATA "$bin" backtest --quiet 2>&1)
check "nowhere" "cannot find sp500-2000.csv: looked in ./data, $work/prefix/share/hivewire/data" "$out"
check "nowhere: the fetch command" "fetch it with scripts/fetch-data [DIR]" "$out"

# An installed fetch script is named, with the directory the lookup reads.
printf '#!/bin/sh\nexit 0\n' >"$work/prefix/share/hivewire/fetch-data"
chmod +x "$work/prefix/share/hivewire/fetch-data"
out=$(cd "$work/empty" && env -u HIVEWIRE_DATA "$bin" backtest --quiet 2>&1)
check "installed fetch script" \
    "fetch it with: $work/prefix/share/hivewire/fetch-data $work/prefix/share/hivewire/data" "$out"
out=$(cd "$work/empty" && HIVEWIRE_DATA=$work/env "$bin" backtest --quiet 2>&1)
check "fetch into HIVEWIRE_DATA" "fetch it with: $work/prefix/share/hivewire/fetch-data $work/env" "$out"

# Found in the installed data directory, then ./data before it, then $HIVEWIRE_DATA first.
cp "$csv" "$work/prefix/share/hivewire/data/sp500-2000.csv"
out=$(cd "$work/empty" && env -u HIVEWIRE_DATA "$bin" run --no-report --quiet --wide 2>&1)
check "installed data" "$work/prefix/share/hivewire/data/sp500-2000.csv, 299 bars" "$out"
cp "$csv" "$work/cwd/data/sp500-2000.csv"
out=$(cd "$work/cwd" && env -u HIVEWIRE_DATA "$bin" run --no-report --quiet --wide 2>&1)
check "./data first" "data/sp500-2000.csv, 299 bars" "$out"
cp "$csv" "$work/env/sp500-2000.csv"
out=$(cd "$work/cwd" && HIVEWIRE_DATA=$work/env "$bin" run --no-report --quiet --wide 2>&1)
check "HIVEWIRE_DATA first" "$work/env/sp500-2000.csv, 299 bars" "$out"

rm -rf "$work"
[ $fail -eq 0 ] && echo "data lookup: all places checked"
exit $fail
