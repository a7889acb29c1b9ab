"""Checks of a molecular-dynamics checkpoint's state against the run it claims to continue.

A record read back from disk is well formed (its checksums match) but may belong to another
problem or solver, or have been edited. Before any kernel touches it, every entry of the state of
an :class:`~solvers.molecule.dynamics.MDIntegrator` is checked here (N atoms, M thermostats):

* ``x``, ``v``, ``f``, ``x_ref`` — positions (wrapped), velocities, forces and the positions the
  Verlet list was built at: float64 ``(N, 3)``, finite (``x_ref`` only with a numba pair potential);
* ``images`` — periodic-image counters: integers ``(N, 3)``;
* ``nh`` — Nosé–Hoover chain velocities then positions: float64 ``(2M,)``, finite;
* ``energy``, ``drift`` — potential energy and the largest relative energy drift
  seen: finite numbers; ``virial``: float64 ``(3, 3)``, finite; ``rebuilds``: an integer >= 0;
* ``thermo`` — ``step`` (T integers, increasing) and ``potential``, ``kinetic``, ``thermostat``
  (T finite numbers), ``virial``, ``ktensor`` (``(T, 3, 3)``, finite);
* ``frames`` — ``step`` (F integers, increasing), ``positions``, ``velocities`` (``(F, N, 3)``, finite);
* ``rng`` — the state of the Langevin solver's bit generator (same generator type).

A mismatch raises ``FileFormatError`` naming the entry, what it holds and what the run needs.
"""

from __future__ import annotations

import numbers

import numpy as np

import toolkit as tk

__all__ = ["checked_state"]

_WHY = "the checkpoint belongs to another problem or solver, or is corrupt"


def _fail(key: str, what: str, need: str):
    raise tk.FileFormatError(f"checkpoint entry {key!r} holds {what}; this run needs {need}: {_WHY}")


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape} and dtype {a.dtype}"
    return f"a {type(a).__name__}"


def _array(key: str, value, shape: tuple, integer: bool = False) -> np.ndarray:
    """``value`` as an array of exactly ``shape`` (float64, finite; or integers), else FileFormatError."""
    a = value
    if not isinstance(a, np.ndarray) or a.shape != shape or \
            not (a.dtype.kind in "iu" if integer else a.dtype == np.float64):
        _fail(key, _describe(a), f"shape {shape} and {'an integer dtype' if integer else 'dtype float64'}")
    if not integer:
        bad = np.count_nonzero(~np.isfinite(a))
        if bad:
            raise tk.FileFormatError(f"checkpoint entry {key!r} ({_describe(a)}) holds {bad} non-finite value(s); "
                                     "a resumable state is finite: the checkpoint is corrupt")
    return np.array(a, dtype=np.int64 if integer else np.float64, order="C")


def _number(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)) or \
            not np.isfinite(float(value)):
        _fail(key, repr(value)[:60], "a finite number")
    return float(value)


def _steps(key: str, value) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.ndim != 1:
        _fail(key, _describe(value), "a one-dimensional array of step numbers")
    steps = _array(key, value, value.shape, integer=True)
    if len(steps) == 0 or steps[0] != 0 or np.any(np.diff(steps) <= 0) or steps.min() < 0:
        _fail(key, f"steps {steps[:5].tolist()}...", "increasing step numbers starting at 0")
    return steps


def _table(key: str, value, fields: dict) -> dict:
    """A dict of per-record arrays: ``step`` plus ``fields`` (name -> trailing shape), all of one length."""
    if not isinstance(value, dict) or set(value) != {"step", *fields}:
        _fail(key, _describe(value) if not isinstance(value, dict) else f"the entries {sorted(value)}",
              f"the entries {sorted({'step', *fields})}")
    steps = _steps(f"{key}.step", value["step"])
    out = {"step": steps}
    for name, tail in fields.items():
        out[name] = _array(f"{key}.{name}", value[name], (len(steps),) + tail)
    return out


def checked_state(state, integrator) -> dict:
    """``state`` with every entry checked against ``integrator``'s problem and solver (see the module
    docstring), arrays as fresh float64 / int64 copies; FileFormatError names the first bad entry."""
    if not isinstance(state, dict):
        _fail("state", _describe(state), "a dict of state arrays")
    n = len(integrator.mass)
    m2 = integrator.nh.shape[0]
    required = {"x", "v", "f", "images", "nh", "energy", "virial", "rebuilds", "thermo", "frames"}
    if integrator.pair is not None:
        required.add("x_ref")
    if integrator.rng is not None:
        required.add("rng")
    missing = sorted(required - set(state))
    if missing:
        raise tk.FileFormatError(f"checkpoint state lacks {', '.join(missing)}: {_WHY}")
    out = {key: _array(key, state[key], (n, 3)) for key in ("x", "v", "f")}
    if integrator.pair is not None:
        out["x_ref"] = _array("x_ref", state["x_ref"], (n, 3))
    out["images"] = _array("images", state["images"], (n, 3), integer=True)
    nh = state["nh"]
    if isinstance(nh, np.ndarray) and nh.ndim == 1 and nh.shape != (m2,):
        _fail("nh", f"{nh.size // 2} thermostat(s)", f"{m2 // 2} (resume with the solver that wrote it)")
    out["nh"] = _array("nh", nh, (m2,))
    out["energy"] = _number("energy", state["energy"])
    for key in ("drift",):
        if key in state:
            out[key] = _number(key, state[key])
    out["virial"] = _array("virial", state["virial"], (3, 3))
    rebuilds = state["rebuilds"]
    if isinstance(rebuilds, bool) or not isinstance(rebuilds, (numbers.Integral, np.integer)) or rebuilds < 0:
        _fail("rebuilds", repr(rebuilds)[:60], "an integer >= 0")
    out["rebuilds"] = int(rebuilds)
    out["thermo"] = _table("thermo", state["thermo"], {"potential": (), "kinetic": (), "thermostat": (),
                                                       "virial": (3, 3), "ktensor": (3, 3)})
    out["frames"] = _table("frames", state["frames"], {"positions": (n, 3), "velocities": (n, 3)})
    total = integrator.total_steps
    for key in ("thermo", "frames"):
        if out[key]["step"][-1] > total:
            _fail(f"{key}.step", f"step {int(out[key]['step'][-1])}", f"steps <= {total}")
    if integrator.rng is not None:
        rng = state["rng"]
        name = type(integrator.rng.bit_generator).__name__
        if not isinstance(rng, dict) or rng.get("bit_generator") != name:
            _fail("rng", _describe(rng) if not isinstance(rng, dict) else f"a {rng.get('bit_generator')!r} state",
                  f"a {name} state")
        try:
            probe = type(integrator.rng.bit_generator)()
            probe.state = rng
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            _fail("rng", f"a damaged {name} state ({exc})", f"a valid {name} state")
        out["rng"] = rng
    return out
