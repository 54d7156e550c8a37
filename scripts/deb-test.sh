#!/usr/bin/env bash
# Builds the operator's package and checks it on this machine (docs/operating.md): the .deb is
# named veil_<version>_<arch>.deb and holds what an operator needs; `dpkg -i` installs it and
# creates one user per role (veil-node, veil-directory, veil-client) owning only its state
# directory; systemd-analyze accepts every unit; /usr/bin/veil runs a directory authority and a
# service node from the shipped /etc/veil configs, each as its own user in its /var/lib/veil/ROLE,
# with no new privileges and an empty capability bounding set (as the units do: systemd is not
# init here), and the node cannot read the authority's key; `dpkg -r` and `dpkg -P` remove it,
# leaving no file of it behind but the users and their state (Debian practice).
# Needs root and dpkg; installs and removes the package veil and then deletes the users and state
# it made, so it refuses to run on a machine that has any of them (an operator's package, users,
# /etc/veil or /var/lib/veil content would be lost). ctest: package_deb (labels package;slow),
# skipped (77) when not root.
# Usage: scripts/deb-test.sh            (configures and builds the release preset, -j2, nice)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] && command -v dpkg >/dev/null || { echo "deb-test: needs root and dpkg"; exit 77; }
roles=(node directory client)
refuse() { echo "deb-test: $* (this test would remove it): refusing to run" >&2; exit 1; }
! dpkg-query -W veil >/dev/null 2>&1 || refuse "dpkg knows a package veil"
for r in "${roles[@]}" ""; do
  u=veil${r:+-$r}
  ! getent passwd "$u" >/dev/null || refuse "the user $u exists"
  ! getent group "$u" >/dev/null || refuse "the group $u exists"
done
[ ! -e /etc/veil ] || refuse "/etc/veil exists"
[ ! -e /var/lib/veil ] || [ -z "$(ls -A /var/lib/veil)" ] || refuse "/var/lib/veil is not empty"

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

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  dpkg -P veil >/dev/null 2>&1 || true
  # Only what this run made: it refused to start where any of it existed.
  rm -rf /var/lib/veil
  for r in "${roles[@]}"; do
    getent passwd "veil-$r" >/dev/null && deluser --system --quiet "veil-$r" >/dev/null 2>&1 || true
    getent group "veil-$r" >/dev/null && delgroup --system --quiet "veil-$r" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

dpkg -i "$deb"
[ "$(stat -c %U:%a /var/lib/veil)" = root:755 ] || fail "/var/lib/veil is not root's, 0755"
for r in "${roles[@]}"; do
  getent passwd "veil-$r" >/dev/null || fail "no user veil-$r after dpkg -i"
  [ "$(stat -c %U:%a "/var/lib/veil/$r")" = "veil-$r:700" ] || fail "/var/lib/veil/$r is not veil-$r's, 0700"
  unit=/lib/systemd/system/veil-$r.service
  out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
  [ -z "$out" ] || fail "systemd-analyze verify $unit: $out"
done
sh tests/integration/package/units_test.sh packaging || fail "the units' hardening"
/usr/bin/veil version
/usr/bin/veil --help >/dev/null
man -w veil >/dev/null || fail "man veil finds no page"

# As the units run them: each role its own user, no new privileges, no capabilities, state in
# its own /var/lib/veil/ROLE. (Arrays, not functions: a function in the background is a
# subshell, and $! its pid.)
as_role() { echo setpriv --reuid "veil-$1" --regid "veil-$1" --init-groups --no-new-privs --bounding-set=-all --inh-caps=-all; }
read -ra as_directory <<<"$(as_role directory)"
read -ra as_node <<<"$(as_role node)"
log=$(mktemp -d /tmp/deb-test.XXXXXX)
trap 'cleanup; rm -rf "$log"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_for WHAT SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" 2>/dev/null && return 0; sleep 0.1; done
  fail "$what did not happen within ${seconds}s"
}
dport=$(free_port); nport=$(free_port)
"${as_directory[@]}" /usr/bin/veil --config /etc/veil/directory.toml --home /var/lib/veil/directory \
  --set directory.listen=127.0.0.1:$dport >"$log/directory.log" 2>&1 &
pids+=($!)
wait_for "the authority's key file" 30 test -s /var/lib/veil/directory/directory/authority.pub
key=$(tr -d '\n' </var/lib/veil/directory/directory/authority.pub)
secret=/var/lib/veil/directory/directory/authority.key
[ -s "$secret" ] || fail "no $secret"
if "${as_node[@]}" cat "$secret" >/dev/null 2>&1; then fail "the user veil-node can read $secret"; fi
echo "veil-node cannot read the authority's key"
"${as_node[@]}" /usr/bin/veil --config /etc/veil/node.toml --home /var/lib/veil/node \
  --set service-node.listen=127.0.0.1:$nport --set service-node.directory=127.0.0.1:$dport \
  --set "service-node.authority_keys=[\"$key\"]" >"$log/node.log" 2>&1 &
node=$!
pids+=($node)
wait_for "the node's listener" 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$nport"
kill -0 "$node" || { cat "$log/node.log"; fail "the node exited"; }
[ "$(stat -c %U /var/lib/veil/node/service-node)" = veil-node ] || fail "the node's state is not veil-node's"
kill -TERM "$node"
rc=0; wait "$node" || rc=$?
[ "$rc" = 0 ] || { cat "$log/node.log"; fail "the node exited $rc on SIGTERM"; }
echo "node ran from /etc/veil/node.toml as veil-node and stopped cleanly on SIGTERM"
kill -TERM "${pids[0]}"; wait "${pids[0]}" || fail "the authority exited $? on SIGTERM"
pids=()

dpkg -r veil
[ ! -e /usr/bin/veil ] && [ ! -e /usr/lib/veil ] && [ ! -e /lib/systemd/system/veil-node.service ] ||
  fail "dpkg -r left files of the package"
[ -f /etc/veil/node.toml ] || fail "dpkg -r removed a conffile (only purge may)"
dpkg -P veil
[ ! -e /etc/veil ] || fail "dpkg -P left /etc/veil"
for r in "${roles[@]}"; do   # kept, as their files are (Debian practice); cleanup removes them
  getent passwd "veil-$r" >/dev/null || fail "dpkg -P removed the user veil-$r (its files keep its UID)"
done
echo "deb-test: ok"
