#!/bin/sh
# A static build's veil loads no shared library but the C library's own (VEIL_STATIC_DEPS):
# ldd may list only the vDSO, the dynamic loader, libc, libm and glibc's pre-2.34 split-off
# parts (libpthread, libdl, librt). Anything else is printed and fails the test.
# --allow-cxx-runtime also lets libstdc++ and libgcc_s through (VEIL_STATIC_CXX_RUNTIME off).
# Usage: static_links_test.sh EXECUTABLE [--allow-cxx-runtime]
set -eu
exe=$1
extra=""
[ "${2:-}" = --allow-cxx-runtime ] && extra='|libstdc\+\+\.so\.[0-9]+ |libgcc_s\.so\.[0-9]+ '
out=$(ldd "$exe" 2>&1) || { echo "$out" | grep -q "not a dynamic executable" && exit 0; echo "$out"; exit 1; }
echo "$out"
bad=$(echo "$out" | grep -Ev "^[[:space:]]*(linux-vdso\.so|linux-gate\.so|/lib[^ ]*/ld-linux[^ ]*\.so|ld-linux[^ ]*\.so|lib(c|m|pthread|dl|rt)\.so\.[0-9]+ $extra)" || true)
if [ -n "$bad" ]; then
  echo "not glibc, so not allowed in a static build:"
  echo "$bad"
  exit 1
fi
