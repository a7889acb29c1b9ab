"""LatticeFluid validation, builders and the unit helper."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit as tk
from problems.lattice_fluid import (LatticeFluid, channel, cylinder_channel, lattice_units, lid_driven_cavity,
                                    periodic_box, taylor_green)


def test_viscosity_and_tau_are_exclusive_and_related():
    assert LatticeFluid(shape=(4, 4), tau=0.8).viscosity == pytest.approx(0.1)
    assert LatticeFluid(shape=(4, 4), viscosity=0.1).tau == pytest.approx(0.8)
    with pytest.raises(tk.InvalidProblemError, match="exactly one of viscosity"):
        LatticeFluid(shape=(4, 4))
    with pytest.raises(tk.InvalidProblemError, match="disagree"):
        LatticeFluid(shape=(4, 4), tau=0.8, viscosity=0.2)
    assert LatticeFluid(shape=(4, 4), tau=0.8, viscosity=0.1).tau == 0.8   # consistent pair (round trips)


@pytest.mark.parametrize("tau", [0.5, 0.3, -1.0])
def test_tau_must_exceed_half(tau):
    with pytest.raises(tk.InvalidProblemError, match="tau"):
        LatticeFluid(shape=(4, 4), tau=tau)


def test_mach_warns_then_refuses():
    with pytest.warns(UserWarning, match="Mach"):
        LatticeFluid(shape=(4, 4), tau=0.8, velocity=[0.1, 0.0])
    with pytest.raises(tk.InvalidProblemError, match="velocity.*Mach"):
        LatticeFluid(shape=(4, 4), tau=0.8, velocity=[0.4, 0.0])
    with pytest.raises(tk.InvalidProblemError, match=r"boundaries\['y\+'\].*Mach"):
        lid_driven_cavity(16, lid_velocity=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LatticeFluid(shape=(4, 4), tau=0.8, velocity=[0.05, 0.0])


def test_shapes_masks_and_faces_are_checked():
    with pytest.raises(tk.InvalidProblemError, match="shape"):
        LatticeFluid(shape=(4, 4, 4), tau=0.8)            # D2Q9 needs 2 dimensions
    with pytest.raises(tk.InvalidProblemError, match="velocity"):
        LatticeFluid(shape=(4, 4), tau=0.8, velocity=np.zeros((4, 5, 2)))
    with pytest.raises(tk.InvalidProblemError, match="density"):
        LatticeFluid(shape=(4, 4), tau=0.8, density=np.zeros((4, 4)))
    with pytest.raises(tk.InvalidProblemError, match="solid"):
        LatticeFluid(shape=(4, 4), tau=0.8, solid=np.full((4, 4), 0.5))
    with pytest.raises(tk.InvalidProblemError, match="solid"):
        LatticeFluid(shape=(4, 4), tau=0.8, solid=np.zeros((3, 4), bool))
    with pytest.raises(tk.InvalidProblemError, match="lattice"):
        LatticeFluid(shape=(4, 4), lattice="D2Q5", tau=0.8)
    with pytest.raises(tk.InvalidProblemError, match="faces"):
        LatticeFluid(shape=(4, 4), tau=0.8, boundaries={"z-": "wall"})
    with pytest.raises(tk.InvalidProblemError, match="pairs"):
        LatticeFluid(shape=(4, 4), tau=0.8, boundaries={"y-": "wall"})
    with pytest.raises(tk.InvalidProblemError, match="kind"):
        LatticeFluid(shape=(4, 4), tau=0.8, boundaries={"y-": "slip", "y+": "wall"})
    with pytest.raises(tk.InvalidProblemError, match="slides along"):
        LatticeFluid(shape=(4, 4), tau=0.8, boundaries={"y-": "wall", "y+": ("moving_wall", (0.0, 0.05))})


def test_boundary_forms_normalise_and_roundtrip():
    p = LatticeFluid(shape=(6, 6), tau=0.8, boundaries={
        "x-": ["velocity", 0.02, 0.0], "x+": {"type": "pressure", "density": 1.0},
        "y-": "wall", "y+": ("moving_wall", (0.03, 0.0))})
    assert p.boundaries["x-"] == ("velocity", (0.02, 0.0))
    assert p.boundaries["x+"] == ("pressure", (1.0,))
    assert p.boundaries["y+"] == ("moving_wall", (0.03, 0.0))
    assert tk.remake(p, steps=5).boundaries == p.boundaries
    assert tk.remake(p, steps=5) == tk.remake(p, steps=5) and tk.remake(p, tau=1.0, viscosity=None).tau == 1.0
    # changing one of the alternatives viscosity | tau clears the other (exclusive_fields)
    assert tk.remake(p, tau=1.0).tau == 1.0
    assert tk.remake(p, viscosity=0.1).tau == pytest.approx(0.8)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_example_is_valid_and_compact(seed):
    p = LatticeFluid.example(seed)
    assert p.tau > 0.5 and "array(" not in repr(p)
    assert isinstance(tk.solve(tk.remake(p, steps=1), progress=False).solver, tk.Solver)  # a default solver


def test_builders_and_units():
    assert channel((8, 6)).boundaries["y-"] == ("wall", ())
    cav = lid_driven_cavity(16, reynolds=100, lid_velocity=0.05)
    assert cav.viscosity == pytest.approx(0.05 * 16 / 100)
    cyl = cylinder_channel((40, 16), radius=3)
    assert cyl.solid.sum() > 20 and cyl.boundaries["x+"][0] == "pressure"
    assert periodic_box((4, 4, 4)).lattice == "D3Q19"
    assert taylor_green(8).velocity.shape == (8, 8, 2)
    u = lattice_units(length=0.1, velocity=0.01, viscosity=1e-6, dx=1e-3, dt=1e-2)
    assert u.reynolds == pytest.approx(1000.0)
    assert u.velocity == pytest.approx(0.1) and u.mach == pytest.approx(0.1 * np.sqrt(3))
    assert u.tau == pytest.approx(3 * 1e-6 * 1e-2 / 1e-6 + 0.5)
    assert "Re=1000" in str(u)
