"""``HIPNNTraining``: fitting a HIP-NN to a dataset as a solve (``FitPotential``).

``tk.init(FitPotential(dataset), HIPNNTraining(model=HIPNN(...)))`` returns a
:class:`TrainingIntegrator`; one step is one epoch, so training gets the core's progress bar
(one tick per epoch), callbacks, atomic checkpoints and ``tk.resume`` (bit-identical on CPU: the
weights, Adam's moments, the learning rate, the shuffling generator, the best weights and the
stopping counters are the state).

Before the first epoch the per-species energies ``E_0`` are the least-squares composition fit on
the training part (:func:`.composition.fit_composition`; Lubbers et al. 2018, hippynn's
``set_e0_values`` with ``trainable_after=False``) and stay fixed: the network learns the
residual ``E - E_0``, which keeps float32 training accurate. Each epoch shuffles the training
part (NumPy PCG64 stream of ``seed``), and for each mini-batch of ``batch`` structures takes one
Adam step (Kingma & Ba, arXiv:1412.6980) on

    L = RMSE_E + MAE_E + force_weight (RMSE_F + MAE_F)                    (the problem's error loss)
        + hierarchicality_weight * mean_m H_m + l2 * sum ||W||^2          (regularisation)

with ``H_m = sum_{b>=1} E_b^2 / (E_b^2 + E_{b-1}^2)`` the hierarchicality of structure ``m`` and
``W`` the weight matrices of the interaction and on-site layers (as hippynn's QM7 example). Forces
are ``-dE/dx`` by autograd with a graph for the second derivative (``kernel="torch"``); energy-only
training on CPU, where the distances are constants, runs the sensitivities and the environment sum
through the fused numba kernels of :mod:`.kernels` (:class:`.model.SensitivityEnvSum`: gradients
of ``mu``, ``sigma`` and the features as reductions over pairs, no pairs x sensitivities x
features array).

After each epoch the error loss on the validation part decides: a new best keeps the weights
(the trained potential is the best epoch's; with ``keep="last"`` the last epoch's, which is what a
warm start on new data wants: scored on a small validation part, the starting weights, which have
not seen the new data, can win every epoch and the new labels would be thrown away);
``schedule="plateau"`` multiplies the learning rate by ``decay_factor`` after ``decay_patience``
epochs without a relative improvement of 1e-4; ``patience`` epochs without a new best end the run
early (``ReturnCode.Success``, with a message).
A non-finite loss or weight stops the run with ``ReturnCode.Unstable`` at that epoch, the state
rolled back to the epoch's start and the potential the best finite one.

``seed`` draws the initial weights (unless ``model.parameters`` holds weights to start from) and
the shuffling: ``SeedSequence(seed).spawn(2)``. A committee is an ``tk.EnsembleProblem`` of the
problem solved with this solver: the core gives each member its own ``seed``.
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from problems.datasets import KCAL_MOL_EV, FitPotential
from problems.molecule import PotentialEnergy
from toolkit import memory
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .composition import fit_composition
from .fit_solution import PotentialFit
from .layout import initial_parameters
from .potential import HIPNN

__all__ = ["HIPNNTraining", "TrainingIntegrator"]

_E = tk.InvalidSolverError
#: Structures per evaluation batch (validation and test; no optimiser step).
EVAL_BATCH = 256
#: Relative improvement of the validation loss that resets the plateau counter.
PLATEAU_THRESHOLD = 1e-4


class HIPNNTraining(tk.Solver):
    """Train a HIP-NN on a :class:`~problems.datasets.FitPotential` (module docstring).

    ``model``: the architecture (features, sensitivities, interactions, atom_layers, cutoff,
    soft_min, soft_max, species) as a :class:`HIPNN`; its ``parameters``, when given, are the
    starting weights (fine-tuning), and the returned potential keeps its ``dtype`` and ``device``
    for inference. ``epochs`` (steps of the run), ``batch`` (structures per Adam step),
    ``learning_rate``, ``schedule`` ("plateau" or "constant") with ``decay_factor`` and
    ``decay_patience``, ``patience`` (early stopping; None: never), ``hierarchicality_weight``,
    ``l2``, ``seed``, ``dtype`` ("float32" or "float64", the training precision), ``device``
    ("cpu" or "cuda") and ``keep`` ("best": the best validation epoch's weights, the starting weights
    included; "last": the last epoch's).
    """

    model: HIPNN = HIPNN()
    epochs: int = 100
    batch: int = 64
    learning_rate: float = 1e-3
    schedule: str = "plateau"
    decay_factor: float = 0.5
    decay_patience: int = 10
    patience: int | None = 30
    hierarchicality_weight: float = 0.01
    l2: float = 1e-6
    seed: int = 0
    dtype: str = "float32"
    device: str = "cpu"
    keep: str = "best"

    stochastic = True
    supports_step = True
    held_solvers = {"model": PotentialEnergy}

    def _validate(self):
        if not isinstance(self.model, HIPNN):
            raise _E(f"model = {v.show(self.model)} is not allowed: give the architecture to train as a "
                     "HIPNN(features=..., sensitivities=..., interactions=..., species=...)")
        self._set("epochs", v.integer("epochs", self.epochs, lower=1, upper=10 ** 7, error=_E))
        self._set("batch", v.integer("batch", self.batch, lower=1, upper=10 ** 6, error=_E))
        self._set("learning_rate", v.real_scalar("learning_rate", self.learning_rate, lower=0.0, lower_open=True,
                                                 upper=1e6, error=_E))
        self._set("schedule", v.choice("schedule", self.schedule, ("plateau", "constant"), error=_E))
        self._set("decay_factor", v.real_scalar("decay_factor", self.decay_factor, lower=0.0, lower_open=True,
                                                upper=1.0, error=_E))
        self._set("decay_patience", v.integer("decay_patience", self.decay_patience, lower=1, upper=10 ** 7,
                                              error=_E))
        self._set("patience", v.integer("patience", self.patience, lower=1, upper=10 ** 7, allow_none=True,
                                        error=_E))
        self._set("hierarchicality_weight", v.real_scalar("hierarchicality_weight", self.hierarchicality_weight,
                                                          lower=0.0, upper=1e6, error=_E))
        self._set("l2", v.real_scalar("l2", self.l2, lower=0.0, upper=1e6, error=_E))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2 ** 63 - 1, error=_E))
        self._set("dtype", v.choice("dtype", self.dtype, ("float32", "float64"), error=_E))
        self._set("device", v.choice("device", self.device, ("cpu", "cuda"), error=_E))
        self._set("keep", v.choice("keep", self.keep, ("best", "last"), error=_E))

    @classmethod
    def example(cls) -> "HIPNNTraining":
        """A tiny model and two epochs (for the compatibility tests)."""
        return cls(model=HIPNN(features=4, sensitivities=4, interactions=1, atom_layers=1, cutoff=4.0,
                               soft_min=0.7, soft_max=3.0, species=("H", "O")), epochs=2, batch=8)


def _seeds(seed: int) -> tuple[int, np.random.SeedSequence]:
    """(initial-weight seed, shuffling seed sequence) of a training ``seed``."""
    weights, shuffle = np.random.SeedSequence(seed).spawn(2)
    return int(weights.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)), shuffle


class _Part:
    """One split as tensors on the training device (pair list built once; :mod:`.batches`)."""

    def __init__(self, graph, e0: np.ndarray, dtype, device, forces: bool):
        import torch

        self.graph = graph
        self.n = len(graph)
        self.composition = graph.counts @ e0                       # float64, E_0 of each structure
        self.residual = torch.as_tensor(graph.energies - self.composition, dtype=dtype, device=device)
        self.species = torch.as_tensor(graph.species, device=device)
        self.separations = torch.as_tensor(graph.separations, dtype=dtype, device=device)
        self.distances = torch.linalg.vector_norm(self.separations, dim=1)
        self.forces = torch.as_tensor(graph.forces, dtype=dtype, device=device) if forces else None
        self.device = device

    def tensors(self, batch):
        import torch

        device = self.device
        return (torch.from_numpy(batch.atoms).to(device), torch.from_numpy(batch.pairs).to(device),
                torch.from_numpy(batch.first).to(device), torch.from_numpy(batch.second).to(device),
                torch.from_numpy(batch.molecule).to(device), torch.from_numpy(batch.structures).to(device))


class TrainingIntegrator(tk.Integrator):
    """The state of a HIP-NN training run; one step is one epoch (module docstring)."""

    def __init__(self, problem: FitPotential, solver: HIPNNTraining):
        super().__init__(problem, solver)
        import torch

        from .batches import PairGraph

        self.stopped = False
        model = solver.model
        missing = sorted(set(problem.dataset.composition()[1].tolist()) - _numbers(model.species))
        if missing:
            from ase.data import chemical_symbols

            raise tk.InvalidProblemError(
                f"dataset holds {[chemical_symbols[z] for z in missing]}, which the model's species "
                f"{list(model.species)} lack: give HIPNNTraining(model=HIPNN(species=...)) every element")
        if solver.device == "cuda" and not torch.cuda.is_available():
            raise tk.InvalidSolverError("device = 'cuda' is not allowed here: torch sees no CUDA device; use "
                                        "device='cpu'.")
        self.dtype = getattr(torch, solver.dtype)
        self.device = torch.device(solver.device)
        self.forces = "forces" in problem.targets
        train, validation, test = problem.splits()
        graphs = [PairGraph(part, model.species, model.cutoff) if part is not None else None
                  for part in (train, validation, test)]
        self.e0 = fit_composition(graphs[0].counts, graphs[0].energies)
        self.parts = [_Part(g, self.e0, self.dtype, self.device, self.forces) if g is not None else None
                      for g in graphs]
        init_seed, shuffle = _seeds(solver.seed)
        if model.parameters is not None:
            start = dict(model.parameters)
        else:
            start = initial_parameters(len(model.species), model.features, model.sensitivities, model.interactions,
                                       model.atom_layers, model.soft_min, model.soft_max, init_seed)
        start["readout.0.weight"] = self.e0.reshape(1, -1)
        self.net = self._network(start, "torch" if self.forces or self.device.type != "cpu" else "numba")
        self.net.readout[0].weight.requires_grad_(False)            # E_0 stays the composition fit
        self.names = [name for name, p in self.net.named_parameters() if p.requires_grad]
        params = dict(self.net.named_parameters())
        self.trainable = [params[name] for name in self.names]
        self.regularised = [params[name] for name in self.names
                            if name.startswith("blocks.") and name.rsplit(".", 1)[1] in ("weight", "weights")]
        self.optimizer = _adam(self.trainable, solver.learning_rate, self.device)
        self.rng = np.random.default_rng(shuffle)
        self.curves = {k: [] for k in ("train_loss", "validation_loss", "train_mae", "validation_mae",
                                       "validation_force_mae", "learning_rate")}
        self.stats.update(train_time=0.0, structures_trained=0)
        loss, _, _ = self._evaluate(self.parts[1], self.net)
        if not np.isfinite(loss):
            raise tk.InvalidProblemError(f"dataset gives a non-finite validation loss ({loss}) before training: "
                                         "the energies or forces are out of the model's float range")
        self.best = self.net.arrays()
        self.best_loss, self.best_epoch, self.bad_epochs = loss, 0, 0
        self.plateau_best, self.plateau_epochs = loss, 0
        self._fit = None

    # -- the network ---------------------------------------------------------------------
    def _network(self, arrays, kernel):
        from .model import HIPNNModel

        model = self.solver.model
        net = HIPNNModel(len(model.species), model.features, model.sensitivities, model.interactions,
                         model.atom_layers, model.cutoff, model.soft_min, model.soft_max)
        net = net.to(dtype=self.dtype, device=self.device).load_arrays(arrays)
        return net.use_kernel(kernel)

    @property
    def total_steps(self) -> int:
        return self.solver.epochs

    @property
    def done(self) -> bool:
        return getattr(self, "stopped", False) or super().done

    def _predict(self, part: _Part, batch, net, graph: bool):
        """``(residual energies (m,), block energies (m, B+1), forces (n, 3) or None, atom rows)``."""
        import torch

        from .model import hierarchicality

        atoms, pairs, first, second, molecule, structures = part.tensors(batch)
        species = part.species.index_select(0, atoms)
        if self.forces:
            d = part.separations.index_select(0, pairs).requires_grad_(True)
            r = torch.linalg.vector_norm(d, dim=1)
        else:
            r = part.distances.index_select(0, pairs)
        with torch.enable_grad() if (graph or self.forces) else torch.no_grad():
            atom_blocks = net(species, first, second, r)
            blocks = atom_blocks.new_zeros((batch.m, atom_blocks.shape[1])).index_add_(0, molecule, atom_blocks)
            residual = blocks[:, 1:].sum(dim=1)
            forces = None
            if self.forces:
                (g,) = torch.autograd.grad(residual.sum(), d, create_graph=graph)
                forces = torch.zeros((atoms.shape[0], 3), dtype=g.dtype, device=g.device)
                forces = forces.index_add(0, first, g).index_add(0, second, -g)
        return residual, blocks, forces, atoms, structures, hierarchicality

    def _error_loss(self, part, residual, forces, atoms, structures):
        """``(error loss tensor, sum |E err|, sum |F err|, force components)`` of one batch."""
        import torch

        err = residual - part.residual.index_select(0, structures)
        loss = torch.sqrt(torch.mean(err * err) + 1e-30) + torch.mean(torch.abs(err))
        abs_e = float(torch.sum(torch.abs(err.detach())))
        abs_f, comps = 0.0, 0
        if self.forces:
            ferr = forces - part.forces.index_select(0, atoms)
            loss = loss + self.problem.force_weight * (torch.sqrt(torch.mean(ferr * ferr) + 1e-30) +
                                                       torch.mean(torch.abs(ferr)))
            abs_f, comps = float(torch.sum(torch.abs(ferr.detach()))), ferr.numel()
        return loss, abs_e, abs_f, comps

    def _evaluate(self, part, net) -> tuple[float, float, float]:
        """``(error loss, energy MAE, force MAE)`` of ``part`` (batches of :data:`EVAL_BATCH`; the loss
        is the structure-weighted mean of the batch losses)."""
        total, abs_e, abs_f, comps = 0.0, 0.0, 0.0, 0
        for start in range(0, part.n, EVAL_BATCH):
            batch = part.graph.batch(np.arange(start, min(start + EVAL_BATCH, part.n)))
            residual, _, forces, atoms, structures, _ = self._predict(part, batch, net, graph=False)
            loss, e, f, c = self._error_loss(part, residual.detach(), None if forces is None else forces.detach(),
                                             atoms, structures)
            total += float(loss) * batch.m
            abs_e, abs_f, comps = abs_e + e, abs_f + f, comps + c
        return total / part.n, abs_e / part.n, (abs_f / comps if comps else 0.0)

    # -- one epoch -------------------------------------------------------------------------
    def _epoch(self) -> bool:
        import torch

        part, solver = self.parts[0], self.solver
        order = self.rng.permutation(part.n)
        total, abs_e = 0.0, 0.0
        t0 = time.perf_counter()
        for start in range(0, part.n, solver.batch):
            batch = part.graph.batch(order[start:start + solver.batch])
            residual, blocks, forces, atoms, structures, hier = self._predict(part, batch, self.net, graph=True)
            loss, e, _, _ = self._error_loss(part, residual, forces, atoms, structures)
            if solver.hierarchicality_weight:
                loss = loss + solver.hierarchicality_weight * torch.mean(hier(blocks))
            if solver.l2:
                loss = loss + solver.l2 * sum(torch.sum(w * w) for w in self.regularised)
            value = float(loss.detach())
            if not np.isfinite(value):
                self.message = f"the training loss became {value} in epoch {self.step_index + 1}; lower learning_rate"
                return False
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += value * batch.m
            abs_e += e
        self.stats["train_time"] += time.perf_counter() - t0
        self.stats["structures_trained"] += part.n
        if not all(bool(torch.isfinite(p).all()) for p in self.trainable):
            self.message = f"the weights became non-finite in epoch {self.step_index + 1}; lower learning_rate"
            return False
        loss, mae, force_mae = self._evaluate(self.parts[1], self.net)
        if not np.isfinite(loss):
            self.message = f"the validation loss became {loss} in epoch {self.step_index + 1}; lower learning_rate"
            return False
        epoch = self.step_index + 1
        lr = self.optimizer.param_groups[0]["lr"]
        for key, value in (("train_loss", total / part.n), ("validation_loss", loss), ("train_mae", abs_e / part.n),
                           ("validation_mae", mae), ("validation_force_mae", force_mae), ("learning_rate", lr)):
            self.curves[key].append(value)
        if loss < self.best_loss or solver.keep == "last":
            self.best, self.best_loss, self.best_epoch, self.bad_epochs = self.net.arrays(), loss, epoch, 0
        else:
            self.bad_epochs += 1
        if loss < self.plateau_best * (1.0 - PLATEAU_THRESHOLD):
            self.plateau_best, self.plateau_epochs = loss, 0
        else:
            self.plateau_epochs += 1
            if solver.schedule == "plateau" and self.plateau_epochs >= solver.decay_patience:
                for group in self.optimizer.param_groups:
                    group["lr"] = group["lr"] * solver.decay_factor
                self.plateau_epochs = 0
        if solver.patience is not None and self.bad_epochs >= solver.patience:
            self.stopped = True
            self.message = (f"stopped early after epoch {epoch}: the validation loss has not improved for "
                            f"{solver.patience} epochs (best: epoch {self.best_epoch})")
        return True

    def _advance(self, n: int) -> int:
        for k in range(n):
            snapshot = self._state()
            if not self._epoch():
                why = self.message
                self._load_state(snapshot)          # back to the last good state
                self.message = why
                return k
            self._fit = None
            if self.stopped:
                return k + 1
        return n

    # -- checkpoints ---------------------------------------------------------------------
    def _state(self) -> dict:
        adam = {}
        params = dict(self.net.named_parameters())
        for name in self.names:
            entry = self.optimizer.state.get(params[name])
            if entry:
                adam[name] = {"step": float(entry["step"]), "exp_avg": _numpy(entry["exp_avg"]),
                              "exp_avg_sq": _numpy(entry["exp_avg_sq"])}
        return {"weights": {name: _numpy(p) for name, p in self.net.named_parameters()}, "adam": adam,
                "lr": float(self.optimizer.param_groups[0]["lr"]), "rng": self.rng.bit_generator.state,
                "best": {k: a.copy() for k, a in self.best.items()}, "best_loss": float(self.best_loss),
                "best_epoch": int(self.best_epoch), "bad_epochs": int(self.bad_epochs),
                "plateau_best": float(self.plateau_best), "plateau_epochs": int(self.plateau_epochs),
                "stopped": bool(self.stopped), "message": self.message,
                "curves": {k: np.array(c, dtype=np.float64) for k, c in self.curves.items()},
                "train_time": float(self.stats.get("train_time", 0.0)),
                "structures_trained": int(self.stats.get("structures_trained", 0))}

    def _load_state(self, state: dict) -> None:
        import torch

        from .checks import checked_training_state

        state = checked_training_state(state, self)
        with torch.no_grad():
            params = dict(self.net.named_parameters())
            for name, array in state["weights"].items():
                params[name].copy_(torch.from_numpy(array))
        self.optimizer.state.clear()
        for name, entry in state["adam"].items():
            p = params[name]
            self.optimizer.state[p] = {
                "step": torch.tensor(entry["step"], dtype=torch.float32),
                "exp_avg": torch.from_numpy(entry["exp_avg"]).to(self.device).clone(),
                "exp_avg_sq": torch.from_numpy(entry["exp_avg_sq"]).to(self.device).clone()}
        for group in self.optimizer.param_groups:
            group["lr"] = state["lr"]
        self.rng.bit_generator.state = state["rng"]
        self.best = state["best"]
        self.best_loss, self.best_epoch, self.bad_epochs = state["best_loss"], state["best_epoch"], state["bad_epochs"]
        self.plateau_best, self.plateau_epochs = state["plateau_best"], state["plateau_epochs"]
        self.stopped = state["stopped"]
        self.message = state["message"]
        self.curves = {k: list(c) for k, c in state["curves"].items()}
        self.stats["train_time"] = state["train_time"]
        self.stats["structures_trained"] = state["structures_trained"]
        self._fit = None

    # -- the solution ----------------------------------------------------------------------
    def _test(self):
        """Test energies, forces and metrics of the best weights (cached until the next epoch)."""
        if self._fit is not None:
            return self._fit
        part = self.parts[2]
        n_train, n_val = self.parts[0].n, self.parts[1].n
        metrics = {"n_train": n_train, "n_validation": n_val, "n_test": 0 if part is None else part.n}
        empty = (np.zeros(0), np.zeros(0), np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))
        if part is None:
            self._fit = empty + (metrics,)
            return self._fit
        net = self._network(self.best, "numba" if self.device.type == "cpu" else "torch").requires_grad_(False)
        residual, forces = [], []
        for start in range(0, part.n, EVAL_BATCH):
            batch = part.graph.batch(np.arange(start, min(start + EVAL_BATCH, part.n)))
            r, _, f, _, _, _ = self._predict(part, batch, net, graph=False)
            residual.append(r.detach().cpu().to(dtype=_f64()).numpy())
            if f is not None:
                forces.append(f.detach().cpu().to(dtype=_f64()).numpy())
        reference = part.graph.energies
        predicted = part.composition + np.concatenate(residual)
        error = predicted - reference
        metrics.update(energy_mae=float(np.mean(np.abs(error))), energy_rmse=float(np.sqrt(np.mean(error ** 2))),
                       composition_mae=float(np.mean(np.abs(part.composition - reference))))
        metrics.update(energy_mae_kcal_mol=metrics["energy_mae"] / KCAL_MOL_EV,
                       energy_rmse_kcal_mol=metrics["energy_rmse"] / KCAL_MOL_EV)
        f_ref = f_pred = np.zeros((0, 3))
        if self.forces:
            f_ref, f_pred = part.graph.forces, np.concatenate(forces)
            metrics.update(force_mae=float(np.mean(np.abs(f_pred - f_ref))),
                           force_rmse=float(np.sqrt(np.mean((f_pred - f_ref) ** 2))))
        self._fit = (reference.copy(), predicted, part.composition.copy(), np.array(f_ref), f_pred, metrics)
        return self._fit

    def solution(self) -> PotentialFit:
        reference, predicted, composition, f_ref, f_pred, metrics = self._test()
        weights = {k: a.copy() for k, a in self.best.items()}
        weights["readout.0.weight"] = self.e0.reshape(1, -1).copy()      # E_0 in float64, whatever the dtype
        potential = tk.remake(self.solver.model, parameters=weights)
        curves = {k: np.array(c, dtype=np.float64) for k, c in self.curves.items()}
        if not self.forces:
            curves["validation_force_mae"] = np.zeros(0)
        common = self._common()
        stats = common["stats"]
        epochs = len(curves["train_loss"])
        if epochs:
            stats["seconds_per_epoch"] = stats["train_time"] / epochs
            stats["structures_per_second"] = stats["structures_trained"] / max(stats["train_time"], 1e-12)
        return PotentialFit(**common, potential=potential, species_energies=self.e0.copy(),
                            epoch=np.arange(1, epochs + 1, dtype=np.int64), best_epoch=int(self.best_epoch),
                            test_energy=reference, test_predicted=predicted, test_composition=composition,
                            test_forces=f_ref, test_forces_predicted=f_pred, metrics=dict(metrics), **curves)


def _adam(params, lr, device):
    """Adam over ``params``. On CPU torch's fused implementation (one kernel for all tensors;
    torch >= 2.4), else its multi-tensor ("foreach") one: the same algorithm as the default one,
    with less overhead per step (a few per cent of an epoch). Elsewhere torch's default."""
    import torch

    if device.type != "cpu":
        return torch.optim.Adam(params, lr=lr)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):          # torch < 2.4: no fused Adam on CPU
        return torch.optim.Adam(params, lr=lr, foreach=True)


def _f64():
    import torch

    return torch.float64


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().copy()


def _numbers(symbols) -> set:
    from ase.data import atomic_numbers

    return {atomic_numbers[s] for s in symbols}


@dispatch
def _init(problem: FitPotential, solver: HIPNNTraining) -> TrainingIntegrator:
    return TrainingIntegrator(problem, solver)


#: Densest packing assumed for periodic structures (atoms per Å^3; about twice solid densities).
_MAX_DENSITY = 0.25


@memory.estimate.dispatch
def _(problem: FitPotential, solver: HIPNNTraining) -> dict:
    """Bytes of a run: the pair lists of every structure (separations, distances, indices), the
    atom arrays, and one mini-batch's activations (pairs x sensitivities x features per block,
    kept for the backward pass, three times over with forces)."""
    ds, model = problem.dataset, solver.model
    n_atoms = ds.n_atoms.astype(np.float64)
    sphere = _MAX_DENSITY * 4.0 / 3.0 * np.pi * model.cutoff ** 3
    per_atom = np.where(ds.periodic, sphere, np.minimum(n_atoms - 1, sphere))
    pairs = n_atoms * per_atom
    width = 8 if solver.dtype == "float64" else 4
    biggest = np.sort(pairs)[::-1][:min(solver.batch, len(pairs))].sum()
    depth = 3 if "forces" in problem.targets else 1
    return {"pair lists": int(pairs.sum() * (3 * 8 + 2 * 8 + 4 * width)),
            "atoms": int(n_atoms.sum() * (8 * 8)),
            "batch activations": int(depth * biggest * model.sensitivities * model.features * width *
                                     model.interactions * 2)}
