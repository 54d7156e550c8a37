#!/usr/bin/env bash
# Measures the small-device budget (docs/small-devices.md) on a local testnet: the resident
# client daemon's idle RSS, its wake-ups per minute when idle (context switches of all its
# threads, /proc/PID/task/*/status), the bytes it sends per hour when idle (TCP writes traced with
# strace over a window, extrapolated), and a node's RSS holding 100,000 messages
# (veil_bench_node_rss). Re-runnable; everything lives under DIR and is taken down at the end.
#   scripts/measure-small-device.sh [--build DIR] [--dir DIR] [--idle SECONDS] [--bytes SECONDS] [--no-node]
set -euo pipefail

build=build
dir=/tmp/small-device-$$
idle_s=60      # window for wake-ups
bytes_s=300    # window for bytes sent (5 minutes)
settle_s=30    # after the daemon is online, before measuring
node=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --idle) idle_s=$2; shift 2 ;;
    --bytes) bytes_s=$2; shift 2 ;;
    --no-node) node=0; shift ;;
    *) echo "usage: $0 [--build DIR] [--dir DIR] [--idle SECONDS] [--bytes SECONDS] [--no-node]" >&2; exit 2 ;;
  esac
done
veil=$(realpath "$build/bin/veil")
command -v strace > /dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 2; }
mkdir -p "$dir"
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2> /dev/null || true
  [ -n "$daemon_pid" ] && wait "$daemon_pid" 2> /dev/null || true
  "$veil" testnet down --dir "$dir/tn" > /dev/null 2>&1 || true
}
trap cleanup EXIT

# Sum of a /proc/PID/status field over every thread of PID.
threads_sum() {
  local pid=$1 field=$2 total=0 v
  for f in /proc/"$pid"/task/*/status; do
    v=$(awk -v k="$field:" '$1 == k { print $2 }' "$f" 2> /dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' /proc/"$1"/status; }

echo "testnet: 6 nodes, swarms of 2 (onion paths need three swarms)"
"$veil" testnet up --nodes 6 --swarm-size 2 --dir "$dir/tn" > "$dir/testnet.log" 2>&1
"$veil" init --home "$dir/alice" --network "$dir/tn/network.toml" > "$dir/init.log" 2>&1

"$veil" --home "$dir/alice" daemon > "$dir/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 120); do
  grep -q "online" "$dir/daemon.log" && break
  sleep 0.5
done
grep -q "online" "$dir/daemon.log" || { echo "the daemon did not come online:" >&2; cat "$dir/daemon.log" >&2; exit 1; }
echo "daemon pid $daemon_pid online; settling ${settle_s} s"
sleep "$settle_s"

rss=$(rss_kib "$daemon_pid")
threads=$(ls /proc/"$daemon_pid"/task | wc -l)
v0=$(threads_sum "$daemon_pid" voluntary_ctxt_switches)
n0=$(threads_sum "$daemon_pid" nonvoluntary_ctxt_switches)
sleep "$idle_s"
v1=$(threads_sum "$daemon_pid" voluntary_ctxt_switches)
n1=$(threads_sum "$daemon_pid" nonvoluntary_ctxt_switches)
wakeups=$(( (v1 - v0) * 60 / idle_s ))
preempt=$(( (n1 - n0) * 60 / idle_s ))

# Bytes written to TCP sockets (strace -yy names each fd), then what the syscalls returned.
strace -f -yy -qq -e trace=write,writev,sendto,sendmsg -e signal=none -p "$daemon_pid" -o "$dir/strace.log" &
strace_pid=$!
sleep "$bytes_s"
kill "$strace_pid" 2> /dev/null || true
wait "$strace_pid" 2> /dev/null || true
sent=$(awk '/<TCP/ && / = [0-9]+$/ { n += $NF; c++ } END { printf "%d %d", n + 0, c + 0 }' "$dir/strace.log")
sent_bytes=${sent% *}
sent_writes=${sent#* }
per_hour=$(( sent_bytes * 3600 / bytes_s ))
rss_after=$(rss_kib "$daemon_pid")

printf '\nresident client daemon (idle, onion transport, SQLCipher, %s threads)\n' "$threads"
printf '  RSS idle                 %d KiB (%.1f MiB); after the windows %d KiB\n' "$rss" "$(echo "$rss / 1024" | bc -l)" "$rss_after"
printf '  wake-ups per minute      %d voluntary context switches (all threads; %d involuntary)\n' "$wakeups" "$preempt"
printf '  bytes sent               %d in %d s (%d TCP writes): %d bytes per hour (%.1f MiB)\n' \
  "$sent_bytes" "$bytes_s" "$sent_writes" "$per_hour" "$(echo "$per_hour / 1048576" | bc -l)"

kill "$daemon_pid"
wait "$daemon_pid" 2> /dev/null || true
daemon_pid=
"$veil" testnet down --dir "$dir/tn" > /dev/null 2>&1 || true

if [ "$node" = 1 ]; then
  bench="$build/tests/bench/node/veil_bench_node_rss"
  if [ -x "$bench" ]; then
    printf '\nservice node holding 100,000 messages (veil_bench_node_rss)\n'
    VEIL_BENCH_COUNT=${VEIL_BENCH_COUNT:-100000} "$bench" | grep -v "^=\|^All tests\|^$" | sed 's/^/  /'
  else
    echo "no $bench: ninja -C $build veil_bench_node_rss" >&2
  fi
fi
