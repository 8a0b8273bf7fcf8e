// SPDX-License-Identifier: Apache-2.0
// The packed int8 weight layout, shared by the quantized plan (fennec/quant.hpp counts it) and
// the kernels (lib/kernels/qpack.hpp fills it, qgemm_impl.hpp reads it). A leaf, like
// gemm_blocking.hpp: the kernels never include the planning layer.
//
// The AVX-512 VNNI int8 GEMMs want one 64-byte load to hold 16 output units x 4 bytes of k, so
// that vpdpbusd against a broadcast 4-byte group of x leaves 16 finished dot products in the 16
// int32 lanes, with no horizontal reduction. The AArch64 dot-product GEMMs read the same layout
// as four 16-byte vectors of 4 units x 4 bytes, each multiplied by one 4-byte group of x held in
// a lane (sdot by element). Units are cut into panels of kQPackUnits; a panel holds ceil(k / 4)
// groups of kQPackUnits x kQPackGroup bytes, byte b of unit u in group t at
// ((panel * groups + t) * kQPackUnits + u) * kQPackGroup + b. On x86-64 the bytes are w ^ 0x80
// (= w + 128, unsigned: vpdpbusd's unsigned operand); on AArch64 they are w itself (sdot is
// signed by signed). Both are 0 beyond n and k, so padding adds nothing.
#pragma once

#include <cstddef>

namespace fennec::detail {

inline constexpr std::size_t kQPackUnits = 16;
inline constexpr std::size_t kQPackGroup = 4;

// x86-64 and AArch64 builds may carry a table that reads the packed layout (AVX-512 VNNI, chosen
// at run time; NEON64 in a dot-product build), so their plans always count its padding: a
// program compiled without the dot-product flag against a library built with it still plans
// the same bytes. ARMv7 and Cortex-M have no such table and plan none.
#if defined(__x86_64__) || defined(_M_X64)
inline constexpr bool kQPackPlanned = true;
inline constexpr unsigned kQPackByteOffset = 0x80u;  // stored byte = w ^ kQPackByteOffset
#elif defined(__aarch64__)
inline constexpr bool kQPackPlanned = true;
inline constexpr unsigned kQPackByteOffset = 0u;
#else
inline constexpr bool kQPackPlanned = false;
inline constexpr unsigned kQPackByteOffset = 0u;
#endif

// Byte offset of unit j, column k (j < units, k < fan_in) in the packed layout.
constexpr std::size_t qpack_index(std::size_t j, std::size_t k, std::size_t fan_in) {
  const std::size_t groups = (fan_in + kQPackGroup - 1) / kQPackGroup;
  return ((j / kQPackUnits * groups + k / kQPackGroup) * kQPackUnits + j % kQPackUnits) * kQPackGroup + k % kQPackGroup;
}

constexpr std::size_t qpack_bytes(std::size_t units, std::size_t fan_in) {
  return (units + kQPackUnits - 1) / kQPackUnits * kQPackUnits * ((fan_in + kQPackGroup - 1) / kQPackGroup * kQPackGroup);
}

}  // namespace fennec::detail
