"""The fast MD kernels equal their NumPy references: the half-stencil Verlet list (pairs, each once,
and the image split), the vectorised Lennard-Jones forces / energy / virial, their threaded variant,
and a threaded MD run against a serial one (hypothesis over random configurations, periodic images
included)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit as tk
from problems.molecule import LJ_TIME_FS, MolecularDynamics, lj_fluid
from solvers.molecule import LennardJones, VelocityVerlet
from solvers.molecule.kernels import md_list, pair_forces, pair_forces_parts
from solvers.molecule.pairlist import half_stencil_list, half_stencil_list_parts


def _numpy_pairs(x, box, periodic, cutoff):
    d = x[:, None, :] - x[None, :, :]
    for a in range(3):
        if periodic[a]:
            d[..., a] -= box[a] * np.rint(d[..., a] / box[a])
    i, j = np.nonzero(np.triu((d ** 2).sum(-1) < cutoff ** 2, k=1))
    return set(zip(i.tolist(), j.tolist()))


def _listed(starts, nbrs):
    return [(min(i, int(j)), max(i, int(j))) for i in range(len(starts) - 1) for j in nbrs[starts[i]:starts[i + 1]]]


def _numpy_lj(x, box, periodic, eps, sigma, rc, shift):
    """Energy, forces and virial ``sum_{i<j} r_ij (x) F_ij`` over all minimum-image pairs within ``rc``."""
    d = x[:, None, :] - x[None, :, :]
    for a in range(3):
        if periodic[a]:
            d[..., a] -= box[a] * np.rint(d[..., a] / box[a])
    r2 = (d ** 2).sum(-1)
    np.fill_diagonal(r2, np.inf)
    inside = r2 < rc * rc
    s6 = np.where(inside, (sigma * sigma / r2) ** 3, 0.0)
    energy = 0.5 * np.sum(np.where(inside, 4 * eps * (s6 * s6 - s6) - shift, 0.0))
    fr = np.where(inside, 4 * eps * (12 * s6 * s6 - 6 * s6) / r2, 0.0)
    forces = (fr[..., None] * d).sum(1)
    virial = 0.5 * np.einsum("ija,ijb->ab", d, fr[..., None] * d)
    return energy, forces, virial


def _configuration(n, lengths, flags, seed, edge):
    rng = np.random.default_rng(seed)
    box = np.array(lengths)
    periodic = np.array(flags, dtype=np.int64)
    x = rng.uniform(0, 1, (n, 3)) * box
    if edge:                      # a wrap that rounded up to exactly L, and atoms hugging the faces
        x[: n // 4, 0] = box[0]
        x[n // 4: n // 2, 1] = 1e-12
    return x, box, periodic


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 260), lengths=st.lists(st.floats(3.0, 12.0), min_size=3, max_size=3),
       flags=st.lists(st.booleans(), min_size=3, max_size=3), cutoff=st.floats(0.3, 1.6),
       seed=st.integers(0, 2 ** 16), edge=st.booleans(), parts=st.integers(2, 4))
def test_half_stencil_list_lists_every_pair_once_and_splits_by_image(n, lengths, flags, cutoff, seed, edge, parts):
    """Every pair once, same-image partners first; the threaded search gives the same arrays."""
    x, box, periodic = _configuration(n, lengths, flags, seed, edge)
    starts, nbrs, split = half_stencil_list(x, box, periodic, cutoff)
    for serial, threaded in zip((starts, nbrs, split), half_stencil_list_parts(x, box, periodic, cutoff, parts)):
        assert np.array_equal(serial, threaded)
    listed = _listed(starts, nbrs)
    assert len(listed) == len(set(listed))                      # no pair twice (Newton's third law)
    assert set(listed) == _numpy_pairs(x, box, periodic, cutoff)
    for i in range(n):                                          # same-image partners first, then the crossing ones
        assert starts[i] <= split[i] <= starts[i + 1]
        for q in range(starts[i], starts[i + 1]):
            j = nbrs[q]
            crosses = any(periodic[a] and abs(x[i, a] - x[j, a]) > 0.5 * box[a] for a in range(3))
            assert crosses == (q >= split[i]), (i, j)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 220), lengths=st.lists(st.floats(5.5, 11.0), min_size=3, max_size=3),
       flags=st.lists(st.booleans(), min_size=3, max_size=3), rc=st.floats(1.2, 2.6), skin=st.floats(0.0, 0.6),
       seed=st.integers(0, 2 ** 16), edge=st.booleans(), parts=st.integers(1, 4))
def test_lj_forces_equal_numpy_reference(n, lengths, flags, rc, skin, seed, edge, parts):
    """Energy, forces and virial from the MD list equal the all-pairs NumPy sum to round-off, serial
    and spread over ``parts`` runs (bit-identical when repeated)."""
    x, box, periodic = _configuration(n, lengths, flags, seed, edge)
    x = x + 0.3 * np.random.default_rng(seed + 1).standard_normal(x.shape)   # off-lattice, not too close
    for a in range(3):
        if periodic[a]:
            x[:, a] %= box[a]
    x = np.ascontiguousarray(x)
    eps, sigma = 0.7, 0.9
    shift = 4 * eps * ((sigma / rc) ** 12 - (sigma / rc) ** 6)
    params = np.array([eps, sigma, rc, shift])
    starts, nbrs, split = md_list(x, box, periodic, rc + skin, 1)   # parts as the solver passes it (one compilation)
    e_ref, f_ref, w_ref = _numpy_lj(x, box, periodic, eps, sigma, rc, shift)
    scale = max(1.0, np.abs(f_ref).max())
    f = np.empty_like(x)
    w = np.zeros((3, 3))
    e = pair_forces(x, box, periodic, starts, nbrs, split, 0, params, f, w)
    assert e == pytest.approx(e_ref, rel=1e-10, abs=1e-9 * scale)
    np.testing.assert_allclose(f, f_ref, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(w, w_ref, rtol=1e-9, atol=1e-9 * scale * n)
    scratch = np.empty((parts - 1, n, 3))
    f2, w2 = np.empty_like(x), np.zeros((3, 3))
    e2 = pair_forces_parts(x, box, periodic, starts, nbrs, split, 0, params, f2, w2, scratch)
    assert e2 == pytest.approx(e_ref, rel=1e-10, abs=1e-9 * scale)
    np.testing.assert_allclose(f2, f_ref, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(w2, w_ref, rtol=1e-9, atol=1e-9 * scale * n)
    f3, w3 = np.empty_like(x), np.zeros((3, 3))
    e3 = pair_forces_parts(x, box, periodic, starts, nbrs, split, 0, params, f3, w3, scratch)
    assert e3 == e2 and np.array_equal(f3, f2) and np.array_equal(w3, w2)


def _run(steps, threads):
    fluid = lj_fluid(cells=6, density=0.8442, temperature=1.44, seed=3)   # 864 atoms: 3 list cells a side
    md = MolecularDynamics(fluid, LennardJones(cutoff=2.5, skin=0.3), steps=steps, save_every=steps, thermo_every=10)
    integ = tk.init(md, VelocityVerlet(dt=0.005 * LJ_TIME_FS, threads=threads), progress=False)
    integ.step(steps)
    return integ


def test_threaded_md_matches_serial_and_reproduces_itself():
    """An NVE run with the force loop cut into two parts equals the serial one to round-off over a
    short horizon, and gives the same bits whether numba runs the parts on one thread or two."""
    serial = _run(40, 1)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one_thread = _run(40, 2)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two_threads = _run(40, 2)
    finally:
        numba.set_num_threads(before)
    assert one_thread._work.shape[0] == 1                  # the two-part path ran
    assert np.array_equal(one_thread.x, two_threads.x) and np.array_equal(one_thread.v, two_threads.v)
    np.testing.assert_allclose(two_threads.x, serial.x, rtol=0, atol=1e-9)
    np.testing.assert_allclose(two_threads.energy, serial.energy, rtol=1e-11)
    e = two_threads.solution().total_energy
    assert np.ptp(e) / abs(e[0]) < 1e-3


def test_threads_is_validated():
    with pytest.raises(tk.InvalidSolverError, match="threads"):
        VelocityVerlet(threads=0)


def test_threaded_checkpoint_resume_is_bit_identical(tmp_path):
    """A run with the force loop and list search in two parts resumes to the identical result (the
    resumed list is searched serially: the same arrays as the threaded search)."""
    fluid = lj_fluid(cells=6, density=0.8442, temperature=1.44, seed=4)
    md = MolecularDynamics(fluid, LennardJones(cutoff=2.5, skin=0.3), steps=60, save_every=20, thermo_every=5)
    solver = VelocityVerlet(dt=0.005 * LJ_TIME_FS, threads=2)
    whole = tk.solve(md, solver, progress=False)
    assert whole.stats["neighbor_rebuilds"] > 0
    integ = tk.init(md, solver, progress=False)
    integ.step(23)
    integ.checkpoint(tmp_path / "md.nc")
    resumed = tk.resume(tmp_path / "md.nc", progress=False)
    assert resumed.solver.threads == 2
    resumed.run()
    part = resumed.solution()
    for name in ("potential_energy", "kinetic_energy", "virial", "positions", "velocities"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name), err_msg=name)


def test_memory_estimate_counts_the_thread_buffers():
    md = MolecularDynamics(lj_fluid(cells=4), LennardJones(), steps=10)
    assert "thread force buffers" not in tk.memory_estimate(md, VelocityVerlet())
    assert tk.memory_estimate(md, VelocityVerlet(threads=3))["thread force buffers"] == 2 * 256 * 3 * 8


def test_the_skin_is_trimmed_so_a_500_atom_box_holds_three_list_cells():
    """500 LJ atoms at rho* = 0.8442 (L = 8.398 sigma) hold 2.9993 cells of rc + skin = 2.8 sigma: the skin
    is trimmed to give three, so the half-stencil search runs instead of the O(N^2) fallback; the list
    still holds every pair within rc + trimmed skin, and nothing changes where no trim (or more than
    half the skin) would be needed."""
    from solvers.molecule.pair import three_cell_skin

    fluid = lj_fluid(cells=5, density=0.8442, temperature=0.722, seed=2)
    evaluator = LennardJones(cutoff=2.5, skin=0.3).evaluator(fluid)
    _, _, cutoff, skin = evaluator.pair
    box, periodic = evaluator.box, evaluator.periodic
    assert 0.29 < skin < 0.3 and int(box[0] / (cutoff + skin)) == 3
    x = np.ascontiguousarray(fluid.positions)
    starts, nbrs, split = md_list(x, box, periodic, cutoff + skin, 1)
    listed = {tuple(sorted((i, int(j)))) for i in range(len(x)) for j in nbrs[starts[i]:starts[i + 1]]}
    d = x[:, None, :] - x[None, :, :]
    d -= box * np.round(d / box)
    close = np.argwhere(np.triu(np.sum(d * d, axis=-1) < (cutoff + skin) ** 2, 1))
    assert listed == {tuple(p) for p in close.tolist()}
    assert three_cell_skin(np.array([20.0, 20, 20]), np.ones(3, dtype=np.int64), 2.5, 0.3) == 0.3   # many cells
    assert three_cell_skin(box, np.zeros(3, dtype=np.int64), 2.5, 0.3) == 0.3                        # open box
    assert three_cell_skin(np.array([7.8, 9, 9]), np.ones(3, dtype=np.int64), 2.5, 0.3) == 0.3    # trim > half
    assert three_cell_skin(box, periodic, 2.5, 0.0) == 0.0
