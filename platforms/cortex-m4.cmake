# Cross toolchain: bare-metal Cortex-M4F (STM32F4, nRF52, Kinetis K...), hard-float, newlib-nano.
# Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
#   cmake --preset cortex-m4
# Builds the inference-only library (no training code, no exceptions, no RTTI, no heap) and the
# example firmware in platforms/cortex-m4/, which ctest runs on QEMU's mps2-an386 board
# (a Cortex-M4 with FPU) with semihosting: the firmware's exit code is the test result.
# No C++ runtime library is linked (the firmware links with gcc), so the 1.5 GB
# libstdc++-arm-none-eabi-newlib package is not needed.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER   arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
# Bare metal cannot link a test executable without a startup file and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# fpv4-sp-d16: single-precision FPU with fused multiply-add (vfma.f32); doubles are software.
set(FENNEC_MCU_FLAGS "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT   "${FENNEC_MCU_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${FENNEC_MCU_FLAGS} -fno-exceptions -fno-rtti")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs --specs=rdimon.specs -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
# ONLY: host headers (glibc in /usr/include) must never shadow newlib's.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-system-arm;-M;mps2-an386;-cpu;cortex-m4;-nographic;-monitor;none;-semihosting-config;enable=on,target=native;-kernel)
