// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/position.hpp"

#include <cstring>

namespace fennec_train {

namespace {

constexpr char kTagV1[8] = {'F', 'T', 'R', 'A', 'I', 'N', '0', '1'};
constexpr char kTag[8] = {'F', 'T', 'R', 'A', 'I', 'N', '0', '2'};

void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

void put_f64(unsigned char* p, double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, 8);
  put_u64(p, bits);
}

double get_f64(const unsigned char* p) {
  const std::uint64_t bits = get_u64(p);
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

}  // namespace

void encode_position(const Position& pos, unsigned char* out) {
  std::memcpy(out, kTag, 8);
  put_u64(out + 8, pos.epoch);
  put_u64(out + 16, pos.batch);
  put_u64(out + 24, pos.batch_size);
  put_u64(out + 32, pos.train_count);
  put_f64(out + 40, pos.loss_sum);
  put_u64(out + 48, pos.correct);
  put_u64(out + 56, pos.val_count);
  put_u64(out + 64, pos.split_seed);
  put_f64(out + 72, pos.best.best);
  put_u64(out + 80, pos.best.best_epoch);
  put_u64(out + 88, pos.best.epochs);
  put_u64(out + 96, pos.best.epochs_since_best);
}

bool decode_position(const unsigned char* in, std::size_t bytes, Position& pos) {
  const bool v1 = bytes == kPositionBytesV1 && std::memcmp(in, kTagV1, 8) == 0;
  const bool v2 = bytes == kPositionBytes && std::memcmp(in, kTag, 8) == 0;
  if (!v1 && !v2) return false;
  pos = Position{};
  pos.epoch = get_u64(in + 8);
  pos.batch = get_u64(in + 16);
  pos.batch_size = get_u64(in + 24);
  pos.train_count = get_u64(in + 32);
  pos.loss_sum = get_f64(in + 40);
  pos.correct = get_u64(in + 48);
  if (v2) {
    pos.val_count = get_u64(in + 56);
    pos.split_seed = get_u64(in + 64);
    pos.best.best = get_f64(in + 72);
    pos.best.best_epoch = get_u64(in + 80);
    pos.best.epochs = get_u64(in + 88);
    pos.best.epochs_since_best = get_u64(in + 96);
  }
  return true;
}

}  // namespace fennec_train
