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

#: Largest seed (int64): seeds reach NumPy's C code.
SEED_MAX = 2 ** 63 - 1
#: Largest |sample| a TimeToFailure accepts: window statistics hold squares (variance, band
#: powers) and scikit-learn fits on float32 features, whose largest value is 3.4e38.
SAMPLE_MAX = 1e18
#: Largest time-to-failure label, s: R^2 and the mean absolute error square label differences.
LABEL_MAX = 1e100

# StickSlipExperiment bounds (documented in its docstring): where the slider ODE or the
# emission model stops being computable in float64, with orders of magnitude to spare.
RATE_STATE_MIN = 1e-6      # a, b: the slip-rate equation is ~ 1/(sigma a); rock and gouge give ~1e-3
MU0_MAX = 100.0            # reference friction coefficient (O(1) in every material)
COUNTS_MAX = 1e12          # noise, |offset|, emission_amplitude, ADC counts (a 16-bit ADC spans 3e4)
EXPONENT_MAX = 10.0        # rate/amplitude exponents: (V/v_load)^10 spans ~60 decades over a cycle
B_VALUE_MIN, B_VALUE_MAX = 0.2, 10.0   # Gutenberg-Richter b-value (0.5-2 in the laboratory)
AMPLITUDE_RATIO_MAX = 1e6  # truncation of the Gutenberg-Richter law (one magnitude unit is 10)
STEPS_MAX = 10 ** 7        # load intervals (one ODE solve each, ~1 ms)
SLIP_MAX = 1e5             # total load-point slip in units of d_c (~200 ODE evaluations per d_c)
INTERVAL_MIN = 1e-9        # shortest load interval, in units of the relaxation time d_c/v_load
DECAY_SAMPLES_MAX = 1000.0 # emission_decay * sampling_rate (a wavelet rings for 6x this many samples)


def _real_array(name: str, value, **kwargs) -> np.ndarray:
    """``v.real_array`` that turns NumPy's own complaints (ragged lists, odd objects) into a field error."""
    try:
        return v.real_array(name, value, **kwargs)
    except InvalidProblemError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidProblemError(f"{name} = {v.show(value)} is not allowed: give a 1-D array of real numbers "
                                  f"({type(exc).__name__}: {exc})") from None


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
            self._set("samples", _real_array("samples", self.samples, ndim=1))
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
                ttf = _real_array("time_to_failure", self.time_to_failure, ndim=1, lower=0.0)
                if ttf.shape[0] != n:
                    raise InvalidProblemError(f"time_to_failure has {ttf.shape[0]} values but samples has {n}: "
                                              "give one label per sample")
                self._set("time_to_failure", ttf)
                self._check_cycles(np.asarray(self.time_to_failure))
        if self.shear_stress is not None:
            stress = _real_array("shear_stress", self.shear_stress, ndim=1)
            if stress.shape[0] != n:
                raise InvalidProblemError(f"shear_stress has {stress.shape[0]} values but samples has {n}: "
                                          "give one value per sample")
            self._set("shear_stress", stress)

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
    ``seed``         seeds the load perturbations and the emissions (0 <= seed < 2**63)

    Bounds (refused up front, with the field named): past them float64 cannot carry the scheme,
    with orders of magnitude to spare over any laboratory value. ``a``, ``b`` in [1e-6, 1] with
    ``b > a`` (the slip-rate equation is ~1/(sigma a); stiffness is in units of k_c, which needs
    velocity weakening); ``mu0`` in [0, 100]; ``noise``, ``emission_amplitude``, ``|offset|`` at
    most 1e12 counts; ``rate_exponent``, ``amplitude_exponent`` at most 10; ``b_value`` in
    [0.2, 10]; ``max_amplitude_ratio`` at most 1e6; ``steps`` at most 1e7; every derived constant
    (k_c, the spring constant, sigma a, v0/d_c, v_load/v0, failure_slip_rate/v0, eta
    failure_slip_rate, d_c/v0, the duration) finite and positive; ``interval`` at least 1e-9 of
    the relaxation time d_c/v_load; the total load-point slip ``steps interval v_load`` at most
    1e5 d_c (finite work: the adaptive solver takes ~200 evaluations per d_c, and ``SliderODE``
    bounds the evaluations per interval too); at least one acoustic sample per interval; an
    emission ringing for at most ``6 * 1000`` samples (``emission_decay * sampling_rate <= 1000``);
    at most 2e9 samples in the record.
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
        for name in ("sigma", "d_c", "v0", "stiffness", "v_load", "interval", "failure_slip_rate",
                     "sampling_rate", "emission_frequency", "emission_decay"):
            self._set(name, v.real_scalar(name, getattr(self, name), **pos))
        for name in ("a", "b"):
            self._set(name, v.real_scalar(name, getattr(self, name), lower=RATE_STATE_MIN, upper=1.0))
        self._set("mu0", v.real_scalar("mu0", self.mu0, lower=0.0, upper=MU0_MAX))
        self._set("offset", v.real_scalar("offset", self.offset, lower=-COUNTS_MAX, upper=COUNTS_MAX))
        for name in ("noise", "emission_amplitude"):
            self._set(name, v.real_scalar(name, getattr(self, name), lower=0.0, upper=COUNTS_MAX))
        for name in ("rate_exponent", "amplitude_exponent"):
            self._set(name, v.real_scalar(name, getattr(self, name), lower=0.0, upper=EXPONENT_MAX))
        for name in ("emission_rate", "b_value_slope", "eta"):
            self._set(name, v.real_scalar(name, getattr(self, name), lower=0.0))
        self._set("b_value", v.real_scalar("b_value", self.b_value, lower=B_VALUE_MIN, upper=B_VALUE_MAX))
        self._set("perturbation", v.real_scalar("perturbation", self.perturbation, lower=0.0, upper=2.0))
        self._set("max_amplitude_ratio", v.real_scalar("max_amplitude_ratio", self.max_amplitude_ratio,
                                                       lower=1.0, upper=AMPLITUDE_RATIO_MAX))
        self._set("steps", v.integer("steps", self.steps, lower=1, upper=STEPS_MAX))
        self._set("spinup", v.integer("spinup", self.spinup, lower=0))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=SEED_MAX))
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
        self._check_scales()
        samples = (self.steps - self.spinup) * self.interval * self.sampling_rate
        if samples > 2e9:
            raise InvalidProblemError(
                f"the record would hold {samples:.3g} samples: lower sampling_rate or steps "
                "(at most 2e9 samples)")

    def _check_scales(self) -> None:
        """Refuse combinations the slider or the emission model cannot integrate in float64.

        Every derived constant the integrator uses must be finite and nonzero, and the run must
        be finite work: its total load-point slip is at most ``SLIP_MAX`` critical distances
        (the adaptive ODE solver takes ~200 right-hand-side evaluations per D_c of slip).
        """
        with np.errstate(all="ignore"):
            derived = [
                ("sigma (b - a)/d_c, the critical stiffness k_c", ("sigma", "a", "b", "d_c"),
                 self.sigma * (self.b - self.a) / self.d_c),
                ("stiffness * k_c, the spring constant", ("stiffness", "sigma", "d_c"),
                 self.stiffness * self.sigma * (self.b - self.a) / self.d_c),
                ("sigma a, the direct-effect stress", ("sigma", "a"), self.sigma * self.a),
                ("v0/d_c, the state-healing rate", ("v0", "d_c"), self.v0 / self.d_c),
                ("v_load/v0", ("v_load", "v0"), self.v_load / self.v0),
                ("v0/v_load", ("v0", "v_load"), self.v0 / self.v_load),
                ("failure_slip_rate/v0", ("failure_slip_rate", "v0"), self.failure_slip_rate / self.v0),
                ("eta * failure_slip_rate, the radiation-damping stress", ("eta", "failure_slip_rate"),
                 self.eta * self.failure_slip_rate if self.eta else 1.0),
                ("sigma * mu0, the reference shear stress", ("sigma", "mu0"), self.sigma * max(self.mu0, 1.0)),
                ("d_c/v0, the reference state", ("d_c", "v0"), self.d_c / self.v0),
                ("steps * interval, the duration", ("steps", "interval"), self.steps * self.interval),
            ]
        for what, names, value in derived:
            if not (np.isfinite(value) and value > 0.0):
                shown = ", ".join(f"{n} = {getattr(self, n):g}" for n in names)
                raise InvalidProblemError(
                    f"{what} is {value:g} for {shown}: it must be a finite positive float64; "
                    f"bring these fields closer to laboratory values (see StickSlipExperiment's docstring)")
        if self.b <= self.a:
            raise InvalidProblemError(
                f"b = {self.b:g} is not allowed with a = {self.a:g}: stiffness is in units of "
                "k_c = sigma (b - a)/d_c, which needs velocity weakening, b > a")
        relax = self.d_c / self.v_load
        if self.interval < INTERVAL_MIN * relax:
            raise InvalidProblemError(
                f"interval = {self.interval:g} is not allowed: it must be at least {INTERVAL_MIN:g} of the "
                f"relaxation time d_c/v_load = {relax:g} s (shorter intervals would need ~{1 / INTERVAL_MIN:g} "
                "steps per relaxation)")
        slip = self.steps * self.interval / relax
        if slip > SLIP_MAX:
            raise InvalidProblemError(
                f"the run loads {slip:.3g} critical slip distances (steps * interval * v_load/d_c with "
                f"steps = {self.steps}, interval = {self.interval:g}, v_load = {self.v_load:g}, "
                f"d_c = {self.d_c:g}): at most {SLIP_MAX:g} (~{SLIP_MAX / 17:.0f} lab-quakes; the adaptive "
                "solver needs ~200 evaluations per d_c of slip); lower steps or interval, or raise d_c")
        if self.interval * self.sampling_rate < 1.0:
            raise InvalidProblemError(
                f"sampling_rate = {self.sampling_rate:g} is not allowed with interval = {self.interval:g}: "
                "give at least one acoustic sample per load interval (sampling_rate * interval >= 1)")
        decay = self.emission_decay * self.sampling_rate
        if decay > DECAY_SAMPLES_MAX:
            raise InvalidProblemError(
                f"emission_decay = {self.emission_decay:g} is not allowed: at sampling_rate = "
                f"{self.sampling_rate:g} an emission would ring for 6 x {decay:.3g} samples; keep "
                f"emission_decay * sampling_rate <= {DECAY_SAMPLES_MAX:g}")

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

    Bounds: ``8 <= window <=`` the signal length, ``1 <= stride <=`` the signal length,
    ``0 <= seed < 2**63``; an in-memory float signal must have ``|samples| <= 1e18`` (variances and
    band powers are fitted as float32 features, at most 3.4e38) and labels at most 1e100 s.
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
        n = self.signal.n_samples
        self._set("window", v.integer("window", self.window, lower=8))
        self._set("stride", v.integer("stride", self.stride, lower=1, upper=n))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=SEED_MAX))
        self._set("drop_edge_cycles", v.flag("drop_edge_cycles", self.drop_edge_cycles))
        self._set("shuffle_labels", v.flag("shuffle_labels", self.shuffle_labels))
        if self.window > n:
            raise InvalidProblemError(f"window = {self.window} is not allowed: it must not exceed the "
                                      f"signal length {n}")
        self._check_magnitudes()
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

    def _check_magnitudes(self) -> None:
        """Window statistics hold squares of the samples (fitted as float32) and the scores square
        label errors: refuse values that would overflow there (memory-mapped int16/float32
        records are always in range)."""
        sig = self.signal
        for name, arr, limit, advice in (
                ("samples", sig.samples, SAMPLE_MAX, "rescale the signal"),
                ("time_to_failure", sig.time_to_failure, LABEL_MAX, "give labels in seconds")):
            if isinstance(arr, np.memmap) or arr.dtype.kind != "f":
                continue
            peak = float(np.max(np.abs(arr)))
            if peak > limit:
                raise InvalidProblemError(
                    f"signal.{name} reaches |x| = {peak:g}: TimeToFailure allows at most {limit:g} "
                    f"(its window statistics or scores would overflow); {advice}")

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
