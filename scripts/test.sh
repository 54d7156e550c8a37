#!/usr/bin/env bash
# Sets everything up, builds Veil and runs every test that is not [slow]:
# the Catch2 suites (gcc, warnings as errors) and short libFuzzer runs (clang, ASan+UBSan).
# Usage: scripts/test.sh [--slow] [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
slow=0; fuzz=1
for a in "$@"; do
  case "$a" in --slow) slow=1 ;; --no-fuzz) fuzz=0 ;; *) echo "unknown option $a" >&2; exit 2 ;; esac
done
scripts/setup.sh
jobs=$(nproc)

# Builds follow CMakePresets.json (werror: build/, static-minimal: build-static-minimal/, fuzz: build-fuzz/).
cmake --preset werror
cmake --build --preset werror -j"$jobs"
if ((slow)); then
  ctest --test-dir build --output-on-failure -j"$jobs"
else
  ctest --test-dir build --output-on-failure -j"$jobs" -LE slow
fi

# The static minimal build (kernel + direct + memory + cli + the SDK linked in, no dlopen, no
# libveil-*.so) for small devices: build it and run the kernel's integration tests against it.
cmake --preset static-minimal
cmake --build --preset static-minimal -j"$jobs"
ctest --test-dir build-static-minimal --output-on-failure -R '^(veil_kernel_integration_tests|kernel_static_links_no_veil_library)$'

if ((fuzz)); then
  cmake --preset fuzz
  cmake --build --preset fuzz -j"$jobs"
  ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz
fi
