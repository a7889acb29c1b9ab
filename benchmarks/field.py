"""Density-field benchmark (issue 7): one semi-implicit spectral step of a 128^3 field
(target <= 0.2 s on one core), the same on both cores, and the string method's cost per
image iteration. Prints medians of several repeats and the load average (the machine may be
shared). ``--quick``: tiny sizes for the smoke test. ``--barriers``: the nucleation barrier
of ``NucleationBarrier.example(seed)`` from every registered solver (issue 7 follow-up).
``--science``: the map of issue 7, onion vs bcc-like nucleation barriers against quench depth with
both kinds in the same box per depth (see :func:`science_map`: radial Newton-Krylov, and
:class:`~solvers.density_field.SizeScan` from a spherical onion and from the Oh bcc droplet, all
index-checked), printing a table and a map, and writing a figure of ΔF vs depth. Defaults: depths
0.005-0.028, 48^3 grid, 6 bcc cells (9.25 R), dx = a/8; ``--map-only`` skips the step timing;
``--workers 2`` runs two depths at a time. Measured (2026-12-04, Zen-1 VM): the six default depths
in 36 min with ``--workers 2`` (3-15 min per depth). ``--quick --science``: one depth, 0.02, 32^3 and
4 cells (about a minute).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np


def time_steps(n: int, threads: int, repeats: int) -> float:
    import numba

    import toolkit as tk
    from solvers.density_field import SemiImplicit
    from problems.density_field import FieldDynamics, kac_landau_field

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
    from problems.density_field import onion_barrier

    p = onion_barrier(n=n, length=0.3 * n)
    sol = tk.solve(p, StringMethod(images=images, max_iters=iters, climb_after=iters // 2))
    return sol.stats["seconds_per_image_iteration"]


def _onion_barriers(depths, eps_s, keep=False):
    """Onion saddles by radial Newton-Krylov (512 points, r_max = 24 R), continued in quench depth.

    Returns {depth: (ΔF, residual, negative radial modes[, profile u = r δphi if keep])} for the
    depths where a radial critical point with exactly one negative radial mode exists (none past
    the fold)."""
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
                out[d] = (ops.barrier(u), float(np.abs(ops.residual_u(u) / ops.r).max()), 1) + ((u,) if keep else ())
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


def _onion_seed(field, u, ops_r, size):
    """A spherical onion on the grid, centred on the grid point n/2: the radial profile ``u`` (r δphi),
    rescaled to the L2 size ``size`` when given."""
    centre = [(m // 2) * h for m, h in zip(field.shape, field.spacing)]
    phi = ops_r.to_field(u, field.shape, field.spacing, centre)
    if size:
        phi *= size / np.sqrt(field.cell_volume * np.sum(phi ** 2))
    return phi


_DEPTH_SECONDS: list = []          # wall time of each grid depth this process ran (budget estimate)


def _grid_depth(job):
    """The grid routes of one quench depth (Oh, bcc, onion; see :func:`science_map`).

    ``job`` = (depth, n, cells, radius, radial onion profile u or None, deadline or None, routes:
    a subset of ("Oh", "bcc", "onion"); "bcc" needs "Oh", its start; save: a folder for the
    verified saddles' fields, ``{route}_d{depth}_{n}c{cells}.npz`` (phi in float32), or None). Prints
    each route's row as it ends and returns its rows, (depth, route, ΔF,
    verified, kind, Q6). Module-level so that ``tk.Processes`` can run depths side by side. With
    a ``deadline`` (``time.time()`` seconds) the depth is skipped, and said so, when it would end
    past it, judged by the slowest depth this process has run.
    """
    import toolkit as tk
    from problems.density_field import (DensityField, Functional, KacStep, Landau, NucleationBarrier,
                                        bcc_lattice_constant)
    from solvers.density_field import SizeScan
    from solvers.density_field.droplets import bcc_saddle
    from solvers.density_field.radial import RadialOps

    d, n, cells, radius, u_radial, deadline, routes, save = job
    if deadline is not None and _DEPTH_SECONDS and time.time() + max(_DEPTH_SECONDS) > deadline:
        print(f"{d:9.4f}   grid routes skipped: the depth would end past the budget (the slowest depth so "
              f"far took {max(_DEPTH_SECONDS):.0f} s)", flush=True)
        return []
    t_depth = time.perf_counter()
    eps_s = -KacStep(1.0).hat_min(3)[1]
    a = bcc_lattice_constant(KacStep(1.0))
    functional = Functional(KacStep(1.0), Landau(eps=eps_s + d, g=0.5))
    field = DensityField(shape=(n,) * 3, length=cells * a, functional=functional, initial=0.0)
    ops_r = RadialOps(functional, 0.0, 512, 24.0)
    rows = []

    def report(route, sol, wall):
        row = _report(d, route, sol, field, a, wall)
        if row is not None:
            rows.append(row)
            if save and row[3]:
                path = Path(save) / f"{route}_d{d:g}_{n}c{cells}.npz"
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(path, phi=sol.phi.astype(np.float32))
                print(f"{d:9.4f} {route:>6} saddle field saved to {path}", flush=True)

    oh = size = None
    if "Oh" in routes:
        t0 = time.perf_counter()
        edge, oh = bcc_saddle(field, 0.0, a, radius=radius)
        if edge is None:
            print(f"{d:9.4f} {'Oh':>6} no seed amplitude grows: no bcc-like droplet to start from", flush=True)
        else:
            size = float(np.sqrt(field.cell_volume * np.sum(edge[0] ** 2)))
            report("Oh", oh, time.perf_counter() - t0)
    if "bcc" in routes and oh is not None:
        t0 = time.perf_counter()
        sol = tk.solve(NucleationBarrier(field=tk.remake(field, initial=oh.phi), metastable=0.0),
                       SizeScan(noise=1e-3, seed=0, descents=6))
        report("bcc", sol, time.perf_counter() - t0)
    if "onion" in routes:
        if u_radial is not None:
            seed = _onion_seed(field, u_radial, ops_r, None)
        else:
            seed = _onion_seed(field, ops_r.onion_guess(0.3, 2.5), ops_r, size or 1.0)
        t0 = time.perf_counter()
        sol = tk.solve(NucleationBarrier(field=tk.remake(field, initial=seed), metastable=0.0),
                       SizeScan(noise=1e-3, seed=0, step=0.05, descents=6, dimer_iters=3000))
        report("onion", sol, time.perf_counter() - t0)
    _DEPTH_SECONDS.append(time.perf_counter() - t_depth)
    return rows


def _report(d, route, sol, field, a, wall):
    """Print one route's row; return (depth, route, ΔF, verified, kind, Q6), or None without a result."""
    if sol is None or sol.eigenvalues.size == 0:            # no critical point (phi is the start)
        msg = "no result" if sol is None else f"{sol.retcode.name}: {sol.message[:60]}"
        print(f"{d:9.4f} {route:>6} {msg}", flush=True)
        return None
    q4, q6, star, ratio, span = _shape(sol, field, a)
    verified = sol.retcode.name == "Success" and sol.negative_modes == 1
    neg = f"{sol.negative_modes}"
    if not verified and sol.residual < 1e-6:
        n_neg, n_trans = _physical_negative_modes(sol, field)
        neg = f"{n_neg}-{n_trans}T" if n_trans else neg
    kind = _kind(q6, span)
    path = sol.stats.get("route", "")
    print(f"{d:9.4f} {route:>6} {sol.barrier:11.4e} {sol.residual:8.1e} {neg:>5} {q4:5.2f} {q6:5.2f} "
          f"{star:5.2f} {ratio:9.2f} {('yes' if verified else sol.retcode.name):>18} {kind:>17} "
          f"{path:>16} {wall:5.0f}s", flush=True)
    return (d, route, sol.barrier, verified, kind, q6)


def science_map(depths, n=48, cells=6, radius=3.0, figure=None, grid_depths=None, budget=None, workers=1,
                routes=("Oh", "bcc", "onion"), save=None):
    """Onion vs bcc-like nucleation barriers against quench depth, both kinds in one box per depth.

    3D, Kac step R = 1 + Landau eps, g = 0.5 (convex local part), liquid phi = 0; the spinodal is
    eps_s = -min V(k) = 0.08617 and bcc coexists near eps - eps_s = 0.030 (relaxing a bcc crystal:
    f_bcc - f_liquid = -3.5e-5 at 0.025, +1.5e-6 at 0.030). Box of ``cells`` bcc cells on an
    ``n``^3 grid (dx = a/8 for n = 8 cells). Per depth:

    * ``radial``: the spherical onion by radial Newton-Krylov (512 points, r_max = 24 R; box-free),
      where that branch exists (it ends at a fold near 0.013);
    * ``onion``: :class:`SizeScan` (top of E(s) = min F at fixed size, then the automatic
      continuation to index 1) from a spherical onion on the grid: the radial saddle where it
      exists, otherwise the onion guess sinc(k* r) exp(-r^2/2w^2) at the size of the bcc seed's
      edge state (size 1 without the Oh route; size steps of 5 %, at most 6 descents of 3000 dimer
      iterations);
    * ``Oh``: the Oh-symmetric bcc droplet: a <110> density wave under an envelope of ``radius``,
      bisected to an edge state and refined by the dimer (:func:`~solvers.density_field.droplets.
      bcc_saddle`; a critical point of index > 1: it keeps the seed's symmetry);
    * ``bcc``: :class:`SizeScan` from that critical point plus 1e-3 noise, at most 6 descents (a
      jump between shape branches or an index > 1 landing continues automatically: Newton from
      the branch midpoint, dimer descents, Newton).

    The grid ``routes`` (default all three) run at ``grid_depths`` (default: all depths, shallowest
    quench first: its nucleus is the largest and slowest, so parallel processes end together), in
    the order given, on ``workers``
    processes (``tk.Processes``: one depth per process at a time; rows are printed as each route
    ends, so two depths' rows interleave). With ``budget`` (seconds) a depth is skipped, and said
    so, when it would end past the budget (judged by the slowest depth its process has run), so
    that the map always completes. ``save``: a folder where every verified grid saddle's field goes.

    Every grid result is index-checked (Lanczos): "yes" only with exactly one negative Hessian
    eigenvalue. The kind is read off the droplet, not the route: Q6 of its |k| = k* shell (bcc
    <110> waves 0.57, a spherical onion 0; bcc-like > 0.25, onion-like < 0.15, "mixed" between)
    and "column" when it spans the box. The summary lists the lowest verified ΔF of each kind per
    depth (columns apart: a saddle that spans the periodic box is a finite-size artifact, listed but
    not compared) and where the onion (spherical or onion-like) stops having the lower barrier.
    """
    import toolkit as tk
    from problems.density_field import KacStep, bcc_lattice_constant

    eps_s = -KacStep(1.0).hat_min(3)[1]
    a = bcc_lattice_constant(KacStep(1.0))
    L = cells * a
    _DEPTH_SECONDS.clear()                           # this process's budget estimate starts afresh
    print(f"science map: grid {n}^3, box {L:.2f} R ({cells} bcc cells, a = {a:.3f} R, dx = {L / n:.3f} R = "
          f"a/{n / cells:g}); eps_s = {eps_s:.5f}; radial onion: 512 points, r_max = 24 R; {workers} "
          f"process(es); load {os.getloadavg()}", flush=True)
    start = time.perf_counter()
    onion = _onion_barriers(depths, eps_s, keep=True)
    print(f"{'eps-eps_s':>9} {'route':>6} {'dF':>11} {'res':>8} {'neg':>5} {'Q4':>5} {'Q6':>5} {'star':>5} "
          f"{'m_min/max':>9} {'verified':>18} {'kind':>17} {'path':>16} {'time':>6}", flush=True)
    rows = []
    for d in depths:
        if d in onion:
            print(f"{d:9.4f} {'radial':>6} {onion[d][0]:11.4e} {onion[d][1]:8.1e} {1:>5} {'':>5} {0.0:5.2f} "
                  f"{'':>5} {1.0:9.2f} {'yes (radial)':>18} {'spherical onion':>17}", flush=True)
            rows.append((d, "radial", onion[d][0], True, "spherical onion", 0.0))
        else:
            print(f"{d:9.4f} {'radial':>6} no radial onion saddle (past the branch's fold)", flush=True)
    grid_depths = sorted(depths, reverse=True) if grid_depths is None else grid_depths  # big nuclei first
    deadline = None if budget is None else time.time() + budget - (time.perf_counter() - start)
    jobs = [(d, n, cells, radius, onion[d][3] if d in onion else None, deadline, tuple(routes), save)
            for d in grid_depths]
    executor = tk.Serial() if workers == 1 else tk.Processes(workers)
    for depth_rows in executor.map(_grid_depth, jobs):
        rows.extend(depth_rows)
    wall = time.perf_counter() - start

    print(f"\nmap (lowest verified index-1 barrier of each kind; box {L:.2f} R = {cells} cells, {n}^3; "
          "columns span the box: listed, not compared):")
    table, summary = map_table(rows, depths)
    print(f"{summary} (in this box); map wall time {wall:.0f} s on {workers} process(es); load {os.getloadavg()}",
          flush=True)
    if figure:
        _map_figure(table, figure, f"{n}$^3$, {cells} bcc cells ({L:.1f} R)")
    return rows, table


def map_table(rows, depths):
    """Print the map's table and return ``(table, summary)``.

    ``rows`` are (depth, route, ΔF, verified, kind, Q6). Per depth: the lowest verified ΔF of the
    spherical onion, of onion-like and bcc-like grid saddles, of "mixed" ones (with their Q6) and of
    columns (any kind that spans the box); only the first three are compared: "lower" is "onion"
    when the spherical or onion-like barrier is below the bcc-like one (or there is no bcc-like
    saddle), "bcc-like" otherwise, "none verified" with neither. ``table`` rows are (depth,
    spherical, onion-like, bcc-like, lower, mixed, column), ``None`` where there is no saddle.
    """
    print(f"{'eps-eps_s':>9} {'spherical onion':>16} {'onion-like (grid)':>18} {'bcc-like (grid)':>16} "
          f"{'mixed (Q6)':>18} {'column':>11}  lower")
    table, last_onion_win = [], None
    fmt = lambda x: f"{x:.4e}" if x is not None else "-"
    for d in sorted(depths):
        def best(kinds):
            vals = [r for r in rows if r[0] == d and r[3] and r[4] in kinds]
            return min(vals, key=lambda r: r[2]) if vals else None
        sph, ol, bcc, mixed, column = (best(k) for k in ({"spherical onion"}, {"onion-like"}, {"bcc-like"},
                                                         {"mixed"}, {"onion-like column", "bcc-like column",
                                                                     "mixed column"}))
        sph, ol, bcc, column = (r[2] if r else None for r in (sph, ol, bcc, column))
        onion_best = min(v for v in (sph, ol) if v is not None) if (sph or ol) else None
        if onion_best is not None and (bcc is None or onion_best < bcc):
            winner = "onion"
            last_onion_win = d
        elif bcc is not None:
            winner = "bcc-like"
        else:
            winner = "none verified"
        mixed_text = f"{mixed[2]:.4e} ({mixed[5]:.2f})" if mixed else "-"
        print(f"{d:9.4f} {fmt(sph):>16} {fmt(ol):>18} {fmt(bcc):>16} {mixed_text:>18} {fmt(column):>11}  {winner}")
        table.append((d, sph, ol, bcc, winner, mixed[2] if mixed else None, column))
    first_bcc = next((t[0] for t in table if t[4] == "bcc-like"), None)
    onion = f"up to eps - eps_s = {last_onion_win}" if last_onion_win is not None else "at none of these depths"
    bcc = f"from {first_bcc} on" if first_bcc is not None else "at none of these depths"
    return table, f"the onion (spherical or onion-like) has the lower barrier {onion}; the bcc-like droplet {bcc}"


def _map_figure(table, path, box):
    """ΔF of both kinds of droplet against quench depth (semilog), each depth shaded by the kind with
    the lower barrier (blue: onion, green: bcc-like)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pathlib import Path

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for col, label, style in ((1, "spherical onion (radial)", "o-"), (2, "onion-like (grid)", "s--"),
                              (3, "bcc-like (grid)", "^-"), (5, "mixed shell, 0.15 < Q6 < 0.25 (grid)", "D"),
                              (6, "spans the box (column; finite-size, not compared)", "x")):
        pts = [(t[0], t[col]) for t in table if t[col] is not None]
        if pts:
            ax.semilogy(*zip(*pts), style, label=label, **({"color": "0.5"} if col == 6 else {}))
    depths = [t[0] for t in table]
    edges = [depths[0] - 0.0025] + [(x + y) / 2 for x, y in zip(depths, depths[1:])] + [depths[-1] + 0.0025]
    for t, lo, hi in zip(table, edges, edges[1:]):        # who has the lower barrier, depth by depth
        colour = {"onion": "tab:blue", "bcc-like": "tab:green"}.get(t[4])
        if colour:
            ax.axvspan(lo, hi, color=colour, alpha=0.08, lw=0)
            ax.text((lo + hi) / 2, 0.98, f"{t[4].split('-')[0]} lower", transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=7, color=colour)
    ax.set_xlabel(r"quench depth $\varepsilon - \varepsilon_s$ (0 = spinodal)")
    ax.set_ylabel(r"nucleation barrier $\Delta F$")
    ax.set_title(f"onion vs bcc-like droplets, {box}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no verified saddle at these depths", transform=ax.transAxes, ha="center")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"figure: {path}")


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
    parser.add_argument("--depths", type=float, nargs="+", default=[0.005, 0.01, 0.015, 0.02, 0.025, 0.028],
                        help="quench depths eps - eps_s of the science map")
    parser.add_argument("--grid-depths", type=float, nargs="+", default=None,
                        help="depths (in this order) for the grid routes (default: all of --depths)")
    parser.add_argument("--routes", nargs="+", default=["Oh", "bcc", "onion"], choices=["Oh", "bcc", "onion"],
                        help="grid routes of the science map (bcc starts from Oh's critical point)")
    parser.add_argument("--save", default=None, help="folder for the science map's verified saddle fields (npz)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes for the science map's grid routes (one depth each at a time)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds: skip the grid routes of a depth that would end past this")
    parser.add_argument("--n", type=int, default=48, help="grid points per axis of the science map")
    parser.add_argument("--cells", type=int, default=6, help="bcc cells per box length of the science map")
    parser.add_argument("--radius", type=float, default=3.0, help="envelope radius (R) of the bcc droplet seed")
    parser.add_argument("--figure", default=None, help="where the science map's figure goes "
                        "(default $SCALEBRIDGE_OUT/field_science_map.png, SCALEBRIDGE_OUT defaulting to out)")
    parser.add_argument("--map-only", action="store_true",
                        help="with --science: only the science map (no step timing, which uses both cores)")
    parser.add_argument("--barriers", action="store_true",
                        help="only the barrier of NucleationBarrier.example from every solver (seconds)")
    args = parser.parse_args(argv)
    if args.barriers:
        barrier_table()
        return
    if args.science and args.map_only:
        _science(args)
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
        _science(args)


def _science(args) -> None:
    """The science map as the options ask: ``--quick`` is one depth (0.02) on 32^3, 4 cells."""
    figure = args.figure or str(Path(os.environ.get("SCALEBRIDGE_OUT", "out")) / "field_science_map.png")
    if args.quick:
        science_map([0.02], n=32, cells=4, radius=2.0, figure=figure, workers=args.workers)
    else:
        science_map(args.depths, n=args.n, cells=args.cells, radius=args.radius, figure=figure,
                    grid_depths=args.grid_depths, budget=args.budget, workers=args.workers, routes=args.routes,
                    save=args.save)


if __name__ == "__main__":
    main()
