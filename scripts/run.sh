#!/usr/bin/env bash
# Sets everything up, builds Veil, starts a local network (a directory authority and 9 service
# nodes in 3 swarms on 127.0.0.1), makes two people, Alice and Bob, and shows them writing to
# each other end to end encrypted, every request onion-routed through three nodes. Then Bob's
# client stays online with a reply bot (the JSON-RPC echo bot) and Alice's with the web chat
# page, whose address it prints (and opens, when a desktop is there): chat with Bob from it.
# Usage: scripts/run.sh [DIR]   (default DIR: ./demo)
#   Ctrl-C stops both clients; `build-run/bin/veil testnet down --dir DIR` stops the network.
#   VEIL_RUN_SECONDS=N stops the clients by themselves after N seconds (for scripted runs).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$(realpath -m "${1:-demo}")"
scripts/setup.sh
cmake -S . -B build-run -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVEIL_BUILD_TESTS=OFF -DVEIL_BUILD_BENCH=OFF >/dev/null
cmake --build build-run -j"$(nproc)"
veil=build-run/bin/veil

"$veil" testnet down --dir "$dir" >/dev/null 2>&1 || true
rm -rf "$dir"
"$veil" testnet up --nodes 9 --swarm-size 3 --dir "$dir"

# Two people, each with a fresh identity and an encrypted database; every request they make
# goes through three service nodes (the onion transport is the default).
"$veil" init --home "$dir/alice" --network "$dir/network.toml" > "$dir/alice.init.txt"
"$veil" init --home "$dir/bob" --network "$dir/network.toml" > "$dir/bob.init.txt"
alice_id=$("$veil" --home "$dir/alice" id | head -n1)
bob_id=$("$veil" --home "$dir/bob" id | head -n1)
echo
echo "Alice is $alice_id"
echo "Bob   is $bob_id"
echo "(their recovery phrases are in $dir/alice.init.txt and $dir/bob.init.txt)"
echo
echo "== Alice writes to Bob (Bob's client is not running: the message waits in his swarm)"
"$veil" --home "$dir/alice" send "$bob_id" "Hi Bob, this went through three service nodes."
echo "== Bob reads it (a first message from a stranger is a message request)"
"$veil" --home "$dir/bob" receive --wait 10
echo "== Bob names Alice in his contacts and answers"
"$veil" --home "$dir/bob" contacts add "$alice_id" Alice
"$veil" --home "$dir/bob" send "$alice_id" "Hi Alice! Forward secrecy too."
echo "== Alice reads it"
"$veil" --home "$dir/alice" receive --wait 10
"$veil" --home "$dir/alice" contacts add "$bob_id" Bob

# Both clients go resident: Bob's with the echo bot on its JSON-RPC socket, Alice's with the
# web page. Each daemon holds its HOME until it stops.
pids=()
stop() {
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM
wait_for() {  # FILE: waits up to 30 s for it to appear
  for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done
  echo "run.sh: $1 did not appear; see the logs in $dir" >&2
  return 1
}
"$veil" --home "$dir/bob" daemon > "$dir/bob.daemon.log" 2>&1 &
pids+=($!)
wait_for "$dir/bob/rpc.sock"
python3 frontends/rpc/examples/echo_bot.py "$dir/bob/rpc.sock" > "$dir/bob.bot.log" 2>&1 &
pids+=($!)
"$veil" --home "$dir/alice" daemon > "$dir/alice.daemon.log" 2>&1 &
pids+=($!)
wait_for "$dir/alice/web/url"
url=$(cat "$dir/alice/web/url")

cat <<INFO

== Alice's client is online with its web chat page, Bob's with a reply bot:
   open  $url
   (the link logs you in once; it holds a secret token: do not share it)
   Write to Bob there; his bot answers every message with "echo: ...".

From another terminal, while the daemons hold their HOMEs (commands that write then refuse):
  $veil --home $dir/alice messages $bob_id            # the conversation, read from Alice's database
  less frontends/rpc/examples/echo_bot.py              # bots talk JSON-RPC to $dir/bob/rpc.sock (docs/rpc.md)
Ctrl-C stops both clients. The network keeps running; stop it with:
  $veil testnet down --dir $dir
INFO
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null; then
  xdg-open "$url" >/dev/null 2>&1 || true
fi
if [ -n "${VEIL_RUN_SECONDS:-}" ]; then
  sleep "$VEIL_RUN_SECONDS"
else
  wait "${pids[@]}"
fi
