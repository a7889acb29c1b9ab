"""``LatticeIntegrator``: populations, the stepping loop, saved frames, checkpoints."""

from __future__ import annotations

import numpy as np

import toolkit as tk

from .aa import aa_storage, aa_swap
from .fastpath import periodic_bgk_aa_kernels, periodic_bgk_kernel, periodic_mrt_aa_kernels, periodic_trt_aa_kernels
from .domain import MOVING, SOLID, build_domain, fill_ghosts, fill_ghosts_numpy, momentum_exchange
from .kernels import equilibrium_fill, stream_collide, stream_collide_parallel
from .lattices import lattice
from .reference import macroscopic, stream_collide_numpy
from .solution import FluidSolution, vorticity

__all__ = ["LatticeIntegrator"]


class LatticeIntegrator(tk.Integrator):
    """Steps a ``LatticeFluid`` with a BGK/TRT/MRT solver.

    Fully periodic, all-fluid BGK, TRT and MRT with the numba back end (float64 or float32 storage)
    stream in place with the AA pattern (one population array, :mod:`.aa`); everything else uses
    two population arrays (A–B pattern, pull). ``self.f`` is the current array; in the AA pattern it is in layout S1
    after an odd step count, and ``natural()`` gives the post-collision populations either way.
    With the AA pattern a step that diverges has already overwritten its populations: the run
    still stops ``Unstable`` with the step and finite saved frames, but the final populations
    are not the last good ones (the A–B pattern keeps those).
    """

    def __init__(self, problem, solver):
        super().__init__(problem, solver)
        self.lat = lattice(problem.lattice)
        self.collision = solver.collision(problem)
        self.domain = build_domain(problem, self.lat)
        self.F = self.domain.to_internal(problem.force if problem.force is not None else np.zeros(problem.dim))
        dtype = np.float32 if solver.precision == "float32" else np.float64
        self.f = self._initial(dtype)
        self._fill = fill_ghosts_numpy if solver.backend == "numpy" else fill_ghosts
        if solver.backend == "numpy":
            self._kernel = stream_collide_numpy
        elif solver.parallel:
            self._kernel = stream_collide_parallel
        else:
            self._kernel = stream_collide
        # fully periodic, all-fluid BGK, TRT or MRT (the benchmark cases): the unrolled kernels,
        # in place (AA pattern, one array; float32 storage too, float64 arithmetic) where
        # generated; BGK else on two arrays
        self._fast = None
        self._aa = None
        self._aa_rates = ()        # the relaxation rates the AA kernels take: (ω,), (ω⁺, ω⁻) or (s,)
        self._phase = 0            # AA layout of self.f: 0 = S0 (post-collision), 1 = S1 (swapped)
        model = self.collision.model
        if (solver.backend != "numpy" and model in (0, 1, 2)
                and not self.domain.ghosts and not self.domain.flag.any()):
            args = (problem.lattice, self.domain.c, self.domain.shape3, solver.parallel)
            if model == 0:
                self._aa, self._aa_rates = periodic_bgk_aa_kernels(*args), (self.collision.omega,)
                if self._aa is None and dtype == np.float64:
                    self._fast = periodic_bgk_kernel(*args)
            elif model == 1:
                self._aa = periodic_trt_aa_kernels(*args)
                self._aa_rates = (self.collision.omega, self.collision.omega_m)
            else:
                self._aa = periodic_mrt_aa_kernels(*args, self.collision.basis, self.collision.S)
                self._aa_rates = (self.collision.S,)
        self._buf = None
        self._store(self.f)
        self.frame_steps: list[int] = []
        self.frames_rho: list[np.ndarray] = []
        self.frames_u: list[np.ndarray] = []
        self.frames_force: list[np.ndarray] = []
        self._record(0)

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
        """Switch a periodic run from the in-place AA pattern to two arrays: the unrolled kernel for
        BGK, the generic one for TRT and MRT (for benchmarks and tests; results agree to round-off)."""
        if self._aa is None:
            return
        f = np.ascontiguousarray(self.natural())
        self._phase = 0
        self._aa = None
        if self.collision.model == 0 and self.f.dtype == np.float64:
            self._fast = periodic_bgk_kernel(self.problem.lattice, self.domain.c, self.domain.shape3,
                                             self.solver.parallel)
        self._store(f)

    def _store(self, f: np.ndarray) -> None:
        """Hold populations ``f`` (layout S0): in the padded AA buffer (``self.f`` a view of
        it, ``self.g`` None) or as two arrays ``self.f``, ``self.g``."""
        if self._aa is not None:
            self._buf, self.f = aa_storage(f)
            self.g = None
        else:
            self._buf = None
            self.f = f
            self.g = f.copy()      # nodes that are never updated (solid, ghost) stay defined in both

    def _advance(self, n: int) -> int:
        if self._aa is not None:
            return self._advance_aa(n)
        col, dom, lat = self.collision, self.domain, self.lat
        save = self.problem.save_every
        last = self.total_steps
        for k in range(n):
            if dom.ghosts:
                self._fill(self.f, dom, lat, self.F)
            if self._fast is not None:
                bad = self._fast(self.f, self.g, lat.w, col.omega, self.F)
            else:
                bad = self._kernel(self.f, self.g, dom.flag, dom.simple, dom.uwall, dom.c, lat.w, lat.opp, col.model,
                                   col.omega, col.omega_m, col.M, col.Minv, col.S, self.F)
            if bad:
                self.message = (f"{bad} node(s) got a non-positive or non-finite density (lower the velocity, "
                                "raise tau or the resolution)")
                return k
            self.f, self.g = self.g, self.f
            step = self.step_index + k + 1
            if step % save == 0 or step == last:
                self._record(step)
        return n

    def _advance_aa(self, n: int) -> int:
        """``n`` AA steps in place; the layout follows the step count's parity (even: S0), so a
        resumed run issues the same kernels as an uninterrupted one."""
        lat = self.lat
        nx, ny, nz = self.domain.shape3
        save = self.problem.save_every
        last = self.total_steps
        if self._phase != self.step_index % 2:
            aa_swap(self.f, self.domain.c, lat.opp)
            self._phase ^= 1
        for k in range(n):
            bad = self._aa[self._phase](self._buf, nx, ny, nz, lat.w, *self._aa_rates, self.F)
            self._phase ^= 1
            if bad:
                self.message = (f"{bad} node(s) got a non-positive or non-finite density (lower the velocity, "
                                "raise tau or the resolution)")
                return k
            step = self.step_index + k + 1
            if step % save == 0 or step == last:
                self._record(step)
        return n

    def natural(self) -> np.ndarray:
        """The post-collision populations f*_q(x) (layout S0): ``self.f`` itself, or a converted
        copy when the AA pattern left it in layout S1."""
        if self._phase == 0:
            return self.f
        return aa_swap(self.f.copy(), self.domain.c, self.lat.opp)

    def _record(self, step: int) -> None:
        if self.frame_steps and self.frame_steps[-1] == step:
            return
        natural = self.natural()
        rho, u = self._fields(natural)
        self.frame_steps.append(step)
        self.frames_rho.append(rho)
        self.frames_u.append(u)
        self.frames_force.append(momentum_exchange(natural, self.domain, self.lat)[: self.problem.dim])

    def fields(self) -> tuple[np.ndarray, np.ndarray]:
        """Current density (*shape) and velocity (*shape, D) on the problem's nodes."""
        return self._fields(self.natural())

    def _fields(self, natural: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, dom = self.problem, self.domain
        f = natural[(slice(None),) + dom.interior].astype(np.float64)
        rho, u = macroscopic(f, dom.c, self.F)
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
        self._phase = 0            # checkpoints hold layout S0; _advance_aa re-swaps at odd steps
        self._store(np.ascontiguousarray(np.array(state["f"], dtype=self.f.dtype)))
        self.frame_steps = [int(s) for s in np.asarray(state["frame_steps"])]
        self.frames_rho = list(np.array(state["density"]))
        self.frames_u = list(np.array(state["velocity"]))
        self.frames_force = list(np.array(state["force"]))

    # -- result --------------------------------------------------------------------------
    def solution(self) -> FluidSolution:
        p, dom = self.problem, self.domain
        velocity = np.array(self.frames_u)
        solid = dom.grid(dom.obstacle[dom.interior], p.dim).copy()
        return FluidSolution(**self._common(), step=np.array(self.frame_steps, dtype=np.int64),
                             density=np.array(self.frames_rho), velocity=velocity,
                             vorticity=vorticity(velocity), solid=solid, force=np.array(self.frames_force))
