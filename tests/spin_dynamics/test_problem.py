"""SpinDynamics validation, the triangular-lattice builders and initial states, the solution's views."""

import numpy as np
import pytest

import toolkit as tk
from problems.spin_dynamics import (TRIPLE_Q_CHIRALITY, SpinDynamics, classical_triangular, triangular_lattice,
                                    triangular_state)
from problems.tight_binding import lattice_geometry, lattice_problem
from solvers.spin_dynamics import SIB, kondo_triangular
from solvers.spin_dynamics.kernels import scalar_chirality_reference


def test_bonds_and_positions_follow_the_tight_binding_numbering():
    for shape in [(3, 3), (4, 6), (6, 3)]:
        positions, bonds, triangles = triangular_lattice(shape)
        pos_tb, (nn,) = lattice_geometry("triangular", shape, shells=1)
        np.testing.assert_allclose(positions, pos_tb)
        assert {tuple(sorted(b)) for b in bonds} == {tuple(sorted(b)) for b in nn}
        n = shape[0] * shape[1]
        assert len(bonds) == 3 * n and len(triangles) == 2 * n
    _, bonds, triangles = triangular_lattice((4, 4), periodic=False)
    assert len(bonds) == 3 * 16 - 4 - 4 - 7 and len(triangles) == 2 * 3 * 3


def test_initial_states_have_their_chirality():
    _, _, tri = triangular_lattice((4, 6))
    chi = scalar_chirality_reference(triangular_state((4, 6), "triple-q"), tri)
    np.testing.assert_allclose(chi, TRIPLE_Q_CHIRALITY, rtol=1e-14)
    assert TRIPLE_Q_CHIRALITY == pytest.approx(4 / (3 * np.sqrt(3)))
    _, bonds, tri = triangular_lattice((6, 6))
    S = triangular_state((6, 6), "120")
    np.testing.assert_allclose(scalar_chirality_reference(S, tri), 0.0, atol=1e-15)
    np.testing.assert_allclose(np.sum(S[bonds[:, 0]] * S[bonds[:, 1]], axis=1), -0.5, atol=1e-15)
    assert np.all(triangular_state((3, 3), "ferro") == [0, 0, 1])
    S = triangular_state((5, 7), "random", seed=3)
    np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0)
    assert not np.array_equal(S, triangular_state((5, 7), "random", seed=4))


@pytest.mark.parametrize("shape,state", [((4, 4), "120"), ((3, 6), "triple-q"), ((6, 5), "triple-q")])
def test_a_lattice_that_cannot_hold_the_state_is_refused_by_shape(shape, state):
    with pytest.raises(tk.InvalidProblemError, match="shape"):
        triangular_state(shape, state)


def test_builders_refuse_bad_arguments_by_name():
    with pytest.raises(tk.InvalidProblemError, match="state"):
        triangular_state((3, 3), "spiral")
    with pytest.raises(tk.InvalidProblemError, match="shape"):
        triangular_lattice((2, 5))
    with pytest.raises(tk.InvalidProblemError, match="shape") as info:
        triangular_lattice((10**7, 10**7))
    assert "GiB" in str(info.value)


@pytest.mark.parametrize("field,value", [
    ("spins", [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]), ("spins", [[np.nan, 0, 1]]), ("spins", np.zeros((0, 3))),
    ("temperature", -0.1), ("damping", -1.0), ("damping", 1e7), ("dt", 0.0), ("dt", 1e-13), ("steps", -1),
    ("save_every", 0), ("bonds", [[0, 0]]), ("bonds", [[0, 9]]), ("bonds", [[0, 1, 2]]), ("exchange", [1.0, 2.0]),
    ("exchange", 1e101), ("field", (1.0, 2.0)), ("field", np.zeros((4, 3))), ("triangles", [[0, 1]]),
    ("positions", np.zeros((9, 4))), ("model", "electrons"), ("anisotropy", np.nan), ("anisotropy", 1e101),
    ("easy_axis", (0.0, 0.0, 0.0)), ("easy_axis", (1.0, 0.0)), ("easy_axis", (np.inf, 0.0, 1.0)),
])
def test_bad_fields_are_refused_by_name(field, value):
    with pytest.raises(tk.InvalidProblemError, match=field):
        tk.remake(SpinDynamics.example(0), **{field: value})


def test_a_model_gives_the_initial_spins_and_must_have_them():
    problem = kondo_triangular((3, 3), state="ferro")
    assert np.array_equal(problem.spins, problem.model.spins)
    assert np.array_equal(SpinDynamics(model=problem.model).spins, problem.model.spins)
    with pytest.raises(tk.InvalidProblemError, match="model"):
        SpinDynamics(model=lattice_problem("triangular", (3, 3), mu=0.0))
    with pytest.raises(tk.InvalidProblemError, match="spins"):
        SpinDynamics(model=problem.model, spins=np.tile([0.0, 0.0, 1.0], (4, 1)))
    with pytest.raises(tk.InvalidProblemError, match="spins"):
        SpinDynamics()


def test_solution_views(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    problem = classical_triangular((6, 6), state="triple-q", temperature=0.0, damping=0.0, dt=0.02, steps=20,
                                   save_every=10)
    sol = tk.solve(problem, SIB(), progress=False)
    assert sol.spins.shape == (3, 36, 3) and sol.chirality.shape == (3, 72)
    np.testing.assert_allclose(sol.chirality[0], TRIPLE_Q_CHIRALITY)
    np.testing.assert_allclose(sol.magnetisation[0], 0.0, atol=1e-15)
    np.testing.assert_allclose(sol.time, [0.0, 0.2, 0.4])
    ds = sol.to_xarray()
    assert ds["spins"].dims == ("frame", "site", "component") and ds["chirality"].dims == ("frame", "triangle")
    fig = sol.plot()
    fig.savefig(tmp_path / "texture.png")
    assert (tmp_path / "texture.png").stat().st_size > 0
    tk.save(sol, tmp_path / "sol.nc")
    np.testing.assert_array_equal(tk.load(tmp_path / "sol.nc").spins, sol.spins)


def test_an_undamped_run_that_drifts_in_energy_carries_a_warning():
    problem = classical_triangular((3, 3), state="random", seed=2, damping=0.0, temperature=0.0, dt=0.5,
                                   steps=200, save_every=10)
    from solvers.spin_dynamics import StochasticHeun

    sol = tk.solve(problem, StochasticHeun(), progress=False)
    assert sol.retcode is tk.ReturnCode.Success
    assert sol.stats["warnings"] and "drifted" in sol.message


def test_absurd_frame_counts_are_refused_before_allocating():
    problem = tk.remake(SpinDynamics.example(0), steps=10**9, save_every=1)
    with pytest.raises(tk.InvalidProblemError, match="GiB"):
        tk.init(problem, SIB())
    assert tk.memory_estimate(problem, SIB())["frames"] > 10**11


def test_the_easy_axis_is_normalised_and_defaults_to_z():
    base = SpinDynamics.example(0)
    np.testing.assert_array_equal(base.anisotropy_axis, [0.0, 0.0, 1.0])
    tilted = tk.remake(base, anisotropy=0.5, easy_axis=(3e-200, 0.0, 4e-200))
    np.testing.assert_allclose(tilted.anisotropy_axis, [0.6, 0.0, 0.8], rtol=1e-15)

