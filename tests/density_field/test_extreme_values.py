"""Issue 17.7 for the density-field family: extreme values in every field of every problem, solver and
component type are refused with an Invalid*Error naming the field, or accepted and then solved cleanly
at a tiny size (a Solution with finite fields, or an unsuccessful one with a message; never a deep
traceback, a hang or NaN). The fields are read with ``dataclasses.fields``, so a new field is covered
automatically; a new type must be added to ``_pairs`` (``test_every_density_field_type_has_tiny_pairs``).
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit as tk
from problems.density_field import (DensityField, FieldDynamics, Functional, KacStep, Landau, LatticeGas,
                                    NucleationBarrier, Relaxation, SwiftHohenberg)
from solvers.density_field import (DimerMethod, ExplicitFD, GridNewtonKrylov, RadialNewtonKrylov, SemiImplicit,
                                   SizeScan, StringMethod)

TYPES = [DensityField, Relaxation, FieldDynamics, NucleationBarrier, Functional, KacStep, SwiftHohenberg,
         LatticeGas, Landau, SemiImplicit, ExplicitFD, RadialNewtonKrylov, GridNewtonKrylov, StringMethod,
         DimerMethod, SizeScan]

N = 8                                           # tiny 1D grid: R = 3 spans 3 spacings, fits half the box
X = np.arange(N) * 1.0


def _landau(**changes):
    base = dict(shape=(N,), length=float(N), functional=Functional(KacStep(R=3.0), Landau(eps=0.5)),
                initial=0.2 * np.cos(2 * np.pi * X / N))
    return DensityField(**{**base, **changes})


def _lattice_gas(functional=None):
    functional = functional or Functional(KacStep(R=3.0), LatticeGas(T=0.3))
    return DensityField(shape=(N,), length=float(N), functional=functional,
                        initial=0.5 + 0.1 * np.cos(2 * np.pi * X / N))


def _barrier(**changes):
    # a dense droplet in a dilute lattice gas (attractive Kac step): a 1D nucleation problem on 16 points
    n = 16
    x = np.arange(n) - n // 2
    initial = 0.1 + 0.7 * 0.5 * (1 - np.tanh((np.abs(x) - 2.0) / 0.5))
    field = DensityField(shape=(n,), length=float(n), functional=Functional(KacStep(R=3.0, J=-1.0), LatticeGas(T=0.3)),
                         initial=initial)
    return NucleationBarrier(**{**dict(field=field, metastable=0.1), **changes})


def _radial_barrier():
    # the smallest 3D onion problem: 8^3 points, R = 1 spanning 3 spacings
    n, L = 8, 2.4
    r = np.sqrt(sum(c ** 2 for c in np.meshgrid(*([(np.arange(n) - n // 2) * L / n] * 3), indexing="ij")))
    field = DensityField(shape=(n,) * 3, length=L, functional=Functional(KacStep(R=0.9), Landau(eps=0.09, g=0.5)),
                         initial=0.3 * np.exp(-r ** 2))
    return NucleationBarrier(field=field, metastable=0.0)


def _dynamics(field, **changes):
    return FieldDynamics(**{**dict(field=field, dt=0.05, steps=4, save_every=2), **changes})


SMALL = {SemiImplicit: dict(max_iters=40), ExplicitFD: dict(max_iters=40),
         RadialNewtonKrylov: dict(points=32, max_iters=5), GridNewtonKrylov: dict(max_iters=5),
         StringMethod: dict(images=4, max_iters=12, climb_after=6, zooms=1),
         DimerMethod: dict(max_iters=20, rotation_steps=4),
         SizeScan: dict(noise=0.0, step=0.1, brackets=4, refinements=2, lbfgs_iters=30, newton_iters=5, descents=1,
                        dimer_iters=20)}


def _pairs(cls, changes):
    """The (problem, solver) pairs that exercise ``cls`` built with ``changes`` at a tiny size."""
    if cls is DensityField:
        field = _landau(**changes)
        return [(Relaxation(field=field), SemiImplicit(**SMALL[SemiImplicit])), (_dynamics(field), ExplicitFD())]
    if cls in (KacStep, SwiftHohenberg, Landau, LatticeGas, Functional):
        if cls is Functional:
            functional = Functional(**{**dict(interaction=KacStep(R=3.0), local=Landau(eps=0.5)), **changes})
        else:
            component = cls(**{**(dict(R=3.0) if cls is KacStep else {}), **changes})
            kind = "interaction" if cls in (KacStep, SwiftHohenberg) else "local"
            functional = dataclasses.replace(Functional(KacStep(R=3.0), Landau(eps=0.5)), **{kind: component})
        if isinstance(functional.local, LatticeGas):
            field = _lattice_gas(functional)
        else:
            field = _landau(functional=functional)
        return [(Relaxation(field=field), SemiImplicit(**SMALL[SemiImplicit])), (_dynamics(field), SemiImplicit()),
                (_dynamics(field), ExplicitFD())]
    if cls is Relaxation:
        problem = Relaxation(**{**dict(field=_landau()), **changes})
        return [(problem, SemiImplicit(**SMALL[SemiImplicit])), (problem, ExplicitFD(**SMALL[ExplicitFD]))]
    if cls is FieldDynamics:
        problem = FieldDynamics(**{**dict(field=_landau(), dt=0.05, steps=4, save_every=2), **changes})
        return [(problem, SemiImplicit()), (problem, ExplicitFD())]
    if cls is NucleationBarrier:
        problem = _barrier(**changes)
        return [(problem, GridNewtonKrylov(**SMALL[GridNewtonKrylov])), (problem, DimerMethod(**SMALL[DimerMethod]))]
    solver = cls(**{**SMALL[cls], **changes})
    if cls in (SemiImplicit, ExplicitFD):
        return [(Relaxation(field=_landau()), solver), (_dynamics(_lattice_gas(), temperature=0.01), solver)]
    if cls is RadialNewtonKrylov:
        return [(_radial_barrier(), solver)]
    return [(_barrier(), solver)]


#: Valid counts this large mean a long (not a wrong) run: the construction is checked, the solve skipped.
WORK = {"steps": 50, "max_iters": 60, "images": 9, "rotation_steps": 30, "points": 512, "brackets": 6,
        "refinements": 4, "lbfgs_iters": 60, "newton_iters": 10, "descents": 2, "dimer_iters": 60, "climb_after": 10 ** 9,
        "zooms": 3, "threads": 2}


def _small_enough(problem, solver, field, value) -> bool:
    if field in WORK and isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > WORK[field]:
        return False
    grid = getattr(problem, "field", problem)
    return int(np.prod(grid.shape)) <= 4096 and sum(tk.memory_estimate(problem, solver).values()) < 64 << 20


def _finite_fields(sol) -> list[str]:
    bad = []
    for f in dataclasses.fields(sol):
        value = getattr(sol, f.name)
        if isinstance(value, (float, np.floating, np.ndarray)) and np.asarray(value).dtype.kind in "fc" \
                and not np.all(np.isfinite(value)):
            bad.append(f.name)
    return bad


EXTREME_VALUES = [5e-324, -5e-324, 1e308, -1e308, 2 ** 63, -2 ** 63, 2 ** 63 - 1, 2 ** 64, 10 ** 12, -10 ** 12, 0, 0.0,
                  -0.0, -1, 1, 2, 3, 0.5, 1e-12, float("nan"), float("inf"), -float("inf"), "", "1", "false", "A", [], (),
                  {}, set(), None, True, False, 1 + 1j, np.int64(2 ** 62), np.uint64(2 ** 64 - 1), np.float32(1e-45),
                  np.array([]), np.zeros((2, 2)), np.zeros(N), np.full(N, 1e308), np.full(N, 5e-324), [0], (8,), (2 ** 63,),
                  (10 ** 6, 10 ** 6), (4096, 4096, 4096), [1e308, 5e-324], [[0.1, 0.5], [0.5]], [float("nan")], object()]

EXTREMES = st.one_of(
    st.sampled_from(EXTREME_VALUES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-2 ** 65, max_value=2 ** 65),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3),
)

#: Seconds one tiny solve may take (a hang or a runaway loop fails the test).
SOLVE_SECONDS = 20.0


def _is_flag(cls, field) -> bool:
    default = {f.name: f.default for f in dataclasses.fields(cls)}.get(field)
    return isinstance(default, bool)


def _check(cls, field, value):
    try:
        pairs = _pairs(cls, {field: value})
    except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
        assert isinstance(exc, ValueError), f"{cls.__name__}.{field} = {value!r}: {exc!r}"
        assert field in str(exc), f"{cls.__name__}.{field} = {value!r}: the error does not name the field: {exc}"
        return
    # a flag takes True or False only: "false" or 0 taken as a truth value is the bug class of issue 17.7
    assert not (_is_flag(cls, field) and not isinstance(value, (bool, np.bool_))), \
        f"{cls.__name__}.{field} = {value!r} was accepted as a flag"
    for problem, solver in pairs:
        if not _small_enough(problem, solver, field, value):
            continue
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sol = tk.solve(problem, solver, progress=False) if isinstance(problem, tk.TimeProblem) \
                    else tk.solve(problem, solver)
        except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
            # refused when the pair is resolved (e.g. the memory estimate): a clear error, naming what to change
            assert "not allowed" in str(exc) or "available" in str(exc), f"{cls.__name__}.{field} = {value!r}: {exc}"
            continue
        elapsed = time.perf_counter() - t0
        what = f"{cls.__name__}.{field} = {value!r} with {type(solver).__name__}"
        assert isinstance(sol, tk.Solution), what
        assert elapsed < SOLVE_SECONDS, f"{what}: took {elapsed:.1f} s"
        assert not _finite_fields(sol), f"{what}: NaN/Inf in {_finite_fields(sol)} ({sol.retcode}: {sol.message})"
        if not sol.successful:
            assert sol.message, what


def test_every_density_field_type_has_tiny_pairs():
    """A new problem, solver or component type of the family must be added to ``_pairs``."""
    from toolkit.family import families

    (family,) = [f for f in families() if f.name == "density-field"]
    assert set(family.components.values()) <= set(TYPES)
    for ptype in (Relaxation, FieldDynamics, NucleationBarrier):
        assert set(tk.solvers_for(ptype.example(0))) <= set(TYPES)
    for cls in TYPES:
        for problem, solver in _pairs(cls, {}):
            assert isinstance(problem, tk.Problem) and isinstance(solver, tk.Solver)


FIELDS = [(cls, f.name) for cls in TYPES for f in dataclasses.fields(cls) if f.init]


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_listed_extremes_in_every_field_are_refused_by_name_or_solved_cleanly(cls):
    for f in dataclasses.fields(cls):
        if f.init:
            for value in EXTREME_VALUES:
                _check(cls, f.name, value)


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_random_extremes_in_every_field_are_refused_by_name_or_solved_cleanly(cls):
    fields = [f.name for f in dataclasses.fields(cls) if f.init]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(field=st.sampled_from(fields), value=EXTREMES)
    def check(field, value):
        _check(cls, field, value)

    check()


def _builders():
    import solvers.density_field  # noqa: F401  (registers the family)
    from toolkit.family import families

    (family,) = [f for f in families() if f.name == "density-field"]
    return sorted(family.builders.items())


BUILDER_VALUES = [5e-324, 1e308, -1e308, 2 ** 63, 10 ** 12, -1, 0, float("nan"), "", "false", None, [], {}, object()]


@pytest.mark.parametrize("name, build", _builders(), ids=[n for n, _ in _builders()])
def test_builder_arguments_refuse_extremes_by_name(name, build):
    """Every argument of every spec builder: a value is refused naming the argument (or the field it sets),
    or builds a validated problem quickly (never a deep traceback or a huge allocation)."""
    import inspect

    base = {"relaxation": dict(field=_landau())}.get(name, {})
    for arg in inspect.signature(build).parameters:
        for value in BUILDER_VALUES:
            t0 = time.perf_counter()
            try:
                out = build(**{**base, arg: value})
            except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
                message = str(exc)
                assert arg in message or (arg == "length" and "length" in message), \
                    f"{name}({arg}={value!r}): the error does not name the argument: {exc}"
                continue
            assert isinstance(out, tk.Problem), f"{name}({arg}={value!r}) returned {out!r}"
            assert time.perf_counter() - t0 < 5.0, f"{name}({arg}={value!r}) took too long"
