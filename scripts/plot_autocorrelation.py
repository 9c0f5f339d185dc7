#!/usr/bin/python3
"""The autocorrelation a(t) = <psi(0)|psi(t)> and its spectrum, learned against exact.

(a) |a(t)| and Re a(t): lines the split-operator FFT reference (a at every step),
points the learned dynamics (autocorrelation --data-out) with their Monte Carlo
standard errors; (b) sigma(E) of both (spectrum --output), on their energy grids.

    /usr/bin/python3 scripts/plot_autocorrelation.py \\
        --learned data/autocorrelation_morse_d4.npz --fft data/fft_ref_morse_d4.npz \\
        --spectra data/spectrum_learned_morse_d4.npz data/spectrum_fft_morse_d4.npz \\
        --output docs/autocorrelation.png
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figstyle  # noqa: E402


def parse_args():
    p = figstyle.parser(__doc__, output='figures/autocorrelation.png', dpi=200)
    p.add_argument('--learned', required=True, help='NPZ of autocorrelation (t, a, a_err)')
    p.add_argument('--fft', required=True, help='NPZ of compute_fft_reference with a (t, a)')
    p.add_argument('--spectra', nargs=2, metavar=('LEARNED', 'FFT'), help='NPZ of spectrum for each (E, sigma)')
    return p.parse_args()


def main():
    args = parse_args()
    learned, exact = np.load(args.learned), np.load(args.fft)
    if 'a' not in exact.files:
        sys.exit(f'{args.fft}: no key a (rerun compute_fft_reference, which stores it)')
    plt = figstyle.pyplot()
    panels = 2 if args.spectra else 1
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.4), constrained_layout=True, squeeze=False)
    ax = axes[0][0]
    t, a = exact['t'], exact['a']
    ax.plot(t, np.abs(a), '-', color='0.15', lw=1.5, label='|a|, FFT (exact)')
    ax.plot(t, a.real, '-', color=figstyle.MODE_COLORS[0], lw=1.0, label='Re a, FFT')
    tl, al, err = learned['t'], learned['a'], learned['a_err']
    gap = np.max(np.abs(al - np.interp(tl, t, a.real) - 1j * np.interp(tl, t, a.imag)))
    every = max(1, len(tl) // 30)  # about 30 points drawn
    tl, al, err = tl[::every], al[::every], err[::every]
    ax.errorbar(tl, np.abs(al), yerr=err, fmt='o', color='0.15', ms=3, mfc='none', mew=0.8, elinewidth=0.6,
                label='|a|, learned')
    ax.errorbar(tl, al.real, yerr=err, fmt='o', color=figstyle.MODE_COLORS[0], ms=3, mfc='none', mew=0.8,
                elinewidth=0.6, label='Re a, learned')
    ax.set_title(f'max |learned - FFT| = {gap:.3f}', fontsize=8, loc='right', color='0.3')
    ax.set_xlabel('$t$')
    ax.set_ylabel('$a(t)$')
    ax.set_xlim(t[0], t[-1])
    ax.grid(True, alpha=0.2)
    ax.legend(loc='upper right', frameon=False, fontsize=7)
    figstyle.panel_label(ax, '(a)')
    if args.spectra:
        ax = axes[0][1]
        for path, style, name in zip(args.spectra, (dict(color=figstyle.MODE_COLORS[1], ls='--', lw=1.6, zorder=3),
                                                    dict(color='0.15', ls='-', lw=1.5, zorder=2)),
                                     ('learned', 'FFT (exact)')):
            s = np.load(path)
            ax.plot(s['E'], s['sigma'], label=name, **style)
        ax.set_xlabel('$E$')
        ax.set_ylabel(r'$\sigma(E)$')
        ax.grid(True, alpha=0.2)
        ax.legend(loc='upper right', frameon=False, fontsize=8)
        figstyle.panel_label(ax, '(b)')
    figstyle.save(fig, args.output, args.dpi)
    plt.close(fig)


if __name__ == '__main__':
    main()
