"""Molecular-dynamics speed: Lennard-Jones fcc at rho* = 0.8442, rc = 2.5 sigma, NVE.

Prints atom-steps per second (target >= 1.8e6 on one core for 32,000 atoms, what LAMMPS's
``bench/in.lj`` reaches on this class of machine) and the scaling with N (linear expected:
cell + Verlet lists, O(N) memory). Each figure is the median of several repeats, measured both
in wall time and in process CPU time (the latter is robust to a machine shared with other
jobs); ``os.getloadavg()`` is printed with the numbers. ``--quick`` runs tiny sizes (< 20 s).

Run single-threaded: ``NUMBA_NUM_THREADS=1 python benchmarks/md.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import toolkit as tk
from problems.molecule import LJ_TIME_FS, MolecularDynamics, lj_fluid
from solvers.molecule import LennardJones, VelocityVerlet


def measure(cells: int, steps: int, repeats: int):
    fluid = lj_fluid(cells=cells, density=0.8442, temperature=0.722, seed=1)
    n = fluid.n_atoms
    md = MolecularDynamics(fluid, LennardJones(cutoff=2.5, skin=0.3), steps=steps * (repeats + 1) + 10,
                           save_every=10 ** 9, thermo_every=steps)
    integ = tk.init(md, VelocityVerlet(dt=0.005 * LJ_TIME_FS), progress=False)
    integ.step(10)                        # compile (cached) and leave the lattice
    wall, cpu, rebuilds = [], [], []
    for _ in range(repeats):
        r0 = integ.rebuilds
        t0, c0 = time.perf_counter(), time.process_time()
        integ.step(steps)
        wall.append(n * steps / (time.perf_counter() - t0))
        cpu.append(n * steps / (time.process_time() - c0))
        rebuilds.append(integ.rebuilds - r0)
    e = integ.solution().total_energy / n
    return n, statistics.median(wall), statistics.median(cpu), statistics.median(rebuilds), float(np.ptp(e))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, steps, repeats = [3, 4], 20, 3
    else:
        sizes, steps, repeats = [8, 12, 16, 20], 100, 5
    print(f"LJ fcc rho*=0.8442 T*=0.722 rc=2.5 skin=0.3 NVE dt*=0.005; NUMBA_NUM_THREADS="
          f"{os.environ.get('NUMBA_NUM_THREADS', 'unset')}")
    print(f"load average before: {os.getloadavg()}")
    print(f"{'atoms':>8} {'atom-steps/s (wall)':>20} {'atom-steps/s (cpu)':>20} {'rebuilds/' + str(steps):>12} "
          f"{'ptp E/N':>10}")
    rows = []
    for cells in sizes:
        n, wall, cpu, rebuilds, spread = measure(cells, steps, repeats)
        rows.append((n, wall, cpu))
        print(f"{n:>8} {wall:>20.3e} {cpu:>20.3e} {rebuilds:>12} {spread:>10.2e}", flush=True)
    n, wall, cpu = rows[-1]
    print(f"largest: {n} atoms, {wall:.3e} atom-steps/s wall, {cpu:.3e} per CPU-second "
          f"(target 1.8e6 for 32000 atoms on one core)")
    small, large = rows[0], rows[-1]
    print(f"scaling: cost per atom-step changes by x{small[2] / large[2]:.2f} from {small[0]} to {large[0]} atoms "
          "(1.00 = linear)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
