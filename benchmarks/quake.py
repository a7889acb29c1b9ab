"""Benchmark of the strain-signal family (issue 5).

1. Window features (``WindowFeatures()`` defaults: 23 statistics) over a memory-mapped binary
   file of 629,145,480 int16 samples -- the size of the public laboratory data set of
   Rouet-Leduc et al. (2017, doi:10.1002/2017GL074677) -- in non-overlapping 150,000-sample
   windows, on one core (serial kernel, NUMBA_NUM_THREADS=1). Target: at most 10 s.
2. CSV streaming conversion (``convert_csv``): rows per second and the peak resident memory of
   the converting process, for two file sizes (bounded memory: the peak must not grow with the
   file). Target: at most 1 GB.

3. ``--seeds N``: instead of 1-2, the spread of the prediction result over synthetic-experiment
   seeds (``synthetic_prediction`` at 1 MHz, ~27 cycles, 20,000-sample windows, 5 held-out
   cycles): RandomForest R^2, MAE, the shuffled-label control, and the variance's rank among
   the features, per seed and as min/median/max. The acceptance test runs one seed; this shows
   where it sits.

Prints medians of several repeats and the load average (the machine may be shared).

    python benchmarks/quake.py            # full size (needs ~4 GB of disk in --dir)
    python benchmarks/quake.py --quick    # tiny sizes, < 20 s
    python benchmarks/quake.py --seeds 10 # prediction spread over seeds 0-9 (~10 s per seed)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from solvers.strain_signal import WindowFeatures, open_binary, window_features, write_csv  # noqa: E402
from solvers.strain_signal.labdata import _header  # noqa: E402

LAB_SAMPLES = 629_145_480


def make_binary(path: Path, n: int, rate: float = 4e6, chunk: int = 1 << 24) -> Path:
    """A synthetic lab file: noise whose amplitude rises through ~11 s cycles, written in chunks."""
    head, _, labels_offset = _header(n, rate)
    rng = np.random.default_rng(0)
    cycle = 11.0 * rate
    with open(path, "wb") as out:
        out.write(head)
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            phase = ((np.arange(i, i + m) % cycle) / cycle).astype(np.float32)
            amp = 3.0 + 20.0 * phase ** 8
            out.write(np.round(rng.standard_normal(m, dtype=np.float32) * amp + 4.5).astype(np.int16).tobytes())
        out.write(b"\0" * (labels_offset - out.tell()))
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            ttf = (cycle - np.arange(i, i + m) % cycle) / rate
            out.write(ttf.astype(np.float32).tobytes())
    return path


def bench_features(path: Path, window: int, repeats: int) -> dict:
    signal = open_binary(path, validate=False)
    x = signal.samples
    features = WindowFeatures()
    ends = np.arange(window, x.shape[0] + 1, window)
    window_features(np.asarray(x[: 4 * window]), ends[:2], window, features, 4.5, 3.0)  # compile / cache load
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = window_features(x, ends, window, features, 4.5, 3.0)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    assert np.all(np.isfinite(out))
    n = int(ends[-1])
    return {"samples": n, "windows": int(ends.size), "features": features.count,
            "wall_median_s": float(np.median(walls)), "wall_min_s": float(np.min(walls)),
            "cpu_median_s": float(np.median(cpus)), "ns_per_sample": float(np.median(walls)) / n * 1e9}


# Peak memory is the child's VmHWM (reset by exec), not ru_maxrss (which inherits the parent's
# high-water mark across fork + exec and would count this process's memory map).
_CHILD = """
import sys, json
sys.path.insert(0, {root!r})
from solvers.strain_signal import convert_csv
info = convert_csv({csv!r}, {out!r}, chunk_rows={chunk})
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
info["peak_rss_mb"] = int(hwm) / 1024
print(json.dumps(info))
"""


def bench_csv(folder: Path, rows: int, chunk: int, repeats: int) -> dict:
    import json

    rng = np.random.default_rng(1)
    csv = folder / f"lab-{rows}.csv"
    samples = np.round(rng.standard_normal(rows) * 5 + 4.5).astype(np.int64)
    labels = (rows - np.arange(rows)) / 4e6 + 1e-4
    write_csv(csv, samples, labels)
    results = []
    for _ in range(repeats):
        code = _CHILD.format(root=str(ROOT), csv=str(csv), out=str(folder / "lab.bin"), chunk=chunk)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    csv.unlink()
    return {"rows": rows,
            "rows_per_second": float(np.median([r["rows_per_second"] for r in results])),
            "peak_rss_mb": float(np.max([r["peak_rss_mb"] for r in results]))}


def seed_spread(seeds: int, sampling_rate: float, steps: int, window: int, stride: int, test_cycles: int,
                trees: int = 200, first_seed: int = 0, b_value_slope: float | None = None,
                folds: bool = False) -> dict:
    """RandomForest R^2 on held-out whole cycles over experiment seeds, with the shuffled control.

    Prints one line per seed (R^2, MAE, shuffled-label R^2, rank of the variance among the
    features, top three) and the min/median/max, so the acceptance test's single seed can be
    judged against the spread. ``folds``: also hold out each block of ``test_cycles``
    consecutive usable cycles in turn (grouped cross-validation by whole cycles) and print the
    R^2 of each block: the spread due to which cycles are held out, at a fixed experiment.
    """
    import toolkit as tk
    from solvers.strain_signal import RandomForest, synthetic_prediction

    rows, fold_rows = [], []
    print(f"seed spread: {sampling_rate / 1e6:g} MHz, {steps} intervals, window {window} samples "
          f"({window / sampling_rate * 1e3:g} ms), stride {stride}, {test_cycles} held-out cycles, {trees} trees, "
          f"b-value slope {'default' if b_value_slope is None else b_value_slope}")
    print("seed  samples    cycles  train/test windows  R2     MAE(ms)  shuffled R2  var rank  top 3")
    for seed in range(first_seed, first_seed + seeds):
        t0 = time.perf_counter()
        problem = synthetic_prediction(sampling_rate=sampling_rate, steps=steps, window=window, stride=stride,
                                       test_cycles=test_cycles, seed=seed, b_value_slope=b_value_slope)
        sol = tk.solve(problem, RandomForest(trees=trees))
        control = tk.solve(tk.remake(problem, shuffle_labels=True), RandomForest(trees=trees))
        order = list(np.argsort(sol.feature_importances)[::-1])
        rank = order.index(sol.feature_names.index("var")) + 1
        rows.append((sol.r2, sol.mae, control.r2, rank))
        print(f"{seed:4d}  {problem.signal.n_samples:9,d}  {problem.usable_cycles().size:6d}  "
              f"{sol.stats['train_windows']:5d}/{sol.stats['test_windows']:<5d}         {sol.r2:.3f}  "
              f"{sol.mae * 1e3:7.1f}  {control.r2:11.3f}  {rank:8d}  {sol.top_features(3)}  "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if folds:
            usable = problem.usable_cycles()
            blocks = [usable[i:i + test_cycles] for i in range(0, usable.size - test_cycles + 1, test_cycles)]
            fold_r2 = [tk.solve(tk.remake(problem, test_cycles=list(map(int, blk))), RandomForest(trees=trees)).r2
                       for blk in blocks]
            fold_rows.extend(fold_r2)
            print(f"      held-out blocks of {test_cycles} cycles: R2 " + " ".join(f"{r:.3f}" for r in fold_r2))
    r2 = np.array([r[0] for r in rows])
    ranks = np.array([r[3] for r in rows])
    shuffled = np.array([r[2] for r in rows])
    print(f"R2 over {seeds} seeds: min {r2.min():.3f}  median {np.median(r2):.3f}  max {r2.max():.3f}; "
          f"seeds with R2 >= 0.85: {int(np.sum(r2 >= 0.85))}/{seeds}; var rank {ranks.min()}-{ranks.max()} "
          f"(median {np.median(ranks):g}); shuffled R2 max {shuffled.max():.3f}")
    if fold_rows:
        f = np.array(fold_rows)
        print(f"R2 over {f.size} held-out blocks (all seeds): min {f.min():.3f}  median {np.median(f):.3f}  "
              f"max {f.max():.3f}; blocks with R2 >= 0.85: {int(np.sum(f >= 0.85))}/{f.size}")
    return {"r2": r2, "var_rank": ranks, "shuffled_r2": shuffled, "fold_r2": np.array(fold_rows)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--samples", type=int, default=LAB_SAMPLES)
    parser.add_argument("--window", type=int, default=150_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv-rows", type=int, nargs="+", default=[2_000_000, 8_000_000])
    parser.add_argument("--csv-only", action="store_true", help="only the CSV conversion benchmark")
    parser.add_argument("--dir", default=None, help="folder for the temporary files (default: system temp)")
    parser.add_argument("--seeds", type=int, default=0,
                        help="instead: RandomForest R^2 over this many synthetic-experiment seeds (spread)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=1e6, help="--seeds: sampling rate, Hz")
    parser.add_argument("--steps", type=int, default=160, help="--seeds: load intervals of 50 ms")
    parser.add_argument("--seed-window", type=int, default=20_000, help="--seeds: window, samples")
    parser.add_argument("--stride", type=int, default=10_000, help="--seeds: stride, samples")
    parser.add_argument("--test-cycles", type=int, default=5)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--b-slope", type=float, default=None, help="--seeds: b_value_slope of the experiment")
    parser.add_argument("--folds", action="store_true",
                        help="--seeds: also hold out each block of --test-cycles cycles in turn")
    args = parser.parse_args(argv)
    if args.seeds:
        print(f"load average before: {os.getloadavg()}")
        seed_spread(args.seeds, args.rate, args.steps, args.seed_window, args.stride, args.test_cycles,
                    args.trees, args.first_seed, args.b_slope, args.folds)
        print(f"load average after: {os.getloadavg()}")
        return 0
    if args.quick:
        args.samples, args.repeats, args.csv_rows = 1_500_000, 2, [100_000]

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        if not args.csv_only:
            bench_feature_file(folder, args)
        for rows in args.csv_rows:
            csv = bench_csv(folder, rows, chunk=1 << 20, repeats=1 if args.quick else 2)
            print(f"CSV -> binary: {rows:,} rows, median {csv['rows_per_second'] / 1e6:.2f} M rows/s, "
                  f"peak memory {csv['peak_rss_mb']:.0f} MB (target <= 1024 MB, independent of file size)")
    print(f"load average after: {os.getloadavg()}")
    return 0


def bench_feature_file(folder: Path, args) -> None:
    t0 = time.perf_counter()
    path = make_binary(folder / "lab.bin", args.samples)
    print(f"wrote a synthetic binary lab file of {args.samples:,} samples in {time.perf_counter() - t0:.1f} s")
    feats = bench_features(path, args.window, args.repeats)
    path.unlink()
    print(f"window features: {feats['samples']:,} samples from a memory map, {feats['windows']} windows of "
          f"{args.window}, {feats['features']} features, one core: median {feats['wall_median_s']:.2f} s "
          f"(min {feats['wall_min_s']:.2f} s, cpu {feats['cpu_median_s']:.2f} s, "
          f"{feats['ns_per_sample']:.2f} ns/sample; target <= 10 s for 629,145,480)")
    if feats["samples"] < 0.99 * LAB_SAMPLES:
        scaled = feats["wall_median_s"] * LAB_SAMPLES / feats["samples"]
        print(f"  extrapolated to {LAB_SAMPLES:,} samples: {scaled:.2f} s")
    print(f"load average after features: {os.getloadavg()}")


if __name__ == "__main__":
    raise SystemExit(main())
