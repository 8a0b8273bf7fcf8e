// SPDX-License-Identifier: Apache-2.0
// Fennec: MLPs trained and run in a fixed block of memory. Core umbrella header.
//
// Freestanding-safe (no heap, no file system, no <cstdio> I/O; builds for bare-metal Cortex-M):
// everything this header includes, plus io.hpp (model file from a byte array) and
// safetensors.hpp (import/export through byte streams). Declared here but compiled only into
// training builds (not FENNEC_INFERENCE_ONLY): the optimizer, Trainer, learning-rate schedule
// and early-stopping functions, and checkpoint.hpp. Hosted only (POSIX files): io_file.hpp.
// <fennec/all.hpp> includes everything, file I/O and checkpoints too.
#pragma once

#include "fennec/activation.hpp"
#include "fennec/arena.hpp"
#include "fennec/early_stopping.hpp"
#include "fennec/fold.hpp"
#include "fennec/init.hpp"
#include "fennec/isa.hpp"
#include "fennec/loss.hpp"
#include "fennec/model.hpp"
#include "fennec/optim.hpp"
#include "fennec/plan.hpp"
#include "fennec/predict.hpp"
#include "fennec/quant.hpp"
#include "fennec/rng.hpp"
#include "fennec/schedule.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "fennec/tensor.hpp"
#include "fennec/thread_pool.hpp"
#include "fennec/trainer.hpp"
#include "fennec/version.hpp"
