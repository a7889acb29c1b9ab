"""Density-field benchmark (issue 7): one semi-implicit spectral step of a 128^3 field
(target <= 0.2 s on one core), the same on both cores, and the string method's cost per
image iteration. Prints medians of several repeats and the load average (the machine may be
shared). ``--quick``: tiny sizes for the smoke test. ``--barriers``: the nucleation barrier
of ``NucleationBarrier.example(seed)`` from every registered solver (issue 7 follow-up).
``--science``: onion (radial Newton-Krylov) vs bcc-like droplet (edge state + DimerMethod,
index-checked) barriers against quench depth, 32^3 grid, box 4 bcc cells (6.17 R), dx = a/8;
about 1-3 min per depth on one core (``--quick --science``: one depth on 24^3, ~2 min).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def time_steps(n: int, threads: int, repeats: int) -> float:
    import numba

    import toolkit as tk
    from solvers.density_field import SemiImplicit
    from solvers.density_field.tour import kac_landau_field
    from problems.density_field import FieldDynamics

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    field = kac_landau_field(n=n, ndim=3, length=float(n), R=4.0, eps=-0.1, seed=0)
    integ = tk.init(FieldDynamics(field=field, dt=0.5, steps=10 ** 6, save_every=10 ** 6), SemiImplicit(threads=threads),
                    progress=False)
    integ.step(2)                                        # compile / plan FFTs
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        integ.step(1)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_string(n: int, images: int, iters: int) -> float:
    import toolkit as tk
    from solvers.density_field import StringMethod
    from solvers.density_field.tour import onion_barrier

    p = onion_barrier(n=n, length=0.3 * n)
    sol = tk.solve(p, StringMethod(images=images, max_iters=iters, climb_after=iters // 2))
    return sol.stats["seconds_per_image_iteration"]


def _onion_barriers(depths, eps_s):
    """Onion saddles by radial Newton-Krylov (512 points, r_max = 24 R), continued in quench depth.

    Returns {depth: (ΔF, residual, negative radial modes)} for the depths where a radial
    critical point with exactly one negative radial mode exists (none past the fold)."""
    import scipy.optimize
    import scipy.sparse.linalg as sla

    from problems.density_field import Functional, KacStep, Landau
    from solvers.density_field.radial import RadialOps

    out, u_prev = {}, None
    for d in sorted(depths):
        functional = Functional(KacStep(1.0), Landau(eps=eps_s + d, g=0.5))
        ops = RadialOps(functional, 0.0, 512, 24.0)
        guesses = ([u_prev] if u_prev is not None else []) + [ops.onion_guess(a_, w_) for a_, w_ in
                                                             ((0.4, 1.5), (0.3, 2.5), (0.6, 1.0))]
        for u0 in guesses:
            try:
                u = scipy.optimize.newton_krylov(ops.residual_u, u0, f_tol=1e-9, maxiter=100, method="lgmres")
            except Exception:
                continue
            H = sla.LinearOperator((u.size,) * 2, matvec=lambda w, u=u: ops.hessian_u(u, w), dtype=float)
            vals = sla.eigsh(H, k=3, which="SA", tol=1e-10, v0=np.ones(u.size))[0]
            if np.sum(vals < -1e-8) == 1 and np.abs(u).max() > 1e-6:
                out[d] = (ops.barrier(u), float(np.abs(ops.residual_u(u) / ops.r).max()), 1)
                u_prev = u
                break
    return out


def science_map(depths, n=32, cells=4):
    """Onion (radial Newton-Krylov) vs bcc-like droplet (edge state + dimer) barriers vs quench depth.

    3D, Kac step R = 1 + Landau eps, g = 0.5 (convex local part), liquid phi = 0; the
    spinodal is eps_s = -min V(k) = 0.08617 and bcc coexists near eps = 0.113 (measured by
    relaxing a bcc crystal). The bcc-like droplet: a <110> density wave under an envelope of
    radius 2 R in a box of ``cells`` bcc cells on an ``n``^3 grid (its wave vectors are grid
    modes), bisected to an edge state and refined by the dimer method, which is index-checked
    (Success only with exactly one negative Hessian eigenvalue = a verified saddle). "star" is
    the fraction of the droplet's |k| = k* shell power in the twelve <110> peaks (bcc-like:
    ~0.6; a spherical onion-like shell: ~0.1).
    """
    from problems.density_field import DensityField, Functional, KacStep, Landau
    from solvers.density_field.droplets import bcc_lattice_constant, bcc_peak_fraction, bcc_saddle

    eps_s = -KacStep(1.0).hat_min(3)[1]
    a = bcc_lattice_constant(KacStep(1.0))
    L = cells * a
    print(f"grid {n}^3, box {L:.2f} R ({cells} bcc cells, a = {a:.3f} R, dx = {L / n:.3f} R = a/{n // cells}); "
          f"eps_s = {eps_s:.5f}; onion: radial NK, 512 points, r_max = 24 R")
    onion = _onion_barriers(depths, eps_s)
    print(f"{'eps - eps_s':>12} {'onion dF':>11} {'(res)':>8} {'bcc-like dF':>12} {'(res)':>8} {'neg':>4} "
          f"{'star':>5} {'verified':>9} {'edge dF':>10}  lower (verified only)")
    rows = []
    for d in sorted(depths):
        functional = Functional(KacStep(1.0), Landau(eps=eps_s + d, g=0.5))
        field = DensityField(shape=(n,) * 3, length=L, functional=functional, initial=0.0)
        t0 = time.perf_counter()
        edge, sol = bcc_saddle(field, 0.0, a)
        o = onion.get(d)
        os_ = f"{o[0]:11.3e} {o[1]:8.1e}" if o else f"{'none':>11} {'':>8}"
        if sol is None:
            print(f"{d:12.4f} {os_} {'n/a':>12}", flush=True)
            continue
        verified = sol.retcode.name == "Success"
        star = bcc_peak_fraction(sol.phi, field.length, a)[1]
        lower = "-"
        if verified:
            lower = "bcc-like" if (o is None or sol.barrier < o[0]) else "onion"
        elif o is not None:
            lower = "onion?"
        rows.append((d, o, sol, verified))
        print(f"{d:12.4f} {os_} {sol.barrier:12.3e} {sol.residual:8.1e} {sol.negative_modes:4d} {star:5.2f} "
              f"{('yes' if verified else sol.retcode.name):>9} {edge[1]:10.3e}  {lower}"
              f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
    last_onion = max(onion) if onion else None
    print(f"onion saddle found up to eps - eps_s = {last_onion} (the radial branch ends at a fold near 0.013); "
          "bcc-like rows count only where verified (one negative mode)")
    return rows


def barrier_table(seeds=(0, 1, 2)):
    """ΔF, negative modes, the two lowest Hessian eigenvalues and the wall time of every
    NucleationBarrier solver (its ``example()`` settings) on ``NucleationBarrier.example(seed)``."""
    import numpy as np

    import toolkit as tk
    from problems.density_field import NucleationBarrier
    from solvers.density_field import GridNewtonKrylov, RadialNewtonKrylov, StringMethod

    print(f"{'seed':>4} {'J':>8} {'solver':>20} {'retcode':>18} {'barrier':>12} {'neg':>3} "
          f"{'lambda_0':>10} {'lambda_1':>10} {'residual':>9} {'wall s':>7}")
    for seed in seeds:
        p = NucleationBarrier.example(seed)
        for S in (RadialNewtonKrylov, GridNewtonKrylov, StringMethod):
            t0 = time.perf_counter()
            sol = tk.solve(p, S.example())
            wall = time.perf_counter() - t0
            ev = np.sort(sol.eigenvalues)
            print(f"{seed:4d} {p.field.functional.interaction.J:8.4f} {S.__name__:>20} {sol.retcode.name:>18} "
                  f"{sol.barrier:12.7f} {sol.negative_modes:3d} {ev[0]:10.5f} {ev[1]:10.5f} "
                  f"{sol.residual:9.2g} {wall:7.2f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--science", action="store_true",
                        help="also map onion vs bcc-like droplet barriers against quench depth (minutes)")
    parser.add_argument("--barriers", action="store_true",
                        help="only the barrier of NucleationBarrier.example from every solver (seconds)")
    args = parser.parse_args(argv)
    if args.barriers:
        barrier_table()
        return
    n, repeats, sn, iters = (32, 3, 16, 10) if args.quick else (128, 7, 32, 40)
    print(f"load average before: {os.getloadavg()}")
    one = time_steps(n, 1, repeats)
    two = time_steps(n, 2, repeats)
    per_image = time_string(sn, 9, iters)
    print(f"semi-implicit step {n}^3, 1 core : {one * 1e3:8.1f} ms (median of {repeats}; target <= 200 ms at 128^3)")
    print(f"semi-implicit step {n}^3, 2 cores: {two * 1e3:8.1f} ms (speed-up {one / two:.2f}x)")
    print(f"string method {sn}^3, 9 images: {per_image * 1e3:8.2f} ms per image iteration")
    print(f"load average after: {os.getloadavg()}")
    if args.science:
        if args.quick:
            science_map([0.02], n=24, cells=3)
        else:
            science_map([0.005, 0.01, 0.015, 0.02, 0.025])


if __name__ == "__main__":
    main()
