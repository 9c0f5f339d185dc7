#!/usr/bin/python3
"""The Morse chain of the paper as a TorchScript potential for bohmflow.

    V = Σ_i D (1 − e^{−β x_i})² + λ Σ_i x_i x_{i+1}

    /usr/bin/python3 scripts/systems/morse_chain.py -o morse_chain.pt
    build/apps/train --potential script --potential-file morse_chain.pt --d 4 \\
        --initial-mean 1 0 0 0 --initial-sigma 0.5 ...

forward takes positions x of shape (M, d) in float64 and returns V of shape (M);
D, β and λ are float attributes (--param D=…, beta=…, lam=…).
"""
import argparse

import torch


class MorseChain(torch.nn.Module):
    def __init__(self, D: float = 12.5, beta: float = 0.2, lam: float = 0.3):
        super().__init__()
        self.D = D
        self.beta = beta
        self.lam = lam

    def forward(self, x):
        well = 1.0 - torch.exp(-self.beta * x)
        return self.D * (well * well).sum(-1) + self.lam * (x[:, :-1] * x[:, 1:]).sum(-1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="morse_chain.pt")
    args = parser.parse_args()
    torch.jit.save(torch.jit.script(MorseChain()), args.output)
    print(f"wrote {args.output}")
