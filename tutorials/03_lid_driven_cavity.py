"""Lid-driven cavity at Re = 100 (and Re = 1000) against Ghia, Ghia & Shin (1982).
===============================================================================

A square cavity with three no-slip walls and a lid sliding at speed U (moving-wall
bounce-back, Ladd, J. Fluid Mech. 271, 285 (1994), doi:10.1017/S0022112094001771) reaches a
steady primary vortex. Its centreline velocities are the classic benchmark of Ghia, Ghia &
Shin, J. Comput. Phys. 48, 387 (1982), doi:10.1016/0021-9991(82)90058-4. Lattice units:
ν = U n / Re; the lid speed is kept low (Ma = U√3 < 0.2) to limit compressibility error.
The TRT collision (Ginzburg 2005) is used; swap in ``MRT()`` or ``BGK()`` with one word.

Environment: SCALEBRIDGE_SMALL=1 for a tiny run, SCALEBRIDGE_OUT for the figure folder;
SCALEBRIDGE_RE1000=1 also runs Re = 1000 on a 128² grid (several minutes).
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import toolkit as tk
from problems.lattice_fluid import lid_driven_cavity
from solvers.lattice_boltzmann import TRT
from solvers.lattice_boltzmann.ghia import U, V, centrelines

small = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if small:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
out = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
out.mkdir(parents=True, exist_ok=True)

cases = [(100, 24 if small else 64, 0.1, 3000 if small else 25000)]
if os.environ.get("SCALEBRIDGE_RE1000") == "1" and not small:
    cases.append((1000, 128, 0.1, 80000))

fig, axes = plt.subplots(len(cases), 3, figsize=(14, 4.2 * len(cases)), squeeze=False)
for row, (re, n, lid, steps) in zip(axes, cases):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # Ma = 0.17: intended, see the docstring
        problem = lid_driven_cavity(n, reynolds=re, lid_velocity=lid, steps=steps, save_every=steps // 2)
    sol = tk.solve(problem, TRT(), progress=False)
    u, v = centrelines(sol.velocity[-1], lid)
    change = np.abs(sol.velocity[-1] - sol.velocity[-2]).max() / lid
    du = np.abs(u - U[re][:, 1]).max()
    dv = np.abs(v - V[re][:, 1]).max()
    print(f"Re = {re}: {n}² nodes, {steps} steps ({sol.stats['wall_time']:.1f} s), last-half change {change:.1e}; "
          f"max |u − Ghia| = {du:.4f} U, max |v − Ghia| = {dv:.4f} U")
    sol.plot(ax=row[0])
    pos = (np.arange(n) + 0.5) / n
    ucol = 0.5 * (sol.velocity[-1, n // 2 - 1, :, 0] + sol.velocity[-1, n // 2, :, 0]) / lid
    vrow = 0.5 * (sol.velocity[-1, :, n // 2 - 1, 1] + sol.velocity[-1, :, n // 2, 1]) / lid
    row[1].plot(ucol, pos, "-", label="LBM (TRT)")
    row[1].plot(U[re][:, 1], U[re][:, 0], "ko", label="Ghia et al. 1982")
    row[1].set_xlabel("u/U on x = 1/2")
    row[1].set_ylabel("y")
    row[1].legend()
    row[2].plot(pos, vrow, "-", label="LBM (TRT)")
    row[2].plot(V[re][:, 0], V[re][:, 1], "ko", label="Ghia et al. 1982")
    row[2].set_xlabel("x")
    row[2].set_ylabel("v/U on y = 1/2")
    row[2].legend()
    row[1].set_title(f"Re = {re}")
fig.tight_layout()
fig.savefig(out / "03_lid_driven_cavity.png", dpi=110)
print("wrote", out / "03_lid_driven_cavity.png")
