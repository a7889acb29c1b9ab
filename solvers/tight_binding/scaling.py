"""Stochastic error of the density matrix vs the number of vectors S (issue 3, Wang et al. 2018).

On a clean periodic lattice the exact (order-``order`` polynomial) density matrix is translation
invariant, so one column ``p(H~) e_0`` gives every entry: the reference costs one vector. The
direct estimators are compared with ``f_poly(H)`` (the damped Fermi series), the gradient
estimator with ``(1/a) p'(H~)`` for ``p`` the damped grand-potential series (``chebder``), so the
measured error is the stochastic/probing error alone, not the truncation.

Wang, Chern, Batista & Barros, J. Chem. Phys. 148, 094107 (2018), doi:10.1063/1.5017741 report
random vectors ~ S^(-1/2) and, at zero temperature in a 2D metal, gradient-based probing ~ S^(-1).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.tight_binding import lattice_problem

from . import chebyshev as cb
from .estimators import GradientProbing, Probing, RandomVectors
from .kpm import KPM
from .solution import density_pattern

__all__ = ["reference_density_matrix", "density_matrix_error", "error_scaling", "fit_exponent"]


def _translation_index(problem, rows, cols):
    kind, shape, _ = problem.lattice
    from problems.tight_binding import LATTICES

    nb = LATTICES[kind][1].shape[0]
    if nb != 1:
        raise ValueError("the translation-invariant reference needs a Bravais lattice (chain, square, cubic, triangular)")
    ci = np.array(np.unravel_index(rows, shape))
    cj = np.array(np.unravel_index(cols, shape))
    disp = (ci - cj) % np.array(shape)[:, None]
    return np.ravel_multi_index(disp, shape)


def reference_density_matrix(problem, solver, mu, gradient: bool):
    """The order-``solver.order`` polynomial density matrix on the pattern (one column, by symmetry)."""
    H = problem.matrix
    if solver.bounds == "gershgorin":
        lo, hi = cb.gershgorin_bounds(H)
    elif solver.bounds == "lanczos":
        lo, hi = cb.lanczos_bounds(H, solver.lanczos_steps, solver.seed)
    else:
        lo, hi = solver.bounds
    a, b = cb.scale_from_bounds(lo, hi)
    g = solver.damping("thermo", problem.kT)
    if gradient:
        coef = np.polynomial.chebyshev.chebder(cb.grand_coefficients(solver.order, a, b, mu, problem.kT) * g) / a
    else:
        coef = cb.fermi_coefficients(solver.order, a, b, mu, problem.kT) * g
    ops = cb._Ops(H, a, b, False)
    e0 = np.zeros((H.shape[0], 1))
    e0[0, 0] = 1.0
    col = np.zeros(H.shape[0])
    rows_all = np.arange(H.shape[0], dtype=np.int64)
    cols0 = np.zeros(H.shape[0], dtype=np.int64)
    Y = cb.direct_sweep(ops, e0, coef, rows_all[:0], cols0[:0], 1.0, col[:0])
    col = Y[:, 0]
    rows, cols = density_pattern(problem)
    return rows, cols, col[_translation_index(problem, rows, cols)]


def density_matrix_error(problem, solver):
    """RMS error of the estimated density matrix over the pattern (H's bonds and the diagonal)."""
    sol = tk.solve(problem, solver)
    _, _, ref = reference_density_matrix(problem, solver, sol.mu, solver.estimator.gradient)
    return float(np.sqrt(np.mean(np.abs(sol.density_matrix - ref) ** 2))), sol.stats["vectors"]


def fit_exponent(S, err):
    """Slope of log(err) vs log(S)."""
    return float(np.polyfit(np.log(S), np.log(err), 1)[0])


def error_scaling(L=120, order=256, mu=-0.5, kT=0.0, counts=(4, 8, 16, 32, 64), distances=(1, 2, 3, 4, 5, 7),
                  seeds=2, kind="square"):
    """Errors vs S for random vectors (direct), probing (direct) and gradient probing; fitted exponents.

    Returns a dict: method -> (S array, error array, exponent).
    """
    problem = lattice_problem(kind, L, mu=mu, kT=kT, local=True)
    out = {}
    S_r, e_r = [], []
    for count in counts:
        errs = [density_matrix_error(problem, KPM(order=order, estimator=RandomVectors(count=count), seed=s))[0]
                for s in range(seeds)]
        S_r.append(count), e_r.append(float(np.sqrt(np.mean(np.square(errs)))))
    out["random vectors"] = (np.array(S_r), np.array(e_r), fit_exponent(S_r, e_r))
    for name, cls in (("probing", Probing), ("gradient probing", GradientProbing)):
        S_p, e_p = [], []
        for k in distances:
            errs, S = [], 0
            for s in range(seeds):
                err, S = density_matrix_error(problem, KPM(order=order, estimator=cls(distance=k), seed=s))
                errs.append(err)
            S_p.append(S), e_p.append(float(np.sqrt(np.mean(np.square(errs)))))
        out[name] = (np.array(S_p), np.array(e_p), fit_exponent(S_p, e_p))
    return out
