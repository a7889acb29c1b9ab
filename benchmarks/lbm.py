"""Lattice Boltzmann throughput in MLUPS (million lattice-site updates per second).

Figures named by issue 4: D2Q9 BGK float64 on a periodic 1024² box and D3Q19 BGK float64 on
a periodic 128³ box on one core (targets 150 and 45 MLUPS), the same on all cores, float32
storage, TRT and MRT; plus the memory held by the populations. Each figure is the median of
several timed repeats after a warm-up step (compilation excluded). The load average is printed
with the numbers: on a shared machine they are lower bounds.

Periodic BGK, TRT and MRT, float64 and float32, run the generated kernels of
``solvers/lattice_boltzmann/generated/`` (written by ``codegen/gen_lbm_kernels.py``) in place (AA pattern, one population array); the BGK
rows are measured interleaved with the two-array (A–B, pull) unrolled kernel, the "before".
The all-cores rows use the parallel kernels (the serial kernel's x-rows spread over numba's
threads by :class:`toolkit.kernels.rows.RowKernel`).

The memory roofline comes first: numba loops over arrays far larger than the last-level cache
measure the read-only (sum), copy (b = a, which also reads b's lines: write-allocate) and
in-place (a = s·a) bandwidth of one core. A site update streams Q float64 populations in and Q
out: the A–B pattern moves them like the copy (to another array), the AA pattern like the
in-place update (the same lines), so the roofline MLUPS are bandwidth / (16 Q bytes) with the
copy and in-place figures counted at 16 bytes per element moved by the program. The compute
ceiling follows: the in-place kernels on a grid small enough to stay in L2. Which of the two
binds differs between machines (a 2-core Zen-1 VM here: compute-bound; an earlier, faster
machine: memory-bound), so both are printed next to the figures.

    python benchmarks/lbm.py            # full sizes
    python benchmarks/lbm.py --quick    # tiny sizes, used by the smoke test (no D3Q19 float32 row: its
                                        # kernel, 10 s to compile, is the only one nothing else needs)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def bandwidth(n: int, repeats: int) -> dict:
    """Sustained one-thread bandwidth in GB/s on float64 arrays of ``n`` elements, counting the
    bytes the program asks for: read (8 B per element), copy (16 B: b = s·a, read a, write b) and
    in-place scale (16 B: a = s·a). Median of ``repeats`` passes after a warm-up pass. The copy
    multiplies so that LLVM cannot turn it into ``memcpy`` (whose non-temporal stores would skip
    the write-allocate that the A–B kernel pays); the sum is vectorised through FASTMATH."""
    from numba import njit

    from toolkit.kernels import FASTMATH

    @njit(cache=False, nogil=True, fastmath=set(FASTMATH))
    def read(a):
        s = 0.0
        for i in range(a.size):
            s += a[i]
        return s

    @njit(cache=False, nogil=True)
    def copy(a, b, s):
        for i in range(a.size):
            b[i] = s * a[i]

    @njit(cache=False, nogil=True)
    def scale(a, s):
        for i in range(a.size):
            a[i] = s * a[i]

    a = np.random.default_rng(0).random(n)
    b = np.empty_like(a)
    tests = {"read": (lambda: read(a), 8), "copy": (lambda: copy(a, b, 1.0000001), 16),
             "in-place": (lambda: scale(a, 1.0000001), 16)}
    out = {}
    for name, (run, nbytes) in tests.items():
        run()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        out[name] = nbytes * n / statistics.median(times) / 1e9
    return out


def _rate(integ, shape, steps: int) -> float:
    t0 = time.perf_counter()
    done = integ._advance(steps)
    elapsed = time.perf_counter() - t0
    integ.step_index += done
    if done != steps:
        raise RuntimeError(f"benchmark run stopped after {done} of {steps} steps: {integ.message}")
    return np.prod(shape) * done / elapsed / 1e6


def _memory(integ) -> float:
    return sum(a.nbytes for a in integ.stepper.arrays()) / 2 ** 20     # the AA buffer with its padding


def _integrator(shape, solver, steps: int, repeats: int, two_arrays: bool = False):
    import toolkit as tk
    from problems.lattice_fluid import LatticeFluid

    lattice = "D2Q9" if len(shape) == 2 else "D3Q19"
    problem = LatticeFluid(shape=tuple(shape), lattice=lattice, tau=0.8, steps=steps * repeats + 1,
                           save_every=steps * repeats + 1)
    integ = tk.init(problem, solver, progress=False)
    if two_arrays:
        integ.use_two_arrays()
    integ.step(1)                                   # compile + warm caches (leaves an odd step count)
    return integ


def compute_ceiling(name: str, shape3, steps: int, repeats: int) -> float:
    """MLUPS of the serial in-place AA kernels of ``name`` alone on a (nx, ny, nz) grid, called
    ``steps`` times in pairs from a compiled loop (no Python between steps: on a small grid the
    integrator's per-step Python would be part of the figure). Median of ``repeats``."""
    from numba import njit

    from problems.lattice_fluid import LatticeFluid
    from solvers.lattice_boltzmann import BGK
    from solvers.lattice_boltzmann.aa import aa_storage
    from solvers.lattice_boltzmann.lattices import lattice
    from solvers.lattice_boltzmann.unrolled import aa_kernels

    lat = lattice(name)
    c = np.ascontiguousarray(lat.c[:, [0, 2, 1]] if name == "D2Q9" else lat.c)   # the kernels' order
    collision = BGK().collision(LatticeFluid(shape=(3, 3), tau=0.8))
    nonlocal_step, local_step = aa_kernels(name, collision, c, shape3, False)
    rng = np.random.default_rng(0)
    f = lat.w[:, None, None, None] * (1.0 + 0.01 * rng.standard_normal((lat.q,) + tuple(shape3)))
    buf, _ = aa_storage(f)
    nx, ny, nz = shape3
    F = np.zeros(3)

    @njit(cache=False, nogil=True)
    def run(first, second, buf, nx, ny, nz, w, omega, F, pairs, x0):
        # x0 = 0 comes in as an argument: a literal 0 here would make numba compile the row kernels
        # once more for a Literal[int](0) first argument (10-20 s per D3Q19 kernel)
        bad = 0
        for _ in range(pairs):
            bad += first(x0, nx, buf, nx, ny, nz, w, omega, F)
            bad += second(x0, nx, buf, nx, ny, nz, w, omega, F)
        return bad

    args = (nonlocal_step.rows, local_step.rows, buf, nx, ny, nz, lat.w, 1.25)   # the row kernels
    run(*args, F, 1, 0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        if run(*args, F, steps // 2, 0):
            raise RuntimeError("compute-ceiling run went unstable")
        times.append(time.perf_counter() - t0)
    return nx * ny * nz * 2 * (steps // 2) / statistics.median(times) / 1e6


def measure(shape, solver, steps: int, repeats: int, threads: int = 1) -> tuple[float, float]:
    """Median MLUPS and population memory (MiB) of ``solver`` on a periodic box."""
    import numba

    numba.set_num_threads(threads)
    integ = _integrator(shape, solver, steps, repeats)
    rates = [_rate(integ, shape, steps) for _ in range(repeats)]
    return statistics.median(rates), _memory(integ)


def measure_pair(shape, solver, steps: int, repeats: int, threads: int = 1):
    """The AA (in place) and A–B (two arrays) periodic BGK kernels timed interleaved, repeat by
    repeat: ((MLUPS, MiB) in place, (MLUPS, MiB) two arrays)."""
    import numba

    numba.set_num_threads(threads)
    aa = _integrator(shape, solver, steps, repeats)
    ab = _integrator(shape, solver, steps, repeats, two_arrays=True)
    rates_aa, rates_ab = [], []
    for _ in range(repeats):
        rates_ab.append(_rate(ab, shape, steps))
        rates_aa.append(_rate(aa, shape, steps))
    return (statistics.median(rates_aa), _memory(aa)), (statistics.median(rates_ab), _memory(ab))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke test")
    args = parser.parse_args(argv)

    import numba

    from solvers.lattice_boltzmann import BGK, MRT, TRT

    n2, n3 = (128, 24) if args.quick else (1024, 128)
    steps2, steps3, repeats = (10, 6, 3) if args.quick else (10, 4, 5)
    cores = numba.config.NUMBA_NUM_THREADS
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"numba threads available: {cores}", flush=True)

    n_bw = 2 ** 16 if args.quick else 2 ** 24       # 128 MiB per array: 4x a 32 MiB L3
    bw = bandwidth(n_bw, 3 if args.quick else 7)
    print(f"one-core memory bandwidth on {n_bw * 8 / 2 ** 20:.0f} MiB float64 arrays (median), GB/s: "
          f"read {bw['read']:.1f}, copy {bw['copy']:.1f} (program bytes; the bus also reads the "
          f"target for write-allocate: {bw['copy'] * 1.5:.1f}), in-place {bw['in-place']:.1f}")
    print(f"{'roofline MLUPS, float64':<34} {'A-B (copy)':>12} {'AA (in place)':>14}")
    roof = {}
    for name, q in (("D2Q9", 9), ("D3Q19", 19)):
        roof[name] = (bw["copy"] * 1e9 / (16 * q) / 1e6, bw["in-place"] * 1e9 / (16 * q) / 1e6)
        print(f"{name + ' (' + str(16 * q) + ' B per site)':<34} {roof[name][0]:12.1f} {roof[name][1]:14.1f}")
    print(flush=True)

    # The compute ceiling: the same in-place kernels on a grid whose populations fit in L2
    # (D2Q9 4·1024, D3Q19 4·4·128: under 0.5 MiB, rows as long as in the figures' grids), where
    # memory costs next to nothing. Loads and compute that do not overlap give about
    # 1 / (1/ceiling + 1/roofline).
    small = {"D2Q9": ((32, 1, 32), 50), "D3Q19": ((4, 4, 16), 50)} if args.quick else \
        {"D2Q9": ((4, 1, 1024), 2000), "D3Q19": ((4, 4, 128), 400)}
    print(f"{'compute ceiling, AA, 1 core':<34} {'grid':>12} {'MLUPS':>8} {'no-overlap estimate':>20}")
    for name, (shape, steps) in small.items():
        ceiling = compute_ceiling(name, shape, steps, repeats)
        estimate = 1 / (1 / ceiling + 1 / roof[name][1])
        grid = "x".join(str(n) for n in shape if n > 1)
        print(f"{name + ' BGK float64 in L2':<34} {grid:>12} {ceiling:8.1f} {estimate:20.1f}",
              flush=True)
    print(flush=True)

    print(f"lattice Boltzmann MLUPS (median of {repeats})")
    print(f"{'case':<40} {'grid':>14} {'MLUPS':>8} {'target':>8} {'populations MiB':>16}")

    def show(label, shape, rate, memory, target=None):
        grid = "x".join(map(str, shape))
        tgt = f"{target:.0f}" if target else "-"
        print(f"{label:<40} {grid:>14} {rate:8.1f} {tgt:>8} {memory:16.1f}", flush=True)

    pairs = [("D2Q9 BGK float64", (n2, n2), BGK(), 1, 150.0, "1 core"),
             ("D3Q19 BGK float64", (n3, n3, n3), BGK(), 1, 45.0, "1 core"),
             ("D2Q9 BGK float64", (n2, n2), BGK(parallel=True), cores, None, f"{cores} cores"),
             ("D3Q19 BGK float64", (n3, n3, n3), BGK(parallel=True), cores, None, f"{cores} cores")]
    for label, shape, solver, threads, target, where in pairs:
        steps = steps2 if len(shape) == 2 else steps3
        (r_aa, m_aa), (r_ab, m_ab) = measure_pair(shape, solver, steps, repeats, threads)
        show(f"{label}, {where}, AA", shape, r_aa, m_aa, target)
        show(f"{label}, {where}, A-B (before)", shape, r_ab, m_ab)
    rows = [
        ("D2Q9 BGK float32, 1 core", (n2, n2), BGK(precision="float32"), 1),
        *([] if args.quick else [("D3Q19 BGK float32, 1 core", (n3, n3, n3), BGK(precision="float32"), 1)]),
        ("D2Q9 TRT float64, 1 core", (n2, n2), TRT(), 1),
        ("D3Q19 TRT float64, 1 core", (n3, n3, n3), TRT(), 1),
        ("D2Q9 MRT float64, 1 core", (n2, n2), MRT(), 1),
        ("D3Q19 MRT float64, 1 core", (n3, n3, n3), MRT(), 1),
    ]
    for label, shape, solver, threads in rows:
        steps = steps2 if len(shape) == 2 else steps3
        rate, memory = measure(shape, solver, steps, repeats, threads)
        show(label, shape, rate, memory)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
