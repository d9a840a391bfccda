#!/bin/sh
# The same trade list hash from every way of running the swarm on the real series:
# the single-thread runner, a thread per agent, and the simulator without faults.
# Usage: same_trades.sh HIVEWIRE SOURCE_DIR
set -eu
hw=$1
data=$2/data/sp500-2000.csv
if [ ! -r "$data" ]; then
  if [ "${HV_REQUIRE_DATA:-0}" = 1 ]; then echo "missing $data (run scripts/fetch-data)"; exit 1; fi
  echo "skipped: $data not fetched (run scripts/fetch-data)"; exit 0
fi
hash() { sed -n 's/^trade list hash *//p'; }
one=$("$hw" run --data "$data" --seed 7 --runner one --no-report --no-progress --quiet | hash)
threads=$("$hw" run --data "$data" --seed 7 --runner threads --no-report --no-progress --quiet | hash)
sim=$("$hw" sim swarm --data "$data" --seed 7 | hash)
echo "runner one: $one, runner threads: $threads, sim swarm: $sim"
[ -n "$one" ] && [ "$one" = "$threads" ] && [ "$one" = "$sim" ] && echo "same trades"
