"""Every field of the spin-dynamics problem and solvers, given extreme values: refused with an
InvalidProblemError / InvalidSolverError naming the field, or accepted and then run a few steps at
tiny size to a Solution (or a scalebridge error), with no NaN in it. Fields are read with
dataclasses.fields, so a new field is covered automatically."""

from __future__ import annotations

import dataclasses
import signal

import numpy as np
import pytest

import toolkit as tk
from problems.spin_dynamics import SpinDynamics
from solvers.spin_dynamics import SIB, DepondtMertens, ImplicitMidpoint, Metropolis, OverdampedLangevin, StochasticHeun

EXTREMES = [5e-324, -5e-324, 1e308, -1e308, 1e100, 2 ** 63, -2 ** 63, 2 ** 63 - 1, 10 ** 12, -(10 ** 12), 0, -1,
            float("nan"), float("inf"), -float("inf"), True, "", "x", None, [], (), {}, [[]], [1e308] * 3,
            np.array([]), np.zeros((2, 0)), np.full((9, 3), 1e308), np.full((9, 3), 5e-324), np.zeros((2, 2, 2)),
            object()]

TYPES = [SpinDynamics, StochasticHeun, SIB, ImplicitMidpoint, DepondtMertens, OverdampedLangevin, Metropolis]
FIELDS = [(cls, f.name) for cls in TYPES for f in dataclasses.fields(cls) if f.init]


def _run(problem, solver):
    integ = tk.init(tk.remake(problem, steps=min(problem.steps, 3)), solver, progress=False)
    integ.step(3)
    sol = integ.solution()
    for field in dataclasses.fields(sol):
        value = getattr(sol, field.name)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), (field.name, sol.retcode)


def _check(cls, name, value):
    base = cls.example(0) if issubclass(cls, tk.Problem) else cls()
    try:
        obj = tk.remake(base, **{name: value})
    except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
        assert name in str(exc), f"{cls.__name__}.{name} = {value!r}: the error does not name the field: {exc}"
        return
    problem, solver = (obj, SIB()) if isinstance(obj, tk.Problem) else (SpinDynamics.example(0), obj)
    try:
        _run(problem, solver)
    except tk.ScalebridgeError:
        pass                                  # refused later (memory, pair), with an error that says why


def _alarm(signum, frame):  # pragma: no cover - only on a hang
    raise TimeoutError("an accepted extreme value made the run hang")


@pytest.mark.parametrize("cls,name", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
def test_every_field_refuses_extremes_by_name_or_runs(cls, name):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(120)
    try:
        for value in EXTREMES:
            _check(cls, name, value)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_every_family_component_is_covered():
    (family,) = [f for f in tk.families() if f.name == "spin-dynamics"]
    assert set(family.components.values()) <= set(TYPES)


def test_extreme_but_allowed_scales_run_finite():
    base = SpinDynamics.example(0)
    for changes in [dict(temperature=1e100, damping=1.0), dict(exchange=1e100, dt=1e6), dict(damping=1e6, temperature=1.0),
                    dict(field=(1e100, -1e100, 1e100), dt=1e6), dict(dt=1e-12)]:
        for solver in (StochasticHeun(), SIB(), ImplicitMidpoint(), DepondtMertens(), OverdampedLangevin(), Metropolis()):
            _run(tk.remake(base, **changes), solver)
