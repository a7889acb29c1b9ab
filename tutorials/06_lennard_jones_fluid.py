"""Lennard-Jones fluid near the triple point: structure, diffusion, viscosity, equation of state.
==============================================================================================

The 12-6 Lennard-Jones fluid (Jones 1924) at rho* = 0.8442, T* = 0.722 is the classic MD
benchmark state (Verlet, Phys. Rev. 159, 98 (1967), doi:10.1103/PhysRev.159.98). We

1. melt an fcc lattice with Langevin dynamics at T* = 1.5 (the lattice at rho* = 0.8442 is a
   metastable solid at T* = 0.722 and would not melt by itself), then cool it to T* = 0.722
   (BAOAB, Leimkuhler & Matthews 2013),
2. run microcanonical velocity Verlet and measure the radial distribution function, the
   mean-square displacement (diffusion coefficient D* = lim MSD/6t), the velocity
   autocorrelation and the Green-Kubo shear viscosity eta* = V/kT int <P_xy(0) P_xy(t)> dt,
3. compare energy and pressure (with tail corrections) with the equation of state of Johnson,
   Zollweg & Gubbins, Mol. Phys. 78, 591 (1993), doi:10.1080/00268979300100411.

Reduced units: sigma = 1 Å, epsilon = 1 eV, m = 1 amu, so one reduced time is 10.18 fs.
Published Green-Kubo viscosity at this state: eta* = 3.24 +- 0.04 (N = 2048, 3.6e6 steps;
Ferrario, Ciccotti, Holian & Ryckaert, Phys. Rev. A 44, 6936 (1991),
doi:10.1103/PhysRevA.44.6936); the self-diffusion coefficient is D* ~ 0.03. A small short run
gives them only roughly; the printed error bars say how roughly.

Environment: SCALEBRIDGE_SMALL=1 for a run of a few seconds, SCALEBRIDGE_OUT for the figures.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import toolkit as tk
from problems.molecule import LJ_TEMPERATURE_K, LJ_TIME_FS, MolecularDynamics, lj_fluid
from solvers.molecule import Langevin, LennardJones, VelocityVerlet
from solvers.molecule.observables import diffusion_coefficient, green_kubo_viscosity, msd, rdf, vacf
from solvers.molecule.reference import jzg_eos, lj_tail_corrections

SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if SMALL:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
OUT = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)

TAU = LJ_TIME_FS
rho, temperature, rc = 0.8442, 0.722, 2.5
cells = 4 if SMALL else 6                      # 256 or 864 atoms
melt, equil, production = (500, 1000, 4000) if SMALL else (2000, 5000, 60000)
dt = 0.005 * TAU

fluid = lj_fluid(cells=cells, density=rho, temperature=temperature, seed=1)
n = fluid.n_atoms
potential = LennardJones(cutoff=rc, shift=False)          # truncated: tail corrections apply


def langevin(molecule, t_star, steps, seed):
    """Langevin at T* for ``steps`` steps; the molecule at the last step."""
    sol = tk.solve(MolecularDynamics(molecule, potential, steps=steps, save_every=steps, thermo_every=50),
                   Langevin(dt=dt, temperature=t_star * LJ_TEMPERATURE_K, friction=1.0 / TAU, seed=seed),
                   progress=False)
    v = sol.velocities[-1]
    v = v - (molecule.masses[:, None] * v).sum(0) / molecule.masses.sum()   # Langevin leaves a net momentum
    return tk.remake(molecule, positions=sol.positions[-1], velocities=v)


# 1. melt at T* = 1.5, then equilibrate at T*
liquid = langevin(langevin(fluid, 1.5, melt, seed=2), temperature, equil, seed=3)

# 2. NVE production: stress every 2 steps for Green-Kubo, frames every 20 steps
run = tk.solve(MolecularDynamics(liquid, potential, steps=production, save_every=20, thermo_every=2),
               VelocityVerlet(dt=dt))
print(run)
T = run.temperature.mean() / LJ_TEMPERATURE_K
drift = (run.total_energy[-1] - run.total_energy[0]) / n
print(f"N = {n}, <T*> = {T:.4f}, energy drift {drift:.2e} eps/atom over {production} steps, "
      f"{run.stats['atom_steps_per_s']:.3g} atom-steps/s")

r, g = rdf(run, bins=120)
t_msd, m = msd(run)
D = diffusion_coefficient(run) * TAU                 # Å^2/fs -> sigma^2/tau
t_v, c_v = vacf(run)
# five-component traceless stress (Daivis & Evans 1994); the running integral still rises up to ~4 tau
eta = green_kubo_viscosity(run, window=4 * TAU, blocks=10, components="traceless")
print(f"D* = {D:.4f} (published ~0.03), eta* = {eta.value / TAU:.3f} +- {eta.error / TAU:.3f} "
      "(published 3.24 +- 0.04)")

dp, du = lj_tail_corrections(rho, rc)
u = run.potential_energy.mean() / n + du
p = run.pressure.mean() + dp
p_ref, u_ref = jzg_eos(rho, T)
print(f"U*/N = {u:.4f} vs JZG {u_ref:.4f} ({100 * (u / u_ref - 1):+.2f}%); P* = {p:.4f} vs JZG {p_ref:.4f}")

fig, axes = plt.subplots(2, 2, figsize=(10, 7))
axes[0, 0].plot(r, g)
axes[0, 0].set(xlabel="r / sigma", ylabel="g(r)", title="radial distribution")
axes[0, 1].plot(t_msd / TAU, m)
axes[0, 1].set(xlabel="t / tau", ylabel="MSD / sigma^2", title=f"D* = {D:.3f}")
axes[1, 0].plot(t_v / TAU, c_v)
axes[1, 0].axhline(0, color="k", lw=0.5)
axes[1, 0].set(xlabel="t / tau", ylabel="VACF (normalised)", xlim=(0, 3))
axes[1, 1].plot(eta.time / TAU, eta.running_integral / TAU)
axes[1, 1].set(xlabel="t / tau", ylabel="running Green-Kubo integral eta*",
               title=f"eta* = {eta.value / TAU:.2f} +- {eta.error / TAU:.2f}")
fig.tight_layout()
fig.savefig(OUT / "06_lennard_jones_fluid.png", dpi=120)
print(f"figure: {OUT / '06_lennard_jones_fluid.png'}")
