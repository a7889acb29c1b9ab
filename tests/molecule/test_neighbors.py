"""Cell-list Verlet lists agree with the O(N^2) reference search (hypothesis over boxes, densities)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.kernels.neighbors import (brute_force_pairs, cell_list, max_displacement, split_by_image,
                                       verlet_list, wrap_positions)


def _pairs(starts, nbrs):
    return {(i, int(j)) for i in range(len(starts) - 1) for j in nbrs[starts[i]:starts[i + 1]]}


def _numpy_pairs(x, box, periodic, cutoff):
    """Plain NumPy reference: all separations, minimum image along periodic axes."""
    d = x[None, :, :] - x[:, None, :]
    for a in range(3):
        if periodic[a]:
            d[..., a] -= box[a] * np.rint(d[..., a] / box[a])
    r = np.sqrt((d ** 2).sum(-1))
    i, j = np.nonzero(np.triu(r < cutoff, k=1))
    return set(zip(i.tolist(), j.tolist()))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 150), lengths=st.lists(st.floats(3.0, 12.0), min_size=3, max_size=3),
       flags=st.lists(st.booleans(), min_size=3, max_size=3), cutoff=st.floats(0.3, 1.5),
       seed=st.integers(0, 2**16), shift=st.floats(-3.0, 3.0))
def test_cell_list_matches_brute_force(n, lengths, flags, cutoff, seed, shift):
    rng = np.random.default_rng(seed)
    box = np.array(lengths)
    periodic = np.array(flags, dtype=np.int64)
    # positions partly outside the box: periodic axes must fold them, open axes span them
    x = rng.uniform(0, 1, (n, 3)) * box + shift
    fast = _pairs(*verlet_list(x, box, periodic, cutoff))
    slow = _pairs(*brute_force_pairs(x, box, periodic, cutoff))
    assert fast == slow == _numpy_pairs(x, box, periodic, cutoff)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), lengths=st.lists(st.floats(3.0, 12.0), min_size=3, max_size=3),
       flags=st.lists(st.booleans(), min_size=3, max_size=3), cutoff=st.floats(0.3, 1.5),
       seed=st.integers(0, 2**16), edge=st.booleans())
def test_verlet_list_split_by_image_matches_the_minimum_image(n, lengths, flags, cutoff, seed, edge):
    """``verlet_list`` followed by ``split_by_image``: the same pairs as the references, and a partner
    is listed as crossing a periodic boundary exactly when the minimum image moves its separation
    (coordinates exactly at ``L``, a wrap that rounded up, included)."""
    rng = np.random.default_rng(seed)
    box = np.array(lengths)
    periodic = np.array(flags, dtype=np.int64)
    x = rng.uniform(0, 1, (n, 3)) * box
    if edge:
        x[: n // 3, 0] = box[0]
    starts, nbrs = verlet_list(x, box, periodic, cutoff)
    split = split_by_image(x, box, periodic, starts, nbrs)
    assert _pairs(starts, nbrs) == _pairs(*brute_force_pairs(x, box, periodic, cutoff)) \
        == _numpy_pairs(x, box, periodic, cutoff)
    for i in range(n):
        assert starts[i] <= split[i] <= starts[i + 1]
        for q in range(starts[i], starts[i + 1]):
            d = x[i] - x[nbrs[q]]
            folded = np.where(periodic == 1, d - box * np.round(d / box), d)
            crossing = bool(np.any(np.abs(folded - d) > 0.5 * box.min()))
            assert crossing == (q >= split[i]), (i, nbrs[q], d, folded)


def test_cell_list_bins_every_particle_once():
    rng = np.random.default_rng(1)
    box = np.array([10.0, 8.0, 6.0])
    x = rng.uniform(-5, 15, (200, 3))
    ncell, start, atoms, index = cell_list(x, box, np.array([1, 1, 0]), 2.0)
    assert sorted(atoms.tolist()) == list(range(200))
    assert start[-1] == 200 and np.all(index >= 0) and np.all(index < ncell)


def test_wrap_keeps_unwrapped_positions_and_displacement():
    rng = np.random.default_rng(2)
    box = np.array([3.0, 4.0, 5.0])
    x = rng.uniform(-10, 10, (50, 3))
    images = np.zeros((50, 3), dtype=np.int64)
    original = x.copy()
    wrap_positions(x, images, box, np.array([1, 1, 0]))
    np.testing.assert_allclose(x + images * box * np.array([1, 1, 0]), original, atol=1e-12)
    assert np.all(x[:, :2] >= 0) and np.all(x[:, :2] < box[:2])
    assert max_displacement(original, original) == 0.0
    moved = original.copy()
    moved[3] += [0.3, 0.4, 0.0]
    assert np.isclose(max_displacement(moved, original), 0.5)


def test_far_away_particle_and_dilute_box_stay_small():
    """A particle flown 1e6 Å away, or a dilute periodic gas, must not allocate a huge grid."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 5, (50, 3))
    x[0] = [1e6, -1e6, 1e6]
    ncell, start, _, _ = cell_list(x, np.zeros(3), np.zeros(3, dtype=np.int64), 1.0)
    assert ncell.prod() <= 100
    assert _pairs(*verlet_list(x, np.zeros(3), np.zeros(3, dtype=np.int64), 1.0)) == \
        _pairs(*brute_force_pairs(x, np.zeros(3), np.zeros(3, dtype=np.int64), 1.0))
    box = np.array([1000.0, 1000.0, 1000.0])
    gas = rng.uniform(0, 1000, (40, 3))
    ncell, _, _, _ = cell_list(gas, box, np.ones(3, dtype=np.int64), 2.5)
    assert ncell.prod() <= 80
    assert _pairs(*verlet_list(gas, box, np.ones(3, dtype=np.int64), 300.0)) == \
        _numpy_pairs(gas, box, np.ones(3), 300.0)
