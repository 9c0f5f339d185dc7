#!/usr/bin/python3
"""The peer benchmarks (Deep Stochastic Mechanics' problems): var(x_i)(t) learned
against the reference, one panel per problem, with the relative error below.

Reads data/benchmarks/<problem>.npz (scripts/benchmark.sh; keys t, learned_vars,
ref_vars, max_rel_var_error, reference, epochs, train_seconds) for every
problem whose file exists, and says which are missing.

    /usr/bin/python3 scripts/plot_benchmarks.py
    /usr/bin/python3 scripts/plot_benchmarks.py --data-dir data/benchmarks --output figures/benchmarks.png
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figstyle  # noqa: E402

PROBLEMS = ['harmonic_c0', 'harmonic_cm5', 'bosons_d2', 'bosons_d3', 'bosons_d4']
TITLES = {'harmonic_c0': 'harmonic, c = 0', 'harmonic_cm5': 'harmonic, c = −5',
          'bosons_d2': 'bosons, d = 2', 'bosons_d3': 'bosons, d = 3', 'bosons_d4': 'bosons, d = 4'}


def parse_args():
    p = figstyle.parser(__doc__, output='figures/benchmarks.png', dpi=150)
    p.add_argument('--data-dir', default='data/benchmarks', help='folder of <problem>.npz files')
    return p.parse_args()


def main():
    args = parse_args()
    found = [p for p in PROBLEMS if os.path.exists(os.path.join(args.data_dir, p + '.npz'))]
    missing = sorted(set(PROBLEMS) - set(found))
    if missing:
        print('not run yet (no file in ' + args.data_dir + '): ' + ', '.join(missing))
    if not found:
        sys.exit('plot_benchmarks.py: nothing to plot')

    plt = figstyle.pyplot()
    fig, axes = plt.subplots(2, len(found), figsize=(3.2 * len(found), 5.2), squeeze=False,
                             gridspec_kw={'height_ratios': [2.2, 1]}, sharex='col')
    for column, problem in enumerate(found):
        data = np.load(os.path.join(args.data_dir, problem + '.npz'))
        t, learned, ref = data['t'], data['learned_vars'], data['ref_vars']
        top, bottom = axes[0, column], axes[1, column]
        for i in range(learned.shape[1]):
            color = figstyle.MODE_COLORS[i % len(figstyle.MODE_COLORS)]
            top.plot(t, ref[:, i], '-', color=color, lw=1.5,
                     label='reference' if i == 0 else None)
            top.plot(t[::5], learned[::5, i], 'o', mfc='none', color=color, ms=4,
                     label='bohmflow' if i == 0 else None)
            bottom.semilogy(t[1:], np.abs(learned[1:, i] - ref[1:, i]) / ref[1:, i], color=color, lw=1)
        minutes = float(data['train_seconds']) / 60
        horizon = f", T = {float(data['T']):g}" if 'T' in data.files else ''
        top.set_title(f"{TITLES[problem]}{horizon}\n{int(data['epochs'])} epochs, {minutes:.0f} min", fontsize=10)
        bottom.set_xlabel('$t$')
        if column == 0:
            top.set_ylabel(r'var$(x_i)$')
            bottom.set_ylabel(r'$|\Delta\mathrm{var}|/\mathrm{var}$')
            top.legend(loc='best')
        bottom.text(0.03, 0.92, f"max {float(data['max_rel_var_error']):.1e}", transform=bottom.transAxes,
                    va='top', fontsize=8)
    figstyle.save(fig, args.output, args.dpi)


if __name__ == '__main__':
    main()
