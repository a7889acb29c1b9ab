"""Acoustic emission of a sliding fault: background noise plus micro-slip emissions, streamed.

Micro-slip events form an inhomogeneous Poisson process whose rate follows the slip rate,
``lambda(t) = rate0 (V/v_load)^p``; each event radiates a damped sine
``A exp(-t/tau) sin(2 pi f t + phi)`` with amplitude ``A = A0 (V/v_load)^q * u^(-1/b)``, a
Gutenberg-Richter (Pareto) law of b-value ``b`` truncated at ``max_ratio`` (Gutenberg & Richter
1944), drawn as ``exp(E/b)`` with ``E`` unit exponential (the same law). The b-value falls as the
friction rises through the cycle (:func:`gr_inverse_b`; Riviere et al. 2018,
doi:10.1016/j.epsl.2017.11.036), so large emissions become more frequent as failure approaches:
the laboratory analogue of Rouet-Leduc et al. 2017 (doi:10.1002/2017GL074677), where the
acoustic power grows as failure approaches. Event times come from the integrated rate: the
k-th event is the first sample where ``sum lambda dt`` reaches ``E_1 + ... + E_k`` (``E`` unit
exponential draws, ``standard_exponential``), so kernel and reference use the same random numbers.

The record is generated in chunks of ``chunk`` samples, so memory is bounded whatever its
length (a 4 MHz record of minutes can go straight to a memory-mapped int16 file). Chunks are
independent Poisson processes: by the memorylessness of the exponential waiting time, restarting
the count at a chunk boundary leaves the process unchanged. A wavelet started near the end of a
chunk spills into the next one (``length - 1`` samples carried over). The wavelet is a table:
``A exp(-t/tau) sin(w t + phi) = A (sin phi C_t + cos phi S_t)`` with ``C_t = e^(-t/tau) cos(w t)``
and ``S_t = e^(-t/tau) sin(w t)``, and the random phase is the direction of a Gaussian pair, so an
event costs one exp, one sqrt and ``2 length`` multiply-adds, and the whole record is O(samples).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["emit", "emit_reference", "acoustic_signal", "gr_inverse_b", "wavelet_table", "MAX_PER_SAMPLE", "CHUNK",
           "B_MIN"]

#: Emission rates saturate at this many events per sample (during the lab-quake itself).
MAX_PER_SAMPLE = 8.0
#: Smallest Gutenberg-Richter b-value reached as the fault is loaded (keeps 1/b bounded).
B_MIN = 0.2
#: Samples generated per chunk (random draws per chunk: ~3 x 8 bytes x events).
CHUNK = 1 << 18


def wavelet_table(omega_dt: float, decay_dt: float, length: int) -> np.ndarray:
    """``(2, length)`` table ``[e^(-t/tau) cos(w t), e^(-t/tau) sin(w t)]``, t in samples."""
    t = np.arange(length, dtype=np.float64)
    env = np.exp(-t / decay_dt)
    return np.ascontiguousarray(np.stack([env * np.cos(omega_dt * t), env * np.sin(omega_dt * t)]))


@njit(cache=True, nogil=True)
def emit(rate_dt, log_ratio, inv_b, waits, amp_e, phase_xy, amp0, amp_exp, max_ratio, table, out):
    """Add the emissions of samples ``0..n-1`` to ``out`` (``n = rate_dt.shape[0]``; ``out`` may be
    longer by up to ``length - 1`` samples, which receive the wavelets' tails).

    ``rate_dt[i]`` is the expected number of events in sample ``i``; ``log_ratio`` = ln(V/v_load);
    ``inv_b`` = 1/b, the inverse Gutenberg-Richter b-value in each sample; ``waits``, ``amp_e``:
    unit exponential draws (waiting "times" in integrated rate, and the GR factor
    ``exp(E/b) = u^(-1/b)``); ``phase_xy`` (2, m): Gaussian pairs whose direction is the
    uniform random phase (``sin phi, cos phi = x, y / |(x, y)|``, no trigonometry per event);
    ``table`` = :func:`wavelet_table`. Returns the number of events, or -1 when ``waits`` ran out.
    """
    n = rate_dt.shape[0]
    span = out.shape[0]
    length = table.shape[1]
    m = waits.shape[0]
    if m == 0:
        return -1
    k = 0
    target = waits[0]
    acc = 0.0
    for i in range(n):
        acc += rate_dt[i]
        if acc < target:
            continue
        scale = amp0 * np.exp(amp_exp * log_ratio[i])  # once per sample, shared by its events
        inv_bi = inv_b[i]
        stop = min(span - i, length)
        seg = out[i:i + stop]
        while acc >= target:
            px = phase_xy[0, k]
            py = phase_xy[1, k]
            amp = scale * min(np.exp(amp_e[k] * inv_bi), max_ratio) / np.sqrt(px * px + py * py)
            cs = amp * px
            sn = amp * py
            for t in range(stop):
                seg[t] += cs * table[0, t] + sn * table[1, t]
            k += 1
            if k >= m:
                return -1
            target += waits[k]
    return k


def emit_reference(rate_dt, log_ratio, inv_b, waits, amp_e, phase_xy, amp0, amp_exp, max_ratio, table, out):
    """NumPy twin of :func:`emit` (cumulative sums, searchsorted, ``np.add.at``)."""
    n = rate_dt.shape[0]
    span = out.shape[0]
    length = table.shape[1]
    cum = np.cumsum(rate_dt)
    targets = np.cumsum(waits)
    idx = np.searchsorted(cum, targets, side="left")
    k = int(np.count_nonzero(idx < n))
    if k >= waits.shape[0]:
        return -1
    idx = idx[:k]
    radius = np.hypot(phase_xy[0, :k], phase_xy[1, :k])
    amp = amp0 * np.exp(amp_exp * log_ratio[idx]) * np.minimum(np.exp(amp_e[:k] * inv_b[idx]), max_ratio) / radius
    sin_phi, cos_phi = amp * phase_xy[0, :k], amp * phase_xy[1, :k]
    t = np.arange(length)
    pos = idx[:, None] + t[None, :]
    wave = sin_phi[:, None] * table[0][None, :] + cos_phi[:, None] * table[1][None, :]
    keep = pos < span
    np.add.at(out, pos[keep], wave[keep])
    return k


def gr_inverse_b(problem, friction: np.ndarray | None, size: int) -> np.ndarray:
    """1/b per sample: the b-value falls as the fault is loaded.

    In laboratory gouge the b-value drops steadily as shear stress rises through the seismic
    cycle and jumps back at failure (Riviere et al. 2018, EPSL 482, 407,
    doi:10.1016/j.epsl.2017.11.036); it also falls with fault slip rate (Bolton et al.,
    "Frequency-magnitude statistics of laboratory foreshocks vary with shear velocity, fault
    slip rate, and shear stress"). Linear in the friction:

    ``b = b_value - b_value_slope (mu - mu_ss(v_load)) / (b - a)``, at least ``B_MIN``: friction
    ``mu`` above its steady-state value at the load-point velocity, in units of ``b - a`` (the
    friction change per e-fold of slip rate). ``friction=None`` gives the constant ``b_value``.
    """
    p = problem
    if friction is None or p.b_value_slope == 0.0:
        return np.full(size, 1.0 / p.b_value)
    mu_ss = p.mu0 + (p.a - p.b) * np.log(p.v_load / p.v0)
    b = p.b_value - p.b_value_slope * (np.asarray(friction, dtype=np.float64) - mu_ss) / (p.b - p.a)
    return 1.0 / np.maximum(b, B_MIN)


def acoustic_signal(log_ratio, problem, rng: np.random.Generator, kernel=emit, *, friction=None,
                    n: int | None = None, out: np.ndarray | None = None, chunk: int = CHUNK) -> np.ndarray:
    """The acoustic signal (ADC counts, rounded to integers) for slip rates ``v_load exp(log_ratio)``.

    ``log_ratio`` is an array of ln(V/v_load) per sample, or a function ``(start, stop) -> array``
    giving it for samples ``[start, stop)`` of a record of ``n`` samples (then nothing of size
    ``n`` is held except ``out``). ``friction`` (array or function alike, optional) is the
    friction coefficient per sample, which sets the b-value (:func:`gr_inverse_b`). ``out``
    (float64, or an int16 memory map) receives the record; by default a float64 array is made.
    Memory beyond ``out`` is O(``chunk``).
    """
    p = problem
    if callable(log_ratio):
        if n is None:
            raise ValueError("n is required when log_ratio is a function of (start, stop)")
        piece = log_ratio
    else:
        arr = np.asarray(log_ratio, dtype=np.float64)
        n = arr.shape[0]
        piece = lambda start, stop: arr[start:stop]  # noqa: E731
    if friction is None or callable(friction):
        mu_piece = friction
    else:
        mu_arr = np.asarray(friction, dtype=np.float64)
        if mu_arr.shape != (n,):
            raise ValueError(f"friction has shape {mu_arr.shape}; expected ({n},), one value per sample")
        mu_piece = lambda start, stop: mu_arr[start:stop]  # noqa: E731
    if out is None:
        out = np.empty(n, dtype=np.float64)
    elif out.shape != (n,):
        raise ValueError(f"out has shape {out.shape}; expected ({n},)")
    dt = 1.0 / p.sampling_rate
    length = max(1, int(np.ceil(6.0 * p.emission_decay * p.sampling_rate)))
    table = wavelet_table(2.0 * np.pi * p.emission_frequency * dt, p.emission_decay * p.sampling_rate, length)
    lo, hi = (-32768, 32767) if out.dtype == np.int16 else (-np.inf, np.inf)
    carry = np.zeros(length - 1)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        m_len = stop - start
        lr = np.ascontiguousarray(piece(start, stop), dtype=np.float64)
        inv_b = gr_inverse_b(p, None if mu_piece is None else mu_piece(start, stop), m_len)
        # saturation: at most MAX_PER_SAMPLE emissions per sample on average (keeps the cost linear)
        rate_dt = np.minimum(p.emission_rate * np.exp(p.rate_exponent * lr) * dt, MAX_PER_SAMPLE)
        expected = float(rate_dt.sum())
        base = np.zeros(m_len + length - 1)
        base[:m_len] = p.offset + p.noise * rng.standard_normal(m_len)
        base[:length - 1] += carry
        m = int(expected + 6.0 * np.sqrt(expected) + 16)
        while True:
            waits = rng.standard_exponential((2, m))
            phase_xy = rng.standard_normal((2, m))
            trial = base.copy()
            k = kernel(rate_dt, lr, inv_b, waits[0], waits[1], phase_xy, p.emission_amplitude, p.amplitude_exponent,
                       p.max_amplitude_ratio, table, trial)
            if k >= 0:
                break
            m *= 2
        carry = trial[m_len:].copy()
        out[start:stop] = np.clip(np.round(trial[:m_len]), lo, hi)
    return out
