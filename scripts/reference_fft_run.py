#!/usr/bin/python3
"""The d-dimensional Morse chain through the reference's numpy split-operator
solver, for side-by-side timing with compute_fft_reference (scripts/bench_fft.sh).

    scripts/reference_fft_run.py PATH/TO/BohmianFlow/bohmian_flow/fft.py --d 4 --N 32 --T 1 --dt 0.01

Loads that file as a module (its split_operator_nd and gaussian_wavepacket_nd)
and sets up the system as the reference's compute_fft_reference does: linspace
grids, sigma = sqrt(hbar/(2 m omega0)) with omega0 = beta sqrt(2D/m), mode 0
displaced by q0. Prints E_exact and the number of rows.
"""
import argparse
import importlib.util

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("solver", help="the reference's bohmian_flow/fft.py")
    p.add_argument("--d", type=int, default=4)
    p.add_argument("--N", type=int, default=32)
    p.add_argument("--L", type=float, default=8.0)
    p.add_argument("--T", type=float, default=1.0)
    p.add_argument("--dt", type=float, default=0.01)
    p.add_argument("--D", type=float, default=12.5)
    p.add_argument("--beta", type=float, default=0.2)
    p.add_argument("--lam", type=float, default=0.3)
    p.add_argument("--q0", type=float, default=1.0)
    args = p.parse_args()

    spec = importlib.util.spec_from_file_location("reference_fft", args.solver)
    fft = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fft)

    grids = [np.linspace(-args.L, args.L, args.N) for _ in range(args.d)]
    omega0 = args.beta * np.sqrt(2.0 * args.D)
    mean = np.zeros(args.d)
    mean[0] = args.q0
    psi0 = fft.gaussian_wavepacket_nd(grids, mean, np.full(args.d, np.sqrt(1.0 / (2.0 * omega0))))

    def morse(*x):
        v = sum(args.D * (1.0 - np.exp(-args.beta * xi)) ** 2 for xi in x)
        return v + args.lam * sum(x[i] * x[i + 1] for i in range(args.d - 1))

    result = fft.split_operator_nd(morse, grids, psi0, args.T, args.dt)
    print(f"E_exact = {result['E_exact']:.14f}")
    print(f"rows: {len(result['t'])}")


if __name__ == "__main__":
    main()
