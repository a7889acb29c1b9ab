"""The names and shapes of a HIP-NN's parameters, and their seeded initial values (no torch).

A HIP-NN with ``S`` species, ``B`` interaction blocks of ``F`` features, ``n`` sensitivities and
``L`` on-site layers per block holds (``f_0 = S``, ``f_b = F``; shapes in brackets)::

    blocks.{b}.interaction.sensitivity.mu      [n]            Å
    blocks.{b}.interaction.sensitivity.sigma   [n]            Å
    blocks.{b}.interaction.weights             [n, F, f_b]    V (one matrix per sensitivity)
    blocks.{b}.interaction.self_term.weight    [F, f_b]       W
    blocks.{b}.interaction.self_term.bias      [F]
    blocks.{b}.interaction.residual.weight     [F, F]         ResNet output layer
    blocks.{b}.interaction.residual.bias       [F]
    blocks.{b}.interaction.adjust.weight       [F, f_b]       only where f_b != F (block 0)
    blocks.{b}.onsite.{k}.linear.weight        [F, F]
    blocks.{b}.onsite.{k}.linear.bias          [F]
    blocks.{b}.onsite.{k}.residual.weight      [F, F]
    blocks.{b}.onsite.{k}.residual.bias        [F]
    readout.0.weight                           [1, S]         E_0 per species (eV), no bias
    readout.{b+1}.weight                       [1, F]         eV
    readout.{b+1}.bias                         [1]            eV

These are the torch module's ``state_dict`` names (:mod:`.model`); the layout is hippynn's
``Hipnn`` (``resnet=True``) with ``HEnergy`` (see :func:`.model.from_hippynn`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["parameter_shapes", "initial_parameters"]


def parameter_shapes(n_species: int, features: int, sensitivities: int, interactions: int,
                     atom_layers: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter, in the module's order (see the module docstring)."""
    shapes: dict[str, tuple[int, ...]] = {}
    sizes = (n_species,) + (features,) * interactions
    for b in range(interactions):
        f_in, f = sizes[b], sizes[b + 1]
        p = f"blocks.{b}.interaction."
        shapes[p + "sensitivity.mu"] = (sensitivities,)
        shapes[p + "sensitivity.sigma"] = (sensitivities,)
        shapes[p + "weights"] = (sensitivities, f, f_in)
        shapes[p + "self_term.weight"] = (f, f_in)
        shapes[p + "self_term.bias"] = (f,)
        shapes[p + "residual.weight"] = (f, f)
        shapes[p + "residual.bias"] = (f,)
        if f_in != f:
            shapes[p + "adjust.weight"] = (f, f_in)
        for k in range(atom_layers):
            q = f"blocks.{b}.onsite.{k}."
            shapes[q + "linear.weight"] = (f, f)
            shapes[q + "linear.bias"] = (f,)
            shapes[q + "residual.weight"] = (f, f)
            shapes[q + "residual.bias"] = (f,)
    shapes["readout.0.weight"] = (1, n_species)
    for b in range(interactions):
        shapes[f"readout.{b + 1}.weight"] = (1, features)
        shapes[f"readout.{b + 1}.bias"] = (1,)
    return shapes


def initial_parameters(n_species: int, features: int, sensitivities: int, interactions: int,
                       atom_layers: int, soft_min: float, soft_max: float, seed: int) -> dict[str, np.ndarray]:
    """Seeded float64 initial values (NumPy's PCG64 stream of ``seed``, so any machine and dtype
    starts from the same numbers).

    Sensitivity centres ``mu`` are evenly spaced in ``1/r`` between ``1/soft_max`` and
    ``1/soft_min`` and every width ``sigma = 2 n soft_min`` (hippynn's convention); matrices that
    feed an activation are Xavier-normal (Glorot & Bengio 2010), residual, adjustment and read-out
    layers and all biases uniform in ``±1/sqrt(fan_in)`` (torch's ``Linear`` default).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in parameter_shapes(n_species, features, sensitivities, interactions, atom_layers).items():
        if name.endswith("sensitivity.mu"):
            value = 1.0 / np.linspace(1.0 / soft_max, 1.0 / soft_min, shape[0])
        elif name.endswith("sensitivity.sigma"):
            value = np.full(shape, 2.0 * shape[0] * soft_min)
        elif name.endswith(("interaction.weights", "self_term.weight", "linear.weight")):
            fan_in = int(np.prod(shape)) // shape[-2]      # n f_in for the interaction weights
            value = rng.normal(0.0, np.sqrt(2.0 / (fan_in + shape[-2])), size=shape)
        else:
            weight = name[:-len("bias")] + "weight" if name.endswith("bias") else name
            fan_in = _fan_in(weight, n_species, features)
            value = rng.uniform(-1.0, 1.0, size=shape) / np.sqrt(fan_in)
        out[name] = np.ascontiguousarray(value, dtype=np.float64)
    return out


def _fan_in(weight_name: str, n_species: int, features: int) -> int:
    if weight_name == "readout.0.weight" or (weight_name.startswith("blocks.0.interaction.") and
                                              weight_name.endswith("adjust.weight")):
        return n_species
    return features
