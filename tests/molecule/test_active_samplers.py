"""Candidate samplers of active learning: normal-mode sampling (ANI-1) and committee-stopped MD (ALF).

Measured when written (ethanol under GFN2-xTB, 21 modes, 300 K, 400 samples): the harmonic
energies 1/2 dx^T H dx equal the drawn ones to 1e-15 eV and follow their stated laws (KS p-values
0.4-0.9); at 300 K the true GFN2-xTB energy rise is about 1.4x the harmonic one (torsions are
anharmonic), at 10 K within a few per cent.
"""

from __future__ import annotations

import numpy as np
import pytest

import toolkit as tk
from problems.molecule import KB_EV, argon_cluster, organic
from solvers.molecule import LennardJones, TBLite
from solvers.molecule.active.samplers import (RECIPES, committee_md, harmonic_energy_law, normal_mode_samples,
                                              normal_modes)
from solvers.molecule.potential import force_function


@pytest.fixture(scope="module")
def ethanol_modes():
    mol = organic("CH3CH2OH")
    modes = normal_modes(mol, TBLite(), relax=True)
    return tk.remake(mol, positions=modes.positions), modes


def _harmonic(ds, modes):
    n = len(modes.positions)
    dx = ds.positions.reshape(len(ds), 3 * n) - modes.positions.ravel()
    return 0.5 * np.einsum("ca,ab,cb->c", dx, modes.hessian, dx)


@pytest.mark.parametrize("recipe", RECIPES)
def test_normal_mode_samples_have_the_target_harmonic_energy(ethanol_modes, recipe):
    from scipy import stats

    mol, modes = ethanol_modes
    assert len(modes.constants) == 3 * 9 - 6 and np.all(modes.constants > 0)
    count, temperature = 400, 300.0
    ds = normal_mode_samples(mol, TBLite(), temperature, count, seed=3, recipe=recipe, modes=modes)
    u = _harmonic(ds, modes)
    assert np.allclose(u, ds.energies, rtol=1e-9, atol=1e-12)          # the drawn energies are the harmonic ones
    law = harmonic_energy_law(recipe, 9, 21, temperature)
    expected = 1.5 * 9 * KB_EV * temperature * 0.5 if recipe == "ani1" else 21 * KB_EV * temperature / 2
    assert law.mean() == pytest.approx(expected)
    assert abs(u.mean() - expected) < 4 * law.std() / np.sqrt(count)  # the mean, within 4 standard errors
    assert stats.kstest(u, law.cdf).pvalue > 1e-3                       # and the whole distribution
    # the same seed gives the same samples; another seed others
    again = normal_mode_samples(mol, TBLite(), temperature, count, seed=3, recipe=recipe, modes=modes)
    assert np.array_equal(again.positions, ds.positions)
    assert not np.array_equal(normal_mode_samples(mol, TBLite(), temperature, 5, seed=4, recipe=recipe,
                                                  modes=modes).positions, ds.positions[:45])


def test_cold_normal_mode_samples_rise_by_the_harmonic_energy_under_the_oracle(ethanol_modes):
    mol, modes = ethanol_modes
    ds = normal_mode_samples(mol, TBLite(), 10.0, 30, seed=0, recipe="thermal", modes=modes)
    _, compute = force_function(mol, TBLite())
    rise = np.array([compute(ds[k].positions)[0] for k in range(len(ds))]) - modes.energy
    assert abs(rise.mean() / ds.energies.mean() - 1.0) < 0.1, (rise.mean(), ds.energies.mean())


def test_normal_modes_refuse_a_geometry_that_is_not_a_minimum():
    mol = organic("CH3CH2OH", seed=0, jitter=0.15)
    with pytest.raises(RuntimeError, match="not a minimum"):
        normal_modes(mol, TBLite())
    with pytest.raises(tk.InvalidOptionError, match="recipe"):
        normal_mode_samples(mol, TBLite(), 300.0, 2, recipe="boltzmann")
    with pytest.raises(tk.InvalidOptionError, match="temperature"):
        normal_mode_samples(mol, TBLite(), -1.0, 2)


# -- committee-stopped MD ------------------------------------------------------------------------

def _lj_committee():
    """Two argon models that disagree more the farther atoms move from the 3.82 Å spacing."""
    return [LennardJones.argon(), LennardJones.argon(sigma=3.35)]


def _spread(committee, mol, x):
    f = np.array([force_function(mol, p)[1](x)[1] for p in committee])
    return float(np.linalg.norm(f.std(axis=0, ddof=1), axis=1).max())


def test_committee_md_stops_when_the_spread_passes_the_threshold():
    mol = argon_cluster()
    committee = _lj_committee()
    start = _spread(committee, mol, mol.positions)
    threshold = 2.0 * start
    run = committee_md(mol, committee, temperature=200.0, steps=4000, threshold=threshold, seed=1, dt=5.0)
    assert run.stopped and 0 < run.steps < 4000
    assert run.spread[-1] > threshold and np.all(run.spread[:-1] <= threshold)
    assert _spread(committee, mol, run.positions) == pytest.approx(run.spread[-1], rel=1e-12)
    again = committee_md(mol, committee, temperature=200.0, steps=4000, threshold=threshold, seed=1, dt=5.0)
    assert again.steps == run.steps and np.array_equal(again.positions, run.positions)
    # a threshold never reached: the run goes to the end; one already passed: it stops at once
    calm = committee_md(mol, committee, temperature=5.0, steps=50, threshold=100.0, seed=1, dt=5.0)
    assert not calm.stopped and calm.steps == 50 and calm.times[-1] == 50
    hot = committee_md(mol, committee, temperature=5.0, steps=50, threshold=0.5 * start, seed=1)
    assert hot.stopped and hot.steps == 0
    with pytest.raises(tk.InvalidOptionError, match="committee"):
        committee_md(mol, committee[:1], temperature=5.0, steps=5, threshold=1.0)
    with pytest.raises(tk.InvalidOptionError, match="threshold"):
        committee_md(mol, committee, temperature=5.0, steps=5, threshold=0.0)


def test_committee_md_pool_keeps_the_configurations_where_runs_stopped():
    from problems.datasets import ActiveLearning
    from solvers.molecule.active import committee_md_pool

    mol = argon_cluster()
    committee = _lj_committee()
    threshold = 2.0 * _spread(committee, mol, mol.positions)
    pool = committee_md_pool(mol, committee, [5.0, 200.0], runs=2, steps=400, threshold=threshold, seed=0, dt=5.0)
    assert 1 <= len(pool) <= 4 and set(pool.ids.tolist()) <= {0, 1, 2, 3}
    for k in range(len(pool)):                                     # every kept configuration is past the threshold
        assert _spread(committee, mol, pool[k].positions) > threshold
    # it serves as a campaign's pool
    example = ActiveLearning.example(0)
    problem = ActiveLearning(example.start, pool, example.oracle, budget=1, test=example.test, validation=0.34)
    assert len(problem.pool) == len(pool)
    with pytest.raises(RuntimeError, match="no committee-MD run"):
        committee_md_pool(mol, committee, [5.0], runs=1, steps=5, threshold=100.0)
