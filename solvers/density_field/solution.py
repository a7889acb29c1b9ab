"""Solutions of the density-field family: trajectories, minima and saddle points."""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit.conventions import attrs, index
from toolkit.conventions import reduced as _reduced

__all__ = ["FieldSolution", "RelaxationSolution", "BarrierSolution", "draw_field"]

_AXES = ("x", "y", "z")

# The family's reduced units (problems.density_field: lengths in units of the interaction range,
# energies in units of the interaction strength); see toolkit.conventions.
_LENGTH = "the functional's length unit (the interaction range R)"
_ENERGY = "the functional's energy unit (the interaction strength)"
_TIME = "the time unit of the dynamics (mobility 1 in units of the length and energy units)"
_CF = {"phi": attrs("1", "density phi"), "free_energy": _reduced("free energy F", "ε", _ENERGY),
       "times": _reduced("time", "τ", _TIME), "iterations": index("iteration"),
       "residual": _reduced("residual max |dF/dphi|", "ε", _ENERGY),
       "eigenvalues": _reduced("Hessian eigenvalue", "ε", _ENERGY), "mode": attrs("1", "unstable mode"),
       "path_energy": _reduced("free energy along the path", "ε", _ENERGY),
       "radius": _reduced("distance r from the droplet centre", "ℓ", _LENGTH),
       "profile": attrs("1", "radial density profile phi(r)"), "eig": index("eigenvalue index"),
       "image": index("image along the path")}


def _grid_coordinates(solution) -> dict:
    """``x``, ``y``, ``z``: the grid points of the problem's periodic box (reduced lengths)."""
    field = solution.problem.field
    return {axis: (axis, values, _reduced(axis, "ℓ", _LENGTH))
            for axis, values in zip(_AXES, field.coordinates())}


def draw_field(phi, field, ax=None, title=""):
    """A line (1D), an image (2D) or the middle z-slice (3D) of ``phi``, lengths in the
    functional's reduced unit ℓ (the interaction range)."""
    from toolkit.plotting import DIMENSIONLESS, label, new_axes, reduced

    fig, ax, _ = new_axes(ax, figsize=(4.8, 4.2))
    if phi.ndim == 1:
        ax.plot(field.coordinates()[0], phi)
        ax.set_xlabel(label("x", reduced("ℓ")))
        ax.set_ylabel(label("density φ", DIMENSIONLESS))
    else:
        image = phi if phi.ndim == 2 else phi[:, :, phi.shape[2] // 2]
        extent = (0, field.length[1], 0, field.length[0])
        im = ax.imshow(image, origin="lower", extent=extent, cmap="viridis")
        ax.figure.colorbar(im, ax=ax, label=label("density φ", DIMENSIONLESS))
        ax.set_xlabel(label("y", reduced("ℓ")))
        ax.set_ylabel(label("x", reduced("ℓ")))
        if phi.ndim == 3:
            title = f"{title} (mid z-slice)" if title else "mid z-slice"
    ax.set_title(title or "density field φ")
    return ax


class FieldSolution(tk.Solution):
    """A Langevin trajectory: ``phi`` frames at ``times`` and the free energy of each frame."""

    times: np.ndarray
    phi: np.ndarray
    free_energy: np.ndarray

    def __post_init__(self):
        self.dims = {"times": ("time",), "free_energy": ("time",),
                     "phi": ("time",) + _AXES[: self.phi.ndim - 1]}

    coords = {"time": "times"}
    cf = _CF
    _coordinates = _grid_coordinates

    @property
    def final(self) -> np.ndarray:
        return self.phi[-1]

    def plot(self, ax=None):
        """The last frame's density field (reduced units: lengths ℓ, time τ, free energy ε)."""
        return draw_field(self.final, self.problem.field, ax,
                          f"φ at t = {self.times[-1]:g} τ, F = {self.free_energy[-1]:.4g} ε")


class RelaxationSolution(tk.Solution):
    """A local minimum ``phi``; ``free_energy`` and ``residual`` (max |δF/δphi|) at each check."""

    phi: np.ndarray
    iterations: np.ndarray
    free_energy: np.ndarray
    residual: np.ndarray

    compare_fields = ("phi",)

    def __post_init__(self):
        self.dims = {"phi": _AXES[: self.phi.ndim], "iterations": ("check",),
                     "free_energy": ("check",), "residual": ("check",)}

    coords = {"check": "iterations"}
    cf = _CF
    _coordinates = _grid_coordinates

    def plot(self, ax=None):
        """The relaxed density field (reduced units: lengths ℓ, free energy ε)."""
        F = self.free_energy[-1] if self.free_energy.size else float("nan")
        return draw_field(self.phi, self.problem.field, ax, f"local minimum of F, F = {F:.5g} ε")


class BarrierSolution(tk.Solution):
    """A saddle point: ``phi`` on the grid, the ``barrier`` ΔF, its unstable ``mode``.

    ``eigenvalues`` are the lowest Hessian eigenvalues at the saddle (exactly one negative
    for a nucleation saddle); ``path_energy`` the energies along the converged string (empty
    for single-state methods); ``radius``/``profile`` the radial profile about the droplet
    centre; ``residual`` the final max |δF/δphi|.

    A search that ends without a critical point to report (it left the functional's domain, or
    the pair cannot treat the problem) has empty ``eigenvalues`` and a zero ``mode``; ``phi`` is
    then its last good state (the starting guess, or the last iterate inside the domain), with
    that state's ``barrier`` and ``residual``. No field of a result is ever NaN.
    """

    phi: np.ndarray
    barrier: float
    eigenvalues: np.ndarray
    mode: np.ndarray
    residual: float
    path_energy: np.ndarray
    radius: np.ndarray
    profile: np.ndarray

    compare_fields = ("phi",)

    def __post_init__(self):
        axes = _AXES[: self.phi.ndim]
        self.dims = {"phi": axes, "mode": axes, "eigenvalues": ("eig",), "path_energy": ("image",),
                     "radius": ("r",), "profile": ("r",)}

    coords = {"r": "radius"}
    cf = _CF
    _coordinates = _grid_coordinates

    @property
    def negative_modes(self) -> int:
        return int(np.sum(self.eigenvalues < -1e-8))

    def plot(self, ax=None):
        """The saddle's density field and, without ``ax``, the free energy along the string (or the
        radial profile about the droplet centre); reduced units ℓ and ε. Returns the field's axes."""
        from toolkit.plotting import DIMENSIONLESS, finish, label, new_axes, reduced

        fig, axes, created = new_axes(ax, figsize=(10, 4.2), ncols=2)
        if not created:
            axes = [ax, None]
        draw_field(self.phi, self.problem.field, axes[0], f"saddle point, ΔF = {self.barrier:.4g} ε")
        if axes[1] is not None:
            if self.path_energy.size:
                axes[1].plot(np.arange(len(self.path_energy)), self.path_energy, "o-")
                axes[1].set_xlabel(label("image along the string", "index"))
                axes[1].set_ylabel(label("F − F(metastable)", reduced("ε")))
                axes[1].set_title("free energy along the minimum-energy path")
            else:
                axes[1].plot(self.radius, self.profile)
                axes[1].set_xlabel(label("distance r from the centre", reduced("ℓ")))
                axes[1].set_ylabel(label("φ(r)", DIMENSIONLESS))
                axes[1].set_title("radial profile of the droplet")
            finish(fig, f"nucleation barrier ({type(self.solver).__name__})")
        return axes[0]
