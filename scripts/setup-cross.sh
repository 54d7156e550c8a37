#!/usr/bin/env bash
# Installs what the ARM cross builds need (presets cross-arm64 and cross-armhf, docs/small-devices.md):
# Debian 12's cross toolchains, qemu-user to run what they build, and the arm64/armhf multiarch
# -dev packages of every library Veil links. binfmt_misc is not assumed: the toolchain files name
# the emulator (CMAKE_CROSSCOMPILING_EMULATOR) and VEIL_EMULATOR carries it to child processes.
# Usage: scripts/setup-cross.sh [arm64] [armhf]   (default: both; also `scripts/setup.sh --cross`)
#
# What it installs, per architecture A (arm64, armhf), and why:
#  - crossbuild-essential-A: gcc/g++ 12 for the triplet and the cross libc (/usr/TRIPLET);
#  - qemu-user (once): qemu-aarch64 and qemu-arm, named explicitly;
#  - LIB:A for LIB in the list below: Multi-Arch: same packages, installed beside the amd64 ones
#    at the same version (apt refuses, never removes: --no-remove);
#  - libsqlcipher-dev:A is not Multi-Arch (it would replace the amd64 one every native build
#    uses), and libwebsockets-dev:A is but cannot be co-installed (its lws_config.h differs from
#    the amd64 one: dpkg refuses): their .debs are unpacked into /opt/veil-cross/A instead, with
#    pkg-config files pointing at the runtime libraries (libsqlcipher0:A, libwebsockets17:A, which
#    are Multi-Arch) in /usr/lib/TRIPLET;
#  - installing an A library at the version of the mirror may upgrade its amd64 twin (and what
#    depends on that) to the same version: Multi-Arch: same packages move together;
#  - catch2, nlohmann-json3-dev and libcli11-dev are header-only (Multi-Arch: foreign or all):
#    the amd64 packages from scripts/setup.sh serve every architecture.
set -euo pipefail
arches=("$@")
((${#arches[@]})) || arches=(arm64 armhf)
libs=(libsodium-dev libuv1-dev libboost-dev libboost-filesystem-dev libtomlplusplus-dev
      libspdlog-dev libfmt-dev libqrencode-dev zlib1g-dev libcap-dev libwebsockets17
      libwebsockets-evlib-uv libsqlcipher0)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

triplet() {
  case "$1" in
    arm64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
    *) echo "setup-cross: unknown architecture $1 (arm64 or armhf)" >&2; exit 2 ;;
  esac
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
installed qemu-user || missing+=(qemu-user)
installed dpkg-dev || missing+=(dpkg-dev)
new_arch=0
for a in "${arches[@]}"; do
  triplet "$a" >/dev/null
  if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
    $SUDO dpkg --add-architecture "$a"
    new_arch=1
  fi
  installed "crossbuild-essential-$a" || missing+=("crossbuild-essential-$a")
  for l in "${libs[@]}"; do installed "$l:$a" || missing+=("$l:$a"); done
done
if ((${#missing[@]})) || ((new_arch)); then
  $SUDO apt-get update -qq
fi
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}"
fi

# unpack_aside ARCH DEV_PACKAGE RUNTIME_PACKAGE LIB PC: DEV_PACKAGE:ARCH (at RUNTIME_PACKAGE's
# version) unpacked into /opt/veil-cross/ARCH: its headers in include/, libLIB.so linked to the
# multiarch runtime library, its PC.pc rewritten to that prefix (see above).
unpack_aside() {
  local a=$1 dev=$2 runtime=$3 lib=$4 pcname=$5 t dest pc version work so
  t="$(triplet "$a")"
  dest="/opt/veil-cross/$a"
  pc="$dest/lib/pkgconfig/$pcname.pc"
  version="$(dpkg-query -W -f='${Version}' "$runtime:$a")"
  if [ -f "$pc" ] && grep -qx "# $dev:$a $version" "$pc"; then return 0; fi
  work="$(mktemp -d /tmp/veil-cross-dev.XXXXXX)"
  (cd "$work" && apt-get download -qq "$dev:$a=$version")
  dpkg-deb -x "$work/${dev}_${version#*:}_$a.deb" "$work/root"
  $SUDO mkdir -p "$dest/include" "$dest/lib/pkgconfig"
  $SUDO cp -r "$work/root/usr/include/." "$dest/include/"
  so="$(basename "$(readlink "$work/root/usr/lib/$t/lib$lib.so")")"
  $SUDO ln -sf "/usr/lib/$t/$so" "$dest/lib/lib$lib.so"
  sed -e "1i # $dev:$a $version" -e "s|^prefix=.*|prefix=$dest|" -e "s|^exec_prefix=.*|exec_prefix=$dest|" \
      -e "s|^libdir=.*|libdir=$dest/lib|" -e "s|^includedir=.*|includedir=$dest/include|" \
      "$work/root/usr/lib/$t/pkgconfig/$pcname.pc" | $SUDO tee "$pc" >/dev/null
  rm -rf "$work"
  echo "setup-cross: $dev:$a $version unpacked in $dest"
}

for a in "${arches[@]}"; do
  unpack_aside "$a" libsqlcipher-dev libsqlcipher0 sqlcipher sqlcipher
  unpack_aside "$a" libwebsockets-dev libwebsockets17 websockets libwebsockets
done
