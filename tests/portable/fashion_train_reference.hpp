// SPDX-License-Identifier: Apache-2.0
// Written by tests/platform/test_m4_train.cpp (FENNEC_WRITE_M4_TRAIN_REFERENCE): the host's
// run of fashion_train.hpp on the CI subset (make_fashion14.py --train 8192 --test 2048).
#pragma once

#include <cstddef>
#include <cstdint>

namespace fashion_train::reference {
inline constexpr std::uint32_t kTrainRecords = 8192;
inline constexpr std::uint32_t kTestRecords = 2048;
inline constexpr std::size_t kSteps = 512;
inline constexpr double kFirstLosses[10] = {
    2.3443553018795886,
    2.5316751378540157,
    2.3166508747513266,
    2.3545523770245769,
    2.0977793039716359,
    2.2382714185255277,
    1.960046896643816,
    2.2220077676387109,
    2.1609026323340328,
    2.066373195821948,
};
inline constexpr double kTestAccuracy = 78.3203125;  // percent
// Phase 2: the phase-1 model fine-tuned in its last layer over the same records.
inline constexpr double kFinetuneFirstLosses[10] = {
    0.69613772554804443,
    0.37585659565678847,
    0.73307478841969986,
    0.59440243027804762,
    0.45368199553152927,
    0.27024641833853241,
    0.29129714938565332,
    0.67089713719213029,
    0.36326620491464351,
    0.3387806414904847,
};
inline constexpr double kFinetuneTestAccuracy = 79.1015625;  // percent
}  // namespace fashion_train::reference
