"""State handling shared by the field integrators (spectral and finite-difference).

The state of a :class:`~problems.density_field.FieldDynamics` run is the field ``phi``, the
noise generator, and the frames saved so far with their free energies; checkpoints store
exactly these, so a resumed run continues bit-identically.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk

from .solution import FieldSolution


class FieldIntegrator(tk.Integrator):
    """Base of the field integrators: subclasses set ``ops`` and implement ``_set_phi``/``_advance``."""

    def _set_phi(self, phi) -> None:
        """Store ``phi`` and whatever the stepper derives from it (e.g. the local derivative)."""
        raise NotImplementedError

    def _start(self, phi) -> None:
        self._set_phi(phi)
        self.frames, self.frame_steps = [self.phi.copy()], [0]
        self.energies = [self.ops.free_energy(self.phi)]

    def _save_frame(self, step: int) -> None:
        """Keep phi and F[phi] at every ``save_every``-th step and at the last one."""
        if step % self.problem.save_every == 0 or step == self.problem.steps:
            self.frames.append(self.phi.copy())
            self.frame_steps.append(step)
            self.energies.append(self.ops.free_energy(self.phi))

    def _state(self):
        return {"phi": self.phi, "rng": self.rng.bit_generator.state, "frames": np.array(self.frames),
                "frame_steps": np.array(self.frame_steps, dtype=np.int64), "energies": np.array(self.energies)}

    def _load_state(self, state):
        self._set_phi(np.array(state["phi"], dtype=np.float64))
        self.rng.bit_generator.state = state["rng"]
        self.frames = list(np.array(state["frames"]))
        self.frame_steps = [int(s) for s in np.array(state["frame_steps"])]
        self.energies = [float(e) for e in np.array(state["energies"])]

    def solution(self):
        return FieldSolution(**self._common(), times=np.array(self.frame_steps) * self.problem.dt,
                             phi=np.array(self.frames), free_energy=np.array(self.energies))
