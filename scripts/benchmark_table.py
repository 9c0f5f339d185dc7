#!/usr/bin/python3
"""The README's benchmark table from data/benchmarks/<problem>.npz (scripts/benchmark.sh).

    /usr/bin/python3 scripts/benchmark_table.py [--data-dir data/benchmarks]

One row per problem whose file exists: the maxima over the 101 times of |Δmean| and
|Δvar|/var, the L2-type errors over the time grid, the two checks that need no
reference (max over t of the coordinate variances' spread, (max − min)/mean, and of
the ensemble energy's relative drift; "—" in files written before they existed), T,
epochs, training wall time and the evaluation's sampling.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_benchmarks import PROBLEMS  # noqa: E402  (one list of the benchmark problems)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data-dir', default='data/benchmarks')
    args = p.parse_args()
    print('| problem | max \\|Δmean\\| | max \\|Δvar\\|/var | RMS_t \\|Δmean\\| | ‖Δvar‖/‖var‖ '
          '| var spread | energy drift | T | epochs | training (wall) | evaluation |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for problem in PROBLEMS:
        path = os.path.join(args.data_dir, problem + '.npz')
        if not os.path.exists(path):
            print(f'| `{problem}` | not run | | | | | | | | | |')
            continue
        z = np.load(path)
        minutes = float(z['train_seconds']) / 60
        spread = f"{np.max(z['var_spread']):.1e}" if 'var_spread' in z.files else '—'
        drift = f"{float(z['max_energy_drift']):.1e}" if 'max_energy_drift' in z.files else '—'
        print(f"| `{problem}` | {float(z['max_mean_error']):.1e} | {float(z['max_rel_var_error']):.1e} "
              f"| {float(z['rms_mean_error']):.1e} | {float(z['rel_l2_var_error']):.1e} | {spread} | {drift} "
              f"| {float(z['T']):g} | {int(z['epochs'])} | {minutes:.0f} min | {z['sampling']} |")


if __name__ == '__main__':
    main()
