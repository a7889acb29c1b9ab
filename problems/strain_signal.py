"""Laboratory-earthquake strain signals: stick-slip experiments and time-to-failure prediction.

After Rouet-Leduc et al., "Machine learning predicts laboratory earthquakes", Geophys. Res.
Lett. 44, 9276 (2017), doi:10.1002/2017GL074677: from a short window of the acoustic signal
emitted by a sheared fault gouge, predict the time remaining before the next lab-quake.

Three problem types (data and validation only; the numerics live in ``solvers.strain_signal``):

* :class:`StrainSignal` -- a recorded (or synthetic) acoustic signal, optionally labelled with
  the time to the next failure and the shear stress.
* :class:`StickSlipExperiment` -- a synthetic experiment: a spring-slider with rate-and-state
  friction (Dieterich aging law) and radiation damping, loaded at a (randomly perturbed)
  load-point velocity, emitting an acoustic signal whose statistics follow the slip rate.
* :class:`TimeToFailure` -- the prediction problem: windows of a labelled signal, split into
  training and test sets by whole slip cycles (never by random windows).
"""

from __future__ import annotations

import numbers

import numpy as np

import toolkit as tk
from toolkit import validate as v
from toolkit.errors import InvalidProblemError

__all__ = ["StrainSignal", "StickSlipExperiment", "TimeToFailure", "critical_stiffness"]

_CHUNK = 1 << 22  # values checked at a time when validating memory-mapped arrays


def _check_mapped(name: str, arr: np.ndarray, *, lower: float | None = None) -> None:
    """Finiteness/bounds check of a (possibly huge, memory-mapped) array, chunk by chunk."""
    for start in range(0, arr.shape[0], _CHUNK):
        chunk = np.asarray(arr[start:start + _CHUNK])
        if chunk.dtype.kind == "f" and not np.all(np.isfinite(chunk)):
            bad = start + int(np.flatnonzero(~np.isfinite(chunk))[0])
            raise InvalidProblemError(f"{name} has a non-finite value at index {bad}; "
                                      "every value must be finite (drop or repair that sample)")
        if lower is not None and chunk.size and chunk.min() < lower:
            bad = start + int(np.argmin(chunk))
            raise InvalidProblemError(f"{name}[{bad}] = {chunk.min():g} is not allowed: "
                                      f"every value must be >= {lower}")


def _is_mapped(arr, dtypes) -> bool:
    return isinstance(arr, np.memmap) and arr.ndim == 1 and arr.dtype in dtypes


class StrainSignal(tk.Problem):
    """An acoustic (strain) signal sampled at ``sampling_rate`` Hz, optionally labelled.

    ``samples``          the signal, 1-D (ADC counts in the laboratory data).
    ``sampling_rate``    samples per second (4 MHz in the experiments of Rouet-Leduc et al. 2017).
    ``time_to_failure``  seconds until the next lab-quake at every sample (optional). It counts
                         down through a slip cycle and jumps up when a new cycle starts.
    ``shear_stress``     the fault's shear stress at every sample in Pa (optional).

    Arrays are normalised to float64, except read-only memory maps from
    ``solvers.strain_signal.open_binary`` (int16 samples, float32 labels), which are kept
    mapped so a 629-million-sample record never has to fit in memory.
    """

    samples: np.ndarray
    sampling_rate: float
    time_to_failure: np.ndarray | None = None
    shear_stress: np.ndarray | None = None

    def _validate(self):
        self._set("sampling_rate", v.real_scalar("sampling_rate", self.sampling_rate, lower=0,
                                                 lower_open=True))
        if _is_mapped(self.samples, (np.int16,)):
            n = self.samples.shape[0]
        else:
            self._set("samples", v.real_array("samples", self.samples, ndim=1))
            n = self.samples.shape[0]
        if n < 2:
            raise InvalidProblemError(f"samples has {n} value(s): give a signal of at least 2 samples")
        if self.time_to_failure is not None:
            if _is_mapped(self.time_to_failure, (np.float32, np.float64)):
                if self.time_to_failure.shape[0] != n:
                    raise InvalidProblemError(
                        f"time_to_failure has {self.time_to_failure.shape[0]} values but samples has {n}: "
                        "give one label per sample")
                _check_mapped("time_to_failure", self.time_to_failure, lower=0.0)
            else:
                self._set("time_to_failure", v.real_array("time_to_failure", self.time_to_failure,
                                                          shape=(n,), lower=0.0))
                self._check_cycles(np.asarray(self.time_to_failure))
        if self.shear_stress is not None:
            self._set("shear_stress", v.real_array("shear_stress", self.shear_stress, shape=(n,)))

    @staticmethod
    def _check_cycles(ttf: np.ndarray) -> None:
        # Within a cycle the label counts down; it may rise only when a new cycle starts, and a
        # cycle must have come (close) to failure first: the label before a rise must be small
        # compared with the label after it.
        jumps = np.flatnonzero(np.diff(ttf) > 0)
        if jumps.size:
            before, after = ttf[jumps], ttf[jumps + 1]
            bad = np.flatnonzero(before > 0.5 * after)
            if bad.size:
                i = int(jumps[bad[0]])
                raise InvalidProblemError(
                    f"time_to_failure rises from {before[bad[0]]:g} to {after[bad[0]]:g} at sample {i + 1}: "
                    "labels must count down within a slip cycle and rise only at a failure (when the "
                    "previous label is near zero); check the label column and the sample order")

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Length of the record in seconds."""
        return self.n_samples / self.sampling_rate

    def cycle_starts(self) -> np.ndarray:
        """First sample of every slip cycle (where the time to failure rises), starting with 0."""
        if self.time_to_failure is None:
            return np.zeros(1, dtype=np.int64)
        ttf = self.time_to_failure
        starts = [np.zeros(1, dtype=np.int64)]
        for start in range(0, ttf.shape[0] - 1, _CHUNK):
            chunk = np.asarray(ttf[start:start + _CHUNK + 1], dtype=np.float64)
            starts.append(np.flatnonzero(np.diff(chunk) > 0).astype(np.int64) + start + 1)
        return np.concatenate(starts)

    @classmethod
    def example(cls, seed: int = 0):
        """Four short cycles of noise whose amplitude grows as failure approaches."""
        rng = np.random.default_rng(seed)
        rate, lengths = 1000.0, rng.integers(300, 500, size=4)
        ttf = np.concatenate([(n - np.arange(n)) / rate for n in lengths])
        samples = rng.normal(size=ttf.size) * (1.0 + 3.0 * np.exp(-ttf / 0.05))
        return cls(samples=np.round(samples * 4), sampling_rate=rate, time_to_failure=ttf)


def critical_stiffness(sigma: float, a: float, b: float, d_c: float, eta: float = 0.0,
                       v_load: float = 0.0) -> float:
    """Critical spring stiffness of a rate-and-state slider, in Pa/m.

    Linear stability of steady sliding (Ruina 1983; Rice & Ruina 1983) gives
    ``k_c = sigma (b - a) / D_c``; radiation damping ``eta`` lowers it by ``eta v_load / D_c``
    (a Hopf bifurcation of the quasi-dynamic equations; the correction is ~1e-3 of k_c for
    laboratory values). Below k_c the slider sticks and slips; above it, it slides steadily.
    """
    return (sigma * (b - a) - eta * v_load) / d_c


class StickSlipExperiment(tk.TimeProblem):
    """A synthetic laboratory stick-slip experiment (spring-slider, rate-and-state friction).

    Slider (quasi-dynamic, Rice 1993):  ``k (delta_L - delta) - eta V = sigma mu``,
    ``mu = mu0 + a ln(V/V0) + b ln(V0 theta/D_c)``, Dieterich aging law
    ``dtheta/dt = 1 - V theta / D_c`` (Dieterich 1979, doi:10.1029/JB084iB05p02161), load point
    ``d delta_L/dt = v_load (1 + perturbation)``. Stick-slip when ``stiffness < 1`` in units of
    ``k_c = sigma (b - a)/D_c`` (Ruina 1983, doi:10.1029/JB088iB12p10359); steady-state friction
    ``mu_ss = mu0 + (a - b) ln(V/V0)``.

    Time compression (honest accounting). The laboratory loads at ~5 um/s and its cycles last
    ~10 s; recorded at 4 MHz, a cycle is ~4e7 samples and the 629-million-sample public record
    holds ~16 cycles. Synthesising tens of such cycles (enough to train on 20 and test on 5) would
    take ~1e9 samples. The default ``v_load`` = 1 mm/s compresses slow time 200-fold, so a cycle
    lasts ~0.25 s while the sampling stays MHz-class (1 MHz default, 4 MHz possible): a 30-cycle
    experiment is ~8e6 samples at 1 MHz. The acoustic emission itself is not compressed (its
    carrier and decay are set per sample), so what is compressed is the number of samples per
    cycle: a 20 ms window (20,000 samples at 1 MHz) spans ~8% of a synthetic cycle, where the
    paper's 37.5 ms windows (150,000 samples) span ~0.4% of a laboratory cycle. Radiation damping
    ``eta`` is scaled with ``v_load`` to keep ``eta v_load/(sigma a)`` at its laboratory value.

    Fields, with units and (laboratory) values:

    ``sigma``        normal stress, Pa (5 MPa in the glass-bead gouge of Rouet-Leduc et al. 2017)
    ``a``, ``b``     rate-and-state parameters (0.004, 0.008: velocity weakening, b > a; Marone 1998, doi:10.1146/annurev.earth.26.1.643)
    ``d_c``          critical slip distance, m (10 um)
    ``mu0``, ``v0``  reference friction (0.6) at reference slip rate v0 (1 um/s)
    ``stiffness``    spring stiffness in units of k_c (0.5: stick-slip)
    ``eta``          radiation damping G/(2 c_s), Pa s/m. Rock gives ~5 MPa s/m (G = 30 GPa,
                     c_s = 3 km/s); with the time-compressed v_load the default 25 kPa s/m keeps the
                     laboratory ratio eta v_load/(sigma a) ~ 1e-3, so slip still accelerates
                     ~1000-fold at failure
    ``v_load``       load-point velocity, m/s. The experiments load at ~5 um/s with ~10 s cycles;
                     the default 1 mm/s compresses time 200-fold (cycles of ~0.2 s) so that a
                     MHz-sampled record of tens of cycles holds millions, not billions, of samples.
    ``perturbation`` relative size of the random load-velocity fluctuations (log-normal factor
                     ``exp(p xi - p^2/2)`` per interval): they make the cycles aperiodic
    ``interval``     length of one perturbation interval, s (= one integrator step)
    ``steps``        number of intervals; duration = steps * interval
    ``failure_slip_rate``  a lab-quake starts when V crosses this upward, m/s
    ``spinup``       intervals discarded before the record starts (the first cycle is a transient)
    ``sampling_rate``      acoustic sampling rate, Hz (4 MHz in the experiments; 1 MHz default)
    ``noise``        background noise, ADC counts (standard deviation)
    ``offset``       mean of the signal, counts (4.5 in the laboratory data)
    ``emission_rate``      micro-slip emissions per second at V = v_load (default: 4 per sample
                           at 1 MHz, so emissions overlap into a tremor-like signal; the rate
                           saturates at 8 per sample, reached only during the lab-quake itself)
    ``rate_exponent``      emission rate ~ (V/v_load)^rate_exponent
    ``emission_amplitude`` smallest emission amplitude at V = v_load, counts
    ``amplitude_exponent`` amplitude scale ~ (V/v_load)^amplitude_exponent
    ``b_value``      Gutenberg-Richter b-value: P(A > x) = (x / A_min)^(-b), truncated at
                     ``max_amplitude_ratio * A_min`` (amplitudes spanning one magnitude unit);
                     ``b = b_value`` when the friction is at its steady-state value at v_load
    ``b_value_slope``  the b-value falls as the fault is loaded: ``b = b_value - b_value_slope
                     (mu - mu_ss(v_load))/(b - a)`` (at least 0.2). In the laboratory b drops
                     steadily with rising shear stress through the seismic cycle and jumps back
                     at failure (Riviere et al. 2018, EPSL 482, 407, doi:10.1016/j.epsl.2017.11.036;
                     Bolton, Shreedharan, Riviere & Marone, "Frequency-magnitude statistics of
                     laboratory foreshocks vary with shear velocity, fault slip rate, and shear
                     stress"; in granite stick-slip from 1.2-1.5 to ~0.6, Lei et al. 2018, Appl.
                     Sci. 8, 2361). Over a default cycle mu - mu_ss spans about -6 to +4 (b - a),
                     so the default 0.1 takes b from ~1.6 after a lab-quake to ~0.6 before the next
    ``emission_frequency`` carrier frequency of an emission (damped sine), Hz
    ``emission_decay``     e-folding time of an emission, s
    ``seed``         seeds the load perturbations and the emissions
    """

    sigma: float = 5e6
    a: float = 0.004
    b: float = 0.008
    d_c: float = 1e-5
    mu0: float = 0.6
    v0: float = 1e-6
    stiffness: float = 0.5
    eta: float = 2.5e4
    v_load: float = 1e-3
    perturbation: float = 0.2
    interval: float = 0.05
    steps: int = 100
    failure_slip_rate: float = 1e-2
    spinup: int = 10
    sampling_rate: float = 1e6
    noise: float = 1.0
    offset: float = 4.5
    emission_rate: float = 4e6
    rate_exponent: float = 0.3
    emission_amplitude: float = 1.0
    amplitude_exponent: float = 0.3
    b_value: float = 1.0
    b_value_slope: float = 0.1
    max_amplitude_ratio: float = 10.0
    emission_frequency: float = 2.5e5
    emission_decay: float = 1e-6
    seed: int = 0

    def _validate(self):
        pos = dict(lower=0.0, lower_open=True)
        for name in ("sigma", "a", "b", "d_c", "v0", "stiffness", "v_load", "interval",
                     "failure_slip_rate", "sampling_rate", "emission_frequency", "emission_decay",
                     "b_value"):
            self._set(name, v.real_scalar(name, getattr(self, name), **pos))
        for name in ("mu0", "offset"):
            self._set(name, v.real_scalar(name, getattr(self, name)))
        for name in ("noise", "emission_rate", "rate_exponent", "emission_amplitude",
                     "amplitude_exponent", "b_value_slope"):
            self._set(name, v.real_scalar(name, getattr(self, name), lower=0.0))
        self._set("eta", v.real_scalar("eta", self.eta, lower=0.0))
        self._set("perturbation", v.real_scalar("perturbation", self.perturbation, lower=0.0, upper=2.0))
        self._set("max_amplitude_ratio", v.real_scalar("max_amplitude_ratio", self.max_amplitude_ratio,
                                                       lower=1.0))
        self._set("steps", v.integer("steps", self.steps, lower=1))
        self._set("spinup", v.integer("spinup", self.spinup, lower=0))
        self._set("seed", v.integer("seed", self.seed, lower=0))
        if self.spinup >= self.steps:
            raise InvalidProblemError(f"spinup = {self.spinup} is not allowed: it must be smaller than "
                                      f"steps = {self.steps} (the record starts after the spin-up)")
        if self.failure_slip_rate <= self.v_load:
            raise InvalidProblemError(
                f"failure_slip_rate = {self.failure_slip_rate:g} is not allowed: a lab-quake is a slip "
                f"rate far above the load-point velocity; make it larger than v_load = {self.v_load:g}")
        if self.emission_frequency >= 0.5 * self.sampling_rate:
            raise InvalidProblemError(
                f"emission_frequency = {self.emission_frequency:g} is not allowed: it must be below the "
                f"Nyquist frequency sampling_rate/2 = {0.5 * self.sampling_rate:g}")
        samples = (self.steps - self.spinup) * self.interval * self.sampling_rate
        if samples > 2e9:
            raise InvalidProblemError(
                f"the record would hold {samples:.3g} samples: lower sampling_rate or steps "
                "(at most 2e9 samples)")

    @property
    def duration(self) -> float:
        return self.steps * self.interval

    @property
    def critical_stiffness(self) -> float:
        """k_c = sigma (b - a)/D_c in Pa/m (without the tiny radiation-damping correction)."""
        return critical_stiffness(self.sigma, self.a, self.b, self.d_c)

    @property
    def spring_constant(self) -> float:
        """The spring stiffness in Pa/m."""
        return self.stiffness * self.critical_stiffness

    def steady_friction(self, slip_rate) -> np.ndarray:
        """Steady-state friction mu_ss = mu0 + (a - b) ln(V/V0)."""
        return self.mu0 + (self.a - self.b) * np.log(np.asarray(slip_rate, dtype=float) / self.v0)

    @classmethod
    def example(cls, seed: int = 0):
        """About three cycles at 20 kHz (a few tens of thousands of samples)."""
        return cls(steps=16, spinup=4, sampling_rate=2e4, emission_rate=8e4, emission_frequency=5e3,
                   emission_decay=5e-5, seed=seed)


class TimeToFailure(tk.Problem):
    """Predict the time to the next failure from windows of a labelled :class:`StrainSignal`.

    Every ``stride`` samples a window of ``window`` samples ending there is labelled with the
    time to failure at its last sample (as in Rouet-Leduc et al. 2017). Windows that straddle
    a failure are dropped. Cycles are numbered from 0 in order; ``test_cycles`` holds out whole
    cycles: an int ``n`` holds out the last ``n`` cycles, a list names cycle indices. The first
    and last cycles of a record are usually incomplete; ``drop_edge_cycles`` leaves them out.
    ``shuffle_labels`` is the control experiment: training labels are permuted across all
    training windows (with ``seed``), which must destroy any skill.
    """

    signal: StrainSignal
    window: int = 4096
    stride: int = 1024
    test_cycles: object = 3
    drop_edge_cycles: bool = True
    shuffle_labels: bool = False
    seed: int = 0

    def _validate(self):
        if not isinstance(self.signal, StrainSignal):
            raise InvalidProblemError(f"signal = {v.show(self.signal)} is not allowed: give a StrainSignal "
                                      "(e.g. the .signal() of a solved StickSlipExperiment)")
        if self.signal.time_to_failure is None:
            raise InvalidProblemError("signal has no time_to_failure labels: TimeToFailure needs a labelled "
                                      "signal (StrainSignal(..., time_to_failure=...))")
        self._set("window", v.integer("window", self.window, lower=8))
        self._set("stride", v.integer("stride", self.stride, lower=1))
        self._set("seed", v.integer("seed", self.seed, lower=0))
        self._set("drop_edge_cycles", bool(self.drop_edge_cycles))
        self._set("shuffle_labels", bool(self.shuffle_labels))
        if self.window > self.signal.n_samples:
            raise InvalidProblemError(f"window = {self.window} is not allowed: it must not exceed the "
                                      f"signal length {self.signal.n_samples}")
        usable = self.usable_cycles()
        if len(usable) < 2:
            raise InvalidProblemError(
                f"the signal has {len(usable)} usable slip cycle(s) holding a full window of {self.window} "
                "samples: give a longer record or a shorter window (training and testing need whole "
                "cycles each)")
        tc = self.test_cycles
        if isinstance(tc, numbers.Integral) and not isinstance(tc, bool):
            self._set("test_cycles", v.integer("test_cycles", tc, lower=1, upper=len(usable) - 1))
        elif isinstance(tc, (list, tuple, np.ndarray)):
            idx = v.index_array("test_cycles", tc, ndim=1, upper=self.n_cycles)
            if idx.size == 0 or np.unique(idx).size != idx.size:
                raise InvalidProblemError(f"test_cycles = {v.show(tc)} is not allowed: give distinct cycle "
                                          "indices, at least one")
            if not set(idx.tolist()) <= set(usable.tolist()) or set(idx.tolist()) >= set(usable.tolist()):
                raise InvalidProblemError(
                    f"test_cycles = {v.show(tc)} is not allowed: choose among the usable cycles "
                    f"{usable.tolist()} and leave at least one for training")
            self._set("test_cycles", tuple(int(i) for i in idx))
        else:
            raise InvalidProblemError(f"test_cycles = {v.show(tc)} is not allowed: give the number of final "
                                      "cycles to hold out (int) or a list of cycle indices")

    @property
    def n_cycles(self) -> int:
        return int(self.signal.cycle_starts().size)

    def cycle_bounds(self) -> np.ndarray:
        """``[start, stop)`` sample range of every cycle, shape (n_cycles, 2)."""
        starts = self.signal.cycle_starts()
        stops = np.append(starts[1:], self.signal.n_samples)
        return np.stack([starts, stops], axis=1)

    def usable_cycles(self) -> np.ndarray:
        """Cycles that hold at least one full window (and are not edge cycles if dropped)."""
        bounds = self.cycle_bounds()
        ok = (bounds[:, 1] - bounds[:, 0]) >= self.window
        if self.drop_edge_cycles and len(bounds) > 2:
            ok[0] = ok[-1] = False
        return np.flatnonzero(ok)

    def test_cycle_set(self) -> np.ndarray:
        usable = self.usable_cycles()
        if isinstance(self.test_cycles, tuple):
            return np.array(self.test_cycles, dtype=np.int64)
        return usable[-self.test_cycles:]

    def windows(self) -> tuple[np.ndarray, np.ndarray]:
        """End sample (exclusive) and cycle index of every window that lies inside a usable cycle."""
        ends, cycles = [], []
        bounds = self.cycle_bounds()
        for c in self.usable_cycles():
            start, stop = bounds[c]
            e = np.arange(start + self.window, stop + 1, self.stride, dtype=np.int64)
            ends.append(e)
            cycles.append(np.full(e.size, c, dtype=np.int64))
        return np.concatenate(ends), np.concatenate(cycles)

    @classmethod
    def example(cls, seed: int = 0):
        return cls(signal=StrainSignal.example(seed), window=64, stride=32, test_cycles=1)
