"""HIP-NN potential (issue 19): pair lists, symmetry, forces, cutoff, periodic images, I/O, MD,
and equivalence with the reference implementation ``hippynn`` (a test-only dependency)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import toolkit as tk
from problems.molecule import GeometryOptimization, Molecule, MolecularDynamics, PotentialEnergy, organic
from solvers.molecule import LBFGS, VelocityVerlet
from solvers.molecule.hipnn import HIPNN, fit_composition, species_counts
from solvers.molecule.hipnn.pairs import directed_pairs, reference_pairs

SPECIES = ("H", "C", "N", "O")
SMALL = dict(features=8, sensitivities=6, interactions=2, atom_layers=2, cutoff=4.0, soft_min=0.8,
             soft_max=3.5, species=SPECIES)

#: 20 small organic molecules of ASE's g2 set (H, C, N, O), jittered off their minima.
MOLECULES = ["CH4", "CH3OH", "C6H6", "CH3CONH2", "HCOOH", "C2H2", "C4H4NH", "CH3CN", "H2CCO", "CO2",
             "CH3NO2", "C5H5N", "CH3CH2OH", "HCN", "C2H6", "H3CNH2", "CH3COOH", "C4H4O", "CH2OCH2", "NCCN"]


def scrambled(seed: int = 0, scale: float = 0.3, **changes) -> HIPNN:
    """A HIP-NN with its seeded initial weights perturbed (so every term contributes)."""
    solver = HIPNN(**{**SMALL, "seed": seed, **changes})
    rng = np.random.default_rng(seed + 100)
    state = {k: a + scale * rng.standard_normal(a.shape) * (0 if "sensitivity" in k else 1)
             for k, a in solver.state().items()}
    return tk.remake(solver, parameters=state)


def evaluator(solver, molecule):
    return tk.init(PotentialEnergy(molecule), solver).evaluator


def canonical(first, second, shift):
    rows = np.column_stack([first, second, np.round(shift, 9)])
    return rows[np.lexsort(rows.T[::-1])]


# -- pair lists ------------------------------------------------------------------------------

@pytest.mark.parametrize("cell,pbc,n,cutoff", [
    (None, (False,) * 3, 20, 3.0),
    (np.diag([5.0, 6.0, 7.0]), (True,) * 3, 30, 3.0),
    (np.diag([2.0, 6.0, 7.0]), (True, True, False), 10, 4.5),          # cutoff > box: many images
    (np.array([[4.0, 0, 0], [1.5, 4.0, 0], [0.7, 0.9, 3.5]]), (True,) * 3, 12, 5.0),  # skewed
    (np.diag([3.0, 3.0, 3.0]), (True,) * 3, 1, 4.0),                     # one atom, its own images
])
def test_directed_pairs_match_the_numpy_reference(cell, pbc, n, cutoff):
    rng = np.random.default_rng(n)
    box = cell if cell is not None else 6 * np.eye(3)
    x = rng.random((n, 3)) @ box
    got = canonical(*directed_pairs(x, cell, pbc, cutoff))
    want = canonical(*reference_pairs(x, cell, pbc, cutoff))
    assert got.shape == want.shape and np.allclose(got, want, atol=1e-9)
    # positions outside the cell give the same separations
    if cell is not None:
        moved = x + (rng.integers(-2, 3, (n, 3)) * np.array(pbc)) @ cell
        f, s, sh = directed_pairs(moved, cell, pbc, cutoff)
        r_moved = np.sort(np.linalg.norm(moved[s] - moved[f] + sh, axis=1))
        f, s, sh = directed_pairs(x, cell, pbc, cutoff)
        assert np.allclose(r_moved, np.sort(np.linalg.norm(x[s] - x[f] + sh, axis=1)), atol=1e-9)


# -- symmetry, forces, virial, cutoff --------------------------------------------------------

def test_energy_invariant_under_rotation_translation_and_permutation():
    solver = scrambled(1)
    mol = organic("CH3CH2OH", seed=3)
    e0, f0, _ = evaluator(solver, mol).compute(mol.positions)
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    rotated = mol.positions @ q.T + rng.standard_normal(3) * 10
    e1, f1, _ = evaluator(solver, mol).compute(rotated)
    assert abs(e1 - e0) <= 1e-9 * abs(e0)
    assert np.allclose(f1, f0 @ q.T, atol=1e-9 * np.abs(f0).max())
    hydrogens = [i for i, s in enumerate(mol.species) if s == "H"]
    order = np.arange(mol.n_atoms)
    order[hydrogens] = rng.permutation(hydrogens)
    permuted = tk.remake(mol, positions=mol.positions[order])
    assert permuted.species == mol.species
    e2, f2, _ = evaluator(solver, permuted).compute(permuted.positions)
    assert abs(e2 - e0) <= 1e-9 * abs(e0)
    assert np.allclose(f2, f0[order], atol=1e-9 * np.abs(f0).max())


def test_forces_are_minus_the_energy_gradient():
    solver = scrambled(2)
    mol = organic("CH3OH", seed=1)
    ev = evaluator(solver, mol)
    _, forces, virial = ev.compute(mol.positions)
    h = 1e-4
    numeric = np.zeros_like(forces)
    for i in range(mol.n_atoms):
        for a in range(3):
            xp, xm = mol.positions.copy(), mol.positions.copy()
            xp[i, a] += h
            xm[i, a] -= h
            numeric[i, a] = -(ev.compute(xp)[0] - ev.compute(xm)[0]) / (2 * h)
    assert np.abs(numeric - forces).max() <= 1e-6 * max(1.0, np.abs(forces).max())
    assert np.abs(forces).max() > 1e-2           # a test of something
    # isolated molecule: the virial is sum_i x_i (x) F_i
    assert np.allclose(virial, mol.positions.T @ forces, atol=1e-10 * np.abs(virial).max())


def test_periodic_virial_is_minus_the_strain_derivative():
    solver = scrambled(3, cutoff=3.0)
    rng = np.random.default_rng(0)
    cell = np.array([[4.0, 0.0, 0.0], [0.5, 4.2, 0.0], [0.3, -0.4, 3.9]])
    x = rng.random((6, 3)) @ cell
    mol = Molecule(species=("C", "H", "H", "O", "N", "H"), positions=x, cell=cell, pbc=True)

    def energy(eps):
        strain = np.eye(3) + eps
        strained = tk.remake(mol, positions=x @ strain.T, cell=cell @ strain.T)
        return evaluator(solver, strained).compute(strained.positions)[0]

    _, _, virial = evaluator(solver, mol).compute(x)
    h = 1e-5
    numeric = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            e = np.zeros((3, 3))
            e[a, b] = h
            numeric[a, b] = -(energy(e) - energy(-e)) / (2 * h)
    assert np.abs(virial - numeric).max() <= 1e-6 * max(1.0, np.abs(virial).max())


def test_energy_and_forces_continuous_as_a_neighbour_crosses_the_cutoff():
    solver = scrambled(4)
    rc, delta = solver.cutoff, 1e-6
    # a C-O pair: beyond the cutoff the energy is that of two far-apart atoms, just inside it
    # differs by O(delta^2) (the cos^2 cutoff has zero value and slope at R_c)
    def diatomic(r):
        x = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r]])
        return evaluator(solver, Molecule(species=("C", "O"), positions=x)).compute(x)
    e_far = diatomic(3 * rc)[0]
    e_out, f_out, _ = diatomic(rc + delta)
    e_in, f_in, _ = diatomic(rc - delta)
    assert e_out == e_far and np.all(f_out == 0)
    assert abs(e_in - e_far) <= 1e-10 and np.abs(f_in).max() <= 1e-5
    assert abs(diatomic(0.8 * rc)[0] - e_far) > 1e-4          # the pair does interact inside
    # an O atom crossing the carbon's cutoff next to CH4 (it stays inside an H's cutoff): the
    # energy change across matches the forces' work, and the forces agree on both sides
    base = organic("CH4", seed=0)
    direction = np.array([0.0, 0.0, 1.0])
    species = base.species + ("O",)
    sides = []
    for d in (-delta, delta):
        x = np.vstack([base.positions, base.positions[0] + (rc + d) * direction])
        sides.append(evaluator(solver, Molecule(species=species, positions=x)).compute(x))
    (e1, f1, _), (e2, f2, _) = sides
    work = -2 * delta * 0.5 * (f1[-1] + f2[-1]) @ direction
    assert abs((e2 - e1) - work) <= 1e-10 * max(1.0, abs(e1))
    assert np.abs(f1 - f2).max() <= 1e-5
    assert abs(e2 - e1) > 1e-8                                 # the H neighbours do act


# -- periodic images -------------------------------------------------------------------------

def test_periodic_cell_smaller_than_the_cutoff_is_exact():
    """An atom interacts with its own images: a cell and its 2x2x1 supercell agree per cell."""
    solver = scrambled(5, cutoff=3.5)
    rng = np.random.default_rng(1)
    cell = np.array([[2.4, 0.0, 0.0], [0.6, 2.6, 0.0], [0.0, 0.0, 3.0]])   # every length < cutoff
    x = rng.random((3, 3)) @ cell
    mol = Molecule(species=("C", "H", "O"), positions=x, cell=cell, pbc=True)
    e, f, w = evaluator(solver, mol).compute(x)
    single = Molecule(species=("C",), positions=x[:1], cell=cell, pbc=True)
    e_single = evaluator(solver, single).compute(x[:1])[0]
    isolated = Molecule(species=("C",), positions=x[:1])
    assert abs(e_single - evaluator(solver, isolated).compute(x[:1])[0]) > 1e-3   # images matter
    shifts = [np.array([i, j, 0]) @ cell for i in range(2) for j in range(2)]
    big_x = np.vstack([x + s for s in shifts])
    big = Molecule(species=("C", "H", "O") * 4, positions=big_x, cell=cell * np.array([[2], [2], [1]]), pbc=True)
    e_big, f_big, w_big = evaluator(solver, big).compute(big_x)
    assert abs(e_big - 4 * e) <= 1e-10 * abs(e_big)
    assert np.allclose(f_big, np.vstack([f] * 4), atol=1e-10)
    assert np.allclose(w_big, 4 * w, atol=1e-9)
    # moving an atom by a lattice vector changes nothing
    moved = x.copy()
    moved[1] += cell[0] - 2 * cell[2]
    e_moved, f_moved, _ = evaluator(solver, mol).compute(moved)
    assert abs(e_moved - e) <= 1e-12 * abs(e) and np.allclose(f_moved, f, atol=1e-10)


# -- the model's parts -----------------------------------------------------------------------

def test_fit_composition_is_the_least_squares_solution():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 8, size=(40, 4)).astype(float)
    true = np.array([-13.6, -1029.5, -1484.0, -2041.3])
    assert np.allclose(fit_composition(counts, counts @ true), true, rtol=1e-13)
    energies = counts @ true + rng.standard_normal(40)
    e = fit_composition(counts, energies)
    assert np.allclose(e, np.linalg.solve(counts.T @ counts, counts.T @ energies), rtol=1e-12)
    assert np.abs(counts.T @ (counts @ e - energies)).max() <= 1e-8   # normal equations
    assert np.array_equal(species_counts([("C", "H", "H"), ("O",)], SPECIES), [[2, 1, 0, 0], [0, 0, 0, 1]])
    # E_0 set from the fit is the model's block-0 energy
    solver = scrambled(0).with_species_energies(e)
    mol = organic("CH3OH")
    blocks = evaluator(solver, mol).block_energies(mol.positions)
    assert np.isclose(blocks[0], species_counts([mol.species], SPECIES)[0] @ e, rtol=1e-14)


def test_block_energies_sum_to_the_energy_and_give_the_hierarchicality():
    solver = scrambled(6)
    mol = organic("C6H6", seed=2)
    ev = evaluator(solver, mol)
    blocks = ev.block_energies(mol.positions)
    assert blocks.shape == (3,)
    assert np.isclose(blocks.sum(), ev.compute(mol.positions)[0], rtol=1e-13)
    want = sum(blocks[n] ** 2 / (blocks[n] ** 2 + blocks[n - 1] ** 2) for n in (1, 2))
    assert np.isclose(ev.hierarchicality(mol.positions), want, rtol=1e-13)


def test_numba_kernels_match_the_pure_torch_path(monkeypatch):
    """The CPU inference kernels (:mod:`solvers.molecule.hipnn.kernels`) against the torch
    reference, whole and sliced by sensitivity (the large-system path)."""
    from solvers.molecule.hipnn import model as model_module
    from solvers.molecule.hipnn.model import evaluate

    solver = scrambled(12, cutoff=3.0)
    rng = np.random.default_rng(3)
    cell = np.diag([5.0, 5.5, 6.0])
    mol = Molecule(species=tuple(rng.choice(list(SPECIES), 24)), positions=rng.random((24, 3)) @ cell,
                   cell=cell, pbc=True)
    ev = evaluator(solver, mol)
    first, second, shift = ev.pairs(mol.positions)
    results = {}
    for kernel, chunk in (("numba", None), ("torch", None), ("torch", 64)):
        if chunk:
            monkeypatch.setattr(model_module, "CHUNK_ELEMENTS", chunk)
        model = solver.model().use_kernel(kernel)
        if kernel == "numba":
            model.requires_grad_(False)
        results[kernel, chunk] = evaluate(model, ev.species, mol.positions, first, second, shift)
    ref = results["torch", None]
    for key, (e, f, w, blocks) in results.items():
        assert abs(e - ref[0]) <= 1e-12 * abs(ref[0]), key
        assert np.abs(f - ref[1]).max() <= 1e-12 * np.abs(ref[1]).max(), key
        assert np.abs(w - ref[2]).max() <= 1e-12 * np.abs(ref[2]).max(), key
        assert np.allclose(blocks, ref[3], rtol=1e-12, atol=1e-12), key


def test_float32_model_agrees_with_float64():
    mol = organic("CH3CONH2", seed=1)
    e64, f64, _ = evaluator(scrambled(7), mol).compute(mol.positions)
    e32, f32, _ = evaluator(scrambled(7, dtype="float32"), mol).compute(mol.positions)
    assert abs(e32 - e64) <= 1e-5 * abs(e64)
    assert np.abs(f32 - f64).max() <= 1e-4 * np.abs(f64).max()


def test_seeded_initial_weights_and_validation():
    a, b = HIPNN(**SMALL, seed=3), HIPNN(**SMALL, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a.state().values(), HIPNN(**SMALL, seed=3).state().values()))
    assert not np.array_equal(a.state()["blocks.0.interaction.weights"], b.state()["blocks.0.interaction.weights"])
    with pytest.raises(tk.InvalidSolverError, match="parameters"):
        HIPNN(**SMALL, parameters={"readout.0.weight": np.zeros((1, 4))})
    bad = dict(a.state())
    bad["readout.1.bias"] = np.zeros(2)
    with pytest.raises(tk.InvalidSolverError, match="readout.1.bias"):
        HIPNN(**SMALL, parameters=bad)
    bad["readout.1.bias"] = np.array([np.nan])
    with pytest.raises(tk.InvalidSolverError, match="finite"):
        HIPNN(**SMALL, parameters=bad)
    with pytest.raises(tk.InvalidSolverError, match="dtype"):
        HIPNN(**SMALL, dtype="float16")
    with pytest.raises(tk.InvalidSolverError, match="species"):
        HIPNN(**{**SMALL, "species": ("H", "H")})
    with pytest.raises(tk.InvalidProblemError, match="Cl"):
        tk.solve(PotentialEnergy(organic("CH3Cl")), a)


# -- the reference implementation ------------------------------------------------------------

def hippynn_model(n_features, n_sensitivities, soft_min, soft_max, cutoff, interactions, atom_layers,
                  periodic=False):
    """A hippynn HIP-NN graph (energy, block energies, forces) and its network and energy modules.

    hippynn's pure-torch message-passing kernels are used: its numba kernel sums in another
    order (~1e-12 relative), the pytorch one is the same arithmetic as ours.
    """
    import hippynn
    from hippynn import custom_kernels
    from hippynn.graphs import GraphModule, inputs, networks, physics, targets

    hippynn.settings.WARN_LOW_DISTANCES = False
    custom_kernels.set_custom_kernels("pytorch")
    species = inputs.SpeciesNode(db_name="Z")
    positions = inputs.PositionsNode(db_name="R")
    parents = (species, positions)
    if periodic:
        parents = parents + (inputs.CellNode(db_name="C"),)
    net = networks.Hipnn("HIPNN", parents, periodic=periodic, module_kwargs=dict(
        possible_species=[0, 1, 6, 7, 8], n_features=n_features, n_sensitivities=n_sensitivities,
        dist_soft_min=soft_min, dist_soft_max=soft_max, dist_hard_max=cutoff,
        n_interaction_layers=interactions, n_atom_layers=atom_layers))
    energy = targets.HEnergyNode("HEnergy", net)
    forces = physics.GradientNode("forces", (energy, positions), sign=-1)
    graph = GraphModule(list(parents), [energy.mol_energy, energy.energy_terms, forces])
    return graph.double(), net.torch_module, energy.torch_module


def _agrees_with_hippynn(mols, names):
    """Weights copied from a scrambled hippynn HIP-NN give ``mols`` the same energies, forces and per-block
    energies to 1e-10 (float64); every block contributes."""
    from solvers.molecule.hipnn.model import from_hippynn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)   # hippynn draws its initial weights from torch's global generator
        graph, net, head = hippynn_model(8, 6, 0.8, 3.5, 4.0, 2, 2)
        torch.manual_seed(0)
        with torch.no_grad():
            for p in list(net.parameters()) + list(head.parameters()):
                p.add_(0.2 * torch.randn_like(p))
        nmax = max(m.n_atoms for m in mols)
        numbers = {"H": 1, "C": 6, "N": 7, "O": 8}
        z = torch.zeros((len(mols), nmax), dtype=torch.int64)
        r = torch.zeros((len(mols), nmax, 3), dtype=torch.float64)
        for k, m in enumerate(mols):
            z[k, :m.n_atoms] = torch.tensor([numbers[s] for s in m.species])
            r[k, :m.n_atoms] = torch.as_tensor(m.positions) + 10.0 * k   # padded atoms sit far apart
        r.requires_grad_(True)
        energy, terms, forces = graph(z, r)
    solver = HIPNN(**SMALL, parameters=from_hippynn(net.state_dict(), head.state_dict()))
    cumulative = torch.cat(terms, dim=1).detach().numpy()
    blocks_ref = np.diff(cumulative, axis=1, prepend=0.0)
    for k, m in enumerate(mols):
        ev = evaluator(solver, m)
        e, f, _ = ev.compute(m.positions)
        e_ref = energy[k, 0].item()
        assert abs(e - e_ref) <= 1e-10 * abs(e_ref), names[k]
        f_ref = forces[k, :m.n_atoms].detach().numpy()
        assert np.abs(f - f_ref).max() <= 1e-10 * max(1.0, np.abs(f_ref).max()), names[k]
        blocks = ev.block_energies(m.positions)
        assert np.abs(blocks - blocks_ref[k]).max() <= 1e-10 * max(1.0, np.abs(blocks_ref[k]).max()), names[k]
    assert np.abs(blocks_ref[:, 1:]).min() > 1e-3      # every block contributes


def test_equivalent_to_hippynn_on_twenty_molecules():
    _agrees_with_hippynn([organic(name, seed=k) for k, name in enumerate(MOLECULES)], MOLECULES)


def test_equivalent_to_hippynn_on_a_hundred_qm9_molecules():
    """The issue's check: 100 QM9 molecules (a seeded choice among those of H, C, N, O: the model's species;
    equilibrium geometries of Ramakrishnan et al. 2014 from the qm9pack wheel)."""
    from solvers.molecule import load_qm9, molecule_of

    data = load_qm9(n=160, seed=7)
    mols = [m for m in (molecule_of(data[k]) for k in range(len(data))) if "F" not in m.species][:100]
    assert len(mols) == 100
    _agrees_with_hippynn(mols, ["".join(m.species) for m in mols])


def test_equivalent_to_hippynn_in_a_periodic_cell_with_self_images():
    from solvers.molecule.hipnn.model import from_hippynn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(1)   # hippynn draws its initial weights from torch's global generator
        graph, net, head = hippynn_model(8, 6, 0.8, 3.5, 4.0, 2, 1, periodic=True)
        rng = np.random.default_rng(2)
        cell = np.array([[3.2, 0.0, 0.0], [0.4, 3.4, 0.0], [0.2, 0.3, 3.6]])    # lengths < cutoff
        x = rng.random((5, 3)) @ cell
        species = ("C", "H", "H", "O", "N")
        z = torch.tensor([[6, 1, 1, 8, 7]])
        r = torch.as_tensor(x[None]).clone().requires_grad_(True)
        energy, terms, forces = graph(z, r, torch.as_tensor(cell[None]))
    solver = HIPNN(**{**SMALL, "atom_layers": 1}, parameters=from_hippynn(net.state_dict(), head.state_dict()))
    mol = Molecule(species=species, positions=x, cell=cell, pbc=True)
    e, f, _ = evaluator(solver, mol).compute(x)
    assert abs(e - energy.item()) <= 1e-10 * abs(energy.item())
    assert np.abs(f - forces[0].detach().numpy()).max() <= 1e-10 * max(1.0, np.abs(f).max())


# -- the potential contract ------------------------------------------------------------------

def test_save_and_load_round_trip_the_parameters(tmp_path):
    solver = scrambled(8, dtype="float32")
    solution = tk.solve(PotentialEnergy(organic("CH3OH", seed=0)), solver)
    assert solution.successful
    path = tk.save(solution, tmp_path / "hipnn.nc")
    back = tk.load(path)
    assert back.solver == solver
    assert set(back.solver.parameters) == set(solver.parameters)
    for name, array in solver.parameters.items():
        loaded = back.solver.parameters[name]
        assert loaded.dtype == array.dtype and np.array_equal(loaded, array), name
    assert tk.solve(back.problem, back.solver).energy == solution.energy
    assert back.solver != scrambled(9, dtype="float32")


def test_nve_dynamics_and_relaxation_with_random_weights():
    solver = HIPNN(**SMALL, seed=11)
    mol = tk.remake(organic("CH3OH", seed=0), velocities=np.random.default_rng(0).normal(0, 0.002, (6, 3)))
    run = tk.solve(MolecularDynamics(mol, solver, steps=40, save_every=10, thermo_every=1),
                   VelocityVerlet(dt=0.1), progress=False)
    assert run.successful
    assert np.all(np.isfinite(run.positions)) and np.all(np.isfinite(run.total_energy))
    # random weights push the atoms hard: the energy exchanged is large; Verlet keeps the total
    exchanged = np.ptp(run.potential_energy)
    drift = np.abs(run.total_energy - run.total_energy[0]).max()
    assert exchanged > 0.05 and drift <= 0.01 * exchanged
    relaxed = tk.solve(GeometryOptimization(organic("C2H6", seed=1), solver, fmax=0.05, max_steps=200), LBFGS())
    assert np.isfinite(relaxed.energy)
