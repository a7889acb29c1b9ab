"""A machine-learned potential: HIP-NN trained on QM9 energies, then on GFN2-xTB water, then MD.
=============================================================================================

HIP-NN, the Hierarchically Interacting Particle Neural Network (Lubbers, Smith & Barros, J. Chem.
Phys. 148, 241715 (2018), doi:10.1063/1.5011181), writes the energy as a sum over blocks,
E = E_0 + E_1 + ... + E_B, with E_0 the per-species least-squares fit on composition and each
interaction block correcting the one before. Training is a solve: ``FitPotential(dataset)``
solved by ``HIPNNTraining(model=HIPNN(...))`` returns a ``PotentialFit`` whose ``potential`` is an
ordinary potential (it drives MD, optimisation, ``PotentialEnergy`` and the ASE bridge). We

1. fit U0 atomisation energies of a seeded QM9 subset (Ramakrishnan et al., Sci. Data 1, 140022
   (2014); equilibrium geometries, no forces) and compare the test MAE with that of the
   composition fit E_0 alone; the paper reaches 0.26 kcal/mol with ~110k training molecules,
   2,000 training molecules and 150 epochs gave 2.9 kcal/mol against 18.3 for E_0 alone;
2. sample water with Langevin MD at 300 and 900 K under GFN2-xTB (tblite; Bannwarth, Ehlert &
   Grimme, J. Chem. Theory Comput. 15, 1652 (2019)), fit energies and forces, and
3. run NVE velocity Verlet under the trained model (energy conservation) and compare its forces
   with the oracle's on held-out snapshots (full size: 600 snapshots, force MAE 0.13 eV/Å against
   oracle components of 0.7 eV/Å on average, total energy constant to 0.05 meV over 1 ps).

Needs the ``data`` (qm9pack) and ``xtb`` (tblite) extras.
Environment: SCALEBRIDGE_SMALL=1 (tiny sizes, a few epochs: the numbers are NOT converged),
SCALEBRIDGE_OUT (figures).
"""

import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import toolkit as tk
from problems.datasets import KCAL_MOL_EV, FitPotential
from problems.molecule import MolecularDynamics, PotentialEnergy, maxwell_boltzmann, water
from solvers.molecule import HIPNN, HIPNNTraining, TBLite, VelocityVerlet, load_qm9, molecule_of, sample_configurations

SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
OUT = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)            # small models train fastest on one thread (and the machine may be shared)
if SMALL:
    print("SCALEBRIDGE_SMALL=1: tiny datasets and a few epochs; the errors below are NOT converged values")
start = time.perf_counter()

# -- 1. QM9 U0 atomisation energies --------------------------------------------------------------
n_qm9, qm9_epochs = (250, 20) if SMALL else (2500, 150)          # 80/10/10 split: ~2,000 training molecules
qm9 = load_qm9(n=n_qm9, seed=0)
width, depth, cutoff = (8, 1, 5.0) if SMALL else (20, 3, 6.5)      # full size: benchmarks/mlpot.py's architecture
qm9_model = HIPNN(features=width, sensitivities=width, interactions=2, atom_layers=depth, cutoff=cutoff,
                  soft_min=0.85, soft_max=5.0, species=("H", "C", "N", "O", "F"))
qm9_fit = tk.solve(FitPotential(qm9, validation=0.1, test=0.1),
                   HIPNNTraining(model=qm9_model, epochs=qm9_epochs, batch=16 if SMALL else 32, learning_rate=2e-3,
                                 patience=None if SMALL else 40, dtype="float32", seed=0))
m = qm9_fit.metrics
print(f"QM9: {m['n_train']} training / {m['n_validation']} validation / {m['n_test']} test molecules, "
      f"{len(qm9_fit.epoch)} epochs (best {qm9_fit.best_epoch})")
print(f"  test MAE {m['energy_mae_kcal_mol']:.2f} kcal/mol ({1000 * m['energy_mae']:.0f} meV) against "
      f"{m['composition_mae'] / KCAL_MOL_EV:.2f} kcal/mol for the composition fit E_0 alone "
      f"(ratio {m['energy_mae'] / m['composition_mae']:.3f}; Lubbers et al. reach 0.26 kcal/mol at ~110k)")

axes = qm9_fit.plot()
axes[0].set_ylabel("energy MAE (eV per molecule)")
axes[1].set(xlabel="QM9 U0 atomisation energy (eV)", ylabel="HIP-NN (eV)")
axes[1].figure.suptitle(f"HIP-NN on QM9 U0, {m['n_train']} training molecules"
                        + (" (SMALL run: not converged)" if SMALL else ""), fontsize=10)
axes[1].figure.tight_layout()
axes[1].figure.savefig(OUT / "10_hipnn_qm9.png", dpi=120)
print(f"figure: {OUT / '10_hipnn_qm9.png'}")

# -- 2. water labelled by GFN2-xTB: energies and forces --------------------------------------------
oracle = TBLite(method="GFN2-xTB")
steps, every, water_epochs = (600, 6, 25) if SMALL else (3000, 10, 200)
data = sample_configurations(water(), oracle, temperatures=[300.0, 900.0], steps=steps, every=every, seed=0)
problem = FitPotential(data, targets=("energy", "forces"), validation=0.15, test=0.15)
water_model = HIPNN(features=16, sensitivities=12, interactions=1, atom_layers=2, cutoff=4.0, soft_min=0.7,
                    soft_max=3.0, species=("H", "O"))
water_fit = tk.solve(problem, HIPNNTraining(model=water_model, epochs=water_epochs, batch=16, learning_rate=3e-3,
                                            hierarchicality_weight=0.0, dtype="float64", patience=40, seed=0))
w = water_fit.metrics
typical = float(np.mean(np.abs(water_fit.test_forces)))
print(f"water: {len(data)} GFN2-xTB snapshots (300 K and 900 K), {len(water_fit.epoch)} epochs; test energy MAE "
      f"{1000 * w['energy_mae']:.1f} meV (E_0 alone {1000 * w['composition_mae']:.1f} meV), force MAE "
      f"{w['force_mae']:.3f} eV/Å (oracle force components average {typical:.2f} eV/Å)")

# -- 3. NVE under the trained model; its forces against the oracle on held-out snapshots ------------
molecule = water()
molecule = tk.remake(molecule, velocities=maxwell_boltzmann(molecule.masses, 300.0, np.random.default_rng(1)))
md_steps = 400 if SMALL else 4000
run = tk.solve(MolecularDynamics(molecule, water_fit.potential, steps=md_steps, save_every=20, thermo_every=2),
               VelocityVerlet(dt=0.25))
print(run)
print(f"NVE, {md_steps} steps of 0.25 fs under HIP-NN: total energy spread {1000 * np.ptp(run.total_energy):.3f} meV "
      f"(mean kinetic energy {1000 * run.kinetic_energy.mean():.1f} meV)")

_, _, held_out = problem.splits()
picks = np.linspace(0, len(held_out) - 1, min(len(held_out), 12 if SMALL else 40)).astype(int)
ours, theirs = [], []
for k in picks:
    mol = molecule_of(held_out[int(k)])
    ours.append(tk.solve(PotentialEnergy(mol), water_fit.potential).forces)
    theirs.append(tk.solve(PotentialEnergy(mol), oracle).forces)
ours, theirs = np.concatenate(ours).ravel(), np.concatenate(theirs).ravel()
force_mae = float(np.mean(np.abs(ours - theirs)))
print(f"held-out forces, {len(picks)} snapshots through the potential: MAE {force_mae:.3f} eV/Å against GFN2-xTB")

fig, (a, b, c) = plt.subplots(1, 3, figsize=(14, 4))
a.semilogy(water_fit.epoch, water_fit.validation_mae * 1000, label="energy MAE (meV)")
a.semilogy(water_fit.epoch, water_fit.validation_force_mae * 1000, label="force MAE (meV/Å)")
a.set(xlabel="epoch", ylabel="validation MAE (meV; meV/Å)", title="learning curve, water (GFN2-xTB)")
a.legend(fontsize=8)
# energies relative to their starting values: the absolute GFN2-xTB-scale energy (~ -140 eV) would hide the motion
b.plot(run.time, 1000 * (run.potential_energy - run.potential_energy[0]), label="potential")
b.plot(run.time, 1000 * (run.kinetic_energy - run.kinetic_energy[0]), label="kinetic")
b.plot(run.time, 1000 * (run.total_energy - run.total_energy[0]), label="total", color="k")
b.set(xlabel="time (fs)", ylabel="energy change from t = 0 (meV)",
      title=f"NVE under HIP-NN, dt = 0.25 fs: total spread {1000 * np.ptp(run.total_energy):.2f} meV")
b.title.set_fontsize(10)
b.legend(fontsize=8)
lim = 1.05 * float(np.abs(np.concatenate([ours, theirs])).max())
c.plot([-lim, lim], [-lim, lim], color="0.6", lw=1)
c.scatter(theirs, ours, s=6)
c.set(xlabel="GFN2-xTB force component (eV/Å)", ylabel="HIP-NN force component (eV/Å)",
      title=f"held-out snapshots: MAE {force_mae:.3f} eV/Å", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
if SMALL:
    fig.suptitle("SMALL run: tiny dataset, few epochs (not converged)", fontsize=10)
fig.tight_layout()
fig.savefig(OUT / "10_hipnn_water_md.png", dpi=120)
print(f"figure: {OUT / '10_hipnn_water_md.png'}")
print(f"total wall time {time.perf_counter() - start:.1f} s" + (" (small size: numbers not converged)" if SMALL
                                                                  else ""))
