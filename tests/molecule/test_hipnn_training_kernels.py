"""The fused training kernel of HIP-NN (:class:`solvers.molecule.hipnn.model.SensitivityEnvSum`):
sensitivities and environment sum in numba, with gradients for ``mu``, ``sigma`` and the atom
features, against torch autograd of the pure-torch path (float64 round-off), and energy-only
training through it against training through the pure-torch path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solvers.molecule.hipnn.model import HIPNNModel, SensitivityEnvSum

pytestmark = pytest.mark.usefixtures("one_torch_thread")     # tests/molecule/conftest.py


def _graph(seed: int, n_atoms: int = 30, cutoff: float = 3.0, dtype=torch.float64):
    """Random directed pairs with distances on both sides of the cutoff (and one far beyond)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n_atoms, 400)
    second = (first + rng.integers(1, n_atoms, 400)) % n_atoms
    r = rng.uniform(0.6, 1.2 * cutoff, 400)
    r[:3] = (cutoff, np.nextafter(cutoff, 0.0), 10.0 * cutoff)
    return (torch.as_tensor(first), torch.as_tensor(second), torch.as_tensor(r, dtype=dtype))


@pytest.mark.parametrize("z_grad", [True, False])
def test_fused_sensitivity_envsum_matches_torch_autograd(z_grad):
    from solvers.molecule.hipnn.model import Interaction

    cutoff = 3.0
    first, second, r = _graph(0, cutoff=cutoff)
    rng = np.random.default_rng(1)
    layer = Interaction(7, 5, 6, cutoff).double()
    with torch.no_grad():
        layer.sensitivity.mu.copy_(torch.as_tensor(rng.uniform(0.8, 2.5, 6)))
        layer.sensitivity.sigma.copy_(torch.as_tensor(rng.uniform(1.0, 4.0, 6)))
    z = torch.as_tensor(rng.standard_normal((30, 7))).requires_grad_(z_grad)
    genv = torch.as_tensor(rng.standard_normal((30, 6 * 7)))
    sense = layer.sensitivity

    want = layer.environment(z, first, second, sense(r))                      # pure torch
    want_grads = torch.autograd.grad((want * genv).sum(), [sense.mu, sense.sigma] + ([z] if z_grad else []))
    got = SensitivityEnvSum.apply(r, sense.mu, sense.sigma, cutoff, z, first, second).reshape(30, 42)
    got_grads = torch.autograd.grad((got * genv).sum(), [sense.mu, sense.sigma] + ([z] if z_grad else []))

    scale = want.abs().max()
    assert scale > 1.0 and torch.abs(got - want).max() <= 1e-13 * scale
    for name, g, w in zip(("mu", "sigma", "z"), got_grads, want_grads):
        assert torch.abs(w).max() > 1e-3, name                               # the terms matter
        assert torch.abs(g - w).max() <= 1e-12 * torch.abs(w).max(), name


def test_pairs_beyond_the_cutoff_contribute_nothing():
    first, second, r = _graph(2)
    mu = torch.full((4,), 1.5, dtype=torch.float64, requires_grad=True)
    sigma = torch.full((4,), 2.0, dtype=torch.float64, requires_grad=True)
    z = torch.ones((30, 3), dtype=torch.float64)
    keep = r <= 3.0
    env_all = SensitivityEnvSum.apply(r, mu, sigma, 3.0, z, first, second)
    env_in = SensitivityEnvSum.apply(r[keep], mu, sigma, 3.0, z, first[keep], second[keep])
    assert torch.equal(env_all, env_in)
    g_all = torch.autograd.grad(env_all.sum(), [mu, sigma])
    g_in = torch.autograd.grad(env_in.sum(), [mu, sigma])
    assert all(torch.allclose(a, b, rtol=1e-14, atol=0) for a, b in zip(g_all, g_in))


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-11), (torch.float32, 2e-4)])
def test_model_gradients_through_the_fused_kernel_match_the_torch_path(dtype, tol):
    """A whole model (two blocks: one-hot first block without a z gradient, then a block with
    one): energies and every parameter gradient, numba (fused) against torch."""
    first, second, r = _graph(3, cutoff=4.0, dtype=dtype)
    species = torch.as_tensor(np.random.default_rng(4).integers(0, 3, 30))
    results = {}
    for kernel in ("torch", "numba"):
        net = HIPNNModel(3, 8, 6, 2, 1, 4.0).to(dtype).use_kernel(kernel)
        out = net(species, first, second, r)
        loss = (out.sum(dim=1) ** 2).sum()
        names, params = zip(*[(k, p) for k, p in net.named_parameters() if p.requires_grad])
        results[kernel] = out.detach(), dict(zip(names, torch.autograd.grad(loss, params)))
    (e_t, g_t), (e_n, g_n) = results["torch"], results["numba"]
    assert torch.allclose(e_n, e_t, rtol=tol, atol=tol * e_t.abs().max())
    for name in g_t:
        scale = g_t[name].abs().max()
        assert torch.abs(g_n[name] - g_t[name]).max() <= tol * max(scale, 1e-3), name
