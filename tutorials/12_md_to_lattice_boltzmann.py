"""From molecular dynamics to lattice Boltzmann: a mesoscale model built from atomistic data.
===========================================================================================

The Lennard-Jones liquid at rho* = 0.8442, T* = 0.722 (cut at 2.5 sigma) is measured by equilibrium
MD, and a D2Q9 lattice Boltzmann model of it is built in physical (reduced) units:

1. MD -> hydrodynamics (``HydrodynamicMeasurement`` solved by ``TransverseCurrents``): the transverse
   current correlation C_T(k, t) at the box's smallest wave vectors, the viscosity eta(k) from its
   decay and its k -> 0 limit eta_0 (Palmer, Phys. Rev. E 49, 359 (1994)), the structure factor S(k)
   and the isothermal sound speed c_T = sqrt(kT / (m S(0))), Green-Kubo shear and bulk viscosity,
   with errors from independent runs.
2. -> lattice model (``CoarseGraining`` solved by ``CoarseGrain`` and ``LearnedCollision``): dt from
   the sound speed (dt = dx / (sqrt 3 c_T)), tau from nu = eta / rho; the learned variant fits the free
   TRT rate so that the lattice's shear mode decays as the MD's at the smallest wave vectors
   (Corbetta et al., Eur. Phys. J. E 46, 10 (2023)).
3. The MD and lattice decay curves side by side, and the transport table.

Env: ``SCALEBRIDGE_SMALL=1`` (256 atoms, two short runs: seconds, numbers NOT converged),
``SCALEBRIDGE_OUT`` (figure folder, default out/). The full size (500 atoms, 4 runs of 250 tau) takes
about half a minute on one core.

Each model also prints the decay rates 1 / t_e, t_e the time the transverse wave takes to fall to 1/e, of MD
and lattice at each k, and their difference in MD error bars. For a model whose lattice viscosity is learned
too, and for the decay rates at a box of a few thousand atoms (k sigma < 0.5, where hydrodynamics holds),
see ``LearnedCollision(target="efold", fit_viscosity=True)`` and ``benchmarks/bridge.py --large 10``.
"""

import os
import time
from pathlib import Path

import matplotlib.pyplot as plt

import toolkit as tk
from problems.fluid_bridge import CoarseGraining
from problems.molecule import LJ_TEMPERATURE_K, LJ_TIME_FS, HydrodynamicMeasurement, MolecularDynamics, lj_fluid
from solvers.lattice_boltzmann import CoarseGrain, LearnedCollision
from solvers.molecule import LennardJones, NoseHoover, TransverseCurrents, VelocityVerlet, melt

SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if SMALL:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
OUT = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)

cells, runs, production, equilibrate = (4, 2, 3000, 1000) if SMALL else (5, 4, 50_000, 4000)
dt = 0.005 * LJ_TIME_FS                                              # fs (reduced LJ units: tau = LJ_TIME_FS)

# 1. the fluid and its measurement: lj_fluid's fcc start melted at T* = 2.5 (left alone it melts slowly, or, in
#    a small box, not at all), then each run is Nose-Hoover equilibrated at T* = 0.722, then NVE
liquid = melt(lj_fluid(cells, 0.8442, 0.722, seed=1), LennardJones(cutoff=2.5), 0.722, seed=1)
fluid = MolecularDynamics(liquid, LennardJones(cutoff=2.5), steps=production, save_every=10, thermo_every=10)
measurement = HydrodynamicMeasurement(fluid, shells=(1, 2, 3), runs=runs, equilibrate_steps=equilibrate,
                                      max_lag=4.0)
measure = TransverseCurrents(dynamics=VelocityVerlet(dt=dt),
                             thermostat=NoseHoover(dt=dt, temperature=0.722 * LJ_TEMPERATURE_K, tdamp=0.5 * LJ_TIME_FS))

# 2. the lattice model: D2Q9 at dx = 1.7 sigma, fitted at the two smallest shells
problem = CoarseGraining(measurement, lattice="D2Q9", dx=1.7, fit_shells=(1, 2))
t0 = time.perf_counter()
measured = tk.solve(measurement, measure, progress=False)
print(f"MD measurement: {runs} runs of {fluid.molecule.n_atoms} atoms, {time.perf_counter() - t0:.1f} s")
# the same record feeds both models (tk.solve(problem, CoarseGrain(measure=measure)) would measure again)
from solvers.lattice_boltzmann.bridge import build_lattice_model  # noqa: E402

plain = build_lattice_model(problem, CoarseGrain(), measured.record)
learned = build_lattice_model(problem, LearnedCollision(scheme="TRT"), measured.record)
print(plain.table())
for name, sol in (("plain BGK", plain), ("learned TRT", learned)):
    print(f"{name:>12}: tau = {sol.tau:.3f}, dx = {sol.dx:.3f} sigma, dt = {sol.dt:.4f} tau, rates "
          f"{dict(zip(sol.rate_names, sol.rates.round(4)))}, decay rate model/MD - 1 at the fitted shells "
          f"{sol.fit_residuals.round(3)}; max |MD - LB| over two decay times at the smallest k: "
          f"{sol.decay_mismatch(0):.3f}  {sol.stats.get('warnings', '')}")
    z = (sol.lb_efold_rate - sol.md_efold_rate) / sol.md_efold_rate_error
    print(f"{'':>14}decay rates 1/t_e: MD {sol.md_efold_rate.round(3)} +- {sol.md_efold_rate_error.round(3)}, lattice "
          f"{sol.lb_efold_rate.round(3)}: (lattice - MD) / error {z.round(1)}")

# 3. the decay curves side by side
fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
plain.plot(axes[0])
axes[0][0].set_title("transverse-current decay: MD vs plain BGK lattice")
learned.plot(axes[1])
axes[1][0].set_title("transverse-current decay: MD vs learned TRT lattice")
fig.savefig(OUT / "md_to_lattice.png", dpi=110)
print(f"figure: {OUT / 'md_to_lattice.png'}")

# the fitted model is ready to run: a periodic box of the MD box's edge with a small shear wave
run = tk.solve(learned.fluid, learned.collision, progress=False)
print(f"the learned model runs: {run.retcode.name}, {learned.fluid.shape} nodes, {learned.fluid.steps} steps")
