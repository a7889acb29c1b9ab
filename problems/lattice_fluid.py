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
           "MACH_LIMIT", "FACES", "DENSITY_RANGE", "FORCE_LIMIT", "TAU_LIMIT", "STEPS_LIMIT",
           "sphere_nodes", "WALLS"]
#: Cylinder wall treatments of ``cylinder_channel``.
WALLS = ("interpolated", "staircase")

#: Lattice name -> number of dimensions.
FLUID_LATTICES = {"D2Q9": 2, "D3Q19": 3, "D3Q27": 3}
#: Speed of sound in lattice units, c_s = 1/sqrt(3).
CS = 1.0 / math.sqrt(3.0)
#: Above this Mach number a warning says compressibility errors grow as Ma².
MACH_WARN = 0.1
#: Above this Mach number the problem is refused (second-order equilibria lose stability).
MACH_LIMIT = 0.5
#: Lattice densities are relative to a reference density of 1: allowed range.
DENSITY_RANGE = (1e-8, 1e8)
#: Largest |force| component: Guo forcing adds F/ρ to the velocity each step, so past this a single
#: step at ρ = 1 leaves the lattice's speed range.
FORCE_LIMIT = 1.0
#: Largest relaxation time (ν = 3.3e5): beyond it the grid resolves nothing of the flow.
TAU_LIMIT = 1e6
#: Most steps of one run: each step costs at least microseconds, so more can never finish.
STEPS_LIMIT = 10 ** 10
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
    _name(f"{name} kind", kind, _KINDS)
    if kind in ("periodic", "wall"):
        if values:
            raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: {kind!r} takes no values")
        return (kind, ())
    if kind == "pressure":
        if len(values) != 1:
            raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: give ('pressure', rho) "
                                         "with one positive density")
        return (kind, (_density_scalar(f"{name} density", values[0]),))
    if len(values) != dim:
        raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: give ({kind!r}, velocity) "
                                     f"with {dim} velocity components")
    vel = tuple(v.real_scalar(f"{name} velocity[{i}]", x) for i, x in enumerate(values))
    axis = "xyz".index(face[0])
    if kind == "moving_wall" and vel[axis] != 0:
        raise tk.InvalidProblemError(f"{name} = {v.show(spec)} is not allowed: a moving wall slides along "
                                     f"its face; set the {face[0]} component of its velocity to 0")
    return (kind, vel)


def _name(name: str, value, allowed: tuple) -> str:
    """A name among ``allowed`` (any other value, arrays and containers included, refused by name)."""
    if not isinstance(value, str) or value not in allowed:
        raise tk.InvalidProblemError(f"{name} = {v.show(value)} is not allowed: choose one of "
                                     + ", ".join(map(repr, allowed)))
    return value


def _ndim(name: str, value) -> int:
    """``np.ndim(value)``, or an error naming the field for ragged nested sequences."""
    try:
        return np.ndim(value)
    except (ValueError, TypeError):
        raise tk.InvalidProblemError(f"{name} = {v.show(value)} is not allowed: give a number or a rectangular "
                                     "array (rows of equal length)") from None


def _density_scalar(name: str, value) -> float:
    lo, hi = DENSITY_RANGE
    rho = v.real_scalar(name, value, lower=0, lower_open=True)
    if not lo <= rho <= hi:
        raise tk.InvalidProblemError(
            f"{name} = {v.show(value)} is not allowed: lattice densities are relative to a reference of 1; "
            f"keep {lo:g} <= density <= {hi:g} (rescale the density, the pressure follows as rho c_s²)")
    return rho


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


def sphere_nodes(spheres: np.ndarray, shape: tuple) -> np.ndarray:
    """The nodes inside (or on) any of ``spheres`` (rows centre..., radius; node i at i + 1/2)."""
    inside = np.zeros(shape, dtype=bool)
    grids = np.meshgrid(*[np.arange(n) + 0.5 for n in shape], indexing="ij", sparse=True)
    for row in spheres:
        r2 = sum((g - c) ** 2 for g, c in zip(grids, row[:-1]))
        inside |= r2 <= row[-1] ** 2
    return inside


def _spheres(value, shape: tuple):
    """``spheres`` validated: None, or an (n, D + 1) float array of rows (centre..., radius > 0)
    each covering at least one node."""
    if value is None:
        return None
    dim = len(shape)
    if _ndim("spheres", value) == 1:
        value = [value]
    arr = v.real_array("spheres", value, ndim=2)
    if arr.shape[0] == 0 or arr.shape[1] != dim + 1:
        raise tk.InvalidProblemError(
            f"spheres = {v.show(value)} is not allowed: give one row (centre ({'x, y' if dim == 2 else 'x, y, z'}), "
            f"radius) per curved obstacle, i.e. shape (n, {dim + 1}) with n >= 1, or None")
    if not np.all(arr[:, -1] > 0):
        raise tk.InvalidProblemError(f"spheres = {v.show(value)} is not allowed: every radius (last column) must "
                                     "be > 0")
    for i, row in enumerate(arr):
        if not sphere_nodes(row[None], shape).any():
            raise tk.InvalidProblemError(
                f"spheres[{i}] = {v.show(row)} is not allowed: it covers no node of the {shape} grid (node i sits at "
                "i + 1/2), so the lattice cannot see it; move it inside the grid or enlarge it")
    return arr


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
    spheres: object = None

    def _validate(self):
        self._set("lattice", _name("lattice", self.lattice, tuple(FLUID_LATTICES)))
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
        if not self.tau <= TAU_LIMIT:
            raise tk.InvalidProblemError(
                f"viscosity = {self.viscosity!r} (tau = {self.tau!r}) is not allowed: keep tau <= {TAU_LIMIT:g} "
                f"(viscosity <= {(TAU_LIMIT - 0.5) / 3:.3g} in lattice units); a larger lattice viscosity means "
                "the grid resolves nothing: refine the grid or lengthen the lattice time step")
        if self.tau < 0.5 + 1e-6:
            raise tk.InvalidProblemError(
                f"viscosity = {self.viscosity!r} (tau = {self.tau!r}) is not allowed: tau = 3 viscosity + 1/2 "
                "must exceed 0.5 + 1e-6 (viscosity > 3.3e-7) for a stable collision")
        # density
        rho = self.density
        if _ndim("density", rho) == 0:
            rho = _density_scalar("density", rho)
        else:
            rho = v.real_array("density", rho, shape=shape)
            lo, hi = DENSITY_RANGE
            if rho.min() < lo or rho.max() > hi:
                raise tk.InvalidProblemError(
                    f"density = {v.show(rho)} is not allowed: every value must lie in [{lo:g}, {hi:g}] (lattice "
                    f"densities are relative to 1; found {rho.min():g} to {rho.max():g})")
        self._set("density", rho)
        # velocity
        u = self.velocity
        if u is not None:
            if _ndim("velocity", u) == 1:
                u = v.real_array("velocity", u, shape=(dim,))
            else:
                u = v.real_array("velocity", u, shape=shape + (dim,))
            _check_mach("velocity", float(np.sqrt((u ** 2).sum(axis=-1)).max()))
        self._set("velocity", u)
        # force
        if self.force is not None:
            force = v.real_array("force", self.force, shape=(dim,), lower=-FORCE_LIMIT, upper=FORCE_LIMIT)
            self._set("force", None if not np.any(force) else force)
        # solid mask, with the nodes of the curved obstacles
        solid = None if self.solid is None else v.bool_array("solid", self.solid, shape=shape)
        spheres = _spheres(self.spheres, shape)
        if spheres is not None:
            inside = sphere_nodes(spheres, shape)
            solid = inside if solid is None else (solid | inside)
        self._set("spheres", spheres)
        if solid is not None:
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
        self._set("steps", v.integer("steps", self.steps, lower=1, upper=STEPS_LIMIT))
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
    nu = viscosity * dt / dx / dx
    u = velocity * dt / dx
    reynolds = velocity * length / viscosity
    if not all(math.isfinite(x) for x in (nu, u, 3 * nu + 0.5, reynolds, u / CS)):
        raise tk.InvalidProblemError(
            f"length = {length!r}, velocity = {velocity!r}, viscosity = {viscosity!r}, dx = {dx!r}, dt = {dt!r} is "
            "not allowed: the lattice viscosity nu dt/dx², speed U dt/dx or Reynolds number U L/nu overflows; "
            "give physical values in consistent units")
    return LatticeUnits(dx=dx, dt=dt, viscosity=nu, velocity=u, tau=3 * nu + 0.5,
                        reynolds=reynolds, mach=u / CS)


# ----------------------------------------------------------------------------------------
# builders


def _refuse_oversize(name: str, value, nodes: int, copies: int) -> None:
    """Refuse a builder call whose arrays (``copies`` float64 values per node, the problem's
    validated copies included) exceed the memory available now, before building them."""
    from toolkit import memory

    need = int(nodes) * copies * 8
    available = memory.available_memory()
    if need > available:
        raise tk.InvalidProblemError(
            f"{name} = {v.show(value)} is not allowed: building its {nodes:,}-node fields needs about "
            f"{need / 2**30:.3g} GiB but {available / 2**30:.3g} GiB is available; use a smaller grid")


def _lattice_for(shape, lattice) -> tuple[tuple, str]:
    """A builder's grid shape and lattice name (D2Q9 for two sizes, D3Q19 for three by default)."""
    shape = v.shape_tuple("shape", shape, ndim=(2, 3))
    if lattice is None:
        return shape, ("D2Q9" if len(shape) == 2 else "D3Q19")
    return shape, _name("lattice", lattice, tuple(FLUID_LATTICES))


def periodic_box(shape=(64, 64), tau: float = 0.8, velocity=None, density=1.0, steps: int = 1000,
                 save_every: int | None = None, lattice: str | None = None) -> LatticeFluid:
    """A fully periodic box (2D or 3D from ``len(shape)`` unless ``lattice`` says otherwise)."""
    shape, lattice = _lattice_for(shape, lattice)
    return LatticeFluid(shape=shape, lattice=lattice, tau=tau, velocity=velocity, density=density,
                        steps=steps, save_every=save_every)


def taylor_green(n: int = 32, tau: float = 0.8, amplitude: float = 0.01, steps: int = 500,
                 save_every: int | None = None) -> LatticeFluid:
    """The 2D Taylor–Green vortex u = U(sin kx cos ky, −cos kx sin ky) on an n×n periodic box.

    Its velocity decays as exp(−2νk²t) with k = 2π/n (Taylor & Green, Proc. R. Soc. A 158,
    499 (1937), doi:10.1098/rspa.1937.0036).
    """
    n = v.integer("n", n, lower=1)
    amplitude = v.real_scalar("amplitude", amplitude, lower=-MACH_LIMIT * CS, upper=MACH_LIMIT * CS)
    _refuse_oversize("n", n, n * n, 12)      # x, y, u (2), rho and their validated copies
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
    shape, lattice = _lattice_for(shape, lattice)
    force = v.real_scalar("force", force)
    dim = FLUID_LATTICES[lattice]
    bounds = {"y-": "wall", "y+": "wall"}
    return LatticeFluid(shape=shape, lattice=lattice, tau=tau, force=[force] + [0.0] * (dim - 1),
                        boundaries=bounds, steps=steps, save_every=save_every)


def lid_driven_cavity(n: int = 64, reynolds: float = 100.0, lid_velocity: float = 0.05, steps: int = 20000,
                      save_every: int | None = None) -> LatticeFluid:
    """A square n×n cavity with walls on three sides and the lid (face y+) moving along +x.

    ν = U n / Re. Reference: Ghia, Ghia & Shin, J. Comput. Phys. 48, 387 (1982),
    doi:10.1016/0021-9991(82)90058-4.
    """
    n = v.integer("n", n, lower=1)
    reynolds = v.real_scalar("reynolds", reynolds, lower=0, lower_open=True)
    lid_velocity = v.real_scalar("lid_velocity", lid_velocity)
    nu = lid_velocity * n / reynolds
    bounds = {"x-": "wall", "x+": "wall", "y-": "wall", "y+": ("moving_wall", (lid_velocity, 0.0))}
    return LatticeFluid(shape=(n, n), viscosity=nu, boundaries=bounds, steps=steps, save_every=save_every)


def cylinder_channel(shape=(160, 40), radius: float = 5.0, center=None, reynolds: float = 20.0,
                     inflow: float = 0.05, steps: int = 4000, save_every: int | None = None,
                     profile: str = "uniform", wall: str = "interpolated") -> LatticeFluid:
    """Flow past a cylinder in a channel: velocity inlet on x-, pressure outlet on x+, walls on y.

    ``inflow`` is the mean inlet speed U; ``profile`` "uniform" or "parabolic" (peak 1.5 U, as
    in Schäfer & Turek's 2D-1 benchmark, Notes Numer. Fluid Mech. 52, 547 (1996),
    doi:10.1007/978-3-322-89849-4_39). ν = U (2r) / Re. Node (i, j) sits at (i + 1/2, j + 1/2)
    from the inlet and the lower wall; ``center`` is in those coordinates.

    ``wall``: "interpolated" (default) puts the cylinder's surface where the circle is
    (``LatticeFluid.spheres``: interpolated bounce-back, Bouzidi, Firdaouss & Lallemand, Phys.
    Fluids 13, 3452 (2001), doi:10.1063/1.1399290); "staircase" bounces back half-way to the
    nodes inside the circle, which shifts the surface by up to half a cell (Schäfer–Turek 2D-1 at
    10 nodes per diameter and U = 0.025: C_D +1.6 % staircase, +0.4 % interpolated).
    """
    profile = _name("profile", profile, ("uniform", "parabolic"))
    wall = _name("wall", wall, WALLS)
    nx, ny = v.shape_tuple("shape", shape, ndim=2)
    radius = v.real_scalar("radius", radius, lower=0, upper=float(max(nx, ny)))
    inflow = v.real_scalar("inflow", inflow, lower=0, lower_open=True)
    reynolds = v.real_scalar("reynolds", reynolds, lower=0, lower_open=True)
    if center is not None:
        center = tuple(v.real_array("center", center, shape=(2,)))
    _refuse_oversize("shape", (nx, ny), nx * ny, 8)    # velocity (2), solid, their copies, temporaries
    cx, cy = center if center is not None else (ny / 2, ny / 2 + 0.05)
    x = np.arange(nx)[:, None] + 0.5
    y = np.arange(ny)[None, :] + 0.5
    solid = (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2
    spheres = [(cx, cy, radius)] if wall == "interpolated" and solid.any() else None
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
                        steps=steps, save_every=save_every, spheres=spheres)
