#!/bin/sh
# hivewire run --replicas 3 on the real series: the same trade list hash as the run without a
# log; every replica's log verifies from disk to the same state hash and the same trades.
# Usage: replicas.sh HIVEWIRE SOURCE_DIR WORK_DIR
set -eu
hw=$1
data=$2/data/sp500-2000.csv
dir=$3/replicas-test
if [ ! -r "$data" ]; then
  if [ "${HV_REQUIRE_DATA:-0}" = 1 ]; then echo "missing $data (run scripts/fetch-data)"; exit 1; fi
  echo "skipped: $data not fetched (run scripts/fetch-data)"; exit 0
fi
rm -rf "$dir"
hash() { sed -n 's/^trade list hash *//p' | head -1; }
plain=$("$hw" run --data "$data" --seed 7 --no-report --no-progress --quiet | hash)
"$hw" run --data "$data" --seed 7 --no-report --no-progress --quiet --replicas 3 \
  --data-dir "$dir" > "$dir.out"
replicated=$(hash < "$dir.out")
echo "without a log: $plain, with 3 replicas: $replicated"
[ -n "$plain" ] && [ "$plain" = "$replicated" ] || { echo "different trades"; exit 1; }
states=""
for k in 1 2 3; do
  "$hw" log verify --data-dir "$dir/replica-$k" > "$dir.verify$k" || {
    cat "$dir.verify$k"; echo "replica $k does not verify"; exit 1; }
  grep -q "^trade list hash $plain" "$dir.verify$k" || { echo "replica $k: other trades"; exit 1; }
  states="$states $(sed -n 's/^state hash *//p' "$dir.verify$k")"
done
echo "state hashes:$states"
set -- $states
[ "$1" = "$2" ] && [ "$1" = "$3" ] || { echo "the replicas differ"; exit 1; }
rm -rf "$dir" "$dir".*
# --json: stdout is the JSON document alone, the replicas' lines go to stderr; with
# --snapshot-every 128 each replica's directory holds a snapshot and still verifies
"$hw" run --synthetic 200 --seed 7 --no-report --replicas 3 --data-dir "$dir" --json \
  --snapshot-every 128 > "$dir.json" 2> "$dir.err"
[ "$(head -c 1 "$dir.json")" = "{" ] && [ "$(tail -n 1 "$dir.json")" = "}" ] &&
  ! grep -q "^replica" "$dir.json" || { echo "--json: stdout is not one JSON document"; exit 1; }
[ "$(grep -c "^replica [123]" "$dir.err")" = 3 ] || { echo "--json: no replica lines on stderr"; exit 1; }
for k in 1 2 3; do
  "$hw" log verify --data-dir "$dir/replica-$k" > "$dir.verify$k" || {
    cat "$dir.verify$k"; echo "replica $k does not verify after snapshots"; exit 1; }
  grep -q "^snapshot        entry [0-9]" "$dir.verify$k" || {
    cat "$dir.verify$k"; echo "replica $k: no snapshot with --snapshot-every 128"; exit 1; }
done
rm -rf "$dir" "$dir".*
echo "same trades, same state"
