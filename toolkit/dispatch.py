"""Multiple dispatch on (problem, solver): the one verb ``solve`` and its twin ``init``.

Registering a method
--------------------
A solver module registers its methods next to the solver's definition with the private
dispatcher; only the positional pair is dispatched, every option is keyword-only::

    from toolkit.dispatch import dispatch

    @dispatch
    def _solve(problem: TightBinding, solver: KPM, *, progress: bool = True) -> TightBindingSolution:
        ...

    @dispatch
    def _init(problem: LatticeFluid, solver: BGK | TRT) -> FluidIntegrator:
        ...                                  # time problems: return an Integrator

Annotate with plain classes or unions of classes (no ``Literal``, parametric or container
types): that keeps plum's lookup cache on, and a call of ``tk.solve`` costs well under 2 µs
on top of the method itself. ``tk.solvers_for``, ``tk.problems_for`` and
``tk.compatibility`` are read from the registered methods, never from a hand-kept list.
"""

from __future__ import annotations

import inspect
import types
import typing

import numpy as np
import plum

from .errors import IncompatiblePairError, InvalidOptionError, UnstableError
from . import memory
from .cache import SolveCache
from .problem import Problem, TimeProblem
from .solver import Solver

__all__ = ["dispatch", "solve", "init", "solvers_for", "problems_for", "compatibility", "register_default_solver",
           "INTEGRATOR_OPTIONS", "check_held", "composed"]

#: The private dispatcher every solver module registers ``_solve``/``_init`` methods with.
dispatch = plum.Dispatcher()


@dispatch.abstract
def _solve(problem, solver):
    """Solve ``problem`` with ``solver`` and return a Solution (one method per pair)."""


@dispatch.abstract
def _init(problem, solver):
    """Set up an Integrator that steps the time problem ``problem`` with ``solver``."""


#: Options every ``tk.solve`` accepts whatever the method: ``strict`` (raise on an unsuccessful
#: solution) and ``progress`` (ignored by methods too quick to show a bar).
UNIVERSAL_OPTIONS = frozenset({"strict", "progress"})

#: Options every integrator takes (handled by ``Integrator.configure``), beside a method's own.
INTEGRATOR_OPTIONS = frozenset({"progress", "callbacks", "checkpoint", "checkpoint_every",
                                "checkpoint_seconds", "strict"})

# (problem type, solver type) -> (implementation, allowed option names or None for any, kind)
_resolved: dict[tuple[type, type], tuple] = {}
_seen_methods = [0, 0]


def _keyword_options(impl) -> frozenset | None:
    params = inspect.signature(impl).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params if p.kind is p.KEYWORD_ONLY)


def _refresh() -> None:
    """Forget resolved pairs when methods were registered since the last resolution."""
    counts = [len(_solve.methods), len(_init.methods)]
    if counts != _seen_methods:
        _resolved.clear()
        _seen_methods[:] = counts


def _check_pair(problem, solver) -> None:
    if not isinstance(problem, Problem):
        raise TypeError(f"the first argument must be a scalebridge Problem, got {type(problem).__name__}; "
                        "build one from problems (e.g. problems.TightBinding) first")
    if not isinstance(solver, Solver):
        raise TypeError(f"the second argument must be a scalebridge Solver, got {type(solver).__name__}; "
                        f"solvers for {type(problem).__name__}: {_names(solvers_for(problem)) or 'none registered'}")


def _names(classes) -> str:
    return ", ".join(sorted(c.__name__ for c in classes))


def _lookup(function, ptype, stype):
    try:
        impl, _ = function._resolve_method_with_cache(types=(ptype, stype))
    except plum.NotFoundLookupError:
        return None
    except plum.AmbiguousLookupError as exc:
        raise IncompatiblePairError(
            f"more than one method matches ({ptype.__name__}, {stype.__name__}): {exc}. "
            "Register a method for the exact pair to settle it") from None
    return impl


def _resolve(problem, solver, want_init: bool):
    _refresh()
    key = (type(problem), type(solver))
    entry = _resolved.get((key, want_init))
    if entry is not None:
        return entry
    _check_pair(problem, solver)
    impl = None if want_init else _lookup(_solve, *key)
    kind = "solve"
    if impl is None:
        impl, kind = _lookup(_init, *key), "init"
    if impl is None and want_init:
        impl, kind = _lookup(_solve, *key), "cache"
    if impl is None:
        raise IncompatiblePairError(_incompatible_message(problem, solver, want_init))
    allowed = _keyword_options(impl)
    if kind == "init" and not issubclass(key[0], TimeProblem):  # a family cache takes solve options
        solve_impl = _lookup(_solve, *key)
        allowed, kind = (_keyword_options(solve_impl) if solve_impl is not None else frozenset()), "cache"
    drop_progress = kind == "solve" and allowed is not None and "progress" not in allowed
    if kind == "init" and allowed is not None:
        allowed = allowed | INTEGRATOR_OPTIONS
    if kind in ("solve", "cache") and allowed is not None:
        allowed = allowed | UNIVERSAL_OPTIONS
    if kind == "cache" and impl is _lookup(_solve, *key):
        impl = SolveCache
    checks = bool(type(problem).held_solvers or type(solver).held_solvers) or memory.has_estimate(*key)
    entry = (impl, allowed, kind, drop_progress, checks)
    _resolved[(key, want_init)] = entry
    return entry


def _incompatible_message(problem, solver, want_init: bool) -> str:
    verb = "init" if want_init else "solve"
    accepts = solvers_for(problem)
    takes = problems_for(solver)
    text = (f"no method to {verb} {type(problem).__name__} with {type(solver).__name__}. "
            f"Solvers that accept {type(problem).__name__}: {_names(accepts) or 'none registered'}. "
            f"Problems {type(solver).__name__} accepts: {_names(takes) or 'none registered'}.")
    return text


def _check_options(options: dict, allowed, problem, solver) -> None:
    for name in ("strict", "progress"):
        if name in options and not isinstance(options[name], (bool, np.bool_)):
            raise InvalidOptionError(f"{name} = {options[name]!r} is not allowed: give True or False "
                                     "(a string such as 'false' is not a boolean)")
    if allowed is None:
        return
    unknown = set(options) - allowed
    if unknown:
        from ._struct import did_you_mean

        hints = "".join(did_you_mean(name, sorted(allowed), say_name=len(unknown) > 1) for name in sorted(unknown))
        raise InvalidOptionError(
            f"unknown option {', '.join(sorted(map(repr, unknown)))} for solving {type(problem).__name__} "
            f"with {type(solver).__name__}; allowed options: {', '.join(sorted(allowed)) or 'none'}.{hints}")


#: problem type -> factory(problem) -> Solver, registered by solver packages (problems never import solvers)
_default_solvers: dict[type, object] = {}


def register_default_solver(problem_type: type, factory) -> None:
    """Name the solver ``tk.solve(problem)`` uses when none is given: ``factory(problem) -> Solver``.

    Called by a family's solver package (``problems`` must not import ``solvers``), e.g.
    ``tk.register_default_solver(TightBinding, lambda p: ExactDiagonalization() if p.size <= 2000 else KPM())``.
    A problem's own ``default_solver()`` method, when it returns a solver, takes precedence.
    """
    if not (isinstance(problem_type, type) and issubclass(problem_type, Problem)):
        raise TypeError(f"register_default_solver needs a Problem subclass, got {problem_type!r}")
    if not callable(factory):
        raise TypeError("register_default_solver needs a callable factory(problem) -> Solver")
    _default_solvers[problem_type] = factory


def _default_solver(problem):
    solver = problem.default_solver() if isinstance(problem, Problem) else None
    if solver is None and isinstance(problem, Problem):
        for cls in type(problem).__mro__:
            if cls in _default_solvers:
                solver = _default_solvers[cls](problem)
                break
    if solver is None:
        _check_pair(problem, None)
    return solver


def solve(problem, solver=None, /, **options):
    """Solve ``problem`` with ``solver``: ``tk.solve(problem, solver, **options) -> Solution``.

    The pair picks the method by multiple dispatch. For a time problem with only an
    ``_init`` method this is ``tk.init(problem, solver, **options)`` run to the end.
    ``strict=True`` raises :class:`UnstableError` instead of returning an unsuccessful
    solution. Unknown options raise :class:`InvalidOptionError` listing the allowed ones.
    """
    if solver is None:
        solver = _default_solver(problem)
    entry = _resolved.get(((type(problem), type(solver)), False))
    if entry is None or _seen_methods[0] != len(_solve.methods) or _seen_methods[1] != len(_init.methods):
        entry = _resolve(problem, solver, False)
    impl, allowed, kind, drop_progress, checks = entry
    if checks:
        _check_before_start(problem, solver)
    if options:
        _check_options(options, allowed, problem, solver)
    if kind == "cache":
        return _start(impl, problem, solver, options).solve()
    if kind == "init":
        integrator = _start(impl, problem, solver, options)
        integrator.run()
        return integrator.solution()
    strict = False
    if options:
        strict = options.pop("strict", False)
        if drop_progress:
            options.pop("progress", None)
    solution = impl(problem, solver, **options)
    if strict and not solution.successful:
        raise UnstableError(f"{type(solver).__name__} ended with {solution.retcode}: {solution.message}",
                            step=solution.stats.get("steps"))
    return solution


def init(problem, solver=None, /, **options):
    """Set up what a pair keeps between steps or solves: an Integrator or a :class:`SolveCache`.

    For a time problem with a stepping solver: an :class:`~toolkit.Integrator` to step, run and
    checkpoint. Integrator options (every method takes them): ``progress`` (tqdm bar; off when
    output is not a terminal), ``callbacks`` (a Callback or a list), ``checkpoint`` (path),
    ``checkpoint_every`` (steps), ``checkpoint_seconds`` (wall seconds), ``strict``.

    For any other pair: a :class:`SolveCache` (``cache.update(**changes)``, ``cache.solve()``),
    the family's own when it registered one with ``_init``, else the generic one; ``options``
    are then the method's solve options.
    """
    if solver is None:
        solver = _default_solver(problem)
    impl, allowed, _, _, checks = _resolve(problem, solver, True)
    if checks:
        _check_before_start(problem, solver)
    _check_options(options, allowed, problem, solver)
    return _start(impl, problem, solver, options)


def _start(impl, problem, solver, options):
    if impl is SolveCache:
        return SolveCache(problem, solver, **options)
    if not isinstance(problem, TimeProblem):  # a family's own cache: options are solve options
        cache = impl(problem, solver)
        if not isinstance(cache, SolveCache):
            raise TypeError(f"the _init method for ({type(problem).__name__}, {type(solver).__name__}) "
                            f"returned a {type(cache).__name__}; a steady problem's _init returns a tk.SolveCache")
        cache.options = dict(options)
        return cache
    common = {k: options[k] for k in INTEGRATOR_OPTIONS if k in options}
    own = {k: v for k, v in options.items() if k not in INTEGRATOR_OPTIONS}
    integrator = impl(problem, solver, **own)
    integrator._options = own
    integrator.configure(**common)
    return integrator


# ----------------------------------------------------------------------------------------
# Composed solvers: fields of a problem or solver that hold another solver.

_held_ok: set = set()


def _check_before_start(problem, solver) -> None:
    """What a pair with held solvers or a memory estimate checks before it runs (slow path)."""
    check_held(problem, solver)
    memory.check_memory(problem, solver)


def check_held(problem, solver) -> None:
    """Check every held solver (``held_solvers`` of the problem's and the solver's class) can serve
    its inner problem; raise :class:`IncompatiblePairError` naming the field otherwise.

    ``held_solvers = {"potential": PotentialEnergy}`` on a class says: the field ``potential``
    holds a solver that the outer method will run on ``PotentialEnergy`` problems (through
    ``tk.init`` / ``tk.solve``). ``None`` in such a field means "not set" and is left to the
    outer method.
    """
    for owner in (problem, solver):
        for name, inner in type(owner).held_solvers.items():
            held = getattr(owner, name, None)
            if held is None:
                continue
            key = (type(owner), name, type(held))
            if key in _held_ok and _seen_methods == [len(_solve.methods), len(_init.methods)]:
                continue
            inner_types = inner if isinstance(inner, tuple) else (inner,)
            if not isinstance(held, Solver):
                raise IncompatiblePairError(
                    f"{type(owner).__name__}.{name} must hold a solver of {_names(inner_types)}, got a "
                    f"{type(held).__name__}; solvers that can: {_names(_serving(inner_types)) or 'none registered'}")
            accepted = problems_for(held)
            if not any(issubclass(t, p) for t in inner_types for p in accepted):
                raise IncompatiblePairError(
                    f"{type(owner).__name__}.{name} = {type(held).__name__} cannot serve "
                    f"{_names(inner_types)}: {type(held).__name__} accepts "
                    f"{_names(accepted) or 'no registered problem'}. Solvers that serve "
                    f"{_names(inner_types)}: {_names(_serving(inner_types)) or 'none registered'}")
            _held_ok.add(key)


def _serving(inner_types) -> list[type]:
    return _unique(s for t in inner_types for s in solvers_for(t))


def composed() -> list[tuple[type, str, type, list[type]]]:
    """Every declared held-solver field: ``(owner class, field, inner problem type, solver types
    that can fill it)``, read from the registered problem and solver classes."""
    owners = _unique(t for pair in compatibility() for t in pair)
    rows = []
    for owner in owners:
        for name, inner in owner.held_solvers.items():
            inner_types = inner if isinstance(inner, tuple) else (inner,)
            for t in inner_types:
                rows.append((owner, name, t, solvers_for(t)))
    return rows


# ----------------------------------------------------------------------------------------
# Compatibility, read from the registered methods.

def _expand(hint) -> list[type]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or isinstance(hint, types.UnionType):
        return [t for arg in typing.get_args(hint) for t in _expand(arg)]
    return [hint] if isinstance(hint, type) else []


def _registered_pairs(function) -> list[tuple[type, type]]:
    pairs = []
    for method in function.methods:
        hints = method.signature.types
        if len(hints) != 2:
            continue
        for ptype in _expand(hints[0]):
            for stype in _expand(hints[1]):
                if not getattr(ptype, "meta", False) and (ptype, stype) not in pairs:
                    pairs.append((ptype, stype))
    return pairs


def compatibility() -> list[tuple[type, type]]:
    """Every registered (problem type, solver type) pair, ``_solve`` and ``_init`` methods alike."""
    pairs = _registered_pairs(_solve)
    pairs += [p for p in _registered_pairs(_init) if p not in pairs]
    return sorted(pairs, key=lambda p: (p[0].__module__, p[0].__name__, p[1].__name__))


def solvers_for(problem) -> list[type]:
    """Solver types with a method for ``problem`` (an instance or a class)."""
    ptype = problem if isinstance(problem, type) else type(problem)
    return _unique(s for p, s in compatibility() if issubclass(ptype, p))


def problems_for(solver) -> list[type]:
    """Problem types ``solver`` (an instance or a class) has a method for."""
    stype = solver if isinstance(solver, type) else type(solver)
    return _unique(p for p, s in compatibility() if issubclass(stype, s))


def _unique(items) -> list:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def is_time_pair(ptype: type, stype: type) -> bool:
    """Whether the pair has an ``_init`` method (can be stepped and checkpointed)."""
    return issubclass(ptype, TimeProblem) and _lookup(_init, ptype, stype) is not None
