"""MD -> lattice Boltzmann benchmark (issue 21): the cost of one time unit tau of the LJ liquid in MD and
in its fitted lattice model, and the wall time of the whole pipeline.

1. MD: velocity Verlet on the LJ liquid (rho* 0.8442, T* 0.722, rc 2.5 sigma, dt* 0.005: 200 steps per
   tau), atom-steps per second and seconds per tau for a box of N atoms.
2. The fitted D2Q9 / D3Q19 model of the same box (dx = 1.2 sigma; dt from the sound speed, c_T = 4.28
   sigma/tau as measured at this state): million lattice updates per second and seconds per tau, and
   the ratio MD / LB at equal box size.
3. The pipeline (MD measurement of 4 runs, build, learned TRT fit) at the default size on one and two
   worker processes (``--pipeline``: minutes; ``--quick``: a tiny box).
4. ``--large CELLS``: the pipeline alone on a box of a few thousand atoms (``--large 10``: 4,000 atoms,
   ``--runs`` x ``--steps``, two workers) and the issue's check on it: the normalised transverse-wave decay
   of MD and of the fitted lattice model over two MD decay times, learned TRT vs plain BGK, and the decay
   rates 1/t_e (the time to fall to 1/e) of MD and of each model at the three smallest k (``--save PATH``
   keeps the MD record).

The machine is shared: medians of repeats and the load average are printed.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import toolkit as tk  # noqa: E402
from problems.fluid_bridge import CoarseGraining  # noqa: E402
from problems.lattice_fluid import LatticeFluid  # noqa: E402
from problems.molecule import LJ_TEMPERATURE_K, LJ_TIME_FS, HydrodynamicMeasurement, MolecularDynamics, lj_fluid  # noqa: E402
from solvers.lattice_boltzmann import BGK, LearnedCollision  # noqa: E402
from solvers.molecule import LennardJones, NoseHoover, TransverseCurrents, VelocityVerlet, melt  # noqa: E402

C_T, NU, RHO = 4.28, 3.345 / 0.8442, 0.8442          # measured at the triple point (tests/molecule/test_hydrodynamics.py)


def md_seconds_per_tau(cells: int, steps: int, repeats: int) -> tuple[float, int]:
    mol = lj_fluid(cells, RHO, 0.722, seed=0)
    problem = MolecularDynamics(mol, LennardJones(cutoff=2.5), steps=steps, save_every=steps, thermo_every=steps)
    solver = VelocityVerlet(dt=0.005 * LJ_TIME_FS)
    tk.solve(tk.remake(problem, steps=2, save_every=2, thermo_every=2), solver, progress=False)      # compile
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        tk.solve(problem, solver, progress=False)
        times.append(time.perf_counter() - t)
    per_step = float(np.median(times)) / steps
    return per_step * 200, mol.n_atoms


def lb_seconds_per_tau(edge: float, dim: int, dx: float, steps: int, repeats: int) -> tuple[float, float, int]:
    n = max(4, round(edge / dx))
    dx = edge / n
    dt = dx / (math.sqrt(3.0) * C_T)
    nu_lattice = NU * dt / dx ** 2
    problem = LatticeFluid(shape=(n,) * dim, lattice="D2Q9" if dim == 2 else "D3Q19", viscosity=nu_lattice,
                           steps=steps)
    tk.solve(tk.remake(problem, steps=2), BGK(), progress=False)                                       # compile
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        tk.solve(problem, BGK(), progress=False)
        times.append(time.perf_counter() - t)
    per_step = float(np.median(times)) / steps
    return per_step / dt, n ** dim / per_step / 1e6, n


def pipeline(cells: int, runs: int, production: int, workers: int, max_lag: float = 4.0, compare: bool = False,
             save: str | None = None) -> float:
    dt = 0.005 * LJ_TIME_FS
    # an fcc start equilibrated at 0.722 alone is still melting when production begins (solvers.molecule.liquid)
    liquid = melt(lj_fluid(cells, RHO, 0.722, seed=1), LennardJones(cutoff=2.5), 0.722, seed=1)
    fluid = MolecularDynamics(liquid, LennardJones(cutoff=2.5), steps=production, save_every=10, thermo_every=10)
    measurement = HydrodynamicMeasurement(fluid, shells=(1, 2, 3), runs=runs, equilibrate_steps=4000,
                                          max_lag=max_lag)
    measure = TransverseCurrents(dynamics=VelocityVerlet(dt=dt), workers=workers,
                                 thermostat=NoseHoover(dt=dt, temperature=0.722 * LJ_TEMPERATURE_K, tdamp=0.5 * LJ_TIME_FS))
    t = time.perf_counter()
    sol = tk.solve(CoarseGraining(measurement, dx=1.2, fit_shells=(1, 2)), LearnedCollision(measure=measure),
                   progress=False)
    wall = time.perf_counter() - t
    print(f"  pipeline, {runs} runs of {fluid.molecule.n_atoms} atoms x {production} steps, {workers} worker(s): "
          f"{wall:.1f} s ({sol.retcode.name}; {len(sol.stats.get('warnings', []))} warning(s))", flush=True)
    if save:
        from toolkit.io import write_record

        write_record(save, "hydrodynamics", sol.measurement)
        print(f"  wrote the MD record to {save} (toolkit.io.read_record(path, 'hydrodynamics'))")
    if compare:
        from solvers.lattice_boltzmann import CoarseGrain
        from solvers.lattice_boltzmann.bridge import build_lattice_model

        plain = build_lattice_model(CoarseGraining(measurement, dx=1.2, fit_shells=(1, 2)), CoarseGrain(),
                                    sol.measurement)
        rec = sol.measurement
        print(f"  k sigma = {np.round(rec.k, 3).tolist()}; eta(k) = {np.round(rec.eta_k, 3).tolist()} +- "
              f"{np.round(rec.eta_k_error, 3).tolist()}; c_T = {rec.sound_speed:.3f} +- {rec.sound_speed_error:.3f}")
        print(f"  MD decay time 1/rate at shells 1, 2: {1 / sol.md_rate[0]:.2f}, {1 / sol.md_rate[1]:.2f} tau; "
              f"learned rates {np.round(sol.rates, 4).tolist()}, tau {sol.tau:.3f}")
        print(f"  max |MD - LB| of the normalised decay over two decay times, shells 1, 2: learned "
              f"{sol.decay_mismatch(0):.3f}, {sol.decay_mismatch(1):.3f}; BGK {plain.decay_mismatch(0):.3f}, "
              f"{plain.decay_mismatch(1):.3f} (issue 21: <= 0.05 at shell 1)", flush=True)
        problem = CoarseGraining(measurement, dx=1.2, fit_shells=(1, 2))
        print(f"  MD decay rate 1/t_e (C_T falls to 1/e) at shells 1-3: "
              f"{', '.join(f'{r:.4f} +- {e:.4f}' for r, e in zip(sol.md_efold_rate, sol.md_efold_rate_error))} / tau")
        models = {"plain BGK": plain, "learned TRT (curves)": sol,
                  "learned TRT (efold)": build_lattice_model(problem, LearnedCollision(target="efold"), rec),
                  "learned TRT + nu (efold)": build_lattice_model(
                      problem, LearnedCollision(target="efold", fit_viscosity=True), rec)}
        for name, m in models.items():
            z = (m.lb_efold_rate - m.md_efold_rate) / m.md_efold_rate_error
            extra = f"; learned eta {m.viscosity * RHO:.3f} ({m.stats['viscosity_shift']:+.2f} sigma from eta_0)" \
                if "viscosity_shift" in m.stats else ""
            print(f"    {name:<26} lattice 1/t_e {np.round(m.lb_efold_rate, 4).tolist()}, (LB - MD) / error "
                  f"{np.round(z, 2).tolist()}{extra}")
        print("  (issue 21: the learned model within the MD error bar at shell 2, plain BGK not; shell 3 is not "
              "fitted)", flush=True)
    return wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    ap.add_argument("--pipeline", action="store_true", help="also time the whole pipeline at the default size")
    ap.add_argument("--large", type=int, default=0, metavar="CELLS",
                    help="only the pipeline on a box of 4 CELLS^3 atoms (10: 4,000), --runs x --steps, on two "
                         "workers, with the MD-vs-lattice decay mismatch of the learned and the BGK model")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--save", metavar="PATH", help="with --large: save the MD record (NetCDF) to PATH (the "
                                                   "4,000-atom record of tests/lattice_boltzmann/data was made so)")
    args = ap.parse_args(argv)
    if args.large:
        print(f"load average {os.getloadavg()[0]:.2f}; the pipeline on {4 * args.large ** 3} atoms")
        pipeline(args.large, args.runs, args.steps, 2, max_lag=8.0, compare=True, save=args.save)
        return
    cells_list = [3] if args.quick else [5, 10, 20]
    steps, repeats = (20, 1) if args.quick else (200, 3)
    print(f"load average {os.getloadavg()[0]:.2f}; one core; LJ liquid rho* 0.8442, T* 0.722, dt* 0.005; lattice "
          f"dx = 1.2 sigma, dt from c_T = {C_T}, nu = {NU:.3f}")
    print(f"{'atoms':>7} {'MD s/tau':>10} {'atom-steps/s':>13} | {'nodes':>9} {'LB s/tau (2D)':>13} {'MLUPS':>7} "
          f"{'LB s/tau (3D)':>13} {'MLUPS':>7} | {'MD / LB (3D)':>12}")
    for cells in cells_list:
        md, atoms = md_seconds_per_tau(cells, steps, repeats)
        edge = (atoms / RHO) ** (1 / 3)
        lb2, mlups2, n = lb_seconds_per_tau(edge, 2, 1.2, steps * 5, repeats)
        lb3, mlups3, _ = lb_seconds_per_tau(edge, 3, 1.2, steps, repeats)
        print(f"{atoms:>7} {md:>10.3g} {atoms * 200 / md:>13.3g} | {n:>4}^d {lb2:>13.3g} {mlups2:>7.2f} {lb3:>13.3g} "
              f"{mlups3:>7.2f} | {md / lb3:>12.3g}", flush=True)
    if args.quick:
        pipeline(3, 2, 400, 1)
    elif args.pipeline:
        for workers in (1, 2):
            pipeline(5, 4, 50_000, workers)


if __name__ == "__main__":
    main()
