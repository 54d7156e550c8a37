#!/usr/bin/env bash
# ARM builds tested under qemu-user (issue 18, docs/small-devices.md), one architecture after
# the other: setup (scripts/setup-cross.sh), `cmake --preset cross-ARCH`, the unit tests of
# crypto, kernel, storage and attachments (exif-strip) built and run under qemu (`ctest --preset
# cross-ARCH`), then scripts/cross-e2e.sh (a testnet and two clients). Not part of
# scripts/test.sh: it takes longer than CI's budget leaves (the figures are in the doc).
# Usage: scripts/cross-test.sh [arm64] [armhf] [--no-e2e]   (default: both, with the e2e run)
set -euo pipefail
cd "$(dirname "$0")/.."
arches=() e2e=1
for a in "$@"; do
  case "$a" in arm64|armhf) arches+=("$a") ;; --no-e2e) e2e=0 ;; *) echo "unknown argument $a" >&2; exit 2 ;; esac
done
((${#arches[@]})) || arches=(arm64 armhf)
scripts/setup-cross.sh "${arches[@]}"
jobs="${VEIL_JOBS:-2}"
for a in "${arches[@]}"; do
  start=$EPOCHREALTIME
  cmake --preset "cross-$a" > /dev/null
  nice cmake --build --preset "cross-$a" -j"$jobs"
  built=$EPOCHREALTIME
  ctest --preset "cross-$a" -j"$jobs"
  tested=$EPOCHREALTIME
  ((e2e)) && scripts/cross-e2e.sh "$a"
  awk -v a="$a" -v s="$start" -v b="$built" -v t="$tested" -v e="$EPOCHREALTIME" 'BEGIN {
    printf "cross-test %s: build %.0f s, unit tests %.0f s, e2e %.0f s\n", a, b - s, t - b, e - t }'
done
