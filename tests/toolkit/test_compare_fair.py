"""Fair solver swapping (issue 22, item 4): compile time apart from run time, errors defined per
field with the dominant one named, readable solver columns, errors on a log axis."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from numba import njit

import toolkit as tk
from toolkit import cli
from toolkit.compare import compile_clock, field_errors, short_labels
from toolkit.dispatch import dispatch
from tests.toolkit import toy
from tests.toolkit.test_cli import SPEC


# kernels that compile inside the test (cache=False: every run of the suite compiles them afresh)
@njit(cache=False)
def _first_kernel(x):
    return 2.0 * x


@njit(cache=False)
def _warm_kernel(x):
    return 3.0 * x


@njit(cache=False)
def _reference_kernel(x):
    return 4.0 * x


@njit(cache=False)
def _inner_kernel(x):
    return x + 1.0


@njit(cache=False)
def _outer_kernel(x):
    return _inner_kernel(x) * 2.0


_KERNELS = {"none": None, "first": _first_kernel, "warm": _warm_kernel, "nested": _outer_kernel,
            "reference": _reference_kernel}


class Pair(tk.Problem):
    """Reference values ``a = [3, 4]`` (norm 5) and ``b = 2`` (no example(): a test problem)."""

    scale: float = 1.0


class PairSolution(tk.Solution):
    a: np.ndarray
    b: float

    compare_fields = ("a", "b")


class Perturbed(tk.Solver):
    """``a (1 + da)``, ``b (1 + db)``; runs the numba kernel named by ``kernel`` once."""

    da: float = 0.0
    db: float = 0.0
    kernel: str = "none"
    comment: str = "a deliberately long hyperparameter so that the dataclass repr is far too wide"


@dispatch
def _solve(problem: Pair, solver: Perturbed) -> PairSolution:
    if _KERNELS[solver.kernel] is not None:
        _KERNELS[solver.kernel](1.0)
    a = problem.scale * np.array([3.0, 4.0]) * (1 + solver.da)
    return PairSolution(problem=problem, solver=solver, a=a, b=2.0 * (1 + solver.db))


class OwnDistanceSolution(tk.Solution):
    value: np.ndarray

    def distance(self, other) -> float:
        return 0.125  # a family's own measure


class OwnMeasure(tk.Solver):
    pass


@dispatch
def _solve(problem: Pair, solver: OwnMeasure) -> OwnDistanceSolution:
    return OwnDistanceSolution(problem=problem, solver=solver, value=np.ones(2))


def test_compile_time_is_reported_apart_from_run_time():
    table = tk.compare(Pair(), [Perturbed(kernel="first")], reference=Perturbed())
    compile_s, run_s, wall = table.compile_times[0], table.run_times[0], table.wall_times[0]
    assert compile_s > 0.01, compile_s            # numba compiled _first_kernel inside the solve
    assert run_s < compile_s and compile_s + run_s == pytest.approx(wall)
    again = tk.compare(Pair(), [Perturbed(kernel="first")], reference=Perturbed())
    assert again.compile_times[0] < 0.05 * compile_s    # compiled already: nothing left to compile
    header = str(table).splitlines()[0]
    assert "compile [s]" in header and "run [s]" in header and "wall" not in header
    ds = table.to_xarray()
    assert ds["compile_time"].attrs["units"] == "s" and ds["run_time"].attrs["units"] == "s"


def test_warmup_times_a_warm_solve_and_keeps_the_compile_time():
    table = tk.compare(Pair(), [Perturbed(kernel="warm")], warmup=True)
    assert table.compile_times[0] > 0.01             # the warm-up's compilation
    assert table.run_times[0] < 0.5 * table.compile_times[0] and table.warmup
    assert "after a warm-up solve" in str(table)


def test_a_reference_in_the_list_is_not_solved_first_to_warm_its_row():
    solver = Perturbed(kernel="reference")
    table = tk.compare(Pair(), [solver, Perturbed(da=0.01)], reference=solver)
    assert table.compile_times[0] > 0.01 and table.errors[0] == 0.0 and table.errors[1] == pytest.approx(0.01)
    assert table.solutions[0] is not None


def test_compile_clock_counts_nested_compilations_once():
    import time

    start = time.perf_counter()
    with compile_clock() as clock:
        _outer_kernel(1.0)                           # compiles _inner_kernel inside _outer_kernel's compile
    elapsed = time.perf_counter() - start
    assert 0.01 < clock.seconds <= elapsed


def test_error_is_the_largest_relative_l2_norm_over_fields_and_names_the_dominant_one():
    # a: ||(0.03, 0.04)|| / ||(3, 4)|| = 0.01; b: |2e-5| / 2 = 1e-5
    table = tk.compare(Pair(), [Perturbed(da=0.01, db=1e-5), Perturbed(da=1e-6, db=0.1)], reference=Perturbed())
    assert table.field_errors[0] == pytest.approx({"a": 0.01, "b": 1e-5}, rel=1e-9)
    assert table.field_errors[1] == pytest.approx({"a": 1e-6, "b": 0.1}, rel=1e-9)
    assert table.errors == pytest.approx([0.01, 0.1], rel=1e-9)
    assert table.dominant == ["a", "b"]
    text = str(table)
    assert "dominated by" in text.splitlines()[0]
    assert "largest relative L2 norm ||a - r|| / ||r|| over the compared fields" in text
    assert "per field:" in text and "a 0.01" in text and "b 1e-05" in text
    assert table.pairwise[0, 1] == pytest.approx(max(field_errors(table.solutions[0], table.solutions[1]).values()))
    exact = tk.compare(Pair(), [Perturbed()], reference=Perturbed())
    assert exact.errors[0] == 0.0 and exact.dominant == [None]
    full = table.to_pandas(full=True)
    assert list(full["dominant"]) == ["a", "b"] and full["error[b]"].iloc[1] == pytest.approx(0.1)
    ds = table.to_xarray()
    assert ds["field_error"].dims == ("solver", "field") and list(ds["field"].values) == ["a", "b"]


def test_a_family_with_its_own_distance_keeps_it():
    table = tk.compare(Pair(), [OwnMeasure()], reference=Perturbed())
    assert table.errors[0] == 0.125 and table.dominant == [None] and table.field_errors == [{}]


def test_solver_columns_are_short_distinct_and_aligned():
    solvers = [Perturbed(da=0.01), Perturbed(da=0.02), toy.ExactDecay(), Perturbed(da=0.01)]
    assert short_labels(solvers) == ["Perturbed(da=0.01) #1", "Perturbed(da=0.02)", "ExactDecay",
                                     "Perturbed(da=0.01) #2"]
    table = tk.compare(Pair(), [Perturbed(da=0.01), Perturbed(da=0.02)], reference=Perturbed())
    lines = str(table).splitlines()
    assert table.labels == ["Perturbed(da=0.01)", "Perturbed(da=0.02)"]
    rows = lines[2:4]
    assert all(len(line.split("  ")[0]) <= 28 for line in lines[:4])
    assert "comment=" not in "\n".join(lines[:4])                  # no dataclass repr in the table
    for column in ("retcode", "compile [s]", "error"):               # aligned: every row ends each column
        start = lines[0].index(column)
        assert lines[1][start] == "-" and all(row[start - 2:start] == "  " for row in rows)
    assert any(line.startswith("Perturbed(da=0.01): Perturbed(da=0.01, db=0, kernel=") for line in lines)


def test_plot_shows_errors_on_a_log_axis_with_titles_and_units():
    table = tk.compare(Pair(), [Perturbed(da=0.01), Perturbed()], reference=Perturbed())  # one exact: error 0
    times, errors = table.plot()
    assert errors.get_yscale() == "log"
    assert errors.get_title() == "Error against Perturbed" and times.get_title()
    assert errors.get_ylabel() == "relative L2 error [1]" and times.get_ylabel() == "time [s]"
    assert errors.get_xlabel() == "solver" and [t.get_text() for t in errors.get_xticklabels()] == table.labels
    low, high = errors.get_ylim()
    assert 0 < low < 0.01 < high
    assert [t.get_text() for t in errors.texts] == ["a", "exact"]
    import matplotlib.pyplot as plt

    plt.close("all")


def test_cli_compare_prints_times_and_errors_readably(tmp_path, capsys):
    spec = tmp_path / "decay.toml"
    spec.write_text(SPEC.replace("noise = 0.1", "noise = 0.0"))
    assert cli.main(["compare", str(spec), "--solvers", "Euler,ExactDecay", "--reference", "ExactDecay",
                     "--warmup", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:2] == ["solver", "retcode"] and "compile" in header and "run" in header
    row = next(line for line in out.splitlines() if line.startswith("Euler "))
    assert "Euler(seed=3)" not in row and "Euler: Euler(seed=3)" in out
    assert row.split()[-1] == "x"                                  # the field that dominates
    assert "after a warm-up solve" in out
    assert (tmp_path / "decay-compare.png").exists()
