"""``SpinIntegrator``: the state of a spin-dynamics run, stepped by one of the schemes of :mod:`.schemes`.

Per step: the noise ``xi`` (N x 3 standard normals times ``sqrt(2 D / dt)``, drawn only when
D > 0; D follows the bath's annealing ramp, ``problem.noise_strength_at(step)``; for
:class:`~.schemes.OverdampedLangevin` the displacement ``sqrt(2 damping kT dt)`` times standard
normals) is drawn first, then the scheme's field evaluations; the field at the new state is
evaluated before the state is accepted (it is the next step's first field and gives the frame's
energies), so a force provider that fails, or a spin that becomes non-finite, stops the run
``Unstable`` at that step with the last good spins and frames kept.

Checkpoints hold the spins, the frames and the generator's state; the field at the current spins
is recomputed on resume. Resume is bit-identical when the force provider's result depends only on
the spins (ExactDiagonalization; KPM with ``bounds="gershgorin"`` or fixed bounds). KPM with
``bounds="lanczos"`` keeps a spectral interval that depends on the run's history: a resumed run
then agrees to the KPM truncation error, not bit for bit.
"""

from __future__ import annotations

import numbers

import numpy as np

import toolkit as tk
from problems.spin_dynamics import SpinDynamics
from toolkit.dispatch import dispatch

from .fields import EffectiveField
from .kernels import cayley_midpoint, heun_correct, heun_predict, overdamped_step, rotate, sib_vector
from .schemes import SIB, DepondtMertens, ImplicitMidpoint, OverdampedLangevin, StochasticHeun
from .solution import SpinDynamicsSolution, chirality_frames

__all__ = ["SpinIntegrator"]

_WHY = "the checkpoint belongs to another problem or solver, or is corrupt"

#: Relative energy drift of a deterministic, undamped run past which the solution carries a warning.
WARN_DRIFT = 1e-3


class SpinIntegrator(tk.Integrator):
    """Steps a :class:`~problems.spin_dynamics.SpinDynamics` problem (see the module docstring)."""

    def __init__(self, problem: SpinDynamics, solver):
        super().__init__(problem, solver)
        self.field = EffectiveField(problem, solver)
        self.S = problem.spins.copy()
        self.rng = np.random.default_rng(solver.seed)
        self._overdamped = isinstance(solver, OverdampedLangevin)
        self.sigma = self._sigma_at(0)
        self._annealed = problem.annealed
        n = problem.sites
        self._buf = {k: np.empty((n, 3)) for k in ("f", "p", "a", "a1", "y", "y2")}
        self._zeros = np.zeros((n, 3))
        self.iterations = 0
        self.frames = {"step": [], "spins": [], "electronic": [], "classical": []}
        self._current = self.field(self.S)
        self._record(0)

    # -- frames ---------------------------------------------------------------------------
    def _record(self, step: int) -> None:
        e_el, e_cl, _ = self._current
        self.frames["step"].append(step)
        self.frames["spins"].append(self.S.copy())
        self.frames["electronic"].append(e_el)
        self.frames["classical"].append(e_cl)

    # -- one step of each scheme ----------------------------------------------------------
    def _sigma_at(self, step: int) -> float:
        """The noise amplitude of ``step``: the field noise sqrt(2 D / dt) of the LLG schemes, or the
        displacement sqrt(2 Gamma kT dt) of the overdamped scheme (Gamma = damping)."""
        p = self.problem
        if self._overdamped:
            return float(np.sqrt(2.0 * p.damping * p.bath_temperature(step) * p.dt))
        return float(np.sqrt(2.0 * p.noise_strength_at(step) / p.dt))

    def _noise(self, step: int):
        sigma = self._sigma_at(step) if self._annealed else self.sigma
        if sigma == 0.0:
            return None
        return sigma * self.rng.standard_normal(self.S.shape)

    def _heun(self, xi):
        p, alpha, dt = self.problem, self.problem.damping, self.problem.dt
        f0, P = self._buf["f"], self._buf["p"]
        H0 = self._current[2] if xi is None else self._current[2] + xi
        heun_predict(self.S, H0, alpha, dt, f0, P)
        if not np.all(np.isfinite(P)):
            return None, "the predictor gave a non-finite spin"
        h1 = self.field(P)[2]
        H1 = h1 if xi is None else h1 + xi
        new = np.empty_like(self.S)
        heun_correct(self.S, f0, P, H1, alpha, dt, new)
        return new, ""

    def _sib(self, xi):
        alpha, half = self.problem.damping, 0.5 * self.problem.dt
        A, y = self._buf["a"], self._buf["y"]
        H0 = self._current[2] if xi is None else self._current[2] + xi
        sib_vector(self.S, H0, alpha, A)
        cayley_midpoint(self.S, A, half, y)          # midpoint of the predictor, (S + S')/2
        if not np.all(np.isfinite(y)):
            return None, "the predictor gave a non-finite spin"
        h1 = self.field(y)[2]
        sib_vector(y, h1 if xi is None else h1 + xi, alpha, A)
        cayley_midpoint(self.S, A, half, y)
        return 2.0 * y - self.S, ""

    def _depondt(self, xi):
        alpha, dt = self.problem.damping, self.problem.dt
        A0, A1, P = self._buf["a"], self._buf["a1"], self._buf["p"]
        sib_vector(self.S, self._current[2] if xi is None else self._current[2] + xi, alpha, A0)
        rotate(self.S, A0, dt, P)                    # predictor: rotate about A(S)
        if not np.all(np.isfinite(P)):
            return None, "the predictor gave a non-finite spin"
        h1 = self.field(P)[2]
        sib_vector(P, h1 if xi is None else h1 + xi, alpha, A1)
        A1 += A0
        A1 *= 0.5
        new = np.empty_like(self.S)
        rotate(self.S, A1, dt, new)                  # corrector: rotate about the mean of A(S), A(S')
        return new, ""

    def _overdamped_euler(self, w):
        p = self.problem
        new = np.empty_like(self.S)
        overdamped_step(self.S, self._current[2], p.damping * p.dt, self._zeros if w is None else w, new)
        return new, ""

    def _midpoint(self, xi):
        alpha, half = self.problem.damping, 0.5 * self.problem.dt
        solver = self.solver
        A, y, y2 = self._buf["a"], self._buf["y"], self._buf["y2"]
        H = self._current[2] if xi is None else self._current[2] + xi
        sib_vector(self.S, H, alpha, A)
        cayley_midpoint(self.S, A, half, y)
        residual = np.inf
        for _ in range(solver.max_iterations):
            if not np.all(np.isfinite(y)):
                return None, "the midpoint iteration gave a non-finite spin"
            h = self.field(y)[2]
            self.iterations += 1
            sib_vector(y, h if xi is None else h + xi, alpha, A)
            cayley_midpoint(self.S, A, half, y2)
            residual = float(np.max(np.abs(y2 - y)))
            y, y2 = y2, y
            if residual <= solver.tolerance:
                self._buf["y"], self._buf["y2"] = y, y2
                return 2.0 * y - self.S, ""
        self._buf["y"], self._buf["y2"] = y, y2
        return None, (f"the implicit midpoint iteration did not converge in max_iterations = {solver.max_iterations} "
                      f"(last change {residual:.3g} > tolerance = {solver.tolerance:g}); reduce dt or raise "
                      "max_iterations")

    # -- the Integrator contract ----------------------------------------------------------
    def _advance(self, n: int) -> int:
        scheme = self._scheme
        save_every = self.problem.save_every
        for k in range(n):
            xi = self._noise(self.step_index + k)
            try:
                new, why = scheme(self, xi)
                if new is None:
                    self.message = why
                    return k
                bad = ~np.all(np.isfinite(new), axis=1)
                if np.any(bad):
                    self.message = f"spin {int(np.argmax(bad))} became non-finite"
                    return k
                current = self.field(new)
            except tk.ScalebridgeError as exc:
                self.message = f"the force provider failed: {exc}"
                return k
            self.S, self._current = new, current
            step = self.step_index + k + 1
            if step % save_every == 0:
                self._record(step)
        return n

    def _state(self) -> dict:
        f = self.frames
        return {"spins": self.S.copy(), "rng": self.rng.bit_generator.state, "iterations": int(self.iterations),
                "frames": {"step": np.array(f["step"], dtype=np.int64), "spins": np.array(f["spins"]).reshape(-1, *self.S.shape),
                           "electronic": np.array(f["electronic"], dtype=np.float64),
                           "classical": np.array(f["classical"], dtype=np.float64)}}

    def _load_state(self, state: dict) -> None:
        self._restore(state)
        self._current = self.field(self.S)

    def _restore(self, state: dict) -> None:
        """Spins, generator, iteration count and saved frames from a checked checkpoint state."""
        checked = _checked_state(state, self)
        self.S = checked["spins"]
        self.rng.bit_generator.state = checked["rng"]
        self.iterations = checked["iterations"]
        fr = checked["frames"]
        self.frames = {"step": [int(s) for s in fr["step"]], "spins": list(fr["spins"]),
                       "electronic": [float(e) for e in fr["electronic"]],
                       "classical": [float(e) for e in fr["classical"]]}

    def _solution(self, common: dict, time_of_step) -> SpinDynamicsSolution:
        """The solution of the saved frames; ``time_of_step`` maps the steps to the ``time`` axis."""
        p = self.problem
        steps = np.array(self.frames["step"], dtype=np.int64)
        spins = np.array(self.frames["spins"]).reshape(len(steps), p.sites, 3)
        e_el = np.array(self.frames["electronic"], dtype=np.float64)
        e_cl = np.array(self.frames["classical"], dtype=np.float64)
        return SpinDynamicsSolution(**common, step=steps, time=time_of_step(steps), spins=spins,
                                    electronic_energy=e_el, classical_energy=e_cl, energy=e_el + e_cl,
                                    magnetisation=spins.mean(axis=1) if len(steps) else np.zeros((0, 3)),
                                    chirality=chirality_frames(spins, p.triangles))

    def solution(self) -> SpinDynamicsSolution:
        common = self._common()
        common["stats"].update(field_evaluations=self.field.evaluations, midpoint_iterations=self.iterations)
        energy = np.array(self.frames["electronic"], dtype=np.float64) + np.array(self.frames["classical"],
                                                                                   dtype=np.float64)
        warnings = self._warnings(energy)
        if warnings:
            common["stats"]["warnings"] = warnings
            common["message"] = "; ".join(filter(None, [common["message"], *warnings]))
        return self._solution(common, lambda steps: steps * self.problem.dt)

    def _warnings(self, energy) -> list[str]:
        p = self.problem
        if p.temperature != 0.0 or p.annealed or p.damping != 0.0 or len(energy) < 2:
            return []
        scale = max(float(np.max(np.abs(energy))), 1e-300)
        drift = float(np.max(np.abs(energy - energy[0]))) / scale
        if drift > WARN_DRIFT:
            return [f"the energy of this undamped, noiseless run drifted by {drift:.3g} of its scale (more than "
                    f"{WARN_DRIFT:g}): reduce dt or use ImplicitMidpoint"]
        return []


def _scheme_for(solver):
    if isinstance(solver, StochasticHeun):
        return SpinIntegrator._heun
    if isinstance(solver, SIB):
        return SpinIntegrator._sib
    if isinstance(solver, DepondtMertens):
        return SpinIntegrator._depondt
    if isinstance(solver, OverdampedLangevin):
        return SpinIntegrator._overdamped_euler
    return SpinIntegrator._midpoint


# -- checkpoint checks ----------------------------------------------------------------------

def _fail(key, what, need):
    raise tk.FileFormatError(f"checkpoint entry {key!r} holds {what}; this run needs {need}: {_WHY}")


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape} and dtype {a.dtype}"
    return f"a {type(a).__name__}"


def _real(key, a, shape):
    if not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != np.float64:
        _fail(key, _describe(a), f"shape {shape} and dtype float64")
    if not np.all(np.isfinite(a)):
        _fail(key, "non-finite values", "finite values")
    return np.array(a, dtype=np.float64, order="C")


def _unit(key, a):
    norms = np.sqrt(np.sum(a * a, axis=-1))
    if a.size and np.max(np.abs(norms - 1.0)) > 1e-8:
        _fail(key, f"a spin of length {norms.flat[np.argmax(np.abs(norms - 1.0))]:.6g}", "unit spins")
    return a


def _checked_state(state, integ: SpinIntegrator) -> dict:
    """``state`` checked against the run (shapes, dtypes, finiteness, unit spins, frame steps, the
    generator type); FileFormatError names the first bad entry."""
    p = integ.problem
    n = p.sites
    if not isinstance(state, dict):
        _fail("state", _describe(state), "a dict of state arrays")
    missing = sorted({"spins", "rng", "iterations", "frames"} - set(state))
    if missing:
        raise tk.FileFormatError(f"checkpoint state lacks {', '.join(missing)}: {_WHY}")
    out = {"spins": _unit("spins", _real("spins", state["spins"], (n, 3)))}
    it = state["iterations"]
    if isinstance(it, bool) or not isinstance(it, (numbers.Integral, np.integer)) or it < 0:
        _fail("iterations", repr(it)[:60], "an integer >= 0")
    out["iterations"] = int(it)
    fr = state["frames"]
    keys = {"step", "spins", "electronic", "classical"}
    if not isinstance(fr, dict) or set(fr) != keys:
        _fail("frames", _describe(fr) if not isinstance(fr, dict) else f"the entries {sorted(fr)}",
              f"the entries {sorted(keys)}")
    steps = fr["step"]
    if not isinstance(steps, np.ndarray) or steps.ndim != 1 or steps.dtype.kind not in "iu":
        _fail("frames.step", _describe(steps), "a one-dimensional integer array")
    F = len(steps)
    if F == 0 or F > p.frames or np.any(steps != np.arange(F) * p.save_every):
        _fail("frames.step", f"steps {steps[:5].tolist()}...",
              f"0, {p.save_every}, {2 * p.save_every}, ... (at most {p.frames} frames)")
    out["frames"] = {"step": np.array(steps, dtype=np.int64),
                     "spins": _unit("frames.spins", _real("frames.spins", fr["spins"], (F, n, 3))),
                     "electronic": _real("frames.electronic", fr["electronic"], (F,)),
                     "classical": _real("frames.classical", fr["classical"], (F,))}
    rng = state["rng"]
    name = type(integ.rng.bit_generator).__name__
    if not isinstance(rng, dict) or rng.get("bit_generator") != name:
        _fail("rng", _describe(rng) if not isinstance(rng, dict) else f"a {rng.get('bit_generator')!r} state",
              f"a {name} state")
    try:
        probe = type(integ.rng.bit_generator)()
        probe.state = rng
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        _fail("rng", f"a damaged {name} state ({exc})", f"a valid {name} state")
    out["rng"] = rng
    return out


@dispatch
def _init(problem: SpinDynamics,
          solver: StochasticHeun | SIB | ImplicitMidpoint | DepondtMertens | OverdampedLangevin) -> SpinIntegrator:
    integ = SpinIntegrator(problem, solver)
    integ._scheme = _scheme_for(solver)
    return integ
