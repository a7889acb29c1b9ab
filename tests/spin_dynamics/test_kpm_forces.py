"""KPM forces with the gradient-probing estimator (Wang, Chern, Batista & Barros, J. Chem. Phys. 148,
094107 (2018)) converge to the exact-diagonalisation forces as the moments and the probing vectors grow."""

import numpy as np
import pytest

import toolkit as tk
from solvers.spin_dynamics import OverdampedLangevin, kondo_triangular
from solvers.spin_dynamics.fields import electronic_problem
from solvers.tight_binding import KPM, ExactDiagonalization, GradientProbing


@pytest.fixture(scope="module")
def kondo():
    """A 6 x 6 triangular Kondo lattice with random spins (t = -1, J = 2, mu = -1, electron kT = 0.1)
    and its ED energy and gradient dOmega/dS."""
    problem = kondo_triangular((6, 6), state="random", seed=3, filling=None, mu=-1.0, kT=0.1)
    model = electronic_problem(problem)
    energy, gradient = tk.init(model, ExactDiagonalization()).energy_gradient(problem.spins)
    return problem, model, energy, gradient


def _error(kondo, order, distance):
    problem, model, e0, g0 = kondo
    cache = tk.init(model, KPM(order=order, estimator=GradientProbing(distance=distance), bounds="gershgorin"))
    e, g = cache.energy_gradient(problem.spins)
    return float(np.sqrt(np.mean((g - g0) ** 2) / np.mean(g0 ** 2))), abs(e - e0) / problem.sites


def test_kpm_forces_converge_to_ed_as_the_moments_grow(kondo):
    """Probing vectors at distance 8 (colours farther apart than any pair: the trace is exact), so only
    the Chebyshev truncation is left: the relative force error falls monotonically with the order
    (measured 1.9e-2, 4.7e-3, 2.4e-4, 8.7e-7 at 40, 80, 160, 320 moments)."""
    errors = [_error(kondo, order, 8) for order in (40, 80, 160, 320)]
    print("relative force error, energy error per site vs order:", errors)
    force = [f for f, _ in errors]
    assert all(b < a for a, b in zip(force, force[1:]))
    assert force[0] > 1e-3 and force[-1] < 1e-5
    assert errors[-1][1] < 1e-7


def test_kpm_forces_converge_to_ed_as_the_probing_vectors_grow(kondo):
    """1000 moments (truncation error below 1e-12), probing distance 0, 1, 2, 3: more colours, fewer
    same-colour pairs; on 6 x 6 distance 3 already separates every pair that the density matrix at
    this kT couples appreciably (measured 1.1, 0.24, 0.12, 1e-14)."""
    errors = [_error(kondo, 1000, d)[0] for d in (0, 1, 2, 3)]
    print("relative force error vs probing distance:", errors)
    assert all(b < a for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 1e-10


def test_moments_and_vectors_grown_together_give_ed_dynamics(kondo):
    """A short overdamped run with KPM forces follows the ED run ever closer as (order, distance) grow."""
    problem = tk.remake(kondo[0], temperature=0.0, damping=1.0, dt=0.05, steps=10, save_every=10)
    ed = tk.solve(problem, OverdampedLangevin(forces=ExactDiagonalization()), progress=False)
    gaps = []
    for order, distance in ((60, 1), (150, 2), (400, 3)):
        kpm = KPM(order=order, estimator=GradientProbing(distance=distance), bounds="gershgorin")
        sol = tk.solve(problem, OverdampedLangevin(forces=kpm), progress=False)
        gaps.append(float(np.max(np.abs(sol.spins[-1] - ed.spins[-1]))))
    print("max spin deviation from the ED run after 10 steps:", gaps)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-6
