"""Molecular dynamics: velocity Verlet (NVE), Langevin BAOAB and Nosé–Hoover (NVT).

``tk.init(MolecularDynamics(molecule, potential, steps), VelocityVerlet(dt=1.0))`` returns an
:class:`MDIntegrator`. With a numba pair potential (LennardJones, Morse) every step runs inside
one jitted loop (:func:`solvers.molecule.kernels.md_segment`) with a Verlet list rebuilt when an
atom has moved half the skin; any other potential (PySCF, ASE calculators, learned potentials)
is stepped by the same equations in NumPy, one ``evaluator.compute`` per step.

Equations (x positions, v velocities, m masses, F forces, h the time step):

* velocity Verlet: ``v += h F/2m; x += h v; F = F(x); v += h F/2m`` — symplectic, energy error
  O(h^2) (Swope, Andersen, Berens & Wilson, J. Chem. Phys. 76, 637 (1982), doi:10.1063/1.442716);
* Langevin BAOAB: B, A (half drift), O (``v = c1 v + sqrt((1 - c1^2) kT/m) xi``, ``c1 = exp(-gamma h)``),
  A, B (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34, doi:10.1093/amrx/abs010);
* Nosé–Hoover chain: ``v' = F/m - v_1 v``, ``v_1' = (2K - g kT)/Q_1 - v_1 v_2``,
  ``v_k' = (Q_{k-1} v_{k-1}^2 - kT)/Q_k - v_k v_{k+1}``, ``Q_1 = g kT tau^2``, ``Q_k = kT tau^2``
  (Martyna, Klein & Tuckerman, J. Chem. Phys. 97, 2635 (1992), doi:10.1063/1.463940), the
  thermostat half steps split by Trotter/Suzuki–Yoshida around velocity Verlet (Martyna,
  Tuckerman, Tobias & Klein, Mol. Phys. 87, 1117 (1996), doi:10.1080/00268979600100761); the
  conserved energy adds ``sum Q_k v_k^2 / 2 + g kT eta_1 + kT sum_{k>1} eta_k``
  (``MDSolution.thermostat_energy``; ``MDSolution.conserved_energy`` is the conserved quantity). See
  :mod:`solvers.molecule.chain`.

Units: ``dt`` in fs, ``temperature`` in K, ``friction`` in 1/fs, ``tdamp`` in fs.

The potential is reached through the force-provider contract: ``tk.init(PotentialEnergy(molecule),
problem.potential)`` gives the cache whose ``compute`` (or ``energy_gradient``) the Python loop calls
and whose ``pair`` opens the jitted one.

Validity is monitored while running, at every thermo or save record (and every step on the Python
path): the relative drift ``|H(t) - H(0)| / s`` of the conserved quantity ``H`` (``K + U`` for velocity
Verlet, plus the chain's energy for Nosé–Hoover, ``K + U`` against the thermal scale for Langevin),
with ``s = max(|H(0)|, |U(0)|, K(0), g k_B T, 1e-9 eV)``. Past the solver's ``max_drift`` (the
stability limit) the run stops ``Unstable`` at the first step beyond it, holding the last good state;
past ``warn_drift`` (the accuracy limit) it finishes with a warning in ``solution.message`` and
``solution.stats["warnings"]``. Non-finite states and atoms lost (farther than
``problems.molecule.MAX_COORDINATE`` from the origin) stop it ``Unstable`` too.
"""

from __future__ import annotations

import math

import numpy as np

import toolkit as tk
from problems.molecule import FS, KB_EV, MAX_COORDINATE, MolecularDynamics
from toolkit import memory
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .chain import YOSHIDA_ORDERS, chain_energy, chain_masses, suzuki_yoshida_weights
from .checkpoints import checked_state
from .kernels import kinetic_tensor, md_list, md_segment, nhc_half, rebuild, state_summary
from .potential import force_function
from .trajectory import MDSolution

__all__ = ["VelocityVerlet", "Langevin", "NoseHoover", "MDIntegrator"]

_E = tk.InvalidSolverError
#: Largest number of noise values drawn at once (memory bound of a Langevin segment).
_NOISE_BLOCK = 3_000_000
#: Upper bounds of the hyperparameters (fs, K, 1/fs): past them a run is meaningless.
_MAX_DT, _MAX_TEMPERATURE, _MAX_FRICTION = 1e6, 1e9, 1e3


def _dt(value):
    return v.real_scalar("dt", value, lower=0, lower_open=True, upper=_MAX_DT, error=_E)


def _threads(solver):
    solver._set("threads", v.integer("threads", solver.threads, lower=1, upper=256, error=_E))


def _drift_limits(solver):
    """Validate ``max_drift`` (stability limit) and ``warn_drift`` (accuracy limit): None or > 0."""
    for name in ("max_drift", "warn_drift"):
        solver._set(name, v.real_scalar(name, getattr(solver, name), lower=0, lower_open=True, upper=1e12,
                                        allow_none=True, error=_E))
    if solver.max_drift is not None and solver.warn_drift is not None and solver.warn_drift > solver.max_drift:
        raise _E(f"warn_drift = {solver.warn_drift:g} is not allowed above max_drift = {solver.max_drift:g}: the "
                 "accuracy limit (a warning) must not exceed the stability limit (the run stops)")


class VelocityVerlet(tk.Solver):
    """Velocity Verlet, microcanonical (NVE); ``dt`` in fs.

    ``max_drift``: relative energy drift past which the run stops ``Unstable`` (default 0.5);
    ``warn_drift``: past which it finishes with a warning (default 0.01); None turns either off.
    ``threads``: the Lennard-Jones force loop and list search of the jitted loop cut into that many
    parallel parts (numba threads, see :meth:`MDIntegrator._scratch`); 1 is serial.
    """

    dt: float = 1.0
    max_drift: float | None = 0.5
    warn_drift: float | None = 0.01
    threads: int = 1
    supports_step = True
    scheme = 0

    def _validate(self):
        self._set("dt", _dt(self.dt))
        _drift_limits(self)
        _threads(self)


class Langevin(tk.Solver):
    """Langevin dynamics by BAOAB: ``dt`` (fs), ``temperature`` (K), ``friction`` gamma (1/fs), ``seed``.

    The bath exchanges energy, so only runaway heating is watched: ``max_drift`` (default 10) bounds
    the change of ``K + U`` relative to the scale that includes ``g k_B T``; ``warn_drift`` defaults to None.
    ``threads`` as for :class:`VelocityVerlet`.
    """

    dt: float = 1.0
    temperature: float = 300.0
    friction: float = 0.01
    seed: int = 0
    max_drift: float | None = 10.0
    warn_drift: float | None = None
    threads: int = 1
    supports_step = True
    stochastic = True
    scheme = 1

    def _validate(self):
        self._set("dt", _dt(self.dt))
        self._set("temperature", v.real_scalar("temperature", self.temperature, lower=0, upper=_MAX_TEMPERATURE,
                                               error=_E))
        self._set("friction", v.real_scalar("friction", self.friction, lower=0, upper=_MAX_FRICTION, error=_E))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2 ** 63 - 1, error=_E))
        _drift_limits(self)
        _threads(self)


class NoseHoover(tk.Solver):
    """Nosé–Hoover chain thermostat (NVT): ``dt`` (fs), ``temperature`` (K), ``tdamp`` (fs, the
    thermostat time scale ``tau``, ``Q_1 = g kT tau^2``), ``chain`` (thermostats in the chain, M;
    ``chain=1`` is the plain Nosé–Hoover thermostat, not ergodic for small or stiff systems),
    ``n_yoshida`` (order of the Suzuki–Yoshida composition: 1, 3, 5 or 7) and ``n_respa`` (repeats
    of it per half step). Martyna, Klein & Tuckerman 1992 (doi:10.1063/1.463940); integrator of
    Martyna, Tuckerman, Tobias & Klein 1996 (doi:10.1080/00268979600100761). ``max_drift`` /
    ``warn_drift`` (defaults 0.5 / 0.01) watch the conserved extended energy as for VelocityVerlet;
    ``threads`` as for :class:`VelocityVerlet`."""

    dt: float = 1.0
    temperature: float = 300.0
    tdamp: float = 100.0
    chain: int = 3
    n_yoshida: int = 3
    n_respa: int = 1
    max_drift: float | None = 0.5
    warn_drift: float | None = 0.01
    threads: int = 1
    supports_step = True
    scheme = 2

    def _validate(self):
        self._set("dt", _dt(self.dt))
        # Q_1 = g kT tau^2 must stay a normal float: T >= 1e-6 K, tau >= 1e-3 fs
        self._set("temperature", v.real_scalar("temperature", self.temperature, lower=1e-6,
                                               upper=_MAX_TEMPERATURE, error=_E))
        self._set("tdamp", v.real_scalar("tdamp", self.tdamp, lower=1e-3, upper=1e9, error=_E))
        self._set("chain", v.integer("chain", self.chain, lower=1, upper=64, error=_E))
        self._set("n_yoshida", v.choice("n_yoshida", v.integer("n_yoshida", self.n_yoshida, error=_E),
                                        YOSHIDA_ORDERS, error=_E))
        self._set("n_respa", v.integer("n_respa", self.n_respa, lower=1, upper=1000, error=_E))
        _drift_limits(self)
        _threads(self)


_NO_RECORDS = np.empty((0, 21))     # md_segment's ``records`` when a call keeps none


def _next_multiple(step: int, every: int) -> int:
    return (step // every + 1) * every


class MDIntegrator(tk.Integrator):
    """State of a molecular-dynamics run; internal units Å, eV, amu, Å·sqrt(amu/eV)."""

    def __init__(self, problem, solver):
        super().__init__(problem, solver)
        mol = problem.molecule
        # the potential as a force provider: its cache keeps the evaluator (and neighbour lists)
        self.force_cache, self._compute = force_function(mol, problem.potential)
        self.pair = getattr(self.force_cache, "pair", None)
        n = mol.n_atoms
        self.mass = mol.masses.copy()
        self.scheme = solver.scheme
        self.h = solver.dt * FS
        self.x = mol.positions.copy()
        self.v = mol.velocities / FS
        self.images = np.zeros((n, 3), dtype=np.int64)
        kt = KB_EV * getattr(solver, "temperature", 0.0)
        self.kt = kt
        self.ndof = float(3 * n - 3 if (self.scheme != 1 and n > 1) else 3 * n)
        if self.scheme == 2:   # Nosé–Hoover chain: masses, Suzuki–Yoshida weights, state [v_1..v_M, eta_1..eta_M]
            self.q = chain_masses(self.ndof, kt, solver.tdamp * FS, solver.chain)
            self.weights = suzuki_yoshida_weights(solver.n_yoshida)
            self.n_respa = solver.n_respa
        else:
            self.q, self.weights, self.n_respa = np.ones(1), np.ones(1), 1
        self.nh = np.zeros(2 * len(self.q))
        if self.scheme == 1:
            self.c1 = float(np.exp(-solver.friction * solver.dt))
            self.c2 = np.sqrt((1.0 - self.c1 ** 2) * kt / self.mass)
            self.rng = np.random.default_rng(solver.seed)
        else:
            self.c1, self.c2, self.rng = 1.0, np.zeros(n), None
        if self.pair is not None:
            self.box, self.periodic = self.force_cache.evaluator.box, self.force_cache.evaluator.periodic
            self.x_ref = self.x.copy()
            self.starts, self.nbrs, self.split = rebuild(self.x, self.images, self.x_ref, self.box,
                                                         self.periodic, self.pair[2] + self.pair[3], 1)
        else:
            self.box = np.zeros(3) if mol.cell is None else np.ascontiguousarray(np.diag(mol.cell))
        self.f = np.zeros((n, 3))
        self.energy, self.virial = self._forces()
        self.rebuilds = 0
        # validity monitor: the initial conserved energy, its scale and the largest relative drift seen
        # (recomputed identically on resume; only the drift seen is saved)
        self.e0 = self.conserved_energy()
        self.energy_scale = max(abs(self.e0), abs(self.energy), 0.5 * float(np.sum(self.mass[:, None] * self.v ** 2)),
                                self.ndof * kt, 1e-9)
        self.drift = 0.0
        self.thermo = {"step": [], "potential": [], "kinetic": [], "thermostat": [], "virial": [],
                       "ktensor": []}
        self.frames = {"step": [], "positions": [], "velocities": []}
        self._record(0)

    # -- forces ---------------------------------------------------------------------------
    def _forces(self):
        if self.pair is not None:
            from .kernels import pair_forces

            w = np.zeros((3, 3))
            kind, params, _, _ = self.pair
            e = pair_forces(self.x, self.box, self.periodic, self.starts, self.nbrs, self.split, kind, params,
                            self.f, w)
            return float(e), w
        e, f, w = self._compute(self.x)
        self.f[:] = f
        return float(e), np.array(w, dtype=float)

    # -- stepping -------------------------------------------------------------------------
    def _advance(self, n: int) -> int:
        p = self.problem
        done = 0
        while done < n:
            step = self.step_index + done
            target = min(_next_multiple(step, p.thermo_every), _next_multiple(step, p.save_every),
                         self.step_index + n)
            end = min(_next_multiple(step, p.save_every), self.step_index + n)
            if end > target and self._batched(step, end - step):
                done += end - step
                self._record(end)
                continue
            m = target - step
            if self.scheme == 1:
                m = min(m, max(1, _NOISE_BLOCK // (3 * len(self.mass))))
            k = self._segment(m)
            done += k
            if k < m:
                return done
            self._record(step + m)
        return n

    def _segment(self, m: int) -> int:
        """Advance up to ``m`` steps; stop at the last valid state (see :meth:`_invalid`) and return
        how many steps were good."""
        langevin = self.scheme == 1
        noise = self.rng.standard_normal((m, len(self.mass), 3)) if langevin else np.zeros((1, 1, 3))
        if self.pair is not None:
            backup = self._backup()
            k = self._jitted(m, noise)
            if k == m:
                why = self._invalid()
                if not why:
                    return m
            # restore and replay one step at a time (the same arithmetic) to find the first bad step
            self._restore(backup)
            for j in range(m):
                before = self._backup()
                ok = self._jitted(1, noise[j:j + 1] if langevin else noise) == 1
                why = self._invalid() if ok else "energy, positions or velocities stopped being finite"
                if why:
                    self._restore(before)
                    self.message = why
                    return j
            return m
        for k in range(m):
            saved = self._backup()
            ok = self._python_step(noise[k] if langevin else noise[0])
            why = self._invalid() if ok else self.message or "energy, positions or velocities stopped being finite"
            if why:
                self._restore(saved)
                self.message = why
                return k
        return m

    def _batched(self, step: int, m: int) -> bool:
        """Advance ``m`` steps from global step ``step`` in one call of the jitted loop, which keeps the
        thermo records (and the validity monitor's inputs) falling inside; the record at the last step is
        left to :meth:`_record`. The same arithmetic, records and checks as one call per thermo record,
        without a return to Python for each (at 108 atoms and a record every 5 steps, that return was a
        fifth of the run). Velocity Verlet with a jitted pair potential only. Returns False, with the state
        restored, when the run must take the record-by-record path: a non-finite state or a record past
        the validity monitor's limits (that path then stops at the first bad step)."""
        if self.pair is None or self.scheme != 0:
            return False
        every = self.problem.thermo_every
        rows = (step + m - 1) // every - step // every
        records = np.empty((rows, 21))
        backup = self._backup()
        if self._jitted(m, np.zeros((1, 1, 3)), every, step, records) != m or self._invalid():
            self._restore(backup)
            return False
        for row in records:
            if self._invalid_state(float(row[19]), float(row[20]), float(row[0])):
                self._restore(backup)
                return False
        first = _next_multiple(step, every)
        for k, row in enumerate(records):
            kt = row[10:19].reshape(3, 3)
            kinetic = 0.5 * float(np.trace(kt))
            self.drift = max(self.drift, abs(kinetic + float(row[0]) - self.e0) / self.energy_scale)
            self.thermo["step"].append(first + k * every)
            self.thermo["potential"].append(float(row[0]))
            self.thermo["kinetic"].append(kinetic)
            self.thermo["thermostat"].append(0.0)
            self.thermo["virial"].append(row[1:10].reshape(3, 3))
            self.thermo["ktensor"].append(kt)
        return True

    def _backup(self) -> tuple:
        state = (self.x.copy(), self.v.copy(), self.f.copy(), self.images.copy(), self.nh.copy(), self.energy,
                 self.virial.copy(), self.rebuilds)
        if self.pair is not None:
            state += (self.x_ref.copy(), self.starts, self.nbrs, self.split)
        return state

    def _restore(self, state: tuple) -> None:
        self.x, self.v, self.f, self.images, self.nh, self.energy, self.virial, self.rebuilds = state[:8]
        if self.pair is not None:
            self.x_ref, self.starts, self.nbrs, self.split = state[8:]

    def _invalid(self) -> str:
        """Why the current state is past the stability limit ('' if it is not).

        Checks: finite conserved energy, no atom farther than ``MAX_COORDINATE`` (lost), and the
        relative drift ``|H - H0| / scale`` within the solver's ``max_drift``.
        """
        kinetic, reach = state_summary(self.x, self.v, self.mass)
        return self._invalid_state(kinetic, reach, self.energy)

    def _invalid_state(self, kinetic: float, reach: float, energy: float) -> str:
        """:meth:`_invalid` of a state with kinetic energy ``kinetic``, largest coordinate ``reach`` and
        potential energy ``energy`` (the thermostat's energy is the current one)."""
        e = kinetic + energy + (self.thermostat_energy() if self.scheme == 2 else 0.0)
        if not (math.isfinite(e) and math.isfinite(reach)):
            return "the energy stopped being finite"
        if reach > MAX_COORDINATE:
            far = np.abs(self.x).max(axis=1) > MAX_COORDINATE
            return (f"{int(far.sum())} atom(s) lost: farther than {MAX_COORDINATE:g} Å from the origin "
                    "(an atom escaped an isolated system or the integration blew up)")
        drift = abs(e - self.e0) / self.energy_scale
        limit = self.solver.max_drift
        if limit is not None and drift > limit:
            return (f"the {self._monitored()} went from {self.e0:.6g} eV to {e:.6g} eV, a relative drift of "
                    f"{drift:.3g} past the stability limit max_drift = {limit:g}; lower dt")
        return ""

    def _monitored(self) -> str:
        return {0: "total energy", 1: "total energy (with the bath)", 2: "conserved energy (with the chain)"}[
            self.scheme]

    def warnings(self) -> list[str]:
        """Accuracy warnings so far: the largest relative drift past the solver's ``warn_drift``."""
        limit = self.solver.warn_drift
        if limit is not None and self.drift > limit:
            return [f"the {self._monitored()} drifted by up to {self.drift:.3g} of its scale "
                    f"{self.energy_scale:.4g} eV, past the accuracy limit warn_drift = {limit:g}: the "
                    "trajectory is inaccurate; lower dt"]
        return []

    def _scratch(self) -> np.ndarray:
        """Per-part force workspace of the jitted loop: float64[P - 1, N, 3] with ``P`` the solver's
        ``threads`` for Lennard-Jones (Morse runs serially: ``P = 1``). The ``P`` parts run on numba's
        threads (``numba.set_num_threads``; fewer threads than parts just run several parts each).
        A run reproduces itself bit for bit at a given ``P`` whatever numba's thread count; runs at
        different ``P`` agree to round-off (the partial forces are summed in another order)."""
        n = len(self.mass)
        parts = self.solver.threads if self.pair[0] == 0 else 1
        work = getattr(self, "_work", None)
        if work is None or work.shape[0] != parts - 1 or work.shape[1] != n:
            work = self._work = np.empty((parts - 1, n, 3))
        return work

    def _jitted(self, m, noise, record_every=0, phase=0, records=None) -> int:
        kind, params, cutoff, skin = self.pair
        if records is None:
            records = _NO_RECORDS
        out = np.zeros(11)
        out[0] = self.energy
        out[1:10] = self.virial.ravel()
        k, self.starts, self.nbrs, self.split = md_segment(
            self.x, self.v, self.f, self.images, self.x_ref, self.starts, self.nbrs, self.split, self.mass,
            self.box,
            self.periodic, kind, params, cutoff, skin, self.scheme, self.h, self.c1, self.c2, noise, self.nh,
            self.ndof, self.kt, self.q, self.weights, self.n_respa, m, out, self._scratch(), record_every, phase,
            records)
        if k == m:
            self.energy = float(out[0])
            self.virial = out[1:10].reshape(3, 3).copy()
        self.rebuilds += int(out[10])
        return k

    def _thermostat_half(self):
        """Half a step of the Nosé–Hoover chain (the jitted loop's kernel, called from Python)."""
        nhc_half(self.v, self.mass, self.nh, self.q, self.weights, self.n_respa, self.ndof, self.kt, self.h)

    def _python_step(self, noise) -> bool:
        """One step with a Python potential (same splitting as the jitted loop)."""
        h, inv_m = self.h, 1.0 / self.mass[:, None]
        if self.scheme == 2:
            self._thermostat_half()
        self.v += 0.5 * h * self.f * inv_m
        if self.scheme == 1:
            self.x += 0.5 * h * self.v
            self.v = self.c1 * self.v + self.c2[:, None] * noise
            self.x += 0.5 * h * self.v
        else:
            self.x += h * self.v
        if not np.all(np.isfinite(self.x)):
            return False
        try:
            self.energy, self.virial = self._forces()
        except Exception as exc:  # noqa: BLE001 - a failing back end (SCF) is a diverged step
            self.message = f"{type(self.problem.potential).__name__} failed: {exc}"
            return False
        if not (np.isfinite(self.energy) and np.all(np.isfinite(self.f))):
            return False
        self.v += 0.5 * h * self.f * inv_m
        if self.scheme == 2:
            self._thermostat_half()
        return bool(np.all(np.isfinite(self.v)))

    # -- records --------------------------------------------------------------------------
    def thermostat_energy(self) -> float:
        """Energy of the Nosé–Hoover chain (eV; 0 for other schemes): ``H`` plus it is conserved."""
        return chain_energy(self.nh, self.q, self.ndof, self.kt) if self.scheme == 2 else 0.0

    def conserved_energy(self) -> float:
        """``K + U`` (+ the chain's energy for Nosé–Hoover) now, eV: constant up to O(dt^2)."""
        return 0.5 * float(np.sum(self.mass[:, None] * self.v ** 2)) + self.energy + self.thermostat_energy()

    def unwrapped_positions(self) -> np.ndarray:
        return self.x + self.images * self.box

    def _record(self, step: int) -> None:
        p = self.problem
        if step % p.thermo_every == 0:
            # the accuracy monitor samples the drift at the thermo records (global steps: the same
            # however a run is cut into segments or resumed)
            kt = kinetic_tensor(self.v, self.mass)
            h = 0.5 * float(np.trace(kt)) + self.energy + self.thermostat_energy()
            self.drift = max(self.drift, abs(h - self.e0) / self.energy_scale)
            self.thermo["step"].append(step)
            self.thermo["potential"].append(self.energy)
            self.thermo["kinetic"].append(0.5 * float(np.trace(kt)))
            self.thermo["thermostat"].append(self.thermostat_energy())
            self.thermo["virial"].append(self.virial.copy())
            self.thermo["ktensor"].append(kt)
        if step % p.save_every == 0 or step == p.steps:
            self.frames["step"].append(step)
            self.frames["positions"].append(self.unwrapped_positions())
            self.frames["velocities"].append(self.v * FS)

    def _state(self):
        state = {"x": self.x, "v": self.v, "f": self.f, "images": self.images, "nh": self.nh,
                 "energy": self.energy, "virial": self.virial, "rebuilds": self.rebuilds, "drift": self.drift,
                 "thermo": {k: np.array(val) for k, val in self.thermo.items()},
                 "frames": {k: np.array(val) for k, val in self.frames.items()}}
        if self.pair is not None:
            state["x_ref"] = self.x_ref
        if self.rng is not None:
            state["rng"] = self.rng.bit_generator.state
        return state

    def _load_state(self, state):
        """Load a checkpoint's state after checking every entry against this run
        (:func:`solvers.molecule.checkpoints.checked_state`: shape, dtype, finiteness)."""
        state = checked_state(state, self)
        self.x, self.v, self.f, self.images, self.nh = (state[k] for k in ("x", "v", "f", "images", "nh"))
        self.energy = state["energy"]
        self.virial = state["virial"]
        self.rebuilds = state["rebuilds"]
        self.drift = state.get("drift", 0.0)
        self.thermo = {k: list(val) for k, val in state["thermo"].items()}
        self.frames = {k: list(val) for k, val in state["frames"].items()}
        if self.pair is not None:
            self.x_ref = state["x_ref"]
            self.starts, self.nbrs, self.split = md_list(self.x_ref, self.box, self.periodic,
                                                         self.pair[2] + self.pair[3], 1)
        if self.rng is not None:
            self.rng.bit_generator.state = state["rng"]

    def solution(self) -> MDSolution:
        th, fr = self.thermo, self.frames
        n = len(self.mass)
        stats = dict(self.stats)
        stats["neighbor_rebuilds"] = self.rebuilds
        stats["atom_steps_per_s"] = (self.step_index * n / self.stats["wall_time"]
                                     if self.stats["wall_time"] > 0 else 0.0)
        common = self._common()
        warnings = self.warnings()
        if warnings:
            stats["warnings"] = warnings
            common["message"] = "; ".join(filter(None, [common["message"], *warnings]))
        stats["max_drift"] = self.drift
        common["stats"] = stats
        dt = self.solver.dt
        return MDSolution(
            **common,
            time=np.array(th["step"], dtype=float) * dt,
            potential_energy=np.array(th["potential"], dtype=float),
            kinetic_energy=np.array(th["kinetic"], dtype=float),
            thermostat_energy=np.array(th["thermostat"], dtype=float),
            virial=np.array(th["virial"], dtype=float).reshape(-1, 3, 3),
            kinetic_tensor=np.array(th["ktensor"], dtype=float).reshape(-1, 3, 3),
            frame_time=np.array(fr["step"], dtype=float) * dt,
            positions=np.array(fr["positions"], dtype=float).reshape(-1, n, 3),
            velocities=np.array(fr["velocities"], dtype=float).reshape(-1, n, 3),
            degrees_of_freedom=self.ndof,
        )


@dispatch
def _init(problem: MolecularDynamics, solver: VelocityVerlet | Langevin | NoseHoover) -> MDIntegrator:
    return MDIntegrator(problem, solver)


#: Neighbours per atom the estimate allows for (a liquid at rc + skin = 2.8 sigma has about 80).
_NEIGHBOURS_PER_ATOM = 200


@memory.estimate.dispatch
def _(problem: MolecularDynamics, solver: VelocityVerlet | Langevin | NoseHoover) -> dict:
    """Peak bytes of a run: saved frames (positions and velocities, kept as lists and joined once
    more for the solution), thermo records (scalars and two 3x3 tensors), the per-atom state
    (about ten float64 (n, 3) arrays), a neighbour list of ``_NEIGHBOURS_PER_ATOM`` per atom and,
    with ``threads > 1``, the ``threads - 1`` per-thread force buffers."""
    n = problem.molecule.n_atoms
    frames = problem.steps // problem.save_every + 2
    thermo = problem.steps // problem.thermo_every + 2
    parts = {"frames": 2 * 2 * frames * n * 3 * 8, "thermo": 2 * thermo * 23 * 8,
             "atom state": 10 * n * 3 * 8, "neighbour list": n * (_NEIGHBOURS_PER_ATOM + 2) * 8}
    if solver.threads > 1:
        parts["thread force buffers"] = (solver.threads - 1) * n * 3 * 8
    return parts
