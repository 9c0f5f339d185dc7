#!/usr/bin/python3
"""The benchmark tables of docs/benchmarks.md from data/benchmarks/<problem>.npz (scripts/benchmark.sh).

    /usr/bin/python3 scripts/benchmark_table.py [--data-dir data/benchmarks]

One row per problem whose file exists: the maxima over the 101 times of |Δmean| and
|Δvar|/var, the L2-type errors over the time grid, the two checks that need no
reference (max over t of the coordinate variances' spread, (max − min)/mean, and of
the ensemble energy's relative drift; "—" in files written before they existed), T,
epochs, training wall time and the evaluation's sampling.

A second table puts the errors in DSM's own metric, the relative L2 norm over the
time grid per coordinate, ‖stat(t) − stat_ref(t)‖₂ / ‖stat_ref(t)‖₂ for the mean and
the variance (the code of DSM's oscillator notebooks; the worst coordinate here),
beside the values DSM's notebooks print. The bosons' exact mean is 0, where the
relative mean error is undefined.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_benchmarks import PROBLEMS  # noqa: E402  (one list of the benchmark problems)


# DSM's errors as printed by its repository's notebooks (elena-orlova/deep-stochastic-mechanics):
# mean ± std over 10 trials of the relative L2 error over 1001 times, against a grid solution.
DSM_PRINTED = {
    'harmonic_c0': ('0.108 ± 0.092', '0.022 ± 0.010', '`1d_oscillator_zero_phase_DSM.ipynb`, output of execution count 23'),
    'harmonic_cm5': ('0.156 ± 0.077', '0.018 ± 0.009', '`notebooks/1d_oscillator_non_zero_phase_DSM.ipynb`, output of execution count 36'),
}


def relative_l2(learned, reference):
    """DSM's metric per coordinate, ‖learned − reference‖₂ / ‖reference‖₂ over the times; the worst coordinate."""
    return np.max(np.linalg.norm(learned - reference, axis=0) / np.linalg.norm(reference, axis=0))


def dsm_metric_table(runs):
    print()
    print('| problem | bohmflow ‖Δmean‖/‖mean‖ | bohmflow ‖Δvar‖/‖var‖ | DSM ‖Δmean‖/‖mean‖ | DSM ‖Δvar‖/‖var‖ | DSM source |')
    print('|---|---|---|---|---|---|')
    for problem, z in runs.items():
        exact_mean_is_zero = np.max(np.abs(z['ref_means'])) < 1e-12
        mean = '— (exact mean 0)' if exact_mean_is_zero else f"{relative_l2(z['learned_means'], z['ref_means']):.1e}"
        var = f"{relative_l2(z['learned_vars'], z['ref_vars']):.1e}"
        dsm_mean, dsm_var, source = DSM_PRINTED.get(problem, ('not found', 'not found', 'no printed value (see docs/benchmarks.md)'))
        print(f'| `{problem}` | {mean} | {var} | {dsm_mean} | {dsm_var} | {source} |')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data-dir', default='data/benchmarks')
    args = p.parse_args()
    runs = {}  # problem → its NPZ, for the problems that were run, in PROBLEMS' order
    for problem in PROBLEMS:
        path = os.path.join(args.data_dir, problem + '.npz')
        if os.path.exists(path):
            runs[problem] = np.load(path)
    print('| problem | max \\|Δmean\\| | max \\|Δvar\\|/var | RMS_t \\|Δmean\\| | ‖Δvar‖/‖var‖ '
          '| var spread | energy drift | T | epochs | training (wall) | evaluation |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for problem in PROBLEMS:
        if problem not in runs:
            print(f'| `{problem}` | not run | | | | | | | | | |')
            continue
        z = runs[problem]
        minutes = float(z['train_seconds']) / 60
        spread = f"{np.max(z['var_spread']):.1e}" if 'var_spread' in z.files else '—'
        drift = f"{float(z['max_energy_drift']):.1e}" if 'max_energy_drift' in z.files else '—'
        print(f"| `{problem}` | {float(z['max_mean_error']):.1e} | {float(z['max_rel_var_error']):.1e} "
              f"| {float(z['rms_mean_error']):.1e} | {float(z['rel_l2_var_error']):.1e} | {spread} | {drift} "
              f"| {float(z['T']):g} | {int(z['epochs'])} | {minutes:.0f} min | {z['sampling']} |")
    dsm_metric_table(runs)


if __name__ == '__main__':
    main()
