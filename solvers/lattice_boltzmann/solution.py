"""``FluidSolution``: density, velocity and vorticity at the saved steps; obstacle force."""

from __future__ import annotations

import numpy as np

import toolkit as tk

__all__ = ["FluidSolution", "vorticity"]


def vorticity(velocity: np.ndarray) -> np.ndarray:
    """Curl of u by second-order central differences (np.gradient, lattice units).

    2D: ω = ∂u_y/∂x − ∂u_x/∂y for velocity (..., nx, ny, 2); 3D: the curl vector (..., 3).
    """
    def grad(a, axis):
        return np.gradient(a, axis=axis) if a.shape[axis] > 1 else np.zeros_like(a)

    dim = velocity.shape[-1]
    lead = velocity.ndim - 1 - dim
    axes = [lead + k for k in range(dim)]
    if dim == 2:
        return grad(velocity[..., 1], axes[0]) - grad(velocity[..., 0], axes[1])
    d = [[grad(velocity[..., i], axes[j]) for j in range(3)] for i in range(3)]
    return np.stack([d[2][1] - d[1][2], d[0][2] - d[2][0], d[1][0] - d[0][1]], axis=-1)


class FluidSolution(tk.Solution):
    """Fields at the saved steps of a lattice Boltzmann run (lattice units).

    ``step`` (frames,), ``density`` (frames, *shape), ``velocity`` (frames, *shape, D),
    ``vorticity`` (frames, *shape) in 2D or (frames, *shape, 3) in 3D, ``solid`` (*shape),
    ``force`` (frames, D): the force on the solid mask by momentum exchange (zero without
    one). Solid nodes show the reference density 1 and zero velocity.
    """

    step: np.ndarray
    density: np.ndarray
    velocity: np.ndarray
    vorticity: np.ndarray
    solid: np.ndarray
    force: np.ndarray

    compare_fields = ("density", "velocity")

    @property
    def dims(self):
        space = ("x", "y", "z")[: self.solid.ndim]
        vort = ("time",) + space if self.solid.ndim == 2 else ("time",) + space + ("component",)
        return {"step": ("time",), "density": ("time",) + space, "velocity": ("time",) + space + ("component",),
                "vorticity": vort, "solid": space, "force": ("time", "component")}

    def speed(self, frame: int = -1) -> np.ndarray:
        """|u| at a saved frame."""
        return np.sqrt((self.velocity[frame] ** 2).sum(axis=-1))

    def drag_coefficient(self, velocity: float, length: float, density: float = 1.0, frame: int = -1) -> float:
        """C_D = 2 F_x / (ρ U² L) at a saved frame (L: the diameter in 2D)."""
        return float(2 * self.force[frame, 0] / (density * velocity ** 2 * length))

    def lift_coefficient(self, velocity: float, length: float, density: float = 1.0, frame: int = -1) -> float:
        """C_L = 2 F_y / (ρ U² L) at a saved frame."""
        return float(2 * self.force[frame, 1] / (density * velocity ** 2 * length))

    def plot(self, ax=None, frame: int = -1):
        """Speed with streamlines (2D), or on the mid-plane z = nz/2 with in-plane streamlines (3D)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.figure(figsize=(6, 4)).gca()
        u = self.velocity[frame]
        solid = self.solid
        if u.ndim == 4:
            mid = u.shape[2] // 2
            u = u[:, :, mid, :2]
            solid = solid[:, :, mid]
            ax.set_title(f"speed, mid-plane z = {mid}, step {int(self.step[frame])}")
        else:
            ax.set_title(f"speed and streamlines, step {int(self.step[frame])}")
        speed = np.sqrt((u ** 2).sum(axis=-1))
        speed = np.where(solid, np.nan, speed)
        nx, ny = speed.shape
        image = ax.imshow(speed.T, origin="lower", cmap="viridis", extent=(-0.5, nx - 0.5, -0.5, ny - 0.5))
        plt.colorbar(image, ax=ax, label="|u| (lattice units)")
        if nx > 2 and ny > 2 and np.any(speed[~solid] > 0):
            x, y = np.arange(nx), np.arange(ny)
            ax.streamplot(x, y, u[..., 0].T, u[..., 1].T, color="w", linewidth=0.6, density=1.0)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return ax
