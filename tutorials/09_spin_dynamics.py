"""Spin-dynamics tutorial: a quench of the triangular Kondo lattice into the chiral triple-Q state.
================================================================================================

Classical unit spins S_i coupled to electrons, ``H = t sum_<ij>,s c_is^dag c_js - J sum_i S_i . c_i^dag
sigma c_i`` (t = -1, J = 2, quarter filling: N/2 electrons in the 2N levels), evolve by stochastic
Landau-Lifshitz-Gilbert dynamics whose forces -dF/dS_i come from exact diagonalisation of the
electrons at every step (Barros & Kato, PRB 88, 235101 (2013), doi:10.1103/PhysRevB.88.235101).
At this filling the Fermi surface is nested at the three M points and the ground state is the
four-sublattice triple-Q state: spins on the corners of a tetrahedron, the same scalar chirality
4 / (3 sqrt 3) on every triangle, and a gap with a Chern band below it (Martin & Batista, PRL 101,
156402 (2008), doi:10.1103/PhysRevLett.101.156402), so a quantised Hall conductance e^2 / h.

1. Quench from random spins: overdamped bath (damping 8) annealed from kT = 0.005 to 0, then
   held at 0 (``triple_q_quench``); energy and mean absolute chirality against time.
2. The final texture, triangles coloured by chirality.
3. The static structure factor S(q): N/3 at each of the three M points.
4. The Chern number of the occupied bands (Fukui-Hatsugai-Suzuki, twisted boundary conditions) and
   the Hall conductance; the ferromagnet and 120 degree states for comparison.
5. Domain coarsening: a triangular ferromagnet with a strong easy axis (an Ising-like Z2 magnet)
   quenched from random spins; the domain length ell(t) grows as t^(1/2) (Allen-Cahn), the law a
   non-conserved Z2 order follows (``sol.coarsening``; Bray, Adv. Phys. 43, 357 (1994)). The chiral
   domains of the Kondo lattice grow faster (Fan, Zhang & Chern, PRB 2024; ``benchmarks/spin.py
   --coarsening-L``).

Env: ``SCALEBRIDGE_SMALL=1`` (6 x 6, a few seconds), ``SCALEBRIDGE_OUT`` (figure folder, default out/).
"""

import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import toolkit as tk
from problems.spin_dynamics import TRIPLE_Q_CHIRALITY
from solvers.spin_dynamics import SIB, triple_q_quench
from solvers.spin_dynamics.observables import TRIANGULAR_POINTS
from solvers.tight_binding import ExactDiagonalization

SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if SMALL:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
OUT = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)

L, steps = (6, 800) if SMALL else (12, 2000)

# 1. the quench ----------------------------------------------------------------------------------
problem = triple_q_quench((L, L), seed=1, steps=steps, save_every=20)
t0 = time.perf_counter()
sol = tk.solve(problem, SIB(forces=ExactDiagonalization(), seed=1), progress=False)
wall = time.perf_counter() - t0
N = problem.sites
ideal = tk.solve(triple_q_quench((L, L), state="triple-q", steps=0), SIB(forces=ExactDiagonalization()),
                 progress=False).energy[0] / N
chi = np.abs(sol.chirality[-1]) / TRIPLE_Q_CHIRALITY
print(f"{L}x{L} quench, {steps} SIB steps with ED forces: {wall:.1f} s ({sol.stats['field_evaluations']} force "
      f"evaluations); {sol.retcode}")
print(f"energy per site {sol.energy[-1] / N:.6f} (ideal triple-Q {ideal:.6f}, difference "
      f"{sol.energy[-1] / N - ideal:.2e}); |chi| / ideal: mean {chi.mean():.4f}, min {chi.min():.4f}")

# 2. texture, S(q) and the relaxation --------------------------------------------------------------
fig = sol.plot()
fig.savefig(OUT / "spin_quench.png", dpi=110)
plt.close(fig)

# 3. the structure factor ------------------------------------------------------------------------
sf = sol.structure_factor()
print("S(q) / (N/3) at the M points:", np.round(sol.m_point_weights() / (N / 3), 4),
      f"; at Gamma {sf.at(TRIANGULAR_POINTS['Gamma']) / N:.2e} N")
fig = sol.plot(kind="structure_factor")
fig.savefig(OUT / "spin_structure_factor.png", dpi=110)
plt.close(fig)

# 4. Chern number and Hall conductance -------------------------------------------------------------
chern = sol.chern_number(twists=4)
print(f"quenched texture: Chern number {chern.chern} (grid sum {chern.value:+.6f}, gap {chern.gap:.3f}, "
      f"{chern.occupied} occupied levels) -> sigma_xy = {chern.hall_conductance:+.0f} e^2/h = "
      f"{chern.hall_conductance_si:+.4e} S; chirality sign {np.sign(sol.chirality[-1][0]):+.0f}")
for state in ("ferro", "120"):
    other = triple_q_quench((L, L), state=state, steps=0)
    from solvers.spin_dynamics import chern_number

    c = chern_number(other, twists=4)
    print(f"{state:>5} state at quarter filling: gap {c.gap:.2e} -> {'insulator, C = %d' % c.chern if c.gapped else 'a metal (no quantised Hall conductance)'}")
    strong = chern_number(tk.remake(other, model=tk.remake(other.model, J=6.0, filling=0.5)), twists=4)
    print(f"{state:>5} state, J = 6 at half filling: gapped {strong.gapped}, C = {strong.chern}")

# 5. domain coarsening ---------------------------------------------------------------------------
from problems.spin_dynamics import classical_lattice  # noqa: E402
from solvers.spin_dynamics import OverdampedLangevin  # noqa: E402

side = 48 if SMALL else 128
ising = classical_lattice("triangular", (side, side), state="random", seed=0, exchange=-1.0, anisotropy=3.0,
                          temperature=1.6, damping=1.0, dt=0.05, steps=3000, save_every=75)
coarse = tk.solve(ising, OverdampedLangevin(seed=0), progress=False).coarsening("magnetisation")
print(f"Ising-like quench on {side}x{side}: domain length {coarse.length[1]:.1f} -> {coarse.length[-1]:.1f}, growth "
      f"exponent {coarse.exponent:.2f} +- {coarse.exponent_error:.2f} for t in {coarse.window} (Allen-Cahn: 1/2)")
fig = coarse.plot()
fig.savefig(OUT / "spin_coarsening.png", dpi=110)
plt.close(fig)

