#!/usr/bin/python3
"""Convergence of FFT references: moments of each file against the first one.

    scripts/compare_fft_refs.py REFERENCE.npz OTHER.npz [OTHER.npz ...]

Compares at the times the files share (to 1e-9) and prints, per file, its
grid (N, L, dt), max |Δ<x_i>| and max |Δvar_i|/var_i over those times and axes.
"""
import sys

import numpy as np


def moments(path):
    with np.load(path) as f:
        return {k: f[k] for k in ("t", "means", "sigmas", "N", "L", "dt")}


def main(paths):
    if len(paths) < 2:
        sys.exit(__doc__)
    ref = moments(paths[0])
    print(f"reference {paths[0]}: N={int(ref['N'])}, L={float(ref['L']):g}, dt={float(ref['dt']):g}")
    print("| N | L | dt | max |Δ⟨x_i⟩| | max |Δvar|/var |")
    print("|---|---|---|---|---|")
    for path in paths[1:]:
        other = moments(path)
        gap = np.abs(other["t"][:, None] - ref["t"][None, :])
        match = gap.min(axis=1) < 1e-9
        if not match.any():
            sys.exit(f"{path}: no time in common with {paths[0]}")
        index = gap.argmin(axis=1)[match]
        ref_var = ref["sigmas"][index] ** 2
        mean_error = np.abs(other["means"][match] - ref["means"][index]).max()
        var_error = (np.abs(other["sigmas"][match] ** 2 - ref_var) / ref_var).max()
        print(f"| {int(other['N'])} | {float(other['L']):g} | {float(other['dt']):g} | "
              f"{mean_error:.1e} | {var_error:.1e} |")


if __name__ == "__main__":
    main(sys.argv[1:])
