"""Molecules, potentials and molecular dynamics (issue 6).

Potentials (solvers of ``PotentialEnergy``, usable inside any dynamics or optimisation):
:class:`LennardJones`, :class:`Morse` (numba, cell and Verlet lists), :class:`PySCF` (HF/DFT,
optional ``quantum`` extra), :class:`TBLite` (GFN2-xTB, optional ``xtb`` extra), :class:`HIPNN` (the hierarchically
interacting particle neural network in torch), :class:`ASECalculator`
(in-process ASE calculators); the reverse bridge is
:func:`as_ase_calculator`. Dynamics (solvers of ``MolecularDynamics``): :class:`VelocityVerlet`,
:class:`Langevin`, :class:`NoseHoover`. Optimisers (``GeometryOptimization``): :class:`LBFGS`,
:class:`FIRE`. Observables in :mod:`.observables`, published references in :mod:`.reference`.
Hydrodynamics from MD (issue 21): :func:`measure_hydrodynamics` gives a :class:`HydrodynamicsRecord`
(C_T(k, t), eta(k), eta_0, S(k), c_T, Green–Kubo shear and bulk viscosity, errors from independent runs);
the modes are in :mod:`.structure_factor`.
Data: :func:`load_qm9` (QM9 from the ``qm9pack`` wheel, ``data`` extra) into
``problems.datasets.AtomisticDataset``; :func:`sample_configurations` labels MD snapshots with any
potential. Units: Å, eV, amu, fs, K (see ``problems.molecule``).
"""

from __future__ import annotations

import toolkit as tk
from problems.molecule import (GeometryOptimization, HydrodynamicMeasurement, Molecule, MolecularDynamics, PotentialEnergy,
                               argon_cluster, lj_fluid, organic, water)

from . import hydrodynamics, observables, reference, structure_factor
from .ase_bridge import ASECalculator, as_ase_calculator
from .dynamics import Langevin, MDIntegrator, NoseHoover, VelocityVerlet
from .optimize import FIRE, LBFGS, OptimizationSolution
from .pair import LennardJones, Morse
from .potential import Evaluator, Potential, PotentialCache, PotentialEnergySolution
from .quantum import PySCF
from .trajectory import MDSolution
from .hydrodynamics import HydrodynamicsRecord, measure_hydrodynamics
from . import qm9, sampling
from .qm9 import load_qm9
from .sampling import label_dataset, molecule_of, sample_configurations
from .xtb import TBLite
from . import active
from .active import ActiveLearningSolution, QueryByCommittee, RandomSelection
from .transport import HydrodynamicsSolution, TransverseCurrents
from .liquid import melt
from .hipnn import HIPNN, HIPNNTraining, PotentialFit, committee_potentials, committee_predict, fit_composition

__all__ = ["LennardJones", "Morse", "PySCF", "ASECalculator", "as_ase_calculator", "Potential", "Evaluator",
           "PotentialCache", "PotentialEnergySolution", "VelocityVerlet", "Langevin", "NoseHoover", "MDIntegrator", "MDSolution",
           "LBFGS", "FIRE", "OptimizationSolution", "observables", "reference", "hydrodynamics",
           "structure_factor", "HydrodynamicsRecord", "measure_hydrodynamics",
           "TBLite", "HIPNN", "HIPNNTraining", "PotentialFit", "committee_predict", "committee_potentials",
           "fit_composition", "active", "QueryByCommittee", "RandomSelection", "ActiveLearningSolution", "load_qm9", "sample_configurations", "TransverseCurrents", "HydrodynamicsSolution", "melt", "label_dataset", "molecule_of", "qm9", "sampling"]


def _lj_fluid_md(cells: int = 3, density: float = 0.8442, temperature: float = 0.722, steps: int = 200,
                 save_every: int = 50, thermo_every: int = 10, cutoff: float = 2.5, seed: int = 0,
                 melt_steps: int = 0):
    """Spec builder: a reduced-unit LJ fluid (fcc start) under LennardJones(cutoff), as MD; ``melt_steps`` > 0
    melts the start first (:func:`.liquid.melt`: Nose-Hoover at T* = 2.5, velocities redrawn at ``temperature``)."""
    start = lj_fluid(cells, density, temperature, seed=seed)
    if melt_steps:
        start = melt(start, LennardJones(cutoff=cutoff), temperature, steps=melt_steps, seed=seed)
    return MolecularDynamics(start, LennardJones(cutoff=cutoff), steps=steps, save_every=save_every,
                             thermo_every=thermo_every)


def _tour():
    from problems.molecule import LJ_TIME_FS

    fluid = MolecularDynamics(lj_fluid(3, 0.8442, 0.722), LennardJones(cutoff=2.5, skin=0.3), steps=200,
                              save_every=50, thermo_every=10)
    return [
        tk.TourCase("LJ fluid, 108 atoms, NVE", fluid, VelocityVerlet(dt=0.005 * LJ_TIME_FS)),
        tk.TourCase("argon cluster, Langevin 30 K", MolecularDynamics.example(0),
                    Langevin(dt=5.0, temperature=30.0, friction=0.01)),
        tk.TourCase("water energy and forces, HF/STO-3G (PySCF)", PotentialEnergy(water()), PySCF()),
        tk.TourCase("water energy and forces, GFN2-xTB (tblite)", PotentialEnergy(water()), TBLite()),
        tk.TourCase("Ar13 relaxation, L-BFGS", GeometryOptimization.example(0), LBFGS()),
        tk.TourCase("HIP-NN fit to GFN2-xTB water (60 samples, 6 epochs; not converged)", *_hipnn_tour_pair()),
    ]


def _hipnn_tour_pair():
    """A tiny HIP-NN training on energies and forces of water snapshots from Langevin MD at 300 and 900 K,
    labelled by GFN2-xTB (the hipnn-water-xtb spec, smaller)."""
    from problems.datasets import FitPotential

    data = sample_configurations(water(), TBLite(), temperatures=[300.0, 900.0], steps=150, every=5, seed=0)
    model = HIPNN(species=("H", "O"), features=8, sensitivities=8, interactions=1, atom_layers=1, cutoff=4.0,
                  soft_min=0.7, soft_max=3.0)
    solver = HIPNNTraining(model=model, epochs=6, batch=16, learning_rate=3e-3, hierarchicality_weight=0.0,
                           dtype="float64", seed=0)
    return FitPotential(data, targets=("energy", "forces"), validation=0.15, test=0.15), solver


def _default_potential(problem):
    """Argon's Lennard-Jones for argon atoms of argon's mass, else reduced-unit Lennard-Jones."""
    mol = problem.molecule
    if set(mol.species) == {"Ar"} and abs(float(mol.masses.mean()) - 39.948) < 0.01:
        return LennardJones.argon()
    return LennardJones()


tk.register_default_solver(MolecularDynamics, lambda problem: VelocityVerlet())
tk.register_default_solver(PotentialEnergy, _default_potential)
tk.register_family(tk.Family(
    name="molecule",
    title="Molecules, potentials and molecular dynamics",
    tour=_tour,
    builders={"lj_fluid": lj_fluid, "water": water, "organic": organic, "argon_cluster": argon_cluster,
              "lj_fluid_md": _lj_fluid_md, "qm9": load_qm9, "md_samples": sample_configurations},
    components={"Molecule": Molecule, "LennardJones": LennardJones, "Morse": Morse, "PySCF": PySCF,
                "ASECalculator": ASECalculator, "TBLite": TBLite, "HIPNN": HIPNN,
                "PotentialEnergy": PotentialEnergy, "MolecularDynamics": MolecularDynamics, "HydrodynamicMeasurement": HydrodynamicMeasurement,
                "TransverseCurrents": TransverseCurrents,
                "GeometryOptimization": GeometryOptimization},
))
