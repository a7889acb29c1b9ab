"""How much memory a (problem, solver) pair needs, checked before anything is allocated.

A family registers an estimate for a pair next to its method::

    @memory.estimate.dispatch
    def _(problem: LatticeFluid, solver: BGK | TRT | MRT) -> dict:
        return {"populations": 2 * q * cells * itemsize, "fields": 4 * cells * 8}

``tk.memory_estimate(problem, solver)`` returns the parts in bytes (an empty dict where the
family gave no estimate). ``tk.solve`` and ``tk.init`` refuse a pair whose estimate exceeds
the memory available now, with the estimate, its parts and the memory available, before
any array is allocated.
"""

from __future__ import annotations

import plum

from .errors import InvalidProblemError

__all__ = ["estimate", "memory_estimate", "available_memory", "check_memory", "has_estimate"]

_dispatch = plum.Dispatcher()


@_dispatch.abstract
def estimate(problem, solver):
    """Bytes the pair needs, as ``{part: bytes}`` (one method per family pair)."""


def has_estimate(ptype: type, stype: type) -> bool:
    """Whether a family registered an estimate for this pair of types."""
    try:
        estimate._resolve_method_with_cache(types=(ptype, stype))
    except plum.NotFoundLookupError:
        return False
    return True


def memory_estimate(problem, solver) -> dict[str, int]:
    """The pair's memory needs in bytes, part by part (``{}`` when the family gives none)."""
    if not has_estimate(type(problem), type(solver)):
        return {}
    return {str(k): int(v) for k, v in estimate(problem, solver).items()}


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (free plus reclaimable)."""
    import psutil

    return int(psutil.virtual_memory().available)


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def check_memory(problem, solver) -> None:
    """Refuse the pair when its estimate exceeds the available memory (InvalidProblemError)."""
    parts = memory_estimate(problem, solver)
    total = sum(parts.values())
    available = available_memory()
    if total > available:
        detail = ", ".join(f"{k} {_gib(v)}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        raise InvalidProblemError(
            f"{type(problem).__name__} with {type(solver).__name__} needs about {_gib(total)} ({detail}) but "
            f"{_gib(available)} is available; make the problem smaller (grid, lattice, atoms, samples) or "
            "lower the solver's sizes (vectors, moments, frames)")
