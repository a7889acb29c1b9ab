"""Where candidate configurations come from: normal-mode sampling and committee-stopped MD.

**Normal-mode sampling** (ANI-1: Smith, Isayev & Roitberg, Chem. Sci. 8, 3192 (2017),
doi:10.1039/C6SC05720A). At a minimum ``x0`` of a potential (the oracle, or a trained model) the
Hessian ``H`` (eV/Å², central differences of the forces, symmetrised) and the masses ``M`` (amu)
give the normal modes: the eigenvectors ``e_i`` of ``M^-1/2 H M^-1/2`` with the ``N_f = 3N - 6``
largest eigenvalues (``3N - 5`` for a linear molecule; translations and rotations dropped). Their
Cartesian directions ``l_i = M^-1/2 e_i / |M^-1/2 e_i|`` are ``H``-orthogonal, so a displacement
``dx = sum_i R_i l_i`` has the harmonic energy

    U(dx) = 1/2 dx^T H dx = sum_i 1/2 K_i R_i^2,        K_i = l_i^T H l_i  (force constants).

Each sample draws the per-mode energies ``u_i = 1/2 K_i R_i^2`` and sets
``R_i = s_i sqrt(2 u_i / K_i)`` with random signs ``s_i``:

* ``recipe="ani1"`` (ANI-1's rule): ``u_i = c_i (3/2) N k_B T`` with ``c_i >= 0`` and
  ``sum_i c_i = S``, ``S ~ U(0, 1)`` split over the modes by a flat Dirichlet, so the harmonic
  energy is ``U = (3/2) N k_B T S``: uniform on ``[0, (3/2) N k_B T]``, mean ``(3/4) N k_B T``;
* ``recipe="thermal"``: ``u_i ~ Gamma(1/2, k_B T)`` independently (the classical Boltzmann
  distribution of a harmonic mode's potential energy), so ``U ~ Gamma(N_f / 2, k_B T)``, mean
  ``N_f k_B T / 2``.

:func:`harmonic_energy_law` states the law of ``U`` for the tests.

**Committee-stopped MD** (LANL's ALF loop: Smith et al., J. Chem. Phys. 148, 241733 (2018);
Vandermause et al., npj Comput. Mater. 6, 20 (2020)). Langevin dynamics (BAOAB, Leimkuhler &
Matthews, Appl. Math. Res. Express 2013, 34) on the committee's mean force at temperature ``T``;
after every ``check_every`` steps the committee's force spread ``max_i |std_k F_k,i|`` (eV/Å,
``ddof = 1``, :func:`~.selection.spread_scores`) is compared with ``threshold``: the first
configuration past it stops the run and is the candidate to send to the oracle. A run that never
passes it ends after ``steps`` steps (``stopped = False``).

Units: Å, eV, amu, fs, K (``problems.molecule``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import toolkit as tk
from problems.datasets import NORMAL_MODE_RECIPES, AtomisticDataset
from problems.molecule import FS, KB_EV, Molecule, maxwell_boltzmann
from toolkit import validate as v

from ..potential import force_function
from .selection import spread_scores

__all__ = ["NormalModes", "normal_modes", "hessian_modes", "normal_mode_samples", "harmonic_energy_law",
           "CommitteeMDRun", "committee_md", "committee_run", "committee_md_pool", "RECIPES"]

_O = tk.InvalidOptionError
#: With ``strict=False``, :func:`hessian_modes` drops modes whose curvature is at most this fraction of the stiffest.
FLAT_MODE = 1e-3
#: Per-mode energy rules of :func:`normal_mode_samples` (module docstring).
RECIPES = NORMAL_MODE_RECIPES


@dataclass(frozen=True)
class NormalModes:
    """The normal modes at ``positions`` (Å): unit Cartesian ``directions`` (N_f, N, 3), force
    constants ``constants`` K_i (eV/Å²), the ``hessian`` (3N, 3N; eV/Å²) and the ``energy`` (eV)."""

    positions: np.ndarray
    directions: np.ndarray
    constants: np.ndarray
    hessian: np.ndarray
    energy: float


def _positive(name, value, upper=1e9):
    return v.real_scalar(name, value, lower=0.0, lower_open=True, upper=upper, error=_O)


def _molecule(value) -> Molecule:
    if not isinstance(value, Molecule):
        raise _O(f"molecule = {v.show(value)} is not allowed: give a problems.molecule.Molecule")
    if any(value.pbc):
        raise _O("molecule is periodic: normal modes and committee MD here are for isolated molecules")
    return value


def _is_linear(x: np.ndarray) -> bool:
    if len(x) < 3:
        return True
    centred = x - x.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False)
    return bool(s[1] < 1e-6 * max(s[0], 1e-12))


def normal_modes(molecule: Molecule, potential, *, step: float = 1e-3, relax: bool = False,
                 fmax: float = 1e-3, tolerance: float = 0.05) -> NormalModes:
    """The normal modes of ``potential`` (any force provider: the oracle or a trained model) at
    ``molecule``'s geometry (module docstring). ``relax=True`` first relaxes it (L-BFGS to ``fmax``
    eV/Å); otherwise the geometry must be a minimum already. ``step`` (Å) is the finite-difference
    step. Raises when the geometry is not a minimum: a force above ``tolerance`` eV/Å, or a kept
    mode that is not stiff."""
    molecule = _molecule(molecule)
    if not isinstance(potential, tk.ForceProvider):
        raise _O(f"potential = {v.show(potential)} is not allowed: give a force provider, e.g. TBLite()")
    step = _positive("step", step, upper=0.1)
    if relax:
        from problems.molecule import GeometryOptimization

        from ..optimize import LBFGS

        relaxed = tk.solve(GeometryOptimization(molecule, potential, fmax=fmax, max_steps=2000), LBFGS())
        if not relaxed.successful:
            raise RuntimeError(f"relaxing the molecule failed: {relaxed.message}")
        molecule = relaxed.molecule
    _, compute = force_function(molecule, potential)
    x0 = np.array(molecule.positions, dtype=np.float64)
    _, forces0, _ = compute(x0)
    largest = float(np.linalg.norm(np.asarray(forces0), axis=1).max())
    if largest > tolerance:
        raise RuntimeError(f"the geometry is not a minimum of {type(potential).__name__}: a force of {largest:.3g} "
                           f"eV/Å (tolerance {tolerance:g}); pass relax=True")
    return hessian_modes(compute, molecule, x0, step=step, strict=True, who=type(potential).__name__)


def hessian_modes(compute, molecule: Molecule, positions: np.ndarray, *, step: float = 1e-3, strict: bool = True,
                  who: str = "the potential") -> NormalModes:
    """The normal modes at ``positions`` of the potential ``compute(x) -> (E, forces, ...)`` (module
    docstring), the Hessian by central differences of the forces (``step`` Å). ``strict``: a kept
    mode that is not stiff raises (the geometry is not a minimum); otherwise such modes are dropped
    (the campaign's samplers: a half-trained model's minimum may be shallow along a few modes),
    and so are modes softer than ``FLAT_MODE`` times the stiffest (their displacements at a
    temperature would be huge)."""
    x0 = np.array(positions, dtype=np.float64)
    n = len(x0)
    energy = float(compute(x0)[0])
    hessian = np.empty((3 * n, 3 * n))
    for a in range(3 * n):
        plus, minus = x0.copy(), x0.copy()
        plus.flat[a] += step
        minus.flat[a] -= step
        hessian[a] = -(np.asarray(compute(plus)[1]) - np.asarray(compute(minus)[1])).ravel() / (2.0 * step)
    hessian = 0.5 * (hessian + hessian.T)
    inv_sqrt_m = np.repeat(1.0 / np.sqrt(np.asarray(molecule.masses, dtype=np.float64)), 3)
    values, vectors = np.linalg.eigh(hessian * inv_sqrt_m[:, None] * inv_sqrt_m[None, :])
    kept = 3 * n - (5 if _is_linear(x0) else 6)
    if kept < 1:
        raise _O(f"molecule has {n} atoms: normal-mode sampling needs at least two")
    order = np.argsort(values)[::-1][:kept]
    if values[order].min() <= 0 and strict:
        raise RuntimeError(f"the geometry is not a minimum of {who}: a vibrational mode has "
                           f"curvature {values[order].min():.3g}; pass relax=True")
    if not strict:                      # drop soft modes: curvature <= FLAT_MODE x the stiffest one
        order = order[values[order] > FLAT_MODE * max(float(values[order].max()), 0.0)]
    cart = vectors[:, order] * inv_sqrt_m[:, None]
    if len(order):
        cart /= np.linalg.norm(cart, axis=0)
    constants = np.einsum("ai,ab,bi->i", cart, hessian, cart)      # lambda_i / |M^-1/2 e_i|^2 > 0
    return NormalModes(positions=x0, directions=cart.T.reshape(len(constants), n, 3), constants=constants,
                       hessian=hessian, energy=energy)


def _mode_energies(recipe: str, n_atoms: int, n_modes: int, temperature: float, count: int,
                   rng: np.random.Generator) -> np.ndarray:
    kt = KB_EV * temperature
    if recipe == "thermal":
        return rng.gamma(0.5, kt, size=(count, n_modes))
    total = rng.uniform(0.0, 1.0, size=(count, 1))
    shares = rng.dirichlet(np.ones(n_modes), size=count)
    return 1.5 * n_atoms * kt * total * shares


def harmonic_energy_law(recipe: str, n_atoms: int, n_modes: int, temperature: float):
    """The law (a frozen ``scipy.stats`` distribution, eV) of a sample's harmonic energy ``U``."""
    from scipy import stats

    kt = KB_EV * temperature
    if recipe == "thermal":
        return stats.gamma(a=0.5 * n_modes, scale=kt)
    return stats.uniform(loc=0.0, scale=1.5 * n_atoms * kt)


def normal_mode_samples(molecule: Molecule, potential, temperature: float, count: int, seed: int = 0, *,
                        recipe: str = "ani1", modes: NormalModes | None = None, relax: bool = False,
                        min_distance: float = 0.5) -> AtomisticDataset:
    """``count`` configurations displaced along ``potential``'s normal modes at ``temperature`` (K)
    by ``recipe`` (module docstring), as an unlabelled dataset (energies: the harmonic energies
    ``U``, eV, so a test can read them; forces None). ``modes`` reuses a :func:`normal_modes`
    result. Draws come from ``numpy.random.default_rng(SeedSequence(seed))``: the signs, then the
    energies. A draw that puts two atoms closer than ``min_distance`` Å is replaced by the next."""
    molecule = _molecule(molecule)
    temperature = _positive("temperature", temperature, upper=1e6)
    count = v.integer("count", count, lower=1, upper=10 ** 7, error=_O)
    seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1, error=_O)
    recipe = v.choice("recipe", recipe, RECIPES, error=_O)
    if modes is None:
        modes = normal_modes(molecule, potential, relax=relax)
    elif not isinstance(modes, NormalModes) or modes.positions.shape != molecule.positions.shape:
        raise _O(f"modes = {v.show(modes)} is not allowed: give normal_modes(molecule, potential) of this molecule")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n, kept = len(modes.positions), len(modes.constants)
    positions, harmonic = [], []
    for _ in range(1000):
        need = count - len(positions)
        if need <= 0:
            break
        signs = rng.choice(np.array([-1.0, 1.0]), size=(need, kept))
        energies = _mode_energies(recipe, n, kept, temperature, need, rng)
        amplitudes = signs * np.sqrt(2.0 * energies / modes.constants)
        x = modes.positions[None] + np.einsum("ci,inx->cnx", amplitudes, modes.directions)
        d = np.linalg.norm(x[:, :, None] - x[:, None], axis=-1) + np.eye(n) * 1e9
        ok = d.reshape(need, -1).min(axis=1) >= min_distance
        positions.extend(x[ok])
        harmonic.extend(energies[ok].sum(axis=1))
    if len(positions) < count:
        raise RuntimeError(f"temperature = {temperature:g} K puts atoms closer than {min_distance} Å in almost "
                           "every draw: lower the temperature")
    from ase.data import atomic_numbers

    species = np.tile([atomic_numbers[s] for s in molecule.species], count)
    return AtomisticDataset(species=species, positions=np.concatenate(positions), offsets=np.arange(count + 1) * n,
                            energies=np.asarray(harmonic), source=f"normal-mode samples ({recipe}) of "
                            f"{''.join(molecule.species)} at {temperature:g} K under {potential!r}")


# -- committee-stopped molecular dynamics ------------------------------------------------------------

@dataclass(frozen=True)
class CommitteeMDRun:
    """One committee-MD run: the ``positions`` (Å) where it ended, whether the spread ``stopped`` it,
    the ``steps`` taken, the ``spread`` (eV/Å) at each check and the check ``times`` (steps)."""

    positions: np.ndarray
    stopped: bool
    steps: int
    spread: np.ndarray
    times: np.ndarray


def committee_md(molecule: Molecule, committee, temperature: float, steps: int, threshold: float,
                 seed: int = 0, *, dt: float = 0.5, friction: float = 0.02, check_every: int = 1) -> CommitteeMDRun:
    """Langevin MD of ``molecule`` on the mean force of ``committee`` (two or more trained
    potentials) at ``temperature`` (K), stopped when the committee's force spread passes
    ``threshold`` eV/Å (module docstring). ``dt`` fs, ``friction`` 1/fs; velocities and noise from
    ``default_rng(SeedSequence(seed))``."""
    molecule = _molecule(molecule)
    members = list(committee)
    if len(members) < 2 or not all(isinstance(p, tk.ForceProvider) for p in members):
        raise _O(f"committee = {v.show(committee)} is not allowed: give two or more trained potentials")
    temperature = _positive("temperature", temperature, upper=1e6)
    steps = v.integer("steps", steps, lower=1, upper=10 ** 9, error=_O)
    threshold = _positive("threshold", threshold, upper=1e6)
    seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1, error=_O)
    dt = _positive("dt", dt, upper=100.0)
    friction = v.real_scalar("friction", friction, lower=0.0, upper=1e3, error=_O)
    check_every = v.integer("check_every", check_every, lower=1, upper=steps, error=_O)
    computes = [force_function(molecule, p)[1] for p in members]
    return committee_run(molecule, computes, temperature, steps, threshold, seed, dt=dt, friction=friction,
                         check_every=check_every)


def committee_run(molecule: Molecule, computes, temperature: float, steps: int, threshold: float, seed: int, *,
                  dt: float, friction: float, check_every: int) -> CommitteeMDRun:
    """:func:`committee_md` on checked arguments, with the members given as ``compute(x) -> (E,
    forces, ...)`` functions. One member has no spread (it is reported as 0): the run never stops
    early."""
    offsets = np.array([0, molecule.n_atoms])

    def forces_and_spread(x):
        f = np.array([np.asarray(c(x)[1], dtype=np.float64) for c in computes])
        if len(f) < 2:
            return f[0], 0.0
        return f.mean(axis=0), float(spread_scores(np.zeros((len(f), 1)), f, offsets, "force_spread")[0])

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    masses = np.asarray(molecule.masses, dtype=np.float64)[:, None]
    x = np.array(molecule.positions, dtype=np.float64)
    vel = maxwell_boltzmann(masses[:, 0], temperature, rng)                  # Å/fs
    accel = FS * FS / masses                                                 # (eV/Å)/amu -> Å/fs²
    c1 = np.exp(-friction * dt)
    c2 = np.sqrt((1.0 - c1 * c1) * KB_EV * temperature / masses) * FS         # Å/fs
    force, spread = forces_and_spread(x)
    spreads, times = [spread], [0]
    if spread > threshold:
        return CommitteeMDRun(x, True, 0, np.array(spreads), np.array(times))
    for step in range(1, steps + 1):
        vel += 0.5 * dt * force * accel                                      # B
        x += 0.5 * dt * vel                                                  # A
        vel = c1 * vel + c2 * rng.standard_normal(vel.shape)                 # O
        x += 0.5 * dt * vel                                                  # A
        if not np.all(np.isfinite(x)):
            raise tk.UnstableError(f"committee MD diverged at step {step}: lower dt or the temperature")
        force, spread = forces_and_spread(x)
        vel += 0.5 * dt * force * accel                                      # B
        if not np.all(np.isfinite(force)) or not np.all(np.isfinite(vel)):
            raise tk.UnstableError(f"committee MD diverged at step {step}: lower dt or the temperature")
        if step % check_every == 0 or step == steps:
            spreads.append(spread)
            times.append(step)
            if spread > threshold:
                return CommitteeMDRun(x, True, step, np.array(spreads), np.array(times))
    return CommitteeMDRun(x, False, steps, np.array(spreads), np.array(times))


def committee_md_pool(molecule: Molecule, committee, temperatures, runs: int, steps: int, threshold: float,
                      seed: int = 0, **md) -> AtomisticDataset:
    """Candidates the ALF way: ``runs`` :func:`committee_md` runs at each of ``temperatures`` (K),
    keeping the configuration where each run's spread passed ``threshold`` (runs that never pass it
    give nothing). Run ``r`` at temperature ``j`` is seeded ``SeedSequence(seed).spawn(...)[j *
    runs + r]``; its dataset id is ``j * runs + r``. Unlabelled (energies zero): the oracle labels
    what a campaign picks. Raises when no run passed the threshold."""
    molecule = _molecule(molecule)
    temps = v.real_array("temperatures", np.atleast_1d(temperatures), ndim=1, lower=0.0, upper=1e6, error=_O)
    runs = v.integer("runs", runs, lower=1, upper=10 ** 6, error=_O)
    seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1, error=_O)
    children = np.random.SeedSequence(seed).spawn(len(temps) * runs)
    positions, ids = [], []
    for j, temperature in enumerate(temps):
        for r in range(runs):
            child = int(children[j * runs + r].generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            run = committee_md(molecule, committee, float(temperature), steps, threshold, child, **md)
            if run.stopped:
                positions.append(run.positions)
                ids.append(j * runs + r)
    if not positions:
        raise RuntimeError(f"no committee-MD run passed threshold = {threshold:g} eV/Å within {steps} steps: lower "
                           "the threshold, raise the temperatures or run longer")
    from ase.data import atomic_numbers

    n = molecule.n_atoms
    species = np.tile([atomic_numbers[s] for s in molecule.species], len(positions))
    return AtomisticDataset(species=species, positions=np.concatenate(positions),
                            offsets=np.arange(len(positions) + 1) * n, energies=np.zeros(len(positions)),
                            ids=np.asarray(ids, dtype=np.int64),
                            source=f"committee MD of {''.join(molecule.species)} at {temps.tolist()} K stopped at a "
                                   f"force spread of {threshold:g} eV/Å")
