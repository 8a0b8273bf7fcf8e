# SPDX-License-Identifier: Apache-2.0
# Cross toolchain: bare-metal Cortex-M4F (STM32F4, nRF52, Kinetis K...), hard-float, newlib-nano.
# Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev qemu-system-arm
#   cmake --preset cortex-m4
# Builds the inference-only library (no training code, no exceptions, no RTTI, no heap) and the
# example firmware in platforms/cortex-m4/, which ctest runs on QEMU's mps2-an386 board
# (a Cortex-M4 with FPU) with semihosting: the firmware's exit code is the test result.
# The library uses freestanding C++ headers (<cstddef>, <cstdint>, <type_traits>, ...), which
# gcc-arm-none-eabi does not ship: they come with libstdc++-arm-none-eabi-dev. No C++ runtime
# library is linked (the firmware links with gcc), only the headers are used.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER   arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
# Bare metal cannot link a test executable without a startup file and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# fpv4-sp-d16: single-precision FPU with fused multiply-add (vfma.f32); doubles are software.
# The CPU and ABI flags are compile and link options, not *_FLAGS_INIT: a user's own
# -DCMAKE_CXX_FLAGS=... replaces the _INIT value, and objects built without -mfloat-abi=hard then
# fail to link against the hard-float newlib ("uses VFP register arguments").
set(FENNEC_MCU_FLAGS -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
add_compile_options(${FENNEC_MCU_FLAGS})
add_link_options(${FENNEC_MCU_FLAGS})
set(CMAKE_C_FLAGS_INIT   "-ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "-ffunction-sections -fdata-sections -fno-exceptions -fno-rtti")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs --specs=rdimon.specs -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
# ONLY: host headers (glibc in /usr/include) must never shadow newlib's.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-system-arm;-M;mps2-an386;-cpu;cortex-m4;-nographic;-monitor;none;-semihosting-config;enable=on,target=native;-kernel)
