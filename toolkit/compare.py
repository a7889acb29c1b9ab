"""Solver swapping: run one problem through several solvers and tabulate what each gave.

``tk.compare(problem, [KPM(order=256), ExactDiagonalization()], reference=ExactDiagonalization())``

Times. A numba kernel compiles on its first call in a process (or loads from numba's disk
cache), so the first solve of a pair can be mostly compilation: KPM on a 64-site lattice
took 17 s against exact diagonalisation's 5.6 s, nearly all of it compiling. Each solve is
therefore split into

* ``compile_time``: seconds numba spent holding its global compiler lock during the solve
  (typing, LLVM code generation, loading from the disk cache), read from numba's event API
  (``numba.core.event``, event ``"numba:compiler_lock"``, outermost acquisitions only, so
  nested compilations count once). Other just-in-time systems (torch, JAX) are not seen;
* ``run_time``: the wall time of the solve minus ``compile_time``: what a second solve of the
  same pair costs.

``warmup=True`` solves each pair once before the timed solve, so the timed solve runs warm
(also for compilers numba's events do not see); ``compile_time`` is then the warm-up's.
Solvers run in the order given and a kernel shared by two of them compiles in the first; a
reference solver runs after them (its solution is reused when it is also in the list), so it
warms none of them.

Errors. Against a ``reference`` (a solver, solved first, or a solution), each solver's error
in field ``f`` is the relative L2 (Frobenius) norm over all of its entries

    e_f = ||a_f - r_f||_2 / ||r_f||_2        (denominator floored at the smallest normal float)

for the fields the solution class names in ``compare_fields`` (default: every real or
complex array field; a scalar field counts as a one-entry array). A field whose shape
differs between the two solutions (another energy grid, say) is not compared. The
``error`` column is the largest ``e_f``, and ``dominant`` names that field. A solution
class that overrides ``Solution.distance`` without declaring ``compare_fields`` keeps its
own measure: its ``error`` is ``distance()`` and no per-field split is shown.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .dispatch import solve
from .solution import Solution
from .solver import Solver

__all__ = ["compare", "Comparison", "field_errors", "compile_clock", "short_labels"]

_TINY = np.finfo(float).tiny
_LABEL_WIDTH = 28


# --- compile time ------------------------------------------------------------------------------

class _CompileTimer:
    """Sums the outermost holds of numba's compiler lock (per thread) while installed."""

    def __init__(self):
        self.seconds = 0.0
        self._local = threading.local()
        self._lock = threading.Lock()

    def on_start(self, event):
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.start = time.perf_counter()
        self._local.depth = depth + 1

    def on_end(self, event):
        depth = getattr(self._local, "depth", 0) - 1
        self._local.depth = max(depth, 0)
        if depth == 0:
            with self._lock:
                self.seconds += time.perf_counter() - self._local.start


@contextmanager
def compile_clock():
    """``with compile_clock() as clock: ...``; ``clock.seconds`` is numba's compile time inside.

    Zero when numba is not installed or compiled nothing.
    """
    timer = _CompileTimer()
    try:
        from numba.core import event
    except ImportError:
        yield timer
        return

    class _Listener(event.Listener):
        def on_start(self, ev):
            timer.on_start(ev)

        def on_end(self, ev):
            timer.on_end(ev)

    with event.install_listener("numba:compiler_lock", _Listener()):
        yield timer


# --- errors --------------------------------------------------------------------------------------

def _compared_names(solution) -> list[str]:
    if solution.compare_fields:
        return list(solution.compare_fields)
    return [k for k, v in solution.data_fields().items() if isinstance(v, np.ndarray) and v.dtype.kind in "fc"]


def _own_distance(solution) -> bool:
    """Whether the class keeps its own ``distance`` (overridden, no ``compare_fields``)."""
    return type(solution).distance is not Solution.distance and not solution.compare_fields


def field_errors(solution, reference) -> dict[str, float]:
    """``{field: ||a - r||_2 / ||r||_2}`` over the compared fields both solutions hold alike.

    See the module docstring for the fields compared; a field missing from either solution,
    not numeric, or of another shape is left out.
    """
    errors = {}
    for name in _compared_names(solution):
        a, r = getattr(solution, name, None), getattr(reference, name, None)
        if a is None or r is None:
            continue
        try:
            a, r = np.asarray(a), np.asarray(r)
        except Exception:
            continue
        if a.dtype.kind not in "fciub" or r.dtype.kind not in "fciub" or a.shape != r.shape:
            continue
        kind = np.complex128 if "c" in a.dtype.kind + r.dtype.kind else np.float64
        a, r = a.astype(kind).ravel(), r.astype(kind).ravel()
        errors[name] = float(np.linalg.norm(a - r)) / max(float(np.linalg.norm(r)), _TINY)
    return errors


def _error(solution, reference) -> tuple[float, dict[str, float], str | None]:
    """``(error, per-field errors, dominant field)`` of ``solution`` against ``reference``."""
    if _own_distance(solution):
        return float(solution.distance(reference)), {}, None
    per_field = field_errors(solution, reference)
    if not per_field:
        return np.nan, {}, None
    dominant = max(per_field, key=lambda k: np.nan_to_num(per_field[k], nan=np.inf))
    error = per_field[dominant]
    return error, per_field, (dominant if not error == 0 else None)


# --- labels --------------------------------------------------------------------------------------

def _fit(text: str, width: int = _LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def short_labels(solvers) -> list[str]:
    """Short, distinct column names: the class name, plus the hyperparameters that tell apart
    solvers of one class (``KPM(order=64)``, ``KPM(order=512)``), plus ``#2`` if still equal."""
    names = [type(s).__name__ for s in solvers]
    labels = list(names)
    for name in set(names):
        group = [i for i, n in enumerate(names) if n == name]
        if len(group) < 2:
            continue
        fields = [f.name for f in dataclasses.fields(solvers[group[0]])] if dataclasses.is_dataclass(solvers[group[0]]) else []
        differing = [f for f in fields if len({repr(getattr(solvers[i], f, None)) for i in group}) > 1]
        for i in group:
            inner = ", ".join(f"{f}={_fit(repr(getattr(solvers[i], f, None)), 12)}" for f in differing)
            labels[i] = _fit(f"{name}({inner})" if inner else name)
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1 or labels.count(label) > 1:
            labels[i] = _fit(label, _LABEL_WIDTH - 3) + f" #{seen[label]}"
    return labels


def _full(solver) -> str:
    text = repr(solver)
    return text if len(text) <= 160 else text[:157] + "..."


# --- the table -----------------------------------------------------------------------------------

@dataclass
class Comparison:
    """The table ``tk.compare`` returns: one row per solver, plus pairwise distances.

    ``labels`` are short solver names (``toolkit.compare.short_labels``), ``solvers`` the full
    hyperparameters. ``compile_times`` and ``run_times`` split ``wall_times`` (see the module
    docstring). ``errors[i]`` is solver i's largest per-field relative L2 error against the
    reference (NaN with no reference), ``field_errors[i]`` every field's and ``dominant[i]``
    the field that sets it. ``pairwise[i, j]`` is the same error of solver i's solution
    taking solver j's as the reference.
    """

    labels: list[str]
    retcodes: list[str]
    wall_times: np.ndarray
    errors: np.ndarray
    pairwise: np.ndarray
    reference: str | None
    solutions: list = field(repr=False)
    solvers: list[str] = field(default_factory=list)
    compile_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    run_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    field_errors: list = field(default_factory=list)
    dominant: list = field(default_factory=list)
    warmup: bool = False

    def _columns(self) -> list[tuple[str, list[str], str]]:
        """``(header, cells, align)`` per column of the printed table."""
        n = len(self.labels)
        compile_t = self.compile_times if len(self.compile_times) == n else np.full(n, np.nan)
        run_t = self.run_times if len(self.run_times) == n else self.wall_times
        dominant = self.dominant if len(self.dominant) == n else [None] * n
        cols = [("solver", list(self.labels), "<"), ("retcode", list(self.retcodes), "<"),
                ("compile [s]", [f"{t:.3g}" for t in compile_t], ">"),
                ("run [s]", [f"{t:.3g}" for t in run_t], ">")]
        if self.reference:
            cols.append(("error", ["—" if not np.isfinite(e) else f"{e:.3g}" for e in self.errors], ">"))
            cols.append(("dominated by", [d or "—" for d in dominant], "<"))
        return cols

    def __str__(self) -> str:
        cols = self._columns()
        widths = [max(len(h), *(len(c) for c in cells)) for h, cells, _ in cols]
        row = lambda cells: "  ".join(f"{c:{a}{w}}" for c, (_, _, a), w in zip(cells, cols, widths)).rstrip()  # noqa: E731
        lines = [row([h for h, _, _ in cols]), "  ".join("-" * w for w in widths)]
        lines += [row([cells[i] for _, cells, _ in cols]) for i in range(len(self.labels))]
        lines.append("")
        for label, full in zip(self.labels, self.solvers or self.labels):
            if full not in (label, label + "()"):
                lines.append(f"{label}: {full}")
        how = "after a warm-up solve" if self.warmup else "first solve in this process"
        lines.append(f"compile: numba compilation and cache loading during the timed solve ({how}); "
                     "run: the rest of its wall time")
        if self.reference:
            lines.append(f"error: largest relative L2 norm ||a - r|| / ||r|| over the compared fields, "
                         f"r from the reference {self.reference}")
            split = [f"{label}: " + ", ".join(f"{k} {v:.3g}" for k, v in fe.items())
                     for label, fe in zip(self.labels, self.field_errors) if len(fe) > 1 and any(fe.values())]
            if split:
                lines.append("per field: " + "; ".join(split))
        else:
            lines.append("error: no reference given (see .pairwise for the distances between the solvers)")
        return "\n".join(lines)

    def to_pandas(self, full: bool = False):
        """The table as a ``pandas.DataFrame`` indexed by short solver name.

        Columns ``retcode, wall_time, error``; with ``full=True`` also ``compile_time``,
        ``run_time``, ``dominant`` and one ``error[field]`` column per compared field.
        """
        import pandas as pd

        data = {"retcode": self.retcodes, "wall_time": self.wall_times, "error": self.errors}
        if full:
            data.update(compile_time=self.compile_times, run_time=self.run_times, dominant=self.dominant)
            for name in self._field_names():
                data[f"error[{name}]"] = [fe.get(name, np.nan) for fe in self.field_errors]
        return pd.DataFrame(data, index=pd.Index(self.labels, name="solver"))

    def _field_names(self) -> list[str]:
        names: list[str] = []
        for fe in self.field_errors:
            names += [k for k in fe if k not in names]
        return names

    def to_xarray(self):
        """The table as an ``xarray.Dataset`` with units and long names (CF attributes).

        Coordinates ``solver`` (short names, with the full hyperparameters as ``solver_repr``),
        ``other`` (the same, for ``pairwise``) and ``field`` (the compared fields).
        """
        import xarray as xr

        fields = self._field_names()
        per_field = np.array([[fe.get(name, np.nan) for name in fields] for fe in self.field_errors]).reshape(
            len(self.labels), len(fields))
        rel = "1"  # a ratio of norms
        ds = xr.Dataset(
            {"wall_time": ("solver", self.wall_times, {"units": "s", "long_name": "wall time of the solve"}),
             "compile_time": ("solver", self.compile_times,
                              {"units": "s", "long_name": "numba compile time within the solve"}),
             "run_time": ("solver", self.run_times, {"units": "s", "long_name": "wall time less compile time"}),
             "error": ("solver", self.errors, {"units": rel, "long_name": "largest relative L2 error vs reference"}),
             "field_error": (("solver", "field"), per_field,
                             {"units": rel, "long_name": "relative L2 error per field vs reference"}),
             "dominant": ("solver", np.array([d or "" for d in self.dominant], dtype=str),
                          {"long_name": "field with the largest error"}),
             "retcode": ("solver", np.array(self.retcodes, dtype=str), {"long_name": "return code"}),
             "pairwise": (("solver", "other"), self.pairwise,
                          {"units": rel, "long_name": "relative L2 error of solver against other"})},
            coords={"solver": ("solver", self.labels, {"long_name": "solver"}),
                    "solver_repr": ("solver", np.array(self.solvers or self.labels, dtype=str),
                                    {"long_name": "solver hyperparameters"}),
                    "other": ("other", self.labels, {"long_name": "solver taken as reference"}),
                    "field": ("field", np.array(fields, dtype=str), {"long_name": "compared field"})},
            attrs={"reference": self.reference or "", "warmup": int(self.warmup),
                   "error_definition": "||a - r||_2 / ||r||_2 per field; error = largest over fields"})
        return ds

    def plot(self, axes=None):
        """Two panels: compile and run time per solver (stacked bars), and the error on a log axis."""
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
        x = np.arange(len(self.labels))
        compile_t = np.nan_to_num(self.compile_times if len(self.compile_times) == len(x) else np.zeros(len(x)))
        run_t = self.run_times if len(self.run_times) == len(x) else self.wall_times
        axes[0].bar(x, compile_t, label="compile (numba)", color="0.65")
        axes[0].bar(x, run_t, bottom=compile_t, label="run", color="C0")
        axes[0].set(ylabel="time [s]", title="Wall time per solver")
        axes[0].legend(frameon=False)
        finite = np.isfinite(self.errors) & (self.errors > 0)
        floor = self.errors[finite].min() / 10 if finite.any() else 1e-16
        shown = np.where(finite, self.errors, floor)
        bars = axes[1].bar(x, shown, color=["C1" if f else "0.85" for f in finite])
        axes[1].set_yscale("log")
        axes[1].set_ylim(shown.min() / 2, shown.max() * 8)  # room for the field names above the bars
        ref = self.reference.split("(")[0] if self.reference else None
        axes[1].set(ylabel="relative L2 error [1]",
                    title=f"Error against {ref}" if ref else "Error (no reference given)")
        for xi, bar, ok, dom in zip(x, bars, finite, self.dominant or [None] * len(x)):
            text = (dom or "") if ok else ("exact" if np.isfinite(self.errors[xi]) else "n/a")
            if text:
                axes[1].annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                                 va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
        for ax in axes:
            ax.set_xticks(x, self.labels, rotation=20, ha="right")
            ax.set_xlabel("solver")
        return axes


def compare(problem, solvers, reference=None, *, warmup: bool = False, **options) -> Comparison:
    """Solve ``problem`` with each solver; record return code, compile and run time, and error.

    ``reference`` is a Solver (solved last), a Solution, or ``None`` (then only the
    pairwise distances between the solvers are filled in). ``warmup=True`` solves each pair
    once, untimed, before its timed solve. ``options`` go to every solve. See the module
    docstring for how times and errors are defined.
    """
    solvers = list(solvers)
    if not solvers:
        raise ValueError("compare needs at least one solver, e.g. tk.compare(problem, [KPM(), ExactDiagonalization()])")
    ref_solution, ref_label = None, None
    if isinstance(reference, Solver):
        ref_label = _full(reference)
    elif isinstance(reference, Solution):
        ref_solution, ref_label = reference, _full(reference.solver)
    elif reference is not None:
        raise TypeError(f"reference must be a Solver, a Solution or None, got {type(reference).__name__}")
    solutions, walls, compiles, runs = [], [], [], []
    for solver in solvers:
        warm = 0.0
        if warmup:
            with compile_clock() as clock:
                solve(problem, solver, **options)
            warm = clock.seconds
        with compile_clock() as clock:
            start = time.perf_counter()
            solutions.append(solve(problem, solver, **options))
            walls.append(time.perf_counter() - start)
        timed_compile = min(clock.seconds, walls[-1])
        compiles.append(warm + timed_compile)
        runs.append(walls[-1] - timed_compile)
    walls, compiles, runs = np.array(walls), np.array(compiles), np.array(runs)
    if isinstance(reference, Solver):  # solved after the others, so that it warms none of them
        same = [s for solver, s in zip(solvers, solutions) if solver == reference]
        ref_solution = same[0] if same else solve(problem, reference, **options)
    results = [_error(s, ref_solution) if ref_solution is not None and s.successful else (np.nan, {}, None)
               for s in solutions]
    n = len(solutions)
    pairwise = np.array([[_error(solutions[i], solutions[j])[0] for j in range(n)] for i in range(n)])
    return Comparison(labels=short_labels(solvers), retcodes=[str(s.retcode) for s in solutions],
                      wall_times=walls, errors=np.array([r[0] for r in results]), pairwise=pairwise,
                      reference=ref_label, solutions=solutions, solvers=[_full(s) for s in solvers],
                      compile_times=compiles, run_times=runs, field_errors=[r[1] for r in results],
                      dominant=[r[2] for r in results], warmup=warmup)
