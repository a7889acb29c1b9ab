"""Laboratory data files: the CSV layout of the public lab-quake data, and a compact binary twin.

The CSV (Rouet-Leduc et al. 2017; the Los Alamos / Kaggle "LANL Earthquake Prediction" release,
629,145,480 rows) has a header ``acoustic_data,time_to_failure`` and one sample per line: an
integer ADC count and the time to the next failure in seconds. :func:`convert_csv` streams it
in chunks (bounded memory whatever the file size) into a binary file that :func:`open_binary`
memory-maps::

    bytes 0-63   header: b"SBQUAKE1", uint64 n, float64 sampling_rate, uint64 samples offset,
                 uint64 labels offset (little endian)
    samples      n int16
    labels       n float32 (8-byte aligned)

Wrong columns, bad numbers, values outside int16 and truncated files raise
:class:`toolkit.FileFormatError` naming the line.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import numpy as np

from problems.strain_signal import StrainSignal
from toolkit.errors import FileFormatError

__all__ = ["HEADER", "read_csv_chunks", "convert_csv", "open_binary", "write_binary", "create_binary", "write_csv"]

HEADER = "acoustic_data,time_to_failure"
MAGIC = b"SBQUAKE1"
_HEAD = struct.Struct("<8sQdQQ")
_HEAD_SIZE = 64


def _first_line(path: Path) -> str:
    with open(path, "rb") as fh:
        return fh.readline(4096).decode("utf-8", "replace").strip()


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return False
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def read_csv_chunks(path, chunk_rows: int = 1 << 20):
    """Yield ``(first_line_number, samples int16, labels float64)`` chunks of a lab CSV file.

    Memory stays bounded by ``chunk_rows`` rows; every problem raises :class:`FileFormatError`
    with the line number (the header is line 1).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"no CSV file at {path}")
    header = _first_line(path)
    if header.replace(" ", "") != HEADER:
        raise FileFormatError(f"{path}, line 1: the header is {header[:80]!r}; expected the columns "
                              f"{HEADER!r} (acoustic data, then time to failure)")
    complete = _ends_with_newline(path)
    line = 2
    try:
        reader = pd.read_csv(path, chunksize=chunk_rows, engine="c", skip_blank_lines=False,
                             header=0, names=["acoustic_data", "time_to_failure"], low_memory=True)
        for chunk in reader:
            n = len(chunk)
            yield line, *_check_chunk(path, chunk, line)
            line += n
    except pd.errors.ParserError as exc:
        raise FileFormatError(f"{path}: {str(exc).replace('Error tokenizing data. C error: ', '')}; "
                              "every line must hold exactly two comma-separated values") from None
    if not complete:
        raise FileFormatError(f"{path}, line {line - 1}: the file ends in the middle of a line (no final "
                              "newline): it is truncated; download it again or remove the last line")


def _check_chunk(path, chunk, line):
    import pandas as pd

    cols = []
    for name in ("acoustic_data", "time_to_failure"):
        col = chunk[name]
        if col.dtype.kind not in "if":
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
        else:
            values = col.to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raw = col.iloc[i]
            what = "is missing" if (raw is None or (isinstance(raw, float) and np.isnan(raw))) \
                else f"= {str(raw)[:40]!r} is not a finite number"
            raise FileFormatError(f"{path}, line {line + i}: {name} {what}; each line needs an integer "
                                  "ADC count and a time to failure in seconds")
        cols.append(values)
    samples, labels = cols
    bad = np.flatnonzero((samples != np.round(samples)) | (samples < -32768) | (samples > 32767))
    if bad.size:
        i = int(bad[0])
        raise FileFormatError(f"{path}, line {line + i}: acoustic_data = {samples[i]:g} is not an int16 "
                              "ADC count (an integer in [-32768, 32767])")
    if np.any(labels < 0):
        i = int(np.flatnonzero(labels < 0)[0])
        raise FileFormatError(f"{path}, line {line + i}: time_to_failure = {labels[i]:g} is negative")
    return samples.astype(np.int16), labels


def _header(n: int, sampling_rate: float) -> tuple[bytes, int, int]:
    samples_offset = _HEAD_SIZE
    labels_offset = samples_offset + 2 * n
    labels_offset += (-labels_offset) % 8
    head = _HEAD.pack(MAGIC, n, float(sampling_rate), samples_offset, labels_offset)
    return head.ljust(_HEAD_SIZE, b"\0"), samples_offset, labels_offset


def convert_csv(csv_path, binary_path, sampling_rate: float = 4e6, chunk_rows: int = 1 << 20) -> dict:
    """Stream a lab CSV into the binary layout (atomically); return rows, seconds and rows/s."""
    binary_path = Path(binary_path)
    part = binary_path.with_name(binary_path.name + ".part")
    labels_tmp = binary_path.with_name(binary_path.name + ".labels.part")
    start = time.perf_counter()
    n = 0
    try:
        with open(part, "wb") as out, open(labels_tmp, "wb") as lab:
            out.write(b"\0" * _HEAD_SIZE)
            for _, samples, labels in read_csv_chunks(csv_path, chunk_rows):
                out.write(samples.tobytes())
                lab.write(labels.astype(np.float32).tobytes())
                n += samples.size
        if n < 2:
            raise FileFormatError(f"{csv_path} holds {n} data line(s); a signal needs at least 2")
        head, _, labels_offset = _header(n, sampling_rate)
        with open(part, "r+b") as out:
            out.seek(0, os.SEEK_END)
            out.write(b"\0" * (labels_offset - out.tell()))
            with open(labels_tmp, "rb") as lab:
                while block := lab.read(1 << 24):
                    out.write(block)
            out.seek(0)
            out.write(head)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, binary_path)
    finally:
        for leftover in (part, labels_tmp):
            if leftover.exists():
                leftover.unlink()
    seconds = time.perf_counter() - start
    return {"rows": n, "seconds": seconds, "rows_per_second": n / seconds if seconds else float("inf")}


def write_binary(path, samples, labels, sampling_rate: float) -> Path:
    """Write int16 samples and float32 labels in the binary layout (for synthetic data)."""
    samples = np.asarray(samples)
    n = samples.shape[0]
    head, s_off, l_off = _header(n, sampling_rate)
    path = Path(path)
    with open(path, "wb") as out:
        out.write(head)
        for i in range(0, n, 1 << 24):
            out.write(np.asarray(samples[i:i + (1 << 24)]).astype(np.int16).tobytes())
        out.write(b"\0" * (l_off - s_off - 2 * n))
        for i in range(0, n, 1 << 24):
            out.write(np.asarray(labels[i:i + (1 << 24)]).astype(np.float32).tobytes())
    return path


def create_binary(path, n: int, sampling_rate: float) -> tuple[np.memmap, np.memmap]:
    """Create an ``n``-sample file in the binary layout and return its writable (int16 samples,
    float32 labels) memory maps, zero-filled: for records generated in chunks. Flush them and
    drop them, then read the file with :func:`open_binary`."""
    head, s_off, l_off = _header(n, sampling_rate)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(l_off + 4 * n)
    samples = np.memmap(path, dtype="<i2", mode="r+", offset=s_off, shape=(n,))
    labels = np.memmap(path, dtype="<f4", mode="r+", offset=l_off, shape=(n,))
    return samples, labels


def write_csv(path, samples, labels) -> Path:
    """Write a signal in the laboratory CSV layout (for tests and benchmarks)."""
    path = Path(path)
    with open(path, "w") as fh:
        fh.write(HEADER + "\n")
        for i in range(0, len(samples), 1 << 20):
            s = np.asarray(samples[i:i + (1 << 20)]).astype(np.int64)
            t = np.asarray(labels[i:i + (1 << 20)], dtype=np.float64)
            fh.write("".join(f"{a},{b:.10g}\n" for a, b in zip(s.tolist(), t.tolist())))
    return path


def open_binary(path, validate: bool = True) -> StrainSignal:
    """Memory-map a binary lab file as a :class:`StrainSignal` (int16 samples, float32 labels).

    ``validate=False`` skips the labels' streaming check (a full read of the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"no binary lab file at {path}; make one with convert_csv(csv, {path.name!r})")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        raw = fh.read(_HEAD_SIZE)
    if len(raw) < _HEAD_SIZE or raw[:8] != MAGIC:
        raise FileFormatError(f"{path} is not a scalebridge lab file (bad magic); convert the CSV with convert_csv")
    _, n, rate, s_off, l_off = _HEAD.unpack(raw[:_HEAD.size])
    if size < l_off + 4 * n:
        raise FileFormatError(f"{path} is truncated: {size} bytes, the header promises {l_off + 4 * n}; "
                              "convert the CSV again")
    samples = np.memmap(path, dtype="<i2", mode="r", offset=s_off, shape=(n,))
    labels = np.memmap(path, dtype="<f4", mode="r", offset=l_off, shape=(n,))
    if not validate:
        return _unvalidated(samples, rate, labels)
    return StrainSignal(samples=samples, sampling_rate=rate, time_to_failure=labels)


def _unvalidated(samples, rate, labels) -> StrainSignal:
    sig = object.__new__(StrainSignal)
    for name, value in (("samples", samples), ("sampling_rate", float(rate)), ("time_to_failure", labels),
                        ("shear_stress", None)):
        object.__setattr__(sig, name, value)
    return sig
