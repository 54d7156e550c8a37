#!/usr/bin/env bash
# Builds the static archives Debian 12 does not ship, for the static presets (VEIL_STATIC_DEPS:
# static-minimal, static-client, static-node; docs/operating.md#static-builds). Each at the
# version of Debian's package, so the objects compiled against Debian's headers link unchanged:
#  - fmt 9.1.0, spdlog 1.10.0 (compiled-library mode, external fmt), toml++ 3.3.0 (compiled
#    mode): Debian has only their .so;
#  - libqrencode 4.1.1: Debian has only libqrencode.so;
#  - libwebsockets 4.1.6 with libuv built in: Debian's libwebsockets.a has no libuv event loop
#    (it lives in the dlopen'd libwebsockets-evlib_uv.so, linked to the shared libraries). No
#    TLS: the web page listens on 127.0.0.1 only.
# Installs into PREFIX (default /opt/veil-static; VEIL_STATIC_DEPS_PREFIX in CMake).
# Usage: scripts/static-deps.sh [PREFIX]   (a few minutes on 2 cores)
# VEIL_STATIC_DEPS_GIT=DIR takes the sources from DIR/<name> (git repositories) instead of GitHub.
set -euo pipefail
prefix="${1:-/opt/veil-static}"
work="$(mktemp -d /tmp/veil-static-deps.XXXXXX)"
trap 'rm -rf "$work"' EXIT
jobs="${VEIL_JOBS:-2}"

# build NAME URL TAG CMAKE_ARGS...: a checkout of TAG, built static and installed in $prefix.
build() {
  local name=$1 url=$2 tag=$3 src
  shift 3
  src="${VEIL_STATIC_DEPS_GIT:+$VEIL_STATIC_DEPS_GIT/$name}"
  git clone -q --depth 1 --branch "$tag" "${src:-$url}" "$work/$name" 2>/dev/null ||
    git clone -q --branch "$tag" "${src:-$url}" "$work/$name"
  cmake -S "$work/$name" -B "$work/$name/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF "$@" >/dev/null
  nice ninja -C "$work/$name/build" -j"$jobs" install >/dev/null
  echo "$name $tag: installed in $prefix"
}

build fmt https://github.com/fmtlib/fmt.git 9.1.0 -DFMT_TEST=OFF -DFMT_DOC=OFF
build spdlog https://github.com/gabime/spdlog.git v1.10.0 -DSPDLOG_FMT_EXTERNAL=ON \
  -DSPDLOG_BUILD_EXAMPLE=OFF -DSPDLOG_BUILD_SHARED=OFF
# toml++ is one translation unit over Debian's own headers, as Debian's libtomlplusplus.so.
mkdir -p "$work/toml" "$prefix/lib"
printf '#define TOML_IMPLEMENTATION\n#include <toml++/toml.h>\n' > "$work/toml/toml.cpp"
nice c++ -std=c++17 -O2 -fPIC -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 -c "$work/toml/toml.cpp" \
  -o "$work/toml/toml.o"
ar rcs "$prefix/lib/libtomlplusplus.a" "$work/toml/toml.o"
echo "tomlplusplus (Debian's headers): installed in $prefix"
build libqrencode https://github.com/fukuchi/libqrencode.git v4.1.1 -DWITH_TOOLS=OFF -DWITH_TESTS=OFF
build libwebsockets https://github.com/warmcat/libwebsockets.git v4.1.6 \
  -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON -DLWS_WITH_LIBUV=ON -DLWS_WITH_EVLIB_PLUGINS=OFF \
  -DLWS_WITH_SSL=OFF -DLWS_WITHOUT_TESTAPPS=ON -DLWS_WITHOUT_TEST_SERVER=ON \
  -DLWS_WITHOUT_TEST_CLIENT=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF -DLWS_IPV6=OFF \
  -DLWS_WITH_PLUGINS=OFF -DDISABLE_WERROR=ON
