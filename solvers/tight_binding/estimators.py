"""Trace estimators for KPM: which vectors carry the Chebyshev recursion.

``Tr A ~ sum_blocks w sum_s r_s^dag A r_s`` and ``A_ij ~ sum w (A r_s)_i r_s,j^*``:

* :class:`Exact` -- every unit vector (w = 1): exact up to the Chebyshev truncation; O(M^2) work.
* :class:`RandomVectors` -- S random Z2 or random-phase vectors (w = 1/S), E[r r^dag] = 1;
  error ~ S^(-1/2) (Weisse et al., Rev. Mod. Phys. 78, 275 (2006), doi:10.1103/RevModPhys.78.275).
* :class:`Probing` -- one vector per colour of a distance-k colouring (w = 1), optionally with
  random signs; error set by matrix elements between same-colour sites (Tang & Saad 2012).
* :class:`GradientProbing` -- the probing vectors, but the density matrix is the gradient of the
  stochastic grand potential with respect to H, rho = dOmega~/dH (Wang, Chern, Batista & Barros,
  J. Chem. Phys. 148, 094107 (2018), doi:10.1063/1.5017741): its error falls faster with S.

Estimators are hyperparameters (frozen, validated); the random numbers come from the KPM
solver's ``seed``.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit import validate as v

__all__ = ["Estimator", "Exact", "RandomVectors", "Probing", "GradientProbing", "vector_blocks", "probing_colors"]

_E = tk.InvalidSolverError


class Estimator(tk.Struct):
    """Base of the KPM trace estimators (hyperparameters of a solver: bad values raise InvalidSolverError)."""

    _error = _E

    #: the density matrix is the gradient of the estimated grand potential
    gradient = False


class Exact(Estimator):
    """All M unit vectors, ``block`` at a time (the deterministic reference)."""

    block: int = 64

    def _validate(self):
        self._set("block", v.integer("block", self.block, lower=1, upper=1_000_000, error=_E))


class RandomVectors(Estimator):
    """``count`` random vectors (1 to 10^9): ``kind = "z2"`` (entries +-1) or ``"phase"`` (e^{i phi}).

    The M x count block is allocated at once: ``tk.solve`` refuses a count whose vectors do not
    fit the available memory, with the estimate (:mod:`.memory`)."""

    count: int = 10
    kind: str = "z2"

    def _validate(self):
        self._set("count", v.integer("count", self.count, lower=1, upper=10**9, error=_E))
        v.choice("kind", self.kind, ("z2", "phase"), error=_E)


class Probing(Estimator):
    """One vector per colour; same-colour sites are more than ``distance`` hops apart.

    ``colors``: an (N,) int array of site colours, or None for the lattice's periodic colouring
    (problems built by ``lattice_problem``) or else a greedy distance-k colouring. ``kind``:
    signs on the vector entries, ``"z2"``, ``"phase"`` or ``"none"``. For spinful models each
    spin orbital gets its own colour (S doubles). Colours are labels: any integers, renumbered
    0, 1, ... in order. ``distance`` (0 to 10^6) past the graph's diameter colours every site
    apart (the exact trace); the colouring stops growing there, so a large distance costs no more
    than the diameter.
    """

    distance: int = 2
    colors: np.ndarray | None = None
    kind: str = "z2"

    def _validate(self):
        self._set("distance", v.integer("distance", self.distance, lower=0, upper=1_000_000, error=_E))
        if self.colors is not None:
            raw = self.colors
            try:
                arr = np.asarray(raw)
            except (TypeError, ValueError):
                arr = None                 # index_array below names what is wrong
            if arr is not None and arr.dtype.kind == "f" and arr.size and not np.all(np.abs(arr) < 2.0**53):
                raise _E(f"colors = {v.show(raw)} is not allowed: colours are integer labels; floats must be whole "
                         "numbers below 2**53 in magnitude (give an int array)")
            colors = v.index_array("colors", raw, ndim=1, lower=None, error=_E)
            if colors.size == 0:
                raise _E("colors = [] is not allowed: give one colour per site, or None")
            self._set("colors", np.unique(colors, return_inverse=True)[1].reshape(-1).astype(np.int64))
        v.choice("kind", self.kind, ("z2", "phase", "none"), error=_E)


class GradientProbing(Probing):
    """Probing vectors with the gradient estimator of the density matrix (Wang et al. 2018)."""

    gradient = True


def probing_colors(problem, est: Probing) -> np.ndarray:
    """Site colours for a probing estimator on ``problem`` (see :class:`Probing`)."""
    from .coloring import distance_coloring, lattice_coloring

    n = problem.sites
    if est.colors is not None:
        if est.colors.shape != (n,):
            raise _E(f"colors has shape {est.colors.shape}, which is not allowed: give one colour per site ({n},)")
        return est.colors
    if problem.lattice is not None and problem.lattice[2]:
        return lattice_coloring(problem.lattice[0], problem.lattice[1], est.distance, problem.hamiltonian)
    return distance_coloring(problem.hamiltonian, est.distance)


def _signs(rng, n, kind):
    if kind == "none":
        return np.ones(n)
    if kind == "z2":
        return rng.choice([-1.0, 1.0], size=n)
    return np.exp(2j * np.pi * rng.random(n))


def vector_blocks(problem, est: Estimator, seed: int, dtype):
    """Yield ``(R, weight)`` blocks (R: (M, S) C-contiguous of ``dtype``) for the estimator."""
    M = problem.size
    rng = np.random.default_rng(seed)
    if isinstance(est, Exact):
        for start in range(0, M, est.block):
            stop = min(M, start + est.block)
            R = np.zeros((M, stop - start), dtype=dtype)
            R[np.arange(start, stop), np.arange(stop - start)] = 1.0
            yield R, 1.0
        return
    if isinstance(est, RandomVectors):
        if est.kind == "z2":
            R = rng.choice([-1.0, 1.0], size=(M, est.count)).astype(dtype, copy=False)
        else:
            R = np.exp(2j * np.pi * rng.random((M, est.count)))
        yield np.ascontiguousarray(R, dtype=np.result_type(dtype, R.dtype)), 1.0 / est.count
        return
    if isinstance(est, Probing):
        colors = probing_colors(problem, est)
        if problem.spinful:
            colors = (2 * colors[:, None] + np.arange(2)[None, :]).reshape(-1)
        ncol = int(colors.max()) + 1
        z = _signs(rng, M, est.kind)
        R = np.zeros((M, ncol), dtype=np.result_type(dtype, z.dtype))
        R[np.arange(M), colors] = z
        # drop empty colours
        R = np.ascontiguousarray(R[:, np.any(R != 0, axis=0)])
        yield R, 1.0
        return
    raise _E(f"estimator = {est!r} is not allowed: use Exact(), RandomVectors(...), Probing(...) or GradientProbing(...)")
