"""Density fields with long-range (Kac) interactions: relaxation, Langevin dynamics, nucleation.

The free-energy functional of a density field phi(x) on a periodic box is

    F[phi] = 1/2 ∫∫ phi(x) V(x - y) phi(y) dx dy + ∫ f(phi(x)) dx

with a non-local part ``V`` (a :class:`KacStep` of range R, or the short-range
:class:`SwiftHohenberg` operator) and a local part ``f`` (:class:`LatticeGas` entropy or
the :class:`Landau` polynomial). After Barros & Klein, "Liquid to solid nucleation via
onion structure droplets", J. Chem. Phys. 139, 174505 (2013), doi:10.1063/1.4827397:
with a repulsive Kac interaction the uniform liquid is unstable below the spinodal
``f''(phi) + min_k V(k) < 0`` to a modulated (clump / bcc-like) phase, and deep quenches
nucleate through spherically symmetric "onion" droplets.

This module holds data, validation and the problem builders (:func:`kac_landau_field`,
:func:`onion_barrier`, the bcc droplet seed, ...) only; the numerics (F, dF/dphi, Hessian-vector
products on a grid, steppers, saddle searches) live in ``solvers.density_field``. The
component classes carry their defining formulas (pointwise f, f', f'' and the analytic
Fourier transform of the interaction), which is the physics each one stands for.

Every field has a physical range (:data:`MAX_PARAMETER`, :data:`LENGTH_RANGE`, :data:`MAX_DENSITY`,
:data:`MAX_STEPS`), and a grid that would not fit the memory available is refused, naming the field
or builder argument, before anything is allocated (:func:`check_grid_memory`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

import toolkit as tk
from toolkit import validate as v

__all__ = ["KacStep", "SwiftHohenberg", "LatticeGas", "Landau", "Functional", "DensityField",
           "Relaxation", "FieldDynamics", "NucleationBarrier", "wavevectors", "MIN_POINTS_PER_RANGE",
           "kac_landau_field", "kac_lattice_gas_field", "swift_hohenberg_field", "relaxation", "onion_barrier",
           "bcc_lattice_constant", "bcc_droplet_seed", "MAX_PARAMETER", "LENGTH_RANGE", "MAX_DENSITY", "MAX_STEPS",
           "MAX_SEED", "GRID_COPIES", "check_grid_memory"]

#: The interaction range R (or a Swift-Hohenberg wavelength / 2) must span this many grid spacings.
MIN_POINTS_PER_RANGE = 3.0

# Physical ranges. The functional is written in reduced units (lengths in units of the interaction
# range, energies in units of the interaction strength), so every coupling, temperature, mobility and
# time step of order 1e6 or more means a unit error, and past these bounds F, δF/δphi or the noise
# overflow float64 on any grid (phi^4 of a density 1e77 is inf).
#: Largest magnitude of a coupling (J, eps, g, T, h), temperature, mobility or time step.
MAX_PARAMETER = 1e6
#: Allowed box lengths, interaction ranges R and Swift-Hohenberg pattern half-wavelengths pi/k0.
LENGTH_RANGE = (1e-6, 1e6)
#: Largest |density| of an initial, metastable or stable field (its F stays finite on any grid).
MAX_DENSITY = 1e6
#: Most time steps of a FieldDynamics run (a tiny 1D grid takes ~20 µs a step: 10^9 steps is ~6 hours).
MAX_STEPS = 10 ** 9
#: Seeds are stored as int64 in checkpoints and solution files.
MAX_SEED = 2 ** 63 - 1
#: Float64 copies of the grid a problem's construction holds at once (``initial`` and its conversions).
GRID_COPIES = 3


# -------------------------------------------------------------------------------------------
# Functional components (frozen, validated, records-friendly dataclasses of scalars)

@dataclasses.dataclass(frozen=True)
class KacStep:
    """Normalised step (Kac) interaction ``V(x) = J θ(R - |x|) / (volume of the R-ball)``.

    Its Fourier transform is analytic: ``J sin(kR)/(kR)`` in 1D, ``J 2 J1(kR)/(kR)`` in 2D
    (disk) and ``J 3 (sin x - x cos x)/x^3`` with ``x = kR`` in 3D (ball); ``V(0) = J``.
    ``J > 0`` is repulsive (the clump model of Barros & Klein 2013, doi:10.1063/1.4827397),
    whose negative minimum of V(k) drives the modulated phase; ``J < 0`` is attractive (the
    Kac liquid-gas model), whose minimum V(0) = J drives liquid-gas separation.
    """

    R: float
    J: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "R", v.real_scalar("R", self.R, lower=LENGTH_RANGE[0], upper=LENGTH_RANGE[1]))
        object.__setattr__(self, "J", v.real_scalar("J", self.J, lower=-MAX_PARAMETER, upper=MAX_PARAMETER))

    def hat(self, k: np.ndarray, ndim: int) -> np.ndarray:
        """V(k) at wavenumbers ``k = |k|`` for a ``ndim``-dimensional field."""
        x = np.asarray(k, dtype=np.float64) * self.R
        out = np.ones_like(x)
        nz = x > 1e-6
        xs = x[nz]
        if ndim == 1:
            out[nz] = np.sin(xs) / xs
            out[~nz] = 1 - x[~nz] ** 2 / 6
        elif ndim == 2:
            from scipy.special import j1
            out[nz] = 2 * j1(xs) / xs
            out[~nz] = 1 - x[~nz] ** 2 / 8
        else:
            out[nz] = 3 * (np.sin(xs) - xs * np.cos(xs)) / xs ** 3
            out[~nz] = 1 - x[~nz] ** 2 / 10
        return self.J * out

    def hat_min(self, ndim: int) -> tuple[float, float]:
        """(k*, V(k*)): the most negative value of V(k) (J > 0) and where it is."""
        k = np.linspace(1e-3, 20.0, 20001) / self.R
        values = self.hat(k, ndim)
        i = int(np.argmin(values))
        return float(k[i]), float(values[i])

    def range_length(self) -> float:
        return self.R


@dataclasses.dataclass(frozen=True)
class SwiftHohenberg:
    """Short-range alternative ``1/2 phi (k0^2 + ∇^2)^2 phi``: ``V(k) = (k0^2 - k^2)^2``.

    Swift & Hohenberg, Phys. Rev. A 15, 319 (1977), doi:10.1103/PhysRevA.15.319; with
    conserved (model B) dynamics this is the phase-field crystal of Elder et al. (2002).
    """

    k0: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "k0", v.real_scalar("k0", self.k0, lower=math.pi / LENGTH_RANGE[1],
                                                      upper=math.pi / LENGTH_RANGE[0]))

    def hat(self, k: np.ndarray, ndim: int) -> np.ndarray:
        k = np.asarray(k, dtype=np.float64)
        return (self.k0 ** 2 - k ** 2) ** 2

    def hat_min(self, ndim: int) -> tuple[float, float]:
        return self.k0, 0.0

    def range_length(self) -> float:
        # half a pattern wavelength plays the role of R for the resolution check
        return math.pi / self.k0


@dataclasses.dataclass(frozen=True)
class LatticeGas:
    """Lattice-gas (clump-model) entropy ``f = T [phi ln phi + (1-phi) ln(1-phi)] - h phi``, 0 < phi < 1."""

    T: float = 0.1
    h: float = 0.0
    kind = 0
    domain = (0.0, 1.0)

    def __post_init__(self):
        object.__setattr__(self, "T", v.real_scalar("T", self.T, lower=0, lower_open=True, upper=MAX_PARAMETER))
        object.__setattr__(self, "h", v.real_scalar("h", self.h, lower=-MAX_PARAMETER, upper=MAX_PARAMETER))

    def params(self) -> tuple[float, float]:
        return (self.T, self.h)

    def f(self, phi):
        phi = np.asarray(phi, dtype=np.float64)
        return self.T * (phi * np.log(phi) + (1 - phi) * np.log1p(-phi)) - self.h * phi

    def df(self, phi):
        phi = np.asarray(phi, dtype=np.float64)
        return self.T * (np.log(phi) - np.log1p(-phi)) - self.h

    def d2f(self, phi):
        phi = np.asarray(phi, dtype=np.float64)
        return self.T / (phi * (1 - phi))


@dataclasses.dataclass(frozen=True)
class Landau:
    """Landau polynomial ``f = eps/2 phi^2 - g/3 phi^3 + phi^4/4`` (any real phi)."""

    eps: float = -0.2
    g: float = 0.0
    kind = 1
    domain = (-math.inf, math.inf)

    def __post_init__(self):
        object.__setattr__(self, "eps", v.real_scalar("eps", self.eps, lower=-MAX_PARAMETER, upper=MAX_PARAMETER))
        object.__setattr__(self, "g", v.real_scalar("g", self.g, lower=-MAX_PARAMETER, upper=MAX_PARAMETER))

    def params(self) -> tuple[float, float]:
        return (self.eps, self.g)

    def f(self, phi):
        phi = np.asarray(phi, dtype=np.float64)
        return self.eps / 2 * phi ** 2 - self.g / 3 * phi ** 3 + phi ** 4 / 4

    def df(self, phi):
        phi = np.asarray(phi, dtype=np.float64)
        return self.eps * phi - self.g * phi ** 2 + phi ** 3

    def d2f(self, phi):
        phi = np.asarray(phi, dtype=np.float64)
        return self.eps - 2 * self.g * phi + 3 * phi ** 2


_INTERACTIONS = (KacStep, SwiftHohenberg)
_LOCALS = (LatticeGas, Landau)


@dataclasses.dataclass(frozen=True)
class Functional:
    """``F[phi] = 1/2 ∫∫ phi V phi + ∫ f(phi)``: a non-local ``interaction`` plus a ``local`` part.

    With a Kac step, V(k) -> 0 at large k, so only a convex local part (the lattice gas, or
    Landau with eps > 0 and g^2 < 3 eps) keeps grid-scale modes stable; a non-convex one makes
    patterns at the grid spacing (the Kac mean-field theory assumes f convex).
    """

    interaction: object = dataclasses.field(default_factory=lambda: KacStep(R=1.0))
    local: object = dataclasses.field(default_factory=LatticeGas)

    def __post_init__(self):
        if not isinstance(self.interaction, _INTERACTIONS):
            raise tk.InvalidProblemError(
                f"interaction = {v.show(self.interaction)} is not allowed: give KacStep(R=...) or "
                "SwiftHohenberg(k0=...)")
        if not isinstance(self.local, _LOCALS):
            raise tk.InvalidProblemError(
                f"local = {v.show(self.local)} is not allowed: give LatticeGas(T=..., h=...) or "
                "Landau(eps=..., g=...)")

    def linear_spectrum(self, k, ndim: int, phi0: float):
        """``V(k) + f''(phi0)``: the Hessian of F at the uniform state phi0, mode by mode."""
        return self.interaction.hat(k, ndim) + float(self.local.d2f(phi0))

    def spinodal_margin(self, ndim: int, phi0: float) -> float:
        """``min_k [V(k) + f''(phi0)]``: negative means the uniform state phi0 is unstable."""
        return self.interaction.hat_min(ndim)[1] + float(self.local.d2f(phi0))

    def default_density(self) -> float:
        return 0.5 if isinstance(self.local, LatticeGas) else 0.0


def wavevectors(shape, length, real: bool = True) -> np.ndarray:
    """|k| on the (r)fft grid of a periodic box: shape ``shape`` (last axis halved if ``real``)."""
    ks = []
    for axis, (n, L) in enumerate(zip(shape, length)):
        dx = L / n
        last = real and axis == len(shape) - 1
        k = 2 * np.pi * (np.fft.rfftfreq(n, d=dx) if last else np.fft.fftfreq(n, d=dx))
        view = [1] * len(shape)
        view[axis] = k.size
        ks.append(k.reshape(view))
    k2 = sum(k ** 2 for k in ks)
    return np.sqrt(k2)


def check_grid_memory(name: str, value, shape, copies: int = GRID_COPIES, error=tk.InvalidProblemError) -> None:
    """Refuse a grid whose ``copies`` float64 arrays would not fit the memory available now (before allocating).

    ``name = value`` is the field or argument that set the grid; the message gives the estimate and the
    memory available (:func:`toolkit.memory.available_memory`).
    """
    from toolkit.memory import available_memory

    cells = math.prod(int(n) for n in shape)
    need = copies * cells * 8
    available = available_memory()
    if need > available:
        raise error(
            f"{name} = {v.show(value)} is not allowed: a grid of {cells:.4g} cells needs about "
            f"{need / 2**30:.3g} GiB ({copies} float64 copies) but {available / 2**30:.3g} GiB is available; "
            "use a coarser grid")


def _density(name, value, shape, local):
    """A uniform density (a number) or an array of ``shape``, |value| <= MAX_DENSITY, inside the domain."""
    try:
        scalar = np.ndim(value) == 0
    except (TypeError, ValueError):       # ragged nested lists
        scalar = False
    if scalar:
        value = np.full(shape, v.real_scalar(name, value, lower=-MAX_DENSITY, upper=MAX_DENSITY))
    arr = v.real_array(name, value, shape=shape, lower=-MAX_DENSITY, upper=MAX_DENSITY)
    _check_domain(name, arr, local)
    return arr


def _check_domain(name, arr, local):
    lo, hi = local.domain
    if np.isfinite(lo) and (arr.size and (arr.min() <= lo or arr.max() >= hi)):
        raise tk.InvalidProblemError(
            f"{name} = {v.show(arr)} is not allowed: the {type(local).__name__} entropy needs every "
            f"density strictly inside ({lo:g}, {hi:g}) (found min {arr.min():g}, max {arr.max():g}); "
            "clip the densities or start from a uniform state such as 0.5")


# -------------------------------------------------------------------------------------------
# Problems

class DensityField(tk.Problem):
    """A periodic density field: grid ``shape`` (1-3 dims), box ``length``, ``functional``, ``initial``.

    ``length`` is one box length for every axis or one per axis; ``initial`` is a uniform
    density or an array of ``shape`` (default: the middle of the functional's domain).
    The interaction range must span at least :data:`MIN_POINTS_PER_RANGE` grid spacings
    and fit in half the box.
    """

    shape: tuple
    length: object
    functional: Functional
    initial: object = None

    def _validate(self):
        shape = v.shape_tuple("shape", self.shape, ndim=(1, 2, 3), minimum=4)
        check_grid_memory("shape", shape, shape)
        self._set("shape", shape)
        length = self.length
        if isinstance(length, (int, float, np.integer, np.floating)) and not isinstance(length, bool):
            length = (length,) * len(shape)
        if not isinstance(length, (tuple, list, np.ndarray)) or len(length) != len(shape):
            raise tk.InvalidProblemError(
                f"length = {v.show(self.length)} is not allowed: give one box length or one per axis "
                f"({len(shape)} numbers)")
        length = tuple(v.real_scalar(f"length[{i}]", L, lower=LENGTH_RANGE[0], upper=LENGTH_RANGE[1])
                       for i, L in enumerate(length))
        self._set("length", length)
        if not isinstance(self.functional, Functional):
            raise tk.InvalidProblemError(
                f"functional = {v.show(self.functional)} is not allowed: give "
                "Functional(interaction=KacStep(R=...), local=LatticeGas(T=...))")
        R = self.functional.interaction.range_length()
        what = "R" if isinstance(self.functional.interaction, KacStep) else "pi/k0"
        dx = max(L / n for L, n in zip(length, shape))
        if R < MIN_POINTS_PER_RANGE * dx:
            raise tk.InvalidProblemError(
                f"functional.interaction: {what} = {R:g} is not allowed: it must span at least "
                f"{MIN_POINTS_PER_RANGE:g} grid spacings (dx = max(length / shape) = {dx:g}); refine the "
                "grid (shape) or shorten the box (length)")
        if 2 * R > min(length):
            raise tk.InvalidProblemError(
                f"length = {length} is not allowed with functional.interaction {what} = {R:g}: the "
                "interaction range must fit in half the box; enlarge the box or shorten the range")
        initial = self.initial
        if initial is None:
            initial = self.functional.default_density()
        self._set("initial", _density("initial", initial, shape, self.functional.local))

    # geometry helpers (no numerics beyond the grid)
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def spacing(self) -> tuple[float, ...]:
        return tuple(L / n for L, n in zip(self.length, self.shape))

    @property
    def cell_volume(self) -> float:
        return float(np.prod(self.spacing))

    @property
    def volume(self) -> float:
        return float(np.prod(self.length))

    def coordinates(self) -> list[np.ndarray]:
        return [np.arange(n) * (L / n) for n, L in zip(self.shape, self.length)]

    @classmethod
    def noisy(cls, shape, length, functional, mean=None, amplitude=0.01, seed=0):
        """A field with uniform density ``mean`` plus seeded white noise of ``amplitude``."""
        shape = v.shape_tuple("shape", shape, ndim=(1, 2, 3), minimum=4)
        if not isinstance(functional, Functional):
            raise tk.InvalidProblemError(
                f"functional = {v.show(functional)} is not allowed: give "
                "Functional(interaction=KacStep(R=...), local=LatticeGas(T=...))")
        mean = functional.default_density() if mean is None else \
            v.real_scalar("mean", mean, lower=-MAX_DENSITY, upper=MAX_DENSITY)
        amplitude = v.real_scalar("amplitude", amplitude, lower=0, upper=MAX_DENSITY)
        rng = np.random.default_rng(v.integer("seed", seed, lower=0, upper=MAX_SEED))
        check_grid_memory("shape", shape, shape, GRID_COPIES + 2)
        initial = mean + amplitude * rng.standard_normal(shape)
        lo, hi = functional.local.domain
        if np.isfinite(lo) and (initial.min() <= lo or initial.max() >= hi):
            raise tk.InvalidProblemError(
                f"mean = {mean:g} with amplitude = {amplitude:g} is not allowed: the noisy field spans "
                f"{initial.min():.3g} to {initial.max():.3g}, but the {type(functional.local).__name__} entropy needs "
                f"every density strictly inside ({lo:g}, {hi:g}); move the mean inside or lower the amplitude")
        return cls(shape=shape, length=length, functional=functional, initial=initial)

    @classmethod
    def example(cls, seed: int = 0):
        rng = np.random.default_rng(seed)
        functional = Functional(KacStep(R=4.0), Landau(eps=float(rng.uniform(-0.3, -0.1))))
        return cls.noisy((32,), 32.0, functional, mean=0.0, amplitude=0.05, seed=seed)


class Relaxation(tk.Problem):
    """The nearest local minimum of F from ``field.initial`` (gradient flow to rest).

    ``conserved=True`` keeps the mean density fixed (canonical minimisation).
    """

    field: DensityField
    conserved: bool = False

    def _validate(self):
        if not isinstance(self.field, DensityField):
            raise tk.InvalidProblemError(f"field = {v.show(self.field)} is not allowed: give a DensityField")
        self._set("conserved", v.flag("conserved", self.conserved))

    @classmethod
    def example(cls, seed: int = 0):
        return cls(field=DensityField.example(seed))


class FieldDynamics(tk.TimeProblem):
    """Langevin dynamics ``∂phi/∂t = -M(k) δF/δphi + noise`` for ``steps`` steps of ``dt``.

    ``dynamics="A"`` is non-conserved (M = mobility), ``"B"`` conserved (M = mobility k^2,
    i.e. ∂phi/∂t = mobility ∇^2 δF/δphi). Noise obeys fluctuation-dissipation at
    ``temperature`` (Hohenberg & Halperin, Rev. Mod. Phys. 49, 435 (1977),
    doi:10.1103/RevModPhys.49.435); ``noise`` defaults to ``temperature > 0``.
    Frames are saved every ``save_every`` steps.
    """

    field: DensityField
    dynamics: str = "A"
    temperature: float = 0.0
    dt: float = 0.1
    steps: int = 100
    save_every: int = 10
    mobility: float = 1.0
    noise: object = None

    def _validate(self):
        if not isinstance(self.field, DensityField):
            raise tk.InvalidProblemError(f"field = {v.show(self.field)} is not allowed: give a DensityField")
        self._set("dynamics", v.choice("dynamics", self.dynamics, ("A", "B")))
        self._set("temperature", v.real_scalar("temperature", self.temperature, lower=0, upper=MAX_PARAMETER))
        self._set("dt", v.real_scalar("dt", self.dt, lower=0, lower_open=True, upper=MAX_PARAMETER))
        self._set("steps", v.integer("steps", self.steps, lower=1, upper=MAX_STEPS))
        self._set("save_every", v.integer("save_every", self.save_every, lower=1, upper=MAX_STEPS))
        self._set("mobility", v.real_scalar("mobility", self.mobility, lower=0, lower_open=True, upper=MAX_PARAMETER))
        noise = self.temperature > 0 if self.noise is None else self.noise
        if not isinstance(noise, (bool, np.bool_)):
            raise tk.InvalidProblemError(f"noise = {v.show(self.noise)} is not allowed: give True or False")
        if noise and self.temperature <= 0:
            raise tk.InvalidProblemError(
                f"noise = True is not allowed with temperature = {self.temperature:g}: thermal noise needs "
                "temperature > 0; raise the temperature or set noise=False")
        self._set("noise", bool(noise))

    @classmethod
    def example(cls, seed: int = 0):
        return cls(field=DensityField.example(seed), dynamics="AB"[seed % 2], dt=0.5, steps=10, save_every=5)


class NucleationBarrier(tk.Problem):
    """The saddle point of F between a ``metastable`` state and a ``stable`` one.

    ``metastable``: the uniform metastable density (a number) or a field; ``stable``: the
    stable (uniform or modulated) field of ``field.shape``, or ``None`` when the solver does not need the
    far end of the path (radial Newton-Krylov). ``field.initial`` is the starting guess for
    the saddle (a seeded droplet) where a solver needs one. The answer: the critical
    droplet's profile, the barrier ΔF = F[saddle] - F[metastable] and its unstable direction.
    """

    field: DensityField
    metastable: object
    stable: object = None

    def _validate(self):
        if not isinstance(self.field, DensityField):
            raise tk.InvalidProblemError(f"field = {v.show(self.field)} is not allowed: give a DensityField")
        shape, local = self.field.shape, self.field.functional.local
        self._set("metastable", _density("metastable", self.metastable, shape, local))
        if self.stable is not None:
            self._set("stable", _density("stable", self.stable, shape, local))

    @property
    def metastable_density(self) -> float:
        return float(self.metastable.mean())

    @classmethod
    def example(cls, seed: int = 0):
        # 3D liquid-gas nucleation with an attractive Kac step (J < 0) and a convex Landau part
        # (g^2 < 3 eps, so grid-scale modes are stable): the uniform free energy per volume is
        # f_u(phi) = (eps + J)/2 phi^2 - g/3 phi^3 + phi^4/4, with a metastable well at phi = 0
        # (f_u'' = eps + J > 0) and a deeper stable one at phi_2 = (g + sqrt(g^2 - 4(eps + J)))/2
        # (deeper when g^2 > 4.5 (eps + J)). The critical droplet (radius about R) is compact in a
        # box of 8 R; the guess is a tanh droplet centred on the grid point n/2. On a grid the
        # three translations of a droplet are not exact zero modes: the lattice ("Peierls")
        # energy pins it, and for -0.72 < J < -0.68 (measured) a droplet centred on a grid point
        # sits at the minimum of that pinning energy, so the translation eigenvalues are small and
        # positive (~1e-3) and the saddle has exactly one negative mode. Outside that window the
        # grid-point droplet is a Peierls maximum (3 more, tiny negative modes); J stays inside.
        rng = np.random.default_rng(seed)
        J = -float(rng.uniform(0.69, 0.71))
        eps, g = 1.0, 1.5
        functional = Functional(KacStep(R=1.0, J=J), Landau(eps=eps, g=g))
        a = eps + J
        phi2 = 0.5 * (g + math.sqrt(g * g - 4 * a))
        n, L = 24, 8.0
        x = (np.arange(n) - n // 2) * L / n
        r = np.sqrt(sum(q ** 2 for q in np.meshgrid(x, x, x, indexing="ij")))
        initial = 0.95 * 0.5 * (1 - np.tanh((r - 0.8) / 0.5))
        field = DensityField(shape=(n,) * 3, length=L, functional=functional, initial=initial)
        return cls(field=field, metastable=0.0, stable=np.full(field.shape, phi2))


# -------------------------------------------------------------------------------------------
# Problem builders (the spec vocabulary's ``type = "..."`` names, the tour's and tutorials' fields)

def _grid(n, ndim) -> tuple:
    """The builders' ``(n,) * ndim`` grid, checked before any tuple or array is made."""
    ndim = v.integer("ndim", ndim, lower=1, upper=3)
    n = v.integer("n", n, lower=4)
    check_grid_memory("n", n, (n,) * ndim, GRID_COPIES + 2)
    return (n,) * ndim


def kac_landau_field(n: int = 48, ndim: int = 2, length: float = 48.0, R: float = 4.0, J: float = 1.0,
                     eps: float = 0.05, g: float = 0.0, mean: float = 0.0, amplitude: float = 0.05,
                     seed: int = 0) -> DensityField:
    """A noisy uniform field with a repulsive Kac step and the Landau polynomial.

    Keep the local part convex (eps > 0, g^2 < 3 eps): V(k) -> 0 at large k, so a non-convex
    f would let grid-scale modes grow (the Kac mean-field theory needs a convex local part).
    """
    return DensityField.noisy(_grid(n, ndim), length, Functional(KacStep(R=R, J=J), Landau(eps=eps, g=g)),
                              mean=mean, amplitude=amplitude, seed=seed)


def kac_lattice_gas_field(n: int = 48, ndim: int = 2, length: float = 48.0, R: float = 4.0, J: float = 1.0,
                          T: float = 0.05, h: float = 0.0, mean: float = 0.5, amplitude: float = 0.02,
                          seed: int = 0) -> DensityField:
    """A noisy uniform field with a repulsive Kac step and the lattice-gas (clump) entropy."""
    return DensityField.noisy(_grid(n, ndim), length, Functional(KacStep(R=R, J=J), LatticeGas(T=T, h=h)),
                              mean=mean, amplitude=amplitude, seed=seed)


def swift_hohenberg_field(n: int = 48, ndim: int = 2, length: float = 48.0, k0: float = 1.0,
                          eps: float = -0.3, g: float = 0.0, mean: float = 0.0, amplitude: float = 0.05,
                          seed: int = 0) -> DensityField:
    """A noisy uniform field with the Swift-Hohenberg operator and the Landau polynomial."""
    return DensityField.noisy(_grid(n, ndim), length, Functional(SwiftHohenberg(k0=k0), Landau(eps=eps, g=g)),
                              mean=mean, amplitude=amplitude, seed=seed)


def relaxation(field: DensityField, conserved: bool = False) -> Relaxation:
    """The local minimum of F nearest ``field.initial`` (``conserved``: at fixed mean density)."""
    return Relaxation(field=field, conserved=conserved)


def onion_barrier(eps: float = 0.09, g: float = 0.5, R: float = 1.0, n: int = 24, length: float = 7.2,
                  amplitude: float = 0.5, width: float = 1.5) -> NucleationBarrier:
    """3D Kac + convex Landau liquid phi = 0 near the spinodal, with an onion-shaped guess.

    The guess is the onion's leading radial mode ``amplitude sinc(k* r) exp(-r^2 / 2 width^2)``
    about the box centre, k* the minimum of V(k) (Barros & Klein 2013, doi:10.1063/1.4827397).
    """
    functional = Functional(KacStep(R=R), Landau(eps=eps, g=g))
    n = _grid(n, 3)[0]
    check_grid_memory("n", n, (n,) * 3, GRID_COPIES + 6)              # the meshgrid, r and the guess
    length = v.real_scalar("length", length, lower=LENGTH_RANGE[0], upper=LENGTH_RANGE[1])
    amplitude = v.real_scalar("amplitude", amplitude, lower=-MAX_DENSITY, upper=MAX_DENSITY)
    width = v.real_scalar("width", width, lower=LENGTH_RANGE[0], upper=LENGTH_RANGE[1])
    x = (np.arange(n) + 0.5) * length / n - length / 2
    r = np.sqrt(sum(c ** 2 for c in np.meshgrid(x, x, x, indexing="ij")))
    kstar = functional.interaction.hat_min(3)[0]
    initial = amplitude * np.sinc(kstar * r / np.pi) * np.exp(-0.5 * (r / width) ** 2)
    return NucleationBarrier(field=DensityField(shape=(n,) * 3, length=length, functional=functional,
                                                initial=initial), metastable=0.0)


def bcc_lattice_constant(interaction: KacStep) -> float:
    """a = 2π √2 / k*: the bcc cell whose <110> shell sits at the minimum of V(k) (3D).

    A bcc crystal of a Kac fluid puts its first reciprocal shell, the twelve <110> vectors, at the
    minimum k* of V(k) (Barros & Klein 2013, doi:10.1063/1.4827397, Fig. 1).
    """
    return 2 * np.pi * np.sqrt(2) / interaction.hat_min(3)[0]


def bcc_droplet_seed(shape, length, a: float, radius: float, width: float = 0.5,
                     offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Σ_<110> cos(G·x) (six cosine pairs) under a tanh envelope of ``radius`` at the box centre.

    The envelope is centred on a lattice site near the box centre, shifted by ``offset`` (in
    units of ``a``): ``(0.5, 0, 0)`` centres it on an octahedral interstitial, for instance.
    A seed for ``DensityField(initial=metastable + amplitude * seed)``.
    """
    shape = v.shape_tuple("shape", shape, ndim=3, minimum=1)
    check_grid_memory("shape", shape, shape, 10)                       # X, Y, Z, the wave, r, the envelope
    if not isinstance(length, (tuple, list, np.ndarray)) or len(length) != 3:
        raise tk.InvalidProblemError(f"length = {v.show(length)} is not allowed: give three box lengths")
    length = [v.real_scalar(f"length[{i}]", L, lower=LENGTH_RANGE[0], upper=LENGTH_RANGE[1])
              for i, L in enumerate(length)]
    xs = [np.arange(n) * L / n for n, L in zip(shape, length)]
    X, Y, Z = np.meshgrid(*xs, indexing="ij")
    q = 2 * np.pi / a
    wave = sum(np.cos(q * (s * u + w)) for u, w in ((X, Y), (Y, Z), (Z, X)) for s in (1, -1))
    centre = [a * np.floor(L / a / 2) + a * o for L, o in zip(length, offset)]   # lattice site (+ offset)
    r = np.sqrt(sum((c - x0) ** 2 for c, x0 in zip((X, Y, Z), centre)))
    return wave * 0.5 * (1 - np.tanh((r - radius) / width))
