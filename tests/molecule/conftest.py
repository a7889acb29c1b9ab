"""Fixtures shared by the molecule family's tests."""

import pytest
import torch

@pytest.fixture
def one_torch_thread():
    """Pin torch to one thread for the test (reproducible timings on a shared 2-core machine), then restore it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def triple_point_nve(tmp_path_factory, worker_id):
    """One long NVE run of the Lennard-Jones liquid at the triple point (:func:`_triple_point_run`), made once
    per test session: the Green–Kubo data of tests/molecule/test_lj_physics.py (against Ferrario et al. 1991)
    and of tests/molecule/test_hydrodynamics.py (against eta from the transverse currents).

    Under pytest-xdist the two tests may run on different workers: the first worker that asks makes the run
    and writes it with ``tk.save`` into the session's shared temporary folder under a file lock; a worker
    that asks later loads it (bit-identical, tested by the round trip of ``tk.save``/``tk.load``), one that
    asks meanwhile waits for it (pytest-xdist's recipe for session data, "Making session-scoped fixtures
    execute only once").
    """
    if worker_id == "master":
        return _triple_point_run()
    from filelock import FileLock

    import toolkit as tk

    shared = tmp_path_factory.getbasetemp().parent / "lj_triple_point_nve.nc"
    with FileLock(str(shared) + ".lock"):
        if shared.is_file():
            return tk.load(shared)
        run = _triple_point_run()
        tk.save(run, shared)
        return run


def _triple_point_run():
    """The LJ liquid (rc = 2.5 sigma, truncated and shifted) at rho* = 0.8442, T* = 0.722, 1.6e6 NVE steps
    of dt* = 0.005 (8000 tau), the stress tensor every 5 steps (about 100 s of one core).

    * N = 108, the smallest box with rc = 2.5 < L/2. The relative error of a Green-Kubo integral
      depends on the run length, not on N (the stress is a collective variable), so the smallest
      box gives the most time per CPU second. Size effects at this density are small and
      oscillatory (Kim, Kim, Karniadakis, Lee & Kozak, J. Chem. Phys. 151, 104101 (2019)); here
      N = 108 and N = 500 (3.20 +- 0.14 in the issue-6 report) agree with 3.24 within their errors.
    * Melt at T* = 2.5 and equilibrate at T* = 0.722 with a Nosé-Hoover chain, set the total
      energy to the canonical mean <U> + <K> (an NVE run from a single canonical snapshot of 108
      atoms would sit at a temperature off by ~5%), then NVE velocity Verlet.
    """
    import numpy as np

    import toolkit as tk
    from problems.molecule import LJ_TEMPERATURE_K, LJ_TIME_FS, MolecularDynamics, lj_fluid
    from solvers.molecule import LennardJones, NoseHoover, VelocityVerlet

    dt = 0.005 * LJ_TIME_FS
    tdamp = 0.5 * LJ_TIME_FS
    potential = LennardJones(cutoff=2.5)
    fluid = lj_fluid(cells=3, density=0.8442, temperature=2.5, seed=1)
    hot = tk.solve(MolecularDynamics(fluid, potential, steps=2000, save_every=2000, thermo_every=100),
                   NoseHoover(dt=dt, temperature=2.5 * LJ_TEMPERATURE_K, tdamp=tdamp), progress=False)
    melt = tk.remake(fluid, positions=hot.positions[-1], velocities=hot.velocities[-1])
    nvt = tk.solve(MolecularDynamics(melt, potential, steps=10000, save_every=10000, thermo_every=10),
                   NoseHoover(dt=dt, temperature=0.722 * LJ_TEMPERATURE_K, tdamp=tdamp), progress=False)
    assert nvt.successful
    half = slice(len(nvt.time) // 2, None)
    energy = nvt.potential_energy[half].mean() + nvt.kinetic_energy[half].mean()
    scale = np.sqrt((energy - nvt.potential_energy[-1]) / nvt.kinetic_energy[-1])
    liquid = tk.remake(fluid, positions=nvt.positions[-1], velocities=scale * nvt.velocities[-1])
    return tk.solve(MolecularDynamics(liquid, potential, steps=1_600_000, save_every=1_600_000, thermo_every=5),
                    VelocityVerlet(dt=dt), progress=False)
