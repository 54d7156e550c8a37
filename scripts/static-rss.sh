#!/usr/bin/env bash
# Size and resident memory of each static role (docs/operating.md#static-builds): the minimal
# build answering `direct call ... echo`, a service node of a 9-node loopback testnet, and a
# client daemon; idle (VmRSS after start-up settled) and after a small load (VmHWM, the peak).
# Usage: scripts/static-rss.sh [DIR]   (after building the static-minimal, -node, -client presets)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath -m "${1:-/tmp/veil-static-rss}")
min=$PWD/build-static-minimal/bin/veil node=$PWD/build-static-node/bin/veil
client=$PWD/build-static-client/bin/veil
rm -rf "$dir" && mkdir -p "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  "$node" testnet down --dir "$dir/net" >/dev/null 2>&1 || true
}
trap cleanup EXIT
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
wait_for() { for _ in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "no $1" >&2; exit 1; }
settle=${VEIL_RSS_SETTLE_S:-10}

echo "== sizes (bytes; stripped: strip -o)"
for exe in "$min" "$node" "$client"; do
  strip -o "$dir/stripped" "$exe"
  printf '%s  %s  stripped %s\n' "$exe" "$(stat -c %s "$exe")" "$(stat -c %s "$dir/stripped")"
done

echo "== minimal (direct + memory): 500 echo calls"
"$min" --config configs/direct-node.toml --home "$dir/min" >"$dir/min.log" 2>&1 &
pid=$!; pids+=($pid)
wait_for "$dir/min/direct/listen.addr"
sleep "$settle"
idle=$(kib VmRSS $pid)
addr=$(cat "$dir/min/direct/listen.addr")
for _ in $(seq 500); do "$min" direct call "$addr" echo hello >/dev/null 2>&1; done
echo "minimal: idle $(mib "$idle") MiB, peak after load $(mib "$(kib VmHWM $pid)") MiB"

echo "== node (9 nodes, swarms of 3) and client daemon: 30 messages Alice -> Bob"
"$node" testnet up --nodes 9 --swarm-size 3 --dir "$dir/net" >"$dir/net.log"
node1=$("$node" testnet status --dir "$dir/net" | awk '$1 ~ /node/ {print $3; exit}')
auth=$("$node" testnet status --dir "$dir/net" | awk '$1 ~ /authority|directory/ {print $3; exit}')
"$client" init --home "$dir/alice" --network "$dir/net/network.toml" >/dev/null
"$client" init --home "$dir/bob" --network "$dir/net/network.toml" >/dev/null
bob_id=$("$client" --home "$dir/bob" id | head -n1)
"$client" --home "$dir/bob" daemon >"$dir/bob.log" 2>&1 &
bob=$!; pids+=($bob)
wait_for "$dir/bob/rpc.sock"
sleep "$settle"
node_idle=$(kib VmRSS "$node1"); auth_idle=$(kib VmRSS "$auth"); bob_idle=$(kib VmRSS $bob)
send_peak=0
for i in $(seq 30); do
  peak=$( { /usr/bin/time -f %M "$client" --home "$dir/alice" send "$bob_id" "message $i" >/dev/null; } 2>&1 | tail -n1)
  ((peak > send_peak)) && send_peak=$peak
done
"$client" --home "$dir/alice" send "$bob_id" "last" >/dev/null
sleep 5   # Bob's daemon long-polls its swarm: the messages arrive within about a second
node_peak=0
for p in $("$node" testnet status --dir "$dir/net" | awk '$1 ~ /node/ {print $3}'); do
  v=$(kib VmHWM "$p"); ((v > node_peak)) && node_peak=$v
done
echo "node: idle $(mib "$node_idle") MiB, peak after load $(mib "$node_peak") MiB (largest of 9)"
echo "authority: idle $(mib "$auth_idle") MiB, peak $(mib "$(kib VmHWM "$auth")") MiB"
echo "client daemon (Bob): idle $(mib "$bob_idle") MiB, peak after 31 messages $(mib "$(kib VmHWM $bob)") MiB"
echo "client one-shot send (Alice): peak $(mib "$send_peak") MiB"
kill "$bob" && wait "$bob" || true
alice_id=$("$client" --home "$dir/alice" id | head -n1)
got=$("$client" --home "$dir/bob" messages "$alice_id" 2>/dev/null | grep -c ': message ' || true)
echo "Bob's daemon received $got of 30; its web page was at $(sed 's/token=.*/token=.../' "$dir/bob/web/url")"
# The figures mean nothing if the messages did not get through.
[ "$got" -eq 30 ] || { echo "static-rss: Bob received $got of 30 messages" >&2; exit 1; }
