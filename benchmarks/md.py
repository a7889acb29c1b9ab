"""Molecular-dynamics speed: Lennard-Jones fcc at rho* = 0.8442, rc = 2.5 sigma, NVE; ours vs LAMMPS.

Two parts:

1. **Side by side with LAMMPS** under its ``bench/in.lj`` conditions: 32,000 atoms on an fcc
   lattice at rho* = 0.8442, velocities at T* = 1.44, rc = 2.5 sigma, skin 0.3 sigma, dt* = 0.005,
   200 NVE steps (LAMMPS: ``neigh_modify delay 0 every 20 check no``; ours rebuilds the Verlet
   list whenever an atom has moved half the skin, which is exact and rebuilds more often). The
   LAMMPS input is written by this script (:data:`LAMMPS_INPUT`). Runs, interleaved over
   ``--repeats`` rounds, median of each:

   * ours on one thread vs LAMMPS with the OPT package (``-sf opt``: pair lj/cut/opt) and plain
     LAMMPS, one core each;
   * ours on two threads vs LAMMPS's OPENMP package on two threads (``-sf omp -pk omp 2``).

   Rates are atom-steps per second of the 200-step loop (setup excluded on both sides) in wall
   time, and per CPU-second (ours: process CPU time; LAMMPS: its loop time times its reported
   "% CPU use"), which is the robust figure on a machine shared with other jobs. The ratio
   printed is ours / LAMMPS (>= 1 means we are at least as fast).

   The LAMMPS binary is ``$LAMMPS`` (a path, or a command such as a wrapper script) or ``lmp`` on
   ``PATH``; without one this part says so and is skipped. Build it as the README says (CMake,
   ``-D PKG_OPT=on -D PKG_OPENMP=on -D BUILD_MPI=off -D CMAKE_BUILD_TYPE=Release``). A variant
   whose package the binary lacks (``lmp -h`` lists them) is skipped with a message.

2. **Scaling** with N at T* = 0.722 (linear expected: cell + Verlet lists, O(N) memory).

``os.getloadavg()`` is printed with the numbers. ``--quick`` runs tiny sizes (< 30 s).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import numba
import numpy as np

import toolkit as tk
from problems.molecule import LJ_TIME_FS, MolecularDynamics, lj_fluid
from solvers.molecule import LennardJones, VelocityVerlet

#: LAMMPS ``bench/in.lj`` (3d Lennard-Jones melt), with the lattice size and step count as variables.
LAMMPS_INPUT = """# 3d Lennard-Jones melt: LAMMPS bench/in.lj conditions (written by benchmarks/md.py)
variable	cells index 20
variable	steps index 200
units		lj
atom_style	atomic
lattice		fcc 0.8442
region		box block 0 ${cells} 0 ${cells} 0 ${cells}
create_box	1 box
create_atoms	1 box
mass		1 1.0
velocity	all create 1.44 87287 loop geom
pair_style	lj/cut 2.5
pair_coeff	1 1 1.0 1.0 2.5
neighbor	0.3 bin
neigh_modify	delay 0 every 20 check no
fix		1 all nve
run		${steps}
"""

#: The LAMMPS variants: (label, command-line arguments, OpenMP threads, package needed).
VARIANTS = {"opt": ("LAMMPS OPT (-sf opt), 1 core", ["-sf", "opt"], 1, "OPT"),
            "plain": ("LAMMPS plain, 1 core", [], 1, None),
            "omp2": ("LAMMPS OPENMP, 2 threads", ["-sf", "omp", "-pk", "omp", "2"], 2, "OPENMP")}


def lammps_command() -> list[str] | None:
    """The LAMMPS executable: ``$LAMMPS`` (split on spaces) or ``lmp`` on PATH; None if neither."""
    given = os.environ.get("LAMMPS")
    if given:
        return given.split()
    found = shutil.which("lmp")
    return [found] if found else None


def lammps_packages(cmd: list[str]) -> set[str]:
    """The packages a LAMMPS binary was built with (the "Installed packages" block of ``lmp -h``)."""
    text = subprocess.run([*cmd, "-h"], capture_output=True, text=True, timeout=60).stdout
    block = re.search(r"Installed packages:\s*\n(.*?)\n\s*\n\s*List of", text, re.S)
    return set(block.group(1).split()) if block else set()


def run_lammps(cmd: list[str], workdir: str, variant: str, cells: int, steps: int) -> tuple[float, float]:
    """One LAMMPS run: ``(atom-steps/s wall, atom-steps per CPU-second)`` of its main loop."""
    _, args, threads, _ = VARIANTS[variant]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([*cmd, "-in", "in.lj", "-log", "none", "-var", "cells", str(cells), "-var", "steps",
                          str(steps), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=1200)
    loop = re.search(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms", out.stdout)
    if out.returncode != 0 or loop is None:
        raise RuntimeError(f"LAMMPS ({' '.join(cmd + args)}) failed: {(out.stdout + out.stderr)[-1500:]}")
    seconds, n_steps, atoms = float(loop.group(1)), int(loop.group(3)), int(loop.group(4))
    cpu = re.search(r"([0-9.]+)% CPU use", out.stdout)
    cpu_seconds = seconds * (float(cpu.group(1)) / 100.0 if cpu else 1.0)
    return atoms * n_steps / seconds, atoms * n_steps / cpu_seconds


def run_ours(cells: int, steps: int, threads: int) -> tuple[float, float, int]:
    """Our run at the same conditions on ``threads`` numba threads: ``(rate wall, rate per CPU-second,
    list rebuilds)``; the lattice start and the set-up are outside the timed loop, as in LAMMPS."""
    numba.set_num_threads(threads)
    fluid = lj_fluid(cells=cells, density=0.8442, temperature=1.44, seed=87287)
    md = MolecularDynamics(fluid, LennardJones(cutoff=2.5, skin=0.3), steps=steps, save_every=10 ** 9,
                           thermo_every=steps)
    integ = tk.init(md, VelocityVerlet(dt=0.005 * LJ_TIME_FS, threads=threads), progress=False)
    t0, c0 = time.perf_counter(), time.process_time()
    integ.step(steps)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = fluid.n_atoms
    return n * steps / wall, n * steps / cpu, integ.rebuilds


def side_by_side(cells: int, steps: int, repeats: int) -> None:
    n = 4 * cells ** 3
    print(f"\n== bench/in.lj conditions: {n} atoms fcc rho*=0.8442 T*=1.44 rc=2.5 skin=0.3 dt*=0.005, "
          f"{steps} NVE steps ==")
    cmd = lammps_command()
    most = numba.config.NUMBA_NUM_THREADS
    variants = []
    if cmd is None:
        print("LAMMPS not found: set LAMMPS=/path/to/lmp (or put lmp on PATH) to run it side by side; "
              "timing ours only")
    else:
        packages = lammps_packages(cmd)
        print(f"LAMMPS: {' '.join(cmd)} (packages OPT: {'OPT' in packages}, OPENMP: {'OPENMP' in packages})")
        for key, (label, _, threads, needs) in VARIANTS.items():
            if needs is not None and needs not in packages:
                print(f"  {label}: skipped, this binary lacks the {needs} package")
            elif threads > most:
                print(f"  {label}: skipped, NUMBA_NUM_THREADS={most} < {threads} (ours could not match it)")
            else:
                variants.append(key)
    ours_threads = [1] + ([2] if most >= 2 else [])
    if most < 2:
        print(f"  ours on 2 threads: skipped, NUMBA_NUM_THREADS={most}")
    run_ours(min(cells, 3), 2, 1)                        # compile (or load the cache) outside the timing
    if most >= 2:
        run_ours(min(cells, 3), 2, 2)
    rates: dict[str, list] = {f"ours{t}": [] for t in ours_threads} | {k: [] for k in variants}
    rebuilds = []
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "in.lj"), "w") as handle:
            handle.write(LAMMPS_INPUT)
        for _ in range(repeats):                         # interleaved: each round runs every variant once
            for t in ours_threads:
                wall, cpu, rb = run_ours(cells, steps, t)
                rates[f"ours{t}"].append((wall, cpu))
                rebuilds.append(rb)
            for key in variants:
                rates[key].append(run_lammps(cmd, work, key, cells, steps))
    numba.set_num_threads(most)
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in rates.items()}
    print(f"{'run':<34} {'Matom-step/s wall':>18} {'per CPU-second':>16}   (median of {repeats})")
    for t in ours_threads:
        print(f"{f'ours, {t} thread(s)':<34} {med[f'ours{t}'][0] / 1e6:>18.3f} {med[f'ours{t}'][1] / 1e6:>16.3f}"
              f"   list rebuilds {statistics.median(rebuilds):g} per {steps} steps")
    for key in variants:
        print(f"{VARIANTS[key][0]:<34} {med[key][0] / 1e6:>18.3f} {med[key][1] / 1e6:>16.3f}")
    for ours, key in (("ours1", "opt"), ("ours1", "plain"), ("ours2", "omp2")):
        if ours in med and key in med:
            print(f"ratio {ours} / {key}: {med[ours][0] / med[key][0]:.2f} wall, "
                  f"{med[ours][1] / med[key][1]:.2f} per CPU-second (target >= 1)")


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
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds of the LAMMPS comparison")
    parser.add_argument("--no-scaling", action="store_true", help="only the side-by-side comparison")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, steps, repeats, bench = [3, 4], 20, 3, (4, 20, args.repeats or 1)
    else:
        sizes, steps, repeats, bench = [8, 12, 16, 20], 100, 5, (20, 200, args.repeats or 5)
    print(f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}; load average before: {os.getloadavg()}")
    if args.quick:
        print("(--quick: tiny sizes, a smoke test; the rates and ratios below say nothing about speed)")
    side_by_side(*bench)
    print(f"load average: {os.getloadavg()}")
    if args.no_scaling:
        return
    numba.set_num_threads(1)
    print(f"\n== scaling, 1 thread: LJ fcc rho*=0.8442 T*=0.722 rc=2.5 skin=0.3 NVE dt*=0.005 ==")
    print(f"{'atoms':>8} {'atom-steps/s (wall)':>20} {'atom-steps/s (cpu)':>20} {'rebuilds/' + str(steps):>12} "
          f"{'ptp E/N':>10}")
    rows = []
    for cells in sizes:
        n, wall, cpu, rebuilds, spread = measure(cells, steps, repeats)
        rows.append((n, wall, cpu))
        print(f"{n:>8} {wall:>20.3e} {cpu:>20.3e} {rebuilds:>12} {spread:>10.2e}", flush=True)
    small, large = rows[0], rows[-1]
    print(f"scaling: cost per atom-step changes by x{small[2] / large[2]:.2f} from {small[0]} to {large[0]} atoms "
          "(1.00 = linear)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
