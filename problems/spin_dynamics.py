"""Spin dynamics: classical unit spins evolved by the stochastic Landau-Lifshitz-Gilbert equation.

The spins S_i (|S_i| = 1) feel the effective field ``h_i = -dE/dS_i`` of the energy

    E(S) = E_el(S) + sum_<ij> J_ij S_i . S_j - sum_i B_i . S_i - K sum_i (S_i . n)^2

where ``E_el`` comes from itinerant electrons (the ``model``: a Kondo lattice, e.g. a tight-binding
problem with ``spins``, whose grand potential at fixed mu, or free energy at fixed filling, a held
force provider evaluates; Barros & Kato, PRB 88, 235101 (2013), doi:10.1103/PhysRevB.88.235101),
the Heisenberg term runs over the undirected ``bonds`` (each listed once, ``exchange`` J_ij > 0
antiferromagnetic), B is the Zeeman ``field`` and K the single-ion ``anisotropy`` about the unit
``easy_axis`` n (K > 0: an easy axis, whose two directions make an Ising (Z2) magnet; K < 0: an
easy plane). The equation of motion, in Landau-Lifshitz form
with unit gyromagnetic ratio (time in units of hbar / energy),

    dS_i/dt = S_i x H_i - damping S_i x (S_i x H_i),     H_i = h_i + xi_i(t)
    <xi_ia(t) xi_jb(t')> = 2 D delta_ij delta_ab delta(t - t'),   D = damping kT / (1 + damping^2)

(Stratonovich), samples exp(-E / kT) at ``temperature`` kT. The precession ``S x h`` is the
Hamiltonian flow of the spin Poisson bracket {S_a, S_b} = eps_abc S_c: a spin in a field B
(E = -B . S) turns about B at angular frequency |B|, clockwise seen from the tip of B.

Builders (no electrons, so no other family needed): :func:`triangular_lattice` (sites, bonds,
triangles, indexed like ``problems.tight_binding.lattice_geometry``), :func:`triangular_state`
(random, ferromagnet, 120 degree, four-sublattice triple-Q, stripe) and :func:`classical_triangular`;
the same for the square, kagome and simple cubic lattices through :func:`lattice` (or
:func:`square_lattice`, :func:`kagome_lattice`, :func:`cubic_lattice`), :func:`lattice_state` and
:func:`classical_lattice`.
Kondo-lattice problems are built in ``solvers.spin_dynamics`` (which may use the tight-binding
builders).
"""

from __future__ import annotations

import math

import numpy as np

import toolkit as tk
from toolkit import validate as v

__all__ = ["SpinDynamics", "triangular_lattice", "triangular_state", "classical_triangular", "SPIN_STATES",
           "MAX_SPIN_ENERGY", "TRIPLE_Q_CHIRALITY", "TRIANGULAR_VECTORS", "LATTICE_KINDS", "LATTICE_STATES",
           "lattice", "square_lattice", "kagome_lattice", "cubic_lattice", "lattice_state", "classical_lattice"]

_ERR = tk.InvalidProblemError
_S3 = math.sqrt(3.0)

#: Largest magnitude of an energy (exchange, field, temperature); beyond, products of fields overflow.
MAX_SPIN_ENERGY = 1e100
#: Largest damping: the noise and damping terms scale with it (and 1 + damping^2 must stay finite).
MAX_DAMPING = 1e6
#: |chi| of the ideal triple-Q state on every triangle: the volume spanned by three tetrahedron corners.
TRIPLE_Q_CHIRALITY = 4.0 / (3.0 * _S3)
#: Primitive vectors of the triangular lattice (rows a1, a2), unit lattice constant.
TRIANGULAR_VECTORS = np.array([[1.0, 0.0], [0.5, 0.5 * _S3]])
#: Initial states of :func:`triangular_state`.
SPIN_STATES = ("random", "ferro", "120", "triple-q", "stripe")
#: Bytes per site the builders allocate (positions, bonds, triangles, spins, temporaries); generous.
_BUILD_BYTES_PER_SITE = 600


def _unit_spins(name, value, n=None):
    shape = (None, 3) if n is None else (n, 3)
    S = v.real_array(name, value, shape=shape)
    if S.shape[0] == 0:
        raise _ERR(f"{name} = {v.show(S)} is not allowed: give at least one spin (an (N, 3) array, N >= 1)")
    with np.errstate(over="ignore"):          # a huge component gives an infinite length: refused below
        norms = np.sqrt(np.sum(S * S, axis=1))
    worst = int(np.argmax(np.abs(norms - 1.0)))
    if abs(norms[worst] - 1.0) > 1e-8:
        raise _ERR(f"{name} = {v.show(S)} is not allowed: every spin must be a unit vector (spin {worst} has "
                   f"length {norms[worst]:.6g}); normalise with S / |S|")
    return S


class SpinDynamics(tk.TimeProblem):
    """Classical unit spins under stochastic Landau-Lifshitz-Gilbert dynamics (module docstring).

    Fields
    ------
    model: the electrons, or None for a purely classical model. A problem with an (N, 3) ``spins``
        field (a Kondo ``TightBinding``); a solver's ``forces`` provider turns it into the energy
        E_el and its gradient. Its ``spins`` are the initial state unless ``spins`` is given.
    spins: the initial unit spins (N, 3); with a model, None takes the model's.
    temperature: kT of the spins' bath, >= 0 (the electrons' kT is the model's own).
    final_temperature: None (the bath stays at ``temperature``) or the kT >= 0 the bath is annealed
        to: the step from k to k + 1 runs at ``temperature + (final_temperature - temperature) k / K``
        for k < K = ``anneal_steps`` (default ``steps``) and at ``final_temperature`` after (a linear
        ramp, then a hold; ``final_temperature=0`` with K < steps anneals a quench and then relaxes
        it at T = 0).
    anneal_steps: K, the length of the ramp in steps (>= 1), or None for ``steps``.
    damping: Gilbert damping alpha >= 0 (0 with temperature 0: energy-conserving dynamics); the
        relaxation rate Gamma of the overdamped Langevin scheme (``OverdampedLangevin``).
    dt: time step > 0 (units of hbar / energy); steps: number of steps; save_every: a frame every
        that many steps (frame 0 is the initial state).
    bonds: (B, 2) site pairs of the Heisenberg term, each undirected bond once (i != j), or None;
    exchange: J on every bond (a number) or one per bond (B,).
    field: the Zeeman field B, (3,) for a uniform field or (N, 3), or None.
    anisotropy: K of the single-ion term -K (S_i . n)^2 on every site (K > 0 easy axis, K < 0 easy
        plane, 0 none); easy_axis: n, any non-zero 3-vector (normalised here), or None for z.
    triangles: (T, 3) site triples, counter-clockwise, on which the scalar chirality
        S_i . (S_j x S_k) is recorded; positions: (N, 2) or (N, 3) site positions for pictures.
    lattice_vectors, lattice_shape: the periodic Bravais lattice the sites sit on, or None: the
        primitive vectors a1, a2 as the rows of a (2, 2) array and the cell counts (L1, L2) of the
        periodic box L1 a1 x L2 a2. With them (and 2-d ``positions``, which they must match: site
        ``(i L2 + j) n_sub + s`` at ``i a1 + j a2 + tau_s``, n_sub = N / (L1 L2) sublattices) the
        solution gives the structure factor on the box's reciprocal grid and the Chern number of
        the electrons' occupied bands under twisted boundary conditions.
    """

    model: object = None
    spins: np.ndarray | None = None
    temperature: float = 0.0
    final_temperature: float | None = None
    anneal_steps: int | None = None
    damping: float = 0.1
    dt: float = 0.05
    steps: int = 100
    save_every: int = 10
    bonds: np.ndarray | None = None
    exchange: object = 1.0
    field: np.ndarray | None = None
    anisotropy: float = 0.0
    easy_axis: np.ndarray | None = None
    triangles: np.ndarray | None = None
    positions: np.ndarray | None = None
    lattice_vectors: np.ndarray | None = None
    lattice_shape: tuple | None = None

    def _validate(self):
        model = self.model
        if model is not None:
            if not isinstance(model, tk.Problem) or not hasattr(model, "spins"):
                raise _ERR(f"model = {v.show(model)} is not allowed: give a problem with classical spins (a Kondo "
                           "TightBinding built with spins=...) or None for a purely classical model")
            if getattr(model, "spins", None) is None:
                raise _ERR(f"model = {v.show(model)} is not allowed: the model has spins = None; build the electrons "
                           "with spins (e.g. lattice_problem(..., spins='random')) so they couple to the classical spins")
        if self.spins is None:
            if model is None:
                raise _ERR("spins = None is not allowed without a model: give the initial unit spins, an (N, 3) array")
            self._set("spins", _unit_spins("spins", model.spins))
        else:
            n_model = None if model is None else np.shape(model.spins)[0]
            self._set("spins", _unit_spins("spins", self.spins, n_model))
        n = self.spins.shape[0]
        E = MAX_SPIN_ENERGY
        self._set("temperature", v.real_scalar("temperature", self.temperature, lower=0.0, upper=E))
        self._set("final_temperature", v.real_scalar("final_temperature", self.final_temperature, lower=0.0,
                                                     upper=E, allow_none=True))
        self._set("damping", v.real_scalar("damping", self.damping, lower=0.0, upper=MAX_DAMPING))
        self._set("dt", v.real_scalar("dt", self.dt, lower=0.0, lower_open=True, upper=1e6))
        if self.dt < 1e-12:
            raise _ERR(f"dt = {self.dt!r} is not allowed: give dt >= 1e-12 (smaller steps add nothing but "
                       "round-off; time is in units of hbar / energy)")
        self._set("steps", v.integer("steps", self.steps, lower=0, upper=10**9))
        if self.anneal_steps is not None:
            self._set("anneal_steps", v.integer("anneal_steps", self.anneal_steps, lower=1, upper=10**9))
        self._set("save_every", v.integer("save_every", self.save_every, lower=1, upper=10**9))
        if self.bonds is None:
            self._set("bonds", np.zeros((0, 2), dtype=np.int64))
        else:
            bonds = v.index_array("bonds", self.bonds, ndim=2, lower=0, upper=n)
            if bonds.size == 0:
                bonds = bonds.reshape(0, 2)
            if bonds.shape[1] != 2:
                raise _ERR(f"bonds = {v.show(bonds)} is not allowed: give (B, 2) site pairs")
            if np.any(bonds[:, 0] == bonds[:, 1]):
                raise _ERR(f"bonds = {v.show(bonds)} is not allowed: a bond joins two different sites (i != j)")
            self._set("bonds", bonds)
        B = self.bonds.shape[0]
        try:
            scalar = np.ndim(self.exchange) == 0
        except ValueError:
            scalar = False
        if scalar:
            J = v.real_scalar("exchange", self.exchange, lower=-E, upper=E)
            self._set("exchange", J)
        else:
            J = v.real_array("exchange", self.exchange, shape=(B,), lower=-E, upper=E)
            self._set("exchange", J)
        if self.field is not None:
            field = v.real_array("field", self.field, ndim=(1, 2), lower=-E, upper=E)
            if field.shape not in ((3,), (n, 3)):
                raise _ERR(f"field = {v.show(field)} is not allowed: give a uniform field (3,) or one per site "
                           f"({n}, 3), or None")
            self._set("field", field)
        self._set("anisotropy", v.real_scalar("anisotropy", self.anisotropy, lower=-E, upper=E))
        if self.easy_axis is not None:
            axis = v.real_array("easy_axis", self.easy_axis, shape=(3,), lower=-E, upper=E)
            scale = float(np.max(np.abs(axis)))
            if scale == 0.0:
                raise _ERR(f"easy_axis = {v.show(axis)} is not allowed: give a non-zero 3-vector (it is normalised), "
                           "or None for z")
            axis = axis / scale                       # no underflow in the norm of a tiny vector
            self._set("easy_axis", axis / np.sqrt(np.sum(axis * axis)))
        if self.triangles is None:
            self._set("triangles", np.zeros((0, 3), dtype=np.int64))
        else:
            tri = v.index_array("triangles", self.triangles, ndim=2, lower=0, upper=n)
            if tri.size == 0:
                tri = tri.reshape(0, 3)
            if tri.shape[1] != 3:
                raise _ERR(f"triangles = {v.show(tri)} is not allowed: give (T, 3) site triples")
            self._set("triangles", tri)
        if self.positions is not None:
            pos = v.real_array("positions", self.positions, ndim=2, lower=-1e12, upper=1e12)
            if pos.shape[0] != n or pos.shape[1] not in (2, 3):
                raise _ERR(f"positions = {v.show(pos)} is not allowed: give one 2-d or 3-d position per spin "
                           f"({n}, 2) or ({n}, 3), or None")
            self._set("positions", pos)
        self._validate_lattice(n)

    def _validate_lattice(self, n):
        vectors, shape = self.lattice_vectors, self.lattice_shape
        if vectors is None and shape is None:
            return
        if vectors is None or shape is None:
            missing = "lattice_vectors" if vectors is None else "lattice_shape"
            given = "lattice_shape" if vectors is None else "lattice_vectors"
            raise _ERR(f"{missing} = None is not allowed with {given} given: give both the primitive vectors "
                       "(2, 2) and the cell counts (L1, L2), or neither")
        a = v.real_array("lattice_vectors", vectors, shape=(2, 2), lower=-1e12, upper=1e12)
        det = float(a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0])
        if not abs(det) > 1e-12 * max(float(np.max(np.abs(a))), 1e-300) ** 2 or abs(det) < 1e-200:
            raise _ERR(f"lattice_vectors = {v.show(a)} is not allowed: the primitive vectors (rows) must span the "
                       "plane (they are parallel or zero)")
        self._set("lattice_vectors", a)
        L = v.shape_tuple("lattice_shape", shape, ndim=2)
        cells = L[0] * L[1]
        if cells > n or n % cells:
            raise _ERR(f"lattice_shape = {L} is not allowed: its {cells} cells must divide the {n} sites (one or "
                       "more sublattices per cell)")
        self._set("lattice_shape", L)
        pos = self.positions
        if pos is None or pos.shape[1] != 2:
            raise _ERR(f"positions = {v.show(pos)} is not allowed with lattice_vectors: give the (N, 2) site "
                       "positions the lattice places")
        expected = pos - self.sublattice_offsets[np.arange(n) % (n // cells)] - self.cell_positions
        scale = max(float(np.max(np.abs(a))), 1e-300)
        worst = float(np.max(np.abs(expected)))
        if not worst <= 1e-8 * scale * max(L):
            raise _ERR(f"positions = {v.show(pos)} is not allowed with lattice_vectors = {v.show(a)} and lattice_shape "
                       f"= {L}: site (i L2 + j) n_sub + s must sit at i a1 + j a2 + tau_s (off by {worst:.3g}); fix "
                       "the positions or the lattice")

    # -- derived --------------------------------------------------------------------------
    @property
    def sites(self) -> int:
        return self.spins.shape[0]

    @property
    def frames(self) -> int:
        """Frames a full run saves (step 0 included)."""
        return self.steps // self.save_every + 1

    @property
    def exchange_per_bond(self) -> np.ndarray:
        """J_ij on each bond, (B,) float64."""
        if isinstance(self.exchange, np.ndarray):
            return self.exchange
        return np.full(self.bonds.shape[0], float(self.exchange))

    @property
    def zeeman(self) -> np.ndarray:
        """The Zeeman field per site, (N, 3) float64 (zeros without a field)."""
        if self.field is None:
            return np.zeros((self.sites, 3))
        return np.ascontiguousarray(np.broadcast_to(self.field, (self.sites, 3)), dtype=np.float64)

    @property
    def anisotropy_axis(self) -> np.ndarray:
        """The unit easy axis n of the anisotropy term, (3,) float64 (z unless ``easy_axis`` is given)."""
        if self.easy_axis is None:
            return np.array([0.0, 0.0, 1.0])
        return np.ascontiguousarray(self.easy_axis, dtype=np.float64)

    @property
    def noise_strength(self) -> float:
        """D = damping kT / (1 + damping^2) at the first step: the noise variance per unit time is
        2 D per component (see :meth:`bath_temperature` for an annealed bath)."""
        return self.noise_strength_at(0)

    def bath_temperature(self, step: int) -> float:
        """The bath's kT for the step from ``step`` to ``step + 1``: ``temperature``, or the linear ramp
        to ``final_temperature`` (reached at ``anneal_steps``, default ``steps``, and held after)."""
        ramp = self.steps if self.anneal_steps is None else self.anneal_steps
        if self.final_temperature is None or ramp == 0:
            return self.temperature
        frac = min(max(step, 0), ramp) / ramp
        return max(self.temperature + (self.final_temperature - self.temperature) * frac, 0.0)

    def noise_strength_at(self, step: int) -> float:
        """D at ``step``: damping kT(step) / (1 + damping^2)."""
        a = self.damping
        return a * self.bath_temperature(step) / (1.0 + a * a)

    @property
    def annealed(self) -> bool:
        """Whether the bath temperature changes during the run."""
        return self.final_temperature is not None and self.final_temperature != self.temperature

    @property
    def sublattices(self) -> int:
        """Sites per cell of the lattice (needs ``lattice_shape``)."""
        return self.sites // (self.lattice_shape[0] * self.lattice_shape[1])

    @property
    def cell_positions(self) -> np.ndarray:
        """``i a1 + j a2`` of each site's cell, (N, 2) (needs the lattice fields)."""
        L1, L2 = self.lattice_shape
        cell = np.arange(self.sites) // self.sublattices
        i, j = cell // L2, cell % L2
        return i[:, None] * self.lattice_vectors[0] + j[:, None] * self.lattice_vectors[1]

    @property
    def sublattice_offsets(self) -> np.ndarray:
        """tau_s, the positions of the first cell's sites, (n_sub, 2)."""
        return np.array(self.positions[: self.sublattices], dtype=np.float64)

    @classmethod
    def example(cls, seed: int = 0) -> "SpinDynamics":
        """A 3 x 3 periodic triangular Heisenberg antiferromagnet in a field, at small kT (9 spins)."""
        rng = np.random.default_rng(seed)
        return classical_triangular((3, 3), state="random", seed=seed, exchange=1.0,
                                    field=(0.0, 0.0, float(rng.uniform(0.0, 0.5))),
                                    temperature=float(rng.uniform(0.0, 0.3)), damping=float(rng.uniform(0.05, 0.5)),
                                    dt=0.02, steps=40, save_every=10)


# -- triangular lattice builders ----------------------------------------------------------

def _shape2(shape) -> tuple[int, int]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape), int(shape))
    shape = v.shape_tuple("shape", shape, ndim=2)
    from toolkit import memory

    sites = shape[0] * shape[1]
    need, available = sites * _BUILD_BYTES_PER_SITE, memory.available_memory()
    if need > available:
        raise _ERR(f"shape = {shape} is not allowed here: the lattice has {sites:,} sites and building it needs about "
                   f"{need / 2**30:.3g} GiB, but {available / 2**30:.3g} GiB is available; give a smaller shape")
    return shape


def triangular_lattice(shape, periodic: bool = True):
    """Sites, nearest-neighbour bonds and triangles of an L1 x L2 triangular lattice.

    Site (i, j) sits at ``i a1 + j a2`` (a1 = (1, 0), a2 = (1/2, sqrt 3/2)) with index ``i L2 + j``,
    the numbering of ``problems.tight_binding.lattice_geometry("triangular", shape)``. Returns
    ``(positions (N, 2), bonds (B, 2), triangles (T, 3))``: each undirected bond once (a periodic
    lattice with L1, L2 >= 3 has 3N bonds and 2N triangles), triangles counter-clockwise (up:
    (i,j), (i+1,j), (i,j+1); down: (i+1,j), (i+1,j+1), (i,j+1)). With ``periodic=False`` bonds and
    triangles that would wrap are left out. A periodic side shorter than 3 would count bonds twice:
    it is refused.
    """
    L1, L2 = _shape2(shape)
    periodic = v.flag("periodic", periodic)
    if periodic and min(L1, L2) < 3:
        raise _ERR(f"shape = {(L1, L2)} is not allowed with periodic=True: give sides >= 3 (a shorter side wraps "
                   "a bond onto itself) or periodic=False")
    i, j = np.meshgrid(np.arange(L1), np.arange(L2), indexing="ij")
    i, j = i.ravel(), j.ravel()
    positions = np.stack([i + 0.5 * j, 0.5 * _S3 * j], axis=1).astype(np.float64)

    def site(a, b):
        ok = np.ones(a.shape, bool) if periodic else (a >= 0) & (a < L1) & (b >= 0) & (b < L2)
        return (a % L1) * L2 + (b % L2), ok

    bonds, triangles = [], []
    for di, dj in ((1, 0), (0, 1), (-1, 1)):
        other, ok = site(i + di, j + dj)
        bonds.append(np.stack([(i * L2 + j)[ok], other[ok]], axis=1))
    here = i * L2 + j
    right, ok_r = site(i + 1, j)
    top, ok_t = site(i, j + 1)
    diag, ok_d = site(i + 1, j + 1)
    up = ok_r & ok_t
    down = ok_r & ok_t & ok_d
    triangles.append(np.stack([here[up], right[up], top[up]], axis=1))
    triangles.append(np.stack([right[down], diag[down], top[down]], axis=1))
    return (positions, np.concatenate(bonds).astype(np.int64), np.concatenate(triangles).astype(np.int64))


def triangular_state(shape, state: str = "random", seed: int = 0) -> np.ndarray:
    """Unit spins (N, 3) on the L1 x L2 triangular lattice (site index ``i L2 + j``).

    ``"random"``: uniform on the sphere (``numpy.random.default_rng(seed)``); ``"ferro"``: all along
    +z; ``"120"``: coplanar (xy) three-sublattice state, sublattice (i - j) mod 3, angles 0, 120, 240
    degrees (periodic sides must be multiples of 3); ``"triple-q"``: the four-sublattice chiral
    state, sublattice (i mod 2) + 2 (j mod 2) pointing to the corners of a regular tetrahedron, so
    every triangle has the same scalar chirality of magnitude 4 / (3 sqrt 3) (Martin & Batista, PRL
    101, 156402 (2008), doi:10.1103/PhysRevLett.101.156402; sides must be even); ``"stripe"``: the
    collinear single-Q state ``S = (-1)^i z``, ferromagnetic rows along a2 alternating along a1
    (all its weight at the M point b1 / 2; L1 must be even).
    """
    if isinstance(state, str) and state == "stripe":
        return lattice_state("triangular", shape, "stripe", seed)
    L1, L2 = _shape2(shape)
    v.choice("state", state, SPIN_STATES)
    seed = v.integer("seed", seed, lower=0, upper=2**63 - 1)
    i, j = np.meshgrid(np.arange(L1), np.arange(L2), indexing="ij")
    i, j = i.ravel(), j.ravel()
    n = L1 * L2
    if state == "random":
        S = np.random.default_rng(seed).normal(size=(n, 3))
        return S / np.linalg.norm(S, axis=1, keepdims=True)
    if state == "ferro":
        return np.tile([0.0, 0.0, 1.0], (n, 1))
    if state == "120":
        if L1 % 3 or L2 % 3:
            raise _ERR(f"shape = {(L1, L2)} is not allowed for state '120': the three-sublattice state needs sides "
                       "that are multiples of 3")
        angle = 2 * np.pi * ((i - j) % 3) / 3.0
        return np.stack([np.cos(angle), np.sin(angle), np.zeros(n)], axis=1)
    if L1 % 2 or L2 % 2:
        raise _ERR(f"shape = {(L1, L2)} is not allowed for state 'triple-q': the four-sublattice state needs even "
                   "sides")
    corners = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.float64) / _S3
    return corners[(i % 2) + 2 * (j % 2)].copy()


def classical_triangular(shape, *, state: str = "random", seed: int = 0, exchange: float = 1.0, field=None,
                         periodic: bool = True, **fields) -> SpinDynamics:
    """A classical Heisenberg model on the triangular lattice: ``SpinDynamics`` with its bonds,
    triangles and positions, the initial ``state`` of :func:`triangular_state` and the other
    fields (temperature, damping, dt, steps, save_every) passed on."""
    positions, bonds, triangles = triangular_lattice(shape, periodic)
    spins = triangular_state(shape, state, seed)
    lattice = dict(lattice_vectors=TRIANGULAR_VECTORS, lattice_shape=_shape2(shape)) if periodic else {}
    return SpinDynamics(spins=spins, bonds=bonds, exchange=exchange, field=field, triangles=triangles,
                        positions=positions, **lattice, **fields)


# -- square, kagome and cubic lattices ----------------------------------------------------

#: Lattices of :func:`lattice`: (primitive vectors as rows, sublattice offsets tau_s, bond templates
#: (s, t, cell offset): site s of cell c to site t of cell c + offset, triangle templates
#: ((s, offset) x 3, counter-clockwise), smallest periodic side). Numbering as in
#: ``problems.tight_binding.LATTICES``: site = (C-order cell index) n_sub + s.
_KAGOME_BASIS = np.array([[0.0, 0.0], [0.5, 0.0], [0.25, 0.25 * _S3]])
_LATTICES = {
    "square": (np.eye(2), np.zeros((1, 2)), [(0, 0, (1, 0)), (0, 0, (0, 1))], [], 3),
    "cubic": (np.eye(3), np.zeros((1, 3)), [(0, 0, (1, 0, 0)), (0, 0, (0, 1, 0)), (0, 0, (0, 0, 1))], [], 3),
    "kagome": (TRIANGULAR_VECTORS, _KAGOME_BASIS,
               [(0, 1, (0, 0)), (0, 2, (0, 0)), (1, 2, (0, 0)), (1, 0, (1, 0)), (2, 0, (0, 1)), (1, 2, (1, -1))],
               [((0, (0, 0)), (1, (0, 0)), (2, (0, 0))), ((1, (0, 0)), (2, (1, -1)), (0, (1, 0)))], 2),
}
#: Lattices the generic builders know.
LATTICE_KINDS = ("triangular", "square", "kagome", "cubic")
#: Initial states of :func:`lattice_state` on every lattice ("120" and "triple-q": triangular only).
LATTICE_STATES = ("random", "ferro", "stripe")


def _shape_of(kind, shape) -> tuple:
    dim = 3 if kind == "cubic" else 2
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),) * dim
    shape = v.shape_tuple("shape", shape, ndim=dim)
    from toolkit import memory

    nsub = 3 if kind == "kagome" else 1
    sites = nsub * math.prod(shape)
    need, available = sites * _BUILD_BYTES_PER_SITE, memory.available_memory()
    if need > available:
        raise _ERR(f"shape = {shape} is not allowed here: the {kind} lattice has {sites:,} sites and building it "
                   f"needs about {need / 2**30:.3g} GiB, but {available / 2**30:.3g} GiB is available; give a "
                   "smaller shape")
    return shape


def lattice(kind: str, shape, periodic: bool = True):
    """Sites, nearest-neighbour bonds and triangles of a lattice: ``(positions (N, d), bonds (B, 2),
    triangles (T, 3))``.

    ``kind``: ``"triangular"`` (:func:`triangular_lattice`), ``"square"`` (a1 = (1, 0), a2 = (0, 1)),
    ``"kagome"`` (the triangular Bravais lattice with sites at 0, a1/2, a2/2 of each cell: bond length
    1/2, corner-sharing up and down triangles) or ``"cubic"`` (simple cubic, 3-d positions). Site
    ``(C-order cell index) n_sub + s`` sits at ``i a1 + j a2 (+ k a3) + tau_s``, the numbering of
    ``problems.tight_binding.lattice_geometry(kind, shape)``. Each undirected bond once (periodic:
    2N on the square and kagome lattices, 3N on the triangular and cubic ones); triangles
    counter-clockwise where the lattice has them (triangular: 2N; kagome: 2N/3, one up and one down
    per cell; square and cubic: none). ``periodic=False`` leaves out bonds and triangles that wrap;
    a periodic side that would list a bond twice (below 3; below 2 for kagome) is refused.
    """
    v.choice("kind", kind, LATTICE_KINDS)
    if kind == "triangular":
        return triangular_lattice(shape, periodic)
    shape = _shape_of(kind, shape)
    periodic = v.flag("periodic", periodic)
    vectors, basis, bond_templates, triangle_templates, min_side = _LATTICES[kind]
    if periodic and min(shape) < min_side:
        raise _ERR(f"shape = {shape} is not allowed for the periodic {kind} lattice: give sides >= {min_side} (a "
                   "shorter side wraps a bond onto another) or periodic=False")
    dim, nsub = len(shape), basis.shape[0]
    cells = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1).reshape(-1, dim)
    positions = ((cells @ vectors)[:, None, :] + basis[None, :, :]).reshape(-1, dim).astype(np.float64)
    size = np.array(shape)

    def sites(s, offset):
        target = cells + np.asarray(offset)
        ok = np.ones(len(cells), bool) if periodic else np.all((target >= 0) & (target < size), axis=1)
        index = np.ravel_multi_index(tuple((target % size).T), shape) * nsub + s
        return index, ok

    bonds = []
    for s, t, offset in bond_templates:
        a, ok_a = sites(s, (0,) * dim)
        b, ok_b = sites(t, offset)
        ok = ok_a & ok_b
        bonds.append(np.stack([a[ok], b[ok]], axis=1))
    triangles = [np.zeros((0, 3), np.int64)]
    for corners in triangle_templates:
        idx, ok = zip(*(sites(s, offset) for s, offset in corners))
        keep = ok[0] & ok[1] & ok[2]
        triangles.append(np.stack([i[keep] for i in idx], axis=1))
    order = np.argsort(np.concatenate(triangles)[:, 0], kind="stable")
    return positions, np.concatenate(bonds).astype(np.int64), np.concatenate(triangles)[order].astype(np.int64)


def square_lattice(shape, periodic: bool = True):
    """``lattice("square", shape, periodic)``."""
    return lattice("square", shape, periodic)


def kagome_lattice(shape, periodic: bool = True):
    """``lattice("kagome", shape, periodic)``."""
    return lattice("kagome", shape, periodic)


def cubic_lattice(shape, periodic: bool = True):
    """``lattice("cubic", shape, periodic)``."""
    return lattice("cubic", shape, periodic)


def lattice_vectors_of(kind: str):
    """The primitive vectors (rows) of a 2-d lattice, or None for the cubic one (the problem's lattice
    fields are 2-d)."""
    return None if kind == "cubic" else (_LATTICES[kind][0] if kind in _LATTICES else TRIANGULAR_VECTORS)


def lattice_state(kind: str, shape, state: str = "random", seed: int = 0) -> np.ndarray:
    """Unit spins (N, 3) on a lattice of :func:`lattice`, numbered like it.

    ``"random"`` (uniform on the sphere, ``numpy.random.default_rng(seed)``), ``"ferro"`` (+z) and
    ``"stripe"``: the collinear state ``S = (-1)^i z`` with i the cell index along a1 (every site of
    a cell alike), ferromagnetic planes alternating along a1, all its structure-factor weight at
    ``b1 / 2`` (L1 must be even); on the triangular lattice also ``"120"`` and ``"triple-q"``
    (:func:`triangular_state`).
    """
    v.choice("kind", kind, LATTICE_KINDS)
    allowed = SPIN_STATES if kind == "triangular" else LATTICE_STATES
    v.choice("state", state, allowed)
    if kind == "triangular" and state != "stripe":
        return triangular_state(shape, state, seed)
    shape = _shape2(shape) if kind == "triangular" else _shape_of(kind, shape)
    seed = v.integer("seed", seed, lower=0, upper=2**63 - 1)
    nsub = 3 if kind == "kagome" else 1
    n = nsub * math.prod(shape)
    if state == "random":
        S = np.random.default_rng(seed).normal(size=(n, 3))
        return S / np.linalg.norm(S, axis=1, keepdims=True)
    if state == "ferro":
        return np.tile([0.0, 0.0, 1.0], (n, 1))
    if shape[0] % 2:
        raise _ERR(f"shape = {shape} is not allowed for state 'stripe': the stripes alternate along a1, so L1 "
                   "must be even")
    i = np.arange(n) // (nsub * math.prod(shape[1:]))
    S = np.zeros((n, 3))
    S[:, 2] = np.where(i % 2 == 0, 1.0, -1.0)
    return S


def classical_lattice(kind: str, shape, *, state: str = "random", seed: int = 0, exchange: float = 1.0,
                      field=None, periodic: bool = True, **fields) -> SpinDynamics:
    """A classical Heisenberg model on a lattice of :func:`lattice`: ``SpinDynamics`` with its bonds,
    triangles, positions (and, for a periodic 2-d lattice, its lattice vectors and shape), the
    initial ``state`` of :func:`lattice_state` and the other fields passed on."""
    positions, bonds, triangles = lattice(kind, shape, periodic)
    spins = lattice_state(kind, shape, state, seed)
    lattice_fields = {}
    if periodic and kind != "cubic":
        shape2 = _shape2(shape) if kind == "triangular" else _shape_of(kind, shape)
        lattice_fields = dict(lattice_vectors=lattice_vectors_of(kind), lattice_shape=shape2)
    return SpinDynamics(spins=spins, bonds=bonds, exchange=exchange, field=field, triangles=triangles,
                        positions=positions, **lattice_fields, **fields)
