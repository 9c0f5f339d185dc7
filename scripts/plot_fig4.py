#!/usr/bin/python3
"""Figure 4: learned against exact dynamics of the d = 4 Morse chain.

(a) the means <x_i>(t) and (b) the widths sigma_i(t) of every mode i: lines are
the split-operator FFT reference, open circles the particles propagated with the
learned score. Reads the NPZ of fig4_moments (keys t_learn, learned_means,
learned_sigmas, fft_t, fft_means, fft_sigmas, d; M_test and epoch if present).

    /usr/bin/python3 scripts/plot_fig4.py
    /usr/bin/python3 scripts/plot_fig4.py --data data/fig4_moments.npz --output figures/fig4_moments.png
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figstyle  # noqa: E402


def parse_args():
    p = figstyle.parser(__doc__, output='figures/fig4_moments.png', dpi=200)
    p.add_argument('--data', default='data/fig4_moments.npz', help='input NPZ (fig4_moments)')
    return p.parse_args()


def main():
    args = parse_args()
    data = np.load(args.data)
    t_learn, fft_t = data['t_learn'], data['fft_t']
    learned = (data['learned_means'], data['learned_sigmas'])
    exact = (data['fft_means'], data['fft_sigmas'])
    n_modes = int(data['d'])

    plt = figstyle.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.4), constrained_layout=True)
    ylabels = (r'$\langle x_i\rangle$', r'$\sigma_i$')
    for p, ax in enumerate(axes):
        for i in range(n_modes):
            c = figstyle.MODE_COLORS[i % len(figstyle.MODE_COLORS)]
            ax.plot(fft_t, exact[p][:, i], '-', color=c, lw=1.6, zorder=2, label=f'$i={i}$')
            ax.plot(t_learn, learned[p][:, i], 'o', color=c, ms=3.2, mfc='none', mew=0.8,
                    markevery=2, zorder=3)
        ax.set_xlabel('$t$')
        ax.set_ylabel(ylabels[p])
        ax.set_xlim(fft_t[0], fft_t[-1])
        ax.grid(True, alpha=0.2)
        figstyle.panel_label(ax, '(a)' if p == 0 else '(b)')
        err = np.max(np.abs(learned[p] - np.array([np.interp(t_learn, fft_t, exact[p][:, i])
                                                   for i in range(n_modes)]).T))
        ax.text(0.03, 0.04, f'max |learned - FFT| = {err:.3f}', transform=ax.transAxes, ha='left',
                va='bottom', fontsize=8, color='0.3')
    # One legend for the modes, plus what lines and circles mean.
    handles, labels = axes[0].get_legend_handles_labels()
    line = plt.Line2D([], [], color='0.2', lw=1.6)
    circle = plt.Line2D([], [], color='0.2', marker='o', ls='', mfc='none', ms=4)
    extra = 'learned'
    if 'M_test' in data.files:
        extra += f' (M = {int(data["M_test"])})'
    fig.legend(handles + [line, circle], labels + ['FFT (exact)', extra], loc='upper center', bbox_to_anchor=(0.5, 0.0),
               ncol=n_modes + 2, frameon=False)
    figstyle.save(fig, args.output, args.dpi)
    plt.close(fig)


if __name__ == '__main__':
    main()
