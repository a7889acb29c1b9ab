"""The HIP-NN torch module: Hierarchically Interacting Particle Neural Network.

Lubbers, Smith & Barros, "Hierarchical modeling of molecular energies using a deep neural
network", J. Chem. Phys. 148, 241715 (2018), doi:10.1063/1.5011181, arXiv:1710.00017, in the
form of its reference implementation ``hippynn`` (``Hipnn`` with ``resnet=True`` and
``HEnergy``), so that weights copy one to one (:func:`from_hippynn`).

Atom ``i`` starts from the one-hot encoding of its species, ``z_i^0``. Block ``b = 1..B``:

* sensitivities of a pair at distance ``r`` (Å), ``nu = 1..n``::

      s_nu(r) = exp[-(1/r - 1/mu_nu)^2 / (2 sigma_nu^-2)] * cos^2(pi r / 2 R_c) * [r <= R_c]

  with trainable ``mu_nu``, ``sigma_nu`` (Å);
* interaction layer (a ResNet unit)::

      a_i = sum_nu V_nu sum_{j in N(i)} s_nu(r_ij) z_j + W z_i + c
      z_i <- R softplus(a_i) + r + A z_i        (A only where the width changes)

* ``L`` on-site layers, each ``z_i <- R softplus(W z_i + c) + r + z_i``;

and the energy is read out after every block, ``eps_i^b = w_b . z_i^b + e_b`` (``eps_i^0 =
w_0 . z_i^0`` is the per-species energy ``E_0``, no bias)::

    E = sum_b E_b,   E_b = sum_i eps_i^b,
    hierarchicality H = sum_{b>=1} E_b^2 / (E_b^2 + E_{b-1}^2).

Forces ``-dE/dx`` and the virial come from one backward pass with respect to the pair
separation vectors ``d_p`` (``x_j - x_i + shift``; :mod:`.pairs`)::

    F_i = sum_{p: first=i} dE/dd_p - sum_{p: second=i} dE/dd_p,   W = -sum_p d_p (x) dE/dd_p,

the virial ``W = sum_{i<j} r_ij (x) F_ij`` of :mod:`solvers.molecule.potential`.

Two paths compute the sensitivities and the environment sum ``sum_j s_nu(r_ij) z_j``:
``kernel="torch"`` (default; any device, twice differentiable, for training on forces: a gather, a
product and an ``index_add`` over pairs, one sensitivity at a time for large systems) and
``kernel="numba"`` (:mod:`.kernels`, CPU, no pairs x sensitivities x features array). The numba
path has two forms: where ``r`` needs a gradient (forces, with constant ``mu`` and ``sigma``;
what ``HIPNN`` evaluators use on CPU) :class:`SensitivityKernel` and :class:`EnvSum`; where it
does not (energy-only training, energies) :class:`SensitivityEnvSum`, which fuses the two and
gives the gradients of ``mu``, ``sigma`` and the features.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as fn

from .composition import fit_composition
from .layout import initial_parameters, parameter_shapes

__all__ = ["HIPNNModel", "Sensitivity", "evaluate", "fit_composition", "hierarchicality", "from_hippynn",
           "molecule_sums"]

#: Above this many elements (pairs x sensitivities x features) the environment sum loops over
#: sensitivities instead of building the whole (pairs, sensitivities, features) product.
CHUNK_ELEMENTS = 1 << 22


class Sensitivity(nn.Module):
    """``s_nu(r)`` of the module docstring: inverse-distance Gaussians times a cos^2 cutoff."""

    def __init__(self, n: int, cutoff: float):
        super().__init__()
        self.cutoff = float(cutoff)
        self.mu = nn.Parameter(torch.empty(n))
        self.sigma = nn.Parameter(torch.empty(n))
        self.kernel = "torch"

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        """``(P,)`` distances -> ``(P, n)`` sensitivities."""
        if self.kernel == "numba" and r.device.type == "cpu" and not (self.mu.requires_grad or self.sigma.requires_grad):
            return SensitivityKernel.apply(r, self.mu, self.sigma, self.cutoff)
        gauss = torch.exp(-0.5 * torch.square((1.0 / r.unsqueeze(1) - 1.0 / self.mu) * self.sigma))
        cut = torch.square(torch.cos((0.5 * math.pi / self.cutoff) * r))
        cut = torch.where(r <= self.cutoff, cut, torch.zeros_like(cut))
        return gauss * cut.unsqueeze(1)


class SensitivityKernel(torch.autograd.Function):
    """The sensitivities and their ``r`` derivative in one numba pass (inference: ``mu`` and
    ``sigma`` fixed)."""

    @staticmethod
    def forward(ctx, r, mu, sigma, cutoff):
        from .kernels import sensitivity

        r_np = r.detach().contiguous().numpy()
        s = np.empty((r_np.shape[0], mu.shape[0]), dtype=r_np.dtype)
        dsdr = np.empty_like(s)
        sensitivity(r_np, mu.detach().numpy(), sigma.detach().numpy(), cutoff, s, dsdr)
        ctx.save_for_backward(torch.from_numpy(dsdr))
        return torch.from_numpy(s)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        from .kernels import contract_rows

        (dsdr,) = ctx.saved_tensors
        d = dsdr.numpy()
        return torch.from_numpy(contract_rows(g.contiguous().numpy(), d, np.empty(d.shape[0], dtype=d.dtype))), \
            None, None, None


class EnvSum(torch.autograd.Function):
    """The environment sum through the numba kernels of :mod:`.kernels` (CPU): forward and one
    backward (forces); not twice differentiable (training on forces uses ``kernel="torch"``)."""

    @staticmethod
    def forward(ctx, s, z, first, second):
        from .kernels import envsum

        ctx.save_for_backward(s, z, first, second)
        s_np, z_np = s.detach().contiguous().numpy(), z.detach().contiguous().numpy()
        env = np.empty((z_np.shape[0], s_np.shape[1], z_np.shape[1]), dtype=z_np.dtype)
        envsum(s_np, z_np, first.numpy(), second.numpy(), env)
        return torch.from_numpy(env)

    @staticmethod
    @once_differentiable
    def backward(ctx, genv):
        from .kernels import featsum, sensesum

        s, z, first, second = ctx.saved_tensors
        g = genv.contiguous().numpy()
        s_np, z_np, i, j = s.contiguous().numpy(), z.contiguous().numpy(), first.numpy(), second.numpy()
        gs = gz = None
        if ctx.needs_input_grad[0]:
            gs = torch.from_numpy(sensesum(g, z_np, i, j, np.empty_like(s_np)))
        if ctx.needs_input_grad[1]:
            gz = torch.from_numpy(featsum(g, s_np, i, j, np.empty_like(z_np)))
        return gs, gz, None, None


class SensitivityEnvSum(torch.autograd.Function):
    """Sensitivities and environment sum in one (CPU, numba: :mod:`.kernels`) for constant
    distances (energy-only training and energy evaluation): ``env[i, nu, f] = sum_{p: first=i}
    s_nu(r_p) z[second_p, f]`` with gradients for ``mu``, ``sigma`` (reductions over pairs) and
    ``z``; only ``s`` (pairs x sensitivities) is kept for the backward pass. ``r`` gets no
    gradient (forces use the other paths); not twice differentiable."""

    @staticmethod
    def forward(ctx, r, mu, sigma, cutoff, z, first, second):
        from .kernels import envsum, sensitivity_exponent

        r_np, z_np = r.detach().contiguous().numpy(), z.detach().contiguous().numpy()
        mu_np, sigma_np = mu.detach().numpy(), sigma.detach().numpy()
        s = np.empty((r_np.shape[0], mu_np.shape[0]), dtype=z_np.dtype)
        np.exp(sensitivity_exponent(r_np, mu_np, sigma_np, cutoff, s), out=s)     # 0 beyond the cutoff
        cut = np.cos(r_np * r_np.dtype.type(0.5 * math.pi / cutoff))
        s *= np.square(cut, out=cut)[:, None]
        env = np.empty((z_np.shape[0], s.shape[1], z_np.shape[1]), dtype=z_np.dtype)
        envsum(s, z_np, first.numpy(), second.numpy(), env)
        ctx.save_for_backward(r, mu, sigma, z, first, second, torch.from_numpy(s))
        return torch.from_numpy(env)

    @staticmethod
    @once_differentiable
    def backward(ctx, genv):
        from .kernels import sensitivity_envsum_adjoint

        r, mu, sigma, z, first, second, s = ctx.saved_tensors
        z_np = z.detach().contiguous().numpy()
        want_z = bool(ctx.needs_input_grad[4])
        gz = np.empty_like(z_np)
        gmu, gsigma = np.empty_like(mu.detach().numpy()), np.empty_like(sigma.detach().numpy())
        sensitivity_envsum_adjoint(genv.contiguous().numpy(), s.numpy(), r.detach().contiguous().numpy(),
                                   mu.detach().numpy(), sigma.detach().numpy(), z_np, first.numpy(),
                                   second.numpy(), want_z, gz, gmu, gsigma)
        return (None, torch.from_numpy(gmu), torch.from_numpy(gsigma), None,
                torch.from_numpy(gz) if want_z else None, None, None)


class Interaction(nn.Module):
    """Interaction layer in a ResNet unit (module docstring)."""

    def __init__(self, f_in: int, f_out: int, n: int, cutoff: float):
        super().__init__()
        self.n, self.f_in, self.f_out = n, f_in, f_out
        self.sensitivity = Sensitivity(n, cutoff)
        self.weights = nn.Parameter(torch.empty(n, f_out, f_in))
        self.self_term = nn.Linear(f_in, f_out)
        self.residual = nn.Linear(f_out, f_out)
        self.adjust = nn.Linear(f_in, f_out, bias=False) if f_in != f_out else None
        self.kernel = "torch"

    def environment(self, z, first, second, s):
        """``env[i, nu, f] = sum_{p: first=i} s[p, nu] z[second_p, f]``, as ``(N, n * f_in)``."""
        n_atoms, n_pairs = z.shape[0], s.shape[0]
        if self.kernel == "numba" and z.device.type == "cpu":
            return EnvSum.apply(s, z, first, second).reshape(n_atoms, self.n * self.f_in)
        zj = z.index_select(0, second)
        width = self.n * self.f_in
        if n_pairs * width <= CHUNK_ELEMENTS:
            # (2-D index_add: torch's 3-D path is much slower for small inputs)
            messages = (s.unsqueeze(2) * zj.unsqueeze(1)).reshape(n_pairs, width)
            return z.new_zeros((n_atoms, width)).index_add_(0, first, messages)
        env = [z.new_zeros((n_atoms, self.f_in)).index_add_(0, first, s[:, k:k + 1] * zj)
               for k in range(self.n)]
        return torch.stack(env, dim=1).reshape(n_atoms, width)

    def forward(self, z, first, second, r):
        if self.kernel == "numba" and z.device.type == "cpu" and not r.requires_grad:
            sense = self.sensitivity
            env = SensitivityEnvSum.apply(r, sense.mu, sense.sigma, sense.cutoff, z, first, second)
            env = env.reshape(z.shape[0], self.n * self.f_in)
        else:
            env = self.environment(z, first, second, self.sensitivity(r))
        v = self.weights.permute(0, 2, 1).reshape(self.n * self.f_in, self.f_out)
        a = env @ v + self.self_term(z)
        skip = z if self.adjust is None else self.adjust(z)
        return self.residual(fn.softplus(a)) + skip


class OnSite(nn.Module):
    """On-site layer in a ResNet unit: ``z <- R softplus(W z + c) + r + z``."""

    def __init__(self, f: int):
        super().__init__()
        self.linear = nn.Linear(f, f)
        self.residual = nn.Linear(f, f)

    def forward(self, z):
        return self.residual(fn.softplus(self.linear(z))) + z


class Block(nn.Module):
    def __init__(self, f_in, f, n, atom_layers, cutoff):
        super().__init__()
        self.interaction = Interaction(f_in, f, n, cutoff)
        self.onsite = nn.ModuleList(OnSite(f) for _ in range(atom_layers))

    def forward(self, z, first, second, r):
        z = self.interaction(z, first, second, r)
        for layer in self.onsite:
            z = layer(z)
        return z


class HIPNNModel(nn.Module):
    """HIP-NN (module docstring). ``forward(species, first, second, r) -> (N, B+1)`` per-atom
    energies of every block (eV): ``species`` int64[N] indices into the model's species list,
    ``first``/``second`` int64[P] the directed pairs (``first`` receives), ``r`` the distances (Å).
    """

    def __init__(self, n_species: int, features: int, sensitivities: int, interactions: int,
                 atom_layers: int, cutoff: float, soft_min: float = 0.85, soft_max: float = 5.0):
        super().__init__()
        self.hyper = dict(n_species=n_species, features=features, sensitivities=sensitivities,
                          interactions=interactions, atom_layers=atom_layers)
        self.soft = (float(soft_min), float(soft_max))
        self.cutoff = float(cutoff)
        sizes = (n_species,) + (features,) * interactions
        self.blocks = nn.ModuleList(Block(sizes[b], sizes[b + 1], sensitivities, atom_layers, cutoff)
                                    for b in range(interactions))
        self.readout = nn.ModuleList([nn.Linear(n_species, 1, bias=False)] +
                                     [nn.Linear(features, 1) for _ in range(interactions)])
        self.load_arrays(initial_parameters(**self.hyper, soft_min=soft_min, soft_max=soft_max, seed=0))

    def use_kernel(self, kernel: str) -> "HIPNNModel":
        """``"torch"`` (pure torch, any device, twice differentiable: training) or ``"numba"``
        (CPU kernels of :mod:`.kernels`, less memory and faster; energies and forces only)."""
        if kernel not in ("torch", "numba"):
            raise ValueError(f"kernel = {kernel!r} is not allowed: choose 'torch' or 'numba'")
        for block in self.blocks:
            block.interaction.kernel = kernel
            block.interaction.sensitivity.kernel = kernel
        return self

    # -- parameters as plain arrays -------------------------------------------------------
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return parameter_shapes(**self.hyper)

    def load_arrays(self, arrays: dict) -> "HIPNNModel":
        """Set every parameter from ``name -> array`` (exactly the names of :meth:`shapes`)."""
        shapes = self.shapes()
        missing, unknown = sorted(set(shapes) - set(arrays)), sorted(set(arrays) - set(shapes))
        if missing or unknown:
            raise ValueError(f"parameters do not fit this HIP-NN: missing {missing}, unknown {unknown}")
        own = dict(self.named_parameters())
        with torch.no_grad():
            for name, shape in shapes.items():
                value = torch.as_tensor(np.asarray(arrays[name]))
                if tuple(value.shape) != shape:
                    raise ValueError(f"parameters[{name!r}] has shape {tuple(value.shape)}; this HIP-NN needs {shape}")
                own[name].copy_(value.to(own[name].dtype))
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        """``name -> float64 array`` of every parameter (what ``HIPNN.parameters`` holds)."""
        return {name: p.detach().cpu().to(torch.float64).numpy().copy() for name, p in self.named_parameters()}

    # -- evaluation -----------------------------------------------------------------------
    def forward(self, species, first, second, r):
        z = fn.one_hot(species, self.hyper["n_species"]).to(r.dtype)
        out = [self.readout[0](z)]
        for b, block in enumerate(self.blocks):
            z = block(z, first, second, r)
            out.append(self.readout[b + 1](z))
        return torch.cat(out, dim=1)


def molecule_sums(atom_values: torch.Tensor, mol_index: torch.Tensor | None, n_molecules: int) -> torch.Tensor:
    """Sum per-atom rows into per-molecule rows (``mol_index`` int64[N]; None: one molecule)."""
    if mol_index is None:
        return atom_values.sum(dim=0, keepdim=True)
    out = atom_values.new_zeros((n_molecules,) + tuple(atom_values.shape[1:]))
    return out.index_add_(0, mol_index, atom_values)


def hierarchicality(block_energies: torch.Tensor) -> torch.Tensor:
    """``H = sum_{b>=1} E_b^2 / (E_b^2 + E_{b-1}^2)`` per row of ``(M, B+1)`` block energies
    (a term whose numerator and denominator are both zero counts 0)."""
    sq = torch.square(block_energies)
    num, den = sq[:, 1:], sq[:, 1:] + sq[:, :-1]
    ratio = torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(den))
    return ratio.sum(dim=1)


def evaluate(model: HIPNNModel, species: np.ndarray, positions: np.ndarray, first: np.ndarray,
             second: np.ndarray, shift: np.ndarray, *, forces: bool = True, device="cpu"):
    """Energy (eV), forces (eV/Å), virial (eV) and block energies (eV) of one configuration.

    ``d_p = x[second] - x[first] + shift`` is formed in float64 and handed to the model in its
    dtype; returns float64 NumPy ``(E, F[N, 3], W[3, 3], E_b[B+1])`` (``F``, ``W`` None without
    ``forces``).
    """
    dtype = next(model.parameters()).dtype
    x = np.asarray(positions, dtype=np.float64)
    d_np = x[second] - x[first] + shift
    d = torch.as_tensor(d_np, dtype=dtype, device=device)
    first_t = torch.as_tensor(first, device=device)
    second_t = torch.as_tensor(second, device=device)
    species_t = torch.as_tensor(species, device=device)
    with torch.enable_grad() if forces else torch.no_grad():
        if forces:
            d.requires_grad_(True)
        r = torch.linalg.vector_norm(d, dim=1)
        atom_blocks = model(species_t, first_t, second_t, r)
        blocks = atom_blocks.sum(dim=0)
        energy = blocks.sum()
        if not forces:
            return float(energy), None, None, blocks.detach().cpu().double().numpy()
        (g,) = torch.autograd.grad(energy, d) if d.shape[0] else (torch.zeros_like(d),)
    g = g.detach().to(torch.float64)
    f = torch.zeros((x.shape[0], 3), dtype=torch.float64, device=device)
    f.index_add_(0, first_t, g).index_add_(0, second_t, -g)
    virial = -(torch.as_tensor(d_np, device=device).T @ g)
    return (float(energy.detach()), f.cpu().numpy(), virial.cpu().numpy(), blocks.detach().cpu().double().numpy())


def from_hippynn(network_state: dict, energy_state: dict) -> dict[str, np.ndarray]:
    """Our parameter arrays from the ``state_dict()`` of a hippynn ``Hipnn`` (``resnet=True``, the
    default) and of its ``HEnergy`` (``first_is_interacting=False``); hippynn itself is not
    imported. Name map: ``blocks.b.0`` (interaction unit) -> ``blocks.b.interaction``,
    ``blocks.b.k`` (k >= 1) -> ``blocks.b.onsite.{k-1}``, ``base_layer.int_weights`` -> ``weights``,
    ``selfint`` -> ``self_term``, ``res_layer`` -> ``residual``, ``adjust_layer`` -> ``adjust``,
    ``base_layer`` (on-site) -> ``linear``, ``layers.n`` -> ``readout.n``; ``mu``/``sigma`` drop
    their leading axis of size 1.
    """
    out = {}
    for name, value in network_state.items():
        parts = name.split(".")
        if parts[0] != "blocks":
            raise ValueError(f"unexpected hippynn network parameter {name!r}")
        b, k, rest = parts[1], int(parts[2]), parts[3:]
        if k == 0:
            rest = [{"res_layer": "residual", "adjust_layer": "adjust"}.get(p, p) for p in rest]
            if rest[0] == "base_layer":
                rest = rest[1:]
            rest = [{"int_weights": "weights", "selfint": "self_term"}.get(p, p) for p in rest]
            ours = f"blocks.{b}.interaction." + ".".join(rest)
        else:
            rest = [{"res_layer": "residual", "base_layer": "linear"}.get(p, p) for p in rest]
            ours = f"blocks.{b}.onsite.{k - 1}." + ".".join(rest)
        array = _numpy(value)
        if ours.endswith(("sensitivity.mu", "sensitivity.sigma")):
            array = array.reshape(-1)
        out[ours] = array
    for name, value in energy_state.items():
        parts = name.split(".")
        if parts[0] != "layers":
            raise ValueError(f"unexpected hippynn energy parameter {name!r}")
        out["readout." + ".".join(parts[1:])] = _numpy(value)
    return out


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().to(torch.float64).numpy()
    return np.array(value, dtype=np.float64)
