"""Domain coarsening after a quench: the length of the domains of a scalar (Ising, Z2) order field
and the exponent of its growth.

After a quench into an ordered phase with two equivalent states (a non-conserved Z2 order
parameter: the easy-axis magnetisation of an Ising-like magnet, the scalar chirality of the
triple-Q state) domains of the two states form and coarsen. Curvature-driven (Allen-Cahn) growth
gives a length ``ell(t) ~ t^(1/2)`` (Allen & Cahn, Acta Metall. 27, 1085 (1979),
doi:10.1016/0001-6160(79)90196-2; Bray, Adv. Phys. 43, 357 (1994), doi:10.1080/00018739400101505).
The chiral domains of the triangular Kondo lattice were found to grow faster, nearly linearly at
late times (Fan, Zhang & Chern, Phys. Rev. B (2024), arXiv:2403.11705), which the
authors trace to the anisotropy of the domain walls.

* :func:`order_field` -- the order per Bravais cell, (L1, L2): the chirality of the triangles whose
  first corner lies in the cell, or the spins' projection on the easy axis, averaged over the cell;
* :func:`correlation_length` -- ``ell``, the distance at which the radially averaged correlation
  ``g(r) = C(r) / C(0)``, ``C(r) = <phi(x) phi(x + r)>``, averaged over unit-wide shells of r (at
  their mean radius), of the hardened field ``phi = sign(order)``
  (Bray's review, sec. 2: the sign removes the thermal fluctuations of the amplitude inside a
  domain) first falls to 1/2; r is the shortest periodic image of each cell offset, C by FFT
  (Wiener-Khinchin). ``inf`` where g never falls to 1/2 (one domain fills the box);
  :func:`correlation_length_reference` is the direct O(N^2) sum the tests compare against;
* :func:`growth_exponent` -- the least-squares slope of log ell against log t and its standard error.
"""

from __future__ import annotations

import math

import numpy as np

import toolkit as tk

__all__ = ["ORDERS", "order_field", "correlation_length", "correlation_length_reference", "growth_exponent",
           "Coarsening"]

#: Scalar order fields :func:`order_field` reads from a frame.
ORDERS = ("chirality", "magnetisation")
_HALF = 0.5


def order_field(problem, spins, order: str = "chirality") -> np.ndarray:
    """The ``order`` (one of :data:`ORDERS`) averaged over each Bravais cell of ``problem``'s periodic
    lattice, an (L1, L2) array (site ``(i L2 + j) n_sub + s`` lies in cell (i, j))."""
    from .kernels import scalar_chirality

    if problem.lattice_vectors is None:
        raise tk.InvalidProblemError(
            "lattice_vectors = None is not allowed here: domain lengths need the periodic lattice; build the "
            "problem with kondo_triangular / classical_lattice or give lattice_vectors, lattice_shape, positions")
    if order not in ORDERS:
        raise ValueError(f"order = {order!r} is not allowed: give one of {ORDERS}")
    L1, L2 = problem.lattice_shape
    nsub = problem.sublattices
    S = np.ascontiguousarray(spins, dtype=np.float64)
    if order == "chirality":
        tri = problem.triangles
        if tri.shape[0] == 0:
            raise tk.InvalidProblemError("triangles = (0, 3) is not allowed with order='chirality': the problem "
                                         "records no triangles; give triangles or use order='magnetisation'")
        values = np.empty(tri.shape[0])
        scalar_chirality(S, tri, values)
        cells = tri[:, 0] // nsub
    else:
        values = S @ problem.anisotropy_axis
        cells = np.arange(S.shape[0]) // nsub
    total = np.bincount(cells, weights=values, minlength=L1 * L2)
    count = np.bincount(cells, minlength=L1 * L2)
    return (total / np.maximum(count, 1)).reshape(L1, L2)


def _image_distances(lattice_vectors, shape) -> np.ndarray:
    """|shortest periodic image of the offset m a1 + n a2|, (L1, L2)."""
    L1, L2 = shape
    a = np.asarray(lattice_vectors, dtype=np.float64)
    m, n = np.meshgrid(np.arange(L1), np.arange(L2), indexing="ij")
    best = np.full((L1, L2), np.inf)
    for k1 in (-1, 0, 1):
        for k2 in (-1, 0, 1):
            r = (m + k1 * L1)[..., None] * a[0] + (n + k2 * L2)[..., None] * a[1]
            best = np.minimum(best, np.sqrt(np.sum(r * r, axis=-1)))
    return best


def _half_crossing(distances, correlation) -> float:
    r = distances.ravel()
    shell = np.rint(r).astype(np.int64)                 # unit-wide shells about r = 0, 1, 2, ...
    count = np.bincount(shell)
    used = count > 0
    radii = (np.bincount(shell, weights=r)[used] / count[used])
    g = np.bincount(shell, weights=correlation.ravel())[used] / count[used]
    g = g / g[0]
    below = np.nonzero(g <= _HALF)[0]
    if below.size == 0:
        return math.inf
    k = int(below[0])
    # linear interpolation between the last shell above 1/2 and the first at or below it
    return float(radii[k - 1] + (g[k - 1] - _HALF) / (g[k - 1] - g[k]) * (radii[k] - radii[k - 1]))


def correlation_length(field, lattice_vectors) -> float:
    """ell of an (L1, L2) order field on the periodic lattice (module docstring)."""
    phi = np.sign(np.asarray(field, dtype=np.float64))
    if not np.any(phi):
        raise ValueError("field = all zeros is not allowed: an order field of zeros has no domains")
    f = np.fft.fft2(phi)
    correlation = np.fft.ifft2(f * np.conj(f)).real / phi.size
    return _half_crossing(_image_distances(lattice_vectors, phi.shape), correlation)


def correlation_length_reference(field, lattice_vectors) -> float:
    """:func:`correlation_length` by the direct sum over all pairs of cells (the tests' reference)."""
    phi = np.sign(np.asarray(field, dtype=np.float64))
    L1, L2 = phi.shape
    correlation = np.zeros((L1, L2))
    for m in range(L1):
        for n in range(L2):
            correlation[m, n] = np.mean(phi * np.roll(np.roll(phi, -m, axis=0), -n, axis=1))
    return _half_crossing(_image_distances(lattice_vectors, phi.shape), correlation)


def growth_exponent(times, lengths) -> tuple[float, float]:
    """``(z, error)``: the least-squares slope of log ell against log t and its standard error
    (finite positive points only; at least three)."""
    t = np.asarray(times, dtype=np.float64)
    ell = np.asarray(lengths, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(ell) & (t > 0) & (ell > 0)
    if np.count_nonzero(ok) < 3:
        raise ValueError(f"times, lengths give {np.count_nonzero(ok)} usable points: a growth exponent needs at "
                         "least three finite positive (t, ell) pairs")
    x, y = np.log(t[ok]), np.log(ell[ok])
    coef, cov = np.polyfit(x, y, 1, cov=True)
    return float(coef[0]), float(math.sqrt(max(cov[0, 0], 0.0)))


class Coarsening(tk.Struct):
    """Domain lengths of a run: ``time`` (frames' times), ``length`` (ell per frame, lattice
    constants), ``order`` (which field), ``window`` (first, last time of the fit), ``exponent``
    and ``exponent_error`` (the fit of :func:`growth_exponent` inside the window)."""

    time: np.ndarray
    length: np.ndarray
    order: str
    window: tuple
    exponent: float
    exponent_error: float

    def plot(self, ax=None):
        """ell against t on log-log axes with the fitted power law over its window and, for scale,
        the Allen-Cahn t^(1/2) through the window's first point."""
        from toolkit.plotting import REFERENCE_STYLE, finish, label, new_axes, reduced

        fig, ax, created = new_axes(ax)
        ok = (self.time > 0) & np.isfinite(self.length)
        ax.loglog(self.time[ok], self.length[ok], "o", ms=3, color="C0", label=f"{self.order} domains")
        t0, t1 = self.window
        inside = ok & (self.time >= t0) & (self.time <= t1)
        if np.any(inside):
            tt, ll = self.time[inside], self.length[inside]
            scale = float(np.exp(np.mean(np.log(ll) - self.exponent * np.log(tt))))
            ax.loglog(tt, scale * tt ** self.exponent, "-", color="C1",
                      label=f"fit t^z, z = {self.exponent:.2f} ± {self.exponent_error:.2f}")
            ax.loglog(tt, ll[0] * (tt / tt[0]) ** 0.5, **REFERENCE_STYLE, label="Allen-Cahn t^(1/2)")
        from matplotlib.ticker import LogLocator, ScalarFormatter

        for axis in (ax.xaxis, ax.yaxis):                      # plain numbers on the log axes
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
            axis.set_minor_formatter(ScalarFormatter())
        ax.set_xlabel(label("time t", reduced("ħ/E₀")))
        ax.set_ylabel(label("domain length ℓ", reduced("a")))
        ax.set_title("domain coarsening")
        ax.legend()
        if created:
            finish(fig)
        return fig
