"""State handling shared by the field integrators (spectral and finite-difference).

The state of a :class:`~problems.density_field.FieldDynamics` run is the field ``phi``, the
noise generator, and the frames saved so far with their free energies; checkpoints store
exactly these, so a resumed run continues bit-identically. A checkpoint's state is checked
against the problem before anything uses it (:mod:`.checkpoints`).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk

from .accuracy import energy_increase, with_warnings
from .checkpoints import checked_state
from .solution import FieldSolution


class FieldIntegrator(tk.Integrator):
    """Base of the field integrators: subclasses set ``ops`` and implement ``_set_phi``/``_advance``."""

    #: What to change when F rises (the accuracy warning of :func:`.accuracy.energy_increase`).
    energy_advice = "lower dt"

    def _set_phi(self, phi) -> None:
        """Store ``phi`` and whatever the stepper derives from it (e.g. the local derivative)."""
        raise NotImplementedError

    def _start(self, phi) -> None:
        self._set_phi(phi)
        self.frames, self.frame_steps = [self.phi.copy()], [0]
        self.energies = [self.ops.free_energy(self.phi)]

    def _save_frame(self, step: int, phi) -> bool:
        """Keep ``phi`` (the state after ``step``) and F[phi] at every ``save_every``-th step and at the last one.

        Returns False, keeping nothing, when F[phi] is not finite: the field has left the
        functional's domain (a Landau field past ~1e77 overflows phi^4), so the caller stops the
        run as unstable at this step and the saved frames stay the last good ones.
        """
        if step % self.problem.save_every == 0 or step == self.problem.steps:
            energy = self.ops.free_energy(phi)
            if not np.isfinite(energy):
                self.message = f"the free energy became {energy} (the field left the functional's domain)"
                return False
            self.frames.append(phi.copy())
            self.frame_steps.append(step)
            self.energies.append(energy)
        return True

    def _state(self):
        return {"phi": self.phi, "rng": self.rng.bit_generator.state, "frames": np.array(self.frames),
                "frame_steps": np.array(self.frame_steps, dtype=np.int64), "energies": np.array(self.energies)}

    def _load_state(self, state):
        """Restore a checkpoint's state, after :func:`.checkpoints.checked_state` has checked every
        array against the problem (shape, dtype, finiteness, the functional's domain)."""
        state = checked_state(state, self.problem, self.rng)
        self._set_phi(np.array(state["phi"], dtype=np.float64))
        self.rng.bit_generator.state = state["rng"]
        self.frames = list(np.array(state["frames"]))
        self.frame_steps = [int(s) for s in state["frame_steps"]]
        self.energies = [float(e) for e in state["energies"]]

    def solution(self):
        """The saved frames; a run stopped between saves (unstable, terminated, or not yet at its end)
        ends with one more frame, the current state: the last good one."""
        frames, steps, energies = self.frames, self.frame_steps, self.energies
        if self.step_index > steps[-1]:
            frames, steps = frames + [self.phi], steps + [self.step_index]
            energies = energies + [self.ops.free_energy(self.phi)]
        sol = FieldSolution(**self._common(), times=np.array(steps) * self.problem.dt,
                            phi=np.array(frames), free_energy=np.array(energies))
        if sol.retcode in (tk.ReturnCode.Unstable, tk.ReturnCode.Failure):
            return sol
        return with_warnings(sol, self._accuracy_warnings(sol))

    def _accuracy_warnings(self, sol) -> list:
        """Past an accuracy limit (:mod:`.accuracy`): F rising in a run without noise (a gradient flow)."""
        if self.problem.noise:
            return []
        labels = [f"t = {t:g}" for t in sol.times]
        return [energy_increase(sol.free_energy, labels, self.problem.field.volume, self.energy_advice)]
