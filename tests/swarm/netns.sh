#!/bin/sh
# The swarm over processes across a network of its own: the coordinator in one network
# namespace, every agent in another, joined by a veth pair that this test makes (and removes).
# Usage: netns.sh HIVEWIRE UDP_RELAY loss|delay
#
#   loss   nftables drops 5% of the datagrams each way (numgen random mod 100 < 5)
#   delay  the agents reach the coordinator through a seeded relay that holds every datagram
#          0.2 ms plus up to 2 ms, both ways, so datagrams overtake each other
#
# Either way the run completes with the trade list hash of the same swarm in one process.
# Needs root, ip and nft; without them it says so and skips. Waits are on events (a line from
# a pipe, a process's exit); nothing sleeps.
set -eu
hw=$1
relay=$2
what=$3
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
  echo "skipped: needs root, ip and nft to make network namespaces"
  exit 0
fi
tag=hvs$$
a=${tag}a
b=${tag}b
work=$(mktemp -d /tmp/hivewire-netns-XXXXXX)
pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if ! ip netns add "$a" 2>/dev/null; then
  echo "skipped: cannot make a network namespace here"
  exit 0
fi
ip netns add "$b"
ip link add "${tag}0" type veth peer name "${tag}1"
ip link set "${tag}0" netns "$a"
ip link set "${tag}1" netns "$b"
ip -n "$a" addr add 10.77.0.1/24 dev "${tag}0"
ip -n "$b" addr add 10.77.0.2/24 dev "${tag}1"
for n in "$a" "$b"; do ip -n "$n" link set lo up; done
ip -n "$a" link set "${tag}0" up
ip -n "$b" link set "${tag}1" up
port=4433
swarm="--synthetic 1500 --seed 11 --cycle-ms 10000 --stall-ms 60000"
target=10.77.0.1:$port
if [ "$what" = loss ]; then
  ip netns exec "$a" nft -f - <<NFT
table inet hvloss {
  chain input { type filter hook input priority 0; udp dport $port numgen random mod 100 < 5 drop; }
  chain output { type filter hook output priority 0; udp sport $port numgen random mod 100 < 5 drop; }
}
NFT
fi
"$hw" run $swarm --no-report --no-progress --quiet > "$work/ref"
mkfifo "$work/coord.err"
ip netns exec "$a" "$hw" coordinator --listen 10.77.0.1:$port --issue-certs --certs "$work/certs" \
  $swarm --no-progress --no-report --quiet > "$work/coord.out" 2> "$work/coord.err" &
coord=$!
pids="$coord"
exec 3< "$work/coord.err"
read -r first <&3   # "listening on ...": the certificates exist
echo "$first"
if [ "$what" = delay ]; then
  mkfifo "$work/relay.err"
  ip netns exec "$b" "$relay" 10.77.0.2 5000 10.77.0.1 $port 200 2000 7 2> "$work/relay.err" &
  pids="$pids $!"
  exec 4< "$work/relay.err"
  read -r ready <&4
  echo "$ready"
  target=10.77.0.2:5000
fi
for r in market-data pattern risk strategy execution; do
  ip netns exec "$b" "$hw" agent --agents $r --connect $target --certs "$work/certs" $swarm \
    > "$work/agent-$r.out" 2>&1 &
  pids="$pids $!"
done
cat <&3 > "$work/coord.rest" &
wait "$coord"
grep -E 'cycles |faults|link 0' "$work/coord.out" || true
ref=$(sed -n 's/^trade list hash *//p' "$work/ref")
got=$(sed -n 's/^trade list hash *//p' "$work/coord.out")
echo "in one process: $ref; across the namespaces ($what): $got"
[ -n "$ref" ] && [ "$ref" = "$got" ] && echo "same trades"
