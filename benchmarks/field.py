"""Density-field benchmark (issue 7): one semi-implicit spectral step of a 128^3 field
(target <= 0.2 s on one core), the same on both cores, and the string method's cost per
image iteration. Prints medians of several repeats and the load average (the machine may be
shared). ``--quick``: tiny sizes for the smoke test. ``--barriers``: the nucleation barrier
of ``NucleationBarrier.example(seed)`` from every registered solver (issue 7 follow-up).
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


def science_map(depths, n=32, cells=5):
    """Onion (radial Newton-Krylov) vs bcc-like droplet (edge state) barriers vs quench depth.

    3D, Kac step R = 1 + Landau eps, g = 0.5 (convex local part), liquid phi = 0; the
    spinodal is eps_s = -min V(k) = 0.08617 and bcc coexists near eps = 0.113 (measured by
    relaxing a bcc crystal). The bcc-like droplet is a <110> density wave under an envelope
    of radius 2 R (3 R if that decays) in a box of ``cells`` bcc cells on an ``n``^3 grid.
    """
    import toolkit as tk
    from problems.density_field import DensityField, Functional, KacStep, Landau
    from solvers.density_field import RadialNewtonKrylov
    from solvers.density_field.droplets import bcc_droplet_seed, bcc_lattice_constant, edge_state
    from solvers.density_field.tour import onion_barrier

    eps_s = -KacStep(1.0).hat_min(3)[1]
    a = bcc_lattice_constant(KacStep(1.0))
    L = cells * a
    print(f"grid {n}^3, box {L:.2f} R ({cells} bcc cells, a = {a:.3f} R, dx = {L / n:.3f} R); eps_s = {eps_s:.5f}")
    print(f"{'eps - eps_s':>12} {'onion dF':>11} {'(res)':>8} {'bcc-like dF':>12} {'(res)':>8} {'kind':>6}  lower")
    import scipy.optimize

    from solvers.density_field import SpectralOps, hessian_eigenvalues, newton_polish
    from solvers.density_field.radial import RadialOps

    u_prev = None
    for d in sorted(depths):
        eps = eps_s + d
        functional = Functional(KacStep(1.0), Landau(eps=eps, g=0.5))
        # onion: radial Newton-Krylov, continued from the profile at the previous quench depth
        onion = None
        ops = RadialOps(functional, 0.0, 512, 24.0)
        guesses = ([u_prev] if u_prev is not None else []) + [ops.onion_guess(a_, w_) for a_, w_ in
                                                             ((0.4, 1.5), (0.3, 2.5), (0.6, 1.0))]
        for u0 in guesses:
            try:
                u = scipy.optimize.newton_krylov(ops.residual_u, u0, f_tol=1e-9, maxiter=100, method="lgmres")
            except Exception:
                continue
            import scipy.sparse.linalg as sla
            H = sla.LinearOperator((u.size,) * 2, matvec=lambda w, u=u: ops.hessian_u(u, w), dtype=float)
            vals = sla.eigsh(H, k=3, which="SA", tol=1e-10, v0=np.ones(u.size))[0]
            if np.sum(vals < -1e-8) == 1 and np.abs(u).max() > 1e-6:
                onion, u_prev = (ops.barrier(u), float(np.abs(ops.residual_u(u) / ops.r).max())), u
                break
        # bcc-like: edge state by bisection, then Newton-Krylov on the grid; keep it if index 1
        field = DensityField(shape=(n,) * 3, length=L, functional=functional, initial=0.0)
        edge, polished = None, None
        for radius in (2.0, 3.0):
            edge = edge_state(field, 0.0, bcc_droplet_seed(field.shape, field.length, a, radius), steps=1500,
                              dt=2.0, bisections=14)
            if edge is not None:
                break
        if edge is not None:
            gops = SpectralOps(field)
            phi, ok, _ = newton_polish(gops, edge[0], 1e-8, 40)
            if ok:
                vals, _ = hessian_eigenvalues(gops, phi, k=4)
                if np.sum(vals < -1e-8) == 1:
                    polished = (gops.free_energy(phi) - gops.free_energy(np.zeros(field.shape)),
                                float(np.abs(gops.gradient(phi)).max()))
        best = polished or (edge[1:3] if edge else None)
        o = f"{onion[0]:11.3e} {onion[1]:8.1e}" if onion else f"{'n/a':>11} {'':>8}"
        b = f"{best[0]:12.3e} {best[1]:8.1e}" if best else f"{'n/a':>12} {'':>8}"
        kind = "saddle" if polished else ("edge" if edge else "")
        lower = "-" if not (onion and best) else ("onion" if onion[0] < best[0] else "bcc-like")
        print(f"{d:12.4f} {o} {b} {kind:>6}  {lower}", flush=True)


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
        science_map([0.002, 0.004, 0.008, 0.014, 0.02] if not args.quick else [0.004], n=32 if not args.quick else 24,
                    cells=5 if not args.quick else 4)


if __name__ == "__main__":
    main()
