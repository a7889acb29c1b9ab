"""Checks of a field checkpoint's state against the problem it claims to continue.

A record read back from disk is well formed (its checksums match) but may belong to another
problem, or have been edited. Before any kernel touches it, every array of the state of a
:class:`~problems.density_field.FieldDynamics` run is checked here:

* ``phi`` — the field: shape ``field.shape``, float64, finite, inside the functional's domain
  (the lattice gas needs ``0 < phi < 1``, where ``f'(phi) = T ln(phi / (1 - phi)) - h`` is finite);
* ``frames`` — the saved fields: ``(n,) + field.shape``, float64, finite, inside the domain;
* ``frame_steps`` — ``n`` integers, strictly increasing from 0, each a save step (a multiple of
  ``save_every``, or the last step) and at most ``steps``;
* ``energies`` — ``n`` finite float64 numbers, F of each frame;
* ``rng`` — the state dict of the solver's bit generator (same generator type).

A mismatch raises ``FileFormatError`` naming the array, what it holds and what the problem needs.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk

__all__ = ["checked_state"]

_KEYS = ("phi", "rng", "frames", "frame_steps", "energies")
_WHY = "the checkpoint belongs to another problem or solver, or is corrupt"


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"shape {a.shape} and dtype {a.dtype}"
    return f"a {type(a).__name__}"


def _array(state: dict, key: str, shape: tuple, dtype) -> np.ndarray:
    """``state[key]`` as an array of exactly ``shape`` and ``dtype`` (an integer dtype when ``dtype`` is
    ``int``), finite, or a FileFormatError saying what the problem needs."""
    a = state[key]
    wanted = "an integer dtype" if dtype is int else f"dtype {np.dtype(dtype)}"
    fits = isinstance(a, np.ndarray) and a.shape == shape and (
        a.dtype.kind in "iu" if dtype is int else a.dtype == np.dtype(dtype))
    if not fits:
        raise tk.FileFormatError(f"checkpoint array {key!r} has {_describe(a)}; this problem needs shape {shape} "
                                 f"and {wanted}: {_WHY}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise tk.FileFormatError(f"checkpoint array {key!r} ({_describe(a)}) holds "
                                 f"{np.count_nonzero(~np.isfinite(a))} non-finite value(s); a resumable state is "
                                 "finite: the checkpoint is corrupt")
    return a


def _in_domain(key: str, a: np.ndarray, local) -> None:
    lo, hi = local.domain
    if a.size and (a.min() <= lo or a.max() >= hi):
        raise tk.FileFormatError(
            f"checkpoint array {key!r} holds densities from {a.min():g} to {a.max():g}; the "
            f"{type(local).__name__} functional needs every density strictly inside ({lo:g}, {hi:g}): {_WHY}")


def checked_state(state, problem, rng) -> dict:
    """The checkpoint ``state`` of a field integrator after checking it fits ``problem`` (module doc).

    ``rng`` is the integrator's generator: the saved state must be one of its bit generator's.
    Returns ``{"phi", "rng", "frames", "frame_steps", "energies"}``, arrays unchanged.
    """
    if not isinstance(state, dict):
        raise tk.FileFormatError(f"checkpoint state is a {type(state).__name__}, not a dict of arrays")
    missing = [k for k in _KEYS if k not in state]
    if missing:
        raise tk.FileFormatError(f"checkpoint state lacks {missing}; a density-field checkpoint holds {list(_KEYS)}")
    field = problem.field
    shape, local = tuple(field.shape), field.functional.local
    phi = _array(state, "phi", shape, np.float64)
    _in_domain("phi", phi, local)
    steps = state["frame_steps"]
    n = steps.shape[0] if isinstance(steps, np.ndarray) and steps.ndim == 1 else 0
    steps = _array(state, "frame_steps", (max(n, 1),), int)
    last, every = problem.total_steps, problem.save_every
    s = steps.astype(np.int64)
    saves = (s % every == 0) | (s == last)
    if s[0] != 0 or np.any(np.diff(s) <= 0) or s[-1] > last or not saves.all():
        raise tk.FileFormatError(
            f"checkpoint frame_steps = {np.array2string(steps, threshold=8)} is not a strictly increasing list of "
            f"save steps (multiples of save_every = {every}, or the last step) from 0 to at most the problem's "
            f"{last} steps: {_WHY}")
    frames = _array(state, "frames", (n,) + shape, np.float64)
    _in_domain("frames", frames, local)
    energies = _array(state, "energies", (n,), np.float64)
    saved = state["rng"]
    kind = type(rng.bit_generator).__name__
    if not (isinstance(saved, dict) and saved.get("bit_generator") == kind):
        shown = saved.get("bit_generator") if isinstance(saved, dict) else type(saved).__name__
        raise tk.FileFormatError(f"checkpoint entry 'rng' is a {shown!r} generator state; this solver draws its "
                                 f"noise from {kind}: {_WHY}")
    try:
        type(rng.bit_generator)().state = saved          # a trial on a fresh generator: rejects bad contents
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise tk.FileFormatError(f"checkpoint entry 'rng' is not a valid {kind} state ({exc}): {_WHY}") from None
    return {"phi": phi, "rng": saved, "frames": frames, "frame_steps": steps, "energies": energies}
