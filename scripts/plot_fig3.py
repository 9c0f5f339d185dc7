#!/usr/bin/python3
"""Figure 3: training of the d = 4 Morse chain.

(a) the Fisher loss and (b) the energy error |<E> - E_exact| against the epoch,
both on a log scale. Reads the NPZ of extract_training_log (keys epochs,
losses, e_mean; e_mean_resolution and E_exact if present) and takes E_exact
from, in this order, --E-exact, the training NPZ, or the FFT reference NPZ
(key E_exact). A dotted line marks the rounding of the printed E_mean.

The training NPZ comes from a real run's log; when it is missing the script
says so and exits with status 0 without drawing (so the main job goes on).

    build/apps/extract_training_log -o data/fig3_training.npz logs/train.log
    /usr/bin/python3 scripts/plot_fig3.py --data data/fig3_training.npz \\
        --fft-ref data/fft_ref_morse_d4.npz --output figures/fig3_training.png
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figstyle  # noqa: E402


def parse_args():
    p = figstyle.parser(__doc__, output='figures/fig3_training.png', dpi=200)
    p.add_argument('--data', default='data/fig3_training.npz',
                   help='input NPZ (extract_training_log)')
    p.add_argument('--fft-ref', default='data/fft_ref_morse_d4.npz',
                   help='FFT reference NPZ holding E_exact')
    p.add_argument('--E-exact', type=float, default=None, help='exact energy (overrides the files)')
    return p.parse_args()


def exact_energy(args, data):
    if args.E_exact is not None:
        return args.E_exact, '--E-exact'
    if 'E_exact' in data.files:
        return float(data['E_exact']), args.data
    if args.fft_ref and os.path.exists(args.fft_ref):
        return float(np.load(args.fft_ref)['E_exact']), args.fft_ref
    sys.exit(f'plot_fig3: no exact energy: give --E-exact or an --fft-ref file with E_exact '
             f'({args.fft_ref} not found)')


def running_geometric_mean(x, y, window):
    """exp of the running mean of log y over `window` points, at the windows' centres."""
    kernel = np.ones(window) / window
    logs = np.convolve(np.log(y), kernel, mode='valid')
    centres = np.convolve(x.astype(np.float64), kernel, mode='valid')
    return centres, np.exp(logs)


def main():
    args = parse_args()
    if not os.path.exists(args.data):
        print(f'plot_fig3: {args.data} not found: no training log has been extracted yet '
              f'(build/apps/extract_training_log -o {args.data} LOG...); Figure 3 skipped',
              file=sys.stderr)
        return
    data = np.load(args.data)
    epochs = data['epochs']
    losses = data['losses']
    e_mean = data['e_mean']
    E_exact, source = exact_energy(args, data)
    err = np.abs(e_mean - E_exact)

    plt = figstyle.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.0, 3.2), constrained_layout=True)
    color = '#2166ac'
    window = max(1, len(epochs) // 200)
    ax1.semilogy(epochs, losses, '-', color=color, lw=0.5, alpha=0.35, label='per epoch')
    if window > 1:
        ax1.semilogy(*running_geometric_mean(epochs, losses, window), '-', color=color, lw=1.2,
                     label=f'running mean ({window} epochs)')
        ax1.legend(loc='upper right', frameon=False)
    ax1.set_ylabel('Fisher loss')
    finite = np.isfinite(err) & (err > 0)
    if finite.any():
        ax2.semilogy(epochs[finite], err[finite], '-', color=color, lw=0.5, alpha=0.35)
        if window > 1:
            ax2.semilogy(*running_geometric_mean(epochs[finite], err[finite], window), '-',
                         color=color, lw=1.2)
    else:
        ax2.text(0.5, 0.5, 'no E_mean in the log', transform=ax2.transAxes, ha='center')
    resolution = float(data['e_mean_resolution']) if 'e_mean_resolution' in data.files else 0.0
    if resolution > 0:
        # Below this the logged E_mean cannot resolve the error (it is rounded when printed).
        ax2.axhline(resolution, color='0.45', lw=0.8, ls=':')
        ax2.text(0.03, resolution, f'log prints E_mean to $\\pm${resolution:.0e}',
                 transform=ax2.get_yaxis_transform(), va='bottom', ha='left', fontsize=8,
                 color='0.35')
    ax2.set_ylabel(r'$|\langle E\rangle - E_{\mathrm{exact}}|$')
    ax2.text(0.97, 0.96, rf'$E_{{\mathrm{{exact}}}} = {E_exact:.6f}$', transform=ax2.transAxes,
             ha='right', va='top', fontsize=9, color='0.3')
    for label, ax in (('(a)', ax1), ('(b)', ax2)):
        ax.set_xlabel('epoch')
        ax.set_xlim(epochs[0], epochs[-1])
        ax.grid(True, which='major', alpha=0.2)
        figstyle.panel_label(ax, label)
    print(f'{len(epochs)} epochs, final loss {losses[-1]:.3e}, final |<E> - E_exact| '
          f'{err[-1]:.3e} (E_exact {E_exact} from {source})')
    figstyle.save(fig, args.output, args.dpi)
    plt.close(fig)


if __name__ == '__main__':
    main()
