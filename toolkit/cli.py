"""The ``scalebridge`` command: ``list``, ``run SPEC.toml``, ``compare SPEC.toml --solvers a,b``, ``tour``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import io
from ._struct import did_you_mean
from .dispatch import compatibility, solve
from .errors import ScalebridgeError, SpecError
from .family import families, load_plugins

__all__ = ["main", "matrix_text", "builders_text", "run_tour"]


def _family_of(cls) -> str:
    return cls.__module__.split(".")[1] if cls.__module__.count(".") else cls.__module__


def matrix_text() -> str:
    """The compatibility matrix, one block per module of problems: '●' marks a registered pair."""
    pairs = compatibility()
    if not pairs:
        return "no problem families installed: no (problem, solver) methods are registered"
    groups: dict[str, list] = {}
    for ptype, stype in pairs:
        groups.setdefault(_family_of(ptype), []).append((ptype, stype))
    blocks = []
    for group, members in groups.items():
        problems = list(dict.fromkeys(p for p, _ in members))
        solvers = list(dict.fromkeys(s for _, s in members))
        width = max(len(p.__name__) for p in problems) + 2
        header = " " * width + "  ".join(s.__name__ for s in solvers)
        lines = [f"[{group}]", header]
        for ptype in problems:
            cells = ["●".center(len(s.__name__)) if (ptype, s) in members else "·".center(len(s.__name__))
                     for s in solvers]
            lines.append(ptype.__name__.ljust(width) + "  ".join(cells))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def figure_for(solution):
    """The figure ``solution.plot()`` draws (``scalebridge run`` and ``tour`` save it), laid out by
    :func:`toolkit.plotting.finish`; ``None`` for a solution without a picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import finish

    try:
        result = solution.plot()
    except NotImplementedError:
        return None
    return finish(_figure_of(result) or plt.gcf())


def _save_figure(solution, path: Path) -> bool:
    import matplotlib.pyplot as plt

    fig = figure_for(solution)
    if fig is None:
        return False
    fig.savefig(path, dpi=110)
    plt.close("all")
    return True


def _figure_of(result):
    import numpy as np

    if result is None:
        return None
    if hasattr(result, "savefig"):
        return result
    if hasattr(result, "figure"):
        return result.figure
    if isinstance(result, (tuple, list, np.ndarray)):
        for item in np.ravel(np.asarray(result, dtype=object)):
            fig = _figure_of(item)
            if fig is not None:
                return fig
    return None


def _summary(spec_name: str, solution, wall: float) -> str:
    lines = [f"spec      {spec_name}", f"problem   {solution.problem!r}", f"solver    {solution.solver!r}",
             f"retcode   {solution.retcode}", f"wall time {wall:.3f} s"]
    if solution.message:
        lines.append(f"message   {solution.message}")
    for warning in solution.stats.get("warnings", ()):
        lines.append(f"warning   {warning}")
    lines.append(f"solution  {solution!r}")
    return "\n".join(lines)


def composed_text() -> str:
    """The fields that hold another solver: owner.field -> inner problem: solvers that can fill it."""
    from .dispatch import composed

    rows = composed()
    if not rows:
        return ""
    lines = ["Composed solvers (a field that holds another solver, checked when the pair is resolved):"]
    for owner, field, inner, serving in rows:
        names = ", ".join(sorted(s.__name__ for s in serving)) or "none registered"
        lines.append(f"  {owner.__name__}.{field} solves {inner.__name__}: {names}")
    return "\n".join(lines)


def _signature(fn) -> str:
    """``(kind, shape, *, periodic=True, ...)`` of a builder, defaults shortened, no annotations."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return "(...)"
    parts, star = [], False
    for p in params:
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            star = True
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        elif p.default is p.empty:
            parts.append(p.name)
        else:
            default = repr(p.default)
            parts.append(f"{p.name}={default if len(default) <= 24 else default[:21] + '...'}")
    return f"({', '.join(parts)})"


def builders_text() -> str:
    """The families' builders (names a spec's ``[problem] type`` may use) with their signatures."""
    fams = [f for f in families() if f.builders]
    if not fams:
        return ""
    lines = ["Builders (a spec's [problem] type = \"name\", keyword arguments as keys):"]
    for fam in fams:
        lines.append(f"  [{fam.name}]")
        for name, fn in fam.builders.items():
            lines.append(f"    {name}{_signature(fn)}")
    return "\n".join(lines)


def cmd_list(args) -> int:
    load_plugins()
    print(matrix_text())
    for text in (composed_text(), builders_text()):
        if text:
            print()
            print(text)
    return 0


def cmd_run(args) -> int:
    from .spec import load_spec

    load_plugins()
    spec = load_spec(args.spec)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(args.spec).stem
    options = spec.options_in(out)           # path options (checkpoint) resolved inside --out, or refused
    solution_path = spec.output_in(out, "solution", f"{stem}.nc")
    summary_path = spec.output_in(out, "summary", f"{stem}.txt")
    figure = spec.output_in(out, "figure", f"{stem}.png")
    start = time.perf_counter()
    solution = solve(spec.problem, spec.solver, **options)
    wall = time.perf_counter() - start
    io.save(solution, solution_path)
    summary = _summary(str(args.spec), solution, wall)
    summary_path.write_text(summary + "\n")
    drew = _save_figure(solution, figure)
    print(summary)
    print(f"wrote     {solution_path}" + (f", {figure}" if drew else ""))
    return 0 if solution.successful else 1


def cmd_compare(args) -> int:
    from .compare import compare
    from .solver import Solver
    from .spec import load_spec, resolve_inside, vocabulary

    load_plugins()
    spec = load_spec(args.spec)
    names = vocabulary()
    solver_names = sorted(n for n, c in names.items() if isinstance(c, type) and issubclass(c, Solver))
    chosen = []
    for name in [n.strip() for n in args.solvers.split(",") if n.strip()]:
        if name == type(spec.solver).__name__:
            chosen.append(spec.solver)
            continue
        cls = names.get(name)
        if not (isinstance(cls, type) and issubclass(cls, Solver)):
            raise SpecError(f"--solvers: {name!r} is not a known solver.{did_you_mean(name, solver_names)} "
                            "Run 'scalebridge list' to see them")
        chosen.append(cls.example())
    if not chosen:
        raise SpecError("--solvers needs at least one solver name, e.g. --solvers KPM,ExactDiagonalization")
    reference = None
    if args.reference:
        cls = names.get(args.reference)
        if not (isinstance(cls, type) and issubclass(cls, Solver)):
            raise SpecError(f"--reference: {args.reference!r} is not a known solver."
                            f"{did_you_mean(args.reference, solver_names)} Run 'scalebridge list' to see them")
        reference = spec.solver if args.reference == type(spec.solver).__name__ else cls.example()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    options = spec.options_in(out)           # path options (checkpoint) resolved inside --out, or refused
    figure = resolve_inside(out, f"{Path(args.spec).stem}-compare.png", "compare figure")
    table = compare(spec.problem, chosen, reference=reference, warmup=args.warmup, **options)
    print(table)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table.plot()
    plt.savefig(figure, dpi=110)
    plt.close("all")
    return 0


def run_tour(out: Path, only: list[str] | None = None, stream=None) -> list[dict]:
    """Run every registered family's tour cases; return one row per case (and print the table)."""
    stream = stream or sys.stdout
    load_plugins()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    chosen = [f for f in families() if not only or f.name in only]
    if not chosen:
        print("no problem families are installed: nothing to tour (install a family package under solvers/)",
              file=stream)
        return rows
    tours = [(fam, list(fam.tour()) if fam.tour else []) for fam in chosen]
    widths = {"family": max([6] + [len(f.name) for f, _ in tours]),
              "case": max([4] + [len(c.label) for _, cases in tours for c in cases]),
              "problem": max([7] + [len(type(c.problem).__name__) for _, cases in tours for c in cases]),
              "solver": max([6] + [len(type(c.solver).__name__) for _, cases in tours for c in cases])}

    def line(family, case, problem, solver, retcode, wall):
        return (f"{family:<{widths['family']}}  {case:<{widths['case']}}  {problem:<{widths['problem']}}  "
                f"{solver:<{widths['solver']}}  {retcode:<12} {wall:>10}")

    header = line("family", "case", "problem", "solver", "retcode", "wall time")
    print(header + "\n" + "-" * len(header), file=stream, flush=True)
    for fam, cases in tours:
        for case in cases:
            start = time.perf_counter()
            try:
                solution = solve(case.problem, case.solver, **case.options)
                code, message = str(solution.retcode), solution.message
                slug = "".join(c if c.isalnum() else "-" for c in f"{fam.name}-{case.label}").strip("-")
                figure = out / f"{slug}.png"
                if not _save_figure(solution, figure):
                    figure = None
            except Exception as exc:  # the tour reports a failing case and goes on
                code, message, figure = "Failure", f"{type(exc).__name__}: {exc}", None
            rows.append({"family": fam.name, "case": case.label, "problem": type(case.problem).__name__,
                         "solver": type(case.solver).__name__, "retcode": code,
                         "wall_time": time.perf_counter() - start, "figure": figure, "message": message})
            r = rows[-1]
            print(line(r["family"], r["case"], r["problem"], r["solver"], r["retcode"], f"{r['wall_time']:.2f} s"),
                  file=stream, flush=True)
    return rows


def cmd_tour(args) -> int:
    rows = run_tour(Path(args.out), args.family or None)
    failed = [r for r in rows if r["retcode"] not in ("Success", "Terminated")]
    for r in failed:
        print(f"  {r['family']} / {r['case']}: {r['message']}")
    figures = sum(1 for r in rows if r["figure"])
    print(f"{len(rows)} cases, {len(rows) - len(failed)} succeeded; {figures} figures in {args.out}/")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scalebridge",
                                     description="solve(problem, solver) across five families of physical systems")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="print the compatibility matrix of problems and solvers, and the builders")
    listing.set_defaults(fn=cmd_list)
    run = sub.add_parser("run", help="solve the problem and solver described by a TOML spec")
    run.add_argument("spec")
    run.add_argument("--out", default="out", help="folder for the solution file, summary and figure")
    run.set_defaults(fn=cmd_run)
    cmp = sub.add_parser("compare", help="solve a spec's problem with several solvers and tabulate them")
    cmp.add_argument("spec")
    cmp.add_argument("--solvers", required=True, help="comma-separated solver names, e.g. KPM,ExactDiagonalization")
    cmp.add_argument("--reference", default=None, help="a solver name whose solution is the reference")
    cmp.add_argument("--out", default="out")
    cmp.add_argument("--warmup", action="store_true",
                     help="solve each solver once before timing it (run time then excludes every first-call cost)")
    cmp.set_defaults(fn=cmd_compare)
    tour = sub.add_parser("tour", help="run a small instance of every family and draw figures")
    tour.add_argument("--out", default="tour-figures")
    tour.add_argument("--family", action="append", help="only this family (repeatable)")
    tour.set_defaults(fn=cmd_tour)
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        return args.fn(args)
    except (ScalebridgeError, FileNotFoundError) as exc:
        print(f"scalebridge {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
