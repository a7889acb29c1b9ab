"""TOML run specifications: build a problem, a solver and options from a validated file.

::

    [problem]
    type = "lattice_problem"         # a family builder, or a Problem class name
    kind = "square"                  # the builder's keyword arguments / the class's fields
    shape = [16, 16]
    [solver]
    type = "KPM"                     # a Solver class name
    order = 64
    [solver.estimator]               # a nested object: any table with a `type` key
    type = "RandomVectors"
    count = 4
    [options]                        # keyword options for tk.solve
    progress = false
    # checkpoint = "run.ckpt.nc"     # (time problems) a path: resolved inside the output folder
    [output]                         # optional: file names inside the output folder
    solution = "square.nc"
    figure = "square.png"

(``tests/toolkit/test_discovery.py`` parses and solves this example, so it stays runnable.)

Every name is looked up among the registered problem and solver classes (read from the
dispatch table) and the families' builders and components. An unknown section, key,
type name or a bad value raises :class:`SpecError` naming the section and the key, and a
misspelled name gets the closest valid ones (``type = "KMP"``: "Did you mean KPM?").

What a spec can do, and what it cannot (the contract ``scalebridge run`` relies on):

* ``type`` reaches only the names of :func:`vocabulary` (registered problem and solver classes,
  family builders and components); a name two families register is refused, never guessed.
  Nothing else is imported or called: an ASE calculator, for instance, is one of the in-process
  calculators ``ASECalculator`` allows by name.
* Options are checked before anything runs: the universal ones by type (``strict = "false"``
  is refused, not read as true), the method's own as plain data; ``callbacks`` cannot be given.
* Every option that names a file (``checkpoint``, or a method option annotated as a path) must be
  a relative path without ``..``; :meth:`Spec.options_in` resolves it inside the output folder
  and refuses one that a symbolic link leads outside; in any other option a string that reads as
  a path is refused. Output names are plain file names, resolved the same way.
* Nesting deeper than :data:`MAX_DEPTH` and files over :data:`MAX_BYTES` are refused.
"""

from __future__ import annotations

import inspect
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from . import validate as v
from .dispatch import INTEGRATOR_OPTIONS, UNIVERSAL_OPTIONS, _init, _lookup, _resolve, _solve, compatibility
from .errors import (IncompatiblePairError, InvalidOptionError, InvalidProblemError, InvalidSolverError,
                     SpecError)
from ._struct import close_matches, did_you_mean
from .family import families
from .problem import Problem
from .solver import Solver

__all__ = ["Spec", "load_spec", "parse_spec", "vocabulary", "resolve_inside", "MAX_DEPTH", "MAX_BYTES"]

SECTIONS = ("problem", "solver", "options", "output")
OUTPUT_KEYS = ("solution", "figure", "summary")
#: Deepest nesting of tables and arrays a spec may use.
MAX_DEPTH = 12
#: Largest spec file read (bytes).
MAX_BYTES = 1 << 20
#: Options a spec cannot give (they are Python objects), with the advice shown.
NOT_IN_SPECS = {"callbacks": "callbacks are Python functions: add them in Python with tk.init(problem, solver, "
                             "callbacks=...)"}
#: Options whose value is a file the run writes: resolved inside the output folder.
PATH_OPTIONS = frozenset({"checkpoint"})


@dataclass
class Spec:
    """A parsed run specification.

    ``options`` hold path options (``paths``) as written, relative; :meth:`options_in` gives the
    options to pass to ``tk.solve`` with those paths resolved inside an output folder.
    """

    problem: Problem
    solver: Solver
    options: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    source: str = "<spec>"
    paths: tuple = ()

    def options_in(self, out) -> dict:
        """The options for ``tk.solve`` with every path option resolved inside the folder ``out``."""
        options = dict(self.options)
        for key in self.paths:
            options[key] = str(resolve_inside(out, options[key], f"[options] {key}"))
        return options

    def output_in(self, out, key: str, default: str) -> Path:
        """The file ``[output] key`` (or ``default``) inside the folder ``out``."""
        return resolve_inside(out, self.output.get(key, default), f"[output] {key}")


def resolve_inside(out, name: str, where: str) -> Path:
    """``out / name`` with symbolic links resolved, refused with :class:`SpecError` unless inside ``out``.

    Creates the folders between ``out`` and the file (never outside ``out``).
    """
    _check_relative(where, name)
    root = Path(os.path.realpath(out))
    target = Path(os.path.realpath(root / name))
    if root not in target.parents:
        raise SpecError(f"{where} = {name!r} leads to {target}, outside the output folder {root}: a spec "
                        "writes only inside the --out folder; give a file name there")
    target.parent.mkdir(parents=True, exist_ok=True)
    if Path(os.path.realpath(target.parent)) != target.parent:  # a link created in between
        raise SpecError(f"{where} = {name!r}: its folder moved outside the output folder {root}")
    return target


def _check_relative(where: str, value) -> None:
    allowed = "give a relative file name such as 'run.ckpt.nc' (written inside the --out folder)"
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where} = {v.show(value)} is not allowed: {allowed}")
    if "\0" in value or len(value) > 1024:
        raise SpecError(f"{where} = {v.show(value)} is not allowed: {allowed}")
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or value.startswith(("~", "\\")):
        raise SpecError(f"{where} = {value!r} is not allowed: an absolute path writes outside the output "
                        f"folder; {allowed}")
    if ".." in posix.parts or ".." in windows.parts:
        raise SpecError(f"{where} = {value!r} is not allowed: '..' leaves the output folder; {allowed}")


def _looks_like_path(value) -> bool:
    """Whether ``value`` (or a string inside it) reads as a file path: a separator, or a leading ~ or ..."""
    if isinstance(value, list):
        return any(_looks_like_path(item) for item in value)
    return isinstance(value, str) and (any(sep in value for sep in ("/", "\\", "\0"))
                                       or value.startswith(("~", "..")))


def vocabulary() -> dict[str, object]:
    """Every name a spec may use for ``type``: problem and solver classes, builders, components.

    A name that means two different objects (two families registering the same name, or a
    builder named like a class) raises :class:`SpecError` naming both: nothing is guessed.
    """
    names: dict[str, object] = {}
    origin: dict[str, str] = {}

    def add(name: str, obj, source: str) -> None:
        known = names.get(name)
        if known is None:
            names[name], origin[name] = obj, source
        elif known is not obj:
            raise SpecError(
                f"the spec name {name!r} means two things: {_qualname(known)} ({origin[name]}) and "
                f"{_qualname(obj)} ({source}). Names must be unique across families: rename one, or "
                "register it under another name in tk.Family(builders=..., components=...)")

    for ptype, stype in compatibility():
        add(ptype.__name__, ptype, "a registered problem type")
        add(stype.__name__, stype, "a registered solver type")
    for fam in families():
        for name, obj in fam.builders.items():
            add(name, obj, f"a builder of family {fam.name!r}")
        for name, obj in fam.components.items():
            add(name, obj, f"a component of family {fam.name!r}")
    return names


def _qualname(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def _depth(data) -> int:
    """Deepest nesting of tables and arrays in ``data`` (iterative: no recursion on hostile input)."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(node, dict):
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
    return deepest


def _build(table: dict, where: str, names: dict):
    if not isinstance(table, dict):
        raise SpecError(f"[{where}] must be a table with a 'type' key, got {v.show(table)}")
    if "type" not in table:
        typo = [k for k in table if close_matches(k, ["type"])]
        hint = f" ({typo[0]!r} is not 'type')" if typo else ""
        raise SpecError(f"[{where}] has no 'type' key{hint}; say which problem, solver or builder to use")
    kind = table["type"]
    if not isinstance(kind, str) or kind not in names:
        hint = did_you_mean(kind, sorted(names))
        raise SpecError(f"[{where}] type = {v.show(kind)} is not a known problem, solver or builder.{hint} "
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
        hints = "".join(did_you_mean(k, allowed, say_name=len(unknown) > 1) for k in unknown)
        raise SpecError(f"[{where}] {kind} has no parameter {', '.join(map(repr, unknown))}; "
                        f"it takes: {', '.join(allowed) or 'nothing'}.{hints}")
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
    except (TypeError, ValueError, OverflowError) as exc:
        raise SpecError(f"[{where}] {kind}: {exc}") from None


def _is_path_parameter(methods, key: str) -> bool:
    """Whether a method's keyword option ``key`` is annotated as a file path (``Path``, ``os.PathLike``)."""
    for method in methods:
        try:
            param = inspect.signature(method).parameters.get(key)
        except (TypeError, ValueError):
            continue
        if param is None or param.annotation is param.empty:
            continue
        text = param.annotation if isinstance(param.annotation, str) else repr(param.annotation)
        if "Path" in text:
            return True
    return False


def _methods(problem: Problem, solver: Solver) -> tuple[frozenset | None, list]:
    """The options the pair's method allows (None: any) and its registered implementations."""
    key = (type(problem), type(solver))
    try:
        allowed = _resolve(problem, solver, False)[1]
        methods = [m for m in (_lookup(_solve, *key), _lookup(_init, *key)) if m is not None]
    except (IncompatiblePairError, TypeError) as exc:
        raise SpecError(f"[solver] {exc}") from None
    return allowed, methods


def _plain(value, depth: int = 0) -> bool:
    if isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, list) and depth < MAX_DEPTH and all(_plain(x, depth + 1) for x in value)


def _check_option(key: str, value) -> None:
    """Type checks of the options every method takes (universal and integrator options)."""
    where = f"[options] {key}"
    if key in ("strict", "progress"):
        if not isinstance(value, bool):
            raise SpecError(f"{where} = {v.show(value)} is not allowed: give true or false (a TOML boolean, "
                            "without quotes)")
    elif key == "checkpoint_every":
        v.integer(where, value, lower=1, error=SpecError)
    elif key == "checkpoint_seconds":
        v.real_scalar(where, value, lower=0, lower_open=True, error=SpecError)


def _options(table, problem: Problem, solver: Solver) -> tuple[dict, tuple]:
    """Validate ``[options]`` for the pair; return the options and the names of the path options."""
    if not isinstance(table, dict):
        raise SpecError(f"[options] must be a table of keyword options, got {v.show(table)}")
    if not table:
        return {}, ()
    allowed, methods = _methods(problem, solver)
    paths = []
    for key, value in table.items():
        where = f"[options] {key}"
        if key in NOT_IN_SPECS:
            raise SpecError(f"{where} cannot be given in a spec: {NOT_IN_SPECS[key]}")
        if allowed is not None and key not in allowed:
            shown = sorted(set(allowed) - set(NOT_IN_SPECS))
            raise SpecError(f"[options] unknown option {key!r} for solving {type(problem).__name__} with "
                            f"{type(solver).__name__}; allowed options: {', '.join(shown) or 'none'}."
                            f"{did_you_mean(key, shown)}")
        if not _plain(value):
            raise SpecError(f"{where} = {v.show(value)} is not allowed: an option is a number, a string, "
                            "true/false or an array of them (objects go in [problem] or [solver] tables)")
        if key in UNIVERSAL_OPTIONS | INTEGRATOR_OPTIONS:
            _check_option(key, value)
        if key in PATH_OPTIONS or (key not in INTEGRATOR_OPTIONS and _is_path_parameter(methods, key)):
            _check_relative(where, value)
            paths.append(key)
        elif _looks_like_path(value):
            raise SpecError(f"{where} = {v.show(value)} is not allowed: it looks like a path, and only options "
                            f"declared as files ({', '.join(sorted(PATH_OPTIONS))}, or a method option "
                            "annotated pathlib.Path) may name one; they are written inside the --out folder")
    return dict(table), tuple(paths)


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Parse TOML ``text`` into a :class:`Spec` (see the module docstring for the layout and the rules)."""
    if len(text) > MAX_BYTES:
        raise SpecError(f"{source} is {len(text)} characters long; a spec has at most {MAX_BYTES}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source} is not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(f"{source} is nested too deeply; a spec nests tables and arrays at most "
                        f"{MAX_DEPTH} levels") from None
    if _depth(data) > MAX_DEPTH:
        raise SpecError(f"{source} is nested too deeply; a spec nests tables and arrays at most "
                        f"{MAX_DEPTH} levels")
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        hints = "".join(did_you_mean(k, SECTIONS, say_name=len(unknown) > 1) for k in unknown)
        raise SpecError(f"{source}: unknown section {', '.join(map(repr, unknown))}; "
                        f"allowed sections: {', '.join(SECTIONS)}.{hints}")
    for section in ("problem", "solver"):
        if section not in data:
            raise SpecError(f"{source}: missing [{section}] table")
    options = data.get("options", {})
    output = data.get("output", {})
    if not isinstance(options, dict) or not isinstance(output, dict):
        raise SpecError(f"{source}: [options] and [output] must be tables")
    bad = [k for k in output if k not in OUTPUT_KEYS]
    if bad:
        hints = "".join(did_you_mean(k, OUTPUT_KEYS, say_name=len(bad) > 1) for k in bad)
        raise SpecError(f"[output] unknown key {', '.join(map(repr, bad))}; allowed: {', '.join(OUTPUT_KEYS)}."
                        f"{hints}")
    for key, value in output.items():
        if not isinstance(value, str) or not value or Path(value).name != value or value in (".", ".."):
            raise SpecError(f"[output] {key} = {v.show(value)} must be a plain file name (written in the "
                            "output folder)")
        _check_relative(f"[output] {key}", value)
    names = vocabulary()
    problem = _build(data["problem"], "problem", names)
    if not isinstance(problem, Problem):
        raise SpecError(f"[problem] type = {data['problem']['type']!r} builds a {type(problem).__name__}, "
                        "not a Problem")
    solver = _build(data["solver"], "solver", names)
    if not isinstance(solver, Solver):
        raise SpecError(f"[solver] type = {data['solver']['type']!r} builds a {type(solver).__name__}, "
                        "not a Solver")
    options, paths = _options(options, problem, solver)
    return Spec(problem=problem, solver=solver, options=options, output=output, source=source, paths=paths)


def load_spec(path) -> Spec:
    """Read and validate the TOML spec at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"no spec file at {path}")
    if path.stat().st_size > MAX_BYTES:
        raise SpecError(f"{path} is {path.stat().st_size} bytes; a spec has at most {MAX_BYTES}")
    return parse_spec(path.read_text(), source=str(path))
