"""Solutions of the density-field family: trajectories, minima and saddle points."""

from __future__ import annotations

import numpy as np

import toolkit as tk

__all__ = ["FieldSolution", "RelaxationSolution", "BarrierSolution", "draw_field"]

_AXES = ("x", "y", "z")


def draw_field(phi, field, ax=None, title=""):
    """A line (1D), an image (2D) or the middle z-slice (3D) of ``phi``."""
    import matplotlib.pyplot as plt

    ax = ax or plt.figure(figsize=(4.5, 4)).gca()
    if phi.ndim == 1:
        ax.plot(field.coordinates()[0], phi)
        ax.set_xlabel("x")
        ax.set_ylabel("phi")
    else:
        image = phi if phi.ndim == 2 else phi[:, :, phi.shape[2] // 2]
        extent = (0, field.length[1], 0, field.length[0])
        im = ax.imshow(image, origin="lower", extent=extent, cmap="viridis")
        ax.figure.colorbar(im, ax=ax, label="phi")
        ax.set_xlabel("y")
        ax.set_ylabel("x")
    ax.set_title(title)
    return ax


class FieldSolution(tk.Solution):
    """A Langevin trajectory: ``phi`` frames at ``times`` and the free energy of each frame."""

    times: np.ndarray
    phi: np.ndarray
    free_energy: np.ndarray

    def __post_init__(self):
        self.dims = {"times": ("time",), "free_energy": ("time",),
                     "phi": ("time",) + _AXES[: self.phi.ndim - 1]}

    @property
    def final(self) -> np.ndarray:
        return self.phi[-1]

    def plot(self, ax=None):
        return draw_field(self.final, self.problem.field, ax,
                          f"t = {self.times[-1]:g}, F = {self.free_energy[-1]:.4g}")


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

    def plot(self, ax=None):
        F = self.free_energy[-1] if self.free_energy.size else float("nan")
        return draw_field(self.phi, self.problem.field, ax, f"minimum, F = {F:.5g}")


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

    @property
    def negative_modes(self) -> int:
        return int(np.sum(self.eigenvalues < -1e-8))

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        else:
            axes = [ax, None]
        draw_field(self.phi, self.problem.field, axes[0], f"saddle, ΔF = {self.barrier:.4g}")
        if axes[1] is not None:
            if self.path_energy.size:
                axes[1].plot(self.path_energy, "o-")
                axes[1].set_xlabel("image")
                axes[1].set_ylabel("F - F(metastable)")
            else:
                axes[1].plot(self.radius, self.profile)
                axes[1].set_xlabel("r")
                axes[1].set_ylabel("phi(r)")
        return axes[0]
