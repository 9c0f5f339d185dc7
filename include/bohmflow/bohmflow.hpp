// Umbrella header: everything a program linking bohmflow needs.
#pragma once

#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/score_network.hpp"
#include "bohmflow/baseline.hpp"
#include "bohmflow/trajectory.hpp"
#include "bohmflow/fisher_loss.hpp"
#include "bohmflow/checkpoint.hpp"
#include "bohmflow/optimizer.hpp"
#include "bohmflow/distributed.hpp"
#include "bohmflow/trainer.hpp"
#include "bohmflow/evaluate.hpp"
#include "bohmflow/sampling.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/bohmian_1d.hpp"
#include "bohmflow/progress.hpp"
#include "bohmflow/runtime.hpp"
