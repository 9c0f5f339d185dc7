#!/usr/bin/python3
"""Cost against the number of particles d: bohmflow's training epoch and
inference step (measured by bench_core) against the FFT grid's N^d.

Reads data/scaling_bosons.npz (bench_core --data-out with one M; keys d, M,
steps, loss_grad_seconds, inference_seconds) and, for the grid, the measured seconds
per split-operator step at small d (--fft-seconds D=SECONDS ..., N = --fft-N),
extrapolated as N^d log N^d; fits cost ∝ d^p to bohmflow's points and prints p.

    /usr/bin/python3 scripts/plot_scaling.py --fft-seconds 2=2e-4 3=4.8e-3 4=0.82

A dotted line marks the first d at which ψ alone (N^d complex128 numbers) no longer
fits in --memory-gib (default: this machine's memory, from /proc/meminfo).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figstyle  # noqa: E402

DEFAULT_MEMORY_GIB = 24.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='data/scaling_bosons.npz', help='bench_core --data-out NPZ')
    p.add_argument('--inference-data', default='data/scaling_bosons_inference.npz',
                   help='bench_core --inference-only --data-out NPZ reaching larger d (used when present)')
    p.add_argument('--fft-seconds', nargs='*', default=[], metavar='D=SECONDS',
                   help='measured seconds per FFT step at dimension D')
    p.add_argument('--fft-N', type=int, default=64, help='grid points per axis of those measurements')
    p.add_argument('--output', default='figures/scaling.png', help='output image')
    p.add_argument('--memory-gib', type=float, default=None,
                   help="memory of the machine in GiB: the plot marks the first d whose ψ alone "
                        "(N^d complex128) exceeds it (default: MemTotal of /proc/meminfo, "
                        f"else {DEFAULT_MEMORY_GIB:g})")
    p.add_argument('--dpi', type=int, default=150)
    args = p.parse_args()
    if args.memory_gib is None:
        args.memory_gib = machine_memory_gib()
    elif args.memory_gib <= 0:
        p.error(f'--memory-gib {args.memory_gib:g}: must be > 0')
    return args


def machine_memory_gib():
    """MemTotal of /proc/meminfo in GiB, or DEFAULT_MEMORY_GIB where it cannot be read."""
    try:
        with open('/proc/meminfo') as meminfo:
            for line in meminfo:
                if line.startswith('MemTotal:'):
                    return int(line.split()[1]) * 1024 / 2 ** 30  # the file counts kB
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_MEMORY_GIB


def power_law(d, cost):
    """Least-squares p, c of cost = c d^p in log space."""
    p, log_c = np.polyfit(np.log(d), np.log(cost), 1)
    return p, np.exp(log_c)


def local_slope(d, cost):
    """The exponent between the two largest d: where the power law is heading."""
    return np.log(cost[-1] / cost[-2]) / np.log(d[-1] / d[-2])


def main():
    args = parse_args()
    data = np.load(args.data)
    d, M, steps = data['d'], data['M'], float(data['steps'])
    if len(set(M)) != 1:
        sys.exit('plot_scaling.py: expected one M in ' + args.data)
    # Seconds per time step of the whole ensemble, as for the grid.
    train = data['loss_grad_seconds'] / steps
    infer_d, infer = d, data['inference_seconds'] / steps
    if os.path.exists(args.inference_data):
        more = np.load(args.inference_data)
        if set(more['M']) != set(M):
            sys.exit(f'plot_scaling.py: {args.inference_data} has another M than {args.data}')
        infer_d, infer = more['d'], more['inference_seconds'] / float(more['steps'])
    p_train, c_train = power_law(d, train)
    p_infer, c_infer = power_law(infer_d, infer)
    print(f'training slope between d = {int(d[-2])} and {int(d[-1])}: {local_slope(d, train):.2f}')
    print(f'inference slope between d = {int(infer_d[-2])} and {int(infer_d[-1])}: {local_slope(infer_d, infer):.2f}')
    print(f'training (loss + gradient), M = {int(M[0])}: {c_train:.2e} s · d^{p_train:.2f} per step')
    print(f'inference, M = {int(M[0])}: {c_infer:.2e} s · d^{p_infer:.2f} per step')

    plt = figstyle.pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    dense = np.geomspace(d.min(), d.max(), 50)
    dense_infer = np.geomspace(infer_d.min(), infer_d.max(), 50)
    ax.loglog(d, train, 'o', color='#1f77b4', label=f'bohmflow training step, M = {int(M[0])}, ∝ d^{p_train:.2f}')
    ax.loglog(dense, c_train * dense ** p_train, '-', color='#1f77b4', lw=1)
    ax.loglog(infer_d, infer, 's', color='#2ca02c', label=f'bohmflow inference step, M = {int(M[0])}, ∝ d^{p_infer:.2f}')
    ax.loglog(dense_infer, c_infer * dense_infer ** p_infer, '-', color='#2ca02c', lw=1)
    if args.fft_seconds:
        pairs = sorted((int(k), float(v)) for k, v in (item.split('=') for item in args.fft_seconds))
        fft_d = np.array([k for k, _ in pairs], dtype=float)
        fft_s = np.array([v for _, v in pairs])
        points = float(args.fft_N) ** fft_d
        # One grid step costs ∝ N^d log N^d; anchor the constant at the largest measured d.
        scale = fft_s[-1] / (points[-1] * np.log(points[-1]))
        grid_d = np.arange(fft_d.min(), 9)
        grid_points = float(args.fft_N) ** grid_d
        ax.loglog(fft_d, fft_s, 'D', color='#d62728', label=f'FFT step, N = {args.fft_N} (measured)')
        ax.loglog(grid_d, scale * grid_points * np.log(grid_points), '--', color='#d62728',
                  label=r'FFT step, $\propto N^d \log N^d$')
        for k in grid_d:
            gib = float(args.fft_N) ** k * 16 / 2 ** 30
            if gib > args.memory_gib:  # ψ alone no longer fits in this machine's memory
                ax.axvline(k, color='0.6', lw=0.8, ls=':')
                ax.text(k * 1.03, ax.get_ylim()[0] * 3, f'ψ alone: {gib:.0f} GiB', rotation=90, fontsize=8,
                        color='0.4')
                break
    ax.set_xlabel('particles $d$')
    ax.set_ylabel('seconds per time step')
    ax.set_title('interacting bosons: cost against $d$', fontsize=11)
    ax.legend(fontsize=8)
    figstyle.save(fig, args.output, args.dpi)


if __name__ == '__main__':
    main()
