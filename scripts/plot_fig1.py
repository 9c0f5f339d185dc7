#!/usr/bin/python3
"""Figure 1: the double well, |psi(x, t)|^2 as a waterfall with exact Bohmian trajectories.

Reads the NPZ written by fig1_doublewell (keys x_grid, t_arr, rho, traj_x,
V_grid, a, T) and draws, with x horizontal and t vertical:
  * the densities at t = 0, T/4, T/2, 3T/4, T, each filled upwards from its
    own time (one common scale, so their heights compare),
  * the Bohmian trajectories behind them,
  * below, the potential V(x) with its minima at +-a.

    /usr/bin/python3 scripts/plot_fig1.py                       # defaults below
    /usr/bin/python3 scripts/plot_fig1.py --data dw.npz --output dw.png
"""

import argparse
import os

import numpy as np


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='data/fig1_doublewell.npz', help='input NPZ')
    p.add_argument('--output', default='figures/fig1_doublewell.png', help='output image')
    p.add_argument('--x-range', type=float, nargs=2, default=[-4.0, 4.0])
    p.add_argument('--density-height', type=float, default=0.6,
                   help='height of the tallest density, in units of T/4')
    p.add_argument('--figsize', type=float, nargs=2, default=[4.8, 5.2])
    p.add_argument('--dpi', type=int, default=300)
    return p.parse_args()


def main():
    args = parse_args()
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    data = np.load(args.data)
    x = data['x_grid']
    t = data['t_arr']
    rho = data['rho'].astype(np.float64)
    traj = data['traj_x']
    V = data['V_grid']
    T = float(data['T'])
    a = float(data['a'])

    x_lo, x_hi = args.x_range
    inside = (x >= x_lo) & (x <= x_hi)
    fractions = [0.0, 0.25, 0.5, 0.75, 1.0]
    labels = ['$0$', '$T/4$', '$T/2$', '$3T/4$', '$T$']
    snaps = [int(np.argmin(np.abs(t - f * T))) for f in fractions]
    height = args.density_height * T / 4.0
    scale = height / max(rho[i, inside].max() for i in snaps)

    fig, (ax, ax_v) = plt.subplots(
        2, 1, sharex=True, figsize=args.figsize, constrained_layout=True,
        gridspec_kw={'height_ratios': [4.0, 1.0]})

    for j in range(traj.shape[1]):
        ax.plot(traj[:, j], t, color='0.15', lw=0.45, alpha=0.5, zorder=2)
    for i in snaps:
        base = t[i]
        top = base + rho[i, inside] * scale
        ax.fill_between(x[inside], base, top, color='#4A90D9', alpha=0.6, lw=0, zorder=3)
        ax.plot(x[inside], top, color='#1a4a8a', lw=0.9, zorder=4)
        ax.axhline(base, color='#1a4a8a', lw=0.4, alpha=0.5, zorder=1)
    for xm in (-a, a):
        ax.axvline(xm, color='0.6', lw=0.6, ls=':', zorder=0)
        ax_v.axvline(xm, color='0.6', lw=0.6, ls=':', zorder=0)

    ax.set_ylim(-0.03 * T, T + height + 0.03 * T)
    ax.set_yticks([f * T for f in fractions])
    ax.set_yticklabels(labels)
    ax.set_ylabel('$t$')
    ax.tick_params(labelbottom=False)
    ax.set_title(r'$|\psi(x,t)|^2$ (blue) and Bohmian trajectories (black)', fontsize=10)

    ax_v.plot(x[inside], V[inside], color='k', lw=1.0)
    # Barrier top V(0) = D of the double well (the grid has no point at x = 0 for even N).
    barrier = float(data['D']) if 'D' in data.files else float(np.interp(0.0, x, V))
    v_top = min(V[inside].max(), 4.0 * max(barrier, 1e-12))
    ax_v.set_ylim(-0.08 * v_top, 1.1 * v_top)
    ax_v.set_yticks([0.0, barrier])
    ax_v.set_yticklabels(['$0$', f'${barrier:g}$'])
    ax_v.set_ylabel('$V(x)$')
    ax_v.set_xlabel('$x$')
    ax_v.set_xticks(sorted(set(np.arange(np.ceil(x_lo), np.floor(x_hi) + 1, 2.0)) | {-a, a}))
    ax_v.set_xlim(x_lo, x_hi)

    fig.align_ylabels([ax, ax_v])
    os.makedirs(os.path.dirname(args.output) or '.', exist_ok=True)
    fig.savefig(args.output, dpi=args.dpi)
    plt.close(fig)
    print(f'saved {args.output}')


if __name__ == '__main__':
    main()
