"""Cost of ``tk.solve``'s multiple dispatch over calling the method directly.

DESIGN.md's target: under 2 µs per call. The benchmark registers a do-nothing pair (a problem
with one float, a solver with none) so that only dispatch is timed, and reports the median
over repeats of (time per ``tk.solve`` call) - (time per direct call), and plum's own
``_solve(problem, solver)`` call for comparison.

    python benchmarks/dispatch.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import timeit

import toolkit as tk
from toolkit.dispatch import _solve, dispatch


class Nothing(tk.Problem):
    """A problem with a single number (nothing to solve)."""

    x: float = 0.0


class NothingSolution(tk.Solution):
    x: float


class Identity(tk.Solver):
    """Returns the problem's number."""


@dispatch
def _solve(problem: Nothing, solver: Identity) -> NothingSolution:
    return NothingSolution(problem=problem, solver=solver, x=problem.x)


def _direct(problem, solver):
    return NothingSolution(problem=problem, solver=solver, x=problem.x)


def per_call(fn, number: int, repeats: int) -> float:
    """Median seconds per call of ``fn()`` over ``repeats`` timings of ``number`` calls."""
    return statistics.median(t / number for t in timeit.repeat(fn, number=number, repeat=repeats))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats (smoke test)")
    args = parser.parse_args(argv)
    number, repeats = (2_000, 3) if args.quick else (100_000, 11)
    problem, solver = Nothing(x=1.0), Identity()
    tk.solve(problem, solver)  # resolve once: later calls hit the cache
    direct = per_call(lambda: _direct(problem, solver), number, repeats)
    plum_call = per_call(lambda: _solve(problem, solver), number, repeats)
    public = per_call(lambda: tk.solve(problem, solver), number, repeats)
    with_option = per_call(lambda: tk.solve(problem, solver, strict=False), number, repeats)
    figures = {"direct_us": direct * 1e6, "plum_overhead_us": (plum_call - direct) * 1e6,
               "solve_overhead_us": (public - direct) * 1e6,
               "solve_with_option_overhead_us": (with_option - direct) * 1e6}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    print(f"median of {repeats} x {number} calls")
    print(f"  direct method call           {figures['direct_us']:7.3f} µs")
    print(f"  plum _solve overhead         {figures['plum_overhead_us']:7.3f} µs")
    print(f"  tk.solve overhead            {figures['solve_overhead_us']:7.3f} µs   (target < 2 µs)")
    print(f"  tk.solve(strict=False) ovh.  {figures['solve_with_option_overhead_us']:7.3f} µs")
    return figures


if __name__ == "__main__":
    main()
