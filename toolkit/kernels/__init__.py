"""Numba kernels shared by several families (CSR SpMV, cell lists, FFT helpers).

Every kernel is ``@njit(cache=True, nogil=True)``: arrays and scalars in, arrays and a status
code out; no globals, hyperparameters as arguments. Each has a NumPy/SciPy reference that the
tests compare against.
"""

#: The fastmath flags kernels may use: they keep NaN/Inf checks working.
FASTMATH = frozenset({"nsz", "arcp", "contract", "reassoc"})
