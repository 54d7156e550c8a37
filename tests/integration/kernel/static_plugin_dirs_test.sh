#!/bin/sh
# A veil with its own C++ runtime (VEIL_STATIC_CXX_RUNTIME) refuses kernel.plugin_dirs and
# VEIL_PLUGIN_PATH with a clear error instead of dlopen'ing a plugin that would abort it; with
# neither it still runs its built-in plugins.
# Usage: static_plugin_dirs_test.sh EXECUTABLE
set -u
exe=$1
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
expect_refused() {  # WHAT COMMAND...
  what=$1; shift
  out=$("$@" 2>&1) && { echo "$what: accepted (exit 0): $out"; exit 1; }
  echo "$out" | grep -q "loads no plugin from a directory" || { echo "$what: unclear error: $out"; exit 1; }
}
expect_refused "kernel.plugin_dirs" env -u VEIL_PLUGIN_PATH "$exe" --home "$dir" --set "kernel.plugin_dirs=[\"$dir\"]" version
expect_refused "VEIL_PLUGIN_PATH" env VEIL_PLUGIN_PATH="$dir" "$exe" --home "$dir" version
env -u VEIL_PLUGIN_PATH "$exe" --home "$dir" version >/dev/null || { echo "plain veil version failed"; exit 1; }
echo ok
