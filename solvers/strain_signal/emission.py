"""Acoustic emission of a sliding fault: background noise plus micro-slip emissions.

Micro-slip events form an inhomogeneous Poisson process whose rate follows the slip rate,
``lambda(t) = rate0 (V/v_load)^p``; each event radiates a damped sine
``A exp(-t/tau) sin(2 pi f t + phi)`` with amplitude ``A = A0 (V/v_load)^q * u^(-1/b)``, a
Gutenberg-Richter (Pareto) law of b-value ``b`` truncated at ``max_ratio`` (Gutenberg & Richter
1944; the laboratory analogue of Rouet-Leduc et al. 2017, doi:10.1002/2017GL074677, where the
acoustic power grows as failure approaches). Event times come from the integrated rate: the
k-th event is the first sample where ``sum lambda dt`` reaches ``E_1 + ... + E_k`` (``E`` unit
exponential draws), so kernel and reference use the same random numbers.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["emit", "emit_reference", "acoustic_signal", "MAX_PER_SAMPLE"]

#: Emission rates saturate at this many events per sample (during the lab-quake itself).
MAX_PER_SAMPLE = 8.0


@njit(cache=True, nogil=True)
def emit(rate_dt, log_ratio, waits, amp_u, phase_u, amp0, amp_exp, b_value, max_ratio,
         omega_dt, decay_dt, length, out):
    """Add emissions to ``out``; return the number of events, or -1 when ``waits`` ran out.

    ``rate_dt[i]`` is the expected number of events in sample ``i``; ``log_ratio`` = ln(V/v_load).
    """
    n = out.shape[0]
    m = waits.shape[0]
    if m == 0:
        return -1
    k = 0
    target = waits[0]
    acc = 0.0
    inv_b = -1.0 / b_value
    for i in range(n):
        acc += rate_dt[i]
        while acc >= target:
            amp = amp0 * np.exp(amp_exp * log_ratio[i]) * min((1.0 - amp_u[k]) ** inv_b, max_ratio)
            phase = 2.0 * np.pi * phase_u[k]
            stop = min(n, i + length)
            for j in range(i, stop):
                t = j - i
                out[j] += amp * np.exp(-t / decay_dt) * np.sin(omega_dt * t + phase)
            k += 1
            if k >= m:
                return -1
            target += waits[k]
    return k


def emit_reference(rate_dt, log_ratio, waits, amp_u, phase_u, amp0, amp_exp, b_value, max_ratio,
                   omega_dt, decay_dt, length, out):
    """NumPy twin of :func:`emit` (cumulative sums, searchsorted, ``np.add.at``)."""
    n = out.shape[0]
    cum = np.cumsum(rate_dt)
    targets = np.cumsum(waits)
    idx = np.searchsorted(cum, targets, side="left")
    k = int(np.count_nonzero(idx < n))
    if k >= waits.shape[0]:
        return -1
    idx = idx[:k]
    amp = amp0 * np.exp(amp_exp * log_ratio[idx]) * np.minimum((1.0 - amp_u[:k]) ** (-1.0 / b_value), max_ratio)
    phase = 2.0 * np.pi * phase_u[:k]
    t = np.arange(length)
    pos = idx[:, None] + t[None, :]
    wave = amp[:, None] * np.exp(-t / decay_dt)[None, :] * np.sin(omega_dt * t[None, :] + phase[:, None])
    keep = pos < n
    np.add.at(out, pos[keep], wave[keep])
    return k


def acoustic_signal(log_ratio: np.ndarray, problem, rng: np.random.Generator, kernel=emit) -> np.ndarray:
    """The acoustic signal (ADC counts, rounded to integers) for slip rates ``v_load exp(log_ratio)``."""
    p = problem
    n = log_ratio.shape[0]
    dt = 1.0 / p.sampling_rate
    # saturation: at most MAX_PER_SAMPLE emissions per sample on average (keeps the cost linear)
    rate_dt = np.minimum(p.emission_rate * np.exp(p.rate_exponent * log_ratio) * dt, MAX_PER_SAMPLE)
    expected = float(rate_dt.sum())
    out = p.offset + p.noise * rng.standard_normal(n)
    length = int(np.ceil(6.0 * p.emission_decay * p.sampling_rate))
    m = int(expected + 6.0 * np.sqrt(expected) + 16)
    while True:
        draws = rng.random((3, m))
        waits = -np.log1p(-draws[0])
        trial = out.copy()
        k = kernel(rate_dt, log_ratio, waits, draws[1], draws[2], p.emission_amplitude,
                   p.amplitude_exponent, p.b_value, p.max_amplitude_ratio,
                   2.0 * np.pi * p.emission_frequency * dt, p.emission_decay * p.sampling_rate, length, trial)
        if k >= 0:
            break
        m *= 2
    return np.clip(np.round(trial), -32768, 32767)
