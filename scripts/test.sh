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

# ctest in build dir $1 (the rest are ctest options). On failure, the end of each failed test's
# output is printed again last, so a long log cut in the middle still shows why.
run_ctest() {
  local dir=$1; shift
  ctest --test-dir "$dir" --output-on-failure "$@" && return 0
  local rc=$? log="$dir/Testing/Temporary/LastTest.log"
  echo "=== failed in $dir: the last 60 lines of each failed test's output ==="
  for name in $(cut -d: -f2 "$dir/Testing/Temporary/LastTestsFailed.log" 2>/dev/null); do
    echo "--- $name"
    awk -v t="$name" '$0 ~ ("Test: " t "$") {on=1; next} on && /^<end of output>$/ {on=0} on {print}' "$log" | tail -n 60
  done
  return "$rc"
}

# Builds follow CMakePresets.json (werror: build/, static-minimal: build-static-minimal/, fuzz: build-fuzz/).
cmake --preset werror
cmake --build --preset werror -j"$jobs"
# Guard mutants (label mutants, an hour or more) run only when asked: scripts/mutants.sh.
if ((slow)); then
  run_ctest build -j"$jobs" -LE mutants
else
  run_ctest build -j"$jobs" -LE 'slow|mutants'
fi

# The static minimal build (kernel + direct + memory + cli + the SDK linked in, no dlopen, no
# libveil-*.so; system libraries stay shared, so it needs only Debian's packages) for small
# devices: build it and run the kernel's integration tests against it. The libc-only builds
# (static-client, static-node) need scripts/static-deps.sh and are not built here.
cmake --preset static-minimal
cmake --build --preset static-minimal -j"$jobs"
run_ctest build-static-minimal -R '^(veil_kernel_integration_tests|kernel_static_links_no_veil_library)$'

if ((fuzz)); then
  cmake --preset fuzz
  cmake --build --preset fuzz -j"$jobs"
  run_ctest build-fuzz -j"$jobs" -L fuzz
fi
