#!/usr/bin/env bash
# End to end on ARM under qemu-user (issue 18, docs/small-devices.md): every process is an ARM
# `veil` of build-cross-ARCH run by qemu, named explicitly (no binfmt_misc): a testnet of one
# authority and 6 service nodes in swarms of 2 (an onion path needs three swarms), two clients
# (SQLCipher, onion transport: `veil init`'s defaults), Alice writes to Bob through three nodes,
# Bob reads it and answers, Alice reads the answer. Prints the time each step took.
# Usage: scripts/cross-e2e.sh [arm64|armhf] [--dir DIR] [--no-build]
#   (default arm64; DIR default a fresh /tmp/veil-cross-e2e-ARCH.XXXXXX, removed after a pass)
# Needs scripts/setup-cross.sh ARCH and `cmake --preset cross-ARCH`; builds veil and the plugins
# the roles load (nice, -j2) unless --no-build. The testnet's nodes are started by the ARM veil
# itself: VEIL_EMULATOR tells it to put qemu in front of them (plugins/directory/testnet_faults.hpp).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=arm64 dir="" build=1
while (($#)); do
  case "$1" in
    arm64|armhf) arch=$1 ;;
    --dir) dir=$2; shift ;;
    --no-build) build=0 ;;
    *) echo "cross-e2e: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$arch" in
  arm64) emulator="qemu-aarch64 -L /usr/aarch64-linux-gnu" ;;
  armhf) emulator="qemu-arm -L /usr/arm-linux-gnueabihf" ;;
esac
out="build-cross-$arch"
[ -f "$out/build.ninja" ] || { echo "cross-e2e: no $out; run cmake --preset cross-$arch" >&2; exit 2; }
if ((build)); then
  plugins=(cli setup sqlcipher network onion onion-relay direct exif-strip attachments attachment-store
           messenger web rpc service-node directory testnet)
  nice ninja -C "$out" -j2 veil "${plugins[@]/#/veil_plugin_}"
fi
export VEIL_EMULATOR="$emulator"
veil() { $emulator "$out/bin/veil" "$@"; }
[ -n "$dir" ] || dir="$(mktemp -d "/tmp/veil-cross-e2e-$arch.XXXXXX")"
mkdir -p "$dir"

net="$dir/net"
passed=0
finish() {
  veil testnet down --dir "$net" > /dev/null 2>&1 || true
  ((passed)) || echo "cross-e2e $arch: FAILED; logs in $dir" >&2
}
trap finish EXIT
# step NAME COMMAND...: runs it, prints how long it took.
step() {
  local name=$1 start=$EPOCHREALTIME
  shift
  "$@"
  awk -v a="$arch" -v n="$name" -v s="$start" -v e="$EPOCHREALTIME" \
    'BEGIN { printf "cross-e2e %s: %-36s %6.1f s\n", a, n, e - s }'
}

echo "cross-e2e $arch: $($emulator "$out/bin/veil" version | head -n1) under ${emulator%% *}"
step "testnet up (1 authority, 6 nodes)" veil testnet up --nodes 6 --swarm-size 2 --dir "$net" > "$dir/testnet.log"
step "init alice" veil init --home "$dir/alice" --network "$net/network.toml" > "$dir/alice.init.txt"
step "init bob" veil init --home "$dir/bob" --network "$net/network.toml" > "$dir/bob.init.txt"
alice=$(veil --home "$dir/alice" id | head -n1)
bob=$(veil --home "$dir/bob" id | head -n1)
step "alice sends to bob (onion, 3 hops)" veil --home "$dir/alice" send "$bob" "hello from $arch"
step "bob receives" veil --home "$dir/bob" receive --wait 60 --json > "$dir/bob.received.json"
grep -q "\"text\":\"hello from $arch\"" "$dir/bob.received.json" ||
  { echo "cross-e2e: Bob did not get Alice's message:" >&2; cat "$dir/bob.received.json" >&2; exit 1; }
grep -q "\"from\":\"$alice\"" "$dir/bob.received.json" ||
  { echo "cross-e2e: the message is not from Alice's ID" >&2; exit 1; }
step "bob answers" veil --home "$dir/bob" send "$alice" "hello back from $arch"
step "alice receives" veil --home "$dir/alice" receive --wait 60 --json > "$dir/alice.received.json"
grep -q "\"text\":\"hello back from $arch\"" "$dir/alice.received.json" ||
  { echo "cross-e2e: Alice did not get Bob's answer:" >&2; cat "$dir/alice.received.json" >&2; exit 1; }
# Every process of the network was the emulator running an ARM veil.
nodes=$(awk '{print $2}' "$net/testnet.pids")
for pid in $nodes; do
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "^${emulator} " ||
    { echo "cross-e2e: testnet process $pid is not run by ${emulator%% *}" >&2; exit 1; }
done
step "testnet down" veil testnet down --dir "$net"
passed=1
echo "cross-e2e $arch: passed (Alice and Bob exchanged a message through a testnet of $(wc -l < "$net/testnet.pids") ARM processes)"
rm -rf "$dir"
