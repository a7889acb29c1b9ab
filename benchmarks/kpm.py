"""KPM benchmark (issue 3): DOS speed, linear scaling, SpMV bandwidth fraction.

1. Density of states of a 512 x 512 periodic square lattice (262,144 sites), 256 Chebyshev
   moments, 10 random vectors, spectral bounds (Lanczos) included, one core: target <= 1.0 s.
2. Linear scaling: wall time of the moment sweep from 10^4 to ``--max-sites`` sites (default
   10^7), fitted exponent of time vs N (target 1.00 +- 0.05); memory O(N S).
3. SpMV throughput: bytes the fused Chebyshev step must move per sweep / time, as a fraction of
   the machine's measured memory bandwidth (a STREAM-like triad in numba).

Medians of several repeats; the load average is printed with the numbers (the machine may be
shared). ``--quick``: tiny sizes, a smoke test (< 20 s).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

import toolkit as tk  # noqa: E402
from problems.tight_binding import lattice_problem  # noqa: E402
from solvers.tight_binding import KPM, RandomVectors  # noqa: E402
from solvers.tight_binding import chebyshev as cb  # noqa: E402
from toolkit.kernels.sparse import as_csr_arrays, block_width, cheb_step  # noqa: E402


def median_time(fn, repeats):
    """Median wall time and the list of (wall, process CPU) times: on a shared, overloaded machine
    the CPU time is the closer estimate of what a quiet core would take."""
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    median_time.cpu = float(np.median(cpu))
    return float(np.median(times)), times


@njit(cache=True, nogil=True)
def _triad(a, b, c, s):
    for i in range(a.shape[0]):
        a[i] = b[i] + s * c[i]
    return 0


def bandwidth(n=20_000_000, repeats=5):
    """Memory bandwidth (bytes/s) of the triad a = b + s c (3 x 8 bytes per element), one core."""
    a, b, c = np.zeros(n), np.ones(n), np.ones(n)
    _triad(a, b, c, 2.0)
    t, _ = median_time(lambda: _triad(a, b, c, 2.0), repeats)
    bandwidth.cpu = 24.0 * n / max(median_time.cpu, 1e-9)
    return 24.0 * n / t


def dos_benchmark(L, order, count, repeats, parallel=False):
    problem = lattice_problem("square", L, mu=0.0, local=False)
    solver = KPM(order=order, estimator=RandomVectors(count=count), parallel=parallel)
    tk.solve(lattice_problem("square", 8, mu=0.0, local=False), solver)      # compile
    sols = []
    t, times = median_time(lambda: sols.append(tk.solve(problem, solver)), repeats)
    st = sols[-1].stats
    return t, times, st


def scaling_benchmark(sizes, order, count, repeats):
    rows = []
    for L in sizes:
        problem = lattice_problem("square", L, mu=0.0, local=False)
        H = problem.matrix
        a, b = cb.scale_from_bounds(*cb.gershgorin_bounds(H))
        ops = cb._Ops(H, a, b, False)
        R = np.random.default_rng(0).choice([-1.0, 1.0], size=(H.shape[0], count))
        wall, _ = median_time(lambda: cb.moment_sweep(ops, R, order), repeats)
        t = median_time.cpu          # CPU time: robust to other users of a shared machine
        # the caller's block, its padded copy (block_width columns, the sweep's workspace) and P
        work = R.nbytes + 2 * R.itemsize * H.shape[0] * block_width(count)
        rows.append((H.shape[0], t, work + H.data.nbytes * 2 + H.indptr.nbytes))
        print(f"  N = {H.shape[0]:>10,d}  moments {order:4d}  S = {count}  CPU {t:8.4f} s  wall {wall:8.4f} s  "
              f"({t / H.shape[0] / (order // 2) / count * 1e9:6.2f} ns per site-step-vector)  "
              f"working set {rows[-1][2] / 1e6:8.1f} MB", flush=True)
    N = np.array([r[0] for r in rows], float)
    T = np.array([r[1] for r in rows])
    slope, _ = np.polyfit(np.log(N), np.log(T), 1)
    return rows, float(slope)


def spmv_fraction(L, count, repeats, bw):
    problem = lattice_problem("square", L, mu=0.0, local=False)
    ip, ix, data = as_csr_arrays(problem.matrix)
    n = problem.size
    width = block_width(count)               # the sweeps pad the block to this many columns
    X = np.zeros((n, width))
    P = np.zeros((n, width))
    X[:, :count] = np.random.default_rng(0).normal(size=(n, count))
    P[:, :count] = np.random.default_rng(1).normal(size=(n, count))
    nn, nx = np.zeros(width), np.zeros(width)
    cheb_step(ip, ix, data, X, P, 0.5, 0.0, nn, nx)
    t, _ = median_time(lambda: cheb_step(ip, ix, data, X, P, 0.5, 0.0, nn, nx), repeats)
    # minimal traffic: matrix once (indices + data + indptr), X read once, P read and written
    # (counted for the padded block: the bytes that really move)
    moved = ix.nbytes + data.nbytes + ip.nbytes + X.nbytes + 2 * P.nbytes
    spmv_fraction.width = width
    return t, moved / t, moved / t / bw


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--max-sites", type=float, default=1e7, help="largest lattice of the scaling fit")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    quick = args.quick
    repeats = 2 if quick else args.repeats
    print(f"load average at start: {os.getloadavg()}  (NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')})")

    bw = bandwidth(2_000_000 if quick else 20_000_000, repeats)
    print(f"memory bandwidth (numba triad, one core): {bw / 1e9:.2f} GB/s by wall time, "
          f"{bandwidth.cpu / 1e9:.2f} GB/s by CPU time")

    L, order, count = (64, 64, 4) if quick else (512, 256, 10)
    t, times, st = dos_benchmark(L, order, count, repeats)
    print(f"DOS {L}x{L} square ({L * L:,d} sites), {order} moments, {count} vectors, one core: median {t:.3f} s wall, "
          f"{median_time.cpu:.3f} s CPU "
          f"(target <= 1.0 s at 512x512; repeats {[round(x, 3) for x in times]}; bounds {st['bounds_time']:.3f} s, "
          f"moments {st['moments_time']:.3f} s)  load {os.getloadavg()[0]:.2f}")

    import numba

    threads = numba.config.NUMBA_NUM_THREADS
    if threads > 1:
        tp, _, _ = dos_benchmark(L, order, count, repeats, parallel=True)
        print(f"DOS {L}x{L} with parallel kernels on {threads} threads: median {tp:.3f} s wall "
              f"(speed-up {t / tp:.2f}x over the serial run)  load {os.getloadavg()[0]:.2f}")
    else:
        print("parallel kernels: skipped (NUMBA_NUM_THREADS=1; set it to the core count to measure)")

    if quick:
        sizes = [32, 64, 128]
    else:
        top = int(np.sqrt(args.max_sites))
        sizes = [int(round(x)) for x in np.geomspace(100, top, 5)]
    rows, slope = scaling_benchmark(sizes, 32 if quick else 64, count, 1 if quick else 3)
    print(f"linear scaling: fitted exponent of CPU time vs N = {slope:.3f} (target 1.00 +- 0.05) over "
          f"N = {rows[0][0]:,d} .. {rows[-1][0]:,d}; memory O(N S): working set / (N S) = "
          f"{rows[-1][2] / rows[-1][0] / count:.0f} bytes  load {os.getloadavg()[0]:.2f}")

    t, rate, frac = spmv_fraction(128 if quick else 512, count, repeats * 4, bw)
    moved_cpu = rate * t / max(median_time.cpu, 1e-9)
    print(f"SpMV (fused Chebyshev step, S = {count} run as {spmv_fraction.width} columns): {t * 1e3:.2f} ms wall "
          f"({median_time.cpu * 1e3:.2f} ms CPU), "
          f"{rate / 1e9:.2f} GB/s moved = {100 * frac:.0f} % of measured bandwidth "
          f"(by CPU time: {moved_cpu / 1e9:.2f} GB/s = {100 * moved_cpu / bandwidth.cpu:.0f} %)  "
          f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
