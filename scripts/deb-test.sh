#!/usr/bin/env bash
# Builds the operator's package and checks it on this machine (docs/operating.md): the .deb is
# named veil_<version>_<arch>.deb and holds what an operator needs; `dpkg -i` installs it and
# creates the user veil; systemd-analyze accepts every unit; /usr/bin/veil runs a directory
# authority and a service node from the shipped /etc/veil configs as the user veil, with no new
# privileges and an empty capability bounding set (as the units do: systemd is not init here);
# `dpkg -r` and `dpkg -P` remove it, leaving no file of it behind.
# Needs root and dpkg; installs and removes the package veil, so it is refused where one is
# installed already. ctest: package_deb (labels package;slow), skipped (77) when not root.
# Usage: scripts/deb-test.sh            (configures and builds the release preset, -j2, nice)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] && command -v dpkg >/dev/null || { echo "deb-test: needs root and dpkg"; exit 77; }
if dpkg-query -W -f='${Status}' veil 2>/dev/null | grep -q installed; then
  echo "deb-test: a veil package is installed already; remove it first" >&2; exit 1
fi

cmake --preset release >/dev/null
nice cmake --build --preset release -j2 >/dev/null
(cd build-release && nice cpack -G DEB >/dev/null)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' build-release/CMakeCache.txt)
deb="build-release/veil_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || { echo "deb-test: no $deb" >&2; ls build-release/*.deb >&2; exit 1; }
echo "package: $deb ($(du -k "$deb" | cut -f1) KiB)"

fail() { echo "deb-test: $*" >&2; exit 1; }
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/veil ./usr/lib/libveil-sdk.so.0 ./usr/lib/veil/plugins/veil-plugin-service-node.so \
         ./usr/lib/veil/plugins/veil-plugin-directory.so ./usr/lib/veil/plugins/veil-plugin-messenger.so \
         ./usr/share/man/man1/veil.1 ./usr/share/doc/veil/operating.md ./usr/share/doc/veil/examples/node.toml \
         ./etc/veil/node.toml ./etc/veil/directory.toml ./lib/systemd/system/veil-node.service \
         ./lib/systemd/system/veil-directory.service ./lib/systemd/system/veil-client.service; do
  grep -q " $f\( \|$\)" <<<"$contents" || fail "$f is not in the package"
done

state=$(mktemp -d /tmp/deb-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  dpkg -P veil >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

dpkg -i "$deb"
getent passwd veil >/dev/null || fail "no user veil after dpkg -i"
[ "$(stat -c %U /var/lib/veil)" = veil ] || fail "/var/lib/veil is not the user veil's"
for u in veil-node veil-directory veil-client; do
  unit=/lib/systemd/system/$u.service
  out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
  [ -z "$out" ] || fail "systemd-analyze verify $unit: $out"
  for key in User=veil ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes \
             'CapabilityBoundingSet=$' "StateDirectory=veil/"; do
    grep -q "^$key" "$unit" || fail "$unit has no $key"
  done
done
/usr/bin/veil version
/usr/bin/veil --help >/dev/null
man -w veil >/dev/null || fail "man veil finds no page"

# As the units run them: the user veil, no new privileges, no capabilities, state in its own dir.
chown veil:veil "$state"
# (an array, not a function: a function in the background is a subshell, and $! its pid)
as_veil=(setpriv --reuid veil --regid veil --init-groups --no-new-privs --bounding-set=-all --inh-caps=-all)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_for WHAT SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" 2>/dev/null && return 0; sleep 0.1; done
  fail "$what did not happen within ${seconds}s"
}
dport=$(free_port); nport=$(free_port)
"${as_veil[@]}" /usr/bin/veil --config /etc/veil/directory.toml --home "$state/directory" \
  --set directory.listen=127.0.0.1:$dport >"$state/directory.log" 2>&1 &
pids+=($!)
wait_for "the authority's key file" 30 test -s "$state/directory/directory/authority.pub"
key=$(tr -d '\n' <"$state/directory/directory/authority.pub")
"${as_veil[@]}" /usr/bin/veil --config /etc/veil/node.toml --home "$state/node" \
  --set service-node.listen=127.0.0.1:$nport --set service-node.directory=127.0.0.1:$dport \
  --set "service-node.authority_keys=[\"$key\"]" >"$state/node.log" 2>&1 &
node=$!
pids+=($node)
wait_for "the node's listener" 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$nport"
kill -0 "$node" || { cat "$state/node.log"; fail "the node exited"; }
[ "$(stat -c %U "$state/node")" = veil ] || fail "the node's state is not the user veil's"
kill -TERM "$node"
rc=0; wait "$node" || rc=$?
[ "$rc" = 0 ] || { cat "$state/node.log"; fail "the node exited $rc on SIGTERM"; }
echo "node ran from /etc/veil/node.toml as veil and stopped cleanly on SIGTERM"
kill -TERM "${pids[0]}"; wait "${pids[0]}" || fail "the authority exited $? on SIGTERM"
pids=()

dpkg -r veil
[ ! -e /usr/bin/veil ] && [ ! -e /usr/lib/veil ] && [ ! -e /lib/systemd/system/veil-node.service ] ||
  fail "dpkg -r left files of the package"
[ -f /etc/veil/node.toml ] || fail "dpkg -r removed a conffile (only purge may)"
dpkg -P veil
[ ! -e /etc/veil ] || fail "dpkg -P left /etc/veil"
! getent passwd veil >/dev/null || fail "dpkg -P left the user veil"
rmdir /var/lib/veil 2>/dev/null || true   # the package keeps state (keys) even on purge
echo "deb-test: ok"
