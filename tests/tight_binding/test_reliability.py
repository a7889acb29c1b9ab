"""Issue 17 for the tight-binding family: no NaN called Success, absurd sizes refused before
allocating, runs that could never finish bounded, and extreme values in every field of every
tight-binding problem, solver and component type either refused naming the field or solved
cleanly at tiny size (the fields are read with dataclasses.fields, so a new field is covered)."""

import dataclasses
import inspect
import signal
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings, strategies as st

import problems.tight_binding as ptb
import solvers.tight_binding as stb
import toolkit as tk
from problems.tight_binding import TightBinding, lattice_problem
from solvers.tight_binding import (KPM, Exact, ExactDiagonalization, GradientProbing, Probing, RandomVectors,
                                   TightBindingSolution)
from solvers.tight_binding import memory as tbmem
from solvers.tight_binding.solution import finite_or_unstable
from toolkit import memory

ED = ExactDiagonalization()
SOLVERS = [ED, KPM(order=64, estimator=Exact()), KPM(order=64, estimator=RandomVectors(count=3)),
           KPM(order=64, estimator=GradientProbing(distance=1))]


def _finite(sol) -> bool:
    for name, value in sol.data_fields().items():
        arr = np.asarray(value)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# 17.5: no NaN is handed back, kT -> 0 handled exactly

@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: repr(s)[:40])
@pytest.mark.parametrize("kT", [5e-324, 1e-300, 1e-30])
def test_subnormal_and_tiny_kT_is_the_zero_temperature_limit(solver, kT):
    for spins in (None, "random"):
        for question in (dict(mu=0.3), dict(filling=0.35)):
            p0 = lattice_problem("chain", 6, spins=spins, local=True, **question)
            cold = tk.solve(p0, solver)
            warm = tk.solve(tk.remake(p0, kT=kT), solver)
            assert warm.successful and _finite(warm), warm.message
            assert warm.grand_potential == pytest.approx(cold.grand_potential, abs=1e-12)
            assert warm.particles == pytest.approx(cold.particles, abs=1e-12)
            np.testing.assert_allclose(warm.forces, cold.forces, atol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS[:2], ids=["ed", "kpm"])
def test_extreme_fillings_at_positive_kT(solver):
    p = lattice_problem("square", 3, kT=0.1, filling=0.5)
    for filling in (0.0, 1.0):
        with pytest.raises(tk.InvalidProblemError, match="filling = .* kT = 0.1 > 0 is not allowed"):
            tk.remake(p, filling=filling)
        assert tk.solve(tk.remake(p, filling=filling, kT=0.0), solver).successful      # fine at kT = 0
    for filling in (5e-324, 1e-12, 1 - 1e-12):
        sol = tk.solve(tk.remake(p, filling=filling), solver)
        assert sol.successful and _finite(sol), sol.message
        assert sol.particles == pytest.approx(filling * p.size, abs=1e-8)


def test_unreachable_filling_is_a_convergence_failure_with_empty_fields(monkeypatch):
    import solvers.tight_binding.kpm as kpm

    assert kpm._chemical_potential(lambda m: 0.0, 3.0, 1.0, 0.0, 0.1, 8) is None
    assert kpm._chemical_potential(lambda m: 1e-12, 0.0 + 1e-20, 1.0, 0.0, 0.1, 8) == -1.0 - 4.0   # within 1e-9 M
    assert kpm._chemical_potential(lambda m: float("nan"), 3.0, 1.0, 0.0, 0.1, 8) is None
    # a series that cannot reach the filling (every coefficient zero: N(mu) = 0; at kT > 0 the root
    # search sums the series on the quadrature nodes, fermi_sum)
    monkeypatch.setattr(kpm.cb, "fermi_coefficients", lambda order, *a: np.zeros(order))
    monkeypatch.setattr(kpm.cb, "fermi_sum", lambda *a, **k: (lambda mu: 0.0))
    sol = tk.solve(lattice_problem("chain", 8, kT=0.1, filling=0.5), KPM(order=16, estimator=Exact()))
    assert sol.retcode is tk.ReturnCode.ConvergenceFailure and "filling = 0.5" in sol.message
    assert sol.dos.size == 0 and _finite(sol)


def test_a_non_finite_result_is_never_success():
    p = lattice_problem("chain", 4, mu=0.0)
    good = tk.solve(p, ED)
    bad = dataclasses.replace(good, grand_potential=float("nan"))
    out = finite_or_unstable(bad)
    assert out.retcode is tk.ReturnCode.Unstable and "grand_potential" in out.message
    assert out.dos.size == 0 and _finite(out)
    assert finite_or_unstable(good) is good


@pytest.mark.parametrize("change, field", [
    (dict(kT=1e308), "kT"), (dict(mu=-1e308), "mu"), (dict(J=1e200), "J"),
    (dict(hamiltonian=sp.identity(4) * 1e200), "hamiltonian")])
def test_energies_past_the_overflow_limit_are_refused_by_name(change, field):
    with pytest.raises(tk.InvalidProblemError, match=field):
        tk.remake(lattice_problem("chain", 4, mu=0.0), **change)


def test_largest_allowed_energies_solve_cleanly():
    E = ptb.MAX_ENERGY
    p = TightBinding(hamiltonian=sp.diags([E, -E, E / 3, 0.0]), kT=E, mu=-E, spins=ptb.random_spins(4), J=E,
                     local=True)
    for solver in SOLVERS[:2]:
        sol = tk.solve(p, solver)
        assert _finite(sol), sol.message


# ---------------------------------------------------------------------------------------------
# 17.6: absurd sizes refused before allocating, integer ranges, runs that could never finish

def test_absurd_lattice_is_refused_before_allocating():
    with pytest.raises(tk.InvalidProblemError, match=r"shape = \(1000000, 1000000\).*GiB.*available"):
        lattice_problem("square", (10 ** 6,) * 2)
    with pytest.raises(tk.InvalidProblemError, match="shape"):
        ptb.lattice_hamiltonian("cubic", 10 ** 5)


def test_lattice_larger_than_memory_is_refused(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 20)
    with pytest.raises(tk.InvalidProblemError, match="shape"):
        lattice_problem("square", 64)
    assert ptb.build_bytes(64 * 64, 2, 1) > 1 << 20 > ptb.build_bytes(16, 2, 1)
    lattice_problem("square", 4)


@pytest.mark.parametrize("solver", [KPM(order=16, estimator=RandomVectors(count=10 ** 9)),
                                    KPM(order=16, estimator=Exact(block=10 ** 6)),
                                    ExactDiagonalization(max_size=2 ** 31 - 1)],
                         ids=["random-vectors", "exact-block", "ed"])
def test_pairs_larger_than_memory_are_refused_with_the_estimate(solver, monkeypatch):
    p = lattice_problem("square", 40, mu=0.0, local=True)          # 1,600 orbitals
    parts = tk.memory_estimate(p, solver)
    assert parts and all(v >= 0 for v in parts.values())
    monkeypatch.setattr(memory, "available_memory", lambda: sum(parts.values()) - 1)
    with pytest.raises(tk.InvalidProblemError, match=r"needs about .* available"):
        tk.solve(p, solver)
    with pytest.raises(tk.InvalidProblemError, match=r"needs about"):
        tk.init(p, solver)


def test_estimates_bound_what_a_solve_allocates():
    import tracemalloc

    for problem, solver in [(lattice_problem("square", 24, mu=0.1, local=True, spins="random"),
                             KPM(order=32, estimator=RandomVectors(count=20))),
                            (lattice_problem("square", 24, mu=0.1, local=True),
                             KPM(order=32, estimator=Probing(distance=3))),
                            (lattice_problem("square", 16, mu=0.1, local=True, spins="random"), ED)]:
        tk.solve(problem, solver)                       # compile first
        tracemalloc.start()
        tk.solve(tk.remake(problem, mu=0.2), solver)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak <= sum(tk.memory_estimate(problem, solver).values()), (solver, peak)


def test_probing_width_bounds_the_colours():
    p = lattice_problem("square", 12, mu=0.0)
    for d in (1, 2, 3):
        colors = stb.estimators.probing_colors(p, Probing(distance=d))
        assert colors.max() + 1 <= tbmem.probing_width(p, Probing(distance=d))


@pytest.mark.parametrize("cls, field, value", [
    (KPM, "seed", 2 ** 63), (KPM, "seed", -1), (KPM, "order", 10 ** 12), (KPM, "lanczos_steps", 10 ** 12),
    (KPM, "lorentz_lambda", 1e308), (KPM, "lorentz_lambda", 5e-324), (KPM, "bounds", (-1e308, 1e308)),
    (RandomVectors, "count", 10 ** 12), (Exact, "block", 2 ** 63), (Probing, "distance", 10 ** 12),
    (ExactDiagonalization, "max_size", 2 ** 63), (ExactDiagonalization, "broadening", 5e-324)])
def test_integers_and_scales_reaching_c_code_are_range_checked(cls, field, value):
    with pytest.raises(tk.InvalidSolverError, match=field):
        cls(**{field: value})


def test_lattice_builder_seed_is_range_checked():
    with pytest.raises(tk.InvalidProblemError, match="seed"):
        lattice_problem("chain", 4, disorder=1.0, seed=2 ** 64)


def _alarm(seconds):
    def handler(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")
    signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)


@pytest.mark.parametrize("estimator", [Probing(distance=10 ** 6), GradientProbing(distance=10 ** 6)])
def test_huge_probing_distance_finishes_and_is_exact(estimator):
    # past the diameter every site gets its own colour: the exact trace, in bounded time
    p = lattice_problem("chain", 10, mu=0.1, kT=0.1, local=True)
    _alarm(60)
    try:
        sol = tk.solve(p, KPM(order=64, estimator=estimator))
    finally:
        signal.alarm(0)
    exact = tk.solve(p, KPM(order=64, estimator=Exact()))
    assert sol.grand_potential == pytest.approx(exact.grand_potential, abs=1e-10)
    np.testing.assert_allclose(sol.density, exact.density, atol=1e-10)


def test_colours_are_labels():
    p = lattice_problem("chain", 6, mu=0.1)
    a = tk.solve(p, KPM(order=32, estimator=Probing(colors=np.arange(6) * 2 ** 60, kind="none")))
    b = tk.solve(p, KPM(order=32, estimator=Probing(colors=np.arange(6), kind="none")))
    assert a.grand_potential == b.grand_potential


# ---------------------------------------------------------------------------------------------
# 17.7: extreme values in every field: refused naming the field, or a clean tiny solve

def _types():
    found = set()
    for mod in (ptb, stb, stb.estimators):
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, tk.Struct) and "tight_binding" in obj.__module__:
                found.add(obj)
    return sorted(found, key=lambda c: c.__name__)


TYPES = _types()
TINY = lattice_problem("chain", 4, mu=0.1, kT=0.1, local=True)


def _pair(cls, changes):
    """A tiny (problem, solver) pair around ``cls`` with ``changes`` applied to it."""
    if cls is TightBinding:
        return TightBinding(**{**dict(hamiltonian=TINY.hamiltonian, mu=0.1, kT=0.1, local=True,
                                      lattice=TINY.lattice), **changes}), KPM(order=32, estimator=Exact())
    if issubclass(cls, tk.Solver):
        base = dict(order=32, estimator=Exact()) if cls is KPM else {}
        return TINY, cls(**{**base, **changes})
    return TINY, KPM(order=32, estimator=cls(**changes))


def test_every_tight_binding_type_has_a_tiny_pair():
    names = {c.__name__ for c in TYPES}
    assert names >= {"TightBinding", "KPM", "ExactDiagonalization", "Exact", "RandomVectors", "Probing",
                     "GradientProbing"}, names
    for cls in TYPES:
        if cls.__dict__.get("abstract", False) or cls is stb.Estimator:
            continue
        problem, solver = _pair(cls, {})
        assert tk.solve(problem, solver).successful


EXTREMES = st.one_of(
    st.sampled_from([5e-324, -5e-324, 1e308, -1e308, 2 ** 63, -2 ** 63, 2 ** 63 - 1, 2 ** 64, 10 ** 12, -10 ** 12,
                     0, 0.0, -0.0, -1, 1, 2, 3, float("nan"), float("inf"), -float("inf"), "", "onsite", "false", [],
                     (), {}, set(), None, True, False, 1 + 1j, np.int64(2 ** 62), np.float32(1e-45), np.array([]),
                     np.zeros((2, 2)), np.zeros((4, 4)), np.full((4, 3), 1e308), np.full((4, 3), 0.5), [0],
                     [1e308, 5e-324], [[0.1, 0.5], [0.5]], ("chain", (4,), True), ("chain", 10 ** 12, True),
                     ("square", 2, True), np.arange(4) * 2 ** 61, sp.identity(4) * 1e308, sp.identity(3),
                     sp.identity(4) * 5e-324, object()]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-2 ** 65, max_value=2 ** 65),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3),
)

ERRORS = (tk.InvalidProblemError, tk.InvalidSolverError)


@pytest.mark.parametrize("cls", [c for c in TYPES if c is not stb.Estimator], ids=lambda c: c.__name__)
def test_extreme_values_in_every_field_are_refused_by_name_or_solved_cleanly(cls):
    fields = [f.name for f in dataclasses.fields(cls) if f.init]
    assert fields

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(field=st.sampled_from(fields), value=EXTREMES)
    def check(field, value):
        try:
            problem, solver = _pair(cls, {field: value})
        except ERRORS as exc:
            assert isinstance(exc, ValueError) and field in str(exc), f"{field} = {value!r}: {exc}"
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _alarm(120)
            try:
                sol = tk.solve(problem, solver)
            except ERRORS as exc:       # refused by the memory estimate, or a field that does not fit the problem
                assert "needs about" in str(exc) or field in str(exc), f"{field} = {value!r}: {exc}"
                return
            finally:
                signal.alarm(0)
        assert isinstance(sol, TightBindingSolution)
        assert _finite(sol), f"{field} = {value!r} gave non-finite fields ({sol.retcode}: {sol.message})"
        if not sol.successful:
            assert sol.message and sol.dos.size == 0

    check()


@pytest.mark.parametrize("field", ["hoppings", "onsite", "disorder", "seed", "shape", "kind", "periodic", "spins",
                                   "mu", "filling", "kT", "J", "dos_points", "local", "pattern"])
def test_builder_arguments_refuse_extremes_by_name(field):
    for value in (5e-324, 1e308, -1e308, 2 ** 63, 10 ** 12, float("nan"), "", [], None, object(), [[0.1], [0.2, 0.3]]):
        try:
            p = lattice_problem(**{"kind": "chain", "shape": 4, "mu": 0.1, "kT": 0.1, field: value}
                                if field != "mu" else {"kind": "chain", "shape": 4, "mu": value, "kT": 0.1})
        except ERRORS as exc:
            assert field in str(exc) or (field == "filling" and "mu" in str(exc)), f"{field} = {value!r}: {exc}"
            continue
        sol = tk.solve(p, ED)
        assert _finite(sol), (field, value, sol.message)
