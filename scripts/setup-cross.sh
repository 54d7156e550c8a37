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
#  - libsqlcipher-dev:A is NOT Multi-Arch (it would replace the amd64 one every native build
#    uses): its .deb is unpacked into /opt/veil-cross/A instead, with a pkg-config file pointing
#    at the runtime library libsqlcipher0:A (which is Multi-Arch) in /usr/lib/TRIPLET;
#  - catch2, nlohmann-json3-dev and libcli11-dev are header-only (Multi-Arch: foreign or all):
#    the amd64 packages from scripts/setup.sh serve every architecture.
set -euo pipefail
arches=("$@")
((${#arches[@]})) || arches=(arm64 armhf)
libs=(libsodium-dev libuv1-dev libboost-dev libboost-filesystem-dev libtomlplusplus-dev
      libspdlog-dev libfmt-dev libqrencode-dev zlib1g-dev libwebsockets-dev libwebsockets-evlib-uv
      libsqlcipher0)
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

# libsqlcipher-dev:A unpacked aside (see above); its .pc rewritten to the multiarch runtime.
for a in "${arches[@]}"; do
  t="$(triplet "$a")"
  dest="/opt/veil-cross/$a"
  pc="$dest/lib/pkgconfig/sqlcipher.pc"
  version="$(dpkg-query -W -f='${Version}' "libsqlcipher0:$a")"
  if [ -f "$pc" ] && grep -qx "# libsqlcipher-dev:$a $version" "$pc"; then continue; fi
  work="$(mktemp -d /tmp/veil-cross-sqlcipher.XXXXXX)"
  (cd "$work" && apt-get download -qq "libsqlcipher-dev:$a=$version")
  dpkg-deb -x "$work"/libsqlcipher-dev_*_"$a".deb "$work/root"
  $SUDO mkdir -p "$dest/include" "$dest/lib/pkgconfig"
  $SUDO rm -rf "$dest/include/sqlcipher"
  $SUDO cp -r "$work/root/usr/include/sqlcipher" "$dest/include/"
  $SUDO ln -sf "/usr/lib/$t/libsqlcipher.so.0" "$dest/lib/libsqlcipher.so"
  sed -e "1i # libsqlcipher-dev:$a $version" -e "s|^prefix=.*|prefix=$dest|" \
      -e "s|^libdir=.*|libdir=\${prefix}/lib|" "$work/root/usr/lib/$t/pkgconfig/sqlcipher.pc" |
    $SUDO tee "$pc" >/dev/null
  rm -rf "$work"
  echo "setup-cross: libsqlcipher-dev:$a $version unpacked in $dest"
done
