#!/usr/bin/python3
"""Writes the TorchScript modules the tests load (run from anywhere):

    /usr/bin/python3 tests/data/systems/make_test_modules.py

henon_heiles.pt and morse_chain.pt come from scripts/systems/; the others are
modules a user might get wrong, for the bad-input tests.
"""
import importlib.util
import os

import torch

here = os.path.dirname(os.path.abspath(__file__))
systems = os.path.join(here, "..", "..", "..", "scripts", "systems")


class WrongShape(torch.nn.Module):
    """Returns V as (M, 1) instead of (M)."""

    def forward(self, x):
        return (x ** 2).sum(-1, keepdim=True)


class NotFinite(torch.nn.Module):
    """log|x| is -inf at the origin."""

    def forward(self, x):
        return torch.log(x.abs()).sum(-1)


class Fails(torch.nn.Module):
    """Reads an axis that a small d does not have."""

    def forward(self, x):
        return x[:, 7] ** 2


class Slope(torch.nn.Module):
    """V = Σ x_i has no minimum."""

    def forward(self, x):
        return x.sum(-1)


for name, module in [("wrong_shape", WrongShape()), ("not_finite", NotFinite()), ("fails", Fails()),
                     ("slope", Slope())]:
    torch.jit.save(torch.jit.script(module), os.path.join(here, name + ".pt"))
for name, cls in [("henon_heiles", "HenonHeiles"), ("morse_chain", "MorseChain")]:
    # Imported under its own name: TorchScript records the class as <module>.<class>.
    spec = importlib.util.spec_from_file_location(name, os.path.join(systems, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.jit.save(torch.jit.script(getattr(module, cls)()), os.path.join(here, name + ".pt"))
print("wrote the test modules in", here)
