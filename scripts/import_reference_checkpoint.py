#!/usr/bin/python3
"""Convert a BohmianFlow (JAX reference) pickle checkpoint to a bohmflow NPZ.

The reference implementation (https://github.com/wangleiphy/BohmianFlow,
MIT licence) saves checkpoints as a pickled dict

    {'params': {'film_params' | 'mlp_params': ..., 'freqs': ndarray},
     'opt_state': <optax state: namedtuples of numpy arrays>,
     'losses': [float, ...], 'epoch': int, 'args': {...} | None, ...}

This script reads such a file with nothing but the standard library and
numpy: the optax / jax classes referenced by the pickle are replaced by
inert stand-ins (a restricted unpickler: no code from the pickle is run), and
numpy arrays written by numpy 2.x ('numpy._core') load under numpy 1.x.

The result is written atomically (temporary file in the destination folder,
then os.replace) as an NPZ in the bohmflow checkpoint layout
("bohmflow-checkpoint-1"):

    params/spatial_{i}_W, params/spatial_{i}_b            hidden layer i
    params/film_{i}_{gamma,beta}_{W,b}                    FiLM layer i (film only)
    params/output_W, params/output_b                      output layer
    adam/step, adam/m/<name>, adam/v/<name>               Adam state (if present)
    lr, epoch, losses, args (JSON), provenance, format

Usage (from the repository root):

    /usr/bin/python3 scripts/import_reference_checkpoint.py \\
        ../shared/upstream/morse_d4.pkl -o checkpoints/morse_d4.npz
"""

import argparse
import collections
import hashlib
import io
import json
import math
import os
import pickle
import sys
import tempfile

import numpy as np

FORMAT = "bohmflow-checkpoint-1"
REFERENCE_URL = "https://github.com/wangleiphy/BohmianFlow"
DEFAULT_COPYRIGHT = "Copyright (c) 2026 Lei Wang"
DEFAULT_OUTPUT = os.path.join("checkpoints", "morse_d4.npz")


class ConversionError(Exception):
    """A problem with the input, reported as '<file>: <key>: <message>'."""

    def __init__(self, key, message):
        super().__init__(message)
        self.key = key
        self.message = message


# --------------------------------------------------------------------------
# Restricted unpickling with stand-ins for jax / optax / unknown classes.
# --------------------------------------------------------------------------

# Field names of the optax states we know about (NamedTuples pickle their
# fields positionally through NEWOBJ).
KNOWN_FIELDS = {
    "EmptyState": (),
    "ScaleByAdamState": ("count", "mu", "nu"),
    "ScaleByAmsgradState": ("count", "mu", "nu", "nu_max"),
    "ScaleByScheduleState": ("count",),
    "ScaleByLearningRateState": ("count",),
    "InjectHyperparamsState": ("count", "hyperparams", "inner_state"),
    "InjectStatefulHyperparamsState": ("count", "hyperparams", "hyperparams_states",
                                       "inner_state"),
    "ClipByGlobalNormState": (),
    "ApplyIfFiniteState": ("notfinite_count", "last_finite", "total_notfinite",
                           "inner_state"),
    "MultiStepsState": ("mini_step", "gradient_step", "inner_opt_state", "acc_grads",
                        "skip_state"),
    "MaskedState": ("inner_state",),
}


class StandIn:
    """Inert replacement for a class or function the pickle refers to.

    Instances remember the positional/keyword arguments they were built with
    (NEWOBJ or REDUCE) and any state given by BUILD; nothing is executed.
    """

    _module = "?"
    _name = "?"
    _args = ()
    _kwargs = {}
    _state = None

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj._args = args
        obj._kwargs = kwargs
        obj._state = None
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self._state = state

    @classmethod
    def qualname(cls):
        return f"{cls._module}.{cls._name}"

    def fields(self):
        """Named fields for known optax states, else {'arg0': ...}."""
        names = KNOWN_FIELDS.get(self._name)
        out = collections.OrderedDict()
        if names is not None and len(names) == len(self._args):
            out.update(zip(names, self._args))
        else:
            for i, a in enumerate(self._args):
                out[f"arg{i}"] = a
        out.update(self._kwargs)
        if isinstance(self._state, dict):
            for k, v in self._state.items():
                out.setdefault(str(k), v)
        return out

    def __repr__(self):
        return f"<stand-in {self.qualname()}>"


_NUMPY_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"),
}
_NUMPY_DTYPE_CLASSES_MODULE = "numpy.dtypes"  # numpy >= 1.25 pickles dtype classes
_BUILTINS_ALLOWED = {
    ("builtins", "list"), ("builtins", "dict"), ("builtins", "tuple"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"),
    ("builtins", "complex"), ("builtins", "bytearray"), ("builtins", "range"),
    ("builtins", "object"), ("collections", "OrderedDict"),
    ("collections", "defaultdict"), ("copyreg", "_reconstructor"),
    ("_codecs", "encode"),
}


class ReferenceUnpickler(pickle.Unpickler):
    """Loads numpy arrays as numpy and everything foreign as a StandIn."""

    def __init__(self, f):
        super().__init__(f)
        self.stand_ins = {}  # (module, name) -> StandIn subclass

    def find_class(self, module, name):
        # numpy 2.x writes 'numpy._core.*'; numpy 1.x only has 'numpy.core.*'.
        np_module = module
        if module == "numpy._core" or module.startswith("numpy._core."):
            np_module = "numpy.core" + module[len("numpy._core"):]
        if (np_module, name) in _NUMPY_ALLOWED:
            return super().find_class(np_module, name)
        if np_module == _NUMPY_DTYPE_CLASSES_MODULE:
            try:
                return super().find_class(np_module, name)
            except (ImportError, AttributeError):
                pass
        if (module, name) in _BUILTINS_ALLOWED:
            return super().find_class(module, name)
        key = (module, name)
        if key not in self.stand_ins:
            self.stand_ins[key] = type(name, (StandIn,), {"_module": module, "_name": name})
        return self.stand_ins[key]


def is_jax_module(module):
    return module.split(".")[0] in ("jax", "jaxlib")


def realise(obj, found):
    """Replace jax array stand-ins by numpy arrays, recursively.

    A jax array pickles as a call to a jax-internal function (e.g.
    jax._src.array._reconstruct_array(fun, args, arr_state, aval_state)) whose
    arguments contain the numpy data; such a stand-in holding exactly one
    ndarray becomes that ndarray.  Other stand-ins (optax states) are kept,
    with their arguments realised.
    """
    if isinstance(obj, StandIn):
        obj._args = tuple(realise(a, found) for a in obj._args)
        obj._kwargs = {k: realise(v, found) for k, v in obj._kwargs.items()}
        if obj._state is not None:
            obj._state = realise(obj._state, found)
        if is_jax_module(obj._module):
            arrays = [a for a in list(obj._args) + list(obj._kwargs.values())
                      if isinstance(a, np.ndarray)]
            if len(arrays) == 1:
                found["jax arrays converted"] += 1
                return arrays[0]
        return obj
    if isinstance(obj, dict):
        return {k: realise(v, found) for k, v in obj.items()}
    if isinstance(obj, list):
        return [realise(v, found) for v in obj]
    if isinstance(obj, tuple):
        return tuple(realise(v, found) for v in obj)
    return obj


def load_pickle(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ConversionError(None, "no such file")
    except OSError as e:
        raise ConversionError(None, f"cannot read: {e.strerror or e}")
    if not data or data[:1] != b"\x80":
        raise ConversionError(None, "not a pickle file (no pickle protocol header)")
    unpickler = ReferenceUnpickler(io.BytesIO(data))
    try:
        payload = unpickler.load()
    except ConversionError:
        raise
    except Exception as e:  # UnpicklingError, EOFError, ValueError, ...
        raise ConversionError(None, f"not a readable pickle: {type(e).__name__}: {e}")
    found = collections.Counter()
    payload = realise(payload, found)
    stand_ins = sorted(f"{m}.{n}" for (m, n) in unpickler.stand_ins)
    return payload, data, stand_ins, found


# --------------------------------------------------------------------------
# Parameter trees.
# --------------------------------------------------------------------------

def as_float64(x, key):
    if isinstance(x, StandIn):
        raise ConversionError(key, f"expected an array, found {x.qualname()}")
    try:
        a = np.asarray(x)
    except Exception:
        raise ConversionError(key, f"expected an array, found {type(x).__name__}")
    if a.dtype.kind not in "fiu":
        raise ConversionError(key, f"expected a real array, found dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ConversionError(key, "contains non-finite values")
    return a


def expect_shape(a, shape, key):
    if tuple(a.shape) != tuple(shape):
        raise ConversionError(key, f"shape {tuple(a.shape)}, expected {tuple(shape)}")


def seq(x, key, length=None):
    if not isinstance(x, (list, tuple)):
        raise ConversionError(key, f"expected a list/tuple, found {type(x).__name__}")
    if length is not None and len(x) != length:
        raise ConversionError(key, f"expected {length} entries, found {len(x)}")
    return x


def dense_layer(layer, key):
    """(W, b) of one dense layer as float64, W a matrix."""
    W, b = seq(layer, key, 2)
    W = as_float64(W, key + "[0]")
    b = as_float64(b, key + "[1]")
    if W.ndim != 2:
        raise ConversionError(key + "[0]", f"shape {W.shape}, expected a matrix")
    return W, b


def flatten_film(tree, prefix, d=None):
    """FiLM tree -> (ordered {name: array}, hidden_dims, n_freq, d_in)."""
    if not isinstance(tree, dict):
        raise ConversionError(prefix, f"expected a dict, found {type(tree).__name__}")
    for k in ("spatial", "film", "output"):
        if k not in tree:
            raise ConversionError(f"{prefix}['{k}']", "missing")
    extra = set(tree) - {"spatial", "film", "output"}
    if extra:
        raise ConversionError(prefix, f"unexpected keys {sorted(extra)}")
    spatial = seq(tree["spatial"], f"{prefix}['spatial']")
    film = seq(tree["film"], f"{prefix}['film']", len(spatial))
    if not spatial:
        raise ConversionError(f"{prefix}['spatial']", "no hidden layers")
    out = collections.OrderedDict()
    hidden = []
    n_time = None
    d_in = None
    for i, layer in enumerate(spatial):
        k = f"{prefix}['spatial'][{i}]"
        W, b = dense_layer(layer, k)
        if i == 0:
            d_in = W.shape[0]
            if d is not None and d_in != d:
                raise ConversionError(k + "[0]", f"shape {W.shape}: {d_in} inputs, expected d = {d}")
        else:
            expect_shape(W, (hidden[-1], W.shape[1]), k + "[0]")
        h = W.shape[1]
        expect_shape(b, (h,), k + "[1]")
        hidden.append(h)
        out[f"spatial_{i}_W"] = W
        out[f"spatial_{i}_b"] = b
    for i, layer in enumerate(film):
        k = f"{prefix}['film'][{i}]"
        Wg, bg, Wb, bb = [as_float64(a, f"{k}[{j}]") for j, a in enumerate(seq(layer, k, 4))]
        if Wg.ndim != 2:
            raise ConversionError(k + "[0]", f"shape {Wg.shape}, expected a matrix")
        if n_time is None:
            n_time = Wg.shape[0]
        h = hidden[i]
        expect_shape(Wg, (n_time, h), k + "[0]")
        expect_shape(bg, (h,), k + "[1]")
        expect_shape(Wb, (n_time, h), k + "[2]")
        expect_shape(bb, (h,), k + "[3]")
        out[f"film_{i}_gamma_W"] = Wg
        out[f"film_{i}_gamma_b"] = bg
        out[f"film_{i}_beta_W"] = Wb
        out[f"film_{i}_beta_b"] = bb
    if n_time % 2:
        raise ConversionError(f"{prefix}['film'][0][0]", f"{n_time} time features is odd")
    k = f"{prefix}['output']"
    W, b = seq(tree["output"], k, 2)
    W = as_float64(W, k + "[0]")
    b = as_float64(b, k + "[1]")
    expect_shape(W, (hidden[-1], 1), k + "[0]")
    expect_shape(b, (1,), k + "[1]")
    out["output_W"] = W
    out["output_b"] = b
    return out, hidden, n_time // 2, d_in


def flatten_concat(layers, prefix, n_freq):
    """Concat MLP [(W, b), ...] -> (ordered {name: array}, hidden_dims, d_in)."""
    layers = seq(layers, prefix)
    if len(layers) < 2:
        raise ConversionError(prefix, f"{len(layers)} layers, expected at least 2")
    out = collections.OrderedDict()
    hidden = []
    d_in = None
    for i, layer in enumerate(layers):
        k = f"{prefix}[{i}]"
        W, b = dense_layer(layer, k)
        if i == 0:
            d_in = W.shape[0] - 2 * n_freq
            if d_in < 1:
                raise ConversionError(k + "[0]", f"shape {W.shape}: fewer inputs than "
                                      f"2*n_freq = {2 * n_freq} time features")
        else:
            expect_shape(W, (hidden[-1], W.shape[1]), k + "[0]")
        expect_shape(b, (W.shape[1],), k + "[1]")
        if i < len(layers) - 1:
            hidden.append(W.shape[1])
            out[f"spatial_{i}_W"] = W
            out[f"spatial_{i}_b"] = b
        else:
            expect_shape(W, (hidden[-1], 1), k + "[0]")
            out["output_W"] = W
            out["output_b"] = b
    return out, hidden, d_in


def flatten_like(tree, conditioning, prefix, n_freq, names):
    """Flatten an Adam moment tree with the same layout as the parameters."""
    if conditioning == "film":
        flat = flatten_film(tree, prefix)[0]
    else:
        flat = flatten_concat(tree, prefix, n_freq)[0]
    if list(flat) != list(names):
        raise ConversionError(prefix, "layout differs from the parameters")
    return flat


# --------------------------------------------------------------------------
# Optimiser state.
# --------------------------------------------------------------------------

def walk_states(obj, path="opt_state"):
    """Yield (path, StandIn) for every optax state stand-in in the tree."""
    if isinstance(obj, StandIn):
        yield path, obj
        for name, value in obj.fields().items():
            yield from walk_states(value, f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk_states(v, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk_states(v, f"{path}[{k!r}]")


def scalar(x, key, kind=float):
    try:
        a = np.asarray(x)
        if a.size != 1 or a.dtype.kind not in "fiub":
            raise ValueError
        v = a.reshape(()).item()
    except Exception:
        raise ConversionError(key, f"expected a scalar, found {x!r}")
    return kind(v)


def read_opt_state(opt_state, conditioning, n_freq, names):
    """-> (adam dict or None, lr or None, list of description lines)."""
    notes = []
    adam = None
    lr = None
    states = list(walk_states(opt_state))
    if not states and opt_state is not None:
        notes.append(f"opt_state holds no optax states ({type(opt_state).__name__})")
    for path, st in states:
        fields = st.fields()
        desc = ", ".join(
            f"{k}={scalar(v, path + '.' + k, int)}" if k == "count" else k
            for k, v in fields.items())
        notes.append(f"{path}: {st._name}({desc})")
        if st._name in ("ScaleByAdamState", "ScaleByAmsgradState"):
            if adam is not None:
                raise ConversionError(path, "more than one Adam state")
            for k in ("count", "mu", "nu"):
                if k not in fields:
                    raise ConversionError(f"{path}.{k}", "missing")
            adam = {
                "step": scalar(fields["count"], path + ".count", int),
                "m": flatten_like(fields["mu"], conditioning, path + ".mu", n_freq, names),
                "v": flatten_like(fields["nu"], conditioning, path + ".nu", n_freq, names),
            }
            if any((a < 0).any() for a in adam["v"].values()):
                raise ConversionError(path + ".nu", "negative second moment")
        elif "hyperparams" in fields and isinstance(fields["hyperparams"], dict):
            hp = fields["hyperparams"]
            shown = {k: scalar(v, f"{path}.hyperparams[{k!r}]") for k, v in hp.items()
                     if not isinstance(v, StandIn)}
            notes.append(f"  hyperparams: {json.dumps(shown)}")
            if "learning_rate" in hp:
                if lr is not None:
                    raise ConversionError(path, "more than one injected learning_rate")
                lr = scalar(hp["learning_rate"], f"{path}.hyperparams['learning_rate']")
        elif st._name == "ScaleByScheduleState":
            notes.append("  (schedule function not stored: learning rate not recoverable "
                         "from ScaleByScheduleState)")
    return adam, lr, notes


# --------------------------------------------------------------------------
# Arguments.
# --------------------------------------------------------------------------

SYSTEM_DEFAULTS = collections.OrderedDict([
    ("d", 4), ("D", 12.5), ("beta", 0.2), ("lam", 0.3), ("q0", 1.0),
    ("sigma0", 0.0), ("hbar", 1.0), ("mass", 1.0)])
RENAMES = {"T_horizon": "T"}
BASELINE_FLAGS = ("no_baseline", "baseline_ic", "baseline_hartree")


def jsonable(v, key):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ConversionError(key, f"non-finite value {v}")
        return v
    if isinstance(v, (list, tuple)):
        return [jsonable(x, key) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x, f"{key}.{k}") for k, x in v.items()}
    raise ConversionError(key, f"value of type {type(v).__name__} is not representable")


def build_args(ref_args, conditioning, hidden, n_freq, d):
    if ref_args is None:
        ref_args = {}
    if not isinstance(ref_args, dict):
        raise ConversionError("['args']", f"expected a dict, found {type(ref_args).__name__}")
    a = {str(k).replace("-", "_"): v for k, v in ref_args.items()}
    used = set()

    def take(name, default):
        if name in a:
            used.add(name)
            return a[name]
        return default

    potential = take("potential", "morse-chain")
    if str(potential).replace("-", "_") != "morse_chain":
        raise ConversionError("['args']['potential']",
                              f"'{potential}' is not supported (only morse-chain)")
    system = collections.OrderedDict()
    for name, default in SYSTEM_DEFAULTS.items():
        v = take(name, default)
        if name == "sigma0" and v is None:
            v = 0.0  # reference: None = harmonic ground-state width
        system[name] = jsonable(v, f"['args']['{name}']")
    if system["d"] != d:
        raise ConversionError("['args']['d']", f"{system['d']} disagrees with the parameters (d = {d})")

    arg_cond = take("conditioning", conditioning)
    if arg_cond != conditioning:
        raise ConversionError("['args']['conditioning']",
                              f"'{arg_cond}' disagrees with the parameters ('{conditioning}')")
    arg_hidden = take("hidden_dims", hidden)
    if list(arg_hidden) != list(hidden):
        raise ConversionError("['args']['hidden_dims']",
                              f"{list(arg_hidden)} disagrees with the parameter shapes {hidden}")
    arg_nf = take("n_freq", n_freq)
    if arg_nf != n_freq:
        raise ConversionError("['args']['n_freq']",
                              f"{arg_nf} disagrees with the parameter shapes (n_freq = {n_freq})")
    network = collections.OrderedDict([
        ("conditioning", conditioning), ("hidden_dims", list(hidden)), ("n_freq", n_freq),
        ("output_scale", jsonable(take("output_scale", 0.01), "['args']['output_scale']"))])

    for flag in BASELINE_FLAGS:
        if a.get(flag):
            raise ConversionError(f"['args']['{flag}']",
                                  "is set: only the default (minimum) baseline is supported")

    training = collections.OrderedDict()
    for k, v in a.items():
        if k in used:
            continue
        name = RENAMES.get(k, k)
        if name in training:
            raise ConversionError(f"['args']['{k}']", f"duplicates '{name}'")
        training[name] = jsonable(v, f"['args']['{k}']")
    return collections.OrderedDict([
        ("potential", "morse_chain"), ("system", system), ("network", network),
        ("baseline", "minimum"), ("training", training)])


# --------------------------------------------------------------------------
# Main conversion.
# --------------------------------------------------------------------------

def copyright_line(pkl_path):
    lic = os.path.join(os.path.dirname(os.path.abspath(pkl_path)), "LICENSE")
    try:
        with open(lic, encoding="utf-8") as f:
            for line in f:
                if line.strip().lower().startswith("copyright"):
                    return line.strip(), True
    except OSError:
        pass
    return DEFAULT_COPYRIGHT, False


def convert(pkl_path):
    payload, raw, stand_ins, found = load_pickle(pkl_path)
    if not isinstance(payload, dict):
        raise ConversionError(None, f"payload is a {type(payload).__name__}, expected a dict")
    for k in ("params", "losses", "epoch"):
        if k not in payload:
            raise ConversionError(f"['{k}']", "missing")

    params = payload["params"]
    if not isinstance(params, dict):
        raise ConversionError("['params']", f"expected a dict, found {type(params).__name__}")
    if "freqs" not in params:
        raise ConversionError("['params']['freqs']", "missing")
    freqs = as_float64(params["freqs"], "['params']['freqs']")
    if freqs.ndim != 1:
        raise ConversionError("['params']['freqs']", f"shape {freqs.shape}, expected a vector")

    ref_args = payload.get("args")
    arg_d = ref_args.get("d") if isinstance(ref_args, dict) else None
    if "film_params" in params:
        conditioning = "film"
        flat, hidden, n_freq, d = flatten_film(params["film_params"], "['params']['film_params']")
    elif "mlp_params" in params:
        conditioning = "concat"
        n_freq = freqs.shape[0]
        flat, hidden, d = flatten_concat(params["mlp_params"], "['params']['mlp_params']", n_freq)
    else:
        raise ConversionError("['params']", "has neither 'film_params' nor 'mlp_params' "
                              f"(keys: {sorted(params)})")
    extra_params = set(params) - {"film_params", "mlp_params", "freqs"}
    if extra_params:
        raise ConversionError("['params']", f"unexpected keys {sorted(extra_params)}")
    if arg_d is not None and arg_d != d:
        raise ConversionError("['args']['d']", f"{arg_d} disagrees with the parameter shapes (d = {d})")
    expected_freqs = 2.0 ** np.arange(n_freq, dtype=np.float64)
    if freqs.shape != expected_freqs.shape or not np.array_equal(freqs, expected_freqs):
        raise ConversionError("['params']['freqs']",
                              f"{freqs.tolist()} is not 2**arange({n_freq}) = "
                              f"{expected_freqs.tolist()}")

    adam, opt_lr, opt_notes = read_opt_state(payload.get("opt_state"), conditioning,
                                              n_freq, list(flat))

    losses_raw = payload["losses"]
    if not isinstance(losses_raw, (list, tuple, np.ndarray)):
        raise ConversionError("['losses']", f"expected a list, found {type(losses_raw).__name__}")
    try:
        losses = np.ascontiguousarray(np.asarray(losses_raw, dtype=np.float64).reshape(-1))
    except Exception as e:
        raise ConversionError("['losses']", f"not a list of numbers: {e}")
    epoch = scalar(payload["epoch"], "['epoch']", int)
    if epoch < 0:
        raise ConversionError("['epoch']", f"{epoch} is negative")

    args = build_args(ref_args, conditioning, hidden, n_freq, d)
    if opt_lr is not None:
        lr, lr_source = opt_lr, "the injected hyperparameter in opt_state"
    elif "lr" in args["training"]:
        lr, lr_source = float(args["training"]["lr"]), "args; not stored in opt_state"
    else:
        raise ConversionError("['args']['lr']", "missing, and no learning rate in opt_state")

    sha = hashlib.sha256(raw).hexdigest()
    copyright_text, from_file = copyright_line(pkl_path)
    provenance = (
        f"Source: {os.path.basename(pkl_path)} (SHA-256 {sha}), epoch {epoch}. "
        f"This is the reference implementation's published checkpoint "
        f"(BohmianFlow, {REFERENCE_URL}), converted to the bohmflow checkpoint format "
        f"({FORMAT}) by scripts/import_reference_checkpoint.py. "
        f"Licence: MIT License, {copyright_text}.")

    arrays = collections.OrderedDict()
    for name, a in flat.items():
        arrays[f"params/{name}"] = a
    if adam is not None:
        arrays["adam/step"] = np.array(adam["step"], dtype=np.int64)
        for name in flat:
            arrays[f"adam/m/{name}"] = adam["m"][name]
        for name in flat:
            arrays[f"adam/v/{name}"] = adam["v"][name]
    arrays["lr"] = np.array(lr, dtype=np.float64)
    arrays["epoch"] = np.array(epoch, dtype=np.int64)
    arrays["losses"] = losses
    arrays["args"] = np.str_(json.dumps(args))
    arrays["provenance"] = np.str_(provenance)
    arrays["format"] = np.str_(FORMAT)

    info = {
        "sha256": sha, "epoch": epoch, "losses": losses, "lr": lr, "lr_source": lr_source,
        "adam": adam, "opt_notes": opt_notes, "stand_ins": stand_ins, "found": found,
        "n_params": int(sum(a.size for a in flat.values())), "args": args,
        "copyright_from_file": from_file,
        "ignored": sorted(set(payload) - {"params", "opt_state", "losses", "epoch", "args"}),
        "payload": payload,
    }
    return arrays, info


def write_npz_atomic(path, arrays):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def describe_extra(payload, key):
    v = payload[key]
    if isinstance(v, dict):
        inner = ", ".join(
            f"{k}: {'array ' + str(x.shape) if isinstance(x, np.ndarray) else type(x).__name__}"
            for k, x in v.items())
        return f"'{key}' {{{inner}}}"
    return f"'{key}' ({type(v).__name__})"


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Convert a BohmianFlow (JAX reference) pickle checkpoint to a bohmflow NPZ.")
    p.add_argument("checkpoint", help="reference checkpoint (.pkl)")
    p.add_argument("-o", "--output", default=DEFAULT_OUTPUT,
                   help=f"output NPZ (default: {DEFAULT_OUTPUT})")
    opts = p.parse_args(argv)

    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "import_reference_checkpoint.py"
    try:
        arrays, info = convert(opts.checkpoint)
    except ConversionError as e:
        where = f"{opts.checkpoint}: {e.key}" if e.key else opts.checkpoint
        print(f"{prog}: error: {where}: {e.message}", file=sys.stderr)
        return 1
    try:
        write_npz_atomic(opts.output, arrays)
    except OSError as e:
        print(f"{prog}: error: {opts.output}: cannot write: {e}", file=sys.stderr)
        return 1

    losses = info["losses"]
    print(f"Converted {opts.checkpoint} -> {opts.output} ({os.path.getsize(opts.output)} bytes)")
    print(f"  sha256      {info['sha256']}")
    print(f"  epoch       {info['epoch']}")
    net = info["args"]["network"]
    print(f"  network     {net['conditioning']}, hidden_dims {net['hidden_dims']}, "
          f"n_freq {net['n_freq']}, {info['n_params']} parameters")
    if len(losses):
        print(f"  losses      {len(losses)} values, last {losses[-1]:.6e}, "
              f"min {losses.min():.6e}")
    else:
        print("  losses      none")
    print(f"  lr          {info['lr']:g} (from {info['lr_source']})")
    if info["adam"] is not None:
        print(f"  adam step   {info['adam']['step']}")
    else:
        print("  adam        no ScaleByAdamState found: adam/* not written")
    print("  optax states found:")
    for line in info["opt_notes"]:
        print(f"    {line}")
    if info["stand_ins"]:
        print(f"  stand-ins   {', '.join(info['stand_ins'])}")
    if info["found"]["jax arrays converted"]:
        print(f"  jax arrays  {info['found']['jax arrays converted']} converted to numpy")
    if info["ignored"]:
        print("  ignored     " + "; ".join(describe_extra(info["payload"], k)
                                           for k in info["ignored"]))
    if len(losses) != info["epoch"]:
        print(f"  note        {len(losses)} losses for epoch {info['epoch']}")
    if info["adam"] is not None and info["adam"]["step"] != info["epoch"]:
        print(f"  note        Adam step {info['adam']['step']} != epoch {info['epoch']}")
    if not info["copyright_from_file"]:
        print("  note        no LICENSE beside the pickle: default copyright line used")
    print(f"  keys        {len(arrays)}: {', '.join(arrays)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
