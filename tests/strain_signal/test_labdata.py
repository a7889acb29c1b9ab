"""Laboratory CSV streaming, the binary twin, and their error messages."""

import numpy as np
import pytest

import toolkit as tk
from solvers.strain_signal import convert_csv, open_binary, read_csv_chunks, write_binary, write_csv


def _signal(n=1000):
    rng = np.random.default_rng(0)
    samples = rng.integers(-300, 300, size=n)
    labels = np.concatenate([np.linspace(1.5, 0.001, n // 2), np.linspace(2.0, 0.001, n - n // 2)])
    return samples, labels


def test_csv_to_binary_roundtrip(tmp_path):
    samples, labels = _signal(1000)
    csv = write_csv(tmp_path / "train.csv", samples, labels)
    info = convert_csv(csv, tmp_path / "train.bin", sampling_rate=4e6, chunk_rows=128)
    assert info["rows"] == 1000 and info["rows_per_second"] > 0
    sig = open_binary(tmp_path / "train.bin")
    assert isinstance(sig.samples, np.memmap) and sig.samples.dtype == np.int16
    np.testing.assert_array_equal(np.asarray(sig.samples), samples)
    np.testing.assert_allclose(np.asarray(sig.time_to_failure), labels, rtol=1e-6)   # float32 labels
    assert sig.sampling_rate == 4e6 and sig.cycle_starts().tolist() == [0, 500]
    chunks = list(read_csv_chunks(csv, chunk_rows=300))
    assert [c[0] for c in chunks] == [2, 302, 602, 902]     # first line number of each chunk


def test_binary_writer_and_truncated_binary(tmp_path):
    samples, labels = _signal(64)
    path = write_binary(tmp_path / "x.bin", samples, labels, 1e6)
    np.testing.assert_array_equal(np.asarray(open_binary(path).samples), samples)
    data = path.read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-10])
    with pytest.raises(tk.FileFormatError, match="truncated"):
        open_binary(tmp_path / "cut.bin")
    (tmp_path / "junk.bin").write_bytes(b"hello" * 20)
    with pytest.raises(tk.FileFormatError, match="magic"):
        open_binary(tmp_path / "junk.bin")


@pytest.mark.parametrize("text, pattern", [
    ("time_to_failure,acoustic_data\n1,2\n", "line 1: the header"),
    ("acoustic_data,time_to_failure\n1,2.0\n3,abc\n4,1.0\n", "line 3: time_to_failure = 'abc'"),
    ("acoustic_data,time_to_failure\n1,2.0\n2,1.9\n3,1.8,7\n", "line 4"),
    ("acoustic_data,time_to_failure\n1,2.0\n2\n3,1.0\n", "line 3: time_to_failure is missing"),
    ("acoustic_data,time_to_failure\n1,2.0\n2.5,1.9\n", "line 3: acoustic_data = 2.5 is not an int16"),
    ("acoustic_data,time_to_failure\n1,2.0\n40000,1.9\n", "line 3: acoustic_data = 40000"),
    ("acoustic_data,time_to_failure\n1,2.0\n2,1.9\n3,1.", "line 4: the file ends in the middle"),
    ("acoustic_data,time_to_failure\n1,2.0\n\n3,1.8\n", "line 3"),
])
def test_csv_errors_name_the_line(tmp_path, text, pattern):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(tk.FileFormatError, match=pattern):
        convert_csv(path, tmp_path / "bad.bin", chunk_rows=2)
    assert not (tmp_path / "bad.bin").exists() and not list(tmp_path.glob("*.part"))


def test_lab_prediction_on_binary(tmp_path):
    from solvers.strain_signal import lab_prediction

    rng = np.random.default_rng(1)
    n = 6000
    labels = np.concatenate([np.linspace(0.9, 0.0005, 1500)] * 4)
    samples = np.round(rng.normal(size=n) * (1 + 5 * np.exp(-labels / 0.1)))
    write_binary(tmp_path / "lab.bin", samples, labels, 1000.0)
    problem = lab_prediction(str(tmp_path / "lab.bin"), window=200, stride=100, test_cycles=1)
    from solvers.strain_signal import RandomForest

    sol = tk.solve(problem, RandomForest(trees=20))
    assert sol.successful and sol.predicted.size > 0
