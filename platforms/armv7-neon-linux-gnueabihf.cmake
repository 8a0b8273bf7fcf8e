# SPDX-License-Identifier: Apache-2.0
# Cross toolchain: 32-bit ARMv7-A Linux with NEON, hard-float (Raspberry Pi 2/3 on a 32-bit OS,
# BeagleBone, i.MX6, Zynq-7000...).
# Debian: apt-get install g++-arm-linux-gnueabihf qemu-user
#   cmake --preset armv7      (Cortex-A7/A15/A17, or an A53/A72 running 32-bit code)
#   cmake --preset armv7-a9   (Cortex-A8/A9)
#
# The FPU switch, FENNEC_ARMV7_FPU (cache variable, or the environment variable of that name):
#   neon-vfpv4 (default)  Cortex-A7/A15/A17 and ARMv8 cores in AArch32. Has fused multiply-add:
#                         the NEON kernels use vfma.f32. A binary built this way dies with SIGILL
#                         on a real Cortex-A8/A9 (qemu-arm 7.2 -cpu cortex-a9 does NOT trap it).
#   neon                  Cortex-A8/A9 (VFPv3 + NEON, no FMA): multiply-add is vmul + vadd,
#                         so results differ from the vfpv4 build in the last bits.
# Debian's armhf default (-march=armv7-a+fp) has no NEON at all: xsimd then has no batch type,
# which is why the flags below are required. The qemu core model follows the choice.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER   arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

if(NOT DEFINED FENNEC_ARMV7_FPU)
  if(DEFINED ENV{FENNEC_ARMV7_FPU})
    set(FENNEC_ARMV7_FPU "$ENV{FENNEC_ARMV7_FPU}")
  else()
    set(FENNEC_ARMV7_FPU neon-vfpv4)
  endif()
endif()
set(FENNEC_ARMV7_FPU "${FENNEC_ARMV7_FPU}" CACHE STRING "ARMv7 FPU: neon-vfpv4 (A7/A15/A17) or neon (A8/A9)")
set_property(CACHE FENNEC_ARMV7_FPU PROPERTY STRINGS neon-vfpv4 neon)
# try_compile re-reads this file in a fresh project: pass the choice along.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FENNEC_ARMV7_FPU)

if(FENNEC_ARMV7_FPU STREQUAL "neon-vfpv4")
  set(_fennec_qemu_cpu cortex-a7)
elseif(FENNEC_ARMV7_FPU STREQUAL "neon")
  set(_fennec_qemu_cpu cortex-a9)
else()
  message(FATAL_ERROR "FENNEC_ARMV7_FPU must be neon-vfpv4 or neon, got '${FENNEC_ARMV7_FPU}'")
endif()

set(CMAKE_C_FLAGS_INIT   "-march=armv7-a -mfpu=${FENNEC_ARMV7_FPU} -mfloat-abi=hard")
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=${FENNEC_ARMV7_FPU} -mfloat-abi=hard")

set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)   # xsimd/Catch2 headers are in the host /usr/include
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-cpu;${_fennec_qemu_cpu};-L;/usr/arm-linux-gnueabihf)
