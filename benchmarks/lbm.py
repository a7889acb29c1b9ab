"""Lattice Boltzmann throughput in MLUPS (million lattice-site updates per second).

Figures named by issue 4: D2Q9 BGK float64 on a periodic 1024² box and D3Q19 BGK float64 on
a periodic 128³ box on one core (targets 150 and 45 MLUPS), the same on all cores, float32
storage, TRT and MRT; plus the memory held (two population arrays, A–B pattern). Each figure
is the median of several timed repeats after a warm-up step (compilation excluded). The
load average is printed with the numbers: on a shared machine they are lower bounds.
The periodic BGK float64 rows run the unrolled kernels of ``solvers/lattice_boltzmann/fastpath.py``;
the others run the generic row kernel.

    python benchmarks/lbm.py            # full sizes
    python benchmarks/lbm.py --quick    # tiny sizes (< 20 s), used by the smoke test
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def measure(shape, solver, steps: int, repeats: int, threads: int = 1) -> tuple[float, float]:
    import numba

    import toolkit as tk
    from problems.lattice_fluid import LatticeFluid

    lattice = "D2Q9" if len(shape) == 2 else "D3Q19"
    problem = LatticeFluid(shape=tuple(shape), lattice=lattice, tau=0.8, steps=steps * repeats + 1,
                           save_every=steps * repeats + 1)
    numba.set_num_threads(threads)
    integ = tk.init(problem, solver, progress=False)
    integ.step(1)                                   # compile + warm caches
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        done = integ._advance(steps)
        elapsed = time.perf_counter() - t0
        integ.step_index += done
        rates.append(np.prod(shape) * steps / elapsed / 1e6)
    memory = (integ.f.nbytes + integ.g.nbytes) / 2 ** 20
    return statistics.median(rates), memory


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke test")
    args = parser.parse_args(argv)

    import numba

    from solvers.lattice_boltzmann import BGK, MRT, TRT

    n2, n3 = (128, 24) if args.quick else (1024, 128)
    steps2, steps3, repeats = (10, 6, 3) if args.quick else (10, 3, 3)
    cores = numba.config.NUMBA_NUM_THREADS
    rows = [
        ("D2Q9 BGK float64, 1 core", (n2, n2), BGK(), 1, 150.0),
        ("D3Q19 BGK float64, 1 core", (n3, n3, n3), BGK(), 1, 45.0),
        (f"D2Q9 BGK float64, {cores} cores", (n2, n2), BGK(parallel=True), cores, None),
        (f"D3Q19 BGK float64, {cores} cores", (n3, n3, n3), BGK(parallel=True), cores, None),
        ("D2Q9 BGK float32, 1 core", (n2, n2), BGK(precision="float32"), 1, None),
        ("D3Q19 BGK float32, 1 core", (n3, n3, n3), BGK(precision="float32"), 1, None),
        ("D2Q9 TRT float64, 1 core", (n2, n2), TRT(), 1, None),
        ("D3Q19 TRT float64, 1 core", (n3, n3, n3), TRT(), 1, None),
        ("D2Q9 MRT float64, 1 core", (n2, n2), MRT(), 1, None),
        ("D3Q19 MRT float64, 1 core", (n3, n3, n3), MRT(), 1, None),
    ]
    print(f"lattice Boltzmann MLUPS (median of {repeats}); load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; numba threads available: {cores}")
    print(f"{'case':<34} {'grid':>14} {'MLUPS':>8} {'target':>8} {'populations MiB':>16}")
    for label, shape, solver, threads, target in rows:
        steps = steps2 if len(shape) == 2 else steps3
        rate, memory = measure(shape, solver, steps, repeats, threads)
        grid = "x".join(map(str, shape))
        tgt = f"{target:.0f}" if target else "-"
        print(f"{label:<34} {grid:>14} {rate:8.1f} {tgt:>8} {memory:16.1f}", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
