#!/usr/bin/env bash
# Builds the static archives Debian 12 does not ship, for the static-client and static-node presets
# (VEIL_STATIC_DEPS; docs/operating.md#static-builds), from Debian's own source packages at the
# version installed here (so the objects compiled against Debian's headers link unchanged, and
# Debian's patches are in):
#  - fmtlib (fmt 9.1.0), spdlog (1.10.0, compiled-library mode, external fmt): Debian has only
#    their .so;
#  - qrencode (4.1.1): Debian has only libqrencode.so;
#  - libwebsockets (4.1.6) with libuv built in: Debian's libwebsockets.a has no libuv event loop
#    (it lives in the dlopen'd libwebsockets-evlib_uv.so, linked to the shared libraries). No
#    TLS: the web page listens on 127.0.0.1 only;
#  - toml++ (compiled mode): one translation unit over the installed libtomlplusplus-dev headers.
# Sources come with `apt-get source` through a private apt state in a scratch directory: deb-src
# entries made from the system's own deb entries (same mirrors and keys), its own lists and
# cache; /etc/apt and /var/lib/apt are left untouched. Needs dpkg-dev and network access to the
# Debian mirror only.
# Installs into PREFIX (default /opt/veil-static; VEIL_STATIC_DEPS_PREFIX in CMake).
# Usage: scripts/static-deps.sh [PREFIX]   (a few minutes on 2 cores)
set -euo pipefail
prefix="${1:-/opt/veil-static}"
work="$(mktemp -d /tmp/veil-static-deps.XXXXXX)"
trap 'rm -rf "$work"' EXIT
jobs="${VEIL_JOBS:-2}"

# A private apt configuration with the deb-src twins of the system's deb entries.
apt_dir="$work/apt"
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$apt_dir/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -n 's/^deb \(.*\)/deb-src \1/p' "$f" >> "$apt_dir/parts/system.list"
done
apt_src=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt_dir/parts"
  -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
  -o APT::Sandbox::User=root)
apt-get "${apt_src[@]}" -qq update

# fetch DEV_PACKAGE: unpacks the Debian source (with Debian's patches) of DEV_PACKAGE's installed
# version into $work and prints its directory.
fetch() {
  local spec name version
  spec="$(dpkg-query -W -f='${source:Package}=${source:Version}' "$1")"
  name="${spec%%=*}" version="${spec#*=}"
  version="${version#*:}"
  (cd "$work" && apt-get "${apt_src[@]}" -qq source "$spec" > "$work/$name.log" 2>&1) ||
    { cat "$work/$name.log" >&2; echo "static-deps: apt-get source $spec failed" >&2; return 1; }
  echo "$work/$name-${version%-*}"
}

# build DEV_PACKAGE CMAKE_ARGS...: the Debian source of DEV_PACKAGE built static into $prefix.
build() {
  local pkg=$1 src
  shift
  src="$(fetch "$pkg")"
  cmake -S "$src" -B "$src/veil-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF "$@" >/dev/null
  nice ninja -C "$src/veil-build" -j"$jobs" install >/dev/null
  echo "$(basename "$src") (Debian source): installed in $prefix"
}

# VEIL_STATIC_DEPS_ONLY="fmt qrencode" builds only those (default: all five).
only="${VEIL_STATIC_DEPS_ONLY:-fmt spdlog toml qrencode websockets}"
want() { [[ " $only " == *" $1 "* ]]; }

want fmt && build libfmt-dev -DFMT_TEST=OFF -DFMT_DOC=OFF
want spdlog && build libspdlog-dev -DSPDLOG_FMT_EXTERNAL=ON -DSPDLOG_BUILD_EXAMPLE=OFF \
  -DSPDLOG_BUILD_SHARED=OFF -DSPDLOG_BUILD_TESTS=OFF -DSPDLOG_BUILD_BENCH=OFF
if want toml; then
  # toml++ is one translation unit over Debian's own headers, as Debian's libtomlplusplus.so.
  mkdir -p "$work/toml" "$prefix/lib"
  printf '#define TOML_IMPLEMENTATION\n#include <toml++/toml.h>\n' > "$work/toml/toml.cpp"
  nice c++ -std=c++17 -O2 -fPIC -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 -c "$work/toml/toml.cpp" \
    -o "$work/toml/toml.o"
  ar rcs "$prefix/lib/libtomlplusplus.a" "$work/toml/toml.o"
  echo "tomlplusplus (Debian's headers): installed in $prefix"
fi
want qrencode && build libqrencode-dev -DWITH_TOOLS=OFF -DWITH_TESTS=OFF
want websockets && build libwebsockets-dev \
  -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON -DLWS_WITH_LIBUV=ON -DLWS_WITH_EVLIB_PLUGINS=OFF \
  -DLWS_WITH_SSL=OFF -DLWS_WITHOUT_TESTAPPS=ON -DLWS_WITHOUT_TEST_SERVER=ON \
  -DLWS_WITHOUT_TEST_CLIENT=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF -DLWS_IPV6=OFF \
  -DLWS_WITH_PLUGINS=OFF -DDISABLE_WERROR=ON
true
