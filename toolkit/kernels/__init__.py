"""Numba kernels shared by several families: CSR SpMV and Chebyshev steps (:mod:`.sparse`),
cell and Verlet neighbour lists (:mod:`.neighbors`), and row kernels run serially or spread over
threads from one build (:mod:`.rows`).

Every kernel is ``@njit(cache=True, nogil=True)``: arrays and scalars in, arrays and a status
code out; no globals, hyperparameters as arguments. Each has a NumPy/SciPy reference that the
tests compare against.

Practical notes learned writing the families' kernels:

* numba wants a ``set`` for ``fastmath``: write ``@njit(fastmath=set(FASTMATH))``.
* Index from 0 inside hot loops: ``x[start + i]`` with a run-time ``start`` makes numba check for
  negative indices on every access, which stops vectorisation; pass a slice ``x[start:stop]`` and
  index it from 0 (2-4x faster in the strain-signal window features). Inside the hottest loops a
  slice is not free either: each costs an atomic reference-count pair, so the D3Q19 AA kernel
  indexes ``f[q, u + i]`` with an unsigned (``np.uint64``) row offset ``u`` instead, which needs
  no wraparound check and still vectorises.
* numba runs LLVM without its SLP vectoriser: only loops vectorise, so keep hot loops long and
  flat (the KPM "diagonal pieces" step beat the CSR step's short per-nonzero loop over S vectors
  by 2x for that reason).
* ``error_model="numpy"`` for kernels with float divisions: the default Python error model keeps a
  ZeroDivisionError branch per division, which blocks vectorisation (the LBM fast paths).
* numba's on-disk cache is per function: a kernel that calls a kernel from another file keeps the
  old callee after that file changes (seen as ``SystemError: ... returned a result with an
  exception set``). After editing a shared kernel, delete the caches:
  ``find . -name '*.nbi' -delete -o -name '*.nbc' -delete``. Clean checkouts (CI) are unaffected.
* numba's on-disk cache keys a function by its module, qualified name and first line, and its
  index key by signature and bytecode: the target options are not part of it. A serial and a
  ``parallel=True`` twin jitted from the same Python function therefore share one cache entry,
  and whichever compiles first is what the other loads from then on (the parallel LBM kernels ran
  serial code for that reason). Give a twin its own Python function, or write the kernel over a
  range of rows and let :class:`.rows.RowKernel` spread it over threads (no twin at all).
* A serial kernel that calls a ``parallel=True`` one, loaded from the on-disk cache, does not start
  numba's threading layer (a parallel dispatcher does that when it compiles or loads), and its first
  call can crash the process: a module holding such a caller calls ``numba.get_num_threads()`` at
  import, which starts the layer (``solvers/molecule/kernels.py``).
* ``prange`` around a large loop body compiles slowly: numba's parfor passes took 10–46 s for
  each D3Q19 lattice Boltzmann kernel against 3.5–8 s serial. :class:`.rows.RowKernel` keeps the
  body serial and calls it per thread through a first-class function pointer.
"""

#: The fastmath flags kernels may use: they keep NaN/Inf checks working (no ``nnan``/``ninf``).
FASTMATH = frozenset({"nsz", "arcp", "contract", "reassoc"})
