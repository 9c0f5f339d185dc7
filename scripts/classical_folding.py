#!/usr/bin/python3
"""When do the *classical* trajectories of the interacting bosons cross?

Newtonian particles (no quantum potential) from the trap's ground-state
density ρ₀ = N(0, ħ/(2mω) I) at rest, V = Σ ½ m ω² x_i² + Σ_{i<j} G e^{−(x_i−x_j)²/(2 s₂)},
G = g/(2√(2π s₂)), moved by a leapfrog together with F = ∂x/∂x₀. Prints the
fraction of particles with det F ≤ 0 (the map has folded over them) at a few
times: where the Bohmian flow needs its quantum potential to keep trajectories
apart, and so where the learned score has to carry sharp structure.

    /usr/bin/python3 scripts/classical_folding.py --d 2 4 8
"""
import argparse

import numpy as np


def gradient_and_hessian(x, g, s2, m, omega):
    """∇V (M, d) and ∇²V (M, d, d) of the trap plus the Gaussian pair sum."""
    amplitude = g / (2 * np.sqrt(2 * np.pi * s2))
    r = x[:, :, None] - x[:, None, :]                    # r_ij = x_i − x_j
    e = amplitude * np.exp(-r * r / (2 * s2))
    f1 = -r / s2 * e                                     # f'(r_ij)
    f2 = (r * r / s2**2 - 1 / s2) * e                    # f''(r_ij)
    d = x.shape[1]
    diagonal = np.arange(d)
    gradient = m * omega**2 * x + f1.sum(axis=2)
    hessian = -f2.copy()
    hessian[:, diagonal, diagonal] = m * omega**2 + f2.sum(axis=2) - f2[:, diagonal, diagonal]
    return gradient, hessian


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--d", type=int, nargs="+", default=[2, 3, 4, 8], help="numbers of particles")
    parser.add_argument("--M", type=int, default=2000, help="particles")
    parser.add_argument("--dt", type=float, default=2.5e-3, help="leapfrog step")
    parser.add_argument("--T", type=float, default=1.0, help="final time")
    parser.add_argument("--every", type=float, default=0.125, help="time between printed fractions")
    parser.add_argument("--seed", type=int, default=0)
    # DSM's values, the defaults of the interacting_bosons system.
    parser.add_argument("--hbar", type=float, default=0.1)
    parser.add_argument("--g", type=float, default=1.0)
    parser.add_argument("--s2", type=float, default=0.1)
    args = parser.parse_args()
    m = omega = 1.0
    steps = int(round(args.T / args.dt))
    stride = max(1, int(round(args.every / args.dt)))
    rng = np.random.default_rng(args.seed)
    print("fraction of particles with det F <= 0 at t =", [round(n * args.dt, 3) for n in range(stride, steps + 1, stride)])
    for d in args.d:
        x = rng.normal(0.0, np.sqrt(args.hbar / (2 * m * omega)), (args.M, d))
        v = np.zeros_like(x)
        F = np.tile(np.eye(d), (args.M, 1, 1))
        G = np.zeros_like(F)
        force, jacobian = gradient_and_hessian(x, args.g, args.s2, m, omega)
        fractions = []
        for n in range(1, steps + 1):
            # kick–drift–kick for x, v and for F = ∂x/∂x₀, G = ∂v/∂x₀
            v -= args.dt / 2 * force / m
            G -= args.dt / 2 * jacobian @ F / m
            x += args.dt * v
            F += args.dt * G
            force, jacobian = gradient_and_hessian(x, args.g, args.s2, m, omega)
            v -= args.dt / 2 * force / m
            G -= args.dt / 2 * jacobian @ F / m
            if n % stride == 0:
                fractions.append((np.linalg.det(F) <= 0).mean())
        print(f"d = {d}:", " ".join(f"{f:.3f}" for f in fractions))


if __name__ == "__main__":
    main()
