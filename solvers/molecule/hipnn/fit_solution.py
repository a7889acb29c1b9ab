"""``PotentialFit``: what a training run of a learned potential returns.

The trained potential (a :class:`~solvers.molecule.hipnn.HIPNN` with ``parameters`` filled: the
weights of the epoch with the lowest validation error), the per-species energies ``E_0`` fitted on
the training part, per-epoch learning curves, and the test part's energies (reference, model,
composition-only) and forces with summary metrics. Saved and loaded by ``tk.save`` / ``tk.load``
as plain arrays (no pickle).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit.conventions import attrs, index

__all__ = ["PotentialFit"]


class PotentialFit(tk.Solution):
    """A fitted potential, its learning curves and its test metrics.

    * ``potential`` — the trained potential (weights of ``best_epoch``; epoch 0 is the untrained
      network on top of ``E_0``);
    * ``species_energies`` — ``E_0`` per model species (eV), the composition least-squares fit on
      the training part;
    * ``epoch``, ``train_loss``, ``validation_loss``, ``train_mae``, ``validation_mae`` (eV per
      structure), ``learning_rate`` — one entry per finished epoch; ``validation_force_mae``
      (eV/Å) likewise when forces are fitted, else empty. ``train_*`` are averages over the
      epoch's mini-batches (the weights change during the epoch); ``validation_*`` are measured
      after it; the losses are the problem's error loss (training adds the regularisation);
    * ``test_energy``, ``test_predicted``, ``test_composition`` — reference, model and
      ``E_0``-only energies of the test structures (eV); ``test_forces``, ``test_forces_predicted``
      (eV/Å, one row per atom; empty without forces);
    * ``metrics`` — ``energy_mae``, ``energy_rmse`` (eV), ``energy_mae_kcal_mol``,
      ``energy_rmse_kcal_mol``, ``composition_mae`` (eV), ``force_mae``, ``force_rmse`` (eV/Å,
      when fitted) on the test part, and ``n_train``, ``n_validation``, ``n_test``.
    """

    potential: object
    species_energies: np.ndarray
    epoch: np.ndarray
    train_loss: np.ndarray
    validation_loss: np.ndarray
    train_mae: np.ndarray
    validation_mae: np.ndarray
    validation_force_mae: np.ndarray
    learning_rate: np.ndarray
    best_epoch: int
    test_energy: np.ndarray
    test_predicted: np.ndarray
    test_composition: np.ndarray
    test_forces: np.ndarray
    test_forces_predicted: np.ndarray
    metrics: dict

    dims = {"species_energies": ("species",), "epoch": ("epoch",), "train_loss": ("epoch",),
            "validation_loss": ("epoch",), "train_mae": ("epoch",), "validation_mae": ("epoch",),
            "validation_force_mae": ("force_epoch",), "learning_rate": ("epoch",),
            "test_energy": ("test_structure",), "test_predicted": ("test_structure",),
            "test_composition": ("test_structure",), "test_forces": ("test_atom", "xyz"),
            "test_forces_predicted": ("test_atom", "xyz")}
    compare_fields = ("test_predicted",)
    cf = {"species_energies": attrs("eV", "per-species energy E_0"), "epoch": index("epoch"),
          "train_loss": attrs("eV", "training loss RMSE_E + MAE_E + w (RMSE_F + MAE_F)"),
          "validation_loss": attrs("eV", "validation loss RMSE_E + MAE_E + w (RMSE_F + MAE_F)"),
          "train_mae": attrs("eV", "training energy MAE per structure"),
          "validation_mae": attrs("eV", "validation energy MAE per structure"),
          "validation_force_mae": attrs("eV/Å", "validation force MAE"),
          "learning_rate": attrs("1", "learning rate"), "test_energy": attrs("eV", "reference energy"),
          "test_predicted": attrs("eV", "model energy"), "test_composition": attrs("eV", "composition-only energy"),
          "test_forces": attrs("eV/Å", "reference force"), "test_forces_predicted": attrs("eV/Å", "model force"),
          "force_epoch": index("epoch with force validation"), "test_structure": index("test structure"),
          "test_atom": index("atom of the test structures")}

    def _coordinates(self):
        species = np.array(self.potential.species, dtype=str)
        if species.size != self.species_energies.size:
            return {}
        return {"species": ("species", species, index("element symbol"))}

    def to_xarray(self):
        data = super().to_xarray()
        for key, value in self.metrics.items():
            data.attrs[f"test_{key}"] = value
        data.attrs["species"] = ",".join(self.potential.species)
        return data

    def plot(self, ax=None):
        """Learning curves (MAE per epoch, log scale), test parity plot and test error histogram.

        ``ax``: three matplotlib axes, or None for a new figure. Returns the axes.
        """
        from matplotlib.ticker import MaxNLocator

        from toolkit.plotting import COUNT, REFERENCE_STYLE, finish, label, new_axes

        fig, ax, created = new_axes(ax, figsize=(13, 3.8), ncols=3)
        curve, parity, hist = ax
        if self.epoch.size:
            curve.semilogy(self.epoch, self.train_mae, label="training MAE")
            curve.semilogy(self.epoch, self.validation_mae, label="validation MAE")
            curve.axvline(self.best_epoch, color="0.6", ls=":", label=f"best epoch {self.best_epoch}")
            curve.legend(fontsize=8)
        curve.set(xlabel=label("epoch", COUNT), ylabel=label("energy MAE", "eV"), title="learning curve")
        parity.set_title("test parity")
        if self.test_energy.size:
            lo = float(min(self.test_energy.min(), self.test_predicted.min()))
            hi = float(max(self.test_energy.max(), self.test_predicted.max()))
            parity.plot([lo, hi], [lo, hi], label="perfect prediction y = x", **REFERENCE_STYLE)
            parity.scatter(self.test_energy, self.test_predicted, s=6, label="test structures")
            parity.legend(fontsize=8)
            error = self.test_predicted - self.test_energy
            hist.hist(error * 1000.0, bins=40, color="C1")
            mae = self.metrics.get("energy_mae", float("nan"))
            parity.set_title(f"test parity: MAE {1000 * mae:.1f} meV ({self.metrics.get('energy_mae_kcal_mol', 0):.2f} "
                             "kcal/mol)", fontsize=9)
        parity.set(xlabel=label("reference energy", "eV"), ylabel=label("HIP-NN energy", "eV"))
        parity.xaxis.set_major_locator(MaxNLocator(4))       # long labels (-137.96 eV) must not collide
        hist.set(xlabel=label("test error", "meV"), ylabel=label("structures", COUNT), title="test error histogram")
        if created:
            finish(fig, "HIP-NN potential fit")
        return ax
