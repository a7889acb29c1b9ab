"""Every field of every molecule problem, solver and component, given extreme values: refused with an
InvalidProblemError / InvalidSolverError naming the field, or accepted and then run to a Solution (or a
scalebridge error), never a deep traceback. The fields are read with dataclasses.fields, so a new
field is covered automatically."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit as tk
from problems.molecule import (GeometryOptimization, HydrodynamicMeasurement, MolecularDynamics, Molecule,
                               PotentialEnergy, argon_cluster, lj_fluid)
from problems.molecule import water
from solvers.molecule import (ASECalculator, FIRE, HIPNN, LBFGS, Langevin, LennardJones, Morse, NoseHoover, PySCF,
                              TBLite, TransverseCurrents, VelocityVerlet)

EXTREMES = [5e-324, -5e-324, 1e308, -1e308, 2 ** 63, -2 ** 63, 2 ** 63 - 1, 10 ** 12, -(10 ** 12), 0, -1,
            float("nan"), float("inf"), -float("inf"), True, "", "x", None, [], (), {}, set(), {"a": 1},
            [[]], [1e308] * 3, np.array([]), np.full((13, 3), 1e308), np.full((13, 3), 5e-324), np.zeros((2, 2, 2)),
            object()]


def _base(cls):
    """A small valid instance of ``cls``."""
    if issubclass(cls, tk.Problem):
        return cls.example(0)
    return cls()


def _exercise(obj):
    """Use an accepted instance the way a user would, on a tiny system (a few steps)."""
    cluster = argon_cluster(temperature=30.0, seed=1)
    if isinstance(obj, Molecule):
        sol = tk.solve(PotentialEnergy(obj), LennardJones.argon() if obj.cell is None else LennardJones())
    elif isinstance(obj, PotentialEnergy):
        sol = tk.solve(obj, LennardJones())
    elif isinstance(obj, MolecularDynamics):
        integ = tk.init(obj, VelocityVerlet(dt=5.0), progress=False)
        integ.step(3)
        sol = integ.solution()
    elif isinstance(obj, GeometryOptimization):
        sol = tk.solve(tk.remake(obj, max_steps=min(obj.max_steps, 30)), LBFGS())
    elif isinstance(obj, (LennardJones, Morse)):
        sol = tk.solve(PotentialEnergy(cluster), obj)
    elif isinstance(obj, PySCF):
        return                                    # constructing is the check (no SCF in this test)
    elif isinstance(obj, ASECalculator):
        sol = tk.solve(PotentialEnergy(cluster), obj)
    elif isinstance(obj, (TBLite, HIPNN)):
        sol = tk.solve(PotentialEnergy(water()), obj)
    elif isinstance(obj, HydrodynamicMeasurement):          # two runs of at most 40 steps
        fluid = tk.remake(obj.fluid, steps=min(obj.fluid.steps, 40))
        sol = tk.solve(tk.remake(obj, fluid=fluid, runs=min(obj.runs, 2),
                                 equilibrate_steps=min(obj.equilibrate_steps, 20)), TransverseCurrents())
    elif isinstance(obj, TransverseCurrents):
        example = HydrodynamicMeasurement.example(0)
        small = tk.remake(example, fluid=tk.remake(example.fluid, steps=40), equilibrate_steps=20)
        sol = tk.solve(small, tk.remake(obj, workers=min(obj.workers, 2)))
    elif isinstance(obj, (VelocityVerlet, Langevin, NoseHoover)):
        md = MolecularDynamics(cluster, LennardJones.argon(), steps=3, save_every=1)
        sol = tk.solve(md, obj, progress=False)
    else:
        sol = tk.solve(tk.remake(GeometryOptimization.example(0), max_steps=30), obj)
    # a solution of any return code holds finite numbers, never NaN
    for field in dataclasses.fields(sol):
        value = getattr(sol, field.name)
        if isinstance(value, (float, np.ndarray)) and np.asarray(value).dtype.kind == "f":
            assert np.all(np.isfinite(value)), (field.name, sol.retcode)


TYPES = [Molecule, PotentialEnergy, MolecularDynamics, GeometryOptimization, LennardJones, Morse, PySCF,
         ASECalculator, TBLite, HIPNN, VelocityVerlet, Langevin, NoseHoover, LBFGS, FIRE, HydrodynamicMeasurement,
         TransverseCurrents]
FIELDS = [(cls, f.name) for cls in TYPES for f in dataclasses.fields(cls) if f.init]


def _check(cls, name, value):
    base = _base(cls)
    try:
        obj = tk.remake(base, **{name: value})
    except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
        assert name in str(exc), f"{cls.__name__}.{name} = {value!r}: the error does not name the field: {exc}"
        return
    try:
        _exercise(obj)
    except tk.ScalebridgeError:
        pass                                      # refused later, with a scalebridge error that says why


def test_every_type_is_covered():
    """The molecule family's registered components are all in TYPES (a new one must be added)."""
    from toolkit.family import families

    (family,) = [f for f in families() if f.name == "molecule"]
    assert set(family.components.values()) <= set(TYPES)
    assert len(FIELDS) >= 40


@pytest.mark.parametrize("cls,name", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
def test_every_field_refuses_extremes_by_name(cls, name):
    for value in EXTREMES:
        _check(cls, name, value)


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(FIELDS),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2 ** 70), 2 ** 70),
                       st.text(max_size=5), st.lists(st.floats(), max_size=4), st.booleans()))
def test_random_values_are_refused_by_name_or_run(case, value):
    _check(*case, value)


def test_known_blow_ups_are_now_clear_errors():
    with pytest.raises(tk.InvalidSolverError, match="sigma"):
        LennardJones(sigma=5e-324)
    with pytest.raises(tk.InvalidSolverError, match="tdamp"):
        NoseHoover(tdamp=5e-324)
    with pytest.raises(tk.InvalidSolverError, match="seed"):
        Langevin(seed=2 ** 64)
    with pytest.raises(tk.InvalidProblemError, match="masses"):
        tk.remake(argon_cluster(), masses=np.full(13, 5e-324))
    with pytest.raises(tk.InvalidProblemError, match="velocities"):
        tk.remake(argon_cluster(), velocities=np.full((13, 3), 1e8))
    with pytest.raises(tk.InvalidProblemError, match="max_steps"):
        tk.remake(GeometryOptimization.example(0), max_steps=10 ** 12)
    assert math.isfinite(tk.solve(PotentialEnergy(argon_cluster()), LennardJones.argon()).energy)


def test_absurd_lj_fluid_is_refused_before_allocating():
    with pytest.raises(tk.InvalidProblemError, match="cells") as info:
        lj_fluid(cells=10 ** 4)
    assert "GiB" in str(info.value) and "available" in str(info.value)
    for name, value in [("density", 5e-324), ("sigma", 1e308), ("mass", 5e-324), ("seed", -1),
                        ("temperature", float("nan"))]:
        with pytest.raises(tk.InvalidProblemError, match=name):
            lj_fluid(cells=2, **{name: value})
