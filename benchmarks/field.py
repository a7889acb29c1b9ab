"""Density-field benchmark (issue 7): one semi-implicit spectral step of a 128^3 field
(target <= 0.2 s on one core), the same on both cores, and the string method's cost per
image iteration. Prints medians of several repeats and the load average (the machine may be
shared). ``--quick``: tiny sizes for the smoke test. ``--barriers``: the nucleation barrier
of ``NucleationBarrier.example(seed)`` from every registered solver (issue 7 follow-up).
``--science``: onion (radial Newton-Krylov) vs grid droplets (edge state + DimerMethod, then the
size scan of :mod:`solvers.density_field.size_scan`; all index-checked) barriers against quench
depth, 32^3 grid, box 4 bcc cells (6.17 R), dx = a/8; about 13 min for the five depths on one core
at load ~5 (``--quick --science``: one depth, 0.02, on the same grid, ~1 min at load ~1).
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


def _shape(sol, field, a):
    """(Q4, Q6, star, smallest/largest principal second moment, largest moment / (L^2/12)) of a droplet.

    bcc <110> waves give Q6 ~ 0.4-0.6, a spherical onion ~0; the last number is ~1 when the
    density excess is spread evenly along one box axis (L^2/12: the variance of a uniform
    distribution on the periodic box), i.e. the "droplet" spans the box: a periodic column, not a
    localized nucleus."""
    from solvers.density_field.droplets import bcc_peak_fraction, droplet_axes, shell_bond_order

    q4, q6 = shell_bond_order(sol.phi, field.length, 2 * np.pi * np.sqrt(2) / a)
    m = droplet_axes(sol.phi, field.length)[0]
    return (q4, q6, bcc_peak_fraction(sol.phi, field.length, a)[1], float(m[0] / m[-1]),
            float(m[-1] / (min(field.length) ** 2 / 12)))


def _physical_negative_modes(sol, field):
    """(negative modes, of them translations at a Peierls maximum) from the 6 lowest Hessian modes.

    Stated criterion: a negative mode counts as a grid-pinned translation only when |λ| < 0.02 |λ_0|
    and its overlap with the span of ∂φ/∂x_i exceeds 0.9 (see droplets.translation_overlaps)."""
    from solvers.density_field import SpectralOps, hessian_eigenvalues
    from solvers.density_field.droplets import translation_overlaps

    vals, vecs = hessian_eigenvalues(SpectralOps(field), sol.phi, k=6)
    over = translation_overlaps(sol.phi, field.length, vecs)
    neg = vals < -1e-8
    trans = neg & (np.abs(vals) < 0.02 * abs(vals[0])) & (over > 0.9)
    return int(neg.sum()), int(trans.sum())


def _kind(q6, span):
    # calibration (32^3, 4 cells): bcc seed 0.44, Oh bcc critical point 0.39, spherical onion shell 0.004
    kind = "bcc-like" if q6 > 0.25 else ("onion-like" if q6 < 0.15 else "mixed")
    return kind + (" column" if span > 0.7 else "")


def science_map(depths, n=32, cells=4):
    """Onion (radial Newton-Krylov) vs grid droplets (edge state + dimer; then the size scan) vs quench depth.

    3D, Kac step R = 1 + Landau eps, g = 0.5 (convex local part), liquid phi = 0; the
    spinodal is eps_s = -min V(k) = 0.08617 and bcc coexists near eps = 0.116, eps - eps_s = 0.030
    (relaxing a bcc crystal: f_bcc - f_liquid = -3.5e-5 at 0.025, +1.5e-6 at 0.030). In 4 cells the
    map's 0.025 scan gives a box-spanning column; in 8 cells (64^3) a localized bcc-like index-1
    saddle exists there (dF = 1.7117e-3, Q6 0.50; re-verified by tests/density_field/test_science.py). Grid droplets: a <110> density wave under an envelope of radius 2 R
    in a box of ``cells`` bcc cells on an ``n``^3 grid (its wave vectors are grid modes), bisected
    to an edge state and refined by the dimer method ("dimer" row: it keeps the seed's Oh
    symmetry); from that critical point plus 1e-3 noise, the size scan
    (:func:`solvers.density_field.size_scan.size_scan_saddle`: highest of the minima of F at fixed
    ‖phi‖, then Newton-Krylov) looks for the index-1 saddle ("scan" row). Both are index-checked:
    "yes" only with exactly one negative Hessian eigenvalue. Shape: Q4, Q6 (orientation-free
    Steinhardt order of the |k| = k* shell: bcc <110> waves 0.19/0.57, the Oh bcc droplet here
    0.15/0.39, a spherical onion 0), "star" (power in the grid-aligned <110> peaks) and the ratio
    of the smallest to the largest principal second moment (1 = round).
    """
    from problems.density_field import DensityField, Functional, KacStep, Landau
    from solvers.density_field.droplets import bcc_lattice_constant, bcc_saddle
    from solvers.density_field.size_scan import size_scan_saddle

    eps_s = -KacStep(1.0).hat_min(3)[1]
    a = bcc_lattice_constant(KacStep(1.0))
    L = cells * a
    print(f"grid {n}^3, box {L:.2f} R ({cells} bcc cells, a = {a:.3f} R, dx = {L / n:.3f} R = a/{n // cells}); "
          f"eps_s = {eps_s:.5f}; onion: radial NK, 512 points, r_max = 24 R; load {os.getloadavg()}")
    onion = _onion_barriers(depths, eps_s)
    print("neg: negative Hessian modes; 'k-mT': k of them, m grid-pinned translations at a Peierls maximum "
          "(|lambda| < 0.02 |lambda_0|, overlap with the span of dphi/dx_i > 0.9); verified needs exactly 1")
    print(f"{'eps - eps_s':>11} {'onion dF':>10} {'route':>6} {'dF':>11} {'res':>8} {'neg':>5} {'Q4':>5} {'Q6':>5} "
          f"{'star':>5} {'m_min/max':>9} {'verified':>9} {'kind':>17}  time")
    rows = []
    for d in sorted(depths):
        functional = Functional(KacStep(1.0), Landau(eps=eps_s + d, g=0.5))
        field = DensityField(shape=(n,) * 3, length=L, functional=functional, initial=0.0)
        o = onion.get(d)
        os_ = f"{o[0]:10.3e}" if o else f"{'none':>10}"
        t0 = time.perf_counter()
        edge, dimer = bcc_saddle(field, 0.0, a)
        found = {}
        if dimer is None:
            print(f"{d:11.4f} {os_} {'dimer':>6} {'n/a (no growing seed)':>22}", flush=True)
            continue
        found["dimer"] = (dimer, time.perf_counter() - t0)
        t0 = time.perf_counter()
        scan, _ = size_scan_saddle(field, 0.0, dimer.phi, noise=1e-3, seed=0)
        if scan is not None:
            found["scan"] = (scan, time.perf_counter() - t0)
        for route, (sol, wall) in found.items():
            q4, q6, star, ratio, span = _shape(sol, field, a)
            verified = sol.retcode.name == "Success"
            neg = f"{sol.negative_modes}"
            if not verified and sol.residual < 1e-6:
                n_neg, n_trans = _physical_negative_modes(sol, field)
                neg = f"{n_neg}-{n_trans}T" if n_trans else neg
            print(f"{d:11.4f} {os_} {route:>6} {sol.barrier:11.4e} {sol.residual:8.1e} {neg:>5} "
                  f"{q4:5.2f} {q6:5.2f} {star:5.2f} {ratio:9.2f} {('yes' if verified else sol.retcode.name):>9} "
                  f"{_kind(q6, span):>17}  {wall:.0f} s", flush=True)
            rows.append((d, o, route, sol, verified, _kind(q6, span)))
        if "scan" not in found:
            print(f"{d:11.4f} {os_} {'scan':>6} {'no sign change of dE/ds bracketed':>22}", flush=True)
    print("lowest verified (index-1) barrier of a localized droplet per depth (box-spanning columns excluded):")
    for d in sorted(depths):
        cands = [(r[3].barrier, f"{r[5]} ({r[2]})") for r in rows if r[0] == d and r[4] and "column" not in r[5]]
        if onion.get(d):
            cands.append((onion[d][0], "spherical onion (radial)"))
        best = min(cands) if cands else None
        print(f"  {d:.4f}: " + (f"{best[1]}, dF = {best[0]:.4e}" if best else "none verified"))
    last_onion = max(onion) if onion else None
    print(f"spherical onion saddle up to eps - eps_s = {last_onion} (the radial branch ends at a fold near 0.013); "
          f"load {os.getloadavg()}")
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
            science_map([0.02])
        else:
            science_map([0.005, 0.01, 0.015, 0.02, 0.025])


if __name__ == "__main__":
    main()
