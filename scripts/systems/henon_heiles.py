#!/usr/bin/python3
"""The Hénon–Heiles chain as a TorchScript potential for bohmflow.

    V = Σ_k ½ q_k² + λ Σ_{k<d} (q_k² q_{k+1} − q_{k+1}³/3)

    /usr/bin/python3 scripts/systems/henon_heiles.py -o henon_heiles.pt
    build/apps/train --potential script --potential-file henon_heiles.pt --d 2 --initial-mean 2 ...

forward takes positions q of shape (M, d) in float64 and returns V of shape (M);
λ is a float attribute, so bohmflow's --param lam=… changes it.
"""
import argparse

import torch


class HenonHeiles(torch.nn.Module):
    def __init__(self, lam: float = 0.111803):
        super().__init__()
        self.lam = lam

    def forward(self, q):
        cubic = q[:, :-1] ** 2 * q[:, 1:] - q[:, 1:] ** 3 / 3
        return 0.5 * (q ** 2).sum(-1) + self.lam * cubic.sum(-1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="henon_heiles.pt")
    parser.add_argument("--lam", type=float, default=0.111803, help="cubic coupling λ")
    args = parser.parse_args()
    torch.jit.save(torch.jit.script(HenonHeiles(args.lam)), args.output)
    print(f"wrote {args.output}")
