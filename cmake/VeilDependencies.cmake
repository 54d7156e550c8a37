# All third-party dependencies come from Debian 12 packages (scripts/setup.sh installs them).
# VEIL_STATIC_DEPS (static-client, static-node; not static-minimal): every third-party library is
# linked from its static archive, so the veil executable needs only the C library (glibc: libc,
# libm, ld.so) and, unless VEIL_STATIC_CXX_RUNTIME, the C++ runtime (libstdc++, libgcc_s) at run
# time. What Debian ships no usable archive of comes from scripts/static-deps.sh (built from
# Debian's source packages), installed in VEIL_STATIC_DEPS_PREFIX and searched first.
option(VEIL_STATIC_DEPS "Link third-party libraries statically (static-client, static-node presets)" OFF)
option(VEIL_STATIC_CXX_RUNTIME "With VEIL_STATIC_DEPS, libstdc++ and libgcc static too (no dlopen'd plugins then)" OFF)
set(VEIL_STATIC_DEPS_PREFIX "/opt/veil-static" CACHE PATH
    "Where scripts/static-deps.sh installed libqrencode.a and libwebsockets.a (VEIL_STATIC_DEPS)")
if(VEIL_STATIC_DEPS)
  list(PREPEND CMAKE_PREFIX_PATH ${VEIL_STATIC_DEPS_PREFIX})
  set(Boost_USE_STATIC_LIBS ON)
  set(ZLIB_USE_STATIC_LIBS ON)   # exif-strip
endif()

find_package(PkgConfig REQUIRED)

# The C library's parts, which stay dynamic in a static build.
set(_veil_libc_parts c m dl rt pthread)

# veil_pkg_modules(PREFIX MODULE): pkg_check_modules(PREFIX REQUIRED IMPORTED_TARGET MODULE), and
# with VEIL_STATIC_DEPS the target PkgConfig::PREFIX links the static archive of every library
# `pkg-config --static` names (private dependencies included); a missing archive is an error.
macro(veil_pkg_modules prefix module)
  pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET ${module})
  if(VEIL_STATIC_DEPS)
    _veil_link_static_archives(${prefix})
  endif()
endmacro()

function(_veil_link_static_archives prefix)
  set(archives "")
  foreach(name IN LISTS ${prefix}_STATIC_LIBRARIES)
    if(name IN_LIST _veil_libc_parts)
      list(APPEND archives ${name})
      continue()
    endif()
    # Debian names libuv's archive libuv_a.a.
    find_library(VEIL_ARCHIVE_${name} NAMES lib${name}.a lib${name}_a.a
                 HINTS ${VEIL_STATIC_DEPS_PREFIX}/lib ${${prefix}_STATIC_LIBRARY_DIRS})
    if(NOT VEIL_ARCHIVE_${name})
      message(FATAL_ERROR "VEIL_STATIC_DEPS: no lib${name}.a (needed by ${prefix}); "
        "install its -dev package or run scripts/static-deps.sh ${VEIL_STATIC_DEPS_PREFIX}")
    endif()
    # Only an executable takes the archive (not all are -fPIC, as Debian's libuv_a.a): a shared
    # object built here (the plugin host's test fixtures) links the shared library as before.
    string(REGEX REPLACE "_a$" "" shared ${name})
    list(APPEND archives "$<IF:$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>,${VEIL_ARCHIVE_${name}},${shared}>")
  endforeach()
  set_property(TARGET PkgConfig::${prefix} PROPERTY INTERFACE_LINK_LIBRARIES "${archives}")
  set_property(TARGET PkgConfig::${prefix} PROPERTY INTERFACE_LINK_OPTIONS "")
  set_property(TARGET PkgConfig::${prefix} PROPERTY INTERFACE_LINK_DIRECTORIES "")
endfunction()

# _veil_static_target(TARGET NAME DEFINITIONS OPTIONS LINKS): TARGET links libNAME.a from
# VEIL_STATIC_DEPS_PREFIX, with Debian's package's compile definitions and options.
function(_veil_static_target target name definitions options links)
  find_library(VEIL_ARCHIVE_${name} NAMES lib${name}.a PATHS ${VEIL_STATIC_DEPS_PREFIX}/lib NO_DEFAULT_PATH)
  if(NOT VEIL_ARCHIVE_${name})
    message(FATAL_ERROR "VEIL_STATIC_DEPS: no lib${name}.a in ${VEIL_STATIC_DEPS_PREFIX}/lib; "
      "run scripts/static-deps.sh ${VEIL_STATIC_DEPS_PREFIX}")
  endif()
  add_library(${target} STATIC IMPORTED)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION ${VEIL_ARCHIVE_${name}}
    INTERFACE_COMPILE_DEFINITIONS "${definitions}" INTERFACE_COMPILE_OPTIONS "${options}"
    INTERFACE_LINK_LIBRARIES "${links}")
endfunction()

veil_pkg_modules(SODIUM libsodium>=1.0.18)
if(VEIL_STATIC_DEPS)
  veil_pkg_modules(LIBUV libuv-static>=1.44)   # Debian names the archive libuv_a.a
else()
  veil_pkg_modules(LIBUV libuv>=1.44)
endif()
veil_pkg_modules(SQLCIPHER sqlcipher)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)
find_package(Threads REQUIRED)
if(VEIL_STATIC_DEPS)
  # Debian ships toml++, spdlog and fmt as shared libraries only: scripts/static-deps.sh builds
  # archives of the same versions. The targets keep the compile flags of Debian's (they only set
  # symbol visibility), so an object compiles as in the shared build and ccache shares it.
  _veil_static_target(fmt::fmt fmt "FMT_SHARED" "" "")
  _veil_static_target(spdlog::spdlog spdlog "SPDLOG_SHARED_LIB;SPDLOG_COMPILED_LIB;SPDLOG_FMT_EXTERNAL"
                      "" "Threads::Threads;fmt::fmt")
  _veil_static_target(tomlplusplus::tomlplusplus tomlplusplus ""
                      "-DTOML_HEADER_ONLY=0;-DTOML_SHARED_LIB=1" "")
  # libstdc++ and libgcc from their archives too (static-client, static-node). Such an executable
  # has its own C++ runtime and unwinder: an exception thrown in a plugin it dlopens (built
  # against the shared runtime) aborts it. static-minimal keeps them shared, since its tests
  # load the plugin host's fixture plugins into it.
  if(VEIL_STATIC_CXX_RUNTIME)
    add_link_options($<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-static-libstdc++>
                     $<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-static-libgcc>)
  endif()
else()
  find_package(tomlplusplus REQUIRED)
  find_package(spdlog REQUIRED)
endif()
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
