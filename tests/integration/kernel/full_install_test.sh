#!/bin/sh
# Installs every component into PREFIX and runs the installed veil with an empty environment
# (no LD_LIBRARY_PATH): the executable, the SDK libraries and the plugins must find their
# libraries through their RUNPATH alone.
# usage: full_install_test.sh CMAKE BUILD_DIR PREFIX
set -eu
cmake=$1 build=$2 prefix=$3
rm -rf "$prefix"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
env -i HOME="$work" "$prefix/bin/veil" version
env -i HOME="$work" "$prefix/bin/veil" plugins
status=0
for f in "$prefix/bin/veil" "$prefix"/lib*/libveil-*.so* "$prefix"/lib*/veil/plugins/*.so; do
    [ -f "$f" ] || continue
    if env -i ldd "$f" | grep "not found"; then
        echo "unresolved library in $f" >&2
        status=1
    fi
done
exit $status
