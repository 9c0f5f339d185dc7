#!/usr/bin/python3
"""Figure 5: the learned score on a 2D slice of the d = 4 Morse chain.

One panel per time t_k: the exact slice density |psi(x_i, x_j, 0, 0, t_k)|^2 of
the FFT reference as log10(rho / rho_max) in colour, and streamlines of the
learned score (s_i, s_j) on the same plane (the other coordinates 0), drawn
where the density exceeds --mask of its maximum (the score of an empty region
is neither learned nor meaningful). Reads the NPZ of score_field (keys gi, gj,
di, dj, d, n_times, t_k, s_i_k, s_j_k, rho_k); without rho_k (score_field run
without --psi) the streamlines are drawn on the whole slice over a blank
background.

    build/apps/score_field --psi data/psi_morse_d4.npz --data-out data/fig5_score_data.npz
    /usr/bin/python3 scripts/plot_fig5.py --data data/fig5_score_data.npz --output figures/fig5_score_field.png
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figstyle  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='data/fig5_score_data.npz', help='input NPZ (score_field)')
    p.add_argument('--output', default='figures/fig5_score_field.png', help='output image')
    p.add_argument('--decades', type=float, default=4.0,
                   help='decades of density shown below the maximum')
    p.add_argument('--mask', type=float, default=5e-3,
                   help='draw the score where rho > mask * rho_max')
    p.add_argument('--zoom', type=float, default=1e-3,
                   help='show the region where rho > zoom * rho_max at some time (0: all)')
    p.add_argument('--dpi', type=int, default=200)
    return p.parse_args()


def window(rhos, gi, gj, level, pad=2):
    """Index ranges (i0, i1, j0, j1) covering rho > level * max at any time, plus pad points."""
    if not rhos or level <= 0:
        return 0, len(gi), 0, len(gj)
    keep = np.zeros(rhos[0].shape, dtype=bool)
    for rho in rhos:
        keep |= rho > level * rho.max()
    rows = np.flatnonzero(keep.any(axis=1))
    cols = np.flatnonzero(keep.any(axis=0))
    i0, i1 = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, len(gi))
    j0, j1 = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, len(gj))
    # The same extent on both axes, so the panels are square in x_i, x_j.
    lo = min(gi[i0], gj[j0])
    hi = max(gi[i1 - 1], gj[j1 - 1])
    ri = np.flatnonzero((gi >= lo) & (gi <= hi))
    rj = np.flatnonzero((gj >= lo) & (gj <= hi))
    return ri[0], ri[-1] + 1, rj[0], rj[-1] + 1


def main():
    args = parse_args()
    data = np.load(args.data)
    gi = data['gi'].astype(np.float64)
    gj = data['gj'].astype(np.float64)
    di, dj = int(data['di']), int(data['dj'])
    n = int(data['n_times'])
    times = [float(data[f't_{k}']) for k in range(n)]
    s_i = [data[f's_i_{k}'].astype(np.float64) for k in range(n)]
    s_j = [data[f's_j_{k}'].astype(np.float64) for k in range(n)]
    has_rho = all(f'rho_{k}' in data.files for k in range(n))
    rhos = [data[f'rho_{k}'].astype(np.float64) for k in range(n)] if has_rho else []
    if not has_rho:
        print('plot_fig5: no rho_k in the data (score_field without --psi): streamlines only',
              file=sys.stderr)

    i0, i1, j0, j1 = window(rhos, gi, gj, args.zoom)
    x, y = gi[i0:i1], gj[j0:j1]

    plt = figstyle.pyplot()
    from matplotlib.colors import LinearSegmentedColormap
    cmap = LinearSegmentedColormap.from_list(
        'density', ['#ffffff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'])
    fig, axes = plt.subplots(1, n, figsize=(3.5 * n + 0.8, 3.6), squeeze=False,
                             constrained_layout=True)
    axes = axes[0]
    image = None
    for k, ax in enumerate(axes):
        si, sj = s_i[k][i0:i1, j0:j1], s_j[k][i0:i1, j0:j1]
        if has_rho:
            rho = rhos[k][i0:i1, j0:j1]
            rel = rho / rhos[k].max()
            log_rel = np.log10(np.maximum(rel, 10.0 ** (-args.decades - 1)))
            image = ax.imshow(log_rel.T, origin='lower', extent=[x[0], x[-1], y[0], y[-1]],
                              cmap=cmap, vmin=-args.decades, vmax=0, interpolation='bilinear',
                              aspect='equal')
            shown = rel > args.mask
        else:
            ax.set_aspect('equal')
            shown = np.ones(si.shape, dtype=bool)
        # streamplot wants (ny, nx) arrays: rows along y = x_j.
        u = np.where(shown, si, np.nan).T
        v = np.where(shown, sj, np.nan).T
        speed = np.hypot(u, v)
        scale = np.nanpercentile(speed, 95) if np.isfinite(speed).any() else 1.0
        width = np.clip(0.4 + 0.8 * speed / max(scale, 1e-12), 0.3, 1.3)
        ax.streamplot(x, y, u, v, color='0.1', linewidth=width, density=1.4, arrowsize=0.7,
                      arrowstyle='->')
        ax.set_xlim(x[0], x[-1])
        ax.set_ylim(y[0], y[-1])
        ax.set_xlabel(f'$x_{di}$')
        if k == 0:
            ax.set_ylabel(f'$x_{dj}$')
        figstyle.panel_label(ax, f'({"abcdefgh"[k % 8]})')
        ax.set_title(f'$t = {times[k]:.2f}$', loc='center', fontsize=11)
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes), shrink=0.9, pad=0.02)
        bar.set_label(r'$\log_{10}(\rho/\rho_{\max})$ on the slice')
    others = [m for m in range(int(data['d'])) if m not in (di, dj)]
    if others:
        fixed = ' = '.join(f'x_{m}' for m in others)
        fig.suptitle(f'learned score $s_\\theta$ (streamlines) on the slice ${fixed} = 0$',
                     fontsize=11)
    figstyle.save(fig, args.output, args.dpi)
    plt.close(fig)


if __name__ == '__main__':
    main()
