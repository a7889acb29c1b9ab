"""Row kernels: one serial numba kernel over a range of grid rows, run on one thread or spread
over numba's threads.

A row kernel ``rows(x0, x1, *args)`` is an ``@njit(cache=True, nogil=True)`` function that updates
the rows x0 ≤ x < x1 of a grid and returns an int64 count over them (the lattice Boltzmann kernels
count the nodes whose density went bad). Rows must be independent: no row may read what another
row of the same call writes. :class:`RowKernel` runs it on all rows in one call (serial), or
hands one contiguous run of rows per thread to :func:`spread_rows`, a ``parallel=True`` kernel
whose ``prange`` calls the row kernel's compiled code through its address (a numba first-class function, see
:class:`numba.core.types.function_type.CompileResultWAP`).

Why not a ``parallel=True`` twin of each kernel (``prange`` over x in the kernel itself), as the
lattice Boltzmann kernels had before:

* compile time: numba's parfor passes grow steeply with the size of the loop body. The D3Q19
  in-place kernels took 10–46 s each to compile with ``parallel=True`` against 3.5–8 s serial,
  which was most of the test suite's run time. Here one small ``spread_rows`` build (about a
  second) serves every row kernel with the same argument types.
* reproducibility: a twin is a second build, and fastmath let LLVM contract and reassociate the
  two builds differently (one ulp apart). Here the threads run the serial kernel's own machine
  code, so the parallel result equals the serial one bit for bit, on any number of threads.
* caching: numba's on-disk cache does not key on ``parallel=True`` (see the notes in
  :mod:`toolkit.kernels`), so twins jitted from one function loaded each other's build; there
  is no twin here to confuse.

The cost is one indirect call per thread and step. Measured against the twins (1024² D2Q9, 2
threads) it ran 5-8 % slower; the D3Q19 kernels ran the same within noise.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numba import get_num_threads, njit, prange, typeof, types
from numba.core.types.function_type import CompileResultWAP

__all__ = ["RowKernel", "spread_rows"]


@njit(cache=True, nogil=True, parallel=True)
def spread_rows(rows, n, parts, *args):
    """Σ rows(x0, x1, *args) over the rows 0 ≤ x < n cut into ``parts`` contiguous runs (one per
    thread), one run per ``prange`` iteration. ``rows`` is a first-class function: the row
    kernel's :class:`CompileResultWAP`. (``numba.get_num_threads()`` inside would keep numba from
    caching this function: "dynamic globals".)"""
    parts = max(1, min(n, parts))
    counts = np.zeros(parts, dtype=np.int64)
    for t in prange(parts):
        k = np.int64(t)                  # prange's index is unsigned: keep the bounds' arithmetic integer
        counts[t] = rows(k * n // parts, (k + 1) * n // parts, *args)
    return counts.sum()


class RowKernel:
    """A row kernel ``rows(x0, x1, *args)`` made callable as ``kernel(*args)`` over all rows.

    ``count(*args)`` gives the number of rows from the arguments (for instance ``nx``, or
    ``src.shape[1]``). Serial (``parallel=False``): one call ``rows(0, n, *args)``. Parallel:
    :func:`spread_rows` over numba's threads (``numba.set_num_threads`` sets how many), calling
    the same compiled ``rows``, so both give identical bits. Returns the summed count.
    """

    def __init__(self, rows, count: Callable[..., int], parallel: bool = False):
        self.rows = rows
        self.count = count
        self.parallel = bool(parallel)
        self._pointers: dict[tuple, CompileResultWAP] = {}

    def __call__(self, *args) -> int:
        n = int(self.count(*args))
        if not self.parallel:
            return self.rows(0, n, *args)
        return spread_rows(self.pointer(args), n, get_num_threads(), *args)

    def pointer(self, args) -> CompileResultWAP:
        """The compiled ``rows`` for the types of ``args`` as a first-class function (compiled,
        or loaded from numba's cache, on first use)."""
        key = tuple(typeof(a) for a in args)
        wap = self._pointers.get(key)
        if wap is None:
            sig = (types.int64, types.int64) + key
            self.rows.compile(sig)
            wap = self._pointers[key] = CompileResultWAP(self.rows.overloads[sig])
        return wap

    def __repr__(self) -> str:
        how = "parallel" if self.parallel else "serial"
        return f"RowKernel({self.rows.py_func.__name__}, {how})"
