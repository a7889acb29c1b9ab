"""numba kernels of the spin-dynamics family: per-spin updates, the classical field, chirality.

Every kernel takes arrays and scalars, writes into ``out`` arrays and returns nothing or a number;
each has a NumPy reference (``*_reference``) that the tests compare against. Spins are (N, 3)
float64 C-contiguous arrays.

* :func:`llg_rate` -- ``f = S x H - alpha S x (S x H)``, the Landau-Lifshitz right-hand side;
* :func:`sib_vector` -- ``A = H - alpha S x H``, so that ``dS/dt = S x A`` (the same equation);
* :func:`cayley_midpoint` -- the midpoint ``y`` of ``x = S + dt ((S + x)/2) x A``: with
  ``b = dt A / 2``, ``y = (S + S x b + b (b . S)) / (1 + |b|^2)`` and ``x = 2 y - S``, a rotation of
  S (|x| = |S| exactly; Mentink et al., J. Phys.: Condens. Matter 22, 176001 (2010),
  doi:10.1088/0953-8984/22/17/176001);
* :func:`heun_predict` / :func:`heun_correct` -- the projected stochastic Heun step;
* :func:`rotate` -- ``out = R S``, the exact solution after ``dt`` of ``dS/dt = S x A`` with A held
  fixed: a rotation of S about A by the angle ``|A| dt`` (clockwise seen from the tip of A), by
  Rodrigues' formula ``S cos phi + (S x n) sin phi + n (n . S)(1 - cos phi)``, n = A / |A|, phi =
  |A| dt (the building block of the Depondt-Mertens scheme, J. Phys.: Condens. Matter 21, 336005
  (2009), doi:10.1088/0953-8984/21/33/336005);
* :func:`overdamped_step` -- the projected Euler step of the overdamped Langevin equation,
  ``out = (S + P (g h + w)) / |S + P (g h + w)|``, ``P = 1 - S S^T``, g = Gamma dt, w the noise
  displacement (Barros & Kato, PRB 88, 235101 (2013), doi:10.1103/PhysRevB.88.235101);
* :func:`classical_field` -- ``h = -dE/dS`` and ``E`` of the Heisenberg and Zeeman terms;
* :func:`anisotropy_field` -- adds ``2 K (S . n) n`` to ``h`` and returns ``E = -K sum (S . n)^2``;
* :func:`scalar_chirality` -- ``S_i . (S_j x S_k)`` per triangle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["llg_rate", "sib_vector", "cayley_midpoint", "heun_predict", "heun_correct", "normalise",
           "classical_field", "anisotropy_field", "scalar_chirality", "llg_rate_reference", "sib_vector_reference",
           "cayley_midpoint_reference", "heun_predict_reference", "heun_correct_reference",
           "classical_field_reference", "anisotropy_field_reference", "scalar_chirality_reference", "normalise_reference", "rotate",
           "rotate_reference", "overdamped_step", "overdamped_step_reference"]

_OPTS = dict(cache=True, nogil=True)


@njit(**_OPTS)
def _rate(sx, sy, sz, hx, hy, hz, alpha):
    cx, cy, cz = sy * hz - sz * hy, sz * hx - sx * hz, sx * hy - sy * hx          # S x H
    dx, dy, dz = sy * cz - sz * cy, sz * cx - sx * cz, sx * cy - sy * cx          # S x (S x H)
    return cx - alpha * dx, cy - alpha * dy, cz - alpha * dz


@njit(**_OPTS)
def llg_rate(S, H, alpha, out):
    """``out = S x H - alpha S x (S x H)`` row by row."""
    for i in range(S.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = _rate(S[i, 0], S[i, 1], S[i, 2], H[i, 0], H[i, 1], H[i, 2], alpha)


@njit(**_OPTS)
def sib_vector(S, H, alpha, out):
    """``out = H - alpha S x H``: dS/dt = S x out is the Landau-Lifshitz equation."""
    for i in range(S.shape[0]):
        sx, sy, sz, hx, hy, hz = S[i, 0], S[i, 1], S[i, 2], H[i, 0], H[i, 1], H[i, 2]
        out[i, 0] = hx - alpha * (sy * hz - sz * hy)
        out[i, 1] = hy - alpha * (sz * hx - sx * hz)
        out[i, 2] = hz - alpha * (sx * hy - sy * hx)


@njit(**_OPTS)
def cayley_midpoint(S, A, half_dt, out):
    """``out = y``, the solution of ``y - y x (half_dt A) = S`` (the midpoint of the Cayley step)."""
    for i in range(S.shape[0]):
        bx, by, bz = half_dt * A[i, 0], half_dt * A[i, 1], half_dt * A[i, 2]
        sx, sy, sz = S[i, 0], S[i, 1], S[i, 2]
        bs = bx * sx + by * sy + bz * sz
        inv = 1.0 / (1.0 + bx * bx + by * by + bz * bz)
        out[i, 0] = (sx + (sy * bz - sz * by) + bx * bs) * inv
        out[i, 1] = (sy + (sz * bx - sx * bz) + by * bs) * inv
        out[i, 2] = (sz + (sx * by - sy * bx) + bz * bs) * inv


@njit(**_OPTS)
def normalise(S, out):
    """``out = S / |S|`` row by row (a zero row gives NaN: the caller checks finiteness)."""
    for i in range(S.shape[0]):
        inv = 1.0 / np.sqrt(S[i, 0] * S[i, 0] + S[i, 1] * S[i, 1] + S[i, 2] * S[i, 2])
        out[i, 0], out[i, 1], out[i, 2] = S[i, 0] * inv, S[i, 1] * inv, S[i, 2] * inv


@njit(**_OPTS)
def heun_predict(S, H, alpha, dt, f, out):
    """``f = rate(S, H)``; ``out = (S + dt f) / |S + dt f|`` (the projected Euler predictor)."""
    for i in range(S.shape[0]):
        fx, fy, fz = _rate(S[i, 0], S[i, 1], S[i, 2], H[i, 0], H[i, 1], H[i, 2], alpha)
        f[i, 0], f[i, 1], f[i, 2] = fx, fy, fz
        px, py, pz = S[i, 0] + dt * fx, S[i, 1] + dt * fy, S[i, 2] + dt * fz
        inv = 1.0 / np.sqrt(px * px + py * py + pz * pz)
        out[i, 0], out[i, 1], out[i, 2] = px * inv, py * inv, pz * inv


@njit(**_OPTS)
def heun_correct(S, f0, P, H1, alpha, dt, out):
    """``out = (S + dt/2 (f0 + rate(P, H1))) / |...|`` (the trapezoidal corrector, projected)."""
    h = 0.5 * dt
    for i in range(S.shape[0]):
        fx, fy, fz = _rate(P[i, 0], P[i, 1], P[i, 2], H1[i, 0], H1[i, 1], H1[i, 2], alpha)
        px, py, pz = S[i, 0] + h * (f0[i, 0] + fx), S[i, 1] + h * (f0[i, 1] + fy), S[i, 2] + h * (f0[i, 2] + fz)
        inv = 1.0 / np.sqrt(px * px + py * py + pz * pz)
        out[i, 0], out[i, 1], out[i, 2] = px * inv, py * inv, pz * inv


@njit(**_OPTS)
def _scaled_norm(x, y, z):
    """|(x, y, z)| without overflow or underflow of the squares (components up to ~1e300)."""
    m = max(abs(x), abs(y), abs(z))
    if m == 0.0:
        return 0.0
    x, y, z = x / m, y / m, z / m
    return m * np.sqrt(x * x + y * y + z * z)


@njit(**_OPTS)
def rotate(S, A, dt, out):
    """``out`` = S rotated about A by ``|A| dt`` (clockwise seen from the tip of A): the exact flow of
    ``dS/dt = S x A`` over ``dt`` for fixed A. |out| = |S| to round-off; A = 0 leaves S unchanged."""
    for i in range(S.shape[0]):
        sx, sy, sz = S[i, 0], S[i, 1], S[i, 2]
        a = _scaled_norm(A[i, 0], A[i, 1], A[i, 2])
        if a == 0.0:
            out[i, 0], out[i, 1], out[i, 2] = sx, sy, sz
            continue
        nx, ny, nz = A[i, 0] / a, A[i, 1] / a, A[i, 2] / a
        phi = a * dt
        c, s = np.cos(phi), np.sin(phi)
        ns = (nx * sx + ny * sy + nz * sz) * (1.0 - c)
        out[i, 0] = sx * c + (sy * nz - sz * ny) * s + nx * ns
        out[i, 1] = sy * c + (sz * nx - sx * nz) * s + ny * ns
        out[i, 2] = sz * c + (sx * ny - sy * nx) * s + nz * ns


@njit(**_OPTS)
def overdamped_step(S, h, gamma_dt, w, out):
    """``out = (S + P v) / |S + P v|`` with ``v = gamma_dt h + w`` and ``P v = v - S (S . v)`` (S unit).
    |S + P v| >= 1 in exact arithmetic; if round-off cancels it to 0 (|v| ~ 1e16 or more) S is kept."""
    for i in range(S.shape[0]):
        sx, sy, sz = S[i, 0], S[i, 1], S[i, 2]
        vx, vy, vz = gamma_dt * h[i, 0] + w[i, 0], gamma_dt * h[i, 1] + w[i, 1], gamma_dt * h[i, 2] + w[i, 2]
        sv = sx * vx + sy * vy + sz * vz
        px, py, pz = sx + vx - sx * sv, sy + vy - sy * sv, sz + vz - sz * sv
        norm = _scaled_norm(px, py, pz)
        if norm == 0.0:                  # S + P v cancelled in round-off (|v| >> 1 along -S): keep S
            out[i, 0], out[i, 1], out[i, 2] = sx, sy, sz
        else:
            out[i, 0], out[i, 1], out[i, 2] = px / norm, py / norm, pz / norm


@njit(**_OPTS)
def classical_field(S, bonds, exchange, zeeman, out):
    """``out = h = -dE/dS`` and return ``E = sum_b J_b S_i . S_j - sum_i B_i . S_i``."""
    energy = 0.0
    for i in range(S.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = zeeman[i, 0], zeeman[i, 1], zeeman[i, 2]
        energy -= zeeman[i, 0] * S[i, 0] + zeeman[i, 1] * S[i, 1] + zeeman[i, 2] * S[i, 2]
    for b in range(bonds.shape[0]):
        i, j, J = bonds[b, 0], bonds[b, 1], exchange[b]
        energy += J * (S[i, 0] * S[j, 0] + S[i, 1] * S[j, 1] + S[i, 2] * S[j, 2])
        for a in range(3):
            out[i, a] -= J * S[j, a]
            out[j, a] -= J * S[i, a]
    return energy


@njit(**_OPTS)
def anisotropy_field(S, K, axis, out):
    """``out += 2 K (S_i . n) n`` (the field of the single-ion term) and return ``E = -K sum_i (S_i . n)^2``."""
    energy = 0.0
    for i in range(S.shape[0]):
        p = S[i, 0] * axis[0] + S[i, 1] * axis[1] + S[i, 2] * axis[2]
        energy -= K * p * p
        for a in range(3):
            out[i, a] += 2.0 * K * p * axis[a]
    return energy


@njit(**_OPTS)
def scalar_chirality(S, triangles, out):
    """``out[t] = S_i . (S_j x S_k)`` for each triangle (i, j, k)."""
    for t in range(triangles.shape[0]):
        i, j, k = triangles[t, 0], triangles[t, 1], triangles[t, 2]
        cx = S[j, 1] * S[k, 2] - S[j, 2] * S[k, 1]
        cy = S[j, 2] * S[k, 0] - S[j, 0] * S[k, 2]
        cz = S[j, 0] * S[k, 1] - S[j, 1] * S[k, 0]
        out[t] = S[i, 0] * cx + S[i, 1] * cy + S[i, 2] * cz


# -- NumPy references -----------------------------------------------------------------------

def llg_rate_reference(S, H, alpha):
    c = np.cross(S, H)
    return c - alpha * np.cross(S, c)


def sib_vector_reference(S, H, alpha):
    return H - alpha * np.cross(S, H)


def cayley_midpoint_reference(S, A, half_dt):
    """Solve ``(I - [. x b]) y = S`` row by row with a dense 3 x 3 solve (b = half_dt A)."""
    out = np.empty_like(S)
    for i, (s, a) in enumerate(zip(S, A)):
        b = half_dt * a
        # y x b = -[b]_x y, so (I + [b]_x) y = S
        cross = np.array([[0.0, -b[2], b[1]], [b[2], 0.0, -b[0]], [-b[1], b[0], 0.0]])
        out[i] = np.linalg.solve(np.eye(3) + cross, s)
    return out


def normalise_reference(S):
    return S / np.linalg.norm(S, axis=1, keepdims=True)


def heun_predict_reference(S, H, alpha, dt):
    f = llg_rate_reference(S, H, alpha)
    return f, normalise_reference(S + dt * f)


def heun_correct_reference(S, f0, P, H1, alpha, dt):
    return normalise_reference(S + 0.5 * dt * (f0 + llg_rate_reference(P, H1, alpha)))


def rotate_reference(S, A, dt):
    """The flow of ``dS/dt = S x A`` (A fixed) by the matrix exponential of ``-dt [A]_x`` (scipy)."""
    from scipy.linalg import expm

    out = np.empty_like(S)
    for i, (s, a) in enumerate(zip(S, A)):
        cross = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])   # [a]_x s = a x s
        out[i] = expm(-dt * cross) @ s                                                   # S x A = -[A]_x S
    return out


def overdamped_step_reference(S, h, gamma_dt, w):
    v = gamma_dt * h + w
    x = S + v - S * np.sum(S * v, axis=1, keepdims=True)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def classical_field_reference(S, bonds, exchange, zeeman):
    h = zeeman.copy()
    i, j = bonds[:, 0], bonds[:, 1]
    np.add.at(h, i, -exchange[:, None] * S[j])
    np.add.at(h, j, -exchange[:, None] * S[i])
    energy = float(np.sum(exchange * np.sum(S[i] * S[j], axis=1)) - np.sum(zeeman * S))
    return energy, h


def anisotropy_field_reference(S, K, axis):
    p = S @ axis
    return float(-K * np.sum(p * p)), 2.0 * K * p[:, None] * axis[None, :]


def scalar_chirality_reference(S, triangles):
    i, j, k = triangles.T
    return np.einsum("ta,ta->t", S[i], np.cross(S[j], S[k]))
