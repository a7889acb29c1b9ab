"""Issue 17 for the lattice Boltzmann family: the validity monitor (Mach number, positive density),
memory estimates that refuse absurd sizes before allocating, and extreme values in every field of
every lattice Boltzmann type and builder (a property test that introspects the dataclass fields and
the builders' signatures, so a new field or parameter is covered automatically)."""

from __future__ import annotations

import dataclasses
import inspect
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import problems.lattice_fluid as plf
import toolkit as tk
from problems.lattice_fluid import LatticeFluid, channel, cylinder_channel, taylor_green
from problems.fluid_bridge import CoarseGraining
from solvers.lattice_boltzmann import BGK, MRT, TRT, CoarseGrain, LearnedCollision
from solvers.lattice_boltzmann.bridge import build_lattice_model
from solvers.lattice_boltzmann.lattices import lattice
from toolkit import memory
from toolkit.family import families
from solvers.lattice_boltzmann.monitor import (CHECK_EVERY, count_bad, count_bad_numpy, count_bad_parallel)


def _finite(sol) -> bool:
    for field in dataclasses.fields(sol):
        value = getattr(sol, field.name)
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# 17.5: past the stability limit Unstable at the step, past the accuracy limit a warning

FAST_CHANNEL = dict(tau=0.501, force=0.05, steps=400)


@pytest.mark.parametrize("solver", [BGK(), TRT(), MRT(), BGK(precision="float32")],
                         ids=["BGK", "TRT", "MRT", "BGK-float32"])
def test_channel_past_mach_one_stops_unstable_with_finite_fields(solver):
    """The issue's case (τ = 0.501, force 0.05: Mach ≈ 170 reported as Success) stops Unstable."""
    sol = tk.solve(channel((8, 8), save_every=16, **FAST_CHANNEL), solver, progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable, sol.message
    assert 0 < sol.stats["unstable_step"] <= 2 * CHECK_EVERY
    assert "Mach" in sol.message or "density" in sol.message
    assert sol.message.startswith(f"diverged at step {sol.stats['unstable_step']}")
    assert _finite(sol)
    assert np.sqrt((sol.velocity ** 2).sum(-1)).max() <= 1 / np.sqrt(3)     # every frame kept is below Ma 1


def test_periodic_in_place_run_past_mach_one_stops_unstable():
    """The AA (in-place) stepper: a strongly forced periodic box."""
    problem = LatticeFluid(shape=(8, 8), tau=0.501, force=[0.05, 0.0], steps=300, save_every=8)
    integ = tk.init(problem, BGK(), progress=False)
    assert integ.stepper.in_place
    integ.run()
    sol = integ.solution()
    assert sol.retcode is tk.ReturnCode.Unstable and _finite(sol)
    assert sol.step[-1] < sol.stats["unstable_step"]


def test_unstable_step_does_not_depend_on_how_the_run_is_cut():
    problem = channel((8, 8), save_every=1000, **FAST_CHANNEL)
    whole = tk.solve(problem, BGK(), progress=False)
    integ = tk.init(problem, BGK(), progress=False)
    for _ in range(problem.steps):
        integ.step(7)
    assert integ.solution().stats["unstable_step"] == whole.stats["unstable_step"]


@pytest.mark.parametrize("problem", [channel((8, 8), save_every=1, **FAST_CHANNEL),
                                     LatticeFluid(shape=(8, 8), tau=0.501, force=[0.05, 0.0], steps=300, save_every=1)],
                         ids=["two arrays", "in place"])
def test_every_good_step_is_kept_up_to_the_failure(problem):
    """Frames at every step: the monitor finds the first step past Ma = 1 exactly, and the result holds
    every step before it (finite, below Ma = 1), none after."""
    sol = tk.solve(problem, BGK(), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and _finite(sol)
    np.testing.assert_array_equal(sol.step, np.arange(sol.stats["unstable_step"]))
    assert np.sqrt((sol.velocity ** 2).sum(-1)).max() * np.sqrt(3) <= 1.0
    assert "Mach" in sol.message


def test_past_the_accuracy_limit_the_run_succeeds_with_a_warning(tmp_path):
    """Poiseuille flow at Ma ≈ 0.55 (u_max = g H²/8ν): Success, a warning in stats and message, kept
    across a checkpoint."""
    problem = channel((4, 16), tau=0.8, force=1e-3, steps=1500, save_every=500)
    sol = tk.solve(problem, BGK(), progress=False)
    assert sol.retcode is tk.ReturnCode.Success
    assert sol.stats["warnings"] and "Mach" in sol.stats["warnings"][0]
    assert "Mach" in sol.message
    assert 0.3 < np.sqrt((sol.velocity[-1] ** 2).sum(-1)).max() * np.sqrt(3) < 1
    integ = tk.init(problem, BGK(), progress=False)
    integ.step(1000)
    integ.checkpoint(tmp_path / "c.nc")
    resumed = tk.resume(tmp_path / "c.nc", progress=False)
    resumed.run()
    assert resumed.solution().stats["warnings"] == sol.stats["warnings"]


def test_slow_flow_has_no_warning():
    sol = tk.solve(channel((4, 8), tau=0.8, force=1e-5, steps=200), BGK(), progress=False)
    assert sol.retcode is tk.ReturnCode.Success and not sol.stats.get("warnings") and sol.message == ""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_monitor_kernel_agrees_with_its_reference(dtype):
    lat = lattice("D3Q19")
    rng = np.random.default_rng(3)
    shape = (5, 4, 6)
    f = (lat.w[:, None, None, None] * (1 + 0.3 * rng.standard_normal((lat.q,) + shape))).astype(dtype)
    f[:, 1, 2, 3] *= -1.0                         # a negative density
    f[5, 2, 1, 1] += 0.4                          # a fast node
    f[7, 3, 3, 0] = np.nan
    flag = np.zeros(shape, dtype=np.int8)
    flag[0, 0, :] = 1                             # solid nodes are not checked
    F = np.array([1e-3, 0.0, -2e-3])
    for phase in (0, 1):
        for u2max in (0.0, 0.01, 1 / 3, np.inf):
            want = count_bad_numpy(f, lat.c, lat.opp, F, flag, phase, u2max)
            assert count_bad(f, lat.c, lat.opp, F, flag, phase, u2max) == want
            assert count_bad_parallel(f, lat.c, lat.opp, F, flag, phase, u2max) == want
    assert count_bad_numpy(f, lat.c, lat.opp, F, flag, 0, np.inf) >= 2


# ---------------------------------------------------------------------------------------------
# 17.6: absurd sizes refused before allocating, with the estimate and the memory available

def test_absurd_grid_is_refused_before_allocating():
    problem = LatticeFluid(shape=(10 ** 6, 10 ** 6), tau=0.8)      # constructing allocates nothing
    for solver in (BGK(), TRT(), MRT(precision="float32")):
        t0 = time.perf_counter()
        with pytest.raises(tk.InvalidProblemError, match="GiB") as info:
            tk.init(problem, solver)
        assert "available" in str(info.value) and "populations" in str(info.value)
        assert time.perf_counter() - t0 < 1.0
    with pytest.raises(tk.InvalidProblemError, match="available"):
        tk.solve(LatticeFluid(shape=(3000, 3000, 3000), lattice="D3Q19", tau=0.8), BGK())
    with pytest.raises(tk.InvalidProblemError, match="frames"):     # 10^9 frames of a small grid
        tk.init(LatticeFluid(shape=(64, 64), tau=0.8, steps=10 ** 9, save_every=1), BGK())


def test_builders_refuse_absurd_sizes_before_building():
    with pytest.raises(tk.InvalidProblemError, match="^n = .*GiB.*available"):
        taylor_green(10 ** 6)
    with pytest.raises(tk.InvalidProblemError, match="^shape = .*GiB.*available"):
        cylinder_channel((10 ** 6, 10 ** 6))


@pytest.mark.parametrize("problem", [channel((8, 6), steps=10), LatticeFluid(shape=(6, 8), tau=0.8, steps=10),
                                     LatticeFluid(shape=(4, 4, 5), lattice="D3Q19", tau=0.8, steps=10)],
                         ids=["walls", "periodic-2D", "periodic-3D"])
def test_memory_estimate_covers_the_arrays_held(problem):
    for solver in (BGK(), TRT(precision="float32")):
        parts = tk.memory_estimate(problem, solver)
        integ = tk.init(problem, solver, progress=False)
        held = sum(a.nbytes for a in integ.stepper.arrays())
        assert held <= parts["populations"] <= 2 * held + 2 * 19 * 4096


def test_integer_fields_are_range_checked():
    with pytest.raises(tk.InvalidProblemError, match="steps"):
        LatticeFluid(shape=(4, 4), tau=0.8, steps=2 ** 63)
    with pytest.raises(tk.InvalidProblemError, match="shape"):
        LatticeFluid(shape=(4, -(2 ** 63)), tau=0.8)
    with pytest.raises(tk.InvalidProblemError, match="save_every"):
        LatticeFluid(shape=(4, 4), tau=0.8, save_every=0)


def test_known_blow_ups_are_now_clear_errors():
    with pytest.raises(tk.InvalidProblemError, match="density"):
        LatticeFluid(shape=(4, 4), tau=0.8, density=5e-324, force=[1e-5, 0.0])
    with pytest.raises(tk.InvalidProblemError, match="force"):
        LatticeFluid(shape=(4, 4), tau=0.8, force=[1e308, 0.0])
    with pytest.raises(tk.InvalidProblemError, match="viscosity"):
        LatticeFluid(shape=(4, 4), viscosity=1e308)
    with pytest.raises(tk.InvalidProblemError, match="n = "):
        taylor_green(5e-324)


# ---------------------------------------------------------------------------------------------
# 17.7: every field, every extreme value: refused naming the field, or a clean tiny run

VALUES = [5e-324, -5e-324, 1e308, -1e308, 2 ** 63, -(2 ** 63), 2 ** 63 - 1, 2 ** 64, 10 ** 12, -(10 ** 12), 0, 0.0,
          -0.0, -1, 1, 2, 3, float("nan"), float("inf"), -float("inf"), "", "x", "false", None, True, False, 1 + 1j,
          np.int64(2 ** 62), np.float32(1e-45), [], (), {}, set(), {"a": 1}, [[]], [0], [1e308, 5e-324],
          [5e-324, 5e-324], [float("nan"), 0.0], [2 ** 63, 0], (0.3, 0.0), [[0.1, 0.5], [0.5]], np.array([]),
          np.zeros((2, 2)), np.zeros((2, 2, 2)), np.full((7, 6), 1e308), np.ones((7, 6), dtype=bool),
          {"x-": "wall"}, {"x-": "wall", "x+": ("pressure", 5e-324)}, {"y+": ("moving_wall", (1e308, 0.0))},
          {"x-": ("velocity", (0.05, 0.0)), "x+": ("pressure", 1.0)}, object()]
EXTREMES = st.one_of(st.sampled_from(VALUES), st.floats(allow_nan=True, allow_infinity=True),
                     st.integers(min_value=-(2 ** 65), max_value=2 ** 65),
                     st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3))

TYPES = [LatticeFluid, BGK, TRT, MRT, CoarseGraining, CoarseGrain, LearnedCollision]
#: The MD -> lattice bridge: exercised on a synthetic measurement (no MD here; the molecule family's
#: extreme-value tests cover the measurement's own fields).
BRIDGE = (CoarseGraining, CoarseGrain, LearnedCollision)
TINY_BYTES = 64 << 20
TINY_STEPS = 12


def _small_enough(problem, solver) -> bool:
    return sum(tk.memory_estimate(problem, solver).values()) < TINY_BYTES


def _run(problem, solver):
    """A few steps of the pair (or nothing when it is large): a Solution, finite whatever its code."""
    if not _small_enough(problem, solver):          # too large to run here: refused when it cannot fit
        if sum(tk.memory_estimate(problem, solver).values()) > memory.available_memory():
            with pytest.raises(tk.InvalidProblemError, match="available"):
                tk.init(problem, solver, progress=False)
        return
    try:
        integ = tk.init(problem, solver, progress=False)
        integ.step(TINY_STEPS)
        sol = integ.solution()
    except tk.ScalebridgeError as exc:       # refused later, with a scalebridge error that says why
        assert str(exc)
        return
    assert isinstance(sol, tk.Solution)
    assert _finite(sol), f"NaN fields ({sol.retcode}: {sol.message})"
    if not sol.successful:
        assert sol.message


def _pairs(obj):
    """The tiny runs that exercise an accepted instance: a problem with BGK and TRT, a solver on a walled
    channel and on a periodic box (the generated in-place kernels)."""
    if isinstance(obj, tk.Problem):
        return [(obj, BGK()), (obj, TRT())]
    return [(LatticeFluid.example(0), obj), (LatticeFluid(shape=(6, 5), tau=0.7, steps=TINY_STEPS), obj)]


def _bridge_run(obj):
    """Build the lattice model of an accepted bridge problem or solver from a synthetic record: a solution,
    finite, or a scalebridge error that says why."""
    from tests.lattice_boltzmann.test_bridge import synthetic_record

    problem = obj if isinstance(obj, CoarseGraining) else CoarseGraining.example(0)
    solver = obj if isinstance(obj, CoarseGrain) else LearnedCollision()
    try:
        sol = build_lattice_model(problem, solver, synthetic_record(problem.box_edge, shells=(1, 2, 3)))
    except tk.ScalebridgeError as exc:
        assert str(exc)
        return
    assert _finite(sol), sol.message


def _check(cls, field, value):
    base = cls.example(0) if issubclass(cls, tk.Problem) else cls()
    changes = {field: value}
    if cls is LatticeFluid and field in ("tau", "viscosity"):
        changes[{"tau": "viscosity", "viscosity": "tau"}[field]] = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = tk.remake(base, **changes)
    except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
        assert isinstance(exc, ValueError) and field in str(exc), f"{cls.__name__}.{field} = {value!r}: {exc}"
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(obj, BRIDGE):
            _bridge_run(obj)
            return
        for problem, solver in _pairs(obj):
            _run(problem, solver)


def test_every_type_is_covered():
    (family,) = [f for f in families() if f.name == "fluid"]
    assert set(getattr(family, "components", {}).values()) <= set(TYPES)
    for stype in tk.solvers_for(LatticeFluid.example(0)):
        assert stype in TYPES, stype


FIELDS = [(cls, f.name) for cls in TYPES for f in dataclasses.fields(cls) if f.init]


@pytest.mark.parametrize("cls,field", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
def test_every_field_refuses_extremes_by_name_or_runs_cleanly(cls, field):
    for value in VALUES:
        _check(cls, field, value)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=st.sampled_from(FIELDS), value=EXTREMES)
def test_random_values_are_refused_by_name_or_run_cleanly(case, value):
    _check(*case, value)


BUILDERS = [plf.periodic_box, plf.channel, plf.lid_driven_cavity, plf.cylinder_channel, plf.taylor_green,
            plf.lattice_units]
PARAMS = [(b, name) for b in BUILDERS for name in inspect.signature(b).parameters]


def test_every_builder_is_covered():
    (family,) = [f for f in families() if f.name == "fluid"]
    assert set(family.builders.values()) <= set(BUILDERS)


_SMALL = {plf.periodic_box: dict(shape=(6, 5), steps=TINY_STEPS), plf.channel: dict(shape=(6, 5), steps=TINY_STEPS),
          plf.lid_driven_cavity: dict(n=6, steps=TINY_STEPS),
          plf.cylinder_channel: dict(shape=(12, 8), radius=2.0, steps=TINY_STEPS),
          plf.taylor_green: dict(n=6, steps=TINY_STEPS),
          plf.lattice_units: dict(length=1.0, velocity=1.0, viscosity=1e-6, dx=0.01, dt=1e-3)}


@pytest.mark.parametrize("builder,param", PARAMS, ids=[f"{b.__name__}.{p}" for b, p in PARAMS])
def test_every_builder_parameter_refuses_extremes_or_runs_cleanly(builder, param):
    """Builders are entry points too: a bad argument gives a scalebridge error (never a numpy, scipy or
    Python error from deep inside), a good one a problem that runs a few steps to finite fields."""
    for value in VALUES:
        kwargs = {**_SMALL[builder], param: value}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                made = builder(**kwargs)
        except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
            assert str(exc), (builder.__name__, param, value)
            continue
        if isinstance(made, LatticeFluid):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _run(made, BGK())
        else:
            assert all(np.isfinite(getattr(made, f.name)) for f in dataclasses.fields(made)), (param, value)
