"""Density fields with long-range (Kac) interactions: patterns and onion droplets.
===============================================================================

Free energy F[phi] = 1/2 ∫∫ phi V_R phi + ∫ f(phi), with a repulsive step (Kac) interaction of
range R whose Fourier transform V(k) has a negative minimum at k* R = 5.76 (3D). When
V(k*) + f''(phi) < 0 the uniform state is unstable to modulations; in 2D a relaxation gives
stripes (symmetric f) or hexagons (a cubic term). Barros & Klein, J. Chem. Phys. 139, 174505
(2013), doi:10.1063/1.4827397, showed that a liquid quenched close to its spinodal nucleates
through a spherically symmetric "onion" droplet: radial density shells at the wavelength
2π/k*. We compute such droplets as saddle points by Newton-Krylov on the radial profile and
map their barrier ΔF against the quench depth eps - eps_s (eps_s = -V(k*) = 0.0862) for the
Landau local part eps/2 phi^2 - g/3 phi^3 + phi^4/4 with g = 0.5 (convex: g^2 < 3 eps).
The bcc crystal coexists with the liquid near eps = 0.113, so the metastable window is
eps - eps_s < ~0.027. Continuing the radial onion saddle in steps of 0.0005, its unstable
eigenvalue goes from -0.0117 (at 0.006) to -0.0039 (at 0.0125), and Newton-Krylov loses the
branch at 0.013: the onion branch ends at a fold near eps - eps_s = 0.013, about half-way across
the window. Shallower quenches must nucleate through other (bcc-like) droplets.

Environment: SCALEBRIDGE_SMALL=1 for tiny sizes, SCALEBRIDGE_OUT for the figure folder.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import toolkit as tk
from problems.density_field import Relaxation, kac_landau_field, kac_lattice_gas_field, onion_barrier
from solvers.density_field import RadialNewtonKrylov, SemiImplicit

small = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if small:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
out = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
out.mkdir(parents=True, exist_ok=True)
n2 = 32 if small else 96

# 1. stripes: Kac step + convex Landau part (eps > 0; a non-convex local part would let grid-scale
#    modes grow, since V(k) -> 0 at large k), conserved mean density 0
stripes = tk.solve(Relaxation(field=kac_landau_field(n=n2, length=float(n2), R=4.0, eps=0.05, g=0.0, seed=2),
                              conserved=True),
                   SemiImplicit(relax_dt=4.0, tol=1e-6, max_iters=300 if small else 3000))
# 2. hexagons: the clump model (Kac step + lattice-gas entropy at low T) at mean density 0.3
hexagons = tk.solve(Relaxation(field=kac_lattice_gas_field(n=n2, length=float(n2), R=4.0, T=0.025, mean=0.3, seed=2),
                               conserved=True),
                    SemiImplicit(relax_dt=4.0, tol=1e-6, max_iters=300 if small else 3000))
print(f"stripes : {stripes.retcode}, F = {stripes.free_energy[-1]:.4f}, iterations {stripes.iterations[-1]}")
print(f"hexagons: {hexagons.retcode}, F = {hexagons.free_energy[-1]:.4f}, iterations {hexagons.iterations[-1]}")

# 3. onion droplets: barrier vs quench depth (radial Newton-Krylov, 3D)
eps_s = 0.08617
depths = [0.002, 0.004, 0.008] if small else [0.0015, 0.002, 0.003, 0.004, 0.006, 0.008, 0.012]
rows = []
for d in depths:
    sol = tk.solve(onion_barrier(eps=eps_s + d, n=24, length=7.2, amplitude=0.4, width=1.5),
                   RadialNewtonKrylov(points=512, r_max=24.0))
    rows.append((d, sol))
    print(f"eps - eps_s = {d:.4f}: {sol.retcode}, ΔF = {sol.barrier:.3e}, negative radial modes "
          f"{sol.negative_modes}, residual {sol.residual:.1e}")
onion = rows[0][1]

fig, axes = plt.subplots(2, 2, figsize=(10, 9))
for ax, sol, title in ((axes[0, 0], stripes, "stripes (Kac + Landau)"), (axes[0, 1], hexagons, "hexagonal clumps (Kac + lattice gas)")):
    ax.imshow(sol.phi, origin="lower", cmap="viridis")
    ax.set_title(title)
axes[1, 0].plot(onion.radius, onion.profile)
axes[1, 0].set_xlabel("r / R")
axes[1, 0].set_ylabel("phi(r)")
axes[1, 0].set_title(f"onion droplet, eps - eps_s = {rows[0][0]}")
ok = [(d, s.barrier) for d, s in rows if s.successful and s.negative_modes == 1]
if ok:
    axes[1, 1].loglog(*zip(*ok), "o-")
axes[1, 1].set_xlabel("quench depth eps - eps_s (closer to the spinodal: smaller)")
axes[1, 1].set_ylabel("onion barrier ΔF")
fig.tight_layout()
fig.savefig(out / "08_density_field.png", dpi=100)

# a slice through the 3D onion droplet mapped on a grid
fig, ax = plt.subplots(figsize=(5, 4.5))
big = onion_barrier(eps=eps_s + rows[0][0], n=24 if small else 64, length=7.2 if small else 19.2)
grid_sol = tk.solve(big, RadialNewtonKrylov(points=512, r_max=24.0, guess="onion", amplitude=0.4, width=1.5))
cut = grid_sol.phi[:, :, grid_sol.phi.shape[2] // 2]
vmax = 0.25 * np.abs(cut).max()                     # saturate the core to show the outer shells
extent = (0, big.field.length[1], 0, big.field.length[0])
im = ax.imshow(cut, origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax, extent=extent)
fig.colorbar(im, ax=ax, label="phi")
ax.set_xlabel("y / R")
ax.set_ylabel("x / R")
ax.set_title("slice through the onion droplet (core saturated)")
fig.savefig(out / "08_onion_slice.png", dpi=100)
print(f"figures in {out}/")
# The bcc-like droplet side of the comparison takes the full grid: SizeScan (solvers.density_field)
# finds the top of E(s) = min F at fixed droplet size and continues automatically (Newton from the
# midpoint of two shape branches, dimer descents of extra unstable modes) to an index-1 saddle.
# The map of both kinds against quench depth in one box (six depths, 36 min on two cores) and its
# figure:
#   python benchmarks/field.py --science --map-only --workers 2
