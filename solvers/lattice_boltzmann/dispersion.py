"""Linear (von Neumann) analysis of the lattice Boltzmann schemes: the shear mode and stability.

About a uniform equilibrium state (ρ₀ = 1, velocity u₀, no force) a small perturbation
δf_i(x, t) = f̂_i e^{i k·x} of the post-collision populations (what the solvers store) evolves
by one pull-stream-and-collide step as

    f̂(t + 1) = L(k) f̂(t),    L(k) = [I − K (I − E)] diag(e^{−i k·c_i}),

where E = ∂f^eq/∂f is the linearised equilibrium (the solvers' second-order f^eq of ρ and
j = Σ c f) and K the collision matrix of the solver: ω I (BGK), ω⁺P⁺ + ω⁻P⁻ with
P^± = (I ± R)/2 and R the c → −c reflection (TRT), M⁻¹SM in the solver's moment basis (MRT).
K is taken from the solver's own :class:`~.base.Collision`, so the analysis is of exactly the
scheme the steppers run (``tests/lattice_boltzmann/test_dispersion.py`` checks it against
finite differences of the NumPy reference step).

The eigenvalues λ(k) of L(k) are the modes; the shear (transverse-momentum) mode, the
eigenvector with the largest overlap with j_⊥ = Σ c_⊥ f in the equilibrium metric (1/w_i),
decays by −ln|λ| per step, and its effective viscosity is

    ν_eff(k) = −ln|λ_shear(k)| / (k² Δt),

which tends to ν = c_s²(1/ω − 1/2) as k → 0 (collide-then-stream, diag(e^{−ik·c}) [I − K(I − E)],
has the same eigenvalues); its k dependence is the lattice's dispersion
(Lallemand & Luo, Phys. Rev. E 61, 6546 (2000), doi:10.1103/PhysRevE.61.6546, Sec. III).
A scheme is linearly stable about the state when max |λ(k)| ≤ 1 over the Brillouin zone
[−π, π]^D (lattice units, Δx = Δt = 1).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

import toolkit as tk
from toolkit import validate as v

from .base import BGK_BRANCH, TRT_BRANCH, Collision, LatticeSolver
from .lattices import Lattice, lattice

__all__ = ["ShearMode", "collision_of", "collision_matrix", "equilibrium_jacobian", "evolution_matrix",
           "shear_mode", "shear_viscosity", "positive_array", "max_amplification", "is_linearly_stable",
           "STABILITY_TOL"]

#: Largest |λ| − 1 still called stable (round-off of the eigenvalue solver on neutral modes).
STABILITY_TOL = 1e-9


def _tau(viscosity, tau) -> float:
    if (viscosity is None) == (tau is None):
        raise tk.InvalidProblemError(f"viscosity = {viscosity!r}, tau = {tau!r} is not allowed: give exactly one "
                                     "of viscosity (lattice units, > 0) or tau (> 0.5)")
    if tau is not None:
        return v.real_scalar("tau", tau, lower=0.5, lower_open=True)
    return 3.0 * v.real_scalar("viscosity", viscosity, lower=0, lower_open=True) + 0.5


def positive_array(name: str, value, *, shape=None, upper: float | None = None) -> np.ndarray:
    """A 1D float64 array of finite values > 0 (and <= ``upper``), or an error naming ``name``."""
    arr = v.real_array(name, np.atleast_1d(value), ndim=1, shape=shape, upper=upper)
    if arr.size and not arr.min() > 0:
        raise tk.InvalidProblemError(f"{name} = {v.show(value)} is not allowed: every value must be > 0 "
                                     f"(minimum is {arr.min():g})")
    return arr


@functools.lru_cache(maxsize=256)
def _rest_problem(lattice_name: str, tau: float):
    from problems.lattice_fluid import FLUID_LATTICES, LatticeFluid

    return LatticeFluid(shape=(1,) * FLUID_LATTICES[lattice_name], lattice=lattice_name, tau=tau, steps=1)


def collision_of(solver: LatticeSolver, lattice_name: str = "D2Q9", *, viscosity: float | None = None,
                 tau: float | None = None) -> Collision:
    """The :class:`~.base.Collision` that ``solver`` (BGK, TRT, MRT) runs on ``lattice_name`` at
    viscosity ν (or τ = 3ν + 1/2): the same object the steppers get."""
    if not isinstance(solver, LatticeSolver):
        raise tk.InvalidSolverError(f"solver = {v.show(solver)} is not allowed: give a lattice Boltzmann "
                                    "collision solver (BGK(), TRT(...), MRT(...))")
    return solver.collision(_rest_problem(lattice_name, _tau(viscosity, tau)))


def collision_matrix(collision: Collision, lat: Lattice) -> np.ndarray:
    """K (Q, Q): the post-collision state is f − K (f − f^eq)."""
    Q = lat.q
    if collision.branch == BGK_BRANCH:
        return collision.omega * np.eye(Q)
    if collision.branch == TRT_BRANCH:
        R = np.zeros((Q, Q))
        R[np.arange(Q), lat.opp] = 1.0
        return 0.5 * collision.omega * (np.eye(Q) + R) + 0.5 * collision.omega_m * (np.eye(Q) - R)
    return np.array(collision.A, dtype=float)


def equilibrium_jacobian(lat: Lattice, velocity=None) -> np.ndarray:
    """E_ij = ∂f^eq_i/∂f_j at ρ = 1 and velocity u₀ (default rest), for the second-order
    f^eq_i = w_i (ρ + 3 c_i·j + 9/2 (c_i·j)²/ρ − 3/2 j²/ρ) with ρ = Σ f, j = Σ c f."""
    c = lat.c.astype(float)
    u = np.zeros(3)
    if velocity is not None:
        given = np.atleast_1d(np.asarray(velocity, dtype=float))
        u[: given.size] = given
    cu = c @ u
    d_rho = lat.w * (1.0 - 4.5 * cu ** 2 + 1.5 * (u @ u))                         # (Q,)
    d_j = lat.w[:, None] * (3.0 * c + 9.0 * cu[:, None] * c - 3.0 * u[None, :])   # (Q, 3)
    return d_rho[:, None] + d_j @ c.T


def evolution_matrix(collision: Collision, lat: Lattice, k, velocity=None) -> np.ndarray:
    """L(k) (Q, Q) complex, or (..., Q, Q) for k of shape (..., 3): one collide-and-stream step
    of the Fourier amplitudes f̂ (see the module docstring)."""
    k = np.asarray(k, dtype=float)
    kk = np.zeros(k.shape[:-1] + (3,))
    kk[..., : k.shape[-1]] = k
    Q = lat.q
    C = np.eye(Q) - collision_matrix(collision, lat) @ (np.eye(Q) - equilibrium_jacobian(lat, velocity))
    phase = np.exp(-1j * (kk @ lat.c.astype(float).T))          # (..., Q)
    return C * phase[..., None, :]


@dataclass(frozen=True)
class ShearMode:
    """The shear mode at wavevector ``k`` (3,): eigenvalue λ, decay per step −ln|λ|,
    ν_eff = −ln|λ|/k², and ``overlap`` (0–1) of its eigenvector with the transverse momentum
    (near 1: the mode is well identified; low values mean it has mixed with a ghost mode)."""

    k: np.ndarray
    eigenvalue: complex
    decay_rate: float
    nu_eff: float
    overlap: float


def _direction(direction, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit wavevector direction n and a transverse unit vector t (both (3,))."""
    n = np.zeros(3)
    if direction is None:
        n[0] = 1.0
    else:
        d = v.real_array("direction", direction, shape=(dim,))
        n[:dim] = d
        if not np.linalg.norm(n) > 0:
            raise tk.InvalidProblemError(f"direction = {v.show(direction)} is not allowed: give a non-zero vector")
        n /= np.linalg.norm(n)
    # transverse: the lattice axis direction most perpendicular, orthogonalised
    axes = np.eye(3)[:dim]
    t = axes[int(np.argmin(np.abs(axes @ n)))]
    t = t - (t @ n) * n
    return n, t / np.linalg.norm(t)


def shear_mode(solver: LatticeSolver, k: float, *, lattice_name: str = "D2Q9", viscosity: float | None = None,
               tau: float | None = None, direction=None, velocity=None) -> ShearMode:
    """The shear mode of ``solver`` at wavenumber ``k`` (lattice units, kΔx) along ``direction``
    (default the x axis) with transverse momentum along the lattice axis most perpendicular to it.
    """
    lat = lattice(lattice_name)
    k = v.real_scalar("k", k, lower=0, lower_open=True, upper=np.pi * np.sqrt(lat.dim))
    n, t = _direction(direction, lat.dim)
    coll = collision_of(solver, lattice_name, viscosity=viscosity, tau=tau)
    return _shear(coll, lat, k * n, t, velocity)


def _shear(coll: Collision, lat: Lattice, kvec: np.ndarray, t: np.ndarray, velocity=None) -> ShearMode:
    L = evolution_matrix(coll, lat, kvec, velocity)
    lam, vec = np.linalg.eig(L)
    # overlap: the fraction of the transverse-momentum vector e = w c_⊥ that lies in the mode's
    # eigenspace, in the equilibrium metric 1/w (degenerate modes, e.g. the two shear modes of a
    # 3D lattice, count together)
    sw = np.sqrt(lat.w)
    e = sw * (lat.c.astype(float) @ t)
    e /= np.linalg.norm(e)
    scaled = vec / sw[:, None]
    overlap = np.empty(len(lam))
    for j in range(len(lam)):
        group = np.abs(lam - lam[j]) <= 1e-8 * max(1.0, abs(lam[j]))
        basis, _ = np.linalg.qr(scaled[:, group])
        overlap[j] = float(np.linalg.norm(basis.conj().T @ e) ** 2)
    i = int(np.argmax(overlap))
    decay = -np.log(abs(lam[i]))
    k2 = float(kvec @ kvec)
    return ShearMode(k=kvec, eigenvalue=complex(lam[i]), decay_rate=float(decay), nu_eff=float(decay / k2),
                     overlap=float(overlap[i]))


def shear_viscosity(solver: LatticeSolver, k, *, lattice_name: str = "D2Q9", viscosity: float | None = None,
                    tau: float | None = None, direction=None) -> np.ndarray:
    """ν_eff(k) = −ln|λ_shear(k)|/k² for each wavenumber of ``k`` (kΔx, lattice units)."""
    lat = lattice(lattice_name)
    ks = positive_array("k", k, upper=np.pi * np.sqrt(lat.dim))
    n, t = _direction(direction, lat.dim)
    coll = collision_of(solver, lattice_name, viscosity=viscosity, tau=tau)
    return np.array([_shear(coll, lat, kk * n, t).nu_eff for kk in ks])


def _brillouin(dim: int, points: int) -> np.ndarray:
    """A grid of [0, π]^D (the lattices are symmetric under axis reflections, so this covers the
    zone), (points^D, 3)."""
    g = np.linspace(0.0, np.pi, points)
    mesh = np.meshgrid(*([g] * dim), indexing="ij")
    out = np.zeros((g.size ** dim, 3))
    for a in range(dim):
        out[:, a] = mesh[a].ravel()
    return out


def max_amplification(collision: Collision, lat: Lattice, *, points: int | None = None, velocity=None) -> float:
    """max |λ(k)| over a ``points``^D grid of the Brillouin zone (default 33 in 2D, 13 in 3D)."""
    points = points or (33 if lat.dim == 2 else 13)
    k = _brillouin(lat.dim, points)
    if velocity is not None and np.any(velocity):       # a drift breaks the reflection symmetry
        k = np.concatenate([k * np.array(s) for s in np.ndindex(*([2] * lat.dim))
                            for s in [[1 - 2 * b for b in s] + [1] * (3 - lat.dim)]])
    L = evolution_matrix(collision, lat, k, velocity)
    return float(np.abs(np.linalg.eigvals(L)).max())


def is_linearly_stable(solver: LatticeSolver, *, lattice_name: str = "D2Q9", viscosity: float | None = None,
                       tau: float | None = None, velocity=None, points: int | None = None) -> bool:
    """Whether max |λ(k)| ≤ 1 (+ :data:`STABILITY_TOL`) over the Brillouin zone about the uniform state
    of ``velocity`` (default rest)."""
    lat = lattice(lattice_name)
    coll = collision_of(solver, lattice_name, viscosity=viscosity, tau=tau)
    return max_amplification(coll, lat, points=points, velocity=velocity) <= 1.0 + STABILITY_TOL
