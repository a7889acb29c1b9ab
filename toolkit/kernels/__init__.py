"""Numba kernels shared by several families: CSR SpMV and Chebyshev steps (:mod:`.sparse`),
cell and Verlet neighbour lists (:mod:`.neighbors`).

Every kernel is ``@njit(cache=True, nogil=True)``: arrays and scalars in, arrays and a status
code out; no globals, hyperparameters as arguments. Each has a NumPy/SciPy reference that the
tests compare against.

Practical notes learned writing the families' kernels:

* numba wants a ``set`` for ``fastmath``: write ``@njit(fastmath=set(FASTMATH))``.
* Index from 0 inside hot loops: ``x[start + i]`` with a run-time ``start`` makes numba check for
  negative indices on every access, which stops vectorisation; pass a slice ``x[start:stop]`` and
  index it from 0 (2-4x faster in the strain-signal window features).
* numba's on-disk cache is per function: a kernel that calls a kernel from another file keeps the
  old callee after that file changes (seen as ``SystemError: ... returned a result with an
  exception set``). After editing a shared kernel, delete the caches:
  ``find . -name '*.nbi' -delete -o -name '*.nbc' -delete``. Clean checkouts (CI) are unaffected.
"""

#: The fastmath flags kernels may use: they keep NaN/Inf checks working (no ``nnan``/``ninf``).
FASTMATH = frozenset({"nsz", "arcp", "contract", "reassoc"})
