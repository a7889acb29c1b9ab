"""Benchmark of the strain-signal family (issue 5).

1. Window features (``WindowFeatures()`` defaults: 23 statistics) over a memory-mapped binary
   file of 629,145,480 int16 samples -- the size of the public laboratory data set of
   Rouet-Leduc et al. (2017, doi:10.1002/2017GL074677) -- in non-overlapping 150,000-sample
   windows, on one core (serial kernel, NUMBA_NUM_THREADS=1). Target: at most 10 s.
2. CSV streaming conversion (``convert_csv``): rows per second and the peak resident memory of
   the converting process, for two file sizes (bounded memory: the peak must not grow with the
   file). Target: at most 1 GB.

Prints medians of several repeats and the load average (the machine may be shared).

    python benchmarks/quake.py            # full size (needs ~4 GB of disk in --dir)
    python benchmarks/quake.py --quick    # tiny sizes, < 20 s
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--samples", type=int, default=LAB_SAMPLES)
    parser.add_argument("--window", type=int, default=150_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv-rows", type=int, nargs="+", default=[2_000_000, 8_000_000])
    parser.add_argument("--csv-only", action="store_true", help="only the CSV conversion benchmark")
    parser.add_argument("--dir", default=None, help="folder for the temporary files (default: system temp)")
    args = parser.parse_args(argv)
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
