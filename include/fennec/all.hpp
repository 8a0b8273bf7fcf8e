// SPDX-License-Identifier: Apache-2.0
// Fennec, everything: the core (fennec.hpp), the model file, safetensors, training checkpoints
// and the file-system helpers. For hosted programs on a full (training) build; firmware includes
// fennec.hpp and io.hpp instead (see fennec.hpp for which headers are freestanding-safe).
#pragma once

#include "fennec/checkpoint.hpp"
#include "fennec/fennec.hpp"
#include "fennec/file_kind.hpp"
#include "fennec/io.hpp"
#include "fennec/io_file.hpp"
#include "fennec/quant_io.hpp"
#include "fennec/safetensors.hpp"
#include "fennec/stream.hpp"
