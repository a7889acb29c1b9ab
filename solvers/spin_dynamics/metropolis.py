"""``Metropolis``: single-spin Metropolis Monte Carlo of classical spins on the same energy the
Langevin schemes integrate, the sampling reference for them.

The target is the Boltzmann weight ``p(S) ~ exp(-E(S) / kT)`` of the problem's energy

    E(S) = E_el(S) + sum_<ij> J_ij S_i . S_j - sum_i B_i . S_i,

``E_el`` being the energy the held provider's force cache differentiates (see
:class:`solvers.tight_binding.cache.SpinForceCache`): the grand potential
``Omega = -kT_e sum_n ln(1 + e^{-(eps_n - mu) / kT_e})`` of the Kondo Hamiltonian at fixed ``mu``, or
the free energy ``F = Omega + mu N_e`` at fixed ``filling`` (mu solved per configuration), kT_e the
model's electron temperature. Each proposal evaluates ``E_el`` afresh at the trial spins through the
provider's force cache, ``cache.energy(spins)`` with ``local=False`` (ExactDiagonalization: the 2x2
on-site blocks of the moved spin rewritten, no problem remade, ``eigvalsh`` of the 2N x 2N matrix, no
eigenvectors; KPM: a moment sweep); the classical terms change locally,
``dE_cl = -(S_i' - S_i) . h_i``, ``h_i = B_i - sum_j J_ij S_j``.

One step is a sweep: sites 0, ..., N - 1 in turn, each proposed ``S_i' = R_i (sin t cos p,
sin t sin p, cos t)`` with ``cos t`` uniform in ``[cos w, 1]`` and ``p`` uniform in ``[0, 2 pi)``
(``R_i`` a rotation taking z to S_i): a uniform point of the spherical cap of half-angle ``w``
about S_i, a symmetric proposal, so accepting with ``min(1, e^{-dE / kT})`` (kT the bath's
temperature of that sweep, :meth:`SpinDynamics.bath_temperature`; at kT = 0 only ``dE <= 0``)
satisfies detailed balance (a sequential sweep satisfies balance; Metropolis et al., J. Chem.
Phys. 21, 1087 (1953), doi:10.1063/1.1699114). During the first ``adapt_sweeps`` sweeps the cap
adapts after each sweep, ``w <- w exp(acceptance - target_acceptance)`` (kept in [1e-4, pi]); after
that it is fixed, so only the sweeps after ``adapt_sweeps`` are a Markov chain with the right
stationary law: discard them as equilibration.

The problem's ``steps`` and ``save_every`` count sweeps; its ``dt`` and ``damping`` are not used
(``solution.time`` is the sweep number). Checkpoints hold the spins, the frames, the cap, the
acceptance counts and the generator's state; resume is bit-identical. A provider failure or a
non-finite energy stops the run ``Unstable`` at that sweep with the last full sweep kept.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import toolkit as tk
from problems.spin_dynamics import SpinDynamics
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .fields import blas_limit, electronic_problem
from .integrator import SpinIntegrator, _fail
from .kernels import anisotropy_field, classical_field
from .schemes import SpinIntegratorSolver
from .solution import SpinDynamicsSolution

__all__ = ["Metropolis", "MetropolisIntegrator", "ElectronicEnergy", "cone_proposal"]

_E = tk.InvalidSolverError
#: Bounds of the adapted cap's half-angle (radians).
MIN_CONE, MAX_CONE = 1e-4, math.pi


class Metropolis(SpinIntegratorSolver):
    """Single-spin Metropolis Monte Carlo on exp(-E / kT) (see the module docstring).

    ``forces``: the electrons' provider (``ExactDiagonalization()``; its energy, not its gradient,
    is used), None for a classical model or the model's default; ``seed``; ``blas_threads``;
    ``cone``: the initial half-angle w of the proposal cap, in (0, pi] radians (pi: a uniformly
    random new direction); ``target_acceptance``: the acceptance the cap adapts to, in (0, 1)
    (0.3 to 0.5 is usual); ``adapt_sweeps``: the first sweeps during which it adapts (>= 0;
    discard them). A stochastic provider (KPM with random vectors) makes E itself noisy: Metropolis
    then samples no definite law, so use exact energies.
    """

    abstract = False
    cone: float = 0.5
    target_acceptance: float = 0.4
    adapt_sweeps: int = 20

    def _validate(self):
        super()._validate()
        self._set("cone", v.real_scalar("cone", self.cone, lower=0.0, lower_open=True, upper=math.pi, error=_E))
        if self.cone < MIN_CONE:
            raise _E(f"cone = {self.cone!r} is not allowed: give a half-angle in [{MIN_CONE:g}, pi] radians (smaller "
                     "caps accept everything and move nothing)")
        self._set("target_acceptance", v.real_scalar("target_acceptance", self.target_acceptance, lower=0.0,
                                                     lower_open=True, upper=1.0, upper_open=True, error=_E))
        self._set("adapt_sweeps", v.integer("adapt_sweeps", self.adapt_sweeps, lower=0, upper=10**9, error=_E))


def cone_proposal(s, cos_min: float, u1: float, u2: float) -> np.ndarray:
    """A uniform point of the spherical cap ``{x : x . s >= cos_min}`` from two uniforms in [0, 1):
    ``cos t = 1 - u1 (1 - cos_min)``, azimuth ``2 pi u2`` about the unit vector ``s``."""
    c = 1.0 - u1 * (1.0 - cos_min)
    r = math.sqrt(max(0.0, 1.0 - c * c))
    phi = 2.0 * math.pi * u2
    sx, sy, sz = float(s[0]), float(s[1]), float(s[2])
    # e1 perpendicular to s: cross s with the axis it is least aligned with
    if abs(sx) <= abs(sy) and abs(sx) <= abs(sz):
        ex, ey, ez = 0.0, sz, -sy
    elif abs(sy) <= abs(sz):
        ex, ey, ez = -sz, 0.0, sx
    else:
        ex, ey, ez = sy, -sx, 0.0
    norm = math.sqrt(ex * ex + ey * ey + ez * ez)
    ex, ey, ez = ex / norm, ey / norm, ez / norm
    fx, fy, fz = sy * ez - sz * ey, sz * ex - sx * ez, sx * ey - sy * ex          # s x e1
    a, b = r * math.cos(phi), r * math.sin(phi)
    x = np.array([c * sx + a * ex + b * fx, c * sy + a * ey + b * fy, c * sz + a * ez + b * fz])
    return x / math.sqrt(float(x @ x))


class ElectronicEnergy:
    """``energy(S) -> E_el``: the held provider's energy at unit spins S, from a cache initialised
    with ``local=False`` (energies only). It is the energy ``SpinForceCache.energy_gradient`` returns:
    ``grand_potential`` at fixed mu, ``energy = Omega + mu N`` at fixed filling."""

    def __init__(self, problem, solver):
        inner = electronic_problem(problem)
        if getattr(inner, "local", False):
            inner = tk.remake(inner, local=False)
        self.threads = solver.blas_threads
        self.fixed_mu = getattr(inner, "filling", None) is None
        self.evaluations = 0
        with blas_limit(self.threads):
            self.cache = tk.init(inner) if solver.forces is None else tk.init(inner, solver.forces)
        if not isinstance(self.cache, tk.SolveCache):
            raise _E(f"forces = {solver.forces!r} is not allowed: tk.init(model, forces) gave a "
                     f"{type(self.cache).__name__}, not a solve cache; give ExactDiagonalization()")

    def __call__(self, S) -> float:
        with blas_limit(self.threads):
            energy = self.cache.energy(S) if isinstance(self.cache, tk.ForceCache) else self._solved(S)
        self.evaluations += 1
        if not math.isfinite(energy):
            raise tk.UnstableError(f"the energy provider returned a non-finite energy ({energy!r})")
        return energy

    def _solved(self, S) -> float:
        """The energy from a full solve (a cache that is not a force cache)."""
        solution = self.cache.update(spins=S).solve()
        if not solution.successful:
            raise tk.UnstableError(f"{type(solution.solver).__name__} could not give the energy "
                                   f"({solution.retcode}): {solution.message}")
        return float(solution.grand_potential if self.fixed_mu else solution.energy)


def _neighbours(problem):
    """CSR lists of each site's bond partners and couplings: (indptr, partners, J)."""
    bonds, J = problem.bonds, np.asarray(problem.exchange_per_bond, dtype=np.float64)
    a = np.concatenate([bonds[:, 0], bonds[:, 1]])
    b = np.concatenate([bonds[:, 1], bonds[:, 0]])
    w = np.concatenate([J, J])
    order = np.argsort(a, kind="stable")
    indptr = np.searchsorted(a[order], np.arange(problem.sites + 1))
    return indptr, b[order], w[order]


class MetropolisIntegrator(SpinIntegrator):
    """Sweeps of :class:`Metropolis` on a :class:`SpinDynamics` problem (see the module docstring);
    frames, solution and checkpoint checks are those of :class:`SpinIntegrator`."""

    def __init__(self, problem: SpinDynamics, solver: Metropolis):
        tk.Integrator.__init__(self, problem, solver)
        self.S = problem.spins.copy()
        self.rng = np.random.default_rng(solver.seed)
        if problem.model is None and solver.forces is not None:
            raise tk.InvalidProblemError(
                f"model = None is not allowed with forces = {type(solver.forces).__name__}(...): the energy provider "
                "needs electrons; give a Kondo model (a TightBinding with spins) or drop forces")
        self.energy = None if problem.model is None else ElectronicEnergy(problem, solver)
        self._zeeman = problem.zeeman
        self._K, self._axis = float(problem.anisotropy), problem.anisotropy_axis
        self._bonds = problem.bonds
        self._exchange = np.ascontiguousarray(problem.exchange_per_bond, dtype=np.float64)
        self._nb = _neighbours(problem)
        self._h = np.empty_like(self.S)
        self.cone = float(solver.cone)
        self.accepted = self.proposed = 0              # production sweeps (after adapt_sweeps)
        self.iterations = 0
        self.frames = {"step": [], "spins": [], "electronic": [], "classical": []}
        self._current = self._energies(self.S)
        self._record(0)

    def _energies(self, S):
        e_el = 0.0 if self.energy is None else self.energy(S)
        return e_el, self._classical_energy(S), None

    def _classical_energy(self, S):
        e_cl = float(classical_field(S, self._bonds, self._exchange, self._zeeman, self._h))
        if self._K != 0.0:
            e_cl += float(anisotropy_field(S, self._K, self._axis, self._h))
        return e_cl

    def _local_field(self, i, S):
        lo, hi = self._nb[0][i], self._nb[0][i + 1]
        h = self._zeeman[i].copy()
        if hi > lo:
            h -= self._nb[2][lo:hi] @ S[self._nb[1][lo:hi]]
        return h

    def _sweep(self, step: int) -> str:
        """One sweep at the bath temperature of ``step``; returns '' or why it failed."""
        S = self.S
        kT = self.problem.bath_temperature(step)
        e_el, e_cl, _ = self._current
        cos_min = math.cos(self.cone)
        n = S.shape[0]
        u = self.rng.random((n, 3))
        accepted = 0
        for i in range(n):
            old = S[i].copy()
            new = cone_proposal(old, cos_min, u[i, 0], u[i, 1])
            d_cl = -float((new - old) @ self._local_field(i, S))
            if self._K != 0.0:
                d_cl -= self._K * (float(new @ self._axis) ** 2 - float(old @ self._axis) ** 2)
            S[i] = new
            trial = e_el if self.energy is None else self.energy(S)
            d = (trial - e_el) + d_cl
            if not math.isfinite(d):
                S[i] = old
                return f"the energy change of a move of spin {i} is not finite ({d!r})"
            if d <= 0.0 or (kT > 0.0 and u[i, 2] < math.exp(-d / kT)):
                e_el, e_cl = trial, e_cl + d_cl
                accepted += 1
            else:
                S[i] = old
        # the classical energy exactly again (no drift from summed differences)
        e_cl = self._classical_energy(S)
        if not math.isfinite(e_cl):
            return "the classical energy became non-finite"
        self._current = (e_el, e_cl, None)
        if step < self.solver.adapt_sweeps:
            rate = accepted / n
            self.cone = min(MAX_CONE, max(MIN_CONE, self.cone * math.exp(rate - self.solver.target_acceptance)))
        else:
            self.accepted += accepted
            self.proposed += n
        return ""

    # -- the Integrator contract ----------------------------------------------------------
    def _advance(self, n: int) -> int:
        save_every = self.problem.save_every
        for k in range(n):
            step = self.step_index + k
            saved = (self.S.copy(), self._current, self.cone, self.accepted, self.proposed)
            try:
                why = self._sweep(step)
            except tk.ScalebridgeError as exc:
                why = f"the energy provider failed: {exc}"
            if why:
                self.S, self._current, self.cone, self.accepted, self.proposed = saved
                self.message = f"sweep {step + 1}: {why}"
                return k
            if (step + 1) % save_every == 0:
                self._record(step + 1)
        return n

    def _state(self) -> dict:
        state = super()._state()
        state.update(cone=float(self.cone), accepted=int(self.accepted), proposed=int(self.proposed))
        return state

    def _load_state(self, state: dict) -> None:
        if not isinstance(state, dict):
            _fail("state", f"a {type(state).__name__}", "a dict of state arrays")
        extra = {}
        for key in ("cone", "accepted", "proposed"):
            if key not in state:
                raise tk.FileFormatError(f"checkpoint state lacks {key}: the checkpoint belongs to another problem "
                                         "or solver, or is corrupt")
            value = state[key]
            if key == "cone":
                ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and MIN_CONE <= value <= MAX_CONE
                if not ok:
                    _fail(key, repr(value)[:60], f"a half-angle in [{MIN_CONE:g}, pi]")
                extra[key] = float(value)
            else:
                if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 0:
                    _fail(key, repr(value)[:60], "an integer >= 0")
                extra[key] = int(value)
        if extra["accepted"] > extra["proposed"]:
            _fail("accepted", str(extra["accepted"]), f"at most proposed = {extra['proposed']}")
        self._restore(state)
        self.cone, self.accepted, self.proposed = extra["cone"], extra["accepted"], extra["proposed"]
        self._current = self._energies(self.S)

    def solution(self) -> SpinDynamicsSolution:
        common = self._common()
        common["stats"].update(acceptance=self.accepted / self.proposed if self.proposed else 0.0,
                               proposed=int(self.proposed), cone=float(self.cone),
                               energy_evaluations=0 if self.energy is None else self.energy.evaluations)
        return self._solution(common, lambda steps: steps.astype(np.float64))     # time = the sweep number


@dispatch
def _init(problem: SpinDynamics, solver: Metropolis) -> MetropolisIntegrator:
    return MetropolisIntegrator(problem, solver)
