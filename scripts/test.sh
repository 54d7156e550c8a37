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

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVEIL_WERROR=ON
cmake --build build -j"$jobs"
if ((slow)); then
  ctest --test-dir build --output-on-failure -j"$jobs"
else
  ctest --test-dir build --output-on-failure -j"$jobs" -LE slow
fi

# The static minimal build (kernel + direct + memory + cli linked in, no dlopen) for small
# devices: build it and run the kernel's integration tests against it.
cmake -S . -B build-static -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVEIL_WERROR=ON \
  -DVEIL_STATIC_PLUGINS="direct;memory;cli" -DVEIL_BUILD_BENCH=OFF
cmake --build build-static -j"$jobs" --target veil veil_kernel_integration_tests
ctest --test-dir build-static --output-on-failure -R '^veil_kernel_integration_tests$'

if ((fuzz)); then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVEIL_FUZZ=ON -DVEIL_WERROR=ON
  cmake --build build-fuzz -j"$jobs" --target veil_fuzzers
  ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz
fi
