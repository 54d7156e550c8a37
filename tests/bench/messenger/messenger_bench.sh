#!/usr/bin/env bash
# Messenger end to end on a local 9-node testnet, from one run: send-to-receive latency (p50, p99)
# through the onion transport and, with the same two people, through the direct transport (the
# ratio is onion/direct), and messages per second sustained from one client to another.
# Each step is a real `veil` process, as a user or a script would run it, so process start-up
# (opening the encrypted database, loading plugins) is part of every figure.
# Usage: tests/bench/messenger/messenger_bench.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
build="$(realpath "${1:-build}")"
rounds="${2:-20}"
veil="$build/bin/veil"
dir="$(mktemp -d /tmp/veil-messenger-bench-XXXXXX)"
trap '"$veil" testnet down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

"$veil" testnet up --nodes 9 --swarm-size 3 --dir "$dir" >/dev/null
"$veil" init --home "$dir/alice" --network "$dir/network.toml" >/dev/null 2>&1
"$veil" init --home "$dir/bob" --network "$dir/network.toml" >/dev/null 2>&1
bob_id=$("$veil" --home "$dir/bob" id | head -n1)

now_ms() { date +%s%3N; }

# percentile P of the numbers on stdin
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(p*(NR-1))+1; print a[i]}'; }

use_transport() {  # onion | direct, for both people
  for who in alice bob; do
    sed -i -E "s/'(onion|direct)'/'$1'/" "$dir/$who/veil.toml"
  done
}

latency() {  # prints one latency (ms) a line
  for ((i = 0; i < rounds; i++)); do
    "$veil" --home "$dir/bob" receive --wait 20 --json > "$dir/got" 2>/dev/null &
    waiter=$!
    sleep 0.3  # let Bob's long-poll park at his swarm
    t0=$(now_ms)
    "$veil" --home "$dir/alice" send "$bob_id" "ping $i" >/dev/null 2>&1
    wait "$waiter"
    t1=$(now_ms)
    grep -q "ping $i" "$dir/got" || { echo "message $i not received" >&2; exit 1; }
    echo $((t1 - t0))
  done
}

throughput() {  # messages per second, Alice sending back to back, then Bob draining
  local n=$((rounds * 2))
  t0=$(now_ms)
  for ((i = 0; i < n; i++)); do "$veil" --home "$dir/alice" send "$bob_id" "burst $i" >/dev/null 2>&1; done
  t1=$(now_ms)
  "$veil" --home "$dir/bob" receive --wait 10 --json > "$dir/burst" 2>/dev/null
  got=$(grep -c '"burst ' "$dir/burst" || true)
  [ "$got" -eq "$n" ] || { echo "burst: $got of $n received" >&2; exit 1; }
  awk -v n="$n" -v ms=$((t1 - t0)) 'BEGIN {printf "%.1f", n * 1000 / ms}'
}

declare -A p50 p99 rate
for transport in direct onion; do
  use_transport "$transport"
  latency > "$dir/lat.$transport"
  p50[$transport]=$(pct 0.5 < "$dir/lat.$transport")
  p99[$transport]=$(pct 0.99 < "$dir/lat.$transport")
  rate[$transport]=$(throughput)
done

echo "send-to-receive latency over $rounds messages (each a 'veil send' process; Bob long-polling):"
for transport in direct onion; do
  printf "  %-6s p50 %5d ms  p99 %5d ms   %s msg/s sustained (one send process each)\n" \
    "$transport" "${p50[$transport]}" "${p99[$transport]}" "${rate[$transport]}"
done
awk -v a="${p50[onion]}" -v b="${p50[direct]}" -v c="${p99[onion]}" -v d="${p99[direct]}" \
    -v r="${rate[onion]}" -v s="${rate[direct]}" \
    'BEGIN {printf "ratio onion/direct: p50 %.2f  p99 %.2f  throughput %.2f\n", a / b, c / d, r / s}'
