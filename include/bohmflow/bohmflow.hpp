// Umbrella header: everything a program linking bohmflow needs.
#pragma once

#include "bohmflow/npz.hpp"
#include "bohmflow/potentials.hpp"
#include "bohmflow/score_network.hpp"
#include "bohmflow/baseline.hpp"
#include "bohmflow/trajectory.hpp"
#include "bohmflow/fisher_loss.hpp"
#include "bohmflow/checkpoint.hpp"
#include "bohmflow/evaluate.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/bohmian_1d.hpp"
#include "bohmflow/psi_snapshots.hpp"
#include "bohmflow/score_field.hpp"
#include "bohmflow/kl_divergence.hpp"
#include "bohmflow/training_log.hpp"
#include "bohmflow/progress.hpp"
#include "bohmflow/runtime.hpp"
