# Cross build for 32-bit ARM with hardware floating point (armhf: Raspberry Pi 2 and later with a
# 32-bit OS, ARMv7), run under qemu-arm. Preset cross-armhf; scripts/setup-cross.sh armhf.
set(VEIL_CROSS_TRIPLET arm-linux-gnueabihf)
set(VEIL_CROSS_ARCH armhf)
set(VEIL_CROSS_PROCESSOR armv7l)
set(VEIL_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
