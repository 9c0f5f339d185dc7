#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/ (numpy only).

Seeds are small on purpose: libFuzzer mutates faster the shorter an input
is, and each feature the readers support is in at least one seed. Rerun
after a format change; the output is the same on every run.

  /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import io
import json
import os
import shutil
import struct
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RNG = np.random.default_rng(0)


def npy(array, version=(1, 0)):
    """One .npy member as numpy writes it."""
    out = io.BytesIO()
    np.lib.format.write_array(out, np.asanyarray(array), version=version, allow_pickle=False)
    return out.getvalue()


def npy_by_hand(descr, shape, data, fortran=False, long_ints=False):
    """A version 1.0 member with a header numpy itself would not write."""
    dims = ", ".join(f"{n}L" if long_ints else str(n) for n in shape)
    shape_text = f"({dims},)" if len(shape) == 1 else f"({dims})"
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def write_zip(path, members, compress=False):
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)


def npz_members(arrays):
    return [(key + ".npy", npy(value)) for key, value in arrays.items()]


# ---- npz_fuzz ----------------------------------------------------------------------

def npz_corpus(out):
    every_dtype = {
        "f8": RNG.standard_normal((2, 3)),
        "f4": np.arange(3, dtype=np.float32),
        "c16": np.array([1 + 2j, -0.5j]),
        "i8": np.int64(-7),
        "i4": np.arange(4, dtype=np.int32).reshape(2, 2),
        "b1": np.array([True, False, True]),
        "name": np.array("bohmflow ψ"),
        "words": np.array(["a", "bcd"]),
        "empty": np.zeros((0,)),
        "group/nested": np.float64(2.5),
    }
    write_zip(f"{out}/dtypes.npz", npz_members(every_dtype))
    write_zip(f"{out}/dtypes_deflated.npz", npz_members(every_dtype), compress=True)

    # Layouts the reader converts: Fortran order, big-endian, other byte-order
    # characters, format versions 2.0 and 3.0, Python 2 long literals.
    layouts = [
        ("fortran.npy", npy(np.asfortranarray(np.arange(6.0).reshape(2, 3)))),
        ("big.npy", npy(np.arange(3, dtype=">f8"))),
        ("big_i4.npy", npy(np.arange(2, dtype=">i4"))),
        ("big_u.npy", npy(np.array("xyz", dtype=">U3"))),
        ("native.npy", npy_by_hand("=i8", (2,), struct.pack("<2q", 1, -1))),
        ("bool.npy", npy_by_hand("|?", (2,), b"\x00\x02")),
        ("long.npy", npy_by_hand("<f4", (1, 2), struct.pack("<2f", 1, 2), fortran=True, long_ints=True)),
        ("v2.npy", npy(np.ones(2), version=(2, 0))),
        ("v3.npy", npy(np.array("é"), version=(3, 0))),
    ]
    write_zip(f"{out}/layouts.npz", layouts)

    # Members the reader skips: a directory entry and a non-.npy file.
    write_zip(f"{out}/skipped.npz", [("dir/", b""), ("notes.txt", b"not an array"),
                                     ("x.npy", npy(np.arange(2)))])
    write_zip(f"{out}/empty.npz", [])  # what np.savez() with no arrays writes

    # A truncated archive: its central directory is gone.
    with open(f"{out}/dtypes.npz", "rb") as f:
        whole = f.read()
    with open(f"{out}/truncated.npz", "wb") as f:
        f.write(whole[: len(whole) // 2])

    # Bare members, for the direct .npy decoding path.
    with open(f"{out}/matrix.npy", "wb") as f:
        f.write(npy(RNG.standard_normal((2, 2))))
    with open(f"{out}/v2_unicode.npy", "wb") as f:
        f.write(npy(np.array(["ab", "c"]), version=(2, 0)))

    # A real file from the tree, written by the library.
    shutil.copy(f"{ROOT}/data/fig3_training.npz", f"{out}/fig3_training.npz")


# ---- checkpoint_fuzz ---------------------------------------------------------------

def parameters(d, hidden, n_freq, film=True, deepsets=False, pair_width=0):
    """The parameter shapes ScoreNetImpl registers for these options."""
    n_time = 2 * n_freq
    shapes = {}

    def layer(prefix, film_prefix, fan_in, width):
        shapes[f"{prefix}_W"] = (fan_in, width)
        shapes[f"{prefix}_b"] = (width,)
        if film:
            for part in ("gamma", "beta"):
                shapes[f"{film_prefix}_{part}_W"] = (n_time, width)
                shapes[f"{film_prefix}_{part}_b"] = (width,)

    time_inputs = 0 if film else n_time
    fan_in = (1 if deepsets else d) + time_inputs
    for i, width in enumerate(hidden):
        layer(f"spatial_{i}", f"film_{i}", fan_in, width)
        fan_in = width
        if i == 0 and pair_width > 0:
            layer("pair", "pair_film", 1 + time_inputs, pair_width)
            fan_in += pair_width
    shapes["output_W"] = (fan_in, 1)
    shapes["output_b"] = (1,)
    return {name: 0.1 * RNG.standard_normal(shape) for name, shape in shapes.items()}


def checkpoint(path, potential, system, network, baseline, compress=False, adam=True):
    d = int(system["d"])
    params = parameters(d, network["hidden_dims"], network["n_freq"],
                        film=network["conditioning"] == "film",
                        deepsets=network.get("symmetry") == "deepsets",
                        pair_width=network.get("pair_width", 0))
    args = {"potential": potential, "system": system, "network": dict(network, d=d),
            "baseline": baseline, "training": {"T": 1.0, "dt": 0.05, "seed": 0}}
    arrays = {"format": np.array("bohmflow-checkpoint-1"),
              "args": np.array(json.dumps(args, separators=(",", ":")))}
    arrays.update({f"params/{k}": v for k, v in params.items()})
    if adam:
        arrays.update({f"adam/m/{k}": 0.01 * v for k, v in params.items()})
        arrays.update({f"adam/v/{k}": v * v for k, v in params.items()})
        arrays["adam/step"] = np.int64(3)
    arrays.update({"lr": np.float64(1e-3), "epoch": np.int64(3),
                   "losses": np.array([3.0, 2.0, 1.5]),
                   "rng_state": np.arange(4, dtype=np.int64),
                   "plateau/best": np.float64(1.5), "plateau/wait": np.int64(0),
                   "provenance": np.array("tests/fuzz/make_corpus.py")})
    write_zip(path, npz_members(arrays), compress)


def checkpoint_corpus(out):
    morse = {"D": 12.5, "beta": 0.2, "d": 2.0, "hbar": 1.0, "lam": 0.3, "mass": 1.0,
             "q0": 1.0, "sigma0": 0.7071067811865476}
    checkpoint(f"{out}/morse_film.npz", "morse_chain", morse,
               {"conditioning": "film", "hidden_dims": [4], "n_freq": 1, "output_scale": 0.01},
               "minimum")
    harmonic = {"centre_0": 0.1, "d": 1.0, "hbar": 0.01, "mass": 1.0, "mean_0": 0.0,
                "omega_0": 1.0, "phase_0": -5.0, "sigma0_0": 0.31622776601683794}
    checkpoint(f"{out}/harmonic_concat.npz", "harmonic", harmonic,
               {"conditioning": "concat", "hidden_dims": [3, 2], "n_freq": 1,
                "output_scale": 0.01, "symmetry": "none"},
               "trap", compress=True, adam=False)
    bosons = {"d": 2.0, "g": 1.0, "hbar": 0.1, "mass": 1.0, "mean": 0.0, "omega": 1.0,
              "phase": 0.0, "s2": 0.1, "sigma0": 0.22360679774997896}
    checkpoint(f"{out}/bosons_deepsets.npz", "interacting_bosons", bosons,
               {"conditioning": "film", "hidden_dims": [3], "n_freq": 1, "output_scale": 0.01,
                "symmetry": "deepsets", "pair_width": 2},
               "trap", adam=False)
    with open(f"{out}/morse_film.npz", "rb") as f:
        whole = f.read()
    with open(f"{out}/truncated.npz", "wb") as f:
        f.write(whole[: len(whole) * 2 // 3])


def main():
    for name, make in (("npz", npz_corpus), ("checkpoint", checkpoint_corpus)):
        out = f"{HERE}/corpus/{name}"
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        make(out)
        total = sum(os.path.getsize(f"{out}/{f}") for f in os.listdir(out))
        print(f"{out}: {len(os.listdir(out))} files, {total} bytes")


if __name__ == "__main__":
    main()
