// Fennec: MLPs trained and run in a fixed block of memory. Umbrella header.
#pragma once

#include "fennec/activation.hpp"
#include "fennec/arena.hpp"
#include "fennec/init.hpp"
#include "fennec/isa.hpp"
#include "fennec/loss.hpp"
#include "fennec/model.hpp"
#include "fennec/optim.hpp"
#include "fennec/plan.hpp"
#include "fennec/rng.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "fennec/tensor.hpp"
#include "fennec/trainer.hpp"
#include "fennec/version.hpp"
