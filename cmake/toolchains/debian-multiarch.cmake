# Shared by the ARM toolchain files (aarch64-linux-gnu.cmake, arm-linux-gnueabihf.cmake): a cross
# build against Debian 12's multiarch packages (scripts/setup-cross.sh installs them), run under
# qemu-user. The includer sets VEIL_CROSS_TRIPLET, VEIL_CROSS_ARCH (Debian's name),
# VEIL_CROSS_PROCESSOR and VEIL_CROSS_QEMU.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${VEIL_CROSS_PROCESSOR})
set(CMAKE_LIBRARY_ARCHITECTURE ${VEIL_CROSS_TRIPLET})
set(CMAKE_C_COMPILER ${VEIL_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${VEIL_CROSS_TRIPLET}-g++)

# No sysroot: the multiarch libraries live in /usr/lib/TRIPLET and their headers in /usr/include
# (and /usr/include/TRIPLET), which Debian's cross compilers search. Programs run at build time
# (cmake, sh) are the host's; libraries and packages are only the target's (lib/TRIPLET, or the
# architecture-independent /usr/share and /usr/lib/cmake).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# pkg-config sees only the target's .pc files, and the libsqlcipher-dev that setup-cross.sh
# unpacked in /opt/veil-cross/ARCH (that package is not Multi-Arch: installing it would remove
# the amd64 one).
set(ENV{PKG_CONFIG_LIBDIR}
    "/opt/veil-cross/${VEIL_CROSS_ARCH}/lib/pkgconfig:/usr/lib/${VEIL_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Every program of ours that runs on this machine (tests registered with ctest, anything run at
# build time) goes through qemu-user, named explicitly: binfmt_misc is not assumed.
# -L: the dynamic loader and libraries under the cross libc's root first, then /.
find_program(VEIL_CROSS_QEMU_PATH ${VEIL_CROSS_QEMU} NO_CACHE)
if(NOT VEIL_CROSS_QEMU_PATH)
  message(FATAL_ERROR "${VEIL_CROSS_QEMU} not found: run scripts/setup-cross.sh ${VEIL_CROSS_ARCH}")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${VEIL_CROSS_QEMU_PATH} -L /usr/${VEIL_CROSS_TRIPLET})
