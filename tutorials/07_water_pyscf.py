"""A water molecule moved by quantum chemistry: PySCF Hartree-Fock forces drive the dynamics.
==========================================================================================

The potential is restricted Hartree-Fock (or Kohn-Sham DFT) from PySCF (Sun et al., WIREs
Comput. Mol. Sci. 8, e1340 (2018), doi:10.1002/wcms.1340). We

1. relax the geometry with L-BFGS (Liu & Nocedal 1989) — HF/STO-3G gives r(OH) ~ 0.989 Å and
   an HOH angle ~ 100.0 degrees (Szabo & Ostlund, *Modern Quantum Chemistry*, Table 3.13),
2. stretch one O-H bond by 0.05 Å and run velocity Verlet (NVE) on the ab initio forces: the
   total energy stays constant while the bond vibrates with the O-H stretch period (~8 fs at
   the HF/STO-3G level, whose harmonic frequencies are ~10% above experiment's 3657 cm^-1).

Swap ``PySCF()`` for any other potential — ``PySCF(method="DFT", xc="PBE", basis="6-31g")``,
``ASECalculator(...)`` or a learned one — and nothing else changes. Needs the ``quantum`` extra.
Environment: SCALEBRIDGE_SMALL=1 (a few steps), SCALEBRIDGE_OUT (figures).
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import toolkit as tk
from problems.molecule import GeometryOptimization, MolecularDynamics, water
from solvers.molecule import LBFGS, PySCF, VelocityVerlet

SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if SMALL:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
OUT = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)

hf = PySCF(method="HF", basis="sto-3g")
relaxed = tk.solve(GeometryOptimization(water(), hf, fmax=0.01), LBFGS())
x = relaxed.positions
roh = np.linalg.norm(x[1] - x[0])
cos = np.dot(x[1] - x[0], x[2] - x[0]) / (np.linalg.norm(x[1] - x[0]) * np.linalg.norm(x[2] - x[0]))
print(f"HF/STO-3G minimum: E = {relaxed.energy:.6f} eV, r(OH) = {roh:.4f} Å, "
      f"HOH = {np.degrees(np.arccos(cos)):.2f} deg ({relaxed.stats['steps']} L-BFGS steps)")

start = relaxed.positions.copy()
bond = (start[1] - start[0]) / roh
start[1] += 0.05 * bond                                # stretch one O-H bond
molecule = tk.remake(relaxed.molecule, positions=start)
steps = 8 if SMALL else 80
run = tk.solve(MolecularDynamics(molecule, hf, steps=steps, save_every=1, thermo_every=1), VelocityVerlet(dt=0.25))
r1 = np.linalg.norm(run.positions[:, 1] - run.positions[:, 0], axis=1)
print(run)
print(f"{steps} steps of 0.25 fs: total energy spread {np.ptp(run.total_energy) * 1000:.3f} meV, "
      f"O-H bond between {r1.min():.4f} and {r1.max():.4f} Å")

fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
a.plot(run.frame_time, r1, label="O-H(1)")
a.plot(run.frame_time, np.linalg.norm(run.positions[:, 2] - run.positions[:, 0], axis=1), label="O-H(2)")
a.set(xlabel="time (fs)", ylabel="bond length (Å)")
a.legend()
run.plot(ax=b)
fig.tight_layout()
fig.savefig(OUT / "07_water_pyscf.png", dpi=120)
print(f"figure: {OUT / '07_water_pyscf.png'}")
