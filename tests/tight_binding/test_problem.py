"""Lattice builders and TightBinding validation."""

import numpy as np
import pytest
import scipy.sparse as sp
import sparse
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.tight_binding import (TightBinding, kondo_hamiltonian, lattice_geometry, lattice_hamiltonian,
                                    lattice_problem, random_spins)
from solvers.tight_binding import KPM, Probing, RandomVectors

# coordination numbers of the first three neighbour shells
SHELLS = {"chain": (2, 2, 2), "square": (4, 4, 4), "cubic": (6, 12, 8), "triangular": (6, 6, 6),
          "honeycomb": (3, 6, 3), "kagome": (4, 4, 6)}  # kagome 3rd: 4 along lines + 2 across hexagons


@pytest.mark.parametrize("kind", sorted(SHELLS))
def test_coordination_numbers(kind):
    L = 4 if kind == "cubic" else 8
    _, bonds = lattice_geometry(kind, L, True, shells=3)
    n = len(_)
    for want, pairs in zip(SHELLS[kind], bonds):
        counts = np.bincount(pairs[:, 0], minlength=n)
        assert np.all(counts == want), (kind, want, np.unique(counts))


@pytest.mark.parametrize("kind", sorted(SHELLS))
def test_hamiltonian_hermitian_and_open_boundaries_cut_bonds(kind):
    L = 3 if kind == "cubic" else 5
    Hp = lattice_hamiltonian(kind, L, hoppings=(1.0, 0.3, 0.1))
    Ho = lattice_hamiltonian(kind, L, periodic=False, hoppings=(1.0, 0.3, 0.1))
    assert abs(Hp - Hp.T).max() == 0 and abs(Ho - Ho.T).max() == 0
    assert Ho.nnz < Hp.nnz
    assert TightBinding(hamiltonian=Hp).hamiltonian.indices.dtype == np.int64


def test_disorder_is_seeded_and_bounded():
    a = lattice_hamiltonian("square", 6, disorder=2.0, seed=3).diagonal()
    b = lattice_hamiltonian("square", 6, disorder=2.0, seed=3).diagonal()
    c = lattice_hamiltonian("square", 6, disorder=2.0, seed=4).diagonal()
    assert np.array_equal(a, b) and not np.array_equal(a, c) and np.all(np.abs(a) <= 1.0)


def test_kondo_hamiltonian_is_hermitian_with_spin_splitting():
    H0 = lattice_hamiltonian("chain", 4)
    S = random_spins(4, 1)
    H = kondo_hamiltonian(H0, S, 2.0).toarray()
    assert np.allclose(H, H.conj().T)
    # isolated site: levels -J and +J
    block = H[0:2, 0:2]
    assert np.allclose(np.linalg.eigvalsh(block), [-2.0, 2.0])


def test_inputs_scipy_pydata_dense_complex():
    H = lattice_hamiltonian("chain", 6)
    for form in (H, sparse.COO.from_scipy_sparse(H), H.toarray(), H.astype(complex)):
        p = TightBinding(hamiltonian=form, mu=0.0)
        assert p.matrix.dtype == np.float64 and sp.isspmatrix_csr(p.matrix)
    Hc = H.astype(complex)
    Hc[0, 1] = 1j
    Hc[1, 0] = -1j
    assert TightBinding(hamiltonian=Hc).matrix.dtype == np.complex128


@pytest.mark.parametrize("changes, field", [
    (dict(hamiltonian=np.ones((2, 3))), "hamiltonian"),
    (dict(hamiltonian=np.array([[0, 1], [2, 0.0]])), "hamiltonian"),
    (dict(hamiltonian=np.array([[np.nan, 0], [0, 0.0]])), "hamiltonian"),
    (dict(hamiltonian="H"), "hamiltonian"),
    (dict(filling=1.5), "filling"),
    (dict(filling=0.5, mu=0.0), "mu"),
    (dict(kT=-0.1), "kT"),
    (dict(spins=np.ones((4, 3))), "spins"),
    (dict(spins=np.ones((3, 3)) / np.sqrt(3)), "spins"),
    (dict(spins=np.full((4, 3), np.nan)), "spins"),
    (dict(dos_points=1), "dos_points"),
    (dict(lattice=("square", (3, 3), True)), "lattice"),
    (dict(lattice=("hexagonal", (4,), True)), "lattice"),
])
def test_bad_problem_fields_name_the_field(changes, field):
    base = dict(hamiltonian=lattice_hamiltonian("chain", 4))
    with pytest.raises(tk.InvalidProblemError, match=field):
        TightBinding(**{**base, **changes})


@settings(max_examples=20, deadline=None)
@given(filling=st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not 0 <= f <= 1))
def test_filling_outside_unit_interval_refused(filling):
    with pytest.raises(tk.InvalidProblemError, match="filling"):
        TightBinding(hamiltonian=lattice_hamiltonian("chain", 4), filling=filling)


@pytest.mark.parametrize("kwargs, field", [(dict(order=1), "order"), (dict(kernel="gauss"), "kernel"),
                                           (dict(estimator="exact"), "estimator"), (dict(seed=-1), "seed"),
                                           (dict(bounds="guess"), "bounds")])
def test_bad_solver_fields_name_the_field(kwargs, field):
    with pytest.raises(tk.InvalidSolverError, match=field):
        KPM(**kwargs)
    with pytest.raises(tk.InvalidSolverError, match="count"):
        RandomVectors(count=0)
    with pytest.raises(tk.InvalidSolverError, match="distance"):
        Probing(distance=-1)


def test_examples_are_valid_and_repr_is_compact():
    for seed in range(4):
        p = TightBinding.example(seed)
        assert "csr_matrix" in repr(p) and len(repr(p)) < 300
        assert tk.remake(p, kT=0.5).kT == 0.5


def test_lattice_problem_records_lattice_and_spins():
    p = lattice_problem("honeycomb", 3, spins="ferro", filling=0.5)
    assert p.lattice == ("honeycomb", (3, 3), True) and p.size == 36 and p.spinful
