"""Lattice Boltzmann fluids: ``LatticeFluid`` and its builders (the "fluid" family).

A weakly compressible Newtonian fluid in lattice units (Δx = Δt = 1, c_s² = 1/3) evolved
by the lattice Boltzmann equation

    f_i(x + c_i, t + 1) = f_i(x, t) + Ω_i(f) + S_i,

whose kinematic viscosity is ν = c_s² (τ − 1/2) (Chen & Doolen, Annu. Rev. Fluid Mech. 30,
329 (1998), doi:10.1146/annurev.fluid.30.1.329). The problem is data and validation only;
the collision models (BGK, TRT, MRT) are the solvers in ``solvers.lattice_boltzmann``.

Boundaries are given per face (``"x-"``, ``"x+"``, ``"y-"``, ``"y+"`` and, in 3D, ``"z-"``,
``"z+"``)::

    "periodic"                       both faces of an axis together (the default)
    "wall"                           no-slip wall, half-way bounce-back
    ("moving_wall", (ux, uy[, uz]))  bounce-back with the wall velocity (Ladd 1994)
    ("velocity", (ux, uy[, uz]))     velocity inlet (non-equilibrium extrapolation)
    ("parabolic_inlet", (ux, uy[, uz]))  velocity inlet with a parabolic profile of peak u across
                                     the face's walled directions (zero on the walls)
    ("pressure", rho)                pressure outlet at density rho (p = rho c_s²)

Walls and boundary nodes lie half a cell outside the first and last fluid nodes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

import toolkit as tk
from toolkit import validate as v

__all__ = ["LatticeFluid", "LatticeUnits", "lattice_units", "periodic_box", "channel",
           "lid_driven_cavity", "cylinder_channel", "taylor_green", "FLUID_LATTICES", "MACH_WARN",
           "MACH_LIMIT", "FACES"]

#: Lattice name -> number of dimensions.
FLUID_LATTICES = {"D2Q9": 2, "D3Q19": 3, "D3Q27": 3}
#: Speed of sound in lattice units, c_s = 1/sqrt(3).
CS = 1.0 / math.sqrt(3.0)
#: Above this Mach number a warning says compressibility errors grow as Ma².
MACH_WARN = 0.1
#: Above this Mach number the problem is refused (second-order equilibria lose stability).
MACH_LIMIT = 0.5
#: Face names per dimension.
FACES = {2: ("x-", "x+", "y-", "y+"), 3: ("x-", "x+", "y-", "y+", "z-", "z+")}
_KINDS = ("periodic", "wall", "moving_wall", "velocity", "parabolic_inlet", "pressure")


def _normalise_boundary(face: str, spec, dim: int):
    """One face's boundary as ``(kind, (values...))``."""
    name = f"boundaries[{face!r}]"
    if isinstance(spec, str):
        kind, values = spec, ()
    elif isinstance(spec, (tuple, list)) and spec and isinstance(spec[0], str):
        kind, rest = spec[0], list(spec[1:])
        if len(rest) == 1 and isinstance(rest[0], (tuple, list, np.ndarray)):
            rest = list(rest[0])
        values = tuple(rest)
    elif isinstance(spec, dict) and "type" in spec:
        kind = spec["type"]
        values = spec.get("velocity", spec.get("density", ()))
        values = tuple(np.atleast_1d(values).tolist()) if not isinstance(values, tuple) else values
    else:
        raise tk.InvalidProblemError(
            f"{name} = {v.show(spec)} is not allowed: give 'periodic', 'wall', ('moving_wall', (ux, uy)), "
            "('velocity', (ux, uy)) or ('pressure', rho).")
    v.choice(f"{name} kind", kind, _KINDS)
    if kind in ("periodic", "wall"):
        if values:
            raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: {kind!r} takes no values")
        return (kind, ())
    if kind == "pressure":
        if len(values) != 1:
            raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: give ('pressure', rho) "
                                         "with one positive density")
        return (kind, (v.real_scalar(f"{name} density", values[0], lower=0, lower_open=True),))
    if len(values) != dim:
        raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: give ({kind!r}, velocity) "
                                     f"with {dim} velocity components")
    vel = tuple(v.real_scalar(f"{name} velocity[{i}]", x) for i, x in enumerate(values))
    axis = "xyz".index(face[0])
    if kind == "moving_wall" and vel[axis] != 0:
        raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: a moving wall slides along "
                                     f"its face; set the {face[0]} component of its velocity to 0")
    return (kind, vel)


def _check_mach(name: str, speed: float) -> None:
    mach = speed / CS
    if mach > MACH_LIMIT:
        raise tk.InvalidProblemError(
            f"{name} gives lattice speed {speed:.4g} (Mach {mach:.3g}), which is not allowed: "
            f"keep Ma = |u|/c_s <= {MACH_LIMIT} (|u| <= {MACH_LIMIT * CS:.3g}) for a stable run; "
            "lower the velocity and raise the resolution or the number of steps")
    if mach > MACH_WARN:
        warnings.warn(f"{name} gives Mach {mach:.3g} > {MACH_WARN}: compressibility errors grow as Ma²; "
                      "lower the lattice velocity for quantitative results", stacklevel=4)


class LatticeFluid(tk.TimeProblem):
    """A fluid on a ``shape`` lattice evolved ``steps`` lattice time steps.

    Give exactly one of ``viscosity`` (ν, lattice units) or ``tau`` (τ = 3ν + 1/2 > 1/2).
    ``density`` is a number or an array of ``shape``; ``velocity`` is ``None`` (rest), a
    vector of ``D`` components or an array of ``shape + (D,)``. ``force`` is a uniform body
    force density (D components). ``solid`` is a boolean mask of obstacle nodes (half-way
    bounce-back). Frames of density and velocity are kept every ``save_every`` steps
    (default: only the first and last).
    """

    exclusive_fields = (("viscosity", "tau"),)

    shape: tuple
    lattice: str = "D2Q9"
    viscosity: float | None = None
    tau: float | None = None
    density: object = 1.0
    velocity: object = None
    force: object = None
    solid: object = None
    boundaries: object = None
    steps: int = 100
    save_every: int | None = None

    def _validate(self):
        self._set("lattice", v.choice("lattice", self.lattice, tuple(FLUID_LATTICES)))
        dim = FLUID_LATTICES[self.lattice]
        shape = v.shape_tuple("shape", self.shape, ndim=dim)
        self._set("shape", shape)
        both = self.viscosity is not None and self.tau is not None
        if both:  # a validated problem carries both (tk.remake, records): accept them when consistent
            tau = v.real_scalar("tau", self.tau, lower=0.5, lower_open=True)
            nu = v.real_scalar("viscosity", self.viscosity, lower=0, lower_open=True)
            if abs(3.0 * nu + 0.5 - tau) <= 1e-12 * tau:
                self._set("viscosity", None)
            else:
                raise tk.InvalidProblemError(
                    f"viscosity = {self.viscosity!r}, tau = {self.tau!r} is not allowed: they disagree "
                    "(tau = 3 viscosity + 1/2); give one of them (with tk.remake pass the other as None)")
        if (self.viscosity is None) == (self.tau is None):
            raise tk.InvalidProblemError(
                f"viscosity = {self.viscosity!r}, tau = {self.tau!r} is not allowed: give exactly one of "
                "viscosity (lattice units, > 0) or tau (> 0.5)")
        if self.tau is not None:
            tau = v.real_scalar("tau", self.tau, lower=0.5, lower_open=True)
            self._set("tau", tau)
            self._set("viscosity", (tau - 0.5) / 3.0)
        else:
            nu = v.real_scalar("viscosity", self.viscosity, lower=0, lower_open=True)
            self._set("viscosity", nu)
            self._set("tau", 3.0 * nu + 0.5)
        if self.tau < 0.5 + 1e-6:
            raise tk.InvalidProblemError(
                f"viscosity = {self.viscosity!r} (tau = {self.tau!r}) is not allowed: tau = 3 viscosity + 1/2 "
                "must exceed 0.5 + 1e-6 (viscosity > 3.3e-7) for a stable collision")
        # density
        rho = self.density
        if np.ndim(rho) == 0:
            rho = v.real_scalar("density", rho, lower=0, lower_open=True)
        else:
            rho = v.real_array("density", rho, shape=shape)
            if rho.min() <= 0:
                raise tk.InvalidProblemError(f"density = {v.show(rho)} is not allowed: every value must be > 0 "
                                             f"(minimum is {rho.min():g})")
        self._set("density", rho)
        # velocity
        u = self.velocity
        if u is not None:
            if np.ndim(u) == 1:
                u = v.real_array("velocity", u, shape=(dim,))
            else:
                u = v.real_array("velocity", u, shape=shape + (dim,))
            _check_mach("velocity", float(np.sqrt((u ** 2).sum(axis=-1)).max()))
        self._set("velocity", u)
        # force
        if self.force is not None:
            force = v.real_array("force", self.force, shape=(dim,))
            self._set("force", None if not np.any(force) else force)
        # solid mask
        if self.solid is not None:
            solid = v.bool_array("solid", self.solid, shape=shape)
            if solid.all():
                raise tk.InvalidProblemError("solid = every node is not allowed: leave some fluid nodes")
            self._set("solid", solid if solid.any() else None)
        # boundaries
        given = {} if self.boundaries is None else self.boundaries
        if not isinstance(given, dict):
            raise tk.InvalidProblemError(f"boundaries = {v.show(given)} is not allowed: give a dict face -> "
                                         f"boundary with faces among {', '.join(FACES[dim])}")
        unknown = [f for f in given if f not in FACES[dim]]
        if unknown:
            raise tk.InvalidProblemError(f"boundaries has face {', '.join(map(repr, unknown))}, which is not "
                                         f"allowed: faces of a {dim}D lattice are {', '.join(FACES[dim])}")
        bounds = {f: _normalise_boundary(f, given.get(f, "periodic"), dim) for f in FACES[dim]}
        for axis in "xyz"[:dim]:
            lo, hi = bounds[axis + "-"][0], bounds[axis + "+"][0]
            if (lo == "periodic") != (hi == "periodic"):
                raise tk.InvalidProblemError(
                    f"boundaries[{axis}-] = {lo!r}, boundaries[{axis}+] = {hi!r} is not allowed: "
                    "periodic faces come in pairs; make both periodic or neither")
        for face, (kind, values) in bounds.items():
            if kind in ("moving_wall", "velocity", "parabolic_inlet"):
                _check_mach(f"boundaries[{face!r}]", float(np.sqrt(np.sum(np.square(values)))))
        self._set("boundaries", bounds)
        self._set("steps", v.integer("steps", self.steps, lower=1))
        save = v.integer("save_every", self.save_every, lower=1, allow_none=True)
        self._set("save_every", self.steps if save is None else save)

    # -- conveniences ------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Number of space dimensions (2 or 3)."""
        return FLUID_LATTICES[self.lattice]

    @property
    def periodic(self) -> bool:
        """Whether every face is periodic."""
        return all(kind == "periodic" for kind, _ in self.boundaries.values())

    @classmethod
    def example(cls, seed: int = 0):
        rng = np.random.default_rng(seed)
        shape = (int(rng.integers(6, 10)), int(rng.integers(5, 9)))
        u = 0.01 * rng.standard_normal(shape + (2,))
        return cls(shape=shape, tau=float(rng.uniform(0.6, 1.4)), velocity=u, steps=12, save_every=4,
                   force=[1e-5, 0.0], boundaries={"y-": "wall", "y+": "wall"})



# ----------------------------------------------------------------------------------------
# units


@tk.records.register
@dataclass(frozen=True)
class LatticeUnits:
    """A conversion between physical and lattice units (Δx, Δt in physical units)."""

    dx: float
    dt: float
    viscosity: float
    velocity: float
    tau: float
    reynolds: float
    mach: float

    def __str__(self) -> str:
        return (f"dx={self.dx:g} dt={self.dt:g}: ν_lattice={self.viscosity:.4g} τ={self.tau:.4g} "
                f"u_lattice={self.velocity:.4g} Re={self.reynolds:.4g} Ma={self.mach:.3g}")


def lattice_units(*, length: float, velocity: float, viscosity: float, dx: float, dt: float) -> LatticeUnits:
    """Convert a physical flow (length L, speed U, viscosity ν, grid Δx, step Δt) to lattice units.

    ν_lb = ν Δt/Δx², u_lb = U Δt/Δx, τ = 3 ν_lb + 1/2, Re = U L/ν, Ma = u_lb/c_s (lattice Mach,
    the number that controls compressibility error, not the physical one).
    """
    length = v.real_scalar("length", length, lower=0, lower_open=True)
    velocity = v.real_scalar("velocity", velocity, lower=0)
    viscosity = v.real_scalar("viscosity", viscosity, lower=0, lower_open=True)
    dx = v.real_scalar("dx", dx, lower=0, lower_open=True)
    dt = v.real_scalar("dt", dt, lower=0, lower_open=True)
    nu = viscosity * dt / dx ** 2
    u = velocity * dt / dx
    return LatticeUnits(dx=dx, dt=dt, viscosity=nu, velocity=u, tau=3 * nu + 0.5,
                        reynolds=velocity * length / viscosity, mach=u / CS)


# ----------------------------------------------------------------------------------------
# builders


def periodic_box(shape=(64, 64), tau: float = 0.8, velocity=None, density=1.0, steps: int = 1000,
                 save_every: int | None = None, lattice: str | None = None) -> LatticeFluid:
    """A fully periodic box (2D or 3D from ``len(shape)`` unless ``lattice`` says otherwise)."""
    lattice = lattice or ("D2Q9" if len(shape) == 2 else "D3Q19")
    return LatticeFluid(shape=tuple(shape), lattice=lattice, tau=tau, velocity=velocity, density=density,
                        steps=steps, save_every=save_every)


def taylor_green(n: int = 32, tau: float = 0.8, amplitude: float = 0.01, steps: int = 500,
                 save_every: int | None = None) -> LatticeFluid:
    """The 2D Taylor–Green vortex u = U(sin kx cos ky, −cos kx sin ky) on an n×n periodic box.

    Its velocity decays as exp(−2νk²t) with k = 2π/n (Taylor & Green, Proc. R. Soc. A 158,
    499 (1937), doi:10.1098/rspa.1937.0036).
    """
    k = 2 * np.pi / n
    x = np.arange(n)[:, None] * np.ones(n)[None, :]
    y = x.T
    u = amplitude * np.stack([np.sin(k * x) * np.cos(k * y), -np.cos(k * x) * np.sin(k * y)], axis=-1)
    rho = 1.0 - amplitude ** 2 * 3 / 4 * (np.cos(2 * k * x) + np.cos(2 * k * y))
    return LatticeFluid(shape=(n, n), tau=tau, velocity=u, density=rho, steps=steps, save_every=save_every)


def channel(shape=(32, 16), tau: float = 1.0, force: float = 1e-6, steps: int = 2000,
            save_every: int | None = None, lattice: str | None = None) -> LatticeFluid:
    """A channel periodic in x with no-slip walls on the y faces, driven by a body force along x.

    Steady state (Poiseuille): u_x(y) = g/(2ν) (y + 1/2)(H − 1/2 − y) with H = shape[1].
    """
    shape = tuple(shape)
    lattice = lattice or ("D2Q9" if len(shape) == 2 else "D3Q19")
    dim = FLUID_LATTICES.get(lattice, len(shape))
    bounds = {"y-": "wall", "y+": "wall"}
    return LatticeFluid(shape=shape, lattice=lattice, tau=tau, force=[force] + [0.0] * (dim - 1),
                        boundaries=bounds, steps=steps, save_every=save_every)


def lid_driven_cavity(n: int = 64, reynolds: float = 100.0, lid_velocity: float = 0.05, steps: int = 20000,
                      save_every: int | None = None) -> LatticeFluid:
    """A square n×n cavity with walls on three sides and the lid (face y+) moving along +x.

    ν = U n / Re. Reference: Ghia, Ghia & Shin, J. Comput. Phys. 48, 387 (1982),
    doi:10.1016/0021-9991(82)90058-4.
    """
    reynolds = v.real_scalar("reynolds", reynolds, lower=0, lower_open=True)
    nu = lid_velocity * n / reynolds
    bounds = {"x-": "wall", "x+": "wall", "y-": "wall", "y+": ("moving_wall", (lid_velocity, 0.0))}
    return LatticeFluid(shape=(n, n), viscosity=nu, boundaries=bounds, steps=steps, save_every=save_every)


def cylinder_channel(shape=(160, 40), radius: float = 5.0, center=None, reynolds: float = 20.0,
                     inflow: float = 0.05, steps: int = 4000, save_every: int | None = None,
                     profile: str = "uniform") -> LatticeFluid:
    """Flow past a cylinder in a channel: velocity inlet on x-, pressure outlet on x+, walls on y.

    ``inflow`` is the mean inlet speed U; ``profile`` "uniform" or "parabolic" (peak 1.5 U, as
    in Schäfer & Turek's 2D-1 benchmark, Notes Numer. Fluid Mech. 52, 547 (1996),
    doi:10.1007/978-3-322-89849-4_39). ν = U (2r) / Re. Node (i, j) sits at (i + 1/2, j + 1/2)
    from the inlet and the lower wall; ``center`` is in those coordinates.
    """
    profile = v.choice("profile", profile, ("uniform", "parabolic"))
    nx, ny = (int(s) for s in shape)
    cx, cy = center if center is not None else (ny / 2, ny / 2 + 0.05)
    x = np.arange(nx)[:, None] + 0.5
    y = np.arange(ny)[None, :] + 0.5
    solid = (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2
    nu = inflow * 2 * radius / reynolds
    velocity = np.zeros((nx, ny, 2))
    if profile == "parabolic":
        peak = 1.5 * inflow
        inlet = ("parabolic_inlet", (peak, 0.0))
        velocity[..., 0] = peak * 4 * y * (ny - y) / ny ** 2
    else:
        inlet = ("velocity", (inflow, 0.0))
        velocity[..., 0] = inflow
    bounds = {"x-": inlet, "x+": ("pressure", 1.0), "y-": "wall", "y+": "wall"}
    velocity[solid] = 0.0
    return LatticeFluid(shape=(nx, ny), viscosity=nu, solid=solid, boundaries=bounds, velocity=velocity,
                        steps=steps, save_every=save_every)
