"""The structured KPM sweeps of a Kondo matrix (:mod:`solvers.tight_binding.kondo_sweeps`) equal the
CSR ones: the planar step against ``c1 H X + c2 X - P``, the gradient's on-site sums against NumPy,
and whole solves (moments, Omega, mu, density matrix, forces) against the CSR path."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.tight_binding import TightBinding, lattice_problem
from solvers.tight_binding import KPM, GradientProbing, Probing
from solvers.tight_binding import chebyshev as cb
from solvers.tight_binding.kondo_sweeps import KondoSweeps, from_planar, kondo_layout, to_planar
from toolkit.kernels.sparse import as_csr_arrays


def _kondo(kind="triangular", shape=(12, 12), **kw):
    base = dict(spins="random", J=2.0, kT=0.1, mu=-0.5, disorder=0.6, seed=3, local=True, pattern="onsite")
    return lattice_problem(kind, shape, **{**base, **kw})


def _sweeps(problem, parallel=False):
    ip, ix, data = as_csr_arrays(problem.matrix)
    layout = kondo_layout(ip, ix, data)
    assert layout is not None
    return KondoSweeps(layout, data, parallel), problem.matrix


def test_kondo_matrices_are_recognised_and_others_are_not():
    assert cb._Ops(_kondo().matrix, 1.0, 0.0, False).kondo is not None
    assert cb._Ops(_kondo("square", (6, 6)).matrix, 1.0, 0.0, False).kondo is not None
    H = _kondo().matrix
    ip, ix, data = as_csr_arrays(H)
    M = H.shape[0]
    # a spin flip between neighbouring sites (Rashba-like): not H0 (x) 1_2
    flip = sp.csr_matrix(([0.3, 0.3], ([0, 3], [3, 0])), shape=(M, M))
    assert kondo_layout(*as_csr_arrays((H + flip).tocsr())) is None
    # a Peierls phase on one bond
    i, j = 0, ix[ip[0]:ip[1]][-1]
    phase = sp.csr_matrix(([0.2j, -0.2j], ([i, j], [j, i])), shape=(M, M))
    assert kondo_layout(*as_csr_arrays((H + phase).tocsr())) is None
    # different hoppings for the two spins
    spin_up = sp.csr_matrix(([0.1, 0.1], ([0, 2 * 5], [2 * 5, 0])), shape=(M, M))
    assert kondo_layout(*as_csr_arrays((H + spin_up).tocsr())) is None
    # a spinless lattice and an unstructured matrix keep the CSR sweeps
    assert cb._Ops(lattice_problem("triangular", (12, 12)).matrix, 1.0, 0.0, False).kondo is None
    assert cb._Ops(H, 1.0, 0.0, False, pieces=False).kondo is None


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["triangular", "square", "kagome", "cubic"]), S=st.integers(1, 9),
       complex_=st.booleans(), dots=st.booleans(), parallel=st.booleans(), seed=st.integers(0, 1000))
def test_planar_step_matches_the_csr_reference(kind, S, complex_, dots, parallel, seed):
    shape = (4, 4, 4) if kind == "cubic" else (8, 8) if kind == "kagome" else (12, 12)
    sweeps, H = _sweeps(_kondo(kind, shape, seed=seed), parallel)
    rng = np.random.default_rng(seed)
    M = H.shape[0]
    X = rng.normal(size=(M, S)) + (1j * rng.normal(size=(M, S)) if complex_ else 0)
    P = rng.normal(size=(M, S)) + 1j * rng.normal(size=(M, S))
    c1, c2 = rng.uniform(-1, 1, 2)
    want = c1 * (H @ X) + c2 * X - P
    Pp = to_planar(P)
    sums = sweeps.step(to_planar(X), Pp, S, S, c1, c2, dots=dots)
    got = from_planar(Pp, S)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    if dots:
        np.testing.assert_allclose(sums[0], np.sum(np.abs(want) ** 2, axis=0), rtol=1e-12)
        np.testing.assert_allclose(sums[1], np.sum(np.conj(want) * X, axis=0).real, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("parallel", [False, True])
def test_gradient_mode_adds_the_source_and_the_onsite_sums(parallel):
    sweeps, H = _sweeps(_kondo(), parallel)
    rng = np.random.default_rng(7)
    M, S = H.shape[0], 5
    N = M // 2
    cplx = lambda: rng.normal(size=(M, S)) + 1j * rng.normal(size=(M, S))      # noqa: E731
    alpha, lam, alpha_old, lam_old, R = cplx(), cplx(), cplx(), cplx(), cplx()
    Z = np.zeros(N * 8 * S)
    Zp = np.zeros(N * 8 * S)
    for block, target, offset in ((alpha, Z, 0), (lam, Z, S), (alpha_old, Zp, 0), (lam_old, Zp, S)):
        to_planar(block, 2 * S, offset, out=target)
    acc = np.zeros((N, 8))
    c1, c2, cs, w = 0.7, -0.1, 0.35, 1.9
    sweeps.step(Z, Zp, 2 * S, S, c1, c2, R=to_planar(R), cs=cs, wacc=w, acc=acc)
    np.testing.assert_allclose(from_planar(Zp, S, 2 * S, 0), c1 * (H @ alpha) + c2 * alpha - alpha_old, atol=1e-12)
    np.testing.assert_allclose(from_planar(Zp, S, 2 * S, S), c1 * (H @ lam) + c2 * lam - lam_old + cs * R, atol=1e-12)
    a, la = alpha.reshape(N, 2, S), lam.reshape(N, 2, S)
    for k, (x, y) in enumerate(((0, 0), (1, 1), (0, 1), (1, 0))):
        want = w * np.sum(a[:, x] * np.conj(la[:, y]), axis=1)
        np.testing.assert_allclose(acc[:, 2 * k] + 1j * acc[:, 2 * k + 1], want, atol=1e-12)


def _both_paths(problem, solver, monkeypatch):
    kondo = tk.solve(problem, solver)
    with monkeypatch.context() as m:
        m.setattr(cb, "kondo_layout", lambda *a, **k: None)
        csr = tk.solve(problem, solver)
    return kondo, csr


@pytest.mark.parametrize("target", [dict(mu=-0.5), dict(mu=None, filling=0.25)])
@pytest.mark.parametrize("estimator", [GradientProbing(distance=2), Probing(distance=2)])
def test_solves_on_the_kondo_path_equal_the_csr_path(target, estimator, monkeypatch):
    problem = _kondo(**target)
    kondo, csr = _both_paths(problem, KPM(order=120, estimator=estimator), monkeypatch)
    assert kondo.stats["step"] == "kondo" and csr.stats["step"] == "csr"
    for name in ("grand_potential", "mu", "particles"):
        assert getattr(kondo, name) == pytest.approx(getattr(csr, name), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(kondo.moments, csr.moments, rtol=0, atol=1e-11 * abs(csr.moments[0]))
    np.testing.assert_allclose(kondo.density_matrix, csr.density_matrix, rtol=0, atol=1e-12)
    np.testing.assert_allclose(kondo.forces, csr.forces, rtol=0, atol=1e-12)


def test_parallel_kondo_sweeps_equal_serial_and_are_deterministic():
    # in parallel the column groups (one per thread at least) run concurrently; the on-site sums are
    # added group by group in order: the same numbers as serial to rounding, and the same bits every run
    problem = _kondo(mu=None, filling=0.25)
    solver = KPM(order=80, estimator=GradientProbing(distance=2))
    serial = tk.solve(problem, solver)
    runs = [tk.solve(problem, KPM(order=80, estimator=GradientProbing(distance=2), parallel=True)) for _ in range(2)]
    np.testing.assert_allclose(runs[0].moments, serial.moments, rtol=0, atol=1e-11 * serial.moments[0])
    np.testing.assert_allclose(runs[0].forces, serial.forces, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(runs[0].forces, runs[1].forces)
    np.testing.assert_array_equal(runs[0].moments, runs[1].moments)


def test_force_cache_follows_spin_updates_on_the_kondo_path():
    # the structured sweeps read the on-site blocks from the cache's live CSR data (fixed bounds: a
    # cache keeps a widened Lanczos interval, a fresh solve takes its own)
    problem = _kondo()
    solver = KPM(order=80, estimator=GradientProbing(distance=2), bounds=(-9.0, 9.0))
    cache = tk.init(problem, solver)
    assert cache.ops.kondo is not None
    spins = problem.spins.copy()
    for k in range(3):
        spins[k * 7] = [0.0, 0.0, 1.0] if k % 2 else [1.0, 0.0, 0.0]
        energy, grad = cache.energy_gradient(spins)
        fresh = tk.solve(tk.remake(problem, spins=spins), solver)
        assert energy == pytest.approx(fresh.grand_potential, rel=1e-12)
        np.testing.assert_allclose(grad, -fresh.forces, atol=1e-12)


def test_collinear_spins_and_a_real_block_work():
    spins = np.tile([1.0, 0.0, 0.0], (144, 1))
    spins[::3] = [0.0, 0.0, -1.0]
    problem = TightBinding(hamiltonian=_kondo().hamiltonian, spins=spins, J=2.0, mu=-0.5, kT=0.1, local=True,
                           pattern="onsite")
    sol = tk.solve(problem, KPM(order=60, estimator=GradientProbing(distance=2)))
    assert sol.stats["step"] == "kondo" and sol.successful
    assert np.all(np.isfinite(sol.forces))


def test_column_groups_give_the_same_solve(monkeypatch):
    """Past the cache budget the vectors run in column groups (independent recursions): the same moments
    and forces as one group, to rounding."""
    from solvers.tight_binding import kondo_sweeps

    problem = _kondo(mu=None, filling=0.25)
    solver = KPM(order=80, estimator=GradientProbing(distance=2))
    whole = tk.solve(problem, solver)
    sweeps, _ = _sweeps(problem)
    assert sweeps.column_groups(18) == [(0, 18)]
    assert sweeps.column_groups(32) == [(0, 16), (16, 32)]          # at most 24 columns per group
    monkeypatch.setattr(kondo_sweeps, "CACHE_BUDGET", 144 * 20 * 8 * 4)      # four columns per group
    assert sweeps.column_groups(18) == [(0, 4), (4, 8), (8, 12), (12, 16), (16, 18)]
    grouped = tk.solve(problem, solver)
    np.testing.assert_allclose(grouped.moments, whole.moments, rtol=0, atol=1e-11 * whole.moments[0])
    np.testing.assert_allclose(grouped.forces, whole.forces, rtol=0, atol=1e-12)
