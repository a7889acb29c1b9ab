"""Spin-dynamics benchmark (issue 18): Langevin steps per second with ED and with KPM forces.

Stochastic LLG (``StochasticHeun``, ``SIB``, ``DepondtMertens``: two force evaluations per step) and the
overdamped ``OverdampedLangevin`` (one per step) on the periodic
triangular Kondo lattice at quarter filling (t = -1, J = 2, electron kT = 0.05), forces from
``ExactDiagonalization()`` (dense eigh, O(N^3)) and from ``KPM(order, GradientProbing(distance))``
(O(N) per evaluation), L = 6 up to ``--max-L``; one core (NUMBA_NUM_THREADS=1 and one BLAS
thread). ED is skipped past ``--ed-max-L``. Each line gives steps per second, seconds per step and
the force provider's share of the time.

Medians of several repeats; the load average is printed (the machine may be shared). ``--quick``:
tiny sizes, a smoke test (a few seconds).

Then the chiral quench (``triple_q_quench``: SIB, ED forces, overdamped bath annealed to 0) from
random spins into the triple-Q state on L x L, for a few seeds: wall time, min |chi| / ideal,
S(q) / (N/3) at the three M points, energy per site above the ideal triple-Q state, Chern number.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import toolkit as tk  # noqa: E402
from problems.spin_dynamics import TRIPLE_Q_CHIRALITY  # noqa: E402
from solvers.spin_dynamics import (SIB, DepondtMertens, OverdampedLangevin, StochasticHeun,  # noqa: E402
                                   kondo_triangular, triple_q_quench)
from solvers.tight_binding import KPM, ExactDiagonalization, GradientProbing  # noqa: E402


def steps_per_second(L, scheme, forces, steps, repeats):
    problem = kondo_triangular((L, L), state="random", seed=1, kT=0.05, temperature=0.05, damping=0.2, dt=0.05,
                               steps=steps, save_every=steps)
    rates, share = [], []
    for r in range(repeats):
        integ = tk.init(problem, scheme(forces=forces, seed=r), progress=False)
        cache = integ.field.cache
        spent = [0.0]
        real = cache.energy_gradient

        def timed(spins, real=real):
            t = time.perf_counter()
            out = real(spins)
            spent[0] += time.perf_counter() - t
            return out

        cache.energy_gradient = timed
        t = time.perf_counter()
        integ.run()
        wall = time.perf_counter() - t
        assert integ.retcode is None or integ.retcode.successful, integ.message
        rates.append(steps / wall)
        share.append(spent[0] / wall)
    return float(np.median(rates)), float(np.median(share))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--max-L", type=int, default=48)
    ap.add_argument("--ed-max-L", type=int, default=18)
    ap.add_argument("--order", type=int, default=200)
    args = ap.parse_args(argv)
    sizes = [6] if args.quick else [L for L in (6, 12, 18, 24, 36, 48, 72, 96) if L <= args.max_L]
    steps, repeats = (4, 1) if args.quick else (20, 3)
    kpm = KPM(order=64 if args.quick else args.order, estimator=GradientProbing(distance=2), bounds="gershgorin")
    print(f"load average {os.getloadavg()[0]:.2f}; one core; triangular Kondo lattice, quarter filling, J = 2")
    print(f"{'L':>4} {'N':>6} {'forces':>8} {'scheme':>18} {'steps/s':>10} {'s/step':>9} {'forces share':>13}")
    for L in sizes:
        providers = [("KPM", kpm)] + ([("ED", ExactDiagonalization())] if L <= args.ed_max_L else [])
        for name, forces in providers:
            for scheme in (StochasticHeun, SIB, DepondtMertens, OverdampedLangevin):
                rate, share = steps_per_second(L, scheme, forces, steps, repeats)
                print(f"{L:>4} {L * L:>6} {name:>8} {scheme.__name__:>18} {rate:>10.3g} {1 / rate:>9.3g} "
                      f"{100 * share:>12.0f}%", flush=True)
    quench_figures(6, [0] if args.quick else range(5), 800)


def quench_figures(L, seeds, steps):
    ed = ExactDiagonalization()
    ideal_problem = triple_q_quench((L, L), state="triple-q", steps=0)
    ideal = tk.solve(ideal_problem, SIB(forces=ed), progress=False).energy[0] / ideal_problem.sites
    print(f"\nchiral quench {L}x{L}, {steps} SIB steps, ED forces (ideal triple-Q energy per site {ideal:.6f})")
    print(f"{'seed':>5} {'wall s':>7} {'min|chi|/ideal':>15} {'S(M)/(N/3)':>22} {'dE/site':>9} {'C':>3}")
    for seed in seeds:
        problem = triple_q_quench((L, L), seed=seed, steps=steps, save_every=steps)
        t = time.perf_counter()
        sol = tk.solve(problem, SIB(forces=ed, seed=seed), progress=False)
        wall = time.perf_counter() - t
        n = problem.sites
        chi = np.abs(sol.chirality[-1]).min() / TRIPLE_Q_CHIRALITY
        w = sol.m_point_weights() / (n / 3)
        c = sol.chern_number(twists=4)
        print(f"{seed:>5} {wall:>7.1f} {chi:>15.4f} {np.array2string(w, precision=3):>22} "
              f"{sol.energy[-1] / n - ideal:>9.1e} {c.chern if c.gapped else '-':>3}", flush=True)


if __name__ == "__main__":
    main()
