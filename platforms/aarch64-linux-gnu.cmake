# SPDX-License-Identifier: Apache-2.0
# Cross toolchain: 64-bit ARM Linux (Raspberry Pi 3/4/5 with a 64-bit OS, Graviton, Ampere...).
# Debian: apt-get install g++-aarch64-linux-gnu qemu-user
#   cmake --preset aarch64  (or -DCMAKE_TOOLCHAIN_FILE=platforms/aarch64-linux-gnu.cmake)
# NEON (Advanced SIMD) is part of the AArch64 baseline: no -m flags are needed and the neon64
# kernel table is compiled in. ctest runs every test under qemu-aarch64 pinned to a Cortex-A53
# (the Pi 3 core; the Pi 4 is an A72, the Pi 5 an A76, all ARMv8-A with the same float semantics).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER   aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
# BOTH, not ONLY: the header-only xsimd and Catch2 live in the host's /usr/include and
# /usr/lib/cmake; ONLY makes find_path(xsimd/xsimd.hpp) fail.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# binfmt_misc is not assumed: tests (and Catch2 test discovery at build time) run through qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;cortex-a53;-L;/usr/aarch64-linux-gnu)
