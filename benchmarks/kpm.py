"""KPM benchmark (issue 3): DOS speed, linear scaling, SpMV bandwidth fraction.

1. Density of states of a 512 x 512 periodic square lattice (262,144 sites), 256 Chebyshev
   moments, 10 random vectors, spectral bounds (Lanczos) included, one core: target <= 1.0 s.
2. Linear scaling: wall time of the moment sweep from 10^4 to ``--max-sites`` sites (default
   10^7), fitted exponent of time vs N (target 1.00 +- 0.05); memory O(N S).
3. SpMV throughput: bytes the fused Chebyshev step must move per sweep / time, as a fraction of
   the machine's measured memory bandwidth (a STREAM-like triad in numba), for the step the solver
   runs (diagonal pieces on a lattice: no matrix read, no padding) and for the CSR step.

4. The question asked (issue 16): the same DOS solve with ``local=False`` (the default: DOS and
   thermodynamics, one moment sweep) and ``local=True`` (densities and density matrix: a second,
   fused sweep), interleaved; the local sweep's time against the moment sweep's (target <= 2x).
5. Solve cache (issue 16): a 48 x 48 triangular Kondo lattice (4,608 orbitals), forces by KPM;
   ``cache.update(spins=...)`` + ``cache.solve()`` against the bare KPM sweeps of that solve
   (target: at most 5 % more) and against ``tk.solve(tk.remake(problem, spins=...))``; and the
   force-provider call a spin-dynamics driver makes, ``cache.energy_gradient(spins)``.

Each line says which step ran: ``pieces`` (constant-coefficient diagonal pieces,
``toolkit.kernels.sparse.cheb_step_pieces``) or ``csr`` (padded block), and whether temporal
blocking (two Chebyshev steps per pass over memory, ``cheb_two_steps_pieces``) was on. The moment
sweep is also timed with each variant, interleaved.

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
    problem = lattice_problem("square", L, mu=0.0)              # local=False: the default question
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
        # the caller's block, its (padded) copy (the sweep's workspace) and P
        work = R.nbytes + 2 * R.itemsize * H.shape[0] * ops.width(count)
        rows.append((H.shape[0], t, work + H.data.nbytes * 2 + H.indptr.nbytes))
        kind = "pieces" if ops.pieces is not None else "csr"
        print(f"  N = {H.shape[0]:>10,d}  moments {order:4d}  S = {count}  step {kind:6s}  "
              f"CPU {t:8.4f} s  wall {wall:8.4f} s  "
              f"({t / H.shape[0] / (order // 2) / count * 1e9:6.2f} ns per site-step-vector)  "
              f"working set {rows[-1][2] / 1e6:8.1f} MB", flush=True)
    N = np.array([r[0] for r in rows], float)
    T = np.array([r[1] for r in rows])
    slope, _ = np.polyfit(np.log(N), np.log(T), 1)
    return rows, float(slope)


def spmv_fraction(L, count, repeats, bw, pieces):
    """Time one fused Chebyshev step on the L x L lattice (``pieces``: True, False as in ``_Ops``);
    returns (seconds, bytes moved per second, fraction of ``bw``, columns run, step name)."""
    problem = lattice_problem("square", L, mu=0.0, local=False)
    ops = cb._Ops(problem.matrix, 4.1, 0.0, False, pieces=pieces, two_steps=False)
    n = problem.size
    width = ops.width(count)                 # CSR pads the block to this many columns; pieces do not
    X = np.zeros((n, width))
    P = np.zeros((n, width))
    X[:, :count] = np.random.default_rng(0).normal(size=(n, count))
    P[:, :count] = np.random.default_rng(1).normal(size=(n, count))
    nn, nx = np.zeros(width), np.zeros(width)
    ops.step(X, P, nn, nx)
    t, _ = median_time(lambda: ops.step(X, P, nn, nx), repeats)
    # minimal traffic: X read once, P read and written (the columns really run), plus the matrix
    # once: CSR indices + data + indptr, or the pieces' tables (no per-entry data)
    matrix = sum(a.nbytes for a in ops._matrix)
    moved = matrix + X.nbytes + 2 * P.nbytes
    return t, moved / t, moved / t / bw, width, "pieces" if ops.pieces is not None else "csr"


def two_step_fraction(L, count, repeats, bw):
    """Time one call of the two-step (temporal blocking) kernel on the L x L lattice: (seconds per
    step, bytes moved per second, fraction of ``bw``). It moves X and P in and out once for two
    steps (4 block passes instead of 6), plus the pieces' tables."""
    problem = lattice_problem("square", L, mu=0.0, local=False)
    ops = cb._Ops(problem.matrix, 4.1, 0.0, False, pieces=True, two_steps=True)
    n = problem.size
    X = np.random.default_rng(0).normal(size=(n, count))
    P = np.random.default_rng(1).normal(size=(n, count))
    dots = [np.zeros(count) for _ in range(4)]
    ops.two_steps(X, P, *dots)
    t, _ = median_time(lambda: ops.two_steps(X, P, *dots), repeats)
    moved = sum(a.nbytes for a in ops._matrix) + 4 * X.nbytes
    return t / 2, moved / t, moved / t / bw


def sweep_variants(L, order, count, rounds):
    """Moment sweep of the L x L lattice with each step variant, interleaved round by round (so a
    shared machine's load hits them alike): medians of the wall and CPU times."""
    problem = lattice_problem("square", L, mu=0.0, local=False)
    H = problem.matrix
    a, b = cb.scale_from_bounds(*cb.lanczos_bounds(H))
    variants = {"pieces, temporal blocking on (2 steps per pass)": cb._Ops(H, a, b, False, two_steps=True),
                "pieces, temporal blocking off": cb._Ops(H, a, b, False, two_steps=False),
                "csr (padded), temporal blocking off": cb._Ops(H, a, b, False, pieces=False)}
    R = np.random.default_rng(0).choice([-1.0, 1.0], size=(H.shape[0], count))
    ref = None
    times = {k: ([], []) for k in variants}
    for ops in variants.values():
        cb.moment_sweep(ops, R, 8)                           # compile outside the timing
    for _ in range(rounds):
        for name, ops in variants.items():
            t, c = time.perf_counter(), time.process_time()
            mu = cb.moment_sweep(ops, R, order)
            times[name][0].append(time.perf_counter() - t)
            times[name][1].append(time.process_time() - c)
            ref = mu if ref is None else ref
            assert np.allclose(mu, ref, rtol=0, atol=1e-9 * H.shape[0]), name
    return {k: (float(np.median(w)), float(np.median(c))) for k, (w, c) in times.items()}


def local_benchmark(L, order, count, rounds):
    """DOS solve with local=False and local=True, interleaved: medians of (wall, CPU) per solve, of
    the moment sweep and of the local sweep (from the solutions' stats)."""
    dos_only = lattice_problem("square", L, mu=0.0)                     # the default question
    local = tk.remake(dos_only, local=True)
    solver = KPM(order=order, estimator=RandomVectors(count=count))
    tk.solve(lattice_problem("square", 8, mu=0.0, local=True), solver)   # compile
    out = {k: [] for k in ("dos wall", "dos cpu", "local wall", "local cpu", "moments", "local sweep", "ratio")}
    for _ in range(rounds):
        for problem in (dos_only, local):
            t, c = time.perf_counter(), time.process_time()
            sol = tk.solve(problem, solver)
            key = "local" if problem.local else "dos"
            out[f"{key} wall"].append(time.perf_counter() - t)
            out[f"{key} cpu"].append(time.process_time() - c)
            if problem.local:
                out["moments"].append(sol.stats["moments_time"])
                out["local sweep"].append(sol.stats["local_time"])
                out["ratio"].append(sol.stats["local_time"] / sol.stats["moments_time"])
    return {k: float(np.median(v)) for k, v in out.items()}


def cache_benchmark(L, order, count, steps, seed=0):
    """Kondo lattice forces: per spin update, the cached ``update + solve`` against the bare KPM
    sweeps of the same solve (``stats['sweep_time']``) and against ``tk.solve(tk.remake(...))``,
    interleaved step by step (small random spin moves, as in a Langevin run). Medians (s)."""
    problem = lattice_problem("triangular", L, spins="random", J=1.0, kT=0.1, mu=-1.0, local=True,
                              pattern="onsite", seed=seed)
    solver = KPM(order=order, estimator=RandomVectors(count=count), seed=seed)
    cache = tk.init(problem, solver)
    cache.solve()                                                      # compile
    provider = tk.init(problem, solver)                                # the force-provider contract (issue 16.2)
    provider.energy_gradient(problem.spins)
    rng = np.random.default_rng(seed + 1)
    S = problem.spins
    rows = {k: [] for k in ("cached", "sweep", "remade", "overhead", "gradient")}
    for _ in range(steps):
        S = S + 0.002 * rng.normal(size=S.shape)
        S /= np.linalg.norm(S, axis=1, keepdims=True)
        t = time.perf_counter()
        sol = cache.update(spins=S).solve()
        cached = time.perf_counter() - t
        t = time.perf_counter()
        tk.solve(tk.remake(problem, spins=S), solver)
        rows["remade"].append(time.perf_counter() - t)
        t = time.perf_counter()
        provider.energy_gradient(S)
        rows["gradient"].append(time.perf_counter() - t)
        rows["cached"].append(cached)
        rows["sweep"].append(sol.stats["sweep_time"])
        rows["overhead"].append(cached / sol.stats["sweep_time"] - 1.0)
    out = {k: float(np.median(v)) for k, v in rows.items()}
    out["orbitals"] = problem.size
    out["lanczos_runs"] = sol.stats["lanczos_runs"]
    return out


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
          f"(target <= 1.0 s at 512x512; repeats {[round(x, 3) for x in times]}; step {st['step']}, temporal "
          f"blocking {st['two_steps']}; setup {st['setup_time']:.3f} s, bounds {st['bounds_time']:.3f} s, "
          f"moments {st['moments_time']:.3f} s)  load {os.getloadavg()[0]:.2f}")

    rounds = 2 if quick else args.repeats
    r = local_benchmark(L, order, count, rounds)
    print(f"question asked, {L}x{L}, {order} moments, {count} vectors ({rounds} interleaved rounds, medians): "
          f"DOS only (local=False, the default) {r['dos wall']:.3f} s wall, {r['dos cpu']:.3f} s CPU; with local "
          f"quantities (local=True) {r['local wall']:.3f} s wall, {r['local cpu']:.3f} s CPU")
    print(f"  local sweep {r['local sweep']:.3f} s against the moment sweep {r['moments']:.3f} s of the same solve: "
          f"{r['ratio']:.2f}x (target <= 2x)  load {os.getloadavg()[0]:.2f}")

    Lk, steps = (12, 3) if quick else (48, 9)
    c = cache_benchmark(Lk, 64 if quick else 256, count, steps)
    print(f"solve cache, {Lk}x{Lk} triangular Kondo lattice ({c['orbitals']:,d} orbitals), forces (local=True, "
          f"pattern='onsite'), {64 if quick else 256} moments, {count} vectors, medians of {steps} spin updates: "
          f"update(spins) + solve() {c['cached'] * 1e3:.1f} ms against the bare KPM sweeps {c['sweep'] * 1e3:.1f} ms "
          f"(+{100 * c['overhead']:.1f} %, target <= 5 %); tk.solve(tk.remake(...)) {c['remade'] * 1e3:.1f} ms "
          f"(Lanczos runs in the cache: {c['lanczos_runs']})  load {os.getloadavg()[0]:.2f}")
    print(f"  force provider: cache.energy_gradient(spins) -> (Omega, dOmega/dS) {c['gradient'] * 1e3:.1f} ms "
          f"(the same update + solve, read off)  load {os.getloadavg()[0]:.2f}")

    for name, (wall, cpu) in sweep_variants(L, order, count, rounds).items():
        print(f"  moment sweep {L}x{L}, {order} moments, S = {count}, {name}: median {wall:.3f} s wall, "
              f"{cpu:.3f} s CPU ({rounds} interleaved rounds)  load {os.getloadavg()[0]:.2f}")

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

    for pieces in ("auto", False):
        t, rate, frac, width, kind = spmv_fraction(128 if quick else 512, count, repeats * 4, bw, pieces)
        moved_cpu = rate * t / max(median_time.cpu, 1e-9)
        print(f"SpMV (fused Chebyshev step '{kind}', {'the solver default' if pieces == 'auto' else 'forced'}, "
              f"S = {count} run as {width} columns, one step per pass, no temporal blocking): {t * 1e3:.2f} ms wall "
              f"({median_time.cpu * 1e3:.2f} ms CPU), "
              f"{rate / 1e9:.2f} GB/s moved = {100 * frac:.0f} % of measured bandwidth "
              f"(by CPU time: {moved_cpu / 1e9:.2f} GB/s = {100 * moved_cpu / bandwidth.cpu:.0f} %)  "
              f"load {os.getloadavg()[0]:.2f}")
    t, rate, frac = two_step_fraction(128 if quick else 512, count, repeats * 4, bw)
    cpu = median_time.cpu / 2
    print(f"SpMV (two fused Chebyshev steps per pass on 'pieces', temporal blocking on, S = {count}): {t * 1e3:.2f} ms "
          f"wall ({cpu * 1e3:.2f} ms CPU) per step, {rate / 1e9:.2f} GB/s moved = {100 * frac:.0f} % of measured "
          f"bandwidth (by CPU time: {rate * t / cpu / 1e9:.2f} GB/s = {100 * rate * t / cpu / bandwidth.cpu:.0f} %)  "
          f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
