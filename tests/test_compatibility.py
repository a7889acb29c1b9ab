"""Properties every registered family must have, checked over the whole dispatch table.

* every compatible (problem, solver) pair solves its problem's ``example(seed)`` successfully,
  and the solution converts to xarray and survives a save/load round trip;
* every concrete pair without a method raises :class:`IncompatiblePairError`;
* a NaN or a value of the wrong kind in any field of any problem (or solver) is refused with
  ``InvalidProblemError`` (``InvalidSolverError``) -- never a numba typing error, a traceback from
  deep inside a kernel, or a silent NaN.

The tables are read from the registered methods (``tk.compatibility()``), so a new family is
covered as soon as it registers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit as tk
from toolkit.dispatch import _init, _lookup, _solve

tk.load_plugins()
from tests.toolkit import toy  # noqa: E402,F401  (the toy family is part of the table too)

SEEDS = st.integers(min_value=0, max_value=2**16)
PROPERTY = settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))


def _all_subclasses(base):
    seen, stack = [], [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def _concrete(base):
    """Subclasses of ``base`` whose ``example()`` builds an instance (abstract bases do not)."""
    out = []
    for cls in _all_subclasses(base):
        if getattr(cls, "meta", False) or cls.__dict__.get("abstract", False):
            continue
        try:
            cls.example()
        except (NotImplementedError, TypeError, tk.InvalidProblemError, tk.InvalidSolverError):
            continue
        out.append(cls)
    return sorted(out, key=lambda c: (c.__module__, c.__qualname__))


PROBLEMS = _concrete(tk.Problem)
SOLVERS = _concrete(tk.Solver)


def _has_method(ptype, stype):
    return _lookup(_solve, ptype, stype) is not None or _lookup(_init, ptype, stype) is not None


PAIRS = [(p, s) for p in PROBLEMS for s in SOLVERS if _has_method(p, s)]
NON_PAIRS = [(p, s) for p in PROBLEMS for s in SOLVERS if not _has_method(p, s)]


def _name(pair):
    return f"{pair[0].__name__}-{pair[1].__name__}"


def test_the_table_is_not_empty():
    assert PAIRS, "no compatible pairs registered"
    registered = {p for p, _ in tk.compatibility()}
    assert registered, "tk.compatibility() is empty"


@pytest.mark.parametrize("pair", PAIRS, ids=_name)
@PROPERTY
@given(seed=SEEDS)
def test_every_compatible_pair_solves_its_example(pair, seed):
    ptype, stype = pair
    problem, solver = ptype.example(seed), stype.example()
    solution = tk.solve(problem, solver, progress=False)
    assert isinstance(solution, tk.Solution)
    assert solution.retcode.successful, f"{_name(pair)} seed {seed}: {solution.retcode} {solution.message}"
    assert solution.problem is problem and solution.solver is solver


@pytest.mark.parametrize("pair", PAIRS, ids=_name)
def test_every_solution_converts_and_round_trips(pair, tmp_path):
    ptype, stype = pair
    solution = tk.solve(ptype.example(1), stype.example(), progress=False)
    dataset = solution.to_xarray()
    assert dataset.attrs["retcode"] == str(solution.retcode)
    path = tmp_path / "solution.nc"
    tk.save(solution, path)
    loaded = tk.load(path)
    assert type(loaded) is type(solution)
    assert loaded.problem == solution.problem and loaded.solver == solution.solver
    for field in solution.data_fields():
        a, b = getattr(solution, field), getattr(loaded, field)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f"{_name(pair)}.{field}")


@pytest.mark.parametrize("pair", NON_PAIRS, ids=_name)
def test_every_other_pair_is_refused_with_advice(pair):
    ptype, stype = pair
    with pytest.raises(tk.IncompatiblePairError, match=ptype.__name__):
        tk.solve(ptype.example(), stype.example())


# --- bad input -----------------------------------------------------------------------------------

def _bad_values(value):
    """Values that must be refused in place of ``value``: NaN (for numbers) and a foreign string."""
    bad = []
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        bad.append(float("nan"))
    elif isinstance(value, np.ndarray) and value.size and value.dtype.kind in "fc":
        bad.append(np.full_like(value, np.nan))
    elif scipy.sparse.issparse(value) and value.nnz and value.dtype.kind in "fc":
        broken = value.copy()
        broken.data[:] = np.nan
        bad.append(broken)
    if not isinstance(value, str):
        bad.append("not-a-valid-value")
    return bad


def _check_fields(obj, error):
    for field in dataclasses.fields(obj):
        if not field.init:
            continue
        for bad in _bad_values(getattr(obj, field.name)):
            try:
                tk.remake(obj, **{field.name: bad})
            except error as exc:
                assert field.name in str(exc), f"{type(obj).__name__}.{field.name}: message {exc!r} " \
                                               "does not name the field"
            except Exception as exc:  # noqa: BLE001 -- any other type is the defect under test
                pytest.fail(f"{type(obj).__name__}.{field.name} = {bad!r} raised {type(exc).__name__}: "
                            f"{exc} (expected {error.__name__})")
            else:
                pytest.fail(f"{type(obj).__name__}.{field.name} = {bad!r} was accepted")


@pytest.mark.parametrize("ptype", PROBLEMS, ids=lambda c: c.__name__)
@PROPERTY
@given(seed=SEEDS)
def test_bad_problem_fields_are_refused_by_name(ptype, seed):
    _check_fields(ptype.example(seed), tk.InvalidProblemError)


@pytest.mark.parametrize("stype", SOLVERS, ids=lambda c: c.__name__)
def test_bad_solver_fields_are_refused_by_name(stype):
    _check_fields(stype.example(), tk.InvalidSolverError)


# --- composed solvers ------------------------------------------------------------------------------

COMPOSED = [(owner, field, inner) for owner, field, inner, _ in tk.composed()]


@pytest.mark.parametrize("row", COMPOSED, ids=lambda r: f"{r[0].__name__}.{r[1]}")
def test_held_solvers_that_cannot_serve_are_refused_naming_the_field(row):
    """Every declared held-solver field refuses each registered solver that cannot serve it."""
    owner, field, inner = row
    serving = set(tk.solvers_for(inner))
    wrong = [s for s in SOLVERS if s not in serving]
    assert serving, f"nothing can fill {owner.__name__}.{field}"
    if issubclass(owner, tk.Solver):
        outer = owner.example()
        problem = next(p for p in PROBLEMS if _has_method(p, owner)).example()
    else:
        problem = owner.example()
        outer = next(s for s in SOLVERS if _has_method(owner, s)).example()
    for stype in wrong[:8]:
        try:
            changed = tk.remake(outer if issubclass(owner, tk.Solver) else problem, **{field: stype.example()})
        except (tk.InvalidProblemError, tk.InvalidSolverError):
            continue  # refused by the field's own validation: also fine
        pair = (problem, changed) if issubclass(owner, tk.Solver) else (changed, outer)
        with pytest.raises(tk.IncompatiblePairError, match=f"{owner.__name__}.{field}"):
            tk.init(*pair)


# --- extreme values (issue 17.7): every field of every type, found by introspection --------------

EXTREMES = [5e-324, -5e-324, 1e308, -1e308, float("inf"), 2**63, -(2**63), 10**12, -1, 0, "", [], {}, (),
            None, np.zeros(0), np.zeros((2, 0)), [[1.0, 2.0]], object()]


def _extreme_failures(obj, replace, error) -> list[str]:
    """Fields of ``obj`` whose extreme values ``replace(obj, **{field: value})`` neither accepts nor
    refuses with ``error`` naming the field."""
    failures = []
    for field in dataclasses.fields(obj):
        if not field.init:
            continue
        for value in EXTREMES:
            try:
                replace(obj, **{field.name: value})
            except error as exc:
                if field.name not in str(exc):
                    failures.append(f"{type(obj).__name__}.{field.name} = {value!r}: message {exc} "
                                    "does not name the field")
            except Exception as exc:  # noqa: BLE001 -- any other type is the defect under test
                failures.append(f"{type(obj).__name__}.{field.name} = {value!r}: {type(exc).__name__}: {exc}")
    return failures


def _check_extremes(obj, error):
    failures = _extreme_failures(obj, tk.remake, error)
    assert not failures, "extreme values must be accepted or refused with " \
                         f"{error.__name__} naming the field:\n" + "\n".join(failures[:30])


@pytest.mark.parametrize("ptype", PROBLEMS, ids=lambda c: c.__name__)
def test_extreme_problem_fields_are_accepted_or_refused_by_name(ptype):
    _check_extremes(ptype.example(0), tk.InvalidProblemError)


@pytest.mark.parametrize("stype", SOLVERS, ids=lambda c: c.__name__)
def test_extreme_solver_fields_are_accepted_or_refused_by_name(stype):
    _check_extremes(stype.example(), tk.InvalidSolverError)


def _components():
    """Component instances (estimators, functionals, features...) held by the examples' fields."""
    found = {}
    for obj in [p.example(0) for p in PROBLEMS] + [s.example() for s in SOLVERS]:
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            if dataclasses.is_dataclass(value) and not isinstance(value, (type, tk.Problem, tk.Solver)):
                found.setdefault(type(value), value)
    return sorted(found.values(), key=lambda c: type(c).__qualname__)


@pytest.mark.parametrize("component", _components(), ids=lambda c: type(c).__name__)
def test_extreme_component_fields_are_accepted_or_refused_by_name(component):
    # components are tk.Struct: a ValueError (InvalidSolverError or InvalidProblemError) naming the field
    failures = _extreme_failures(component, dataclasses.replace, ValueError)
    assert not failures, "extreme values must be accepted or refused naming the field:\n" + "\n".join(failures[:30])
