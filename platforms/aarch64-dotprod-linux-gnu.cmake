# SPDX-License-Identifier: Apache-2.0
# Cross toolchain: 64-bit ARM Linux on cores with the ARMv8.2 dot-product extension (Cortex-A55,
# A75, A76 and later: Raspberry Pi 5, Graviton 2+, Ampere Altra...). Everything of the aarch64
# toolchain, plus -march=armv8.2-a+dotprod for the whole build, so the neon64 table's int8 GEMMs
# use sdot (lib/kernels/qgemm_neon.hpp). A binary built this way dies with SIGILL on a core
# without the extension (Cortex-A53, A72: Raspberry Pi 3 and 4).
#   cmake --preset aarch64-dotprod  (or -DCMAKE_TOOLCHAIN_FILE=platforms/aarch64-dotprod-linux-gnu.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-gnu.cmake)

# The flag is a mandatory argument of the compiler (CMake's compiler-list form, which becomes
# CMAKE_<LANG>_COMPILER_ARG1 on every compile and link line), not CMAKE_<LANG>_FLAGS_INIT: a
# user's own -DCMAKE_CXX_FLAGS replaces the _INIT value, and would silently build without sdot.
set(FENNEC_AARCH64_MARCH armv8.2-a+dotprod)
set(CMAKE_C_COMPILER   aarch64-linux-gnu-gcc -march=${FENNEC_AARCH64_MARCH})
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++ -march=${FENNEC_AARCH64_MARCH})

# qemu's Cortex-A53 model has no dot product: tests run on its "max" model (every feature it
# emulates), which executes sdot.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;max;-L;/usr/aarch64-linux-gnu)
