"""Strain-signal family: laboratory earthquakes, synthetic stick-slip, time-to-failure prediction.

After Rouet-Leduc et al., "Machine learning predicts laboratory earthquakes", Geophys. Res. Lett.
44, 9276 (2017), doi:10.1002/2017GL074677. Problems live in :mod:`problems.strain_signal`:

* ``StickSlipExperiment`` + ``SliderODE`` -> ``StickSlipSolution`` (slider history, failures, and a
  labelled acoustic record: ``solution.signal()``);
* ``TimeToFailure`` + ``RandomForest`` / ``GradientBoosting`` (window features, numba) or ``CNN1D``
  (raw windows, torch) -> ``TimeToFailureSolution`` (R^2 on held-out cycles, importances, plot);
* laboratory CSV files: ``convert_csv`` (streamed) and ``open_binary`` (memory-mapped).
"""

import toolkit as tk
from problems.strain_signal import StickSlipExperiment, StrainSignal, TimeToFailure

from .cnn import CNN1D
from .features import WindowFeatures, feature_matrix, reference_features, window_features
from .labdata import convert_csv, open_binary, read_csv_chunks, write_binary, write_csv
from .prediction import TimeToFailureSolution
from .slider import SliderIntegrator, SliderODE, StickSlipSolution
from .trees import GradientBoosting, RandomForest

__all__ = ["SliderODE", "SliderIntegrator", "StickSlipSolution", "RandomForest", "GradientBoosting", "CNN1D",
           "TimeToFailureSolution", "WindowFeatures", "window_features", "feature_matrix", "reference_features",
           "convert_csv", "open_binary", "read_csv_chunks", "write_binary", "write_csv",
           "synthetic_prediction", "lab_prediction", "tour_cases"]


def synthetic_prediction(sampling_rate: float = 1e6, steps: int = 160, window: int = 20_000, stride: int = 10_000,
                         test_cycles: int = 5, seed: int = 0, shuffle_labels: bool = False,
                         b_value_slope: float | None = None) -> TimeToFailure:
    """Run a synthetic ``StickSlipExperiment`` (``SliderODE``) and pose ``TimeToFailure`` on its record.

    Defaults: 1 MHz sampling, 160 load intervals of 50 ms (8 s, ~30 lab-quakes of ~0.25 s: the
    experiment is time-compressed 200-fold by v_load = 1 mm/s, see ``StickSlipExperiment``), ~7e6
    samples; windows of 20,000 samples (20 ms, ~8% of a cycle; Rouet-Leduc et al. 2017 used
    150,000 samples = 37.5 ms at 4 MHz, ~0.4% of their ~10 s cycles) every 10,000 samples; 5
    held-out cycles and ~20 for training. Emission settings scale with the sampling rate: 4
    emissions per sample at V = v_load, carrier at a quarter of the sampling rate, one-sample decay
    (a broadband, tremor-like signal). ``b_value_slope`` (None: the experiment's default) sets how
    the Gutenberg-Richter b-value falls as the fault is loaded.
    """
    slope = {} if b_value_slope is None else {"b_value_slope": b_value_slope}
    experiment = StickSlipExperiment(sampling_rate=sampling_rate, steps=steps, seed=seed,
                                     emission_rate=4.0 * sampling_rate, emission_frequency=sampling_rate / 4,
                                     emission_decay=1.0 / sampling_rate, **slope)
    signal = tk.solve(experiment, SliderODE(), progress=False).signal()
    return TimeToFailure(signal=signal, window=window, stride=stride, test_cycles=test_cycles,
                         shuffle_labels=shuffle_labels, seed=seed)


def lab_prediction(path: str, window: int = 150_000, stride: int = 150_000, test_cycles: int = 3) -> TimeToFailure:
    """``TimeToFailure`` on a memory-mapped binary lab file (see ``convert_csv``)."""
    return TimeToFailure(signal=open_binary(path), window=window, stride=stride, test_cycles=test_cycles)


def tour_cases():
    experiment = StickSlipExperiment(sampling_rate=2e4, steps=24, spinup=4, emission_rate=8e4,
                                     emission_frequency=5e3, emission_decay=5e-5)
    return [tk.TourCase("stick-slip lab experiment (rate-and-state slider)", experiment, SliderODE()),
            tk.TourCase("lab-quake prediction, random forest on held-out cycles",
                        synthetic_prediction(sampling_rate=5e4, steps=60, window=1024, stride=512, test_cycles=3),
                        RandomForest(trees=50))]


tk.register_default_solver(StickSlipExperiment, lambda problem: SliderODE())
tk.register_family(tk.Family(
    name="strain-signal",
    title="Laboratory earthquakes: stick-slip signals and time-to-failure prediction",
    tour=tour_cases,
    builders={"synthetic_prediction": synthetic_prediction, "lab_prediction": lab_prediction},
    components={"WindowFeatures": WindowFeatures},
))
