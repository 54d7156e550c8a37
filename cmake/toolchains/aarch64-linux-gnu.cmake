# Cross build for 64-bit ARM (arm64: Raspberry Pi 3/4/5 with a 64-bit OS), run under qemu-aarch64.
# Preset cross-arm64; scripts/setup-cross.sh arm64 installs what it needs.
set(VEIL_CROSS_TRIPLET aarch64-linux-gnu)
set(VEIL_CROSS_ARCH arm64)
set(VEIL_CROSS_PROCESSOR aarch64)
set(VEIL_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
