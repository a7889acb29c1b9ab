"""solve/init dispatch, options, errors and the registry read from the methods."""

import numpy as np
import pytest

import toolkit as tk
from toolkit import dispatch as D
from tests.toolkit import toy


def test_solve_dispatches_on_the_pair():
    problem = toy.Total(values=[1.0, 2.0, 3.5])
    assert tk.solve(problem, toy.NumpySum()).total[0] == 6.5
    assert tk.solve(problem, toy.LoopSum(), scale=2.0).total[0] == 13.0


def test_time_problem_solve_is_init_plus_run():
    problem = toy.Decay(x0=[1.0], steps=30, save_every=10)
    via_solve = tk.solve(problem, toy.Euler())
    integrator = tk.init(problem, toy.Euler())
    assert integrator.run() is tk.ReturnCode.Success
    np.testing.assert_array_equal(via_solve.x, integrator.solution().x)
    assert via_solve.times.tolist() == [0.0, 0.1, 0.2, 0.3]


def test_default_solver_and_missing_solver():
    problem = toy.Decay(x0=[1.0], steps=5)
    assert isinstance(tk.solve(problem).solver, toy.Euler)
    with pytest.raises(TypeError, match="Solver"):
        tk.solve(toy.Total(values=[1.0]))


def test_incompatible_pair_names_both_sides():
    with pytest.raises(tk.IncompatiblePairError) as err:
        tk.solve(toy.Total(values=[1.0]), toy.Euler())
    text = str(err.value)
    assert "Total" in text and "Euler" in text
    assert "LoopSum" in text and "NumpySum" in text      # solvers that accept Total
    assert "Decay" in text                               # problems Euler accepts
    assert isinstance(err.value, TypeError)


def test_init_of_a_pair_without_integrator_gives_a_cache():
    """Issue 16: tk.init works for every pair; without a stepping method it is a SolveCache."""
    cache = tk.init(toy.Decay(x0=[1.0]), toy.ExactDecay())
    assert type(cache) is tk.SolveCache
    assert cache.solve().distance(tk.solve(toy.Decay(x0=[1.0]), toy.ExactDecay())) == 0
    with pytest.raises(tk.IncompatiblePairError, match="no method to init Total with Euler"):
        tk.init(toy.Total(values=[1.0]), toy.Euler())


def test_unknown_option_lists_allowed_ones():
    with pytest.raises(tk.InvalidOptionError, match="allowed options: progress, scale, strict"):
        tk.solve(toy.Total(values=[1.0]), toy.LoopSum(), scael=2)
    with pytest.raises(tk.InvalidOptionError, match="sleep"):
        tk.init(toy.Decay(x0=[1.0]), toy.Euler(), slep=1)


def test_non_problem_arguments_get_advice():
    with pytest.raises(TypeError, match="scalebridge Problem"):
        tk.solve(np.ones(3), toy.NumpySum())
    with pytest.raises(TypeError, match="scalebridge Solver.*LoopSum, NumpySum"):
        tk.solve(toy.Total(values=[1.0]), "numpy")


def test_registry_is_read_from_methods():
    assert (toy.Total, toy.NumpySum) in tk.compatibility()
    assert set(tk.solvers_for(toy.Total(values=[1.0]))) == {toy.NumpySum, toy.LoopSum, toy.Scaled}
    assert set(tk.solvers_for(toy.Decay)) == {toy.Euler, toy.ExactDecay}
    assert tk.problems_for(toy.ExactDecay()) == [toy.Decay]

    class Kahan(tk.Solver):
        pass

    assert Kahan not in tk.solvers_for(toy.Total)

    @D.dispatch
    def _solve(problem: toy.Total, solver: Kahan) -> toy.TotalSolution:
        return toy.TotalSolution(problem=problem, solver=solver, total=np.array([np.sum(problem.values)]))

    assert Kahan in tk.solvers_for(toy.Total)
    assert tk.solve(toy.Total(values=[1.0, 2.0]), Kahan()).total[0] == 3.0


def test_union_annotations_expand_in_compatibility():
    class A(tk.Solver):
        pass

    class B(tk.Solver):
        pass

    @D.dispatch
    def _solve(problem: toy.Total, solver: A | B) -> toy.TotalSolution:
        return toy.TotalSolution(problem=problem, solver=solver, total=np.zeros(1))

    pairs = tk.compatibility()
    assert (toy.Total, A) in pairs and (toy.Total, B) in pairs
    assert tk.solve(toy.Total(values=[1.0]), B()).successful


def test_plum_lookup_cache_stays_on():
    """Faithful signatures keep plum's type cache on: the pair lands in _solve._cache."""
    problem, solver = toy.Total(values=[1.0]), toy.NumpySum()
    D._resolved.clear()
    tk.solve(problem, solver)
    assert D._solve._resolver.is_faithful, "a non-faithful annotation (Literal, parametric) turned plum's cache off"
    assert D._init._resolver.is_faithful
    assert (toy.Total, toy.NumpySum) in D._solve._cache


def test_strict_raises_on_unsuccessful_solution():
    problem = toy.Decay(x0=[1.0], noise=0.5)
    assert tk.solve(problem, toy.ExactDecay()).retcode is tk.ReturnCode.Failure
    with pytest.raises(tk.UnstableError, match="ExactDecay solves only noise = 0"):
        tk.solve(problem, toy.ExactDecay(), strict=True)


def test_solver_packages_register_default_solvers():
    problem = toy.Total(values=[1.0, 2.0])
    with pytest.raises(TypeError, match="NumpySum"):
        tk.solve(problem)
    tk.register_default_solver(toy.Total, lambda p: toy.LoopSum() if p.values.size > 1 else toy.NumpySum())
    try:
        assert type(tk.solve(problem).solver) is toy.LoopSum
        assert type(tk.solve(toy.Total(values=[1.0])).solver) is toy.NumpySum
    finally:
        D._default_solvers.pop(toy.Total)
    with pytest.raises(TypeError, match="Problem subclass"):
        tk.register_default_solver(int, lambda p: None)


def test_string_booleans_are_refused():
    for name in ("strict", "progress"):
        with pytest.raises(tk.InvalidOptionError, match=f"{name} = 'false' is not allowed"):
            tk.solve(toy.Total(values=[1.0]), toy.NumpySum(), **{name: "false"})
