"""Curved walls: interpolated bounce-back (Bouzidi, Firdaouss & Lallemand 2001) on circles and spheres."""

import dataclasses

import numpy as np
import pytest

import toolkit as tk
from problems.lattice_fluid import LatticeFluid, cylinder_channel, sphere_nodes
from solvers.lattice_boltzmann import BGK, MRT, TRT
from solvers.lattice_boltzmann.curved import interpolate_walls, interpolate_walls_numpy, wall_links
from solvers.lattice_boltzmann.domain import build_domain
from solvers.lattice_boltzmann.lattices import lattice


def test_link_fractions_put_the_wall_on_the_circle():
    """X + q c_i lies on the circle for every link (1e-12), q ∈ [0, 1]; every fluid–solid link of
    the circle is listed once."""
    p = cylinder_channel((40, 24), radius=5.3, center=(14.2, 11.7), steps=1)
    lat = lattice("D2Q9")
    dom = build_domain(p, lat)
    links = dom.links
    assert links is not None and len(links) > 0
    assert np.all((links.q >= 0) & (links.q <= 1))
    pad = [s.start for s in dom.interior]
    X = np.stack([links.node[:, 0] - pad[0] + 0.5, links.node[:, 2] - pad[2] + 0.5], axis=1)
    c = lat.c[links.direction][:, :2]
    hit = X + links.q[:, None] * c
    assert np.abs(np.hypot(hit[:, 0] - 14.2, hit[:, 1] - 11.7) - 5.3).max() < 1e-12
    fluid = ~p.solid
    count = sum(int((fluid & np.roll(p.solid, (-lat.c[i, 0], -lat.c[i, 1]), axis=(0, 1))).sum())
                for i in range(1, 9))
    assert len(links) == count


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interpolation_kernel_agrees_with_its_numpy_reference(dtype):
    p = cylinder_channel((30, 20), radius=4.4, center=(10.3, 9.9), steps=1)
    lat = lattice("D2Q9")
    dom = build_domain(p, lat)
    f = np.random.default_rng(3).uniform(0.01, 0.2, (9,) + dom.shape3).astype(dtype)
    a, b = f.copy(), f.copy()
    interpolate_walls(a, dom.links, lat.opp)
    interpolate_walls_numpy(b, dom.links, lat.opp)
    assert np.allclose(a, b, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)
    assert not np.array_equal(a, f)


def test_half_way_fractions_reproduce_the_staircase_bit_for_bit():
    """With every q set to 1/2 the interpolated wall is half-way bounce-back: the run equals the
    staircase run exactly (the hook changes nothing else)."""
    kw = dict(shape=(36, 18), radius=3.7, center=(9.1, 8.8), reynolds=10, inflow=0.03, steps=60)
    curved = tk.init(cylinder_channel(**kw, wall="interpolated"), TRT())
    links = curved.domain.links
    curved.domain.links = dataclasses.replace(links, q=np.full(len(links), 0.5))
    stair = tk.init(cylinder_channel(**kw, wall="staircase"), TRT())
    curved.step(60)
    stair.step(60)
    assert np.array_equal(curved.populations, stair.populations)


def _slit(wall, tau=0.8, g=1e-6, nx=4, top=15.7, steps=4000, solver=None):
    """A channel periodic in x between a half-way wall at y = 0 and the flat-looking bottom of a
    huge circle at y = ``top`` (node j at j + 1/2); steady Poiseuille flow g y (top − y)/(2ν)."""
    R = 1e5
    ny = int(np.ceil(top)) + 2
    spheres = [(nx / 2, top + R, R)]
    solid = sphere_nodes(np.array(spheres), (nx, ny))
    p = LatticeFluid(shape=(nx, ny), tau=tau, force=[g, 0.0], boundaries={"y-": "wall", "y+": "wall"},
                     steps=steps, solid=solid, spheres=spheres if wall == "interpolated" else None)
    u = tk.solve(p, solver or TRT(), progress=False).velocity[-1][..., 0]
    y = np.arange(ny) + 0.5
    exact = g / (2 * p.viscosity) * y * (top - y)
    fluid = ~solid
    return np.abs(u - exact)[fluid].max() / exact.max()


@pytest.mark.parametrize("top", [15.2, 15.7, 15.95])
def test_slit_flow_wall_sits_where_the_geometry_puts_it(top):
    """Poiseuille flow against a wall at a fractional position (q = 0.7, 0.2, 0.45 on the vertical
    links): interpolated bounce-back is within 1 % of the exact profile (measured 0.20 %, 0.63 %,
    0.12 % of the peak at 16 nodes across; linear interpolation is second order, not exact), the
    staircase moves the wall to the half node and is 10–25 times worse (5.0 %, 7.6 %, 1.2 %)."""
    interpolated = _slit("interpolated", top=top)
    staircase = _slit("staircase", top=top)
    assert interpolated < 1e-2
    assert staircase > 5 * interpolated


@pytest.mark.parametrize("solver", [BGK(), MRT()], ids=repr)
def test_other_collisions_see_the_curved_wall(solver):
    assert _slit("interpolated", top=15.7, solver=solver, steps=3000) < 1e-2


def test_numpy_backend_and_parallel_kernel_agree_with_the_serial_one():
    """The curved-wall hook runs in every two-array stepper: the NumPy reference and the threaded
    kernel give the serial kernel's populations (1e-12; the threaded one bit for bit)."""
    p = cylinder_channel((30, 14), radius=3.1, center=(8.3, 6.8), reynolds=10, inflow=0.03, steps=40)
    runs = {}
    for key, solver in (("serial", TRT()), ("numpy", TRT(backend="numpy")), ("parallel", TRT(parallel=True))):
        integ = tk.init(p, solver)
        integ.step(40)
        runs[key] = np.array(integ.populations, dtype=float)
    assert np.abs(runs["numpy"] - runs["serial"]).max() < 1e-12
    assert np.array_equal(runs["parallel"], runs["serial"])


def test_curved_wall_drag_and_lift_are_finite_and_symmetric():
    """A centred cylinder in a symmetric channel: lift ~ 0, drag positive, with the interpolated
    momentum exchange."""
    p = cylinder_channel((50, 21), radius=3.3, center=(12, 10.5), reynolds=10, inflow=0.04, steps=1200,
                         save_every=600)
    s = tk.solve(p, TRT(), progress=False)
    assert s.successful
    assert 1.0 < s.drag_coefficient(0.04, 6.6) < 20.0
    assert abs(s.force[-1, 1]) < 1e-6 * abs(s.force[-1, 0]) + 1e-12


def test_spheres_are_validated_and_join_the_solid_mask():
    p = LatticeFluid(shape=(12, 10), tau=0.8, spheres=[(6.0, 5.0, 2.2)])
    assert p.solid is not None and p.solid.sum() == sphere_nodes(np.array([[6.0, 5.0, 2.2]]), (12, 10)).sum()
    assert p.spheres.shape == (1, 3)
    for bad, match in [([(6.0, 5.0)], "shape"), ([(6.0, 5.0, -1.0)], "radius"), ([(60.0, 50.0, 1.0)], "covers no node"),
                       ([(np.nan, 5.0, 1.0)], "finite"), ([], "shape"), ("circle", "spheres"),
                       ([(6.0, 5.0, 100.0)], "fluid nodes")]:
        with pytest.raises(tk.InvalidProblemError, match=match):
            LatticeFluid(shape=(12, 10), tau=0.8, spheres=bad)
    with pytest.raises(tk.InvalidProblemError, match="wall"):
        cylinder_channel((30, 12), radius=2, wall="smooth")
    assert cylinder_channel((30, 12), radius=2).spheres is not None
    assert cylinder_channel((30, 12), radius=2, wall="staircase").spheres is None


def test_d3q19_sphere_links_lie_on_the_sphere():
    p = LatticeFluid(shape=(14, 12, 12), lattice="D3Q19", tau=0.8, spheres=[(7.1, 6.2, 5.9, 3.1)], steps=1)
    lat = lattice("D3Q19")
    links = wall_links(p, build_domain(p, lat), lat)
    X = links.node + 0.5 + links.q[:, None] * lat.c[links.direction]
    assert np.abs(np.linalg.norm(X - [7.1, 6.2, 5.9], axis=1) - 3.1).max() < 1e-12


#: Schäfer & Turek 2D-1 (Re = 20) drag coefficient, John's reference value (Schäfer & Turek, Notes
#: Numer. Fluid Mech. 52, 547 (1996), doi:10.1007/978-3-322-89849-4_39; the benchmark's 5.57–5.59).
ST_DRAG = 5.57953


@pytest.mark.slow
def test_schafer_turek_2d1_drag_within_one_percent():
    """Schäfer–Turek 2D-1 at D = 10 nodes (220 × 41 channel, 22 D long), TRT, interpolated wall:
    C_D within 1 % of 5.57953 (measured 5.6025, +0.41 %; the staircase wall at the same
    resolution gives +1.64 %). The lattice speed is U = 0.025 (peak Mach 0.065): at U = 0.05 the
    compressibility error alone is ~+1.4 % (C_D +1.84 % with the interpolated wall), which is
    most of the "staircase error" of the tutorial's former settings. 30,000 steps are ~3.7
    viscous times D²/ν; C_D changes by < 0.1 % over the last 9,000."""
    D, U = 10, 0.025
    p = cylinder_channel((22 * D, round(4.1 * D)), radius=D / 2, center=(2 * D, 2 * D), reynolds=20, inflow=U,
                         steps=30000, save_every=3000, profile="parabolic")
    s = tk.solve(p, TRT(), progress=False)      # serial: 270 M node updates, ~14 s of one core
    cd = np.array([s.drag_coefficient(U, D, frame=i) for i in (-4, -1)])
    assert s.successful
    assert cd[-1] == pytest.approx(ST_DRAG, rel=0.01)
    assert abs(cd[1] / cd[0] - 1) < 2e-3
