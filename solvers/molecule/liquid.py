"""Liquid starts for measurements: a lattice start melted before it is equilibrated at the state point.

``lj_fluid`` places the atoms on an fcc lattice. At the Lennard-Jones triple point (rho* = 0.8442,
T* = 0.722) that crystal is not the stable phase but it melts slowly: a Nose-Hoover equilibration at
0.722 of 10-20 tau leaves a 4,000-atom box still melting when NVE production starts, and the runs cool
as they absorb the latent heat (T* = 0.687 measured; c_T 3 % low), while a 256-atom box equilibrated for
5 tau stays a crystal (a "viscosity" twice the liquid's). :func:`melt` first disorders the start at a
high temperature (T* = 2.5, far above melting at this density), then redraws the velocities at the
target temperature, so that the equilibration that follows only has to thermalise a liquid.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.molecule import KB_EV, Molecule, MolecularDynamics, maxwell_boltzmann
from toolkit import validate as v

from .dynamics import NoseHoover
from .hydrodynamics import reduced_units

__all__ = ["melt"]


def melt(molecule: Molecule, potential, temperature: float, *, melt_temperature: float = 2.5, steps: int = 1500,
         seed: int = 0) -> Molecule:
    """``molecule`` after ``steps`` Nose-Hoover steps (dt = 0.005 tau, damping 0.5 tau) at ``melt_temperature``
    under ``potential``, with velocities redrawn from Maxwell-Boltzmann at ``temperature`` (zero total
    momentum). Temperatures are reduced, T* = k_B T / epsilon, epsilon the potential's (1 eV when it has none),
    as ``lj_fluid`` takes them."""
    temperature = v.real_scalar("temperature", temperature, lower=0, lower_open=True, upper=1e6)
    melt_temperature = v.real_scalar("melt_temperature", melt_temperature, lower=0, lower_open=True, upper=1e6)
    steps = v.integer("steps", steps, lower=1, upper=10 ** 9)
    seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1)
    if not isinstance(molecule, Molecule):
        raise tk.InvalidProblemError(f"molecule = {v.show(molecule)} is not allowed: give a Molecule (e.g. lj_fluid(...))")
    problem = MolecularDynamics(molecule, potential, steps=steps, save_every=steps, thermo_every=max(1, steps // 10))
    _, epsilon, _, tau = reduced_units(problem)
    kelvin = epsilon / KB_EV
    hot = tk.solve(problem, NoseHoover(dt=0.005 * tau, temperature=melt_temperature * kelvin, tdamp=0.5 * tau),
                   progress=False)
    if not hot.successful:
        raise tk.UnstableError(f"the melting run at T* = {melt_temperature} stopped: {hot.message}")
    velocities = maxwell_boltzmann(molecule.masses, temperature * kelvin, np.random.default_rng(seed))
    return tk.remake(molecule, positions=hot.positions[-1], velocities=velocities)
