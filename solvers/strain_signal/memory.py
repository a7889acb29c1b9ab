"""Memory estimates of strain-signal runs, checked before anything large is allocated.

Every strain-signal solver has ``solver.memory_estimate(problem)``: the bytes the pair holds at
its peak. :func:`check_memory` refuses a run whose estimate exceeds the memory the operating
system reports as available, with both numbers in the message, before the run allocates.
"""

from __future__ import annotations

from toolkit.memory import available_memory  # one measure of free memory for the project

__all__ = ["available_memory", "check_memory", "format_bytes"]


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check_memory(needed: float, what: str, advice: str, error: type[Exception]) -> None:
    """Raise ``error`` when ``needed`` bytes exceed the available memory (estimate and both sizes named)."""
    free = available_memory()
    if needed > free:
        raise error(f"{what} needs about {format_bytes(needed)} but {format_bytes(free)} of memory is available: "
                    f"{advice}")
