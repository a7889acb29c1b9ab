"""Channel flow: force-driven Poiseuille flow with the lattice Boltzmann method.
=============================================================================

A fluid between two no-slip walls (half-way bounce-back), periodic along the channel and
driven by a uniform body force g (Guo forcing: Guo, Zheng & Shi, Phys. Rev. E 65, 046308
(2002), doi:10.1103/PhysRevE.65.046308), reaches the parabola

    u_x(y) = g / (2ν) · (y + 1/2)(H − 1/2 − y),      ν = c_s²(τ − 1/2),

with the walls half a cell outside the first and last nodes. TRT with the magic parameter
Λ = 3/16 reproduces it to round-off (Ginzburg, Adv. Water Resour. 28, 1171 (2005),
doi:10.1016/j.advwatres.2005.03.004); BGK leaves a τ-dependent wall-slip error; MRT with the
default energy-flux rate behaves like TRT. The script also converts a physical water flow
to lattice units with ``lattice_units``.

Environment: SCALEBRIDGE_SMALL=1 for a tiny run, SCALEBRIDGE_OUT for the figure folder.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import toolkit as tk
from problems.lattice_fluid import channel, lattice_units
from solvers.lattice_boltzmann import BGK, MRT, TRT

small = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if small:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
out = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
out.mkdir(parents=True, exist_ok=True)

# water (ν = 1e-6 m²/s) in a 1 mm channel at 1 mm/s, 16 nodes across, Δt chosen for τ = 0.8
H = 8 if small else 16
units = lattice_units(length=1e-3, velocity=1e-3, viscosity=1e-6, dx=1e-3 / H, dt=0.1 * (1e-3 / H) ** 2 / 1e-6)
print("units:", units)

tau, g = units.tau, 1e-6
nu = (tau - 0.5) / 3
steps = int(40 * H ** 2 / (np.pi ** 2 * nu))  # 40 e-folds of the slowest mode: steady to round-off
problem = channel((4, H), tau=tau, force=g, steps=steps)
y = np.arange(H)
exact = g / (2 * nu) * (y + 0.5) * (H - 0.5 - y)

fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(10, 4))
ax.plot(exact / exact.max(), y, "k-", lw=3, alpha=0.3, label="exact")
for solver in (BGK(), TRT(), MRT()):
    sol = tk.solve(problem, solver, progress=False)
    u = sol.velocity[-1, 0, :, 0]
    err = np.abs(u - exact).max() / exact.max()
    name = type(solver).__name__
    print(f"{name:4s} τ = {tau:.3f}: max |u − u_exact| / u_max = {err:.2e} ({sol.stats['wall_time']:.2f} s)")
    ax.plot(u / exact.max(), y, "o", ms=4, label=name)
    ax_err.semilogx(np.abs(u - exact) / exact.max() + 1e-17, y, ".-", label=name)
ax.set_xlabel("u_x / u_max")
ax.set_ylabel("y (node)")
ax.legend()
ax_err.set_xlabel("|u − u_exact| / u_max")
ax_err.legend()
fig.suptitle(f"Poiseuille channel, H = {H}, τ = {tau:.3f}")
fig.tight_layout()
fig.savefig(out / "02_channel_flow.png", dpi=110)
print("wrote", out / "02_channel_flow.png")
