"""Checks of a HIP-NN training checkpoint's state against the run it claims to continue.

The state of a :class:`~.training.TrainingIntegrator` (``W`` the trainable parameter names,
``dtype`` the training precision):

* ``weights`` — every parameter of the model: arrays of its shape in ``dtype``, finite;
* ``adam`` — for a subset of ``W``: ``step`` (a number >= 1) and ``exp_avg``, ``exp_avg_sq``
  (the parameter's shape, ``dtype``, finite; ``exp_avg_sq >= 0``);
* ``best`` — every parameter as float64, finite; ``best_loss``, ``plateau_best`` finite numbers;
* ``lr`` — a positive finite number; ``best_epoch``, ``bad_epochs``, ``plateau_epochs`` integers
  >= 0; ``stopped`` a bool; ``message`` a string; ``rng`` a PCG64 state;
* ``curves`` — ``train_loss``, ``validation_loss``, ``train_mae``, ``validation_mae``,
  ``validation_force_mae``, ``learning_rate``: float64 arrays of one length, finite;
* ``train_time`` (seconds) and ``structures_trained`` (>= 0).

A mismatch raises ``FileFormatError`` naming the entry, before any weight is touched.
"""

from __future__ import annotations

import numbers

import numpy as np

import toolkit as tk

from ..checkpoints import _WHY, _describe, _fail  # the molecule family's checkpoint messages

__all__ = ["checked_training_state"]

CURVES = ("train_loss", "validation_loss", "train_mae", "validation_mae", "validation_force_mae", "learning_rate")


def _array(key, value, shape, dtype) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.shape != tuple(shape) or value.dtype != dtype:
        _fail(key, _describe(value), f"shape {tuple(shape)} and dtype {np.dtype(dtype).name}")
    if not np.all(np.isfinite(value)):
        _fail(key, "non-finite values", "finite values")
    return np.array(value, order="C")


def _number(key, value, lower=None, integer=False):
    kinds = (numbers.Integral, np.integer) if integer else (numbers.Real, np.floating, np.integer)
    if isinstance(value, bool) or not isinstance(value, kinds) or not np.isfinite(float(value)) or \
            (lower is not None and value < lower):
        _fail(key, repr(value)[:60], ("an integer" if integer else "a finite number") +
              ("" if lower is None else f" >= {lower}"))
    return int(value) if integer else float(value)


def _params(key, value, shapes: dict, dtype) -> dict:
    if not isinstance(value, dict) or set(value) != set(shapes):
        _fail(key, _describe(value) if not isinstance(value, dict) else f"the parameters {sorted(value)[:3]}...",
              f"exactly the parameters {sorted(shapes)[:3]}... ({len(shapes)})")
    return {name: _array(f"{key}.{name}", value[name], shapes[name], dtype) for name in shapes}


def checked_training_state(state, integrator) -> dict:
    """``state`` checked against ``integrator`` (module docstring), arrays as fresh copies."""
    if not isinstance(state, dict):
        _fail("state", _describe(state), "a dict")
    required = {"weights", "adam", "lr", "rng", "best", "best_loss", "best_epoch", "bad_epochs", "plateau_best",
                "plateau_epochs", "stopped", "message", "curves", "train_time", "structures_trained"}
    missing = sorted(required - set(state))
    if missing:
        raise tk.FileFormatError(f"checkpoint state lacks {', '.join(missing)}: {_WHY}")
    shapes = {name: tuple(p.shape) for name, p in integrator.net.named_parameters()}
    dtype = np.dtype(integrator.solver.dtype)
    out = {"weights": _params("weights", state["weights"], shapes, dtype),
           "best": _params("best", state["best"], shapes, np.float64)}
    adam = state["adam"]
    if not isinstance(adam, dict) or not set(adam) <= set(integrator.names):
        _fail("adam", _describe(adam), "moments of trainable parameters only")
    out["adam"] = {}
    for name, entry in adam.items():
        if not isinstance(entry, dict) or set(entry) != {"step", "exp_avg", "exp_avg_sq"}:
            _fail(f"adam.{name}", _describe(entry), "step, exp_avg and exp_avg_sq")
        sq = _array(f"adam.{name}.exp_avg_sq", entry["exp_avg_sq"], shapes[name], dtype)
        if np.any(sq < 0):
            _fail(f"adam.{name}.exp_avg_sq", "negative values", "values >= 0")
        out["adam"][name] = {"step": _number(f"adam.{name}.step", entry["step"], lower=1),
                             "exp_avg": _array(f"adam.{name}.exp_avg", entry["exp_avg"], shapes[name], dtype),
                             "exp_avg_sq": sq}
    out["lr"] = _number("lr", state["lr"])
    if out["lr"] <= 0:
        _fail("lr", repr(out["lr"]), "a positive learning rate")
    for key in ("best_loss", "plateau_best", "train_time"):
        out[key] = _number(key, state[key])
    for key in ("best_epoch", "bad_epochs", "plateau_epochs", "structures_trained"):
        out[key] = _number(key, state[key], lower=0, integer=True)
    if not isinstance(state["stopped"], (bool, np.bool_)):
        _fail("stopped", _describe(state["stopped"]), "True or False")
    out["stopped"] = bool(state["stopped"])
    if not isinstance(state["message"], str):
        _fail("message", _describe(state["message"]), "a string")
    out["message"] = state["message"]
    curves = state["curves"]
    if not isinstance(curves, dict) or set(curves) != set(CURVES):
        _fail("curves", _describe(curves), f"the curves {list(CURVES)}")
    lengths = {c.shape[0] if isinstance(c, np.ndarray) and c.ndim == 1 else -1 for c in curves.values()}
    if len(lengths) != 1 or -1 in lengths:
        _fail("curves", "curves of different lengths", "one value per epoch in every curve")
    (length,) = lengths
    out["curves"] = {k: _array(f"curves.{k}", curves[k], (length,), np.float64) for k in CURVES}
    if out["best_epoch"] > length:
        _fail("best_epoch", str(out["best_epoch"]), f"an epoch <= {length}")
    rng = state["rng"]
    name = type(integrator.rng.bit_generator).__name__
    if not isinstance(rng, dict) or rng.get("bit_generator") != name:
        _fail("rng", _describe(rng), f"a {name} state")
    try:
        probe = type(integrator.rng.bit_generator)()
        probe.state = rng
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        _fail("rng", f"a damaged {name} state ({exc})", f"a valid {name} state")
    out["rng"] = rng
    return out
