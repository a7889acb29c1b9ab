"""Steppers: how a ``LatticeIntegrator`` advances its populations, chosen once per integrator.

A stepper owns the population storage and runs steps; the integrator keeps the frames and the
run's bookkeeping. :data:`STEPPERS` is tried in order and the first whose ``build`` applies is
used:

- :class:`NumpyStepper` — ``backend="numpy"``: the reference step (``reference.py``), two arrays;
- :class:`AAStepper` — fully periodic, all-fluid domains whose lattice and collision have generated
  kernels (``generated/``): one array, updated in place (AA pattern, :mod:`.aa`);
- :class:`UnrolledStepper` — two arrays with the generated unrolled A–B kernel (BGK, float64;
  reached through ``LatticeIntegrator.use_two_arrays``, for benchmarks and tests);
- :class:`GenericStepper` — two arrays with the generic row kernel (``kernels.py``): every domain,
  every collision (walls, obstacles, inlets and outlets).

A collision model reaches all of them through its :class:`~.base.Collision` (the generated kernel
family, their rates, the generic kernel's branch and matrices), so adding one touches its own
file plus its generated kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .aa import aa_storage, aa_swap
from .base import Collision
from .domain import Domain, fill_ghosts, fill_ghosts_numpy
from .kernels import stream_collide, stream_collide_parallel
from .lattices import Lattice
from .reference import stream_collide_numpy
from .unrolled import aa_kernels, two_array_kernel

__all__ = ["Setup", "Stepper", "AAStepper", "TwoArrayStepper", "NumpyStepper", "UnrolledStepper",
           "GenericStepper", "STEPPERS", "choose_stepper"]


@dataclass(frozen=True)
class Setup:
    """What a stepper is built from."""

    lattice_name: str
    lat: Lattice
    domain: Domain
    collision: Collision
    F: np.ndarray            # internal (3,) body force
    dtype: np.dtype          # population storage
    backend: str             # "numba" or "numpy"
    parallel: bool

    @property
    def periodic_fluid(self) -> bool:
        """Fully periodic and all fluid: no ghost layers, no solid nodes."""
        return not self.domain.ghosts and not self.domain.flag.any()


class Stepper:
    """Owns the populations (post-collision, layout S0 when handed in or out) and steps them.

    ``build(setup)`` returns a stepper or None when it does not apply; ``load(f)`` takes
    populations; ``advance(start, n, after)`` runs steps start+1 … start+n, calling
    ``after(step)`` after each, and returns how many succeeded (``bad`` then holds the count of
    bad nodes of the failed step). ``after`` returning False (the validity monitor found the
    state bad) stops the run at that step too: a two-array stepper then steps back to the
    state before it; ``populations()`` gives them back; ``arrays()`` lists the arrays held (for
    memory figures). ``in_place``: one population array. ``phase``: the layout of the populations
    held (0: S0; 1: the AA layout S1).
    """

    phase = 0

    in_place = False

    def __init__(self, setup: Setup):
        self.setup = setup
        self.bad = 0

    @classmethod
    def build(cls, setup: Setup) -> "Stepper | None":  # pragma: no cover - abstract
        raise NotImplementedError

    def load(self, f: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def populations(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def advance(self, start: int, n: int, after) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def arrays(self) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError


class TwoArrayStepper(Stepper):
    """Two population arrays (A–B pattern, pull): ``kernel(src, dst)`` writes one step into the
    other array, ghost layers and curved-wall links refilled before each step."""

    def __init__(self, setup: Setup, kernel, fill):
        super().__init__(setup)
        self.kernel = kernel
        self.fill = fill
        self.f = self.g = None

    def load(self, f):
        self.f = f
        self.g = f.copy()      # nodes that are never updated (solid, ghost) stay defined in both

    def populations(self):
        return self.f

    def arrays(self):
        return (self.f, self.g)

    def advance(self, start, n, after):
        s = self.setup
        for k in range(n):
            if s.domain.needs_fill:
                self.fill(self.f, s.domain, s.lat, s.F)
            bad = self.kernel(self.f, self.g)
            if bad:
                self.bad = bad
                return k
            self.f, self.g = self.g, self.f
            if after(start + k + 1) is False:
                self.f, self.g = self.g, self.f      # back to the state before the refused step
                return k
        return n


class NumpyStepper(TwoArrayStepper):
    """The NumPy reference step (``backend="numpy"``)."""

    @classmethod
    def build(cls, setup):
        if setup.backend != "numpy":
            return None
        dom, lat = setup.domain, setup.lat
        args = (dom.flag, dom.simple, dom.uwall, dom.c, lat.w, lat.opp) + setup.collision.generic + (setup.F,)
        return cls(setup, lambda src, dst: stream_collide_numpy(src, dst, *args), fill_ghosts_numpy)


class GenericStepper(TwoArrayStepper):
    """The generic numba row kernel: any domain, any collision."""

    @classmethod
    def build(cls, setup):
        dom, lat = setup.domain, setup.lat
        kernel = stream_collide_parallel if setup.parallel else stream_collide
        args = (dom.flag, dom.simple, dom.uwall, dom.c, lat.w, lat.opp) + setup.collision.generic + (setup.F,)
        return cls(setup, lambda src, dst: kernel(src, dst, *args), fill_ghosts)


class UnrolledStepper(TwoArrayStepper):
    """The generated unrolled two-array kernel (periodic, all fluid, float64 storage; BGK)."""

    @classmethod
    def build(cls, setup):
        if setup.backend == "numpy" or not setup.periodic_fluid or setup.dtype != np.float64:
            return None
        kernel = two_array_kernel(setup.lattice_name, setup.collision, setup.domain.c, setup.domain.shape3,
                                  setup.parallel)
        if kernel is None:
            return None
        w, rates, F = setup.lat.w, setup.collision.rates, setup.F
        return cls(setup, lambda src, dst: kernel(src, dst, w, *rates, F), fill_ghosts)


class AAStepper(Stepper):
    """One population array updated in place by the generated AA kernels (:mod:`.aa`).

    The layout follows the step count's parity (even: S0, odd: S1), so a resumed run issues the
    same kernels as an uninterrupted one; ``populations()`` converts S1 to S0 (an exact
    permutation). A step that diverges has already overwritten its populations.
    """

    in_place = True

    def __init__(self, setup: Setup, kernels):
        super().__init__(setup)
        self.kernels = kernels
        self.buf = self.f = None
        self.phase = 0            # layout of f: 0 = S0 (post-collision), 1 = S1 (swapped)

    @classmethod
    def build(cls, setup):
        if setup.backend == "numpy" or not setup.periodic_fluid:
            return None
        kernels = aa_kernels(setup.lattice_name, setup.collision, setup.domain.c, setup.domain.shape3,
                             setup.parallel)
        return None if kernels is None else cls(setup, kernels)

    def load(self, f):
        self.buf, self.f = aa_storage(f)
        self.phase = 0

    def populations(self):
        if self.phase == 0:
            return self.f
        return aa_swap(self.f.copy(), self.setup.domain.c, self.setup.lat.opp)

    def arrays(self):
        return (self.buf,)          # the padded buffer, padding included

    def advance(self, start, n, after):
        s = self.setup
        nx, ny, nz = s.domain.shape3
        rates = s.collision.rates
        if self.phase != start % 2:
            aa_swap(self.f, s.domain.c, s.lat.opp)
            self.phase ^= 1
        for k in range(n):
            bad = self.kernels[self.phase](self.buf, nx, ny, nz, s.lat.w, *rates, s.F)
            self.phase ^= 1
            if bad:
                self.bad = bad
                return k
            if after(start + k + 1) is False:
                return k
        return n


#: The stepper types, in the order they are tried (the last applies to everything).
STEPPERS = (NumpyStepper, AAStepper, UnrolledStepper, GenericStepper)
#: The two-array steppers ``LatticeIntegrator.use_two_arrays`` picks from.
TWO_ARRAY_STEPPERS = (NumpyStepper, UnrolledStepper, GenericStepper)


def choose_stepper(setup: Setup, table=STEPPERS) -> Stepper:
    """The first stepper of ``table`` that applies to ``setup``."""
    for kind in table:
        stepper = kind.build(setup)
        if stepper is not None:
            return stepper
    raise AssertionError("the last stepper of the table applies to every setup")  # pragma: no cover
