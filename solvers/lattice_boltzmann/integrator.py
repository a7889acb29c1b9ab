"""``LatticeIntegrator``: populations, the stepping loop, saved frames, checkpoints."""

from __future__ import annotations

import numpy as np

import toolkit as tk

from .checkpoints import checked_state
from .domain import MOVING, SOLID, build_domain, momentum_exchange
from .fields import moments
from .kernels import equilibrium_fill
from .lattices import lattice
from .monitor import CHECK_EVERY, MACH_ACCURACY, MACH_UNSTABLE, CS, Report, count_bad, count_bad_parallel, \
    count_bad_numpy, field_report
from .solution import FluidSolution, vorticity
from .steppers import TWO_ARRAY_STEPPERS, Setup, choose_stepper

__all__ = ["LatticeIntegrator"]


class LatticeIntegrator(tk.Integrator):
    """Steps a ``LatticeFluid`` with a BGK/TRT/MRT solver.

    The stepper is chosen once, here (:func:`.steppers.choose_stepper`): the NumPy reference for
    ``backend="numpy"``; the generated in-place kernels (AA pattern, one population array,
    float64 or float32 storage) on fully periodic, all-fluid domains; the generic two-array
    kernel everywhere else. ``populations`` gives the post-collision populations whichever
    stepper holds them.

    Validity (:mod:`.monitor`): the kernels count non-positive or non-finite densities at every
    step; the Mach number is checked at every saved frame and every ``CHECK_EVERY`` steps. Past
    Ma = 1 (or ρ ≤ 0, or a non-finite value) the run stops ``Unstable`` at the step; past
    Ma = 0.3 it finishes with a warning in ``stats["warnings"]`` and the message. Saved frames are
    checked before they are kept, so the fields of every result are finite. A two-array stepper
    stopped by the monitor steps back one step and, as after a failed kernel step, holds the last
    good populations, kept as a last frame; with the AA pattern (one array, updated in place) the
    failed step has already overwritten them, so the frames end at the last good frame.
    """

    def __init__(self, problem, solver):
        super().__init__(problem, solver)
        self.lat = lattice(problem.lattice)
        self.collision = solver.collision(problem)
        self.domain = build_domain(problem, self.lat)
        self.F = self.domain.to_internal(problem.force if problem.force is not None else np.zeros(problem.dim))
        dtype = np.dtype(np.float32 if solver.precision == "float32" else np.float64)
        self.setup = Setup(problem.lattice, self.lat, self.domain, self.collision, self.F, dtype, solver.backend,
                           solver.parallel)
        self.stepper = choose_stepper(self.setup)
        self.stepper.load(self._initial(dtype))
        self.frame_steps: list[int] = []
        self.frames_rho: list[np.ndarray] = []
        self.frames_u: list[np.ndarray] = []
        self.frames_force: list[np.ndarray] = []
        self._failure = ""
        self._checker = count_bad_numpy if solver.backend == "numpy" else (
            count_bad_parallel if solver.parallel else count_bad)
        self._fluid = ~self.domain.grid(self.domain.obstacle[self.domain.interior], problem.dim)
        self._last_checked = 0
        if not self._record(0):
            raise tk.InvalidProblemError(f"the initial state of {problem!r} is not valid: {self._failure}; "
                                         "check density, velocity and force")

    # -- set-up --------------------------------------------------------------------------
    def _initial(self, dtype) -> np.ndarray:
        """Equilibrium populations at the initial density and velocity (post-collision storage:
        the velocity is shifted by F/(2ρ) so that the reported u equals the given one)."""
        p, dom = self.problem, self.domain
        phys = tuple(p.shape) + (1,) * (3 - p.dim)
        rho = np.ones(dom.shape3)
        rho_phys = np.broadcast_to(np.asarray(p.density, dtype=float), tuple(p.shape)).reshape(phys)
        rho[dom.interior] = rho_phys.transpose(dom.perm)
        u = np.zeros((3,) + dom.shape3)
        if p.velocity is not None:
            given = np.broadcast_to(p.velocity, tuple(p.shape) + (p.dim,)).reshape(phys + (p.dim,))
            for i in range(3):
                if dom.perm[i] < p.dim:
                    u[(i,) + dom.interior] = given[..., dom.perm[i]].transpose(dom.perm)
        u += 0.5 * self.F.reshape(3, 1, 1, 1) / rho
        solid = (dom.flag == SOLID) | (dom.flag == MOVING)
        u[:, solid] = 0.0
        f = np.empty((self.lat.q,) + dom.shape3)
        equilibrium_fill(f, rho, u[0], u[1], u[2], dom.c, self.lat.w)
        return np.ascontiguousarray(f.astype(dtype))

    # -- stepping ------------------------------------------------------------------------
    def use_two_arrays(self) -> None:
        """Switch an in-place (AA) run to two arrays: the unrolled kernel for BGK, the generic one
        for TRT and MRT (for benchmarks and tests; results agree to round-off)."""
        if not self.stepper.in_place:
            return
        f = np.ascontiguousarray(self.stepper.populations())
        self.stepper = choose_stepper(self.setup, TWO_ARRAY_STEPPERS)
        self.stepper.load(f)

    def _advance(self, n: int) -> int:
        save, last = self.problem.save_every, self.total_steps

        def after(step):
            if step % save == 0 or step == last:
                return self._record(step)
            if step % CHECK_EVERY == 0:
                return self._check(step)
            return True

        self._failure = ""
        done = self.stepper.advance(self.step_index, n, after)
        if done < n:
            step = self.step_index + done + 1
            failure = self._failure
            if not self.stepper.in_place and (not self.frame_steps or self.frame_steps[-1] < step - 1):
                self._record(step - 1)      # the last good populations, kept when they pass the check
            self._failure = failure
            if self._failure:
                checked = self._last_checked
                self.message = (f"{self._failure} (monitor: every saved frame and every {CHECK_EVERY} steps; the "
                                f"last state checked good was at step {checked}); lower the velocity or force, "
                                "raise tau or the resolution")
            else:
                self.message = (f"{self.stepper.bad} node(s) got a non-positive or non-finite density (lower the "
                                "velocity or force, raise tau or the resolution)")
        return done

    # -- validity ------------------------------------------------------------------------
    def _check(self, step: int) -> bool:
        """Check the populations held (the state after ``step``) with one pass of the monitor
        kernel; False (and ``_failure`` set) past the stability limit, a warning past the
        accuracy limit."""
        warned = bool(self.stats.get("warnings"))
        limit = (MACH_UNSTABLE if warned else MACH_ACCURACY) * CS
        st, dom = self.stepper, self.domain
        if self._checker(st.f, dom.c, self.lat.opp, self.F, dom.flag, st.phase, limit * limit) == 0:
            self._last_checked = step
            return True
        rho, u = self.fields()        # rare: something is past a limit; find out what
        return self._judge(step, field_report(rho, u, self._fluid))

    def _judge(self, step: int, report: Report) -> bool:
        if report.unstable:
            self._failure = report.reason()
            return False
        self._last_checked = step
        if report.inaccurate and not self.stats.get("warnings"):
            text = (f"the Mach number reached {report.mach:.3g} > {MACH_ACCURACY:g} at step {step}: compressibility "
                    "errors grow as Ma² (a few per cent here); lower the lattice velocity or force and raise the "
                    "resolution or the number of steps for quantitative results")
            self.stats["warnings"] = [text]
            if self.retcode is None:
                self.message = "warning: " + text
        return True

    def natural(self) -> np.ndarray:
        """The post-collision populations f*_q(x) (layout S0); a converted copy when the AA
        pattern left them in layout S1."""
        return self.stepper.populations()

    def _record(self, step: int) -> bool:
        """Keep a frame of the state after ``step`` when it passes the monitor; False when not."""
        if self.frame_steps and self.frame_steps[-1] == step:
            return True
        natural = self.natural()
        rho, u = self._fields(natural)
        if not self._judge(step, field_report(rho, u, self._fluid)):
            return False
        self.frame_steps.append(step)
        self.frames_rho.append(rho)
        self.frames_u.append(u)
        self.frames_force.append(momentum_exchange(natural, self.domain, self.lat)[: self.problem.dim])
        return True

    def fields(self) -> tuple[np.ndarray, np.ndarray]:
        """Current density (*shape) and velocity (*shape, D) on the problem's nodes."""
        return self._fields(self.natural())

    def _fields(self, natural: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, dom = self.problem, self.domain
        rho, u = moments(natural[(slice(None),) + dom.interior], dom.c, self.F)
        solid = dom.obstacle[dom.interior]
        rho = np.where(solid, 1.0, rho)
        u = np.where(solid[None], 0.0, u)
        velocity = np.stack([dom.grid(u[dom.perm.index(k)], p.dim) for k in range(p.dim)], axis=-1)
        return np.ascontiguousarray(dom.grid(rho, p.dim)), np.ascontiguousarray(velocity)

    @property
    def populations(self) -> np.ndarray:
        """The current post-collision populations (Q, internal padded grid); do not modify."""
        return self.natural()

    # -- checkpoints ---------------------------------------------------------------------
    def _state(self) -> dict:
        p = self.problem
        return {"f": self.natural(), "frame_steps": np.array(self.frame_steps, dtype=np.int64),
                "density": np.array(self.frames_rho).reshape((-1,) + tuple(p.shape)),
                "velocity": np.array(self.frames_u).reshape((-1,) + tuple(p.shape) + (p.dim,)),
                "force": np.array(self.frames_force).reshape(-1, p.dim)}

    def _load_state(self, state: dict) -> None:
        """Resume from ``state``, checked against the problem first (:func:`.checkpoints.checked_state`):
        a checkpoint that does not fit raises ``FileFormatError`` before any kernel sees it."""
        dom = self.domain
        state = checked_state(state, self.problem, self.lat.q, dom.shape3, self.setup.dtype)
        self.stepper.load(np.array(state["f"], order="C"))     # a copy, layout S0; AA re-swaps at odd steps
        self.frame_steps = [int(s) for s in state["frame_steps"]]
        self.frames_rho = list(np.array(state["density"]))
        self.frames_u = list(np.array(state["velocity"]))
        self.frames_force = list(np.array(state["force"]))
        self._last_checked = self.frame_steps[-1]

    # -- result --------------------------------------------------------------------------
    def solution(self) -> FluidSolution:
        p, dom = self.problem, self.domain
        velocity = np.array(self.frames_u)
        solid = dom.grid(dom.obstacle[dom.interior], p.dim).copy()
        return FluidSolution(**self._common(), step=np.array(self.frame_steps, dtype=np.int64),
                             density=np.array(self.frames_rho), velocity=velocity,
                             vorticity=vorticity(velocity), solid=solid, force=np.array(self.frames_force))
