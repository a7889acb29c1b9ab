"""``FluidSolution``: density, velocity and vorticity at the saved steps; obstacle force."""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit.conventions import attrs
from toolkit.conventions import reduced as _reduced

__all__ = ["FluidSolution", "vorticity"]

# Lattice units (problems.lattice_fluid: Δx = Δt = 1, reference density ρ0 = 1); see toolkit.conventions.
_DX, _DT, _RHO = "the lattice spacing", "the lattice time step", "the reference density"
_CF = {"step": _reduced("time", "Δt", _DT), "density": _reduced("density", "ρ0", _RHO),
       "velocity": _reduced("velocity", "(Δx/Δt)", "lattice units: the lattice spacing per time step"),
       "vorticity": _reduced("vorticity", "(1/Δt)", _DT), "solid": attrs("1", "solid node (1) or fluid node (0)"),
       "force": _reduced("force on the solid (momentum exchange)", "(ρ0 Δx^(D+1)/Δt^2)",
                         "lattice units, D the number of dimensions")}


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
    coords = {"time": "step"}
    cf = _CF

    def _coordinates(self):
        return {axis: (axis, np.arange(n), _reduced(axis, "Δx", _DX))
                for axis, n in zip(("x", "y", "z"), self.solid.shape)}

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
        """Speed with streamlines (2D), or on the mid-plane z = nz/2 with in-plane streamlines (3D),
        in lattice units (Δx = Δt = 1). Without ``ax``, beside it the reference where one exists: a
        lid-driven cavity's centreline profiles against Ghia, Ghia & Shin (1982) at Re = 100 or
        1000 (:mod:`.ghia`), a force-driven channel's profile against Poiseuille's parabola.
        Returns the speed map's axes."""
        from toolkit.plotting import finish, new_axes

        reference = _reference_of(self) if ax is None else None
        fig, axes, created = new_axes(ax, figsize=(11.5, 4.4) if reference else (6.5, 4.4),
                                      ncols=2 if reference else 1)
        main = axes[0] if reference else axes
        _draw_speed(self, main, frame)
        if reference:
            reference[0](self, axes[1], frame)
            finish(fig, reference[1])
        return main


# -- pictures (FluidSolution.plot) ------------------------------------------------------------------

def _draw_speed(solution, ax, frame):
    from toolkit.plotting import label, reduced

    u = solution.velocity[frame]
    solid = solution.solid
    step = int(solution.step[frame])
    if u.ndim == 4:
        mid = u.shape[2] // 2
        u = u[:, :, mid, :2]
        solid = solid[:, :, mid]
        ax.set_title(f"speed on the mid-plane z = {mid}, step {step}")
    else:
        ax.set_title(f"speed and streamlines, step {step}")
    speed = np.sqrt((u ** 2).sum(axis=-1))
    speed = np.where(solid, np.nan, speed)
    nx, ny = speed.shape
    image = ax.imshow(speed.T, origin="lower", cmap="viridis", extent=(-0.5, nx - 0.5, -0.5, ny - 0.5))
    ax.figure.colorbar(image, ax=ax, label=label("speed |u|", reduced("Δx/Δt")))
    if nx > 2 and ny > 2 and np.any(speed[~solid] > 0):
        x, y = np.arange(nx), np.arange(ny)
        ax.streamplot(x, y, u[..., 0].T, u[..., 1].T, color="w", linewidth=0.6, density=1.0)
    ax.set_xlabel(label("x", reduced("Δx")))
    ax.set_ylabel(label("y", reduced("Δx")))


def _kinds(problem) -> dict:
    return {face: spec[0] for face, spec in (problem.boundaries or {}).items()}


def _cavity_reynolds(solution):
    """Re = U n / ν of a 2-d square lid-driven cavity (walls, lid y+ moving along x), else None."""
    p = solution.problem
    b = p.boundaries or {}
    if solution.solid.ndim != 2 or solution.solid.any() or p.shape[0] != p.shape[1]:
        return None
    if _kinds(p) != {"x-": "wall", "x+": "wall", "y-": "wall", "y+": "moving_wall"}:
        return None
    lid = np.asarray(b["y+"][1], dtype=float)
    if lid.size < 1 or lid[0] == 0 or np.any(lid[1:] != 0):
        return None
    return float(lid[0]) * p.shape[0] / p.viscosity, float(lid[0])


def _channel_force(solution):
    """g of a 2-d channel periodic in x with walls on y, driven by a body force along x, else None."""
    p = solution.problem
    if solution.solid.ndim != 2 or solution.solid.any() or p.force is None:
        return None
    if _kinds(p) != {"x-": "periodic", "x+": "periodic", "y-": "wall", "y+": "wall"}:
        return None
    g = np.asarray(p.force, dtype=float).ravel()
    if g.size != 2 or g[0] == 0 or g[1] != 0:
        return None
    return float(g[0])


def _reference_of(solution):
    """(draw(solution, ax, frame), suptitle) of the reference panel for this flow, or None."""
    cavity = _cavity_reynolds(solution)
    if cavity is not None:
        re = cavity[0]
        return _draw_cavity_profiles, f"lid-driven cavity, Re = {re:.4g} ({type(solution.solver).__name__})"
    if _channel_force(solution) is not None:
        return _draw_poiseuille, f"force-driven channel ({type(solution.solver).__name__})"
    return None


def _draw_cavity_profiles(solution, ax, frame):
    """u_x/U along the vertical centreline and u_y/U along the horizontal one, with Ghia's points."""
    from toolkit.plotting import DIMENSIONLESS, label

    from . import ghia

    re, lid = _cavity_reynolds(solution)
    u = solution.velocity[frame]
    n = u.shape[0]
    pos = np.concatenate([[0.0], (np.arange(n) + 0.5) / n, [1.0]])
    if n % 2:
        ucol, vrow = u[n // 2, :, 0], u[:, n // 2, 1]
    else:
        ucol = 0.5 * (u[n // 2 - 1, :, 0] + u[n // 2, :, 0])
        vrow = 0.5 * (u[:, n // 2 - 1, 1] + u[:, n // 2, 1])
    ax.plot(pos, np.concatenate([[0.0], ucol, [lid]]) / lid, color="C0", label="u_x/U on x = L/2 (LB)")
    ax.plot(pos, np.concatenate([[0.0], vrow, [0.0]]) / lid, color="C1", label="u_y/U on y = L/2 (LB)")
    match = [k for k in ghia.U if abs(re / k - 1.0) < 0.01]
    if match:
        k = match[0]
        ax.plot(ghia.U[k][:, 0], ghia.U[k][:, 1], "ks", ms=4, mfc="none",
                label=f"Ghia, Ghia & Shin (1982) u_x, Re = {k}")
        ax.plot(ghia.V[k][:, 0], ghia.V[k][:, 1], "k^", ms=4, mfc="none",
                label=f"Ghia, Ghia & Shin (1982) u_y, Re = {k}")
        ax.set_title(f"centreline velocities against Ghia et al., step {int(solution.step[frame])}")
    else:
        ax.set_title(f"centreline velocities (Ghia et al. tabulate Re = 100, 1000 only), step "
                     f"{int(solution.step[frame])}")
    ax.axhline(0.0, color="0.8", lw=0.6, zorder=0)
    ax.set_xlabel(label("position along the centreline, y/L or x/L", DIMENSIONLESS))
    ax.set_ylabel(label("velocity / lid speed U", DIMENSIONLESS))
    ax.legend(fontsize=7, loc="upper left")


def _draw_poiseuille(solution, ax, frame):
    """The x-averaged u_x(y) against u_x(y) = g/(2ν) (y + 1/2)(H − 1/2 − y) (walls half-way)."""
    from toolkit.plotting import REFERENCE_STYLE, label, reduced

    g = _channel_force(solution)
    u = solution.velocity[frame]
    H = u.shape[1]
    y = np.arange(H, dtype=float)
    ax.plot(y, u[..., 0].mean(axis=0), "o", ms=4, label=f"LB, step {int(solution.step[frame])}")
    fine = np.linspace(-0.5, H - 0.5, 200)
    nu = solution.problem.viscosity
    ax.plot(fine, g / (2 * nu) * (fine + 0.5) * (H - 0.5 - fine), label="Poiseuille (steady, analytic)",
            **REFERENCE_STYLE)
    ax.set_xlabel(label("y", reduced("Δx")))
    ax.set_ylabel(label("u_x (mean over x)", reduced("Δx/Δt")))
    ax.set_title("velocity profile across the channel")
    ax.legend(fontsize=8)
