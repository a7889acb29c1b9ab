"""Tight-binding tutorial: densities of states by KPM and the stochastic error of the density matrix.
==================================================================================================

Electrons hopping on a lattice, ``H = -t sum_<ij> c_i^dag c_j``, solved with the kernel polynomial
method (Weisse, Wellein, Alvermann & Fehske, Rev. Mod. Phys. 78, 275 (2006),
doi:10.1103/RevModPhys.78.275): Chebyshev moments ``mu_n = Tr T_n(H~)`` estimated with a few
random vectors give the density of states in O(N) time.

1. Square lattice: the exact DOS ``rho(E) = K(1 - E^2/16) / (2 pi^2 t)`` has a logarithmic van
   Hove peak at E = 0.
2. Graphene (honeycomb): linear DOS ``|E| / (sqrt(3) pi t^2)`` per site near the Dirac point.
3. The density matrix ``rho = f(H)`` on nearest-neighbour bonds, estimated with S vectors: random
   vectors converge like S^(-1/2); probing vectors (a distance-k colouring) and especially
   gradient-based probing, where rho is the derivative of the estimated grand potential with
   respect to H (Wang, Chern, Batista & Barros, J. Chem. Phys. 148, 094107 (2018),
   doi:10.1063/1.5017741), converge faster in a zero-temperature 2D metal. Log-log plot with
   fitted exponents.
4. A Kondo lattice with classical spins: forces -dOmega/dS from KPM vs exact diagonalisation.

Env: ``SCALEBRIDGE_SMALL=1`` (tiny sizes), ``SCALEBRIDGE_OUT`` (figure folder, default out/).
"""

import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import scipy.special

import toolkit as tk
from problems.tight_binding import lattice_problem
from solvers.tight_binding import KPM, Exact, ExactDiagonalization, GradientProbing, RandomVectors
from solvers.tight_binding.scaling import error_scaling

SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if SMALL:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
OUT = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)

# 1-2. densities of states ------------------------------------------------------------------
L_sq, L_hc = (64, 48) if SMALL else (512, 200)
order = 256 if SMALL else 1024
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
t0 = time.perf_counter()
square = tk.solve(lattice_problem("square", L_sq, mu=0.0, local=False, dos_points=801),
                  KPM(order=order, estimator=RandomVectors(count=8)))
E = square.energies
exact = np.where(np.abs(E) < 4, scipy.special.ellipk(np.clip(1 - (E / 4) ** 2, 0, 1 - 1e-15)) / (2 * np.pi**2), 0)
square.plot(axes[0])                        # draws the exact square-lattice DOS beside the KPM one
axes[0].set_ylim(0, 0.6)
axes[0].legend(frameon=False)
axes[0].set_title(f"square lattice {L_sq}x{L_sq}, {order} moments")
mask = (np.abs(E) > 0.5) & (np.abs(E) < 3.5)
print(f"square lattice {L_sq}x{L_sq}: max relative DOS error for 0.5<|E|<3.5: "
      f"{np.max(np.abs(square.dos[mask] / exact[mask] - 1)):.3f}; {time.perf_counter() - t0:.2f} s")

graphene = tk.solve(lattice_problem("honeycomb", L_hc, mu=0.0, local=False, dos_points=801),
                    KPM(order=order, estimator=RandomVectors(count=8)))
Eg = graphene.energies
graphene.plot(axes[1])
axes[1].plot(Eg, np.abs(Eg) / (np.sqrt(3) * np.pi), "k--", lw=0.8, label="|E|/(sqrt(3) pi)")
axes[1].set_ylim(0, 0.5)
axes[1].legend(frameon=False)
axes[1].set_title(f"graphene {L_hc}x{L_hc} cells")
e = np.abs(Eg)
sel = (e > 0.1) & (e < 0.5)
slope = np.linalg.lstsq(np.stack([e[sel], e[sel] ** 3], 1), graphene.dos[sel], rcond=None)[0][0]
print(f"graphene: fitted Dirac slope {slope:.4f} vs exact {1 / (np.sqrt(3) * np.pi):.4f}")
fig.tight_layout()
fig.savefig(OUT / "tight_binding_dos.png", dpi=120)

# 3. error scaling --------------------------------------------------------------------------
t0 = time.perf_counter()
if SMALL:
    result = error_scaling(L=24, order=64, counts=(4, 16), distances=(1, 3), seeds=1)
else:
    result = error_scaling(L=120, order=256, counts=(4, 8, 16, 32, 64, 128), distances=(1, 2, 3, 4, 5, 7, 9),
                           seeds=2)
fig, ax = plt.subplots(figsize=(5, 4))
for (name, (S, err, slope)), marker in zip(result.items(), "osd"):
    ax.loglog(S, err, marker + "-", label=f"{name}: S^{slope:.2f}")
    print(f"{name:17s} S = {[int(x) for x in S]}  error = {[f'{x:.2e}' for x in err]}  fitted exponent {slope:.2f}")
S = np.array([4, 150])
ax.loglog(S, 0.3 * (S / 4) ** -0.5, "k:", lw=0.8, label="S^-1/2")
ax.loglog(S, 0.15 * (S / 4) ** -1.0, "k--", lw=0.8, label="S^-1")
ax.set_xlabel("number of vectors S")
ax.set_ylabel("rms error of rho on bonds")
ax.set_title("2D metal, T = 0 (square lattice, mu = -0.5)")
ax.legend(frameon=False, fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "tight_binding_error_scaling.png", dpi=120)
print(f"error scaling: {time.perf_counter() - t0:.1f} s")

# 4. Kondo lattice spin forces --------------------------------------------------------------
problem = lattice_problem("square", 4 if SMALL else 8, spins="random", J=2.0, kT=0.1, filling=0.3, seed=5,
                          local=True)     # ask for the density matrix and spin forces, not only the DOS
ed = tk.solve(problem, ExactDiagonalization())
kpm = tk.solve(problem, KPM(order=512, estimator=Exact()))
grad = tk.solve(problem, KPM(order=512, estimator=GradientProbing(distance=3)))
print(f"Kondo lattice {problem.sites} sites: |F_KPM(exact) - F_ED| = {np.abs(kpm.forces - ed.forces).max():.2e}, "
      f"|F_gradient probing - F_ED| = {np.abs(grad.forces - ed.forces).max():.2e} "
      f"(max |F| = {np.abs(ed.forces).max():.2f})")
