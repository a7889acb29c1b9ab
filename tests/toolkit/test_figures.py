"""Every ``.plot()`` and every ``scalebridge tour`` figure follows the figure conventions
(``toolkit/plotting.py``): a title, axis labels with units (reduced units said so), element
symbols for atoms, nothing clipped or overlapping, and a reference curve where one exists.

The pairs are read from the dispatch table and the tour cases from the registered families, so a
new solution class or tour case is checked as soon as it registers. Each problem is solved once.
"""

from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import toolkit as tk  # noqa: E402
from toolkit.cli import figure_for  # noqa: E402
from toolkit.dispatch import _init, _lookup, _solve  # noqa: E402
from toolkit.plotting import figure_problems, label, new_axes  # noqa: E402

tk.load_plugins()


def _subclasses(base):
    seen, stack = [], [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def _concrete(base):
    out = []
    for cls in _subclasses(base):
        if cls.__module__.startswith("tests.") or getattr(cls, "meta", False) or cls.__dict__.get("abstract", False):
            continue                     # test fixtures (the toy family) draw what their tests need
        try:
            cls.example()
        except (NotImplementedError, TypeError, tk.InvalidProblemError, tk.InvalidSolverError):
            continue
        out.append(cls)
    return sorted(out, key=lambda c: (c.__module__, c.__qualname__))


PAIRS = [(p, s) for p in _concrete(tk.Problem) for s in _concrete(tk.Solver)
         if _lookup(_solve, p, s) is not None or _lookup(_init, p, s) is not None]
#: Tour cases of the project's families (the test suite's toy family, registered by tests/toolkit/toy.py
#: when another test imports it, is a fixture, not a family users see).
TOUR = [(fam.name, case) for fam in tk.families() if fam.tour and not fam.tour.__module__.startswith("tests.")
        for case in fam.tour()]

#: Plots being rewritten elsewhere that do not follow the conventions yet, by problem type or tour
#: family. Strict: once such a plot conforms, its test fails until the entry is removed.
PENDING = {}


def _pending(name):
    reason = PENDING.get(name)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@functools.cache
def _pair_solution(pair):
    ptype, stype = pair
    return tk.solve(ptype.example(1), stype.example(), progress=False)


@functools.cache
def _tour_solution(index):
    case = TOUR[index][1]
    return tk.solve(case.problem, case.solver, **case.options)


def _tour_index(words):
    for k, (_, case) in enumerate(TOUR):
        if all(w.lower() in case.label.lower() for w in words):
            return k
    raise LookupError(f"no tour case has {words} in its label: {[c.label for _, c in TOUR]}")


def _checked(solution):
    fig = figure_for(solution)
    assert fig is not None
    problems = figure_problems(fig)
    assert not problems, f"{type(solution).__name__} from {type(solution.solver).__name__}:\n  " + "\n  ".join(problems)
    return fig


def _legend_labels(fig):
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]


def _axis_labels(fig):
    return [t for ax in fig.axes for t in (ax.get_xlabel(), ax.get_ylabel(), ax.get_title())] + [
        fig._suptitle.get_text() if fig._suptitle else ""]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_the_tables_are_not_empty():
    assert len(PAIRS) > 20 and len(TOUR) > 10


@pytest.mark.parametrize("pair", [pytest.param(p, marks=_pending(p[0].__name__), id=f"{p[0].__name__}-{p[1].__name__}")
                                  for p in PAIRS])
def test_every_solution_plot_follows_the_conventions(pair):
    solution = _pair_solution(pair)
    assert solution.successful, solution.message
    if type(solution).plot is tk.Solution.plot:      # no picture: it says so
        with pytest.raises(NotImplementedError):
            solution.plot()
        return
    _checked(solution)


@pytest.mark.parametrize("index", [pytest.param(k, marks=_pending(f), id=f"{f}: {c.label}")
                                   for k, (f, c) in enumerate(TOUR)])
def test_every_tour_figure_follows_the_conventions(index):
    _checked(_tour_solution(index))


# --- what the issue found wrong, and the reference curves -------------------------------------

def test_square_lattice_dos_has_units_a_title_and_the_exact_curve():
    fig = _checked(_tour_solution(_tour_index(["square", "DOS"])))
    assert any("exact" in t for t in _legend_labels(fig))
    ax = fig.axes[0]
    assert ax.get_title() and "[" in ax.get_xlabel() and "[" in ax.get_ylabel()


def test_exact_square_lattice_dos_is_normalised_and_matches_a_large_lattice():
    from scipy.integrate import quad

    from solvers.tight_binding.solution import square_lattice_dos

    for t in (1.0, 0.5):
        total = quad(lambda e: square_lattice_dos(e, t), -4 * t, 0, limit=200)[0] * 2
        assert total == pytest.approx(1.0, abs=1e-6)
    # against the k-space histogram of E = -2t (cos kx + cos ky) on a 600 x 600 grid
    k = 2 * np.pi * np.arange(600) / 600
    energies = (-2 * (np.cos(k)[:, None] + np.cos(k)[None, :])).ravel()
    hist, edges = np.histogram(energies, bins=40, range=(-4, 4), density=True)
    centres = 0.5 * (edges[1:] + edges[:-1])
    away = np.abs(centres) > 0.5                       # the log singularity at E = 0 needs bins
    assert np.allclose(hist[away], square_lattice_dos(centres[away], 1.0), rtol=0.03)


def test_kondo_forces_figure_shows_the_forces():
    fig = _checked(_tour_solution(_tour_index(["Kondo lattice forces"])))
    titles = " ".join(ax.get_title() for ax in fig.axes).lower()
    assert "force" in titles


def test_lennard_jones_panel_is_labelled_in_reduced_units():
    fig = _checked(_tour_solution(_tour_index(["LJ fluid"])))
    ax = fig.axes[0]
    for text in (ax.get_xlabel(), ax.get_ylabel()):
        assert "reduced" in text and "fs" not in text and "eV" not in text, text
    assert ax.get_xlim()[1] < 2.0                      # 200 steps of 0.005 tau, not 10 "fs"


def test_cavity_profiles_show_ghia_points():
    fig = _checked(_tour_solution(_tour_index(["cavity"])))
    assert any("Ghia" in t for t in _legend_labels(fig))


def test_poiseuille_channel_shows_the_parabola():
    fig = _checked(_tour_solution(_tour_index(["Poiseuille"])))
    assert any("Poiseuille" in t for t in _legend_labels(fig))


def test_time_to_failure_shows_perfect_prediction_and_the_published_score():
    fig = _checked(_tour_solution(_tour_index(["prediction"])))
    legend = " ".join(_legend_labels(fig))
    assert "y = x" in legend and "Rouet-Leduc" in legend


def test_forces_are_labelled_by_element():
    fig = _checked(_tour_solution(_tour_index(["water", "PySCF"])))
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["O1", "H2", "H3"]


def test_structure_factor_plot_follows_the_conventions():
    solution = _tour_solution(_tour_index(["triangular Heisenberg"]))
    assert solution.problem.lattice_vectors is not None
    fig = solution.plot(kind="structure_factor")
    assert not figure_problems(fig)


# --- the checker itself -------------------------------------------------------------------------

def test_the_checker_finds_missing_titles_units_and_overlaps():
    fig, ax, _ = new_axes()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("time")
    found = " ".join(figure_problems(fig))
    assert "no title" in found and "has no unit" in found and "no ylabel" in found
    fig, ax, _ = new_axes(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title far too long to fit inside a figure only two inches wide, so it is clipped")
    ax.set_xticks(np.linspace(0, 1, 20), [f"label {k}" for k in range(20)])
    ax.set(xlabel=label("x", "m"), ylabel=label("y", "m"))
    found = " ".join(figure_problems(fig))
    assert "clipped" in found and "overlaps" in found


def test_label_needs_a_unit():
    assert label("time t", "s") == "time t [s]"
    with pytest.raises(ValueError, match="unit"):
        label("time t", "")
