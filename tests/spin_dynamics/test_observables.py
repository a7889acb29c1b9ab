"""Structure factor (FFT against the direct sum, known peaks), the Chern number of the occupied levels
(Fukui-Hatsugai-Suzuki with twisted boundary conditions), the Hall conductance, the lattice fields,
the annealed bath and the BLAS pin of force evaluations (issue 18)."""

import numpy as np
import pytest

import toolkit as tk
from problems.spin_dynamics import TRIANGULAR_VECTORS, SpinDynamics, classical_triangular
from solvers.spin_dynamics import SIB, StochasticHeun, kondo_triangular
from solvers.spin_dynamics.observables import (E2_OVER_H, TRIANGULAR_POINTS, chern_number, reciprocal_grid,
                                               structure_factor, structure_factor_direct, structure_factor_of)
from solvers.tight_binding import ExactDiagonalization

P = TRIANGULAR_POINTS


@pytest.mark.parametrize("shape", [(6, 6), (4, 6), (3, 5)])
def test_fft_structure_factor_equals_the_direct_sum(shape):
    problem = classical_triangular(shape, state="random", seed=5)
    _, q = reciprocal_grid(problem.lattice_vectors, problem.lattice_shape)
    fft = structure_factor(problem.spins, problem.positions, problem.lattice_vectors, problem.lattice_shape)
    direct = structure_factor_direct(problem.spins, problem.positions, q)
    np.testing.assert_allclose(fft, direct, rtol=1e-12, atol=1e-12)
    assert fft.sum() == pytest.approx(problem.sites, rel=1e-12)         # sum rule, unit spins on a Bravais lattice


def test_fft_structure_factor_with_sublattices_equals_the_direct_sum():
    """A 2-site basis (a rectangular lattice with a site at the cell's centre): the FFT over cells
    needs the sublattice phases e^{i q . tau_s}."""
    L1, L2, a = 3, 4, np.array([[1.0, 0.0], [0.0, 1.3]])
    tau = np.array([[0.0, 0.0], [0.5, 0.65]])
    pos = np.array([i * a[0] + j * a[1] + t for i in range(L1) for j in range(L2) for t in tau])
    S = np.random.default_rng(1).normal(size=(len(pos), 3))
    S /= np.linalg.norm(S, axis=1, keepdims=True)
    problem = SpinDynamics(spins=S, positions=pos, lattice_vectors=a, lattice_shape=(L1, L2))
    assert problem.sublattices == 2
    sf = structure_factor_of(problem, S)
    np.testing.assert_allclose(sf.values, structure_factor_direct(S, pos, sf.q), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("state,peaks", [("ferro", {"Gamma": 1.0}), ("120", {"K": 0.5, "K'": 0.5}),
                                          ("triple-q", {"M1": 1 / 3, "M2": 1 / 3, "M3": 1 / 3})])
def test_ordered_states_peak_where_they_should(state, peaks):
    problem = classical_triangular((6, 6), state=state, temperature=0.0, steps=0)
    sol = tk.solve(problem, SIB(), progress=False)
    sf = sol.structure_factor()
    N = problem.sites
    for name, point in P.items():
        assert sf.at(point) == pytest.approx(peaks.get(name, 0.0) * N, abs=1e-9), name
    assert sf.values.sum() == pytest.approx(N)
    assert sf.peak()[1] == pytest.approx(max(peaks.values()) * N)
    if state == "triple-q":
        np.testing.assert_allclose(sol.m_point_weights(), N / 3)


def test_a_point_off_the_grid_and_a_bad_frame_are_refused():
    sol = tk.solve(classical_triangular((4, 4), state="ferro", steps=0), SIB(), progress=False)
    with pytest.raises(ValueError, match="point"):
        sol.structure_factor().at(P["K"])                              # K is not on a 4 x 4 grid
    with pytest.raises(IndexError, match="frame"):
        sol.structure_factor(frame=5)
    with pytest.raises(tk.InvalidProblemError, match="lattice_vectors"):
        structure_factor_of(SpinDynamics(spins=[[0.0, 0.0, 1.0]]), [[0.0, 0.0, 1.0]])


# -- Chern number ------------------------------------------------------------------------------

def test_triple_q_at_quarter_filling_has_chern_number_one_with_the_sign_of_its_chirality():
    """Martin & Batista, PRL 101, 156402 (2008): the gapped triple-Q state at quarter filling, C = +-1;
    S -> -S flips every chirality and C; the result does not depend on the twist grid."""
    problem = kondo_triangular((6, 6), state="triple-q", kT=0.01, J=2.0, hopping=-1.0, filling=0.25)
    c4 = chern_number(problem, twists=4)
    c6 = chern_number(problem, twists=6)
    flipped = chern_number(problem, -problem.spins, twists=4)
    assert c4.gapped and c4.gap > 0.5 and c4.occupied == 36 // 2
    assert abs(c4.chern) == 1 and c6.chern == c4.chern and flipped.chern == -c4.chern
    assert c4.value == pytest.approx(c4.chern, abs=1e-9)
    assert c4.hall_conductance == c4.chern
    assert c4.hall_conductance_si == pytest.approx(c4.chern * 3.874045864e-5) and E2_OVER_H == pytest.approx(3.874e-5,
                                                                                                           rel=1e-3)
    # a global rotation keeps C
    theta = 0.7
    R = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    assert chern_number(problem, problem.spins @ R.T, twists=4).chern == c4.chern


@pytest.mark.parametrize("state", ["ferro", "120"])
def test_collinear_and_coplanar_insulators_have_chern_number_zero(state):
    """Strong coupling (J = 6 > half the band width), half filling: the lower spin manifold is full
    and gapped; a collinear or coplanar texture carries no Berry flux, so C = 0."""
    problem = kondo_triangular((6, 6), state=state, kT=0.01, J=6.0, filling=0.5)
    c = chern_number(problem, twists=4)
    assert c.gapped and c.chern == 0 and abs(c.value) < 1e-9
    assert c.hall_conductance == 0.0


@pytest.mark.parametrize("state", ["ferro", "120"])
def test_metals_at_quarter_filling_are_flagged_and_get_no_hall_conductance(state):
    problem = kondo_triangular((6, 6), state=state, kT=0.01, J=2.0, filling=0.25)
    c = chern_number(problem, twists=4)
    assert not c.gapped
    with pytest.raises(ValueError, match="not gapped"):
        c.hall_conductance


def test_chern_number_needs_electrons_and_a_lattice():
    with pytest.raises(tk.InvalidProblemError, match="model"):
        chern_number(classical_triangular((4, 4), state="triple-q"))
    problem = kondo_triangular((4, 4), state="triple-q")
    with pytest.raises(tk.InvalidProblemError, match="lattice_vectors"):
        chern_number(tk.remake(problem, lattice_vectors=None, lattice_shape=None))


def test_solution_exposes_chern_number_and_hall_conductance():
    problem = kondo_triangular((4, 4), state="triple-q", kT=0.01, temperature=0.0, damping=0.5, steps=2, save_every=1)
    sol = tk.solve(problem, SIB(forces=ExactDiagonalization()), progress=False)
    c = sol.chern_number(0, twists=4)
    assert abs(c.chern) == 1 and sol.hall_conductance(0, twists=4) == c.chern


# -- the problem's new fields --------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    dict(lattice_vectors=None), dict(lattice_shape=None), dict(lattice_shape=(2, 2)), dict(lattice_shape=(3, 2)),
    dict(lattice_vectors=[[1.0, 0.0], [2.0, 0.0]]), dict(lattice_vectors=[[1.0, 0.0], [0.0, 1.0]]),
    dict(final_temperature=-1.0), dict(anneal_steps=0)])
def test_bad_lattice_and_anneal_fields_are_refused_by_name(changes):
    (name,) = changes
    problem = classical_triangular((3, 3))
    with pytest.raises(tk.InvalidProblemError, match=name if "lattice_vectors=None" not in str(changes) else "lattice"):
        tk.remake(problem, **changes)


def test_the_bath_is_annealed_linearly_then_held():
    problem = classical_triangular((3, 3), temperature=0.4, final_temperature=0.0, anneal_steps=4, steps=10)
    assert [problem.bath_temperature(k) for k in range(6)] == pytest.approx([0.4, 0.3, 0.2, 0.1, 0.0, 0.0])
    assert problem.annealed and not tk.remake(problem, final_temperature=0.4).annealed
    assert tk.remake(problem, anneal_steps=None).bath_temperature(5) == pytest.approx(0.2)


def test_an_annealed_run_resumes_bit_identically_and_is_silent_once_cold(tmp_path):
    problem = classical_triangular((3, 3), state="random", seed=1, temperature=0.3, final_temperature=0.0,
                                   anneal_steps=10, damping=0.5, dt=0.05, steps=30, save_every=5)
    solver = StochasticHeun(seed=4)
    whole = tk.solve(problem, solver, progress=False)
    path = tmp_path / "anneal.nc"
    tk.init(problem, solver, progress=False, checkpoint=path).run(until=7)
    resumed = tk.resume(path, progress=False)
    resumed.run()
    np.testing.assert_array_equal(resumed.solution().spins, whole.spins)
    # noise stops at the end of the ramp: from then on the damped run only loses energy
    cold = whole.energy[whole.step >= 10]
    assert np.all(np.diff(cold) <= 1e-12)
    hot = tk.solve(tk.remake(problem, final_temperature=None), solver, progress=False)
    assert not np.array_equal(hot.spins[-1], whole.spins[-1])


def test_force_evaluations_run_with_one_blas_thread():
    from threadpoolctl import threadpool_info

    problem = kondo_triangular((3, 3), temperature=0.0, steps=2, save_every=1)
    integ = tk.init(problem, SIB(forces=ExactDiagonalization()), progress=False)
    seen = []
    real = integ.field.cache.energy_gradient

    def spy(spins):
        seen.append(max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default=1))
        return real(spins)

    integ.field.cache.energy_gradient = spy
    integ.run()
    assert seen and set(seen) == {1}
    with pytest.raises(tk.InvalidSolverError, match="blas_threads"):
        SIB(blas_threads=0)
