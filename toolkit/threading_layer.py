"""Which numba threading layer runs ``parallel=True`` kernels, and whether threads may share it.

numba runs parallel kernels on one of three layers: ``tbb``, ``omp`` (OpenMP) or
``workqueue`` (its own fallback, used when neither library loads). ``workqueue`` is not
thread safe: two threads that launch parallel kernels at the same time abort the whole
process ("Terminating: Concurrent access has been detected"; numba docs, "The Threading
Layers"). A ``tk.Threads`` ensemble of a solver with parallel kernels therefore runs its
members one at a time under ``workqueue`` (see :func:`threads_plan`); processes (``tk.Processes``,
``tk.Dask``) each have their own layer and are not affected.

The layer is read from numba once a parallel kernel has run (``numba.threading_layer()``);
before that it is predicted the way numba picks it: ``NUMBA_THREADING_LAYER`` (a name, or
``default`` / ``safe`` / ``threadsafe`` / ``forksafe``) and ``NUMBA_THREADING_LAYER_PRIORITY``,
keeping the first layer whose library loads.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys

import numpy as np

__all__ = ["numba_threading_layer", "uses_parallel_kernels", "threads_plan", "WORKQUEUE_ADVICE"]

_MODULES = {"tbb": "numba.np.ufunc.tbbpool", "omp": "numba.np.ufunc.omppool",
            "workqueue": "numba.np.ufunc.workqueue"}

WORKQUEUE_ADVICE = ("numba's 'workqueue' threading layer aborts the process when two threads run parallel "
                    "kernels at once, so the members run one at a time; to run them side by side install "
                    "TBB (pip install tbb) or OpenMP (libgomp), or use tk.Processes(k) / tk.Dask()")


def _loads(layer: str) -> bool:
    """Whether numba could load ``layer``'s library in this process."""
    try:
        if layer == "tbb":
            from numba.np.ufunc import parallel

            parallel._check_tbb_version_compatible()
        importlib.import_module(_MODULES[layer])
    except (ImportError, OSError, KeyError):
        return False
    return True


def _candidates(choice: str, priority: list[str]) -> list[str]:
    """Layers numba would try, in order, for ``NUMBA_THREADING_LAYER = choice``."""
    if choice in _MODULES:
        return [choice]
    if choice == "safe":
        return ["tbb"]
    if choice == "threadsafe":
        return ["tbb", "omp"]
    if choice == "forksafe":  # GNU OpenMP is not fork safe, so Linux skips omp here
        return ["tbb"] + ([] if sys.platform.startswith("linux") else ["omp"]) + ["workqueue"]
    return list(priority)  # "default"


def numba_threading_layer() -> str | None:
    """``'tbb'``, ``'omp'`` or ``'workqueue'``: the layer in use, else the one numba would pick.

    ``None`` when numba is missing or no allowed layer can load (a parallel kernel would then
    fail with numba's own error).
    """
    try:
        import numba
        from numba import config
    except ImportError:
        return None
    try:
        return numba.threading_layer()  # set once a parallel kernel has launched the layer
    except ValueError:
        pass
    choice = str(config.THREADING_LAYER).lower()
    for layer in _candidates(choice, list(config.THREADING_LAYER_PRIORITY)):
        if _loads(layer):
            return layer
    return None


def uses_parallel_kernels(solver) -> bool:
    """Whether ``solver`` (or a solver held in one of its fields) runs numba's parallel kernels.

    True for a ``parallel`` trait or field that is true, or a ``threads`` field above one (the
    families that take ``threads`` switch to their ``parallel=True`` kernels with it).
    """
    seen = set()

    def walk(obj) -> bool:
        if id(obj) in seen or not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            return False
        seen.add(id(obj))
        if _is_true(getattr(obj, "parallel", False)) or _more_than_one(getattr(obj, "threads", 1)):
            return True
        return any(walk(getattr(obj, f.name, None)) for f in dataclasses.fields(obj))

    return walk(solver)


def _is_true(value) -> bool:
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _more_than_one(value) -> bool:
    try:
        return int(value) > 1
    except (TypeError, ValueError):
        return False


def threads_plan(solver, k: int, layer: str | None = None) -> tuple[int, str]:
    """``(threads, note)``: how many threads a ``tk.Threads(k)`` ensemble of ``solver`` may use.

    One, with :data:`WORKQUEUE_ADVICE` as the note, when the solver runs parallel kernels and
    the layer is ``workqueue``; otherwise ``k`` and an empty note. ``layer`` defaults to
    :func:`numba_threading_layer` (asked only when it matters).
    """
    if k <= 1 or not uses_parallel_kernels(solver):
        return k, ""
    if (numba_threading_layer() if layer is None else layer) == "workqueue":
        return 1, WORKQUEUE_ADVICE
    return k, ""
