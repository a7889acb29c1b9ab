"""TOML run specifications: build a problem, a solver and options from a validated file.

::

    [problem]
    type = "square_lattice"          # a family builder, or a Problem class name
    L = 64                           # the builder's keyword arguments / the class's fields
    [solver]
    type = "KPM"                     # a Solver class name
    order = 256
    [solver.estimator]               # a nested object: any table with a `type` key
    type = "RandomVectors"
    count = 10
    [options]                        # keyword options for tk.solve
    progress = false
    [output]                         # optional: file names inside the output folder
    solution = "square.nc"
    figure = "square.png"

Every name is looked up among the registered problem and solver classes (read from the
dispatch table) and the families' builders and components. An unknown section, key,
type name or a bad value raises :class:`SpecError` naming the section and the key.
"""

from __future__ import annotations

import inspect
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .dispatch import compatibility
from .errors import InvalidOptionError, InvalidProblemError, InvalidSolverError, SpecError
from .family import families
from .problem import Problem
from .solver import Solver

__all__ = ["Spec", "load_spec", "parse_spec", "vocabulary"]

SECTIONS = ("problem", "solver", "options", "output")
OUTPUT_KEYS = ("solution", "figure", "summary")


@dataclass
class Spec:
    """A parsed run specification."""

    problem: Problem
    solver: Solver
    options: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    source: str = "<spec>"


def vocabulary() -> dict[str, object]:
    """Every name a spec may use for ``type``: problem and solver classes, builders, components."""
    names: dict[str, object] = {}
    for ptype, stype in compatibility():
        names.setdefault(ptype.__name__, ptype)
        names.setdefault(stype.__name__, stype)
    for fam in families():
        for name, obj in {**fam.builders, **fam.components}.items():
            names.setdefault(name, obj)
    return names


def _build(table: dict, where: str, names: dict):
    if not isinstance(table, dict):
        raise SpecError(f"[{where}] must be a table with a 'type' key, got {table!r}")
    if "type" not in table:
        raise SpecError(f"[{where}] has no 'type' key; say which problem, solver or builder to use")
    kind = table["type"]
    if kind not in names:
        close = [n for n in names if n.lower().startswith(str(kind).lower()[:3])]
        hint = f" Did you mean {', '.join(sorted(close)[:5])}?" if close else ""
        raise SpecError(f"[{where}] type = {kind!r} is not a known problem, solver or builder.{hint} "
                        f"Run 'scalebridge list' to see them.")
    target = names[kind]
    kwargs = {k: v for k, v in table.items() if k != "type"}
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        params = {}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    allowed = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [k for k in kwargs if k not in allowed] if not takes_any else []
    if unknown:
        raise SpecError(f"[{where}] {kind} has no parameter {', '.join(map(repr, unknown))}; "
                        f"it takes: {', '.join(allowed) or 'nothing'}")
    missing = [n for n, p in params.items()
               if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and n not in kwargs]
    if missing:
        raise SpecError(f"[{where}] {kind} needs {', '.join(map(repr, missing))}")
    for key, value in kwargs.items():
        if isinstance(value, dict) and "type" in value:
            kwargs[key] = _build(value, f"{where}.{key}", names)
    try:
        return target(**kwargs)
    except (InvalidProblemError, InvalidSolverError, InvalidOptionError) as exc:
        raise SpecError(f"[{where}] {exc}") from None
    except (TypeError, ValueError) as exc:
        raise SpecError(f"[{where}] {kind}: {exc}") from None


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Parse TOML ``text`` into a :class:`Spec` (see the module docstring for the layout)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source} is not valid TOML: {exc}") from None
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise SpecError(f"{source}: unknown section {', '.join(map(repr, unknown))}; "
                        f"allowed sections: {', '.join(SECTIONS)}")
    for section in ("problem", "solver"):
        if section not in data:
            raise SpecError(f"{source}: missing [{section}] table")
    names = vocabulary()
    problem = _build(data["problem"], "problem", names)
    if not isinstance(problem, Problem):
        raise SpecError(f"[problem] type = {data['problem']['type']!r} builds a {type(problem).__name__}, "
                        "not a Problem")
    solver = _build(data["solver"], "solver", names)
    if not isinstance(solver, Solver):
        raise SpecError(f"[solver] type = {data['solver']['type']!r} builds a {type(solver).__name__}, "
                        "not a Solver")
    options = data.get("options", {})
    output = data.get("output", {})
    if not isinstance(options, dict) or not isinstance(output, dict):
        raise SpecError(f"{source}: [options] and [output] must be tables")
    bad = [k for k in output if k not in OUTPUT_KEYS]
    if bad:
        raise SpecError(f"[output] unknown key {', '.join(map(repr, bad))}; allowed: {', '.join(OUTPUT_KEYS)}")
    for key, value in output.items():
        if not isinstance(value, str) or not value or Path(value).name != value:
            raise SpecError(f"[output] {key} = {value!r} must be a plain file name (written in the output folder)")
    return Spec(problem=problem, solver=solver, options=options, output=output, source=source)


def load_spec(path) -> Spec:
    """Read and validate the TOML spec at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"no spec file at {path}")
    return parse_spec(path.read_text(), source=str(path))
