#!/usr/bin/env bash
# Installs every build and test dependency of Veil from Debian 12's packages.
# --cross [arm64] [armhf]: then also the ARM cross toolchains, qemu-user and the ARM -dev
# packages (scripts/setup-cross.sh; default both).
set -euo pipefail
cross=()
if [ "${1:-}" = "--cross" ]; then
  shift
  cross=("$@")
  ((${#cross[@]})) || cross=(arm64 armhf)
fi
packages=(
  build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev
  libsodium-dev libuv1-dev libboost-dev libboost-filesystem-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev catch2 nlohmann-json3-dev libcli11-dev
  libsqlcipher-dev sqlcipher libqrencode-dev libbenchmark-dev
  zlib1g-dev libturbojpeg0-dev imagemagick libimage-exiftool-perl webp libjpeg-turbo-progs icc-profiles-free
  ffmpeg libheif-examples
  libwebsockets-dev libwebsockets-evlib-uv chromium nodejs python3
  iproute2 libfaketime systemd
)
# npm ships inside some nodejs builds (and Debian's npm conflicts with those): add it only when missing.
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Browser tests: playwright-core from npm (tests/web/package-lock.json) drives Debian's chromium.
web_tests="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/web"
if [ -f "$web_tests/package-lock.json" ] && [ ! -d "$web_tests/node_modules" ]; then
  (cd "$web_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi
if ((${#cross[@]})); then
  "$(dirname "${BASH_SOURCE[0]}")/setup-cross.sh" "${cross[@]}"
fi
