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

Then the scaling of one force evaluation (``OverdampedLangevin``: one per step) from L = 12 to
``--max-L``: the fitted exponent of KPM's time per step against N (target 1.00 +- 0.1), the L where
KPM overtakes ED, the cost split of a step (forward recursion with the moments, backward gradient
sweep, the rest: integrator and bookkeeping), and the KPM force evaluation's memory traffic as a fraction of the machine's
measured bandwidth (the numba triad of ``benchmarks/kpm.py``). Bytes moved per evaluation are
counted as an SpMV-based sweep must move them (the lower bound): per probing block of S vectors
(M orbitals, nnz stored entries), ``order`` forward steps on S columns (read the matrix, nnz x 20 B
of complex value + index; read X, read and write P: 3 x M x 16 B x S) and ``order`` backward
steps on the 2 S columns of ``[alpha | lambda]`` (the matrix again, 3 x M x 16 B x 2 S, and the
source r read: M x 16 B x S). Until 2026-12-07 the backward sweep was counted at S columns
without its source, 2 x order x (nnz x 20 + 3 x M x 16 x S): on the Kondo lattice (nnz = 8 M) at
S = 18 that is 0.64 of the corrected count, so fractions printed before then are 1.5625 times too
small. Beside it, ``ns/number``: the force evaluation's time per real number a Chebyshev step
writes (order x 3 S x 2 M of them), a machine-level figure of the kernels' speed.

Then Metropolis Monte Carlo on the same energy (``Metropolis(forces=ExactDiagonalization())``) at
L = ``--metropolis-L`` (default 6): the time of one ``eigvalsh`` of the 2N x 2N Kondo matrix, of one
proposal (the force cache's update with the new spins and an eigenvalue-only solve), and sweeps
(N proposals) per second at T = 0.05 from the triple-Q state.

Then the chiral quench (``triple_q_quench``: SIB, overdamped bath annealed to 0) from random spins
into the triple-Q state on L x L (``--quench-L``, ED forces up to ``--ed-max-L``, else KPM with
``--quench-order`` moments and probing distance 3), for a few seeds: wall time, min |chi| / ideal,
S(q) / (N/3) at the three M points, energy per site above the ideal triple-Q state (ED only),
Chern number (ED only).

``--coarsening-L 48`` runs only the coarsening of chiral domains: the same quench (SIB, KPM with
``--quench-order`` moments and probing distance ``--quench-distance``) but with the bath held at
``--coarsening-kT``, for ``--quench-steps`` steps; every 10 steps the domain length ell of the chirality
(``solvers.spin_dynamics.coarsening``: half-height of the correlation of sign(chi)) and the mean |chi|;
then the growth exponent fitted from the frame where the mean |chi| first passes 0.7 of the ideal (the
local order has formed) to the last frame with ell < L / 4 (and over its later half in log t, and the
effective exponent over successive windows [t, 2 t]), beside the Allen-Cahn 1/2 that the
Ising-like classical reference of ``tests/spin_dynamics/test_coarsening.py`` reaches and the nearly
linear growth Fan, Zhang & Chern (PRB 2024, arXiv:2403.11705) found for these chiral domains.

``--quench-time-L 48`` runs only the timing of the issue: the KPM chiral quench on 48 x 48 until the mean
|chi| over triangles reaches 0.9 of the ideal (checked every 25 steps), on one core, or on two with
``NUMBA_NUM_THREADS=2`` (the KPM sweeps spread their pieces over the threads).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

import toolkit as tk  # noqa: E402
from problems.spin_dynamics import TRIPLE_Q_CHIRALITY  # noqa: E402
from solvers.spin_dynamics import (SIB, DepondtMertens, Metropolis, OverdampedLangevin,  # noqa: E402
                                   StochasticHeun, kondo_triangular, triple_q_quench)
from solvers.spin_dynamics.solution import chirality_frames  # noqa: E402
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
    ap.add_argument("--quench-L", type=int, default=6, help="size of the chiral quench (KPM forces past --ed-max-L)")
    ap.add_argument("--quench-order", type=int, default=1000, help="KPM moments of a KPM quench (electron kT 0.01)")
    ap.add_argument("--seeds", type=int, default=5, help="quench seeds")
    ap.add_argument("--skip-schemes", action="store_true", help="only the scaling and the quench")
    ap.add_argument("--metropolis-L", type=int, default=6, help="size of the Metropolis timing (0: skip it)")
    ap.add_argument("--quench-time-L", type=int, default=0,
                    help="only time the KPM chiral quench on this L x L to mean |chi| >= 0.9 ideal (e.g. 48); "
                         "NUMBA_NUM_THREADS=2 for two cores")
    ap.add_argument("--quench-distance", type=int, default=3, help="probing distance of a KPM quench")
    ap.add_argument("--quench-steps", type=int, default=800, help="most steps of the timed quench")
    ap.add_argument("--coarsening-L", type=int, default=0, help="only the chiral coarsening on this L x L")
    ap.add_argument("--coarsening-kT", type=float, default=0.002, help="the bath's kT during the coarsening")
    ap.add_argument("--coarsening-figure", default=None,
                    help="a PNG of the chirality per cell at four times of the coarsening (e.g. chiral_domains.png)")
    args = ap.parse_args(argv)
    if args.coarsening_L:
        threads = numba.get_num_threads()
        forces = KPM(order=args.quench_order, estimator=GradientProbing(distance=args.quench_distance),
                     bounds="gershgorin", parallel=threads > 1)
        coarsening_figures(args.coarsening_L, forces, args.coarsening_kT, args.quench_steps,
                           figure=args.coarsening_figure)
        return
    if args.quench_time_L:
        threads = numba.get_num_threads()
        kpm_quench = KPM(order=args.quench_order, estimator=GradientProbing(distance=args.quench_distance),
                         bounds="gershgorin", parallel=threads > 1)
        print(f"chiral quench {args.quench_time_L}x{args.quench_time_L}, KPM ({args.quench_order} moments, probing "
              f"distance {args.quench_distance}), SIB, {threads} thread(s), load {os.getloadavg()[0]:.2f}", flush=True)
        steps, wall, mean, low = quench_timing(args.quench_time_L, kpm_quench, max_steps=args.quench_steps)
        print(f"{'reached' if mean >= 0.9 else 'NOT reached; at'} mean |chi|/ideal {mean:.3f} (min {low:.3f}) after "
              f"{steps} steps: {wall:.0f} s wall on {threads} core(s), {wall / steps:.2f} s per step")
        return
    sizes = [6] if args.quick else [L for L in (6, 12, 18, 24, 36, 48, 72, 96) if L <= args.max_L]
    steps, repeats = (4, 1) if args.quick else (20, 3)
    kpm = KPM(order=64 if args.quick else args.order, estimator=GradientProbing(distance=2), bounds="gershgorin")
    print(f"load average {os.getloadavg()[0]:.2f}; one core; triangular Kondo lattice, quarter filling, J = 2")
    print(f"{'L':>4} {'N':>6} {'forces':>8} {'scheme':>18} {'steps/s':>10} {'s/step':>9} {'forces share':>13}")
    for L in ([] if args.skip_schemes else [L for L in sizes if L <= 24]):
        providers = [("KPM", kpm)] + ([("ED", ExactDiagonalization())] if L <= args.ed_max_L else [])
        for name, forces in providers:
            for scheme in (StochasticHeun, SIB, DepondtMertens, OverdampedLangevin):
                rate, share = steps_per_second(L, scheme, forces, steps, repeats)
                print(f"{L:>4} {L * L:>6} {name:>8} {scheme.__name__:>18} {rate:>10.3g} {1 / rate:>9.3g} "
                      f"{100 * share:>12.0f}%", flush=True)
    scaling(sizes if args.quick else [L for L in sizes if L >= 12], kpm, args.ed_max_L, 2 if args.quick else 5,
            1 if args.quick else 3, args.quick)
    if args.metropolis_L:
        metropolis_figures(args.metropolis_L, 3 if args.quick else 30, 1 if args.quick else 5)
    if args.quench_L <= args.ed_max_L:
        quench_figures(args.quench_L, [0] if args.quick else range(args.seeds), 800)
    else:
        quench_figures(args.quench_L, range(args.seeds), 800,
                       KPM(order=args.quench_order, estimator=GradientProbing(distance=3), bounds="gershgorin"))
    if args.quick:                                 # the coarsening path, tiny (--coarsening-L runs it alone)
        coarsening_figures(6, kpm, args.coarsening_kT, 20, figure=args.coarsening_figure)


def _bytes_per_evaluation(cache, order):
    """SpMV-bound traffic of one KPM force evaluation and the real numbers its Chebyshev steps write
    (module docstring): forward sweep on S columns, backward on the 2 S of ``[alpha | lambda]``."""
    H = cache.H
    M = H.shape[0]
    moved = numbers = 0.0
    for R, _ in cache.blocks():
        S = R.shape[1]
        forward = H.nnz * 20.0 + 3.0 * M * 16.0 * S
        backward = H.nnz * 20.0 + 3.0 * M * 16.0 * 2 * S + M * 16.0 * S
        moved += order * (forward + backward)
        numbers += order * 3 * S * 2 * M
    return moved, numbers


def _force_split(problem, kpm, repeats=3):
    """Shares of the forward (moment) and backward (gradient) recursions in one KPM force evaluation, from a
    solve's stats (moments_time, local_time) over its wall time; medians of ``repeats``."""
    cache = tk.init(problem.model, kpm)
    shares = []
    for _ in range(repeats + 1):
        stats = cache.solve().stats
        shares.append((stats["moments_time"] / stats["wall_time"], stats.get("local_time", 0.0) / stats["wall_time"]))
    return tuple(np.median(np.array(shares[1:]), axis=0))


def scaling(sizes, kpm, ed_max_L, steps, repeats, quick):
    """Time per OverdampedLangevin step (one force evaluation) with KPM and ED; exponent, crossover, bandwidth."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from kpm import bandwidth  # the KPM benchmark's triad (same machine, same measure)

    bw = bandwidth(2_000_000 if quick else 20_000_000, 3)
    print(f"\nscaling, OverdampedLangevin (one force evaluation per step); memory bandwidth (triad, one core) "
          f"{bw / 1e9:.2f} GB/s  load {os.getloadavg()[0]:.2f}")
    print(f"{'L':>4} {'N':>6} {'KPM s/step':>11} {'ED s/step':>10} {'KPM GB/s':>9} {'of bandwidth':>13} "
          f"{'ns/number':>10} {'forces share':>13} {'forward':>10} {'backward':>10} {'integrator':>11}")
    print("  (forward: the moment recursion continued to alpha_{K-1}; backward: the gradient sweep; shares of a "
          "step)")
    rows = []
    for L in sizes:
        rate, share = steps_per_second(L, OverdampedLangevin, kpm, steps, repeats)
        problem = kondo_triangular((L, L), state="random", seed=1, kT=0.05, steps=1, save_every=1)
        cache = tk.init(problem, OverdampedLangevin(forces=kpm), progress=False).field.cache
        moved, numbers = _bytes_per_evaluation(cache, kpm.order)
        evaluation = share / rate                  # seconds of one force evaluation
        traffic = moved / max(evaluation, 1e-12)
        split = _force_split(problem, kpm)
        ed = steps_per_second(L, OverdampedLangevin, ExactDiagonalization(), steps, repeats)[0] \
            if L <= ed_max_L else None
        rows.append((L * L, 1 / rate, None if ed is None else 1 / ed))
        print(f"{L:>4} {L * L:>6} {1 / rate:>11.3g} {'-' if ed is None else f'{1 / ed:.3g}':>10} "
              f"{traffic / 1e9:>9.2f} {100 * traffic / bw:>12.0f}% {1e9 * evaluation / numbers:>10.2f} "
              f"{100 * share:>12.0f}% "
              f"{100 * split[0]:>9.0f}% {100 * split[1]:>9.0f}% {100 * (1 - share):>10.0f}%", flush=True)
    if len(rows) >= 2:
        n = np.array([r[0] for r in rows], dtype=float)
        t = np.array([r[1] for r in rows])
        slope = np.polyfit(np.log(n), np.log(t), 1)[0]
        print(f"KPM time per step vs N: fitted exponent {slope:.3f} (target 1.00 +- 0.1) over N = {int(n[0])} .. "
              f"{int(n[-1])}")
        both = [(r[0], r[1], r[2]) for r in rows if r[2] is not None]
        cross = next((int(np.sqrt(nn)) for nn, k, e in both if k < e), None)
        print("KPM overtakes ED at L = " + (f"{cross}" if cross else f"> {int(np.sqrt(both[-1][0]))} (not within "
                                                                     "the ED sizes run)" if both else "?"))


def metropolis_figures(L, sweeps, repeats):
    """eigvalsh of the Kondo matrix, one Metropolis proposal, and sweeps per second at T = 0.05 on L x L."""
    import scipy.linalg

    from solvers.spin_dynamics.metropolis import ElectronicEnergy

    problem = kondo_triangular((L, L), state="triple-q", kT=0.05, temperature=0.05, steps=sweeps, save_every=sweeps)
    energy = ElectronicEnergy(problem, Metropolis(forces=ExactDiagonalization()))
    spins = kondo_triangular((L, L), state="random", seed=1).spins
    energy(spins)
    H = energy.cache.dense.copy()
    times = {"eigvalsh": [], "proposal": []}
    for _ in range(repeats):
        for name, f in (("eigvalsh", lambda: scipy.linalg.eigvalsh(H)), ("proposal", lambda: energy(spins))):
            t = time.perf_counter()
            for _ in range(20):
                f()
            times[name].append((time.perf_counter() - t) / 20)
    rates = []
    for r in range(repeats):
        t = time.perf_counter()
        sol = tk.solve(problem, Metropolis(forces=ExactDiagonalization(), seed=r, adapt_sweeps=0), progress=False)
        rates.append(sweeps / (time.perf_counter() - t))
    print(f"\nMetropolis {L}x{L} (ED energies, {2 * L * L} x {2 * L * L} matrix)  load {os.getloadavg()[0]:.2f}: "
          f"eigvalsh {1e3 * np.median(times['eigvalsh']):.3g} ms, proposal {1e3 * np.median(times['proposal']):.3g} ms, "
          f"{np.median(rates):.3g} sweeps/s ({L * L} proposals each), acceptance {sol.stats['acceptance']:.2f} "
          f"(cap {sol.solver.cone:g} rad)", flush=True)


def quench_timing(L, forces, seed=0, check_every=25, max_steps=800, target=0.9):
    """Wall time of the chiral quench (``triple_q_quench`` protocol, SIB) on L x L until the mean |chi| over
    triangles reaches ``target`` x the ideal triple-Q value (domain walls of opposite chirality do not count
    against it: |chi| is local order), checked every ``check_every`` steps; returns (steps, wall, mean, min)."""
    problem = triple_q_quench((L, L), seed=seed, steps=max_steps, save_every=max_steps)
    integ = tk.init(problem, SIB(forces=forces, seed=seed), progress=False)
    start = time.perf_counter()
    done, mean, low = 0, 0.0, 0.0
    while done < max_steps:
        integ.step(check_every)
        done += check_every
        chi = np.abs(chirality_frames(integ.S[None], problem.triangles)[0]) / TRIPLE_Q_CHIRALITY
        mean, low = float(chi.mean()), float(chi.min())
        print(f"  step {done:>4}: mean |chi|/ideal {mean:.3f}, min {low:.3f}, {time.perf_counter() - start:.1f} s",
              flush=True)
        if mean >= target:
            break
    return done, time.perf_counter() - start, mean, low


def coarsening_figures(L, forces, kT, steps, seed=0, every=10, figure=None):
    """ell of the chiral domains and mean |chi| / ideal every ``every`` steps of a quench held at ``kT``;
    the growth exponent after the local order forms (see the module docstring)."""
    from solvers.spin_dynamics.coarsening import correlation_length, order_field

    problem = triple_q_quench((L, L), seed=seed, steps=steps, save_every=steps, temperature=kT, final_temperature=kT)
    integ = tk.init(problem, SIB(forces=forces, seed=seed), progress=False)
    print(f"\nchiral coarsening {L}x{L}, KPM ({forces.order} moments, probing distance {forces.estimator.distance}), "
          f"SIB, bath kT {kT:g}, dt {problem.dt:g}, {numba.get_num_threads()} thread(s), load "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    start = time.perf_counter()
    times, ells, chis, fields = [], [], [], []
    for done in range(every, steps + 1, every):
        integ.step(every)
        field = order_field(problem, integ.S)
        fields.append(field)
        times.append(done * problem.dt)
        ells.append(correlation_length(field, problem.lattice_vectors))
        chis.append(float(np.abs(field).mean() / TRIPLE_Q_CHIRALITY))
        print(f"  t {times[-1]:7.1f}  ell {ells[-1]:6.2f}  mean |chi|/ideal {chis[-1]:.3f}  "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        if not np.isfinite(ells[-1]):
            break
    t, ell, chi = np.array(times), np.array(ells), np.array(chis)
    if figure:
        _chirality_snapshots(figure, problem, t, fields)
    growth_figures(t, ell, chi, L)


def growth_figures(t, ell, chi, L):
    """Print the growth exponents of a coarsening run: from the frame where the mean |chi| / ideal first
    passes 0.7 to the last with ell < L / 4, over the later half of that window in log t, and the effective
    exponent over successive windows [t, 2 t]."""
    from solvers.spin_dynamics.coarsening import growth_exponent

    formed = np.nonzero(chi >= 0.7)[0]
    inside = np.zeros(len(t), bool)
    if formed.size:
        inside[formed[0]:] = True
    inside &= np.isfinite(ell) & (ell < L / 4)
    if np.count_nonzero(inside) >= 3:
        z, err = growth_exponent(t[inside], ell[inside])
        print(f"growth exponent {z:.2f} +- {err:.2f} for t in [{t[inside][0]:g}, {t[inside][-1]:g}] (ell "
              f"{ell[inside][0]:.2f} -> {ell[inside][-1]:.2f}); Allen-Cahn 1/2, Fan-Zhang-Chern ~1")
        tt, ll = t[inside], ell[inside]
        late = tt >= np.sqrt(tt[0] * tt[-1])          # the later half in log t
        if np.count_nonzero(late) >= 3:
            z, err = growth_exponent(tt[late], ll[late])
            print(f"  later half (t >= {tt[late][0]:g}): {z:.2f} +- {err:.2f}")
        print("  effective exponent d ln ell / d ln t over windows [t, 2t] (Allen-Cahn: 1/2 throughout):")
        w0 = tt[0]
        while 2 * w0 <= tt[-1]:
            window = (tt >= w0) & (tt <= 2 * w0)
            if np.count_nonzero(window) >= 3:
                z, err = growth_exponent(tt[window], ll[window])
                print(f"    t {w0:7.1f} .. {2 * w0:7.1f}: {z:.2f} +- {err:.2f} (ell {ll[window][0]:.2f} -> "
                      f"{ll[window][-1]:.2f})")
            w0 *= 2
    else:
        print("too few frames between the local order forming and ell = L / 4 for a growth exponent")


def _chirality_snapshots(path, problem, times, fields):
    """The chirality per cell at four times, drawn on the triangular lattice's cells (parallelograms)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L1, L2 = problem.lattice_shape
    i, j = np.meshgrid(np.arange(L1 + 1), np.arange(L2 + 1), indexing="ij")
    corners = i[..., None] * problem.lattice_vectors[0] + j[..., None] * problem.lattice_vectors[1]
    picks = np.unique(np.linspace(0, len(fields) - 1, 4).round().astype(int))
    fig, axes = plt.subplots(1, len(picks), figsize=(4.2 * len(picks), 3.6), layout="constrained", squeeze=False)
    for ax, k in zip(axes[0], picks):
        art = ax.pcolormesh(corners[..., 0], corners[..., 1], fields[k] / TRIPLE_Q_CHIRALITY, cmap="RdBu_r",
                            vmin=-1, vmax=1)
        ax.set_aspect("equal")
        ax.set_title(f"t = {times[k]:g} ħ/|t|")
        ax.set_xlabel("x [a]")
    axes[0][0].set_ylabel("y [a]")
    fig.colorbar(art, ax=list(axes[0]), label="chirality / ideal triple-Q [dimensionless]")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")


def quench_figures(L, seeds, steps, forces=None):
    ed = forces is None
    forces = ExactDiagonalization() if ed else forces
    ideal_problem = triple_q_quench((L, L), state="triple-q", steps=0)
    ideal = tk.solve(ideal_problem, SIB(forces=forces), progress=False).energy[0] / ideal_problem.sites
    name = "ED" if ed else f"KPM ({forces.order} moments)"
    print(f"\nchiral quench {L}x{L}, {steps} SIB steps, {name} forces (ideal triple-Q energy per site {ideal:.6f})  "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"{'seed':>5} {'wall s':>7} {'min|chi|/ideal':>15} {'S(M)/(N/3)':>22} {'dE/site':>9} {'C':>3}")
    for seed in seeds:
        problem = triple_q_quench((L, L), seed=seed, steps=steps, save_every=steps)
        t = time.perf_counter()
        sol = tk.solve(problem, SIB(forces=forces, seed=seed), progress=False)
        wall = time.perf_counter() - t
        n = problem.sites
        chi = np.abs(sol.chirality[-1]).min() / TRIPLE_Q_CHIRALITY
        w = sol.m_point_weights() / (n / 3)
        c = sol.chern_number(twists=4) if n <= 144 else None
        print(f"{seed:>5} {wall:>7.1f} {chi:>15.4f} {np.array2string(w, precision=3):>22} "
              f"{sol.energy[-1] / n - ideal:>9.1e} {c.chern if c is not None and c.gapped else '-':>3}", flush=True)


if __name__ == "__main__":
    main()
