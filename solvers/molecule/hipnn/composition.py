"""E_0 of HIP-NN: per-species energies fitted to molecular energies by composition (no torch)."""

from __future__ import annotations

import numpy as np

__all__ = ["fit_composition", "species_counts"]


def fit_composition(species_counts, energies) -> np.ndarray:
    """Least-squares per-species energies ``e`` minimising ``||C e - E||^2`` (float64).

    ``species_counts`` ``(M, S)``: atoms of each model species in each of ``M`` molecules;
    ``energies`` ``(M,)`` eV. The minimum-norm solution when ``C`` is rank deficient (a species
    absent from the data gets 0). This is HIP-NN's ``E_0`` (``readout.0.weight``).
    """
    c = np.asarray(species_counts, dtype=np.float64)
    e = np.asarray(energies, dtype=np.float64)
    if c.ndim != 2 or e.shape != (c.shape[0],):
        raise ValueError(f"species_counts must be (M, S) and energies (M,): got {c.shape} and {e.shape}")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(e))):
        raise ValueError("species_counts and energies must be finite")
    return np.linalg.lstsq(c, e, rcond=None)[0]


def species_counts(species_lists, species: tuple) -> np.ndarray:
    """``(M, S)`` counts of each of ``species`` (symbols, one-hot order) in each of ``M`` molecules
    given as sequences of element symbols; an element outside ``species`` raises ValueError."""
    index = {s: k for k, s in enumerate(species)}
    out = np.zeros((len(species_lists), len(species)))
    for m, symbols in enumerate(species_lists):
        for s in symbols:
            if s not in index:
                raise ValueError(f"molecule {m} holds {s!r}, which is not among the species {list(species)}")
            out[m, index[s]] += 1
    return out
