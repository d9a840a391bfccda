#!/bin/sh
# A real failover: three replica processes of the decision log (hivewire coordinator --replica
# K) and the swarm's agents (hivewire agent --connect X,Y,Z) on loopback. Once the run is under
# way (the leader's first progress line), kill -9 of the leader's process:
#   - another replica leads (the time from the kill to its "leads" line is printed) and takes
#     the run over from its log; the agents find it (redirects, the next address) and re-join;
#   - the run completes; every survivor exits 0;
#   - hivewire log verify passes on each survivor's directory, with no divergence and no entry
#     refused (an order executed twice, or a proposal decided twice, would be one);
#   - the survivors' committed entries are identical (hivewire log show, up to the shorter);
#   - the log's trade list hash is the run without a log's, unless the takeover's proposal
#     ended without quorum (then the leader's report names it);
#   - the three replicas started again from their directories (the killed one included, which
#     catches up) end with one state hash, the survivors'.
# Waits are on events (a line from a pipe, a process's exit), bounded by the CTest timeout;
# nothing sleeps.
# Usage: failover.sh HIVEWIRE
set -eu
hw=$1
work=$(mktemp -d /tmp/hivewire-failover-XXXXXX)
pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Heartbeats of 250 ms (an agent or a hub silent for 750 ms is lost) and cycles that stall only
# after 10 s: a loaded machine's hiccups must not stall a cycle and change the trades.
swarm="--synthetic 3000 --seed 7 --heartbeat-ms 250 --cycle-ms 10000"
base=$(( 20000 + $$ % 5000 * 3 ))
peers="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
hubs="127.0.0.1:$((base + 20000)),127.0.0.1:$((base + 20001)),127.0.0.1:$((base + 20002))"
ref=$("$hw" run $swarm --no-report --no-progress --quiet | sed -n 's/^trade list hash *//p')
echo "the run without a log: trade list hash $ref"

mkfifo "$work/events"
exec 3<>"$work/events"
replica() {  # replica K [options]: started in the background, its pid in pid_K
  k=$1; shift
  "$hw" coordinator --replica "$k" --peers "$peers" --listen "$hubs" --data-dir "$work" \
    --certs "$work/certs" $swarm --no-report --progress --wide "$@" \
    > "$work/r$k.out" 2>&3 &
  eval "pid_$k=$!"
  pids="$pids $!"
}
wait_line() {  # wait_line PATTERN: reads events until a line matches; it is in $line
  while read -r line <&3; do
    echo "  | $line"
    case "$line" in $1) return 0 ;; esac
  done
  return 1
}
replica 1 --issue-certs
wait_line "*replica 1 of 3*"  # the certificates exist
replica 2
replica 3
"$hw" agent --agents all --connect "$hubs" --certs "$work/certs" $swarm \
  > "$work/agents.out" 2> "$work/agents.err" &
agents=$!
pids="$pids $agents"
wait_line "*replica [123] leads*"
leader=$(echo "$line" | sed 's/.*replica \([123]\) leads.*/\1/')
while wait_line "*coordinator: [0-9]*/3000 cycles*"; do  # under way: 200 cycles committed
  done=$(echo "$line" | sed 's/.*coordinator: \([0-9]*\)\/3000 cycles.*/\1/')
  [ "$done" -lt 200 ] || break
done
eval "victim=\$pid_$leader"
kill -9 "$victim"
t0=$(date +%s%N)
wait "$victim" 2>/dev/null || true
echo "killed replica $leader (pid $victim)"
wait_line "*replica [123] leads*"
t1=$(date +%s%N)
new=$(echo "$line" | sed 's/.*replica \([123]\) leads.*/\1/')
echo "failover: replica $new leads $(( (t1 - t0) / 1000000 )) ms after the kill" \
  "(election timeout 300 ms; load $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$new" != "$leader" ] || { echo "the killed replica cannot lead"; exit 1; }
survivors=""
for k in 1 2 3; do [ "$k" = "$leader" ] || survivors="$survivors $k"; done
cat <&3 > "$work/events.rest" &
pids="$pids $!"
for k in $survivors; do
  eval "p=\$pid_$k"
  wait "$p" || { cat "$work/r$k.out"; echo "replica $k failed"; exit 1; }
done
wait "$agents" || { tail -20 "$work/agents.err"; echo "the agents failed"; exit 1; }
echo "the run completed; the agents moved hubs:"
grep -c "next hub" "$work/agents.err" || true
grep -h '^takeover' "$work/r$new.out" || true
grep -h '^replica ' "$work/r$new.out"

states=""
for k in $survivors; do
  "$hw" log verify --data-dir "$work/replica-$k" > "$work/verify$k" || {
    cat "$work/verify$k"; echo "replica $k does not verify"; exit 1; }
  grep -q '^divergences     0, late results 0, refused entries 0' "$work/verify$k" || {
    cat "$work/verify$k"; echo "replica $k: divergences or refused entries"; exit 1; }
  grep -q '^cycles          last 2999, 3000 done, 0 stalled, finished' "$work/verify$k" || {
    cat "$work/verify$k"; echo "replica $k: not every cycle"; exit 1; }
  states="$states $(sed -n 's/^state hash *//p' "$work/verify$k")"
  "$hw" log show --data-dir "$work/replica-$k" | grep ' #[0-9]' > "$work/entries$k"
done
set -- $states
[ "$1" = "$2" ] || { echo "the survivors' states differ: $states"; exit 1; }
state=$1
set -- $survivors
n=$(wc -l < "$work/entries$1"); m=$(wc -l < "$work/entries$2")
[ "$n" -lt "$m" ] || n=$m
head -n "$n" "$work/entries$1" > "$work/common1"
head -n "$n" "$work/entries$2" > "$work/common2"
cmp -s "$work/common1" "$work/common2" || { echo "the committed entries differ"; exit 1; }
echo "survivors$survivors: log verify ok, the same $n entries, state $state"
logged=$(sed -n 's/^trade list hash *//p' "$work/verify$1")
if grep -q 'without quorum' "$work/r$new.out"; then
  echo "a proposal ended without quorum (named above): trade list hash $logged"
else
  [ "$logged" = "$ref" ] || { echo "trades differ: $logged, not $ref"; exit 1; }
  echo "the same trades as the run without a log: $logged"
fi

# All three again, from their directories: each replays (or restores) to the same state.
for k in 1 2 3; do replica "$k"; done
for k in 1 2 3; do
  eval "p=\$pid_$k"
  wait "$p" || { cat "$work/r$k.out"; echo "replica $k failed to start again"; exit 1; }
  s=$(sed -n 's/.*, state \([0-9a-f]*\)$/\1/p' "$work/r$k.out")
  case "$state" in "$s"*) ;; *) echo "replica $k started again to state $s, not $state"; exit 1 ;; esac
done
echo "restarted from disk: replicas 1, 2, 3 at state $state"
