"""``HIPNN``: a HIP-NN machine-learned potential as a force provider.

``tk.init(PotentialEnergy(molecule), HIPNN(...))`` returns a
:class:`~solvers.molecule.potential.PotentialCache` whose evaluator holds the torch model
(:mod:`.model`) in the solver's ``dtype`` on its ``device`` and the molecule's species indices;
each ``compute(positions)`` builds the directed pair list with the project's cell lists
(:mod:`.pairs`, periodic images exact for any cell) and returns ``(E eV, F eV/Å, virial eV)``
from one forward and one backward pass. So a HIP-NN drives ``MolecularDynamics``,
``GeometryOptimization`` and ``PotentialEnergy`` like any potential.

The trained state lives in the solver's ``parameters`` field, a ``dict`` of parameter name ->
float64 array (names and shapes in :mod:`.layout`); ``tk.save`` stores it as plain arrays (no
pickle). ``parameters=None`` is an untrained model whose initial weights are drawn from ``seed``
(:func:`.layout.initial_parameters`). Lubbers, Smith & Barros, J. Chem. Phys. 148, 241715
(2018), doi:10.1063/1.5011181.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.molecule import PotentialEnergy
from toolkit import validate as v
from toolkit.dispatch import dispatch

from ..potential import Evaluator, Potential, PotentialCache, PotentialEnergySolution, potential_cache, \
    potential_energy
from .layout import initial_parameters, parameter_shapes

__all__ = ["HIPNN", "HIPNNEvaluator"]

_E = tk.InvalidSolverError

#: Largest width, sensitivity count and depth accepted (far past any published HIP-NN).
MAX_FEATURES, MAX_SENSITIVITIES, MAX_LAYERS = 4096, 1024, 64
#: Cutoff range in Å.
CUTOFF = (0.1, 100.0)


class HIPNN(Potential):
    """HIP-NN potential (Lubbers et al. 2018; :mod:`.model` states the equations).

    ``features`` per atom and block, ``sensitivities`` distance functions per interaction,
    ``interactions`` blocks, ``atom_layers`` on-site layers per block, ``cutoff`` ``R_c`` (Å);
    ``soft_min``/``soft_max`` (Å) place the initial sensitivity centres (``1/mu`` evenly spaced
    between ``1/soft_max`` and ``1/soft_min``). ``species``: the element symbols the model knows,
    in one-hot order. ``device`` "cpu" or "cuda", ``dtype`` "float64" or "float32".
    ``parameters``: the trained state (name -> array) or None for seeded initial weights.
    """

    features: int = 20
    sensitivities: int = 20
    interactions: int = 2
    atom_layers: int = 3
    cutoff: float = 6.5
    soft_min: float = 0.85
    soft_max: float = 5.0
    species: tuple = ("H", "C", "N", "O", "F")
    device: str = "cpu"
    dtype: str = "float64"
    parameters: dict | None = None
    seed: int = 0

    def _validate(self):
        self._set("features", v.integer("features", self.features, lower=1, upper=MAX_FEATURES, error=_E))
        self._set("sensitivities", v.integer("sensitivities", self.sensitivities, lower=1,
                                             upper=MAX_SENSITIVITIES, error=_E))
        self._set("interactions", v.integer("interactions", self.interactions, lower=1, upper=MAX_LAYERS, error=_E))
        self._set("atom_layers", v.integer("atom_layers", self.atom_layers, lower=0, upper=MAX_LAYERS, error=_E))
        self._set("cutoff", v.real_scalar("cutoff", self.cutoff, lower=CUTOFF[0], upper=CUTOFF[1], error=_E))
        # sensitivity centres closer than 0.01 Å (or farther than 1e4 Å) make 1/mu and sigma overflow
        self._set("soft_min", v.real_scalar("soft_min", self.soft_min, lower=0.01, upper=self.cutoff, error=_E))
        self._set("soft_max", v.real_scalar("soft_max", self.soft_max, lower=self.soft_min, lower_open=True,
                                            upper=1e4, error=_E))
        self._set("species", _species(self.species))
        self._set("device", v.choice("device", self.device, ("cpu", "cuda"), error=_E))
        self._set("dtype", v.choice("dtype", self.dtype, ("float64", "float32"), error=_E))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2**63 - 1, error=_E))
        if self.parameters is not None:
            self._set("parameters", _parameters(self.parameters, self.shapes()))

    # -- the parameter layout ------------------------------------------------------------
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every parameter this architecture holds (:mod:`.layout`)."""
        return parameter_shapes(len(self.species), self.features, self.sensitivities, self.interactions,
                                self.atom_layers)

    def state(self) -> dict[str, np.ndarray]:
        """The parameters in use: ``parameters``, or the seeded initial ones when it is None."""
        if self.parameters is not None:
            return self.parameters
        return initial_parameters(len(self.species), self.features, self.sensitivities, self.interactions,
                                  self.atom_layers, self.soft_min, self.soft_max, self.seed)

    def with_species_energies(self, energies) -> "HIPNN":
        """A copy whose ``E_0`` (``readout.0.weight``) is ``energies`` (eV, one per species), e.g.
        from :func:`.model.fit_composition`; the other parameters are kept."""
        e = v.real_array("energies", energies, shape=(len(self.species),), error=_E)
        state = dict(self.state())
        state["readout.0.weight"] = e.reshape(1, -1)
        return tk.remake(self, parameters=state)

    def model(self):
        """A fresh torch module (:class:`.model.HIPNNModel`) holding :meth:`state`, in ``dtype`` on
        ``device``, with the numba environment kernels on CPU (inference: energies and forces)."""
        import torch

        from .model import HIPNNModel

        if self.device == "cuda" and not torch.cuda.is_available():
            raise tk.InvalidSolverError("device = 'cuda' is not allowed here: torch sees no CUDA device; "
                                        "use device='cpu'.")
        model = HIPNNModel(len(self.species), self.features, self.sensitivities, self.interactions,
                           self.atom_layers, self.cutoff, self.soft_min, self.soft_max)
        model = model.to(dtype=getattr(torch, self.dtype), device=self.device)
        return model.load_arrays(self.state()).use_kernel("numba" if self.device == "cpu" else "torch")

    def evaluator(self, molecule):
        return HIPNNEvaluator(self, molecule)

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.parameters is None:
            return text
        size = sum(a.size for a in self.parameters.values())
        head = text[:text.index("parameters=")]
        return f"{head}parameters=<{len(self.parameters)} arrays, {size} values>, seed={self.seed})"


def _species(value) -> tuple:
    from ase.data import atomic_numbers

    if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
        raise _E(f"species = {v.show(value)} is not allowed: give the element symbols the model knows, "
                 "e.g. ('H', 'C', 'N', 'O').")
    for k, s in enumerate(value):
        if not isinstance(s, str) or s not in atomic_numbers or s == "X":
            raise _E(f"species[{k}] = {v.show(s)} is not allowed: give an element symbol such as 'C'.")
    if len(set(value)) != len(value):
        raise _E(f"species = {v.show(value)} is not allowed: each element may appear once.")
    return tuple(value)


def _parameters(value, shapes: dict) -> dict:
    if not isinstance(value, dict):
        raise _E(f"parameters = {v.show(value)} is not allowed: give a dict of parameter name -> array "
                 "(HIPNN.shapes() lists them) or None for seeded initial weights.")
    missing = [k for k in shapes if k not in value]
    unknown = [k for k in value if k not in shapes]
    if missing or unknown:
        raise _E(f"parameters is not allowed: it misses {missing[:4]}{'...' if len(missing) > 4 else ''} and has "
                 f"unknown {unknown[:4]}{'...' if len(unknown) > 4 else ''}; the names and shapes must be "
                 "those of HIPNN.shapes() for these features, sensitivities, interactions, atom_layers and "
                 "species.")
    out = {}
    for name, shape in shapes.items():
        array = value[name]
        if _is_tensor(array):
            array = array.detach().cpu().double().numpy()
        out[name] = v.real_array(f"parameters[{name!r}]", array, shape=shape, error=_E)
    sigma_mu = [k for k in shapes if k.endswith(("sensitivity.mu", "sensitivity.sigma"))]
    for name in sigma_mu:
        if np.any(out[name] == 0):
            raise _E(f"parameters[{name!r}] = {v.show(out[name])} is not allowed: sensitivity centres and "
                     "widths must be nonzero.")
    return out


def _is_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


class HIPNNEvaluator(Evaluator):
    """A HIP-NN bound to a molecule: the torch model, the species indices, cell and periodicity."""

    def __init__(self, solver: HIPNN, molecule):
        unknown = sorted(set(molecule.species) - set(solver.species))
        if unknown:
            raise tk.InvalidProblemError(
                f"species = {unknown} is not allowed with this HIPNN: it knows {list(solver.species)}; "
                "train a model that includes these elements.")
        index = {s: k for k, s in enumerate(solver.species)}
        self.solver = solver
        self.species = np.array([index[s] for s in molecule.species], dtype=np.int64)
        self.cell = molecule.cell
        self.pbc = molecule.pbc if molecule.cell is not None else (False,) * 3
        self.model = solver.model().requires_grad_(False)   # inference: gradients in positions only

    def pairs(self, positions):
        from .pairs import directed_pairs

        return directed_pairs(positions, self.cell, self.pbc, self.solver.cutoff)

    def compute(self, positions):
        from .model import evaluate

        x = np.asarray(positions, dtype=np.float64)
        if x.shape != (self.species.size, 3):
            raise ValueError(f"positions must be an ({self.species.size}, 3) array, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            return float("nan"), np.full(x.shape, np.nan), np.zeros((3, 3))
        first, second, shift = self.pairs(x)
        energy, forces, virial, _ = evaluate(self.model, self.species, x, first, second, shift,
                                             device=self.solver.device)
        return energy, forces, virial

    def block_energies(self, positions) -> np.ndarray:
        """``E_b`` (eV) of every block ``b = 0..B``; their sum is the energy."""
        from .model import evaluate

        x = np.asarray(positions, dtype=np.float64)
        first, second, shift = self.pairs(x)
        return evaluate(self.model, self.species, x, first, second, shift, forces=False,
                        device=self.solver.device)[3]

    def hierarchicality(self, positions) -> float:
        """``sum_{b>=1} E_b^2 / (E_b^2 + E_{b-1}^2)`` of this configuration."""
        import torch

        from .model import hierarchicality

        return float(hierarchicality(torch.as_tensor(self.block_energies(positions))[None])[0])


@dispatch
def _solve(problem: PotentialEnergy, solver: HIPNN) -> PotentialEnergySolution:
    return potential_energy(problem, solver)


@dispatch
def _init(problem: PotentialEnergy, solver: HIPNN) -> PotentialCache:
    return potential_cache(problem, solver)
