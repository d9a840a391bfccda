#!/bin/sh
# The swarm over processes, on loopback with certificates made for the test.
# Usage: remote.sh HIVEWIRE same-trades|kill-pattern|kill-execution
#
#   same-trades     run --synthetic 3000 --seed 7: the default, --runner one and --remote all
#                   print the same trade list hash
#   kill-pattern    a coordinator and its agents in processes of their own; once the run is
#                   under way (the first progress line), kill -9 the pattern agents, and once
#                   the coordinator says one is lost, start them again: the run completes,
#                   every proposal ended, the losses and rejoins are reported
#   kill-execution  the same with the execution agent, journaling to a state directory: the
#                   run completes with the trades of a run nothing interrupted
# Waits are on events (a line from a pipe, a process's exit), each bounded by the test's
# CTest timeout; nothing sleeps.
set -eu
hw=$1
what=$2
work=$(mktemp -d /tmp/hivewire-remote-XXXXXX)
pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
hash() { sed -n 's/^trade list hash *//p' "$1"; }
swarm="--synthetic 3000 --seed 7"

if [ "$what" = same-trades ]; then
  "$hw" run --synthetic 3000 --seed 7 --no-report --no-progress --quiet > "$work/a"
  "$hw" run --synthetic 3000 --seed 7 --runner one --no-report --no-progress --quiet > "$work/b"
  "$hw" run --synthetic 3000 --seed 7 --remote all --no-report --no-progress --quiet > "$work/c"
  a=$(hash "$work/a"); b=$(hash "$work/b"); c=$(hash "$work/c")
  echo "default $a, runner one $b, remote all $c"
  grep -E '^  link [0-9]+ ' "$work/c" | head -3
  [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ] && echo "same trades"
  exit 0
fi

case "$what" in
  kill-pattern) victim=pattern; agents="market-data risk strategy execution" ;;
  # A cycle waits for the execution agent's state: the same trades as a run nothing
  # interrupted need it back before the cycle times out (10 s here, 2 s by default).
  kill-execution) victim=execution; agents="market-data pattern risk strategy"
                  swarm="$swarm --cycle-ms 10000 --stall-ms 30000" ;;
  *) echo "unknown scenario $what"; exit 2 ;;
esac
port=$(( 20000 + $$ % 20000 ))
mkdir "$work/state"
mkfifo "$work/progress"
"$hw" coordinator --listen 127.0.0.1:$port --issue-certs --certs "$work/certs" $swarm \
  --progress --no-report --quiet --wide > "$work/coord.out" 2> "$work/progress" &
coord=$!
pids="$coord"
exec 3< "$work/progress"
read -r first <&3   # "listening on ...": the certificates exist, the hub listens
echo "$first"
start_agent() {
  "$hw" agent --agents "$1" --connect 127.0.0.1:$port --certs "$work/certs" $swarm \
    --state-dir "$work/state" > "$work/agent-$1.out" 2>&1 &
  pids="$pids $!"
  last=$!
}
for a in $agents; do start_agent "$a"; done
start_agent "$victim"
victim_pid=$last
read -r line <&3    # the first progress line: the run is under way
echo "under way: $line"
kill -9 "$victim_pid"
wait "$victim_pid" 2>/dev/null || true
while read -r line <&3; do  # until the coordinator has noticed (3 heartbeats missed)
  case "$line" in *" lost at cycle "*) echo "$line"; break ;; esac
done
start_agent "$victim"
cat <&3 > "$work/progress.rest" &
wait "$coord"
cat "$work/coord.out"
grep -q 'lost at cycle' "$work/coord.out"
grep -q 'back at cycle' "$work/coord.out"
p=$(sed -n 's/^proposals *\([0-9]*\) (accepted \([0-9]*\), rejected \([0-9]*\), no quorum \([0-9]*\)).*/\1 \2 \3 \4/p' "$work/coord.out")
set -- $p
[ "$1" -eq $(( $2 + $3 + $4 )) ] || { echo "a proposal did not end: $p"; exit 1; }
if [ "$what" = kill-execution ]; then
  "$hw" run $swarm --no-report --no-progress --quiet > "$work/ref"
  [ "$(hash "$work/coord.out")" = "$(hash "$work/ref")" ] || { echo "trades differ"; exit 1; }
  echo "same trades as a run nothing interrupted: $(hash "$work/ref")"
fi
echo "the run completed"
