"""Window statistics of an acoustic signal, computed by numba kernels (the tree models' features).

For every window ``x[e - w:e]`` (``e`` in ``ends``) the kernel computes, in this order:

* mean, variance (ddof 0), skewness ``m3/m2^1.5`` and excess kurtosis ``m4/m2^2 - 3`` (the
  biased moments of ``scipy.stats.skew``/``kurtosis``; 0 for a constant window);
* quantiles (NumPy's default linear interpolation), by a counting histogram when the window
  holds integers (ADC counts) and by sorting otherwise;
* threshold-exceedance counts ``#{|x - c| > T}``;
* peak counts: local maxima as ``scipy.signal.find_peaks`` defines them (plateaus count once)
  with height ``>= H``;
* autocorrelation ``sum d_i d_{i+l} / sum d_i^2`` (``d = x - mean``) at the given lags;
* spectral band powers: mean square of the centred window passed through Butterworth band-pass
  filters (a filter bank, ``scipy.signal.butter(..., output="sos")``, zero initial state).

Rouet-Leduc et al. (2017, doi:10.1002/2017GL074677) found the variance the most informative of
such statistics. Each kernel has a NumPy/SciPy reference (:func:`reference_features`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

import toolkit as tk
from toolkit.kernels import FASTMATH
from toolkit import validate as v
from toolkit.errors import InvalidSolverError

__all__ = ["WindowFeatures", "window_features", "reference_features", "feature_matrix"]

_FM = set(FASTMATH)

#: Largest autocorrelation lag (int32: lags are added to sample indices in the kernels).
LAG_MAX = 2 ** 31 - 1


def _array(check, name, value, **kwargs):
    """A flat sequence of numbers through ``check`` (``v.real_array``/``v.index_array``); a scalar,
    string, dict, set or ragged list is refused with the field named."""
    if not isinstance(value, (tuple, list, np.ndarray)):
        raise InvalidSolverError(f"{name} = {v.show(value)} is not allowed: give a tuple or list of numbers "
                                 "(an empty tuple computes none)")
    try:
        return check(name, value, **kwargs)
    except InvalidSolverError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidSolverError(f"{name} = {v.show(value)} is not allowed: give a tuple or list of numbers "
                                 f"({type(exc).__name__}: {exc})") from None


class WindowFeatures(tk.Struct):
    """Which window statistics to compute (a solver component).

    ``quantiles``     probabilities in [0, 1]
    ``thresholds``    exceedance levels, in units of the signal's noise scale (MAD * 1.4826)
    ``peak_heights``  minimum peak heights above the centre, in the same units
    ``lags``          autocorrelation lags, samples
    ``bands``         (low, high) band edges as fractions of the Nyquist frequency
    ``band_order``    Butterworth order of each band-pass filter (1 to 8)

    Each list is a flat sequence (tuple, list or 1-D array; ``bands`` a sequence of pairs) of
    finite numbers; lags lie in [1, 2**31 - 1].
    """

    _error = InvalidSolverError

    quantiles: tuple = (0.01, 0.05, 0.25, 0.75, 0.95, 0.99)
    thresholds: tuple = (2.0, 4.0, 8.0)
    peak_heights: tuple = (3.0, 8.0)
    lags: tuple = (1, 2, 5, 10)
    bands: tuple = ((0.02, 0.1), (0.1, 0.3), (0.3, 0.6), (0.6, 0.95))
    band_order: int = 1

    def _validate(self):
        err = dict(error=InvalidSolverError)
        q = _array(v.real_array, "quantiles", self.quantiles, ndim=1, lower=0.0, upper=1.0, **err)
        self._set("quantiles", tuple(float(x) for x in q))
        t = _array(v.real_array, "thresholds", self.thresholds, ndim=1, lower=0.0, **err)
        self._set("thresholds", tuple(float(x) for x in t))
        h = _array(v.real_array, "peak_heights", self.peak_heights, ndim=1, **err)
        self._set("peak_heights", tuple(float(x) for x in h))
        lags = _array(v.index_array, "lags", self.lags, ndim=1, lower=1, upper=LAG_MAX + 1, **err)
        self._set("lags", tuple(int(x) for x in lags))
        bands = _array(v.real_array, "bands", self.bands, **err)
        if bands.size == 0:
            bands = np.zeros((0, 2))
        if bands.ndim != 2 or bands.shape[1] != 2 or np.any(bands[:, 0] <= 0) or np.any(bands[:, 1] >= 1) \
                or np.any(bands[:, 0] >= bands[:, 1]):
            raise InvalidSolverError(f"bands = {v.show(self.bands)} is not allowed: give (low, high) pairs "
                                     "with 0 < low < high < 1 (fractions of the Nyquist frequency)")
        self._set("bands", tuple((float(lo), float(hi)) for lo, hi in bands))
        self._set("band_order", v.integer("band_order", self.band_order, lower=1, upper=8, **err))

    def names(self) -> list[str]:
        """Feature names, in the kernel's column order."""
        return (["mean", "var", "skew", "kurtosis"] + [f"q{q:g}" for q in self.quantiles]
                + [f"exceed{t:g}" for t in self.thresholds] + [f"peaks{h:g}" for h in self.peak_heights]
                + [f"acf{lag}" for lag in self.lags] + [f"band{lo:g}-{hi:g}" for lo, hi in self.bands])

    @property
    def count(self) -> int:
        return 4 + len(self.quantiles) + len(self.thresholds) + len(self.peak_heights) + len(self.lags) \
            + len(self.bands)

    def sos(self) -> np.ndarray:
        """Second-order sections of the band filters, shape (bands, sections, 6)."""
        from scipy.signal import butter

        if not self.bands:
            return np.zeros((0, self.band_order, 6))
        return np.ascontiguousarray(np.stack([butter(self.band_order, [lo, hi], btype="band", output="sos")
                                              for lo, hi in self.bands]), dtype=np.float64)


# ------------------------------------------------------------------------------------------
# kernels

@njit(cache=True, nogil=True)
def _kth(counts, low, k):
    """The k-th smallest (0-based) value from a histogram starting at value ``low``."""
    acc = 0
    for j in range(counts.shape[0]):
        acc += counts[j]
        if acc > k:
            return float(low + j)
    return float(low + counts.shape[0] - 1)


@njit(cache=True, nogil=True)
def _lerp(a, b, g):
    d = b - a
    if g >= 0.5:
        return b - d * (1.0 - g)
    return a + d * g


@njit(cache=True, nogil=True)
def _band_cascade(d, n, sections, buf):
    """Mean square of ``d`` through a cascade of second-order sections (direct form II transposed)."""
    for i in range(n):
        buf[i] = d[i]
    for s in range(sections.shape[0]):
        b0, b1, b2, a1, a2 = sections[s, 0], sections[s, 1], sections[s, 2], sections[s, 4], sections[s, 5]
        z0 = 0.0
        z1 = 0.0
        for i in range(n):
            xi = buf[i]
            y = b0 * xi + z0
            z0 = b1 * xi - a1 * y + z1
            z1 = b2 * xi - a2 * y
            buf[i] = y
    p = 0.0
    for i in range(n):
        p += buf[i] * buf[i]
    return p / n


@njit(cache=True, nogil=True)
def _quantiles(xw, qs, lo, hi, use_hist, counts, buf, out):
    n = xw.shape[0]
    nq = qs.shape[0]
    if use_hist and hi - lo < counts.shape[0]:
        span = int(hi - lo) + 1
        hist = counts[:span]
        hist[:] = 0
        ilo = int(lo)
        for i in range(n):
            hist[int(xw[i]) - ilo] += 1
        for j in range(nq):
            vi = (n - 1) * qs[j]
            below = np.floor(vi)
            kb = int(below)
            out[j] = _lerp(_kth(hist, ilo, kb), _kth(hist, ilo, min(kb + 1, n - 1)), vi - below)
    else:
        srt = buf[:n]
        for i in range(n):
            srt[i] = float(xw[i])
        srt.sort()
        for j in range(nq):
            vi = (n - 1) * qs[j]
            below = np.floor(vi)
            kb = int(below)
            out[j] = _lerp(srt[kb], srt[min(kb + 1, n - 1)], vi - below)


@njit(cache=True, nogil=True)
def _is_integral(xw):
    for i in range(xw.shape[0]):
        xi = float(xw[i])
        if xi != np.floor(xi):
            return False
    return True


# The block kernels index slices from 0 so numba can prove indices non-negative (no wraparound
# checks) and LLVM vectorises the loops.

@njit(cache=True, nogil=True, fastmath=_FM)
def _range_sum(xw):
    total = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(xw.shape[0]):
        xi = float(xw[i])
        total += xi
        lo = min(lo, xi)
        hi = max(hi, xi)
    return total, lo, hi


@njit(cache=True, nogil=True, fastmath=_FM)
def _center_block(xb, mean, d):
    for i in range(xb.shape[0]):
        d[i] = float(xb[i]) - mean


@njit(cache=True, nogil=True, fastmath=_FM)
def _block_stats(d, m, nb_valid, lags, acc):
    """Central power sums and lagged products of one block ``d[:m]`` (``d`` holds lookahead).

    ``acc`` = [m2, m3, m4, lagged...]; lagged products pair only samples inside the window
    (``nb_valid[j]`` = how many of this block's samples have their lag-j partner inside).
    """
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for i in range(m):
        di = d[i]
        d2 = di * di
        m2 += d2
        m3 += d2 * di
        m4 += d2 * d2
    acc[0] += m2
    acc[1] += m3
    acc[2] += m4
    for j in range(lags.shape[0]):
        shifted = d[lags[j]:]
        s = 0.0
        for i in range(nb_valid[j]):
            s += d[i] * shifted[i]
        acc[3 + j] += s


@njit(cache=True, nogil=True, fastmath=_FM)
def _block_exceed(xb, center, thr, out):
    for j in range(thr.shape[0]):
        t = thr[j]
        c = 0.0
        for i in range(xb.shape[0]):
            c += 1.0 if abs(float(xb[i]) - center) > t else 0.0
        out[j] += c


@njit(cache=True, nogil=True, fastmath=_FM)
def _block_band4(d, m, co, z, p):
    """Four single-section filters side by side over a block; state ``z`` (4, 2) and sums ``p`` carried."""
    b00, b01, b02, a01, a02 = co[0, 0], co[0, 1], co[0, 2], co[0, 4], co[0, 5]
    b10, b11, b12, a11, a12 = co[1, 0], co[1, 1], co[1, 2], co[1, 4], co[1, 5]
    b20, b21, b22, a21, a22 = co[2, 0], co[2, 1], co[2, 2], co[2, 4], co[2, 5]
    b30, b31, b32, a31, a32 = co[3, 0], co[3, 1], co[3, 2], co[3, 4], co[3, 5]
    z00, z01, z10, z11 = z[0, 0], z[0, 1], z[1, 0], z[1, 1]
    z20, z21, z30, z31 = z[2, 0], z[2, 1], z[3, 0], z[3, 1]
    p0 = p1 = p2 = p3 = 0.0
    for i in range(m):
        xi = d[i]
        y0 = b00 * xi + z00
        z00 = b01 * xi - a01 * y0 + z01
        z01 = b02 * xi - a02 * y0
        y1 = b10 * xi + z10
        z10 = b11 * xi - a11 * y1 + z11
        z11 = b12 * xi - a12 * y1
        y2 = b20 * xi + z20
        z20 = b21 * xi - a21 * y2 + z21
        z21 = b22 * xi - a22 * y2
        y3 = b30 * xi + z30
        z30 = b31 * xi - a31 * y3 + z31
        z31 = b32 * xi - a32 * y3
        p0 += y0 * y0
        p1 += y1 * y1
        p2 += y2 * y2
        p3 += y3 * y3
    z[0, 0], z[0, 1], z[1, 0], z[1, 1] = z00, z01, z10, z11
    z[2, 0], z[2, 1], z[3, 0], z[3, 1] = z20, z21, z30, z31
    p[0] += p0
    p[1] += p1
    p[2] += p2
    p[3] += p3


@njit(cache=True, nogil=True, fastmath=_FM)
def _strict_peaks(seg, heights, cnt):
    """Strict local maxima seg[i-1] < seg[i] > seg[i+1] (i = 1..len-2) at or above each height."""
    for j in range(heights.shape[0]):
        h = heights[j]
        c = 0.0
        for i in range(1, seg.shape[0] - 1):
            xi = float(seg[i])
            up = float(seg[i - 1]) < xi
            down = float(seg[i + 1]) < xi
            c += 1.0 if up & down & (xi >= h) else 0.0
        cnt[j] += c


@njit(cache=True, nogil=True)
def _plateau_peaks(xw, lo_i, hi_i, heights, cnt):
    """Plateau maxima x[i-1] < x[i] == x[i+1] == ... > (first different value) for i in [lo_i, hi_i);
    the window's last sample counts as different, so a plateau touching the end is no peak."""
    n = xw.shape[0]
    for i in range(lo_i, hi_i):
        xi = xw[i]
        if xw[i + 1] == xi and xw[i - 1] < xi:
            ahead = i + 1
            while ahead < n - 1 and xw[ahead] == xi:
                ahead += 1
            if xw[ahead] < xi:
                val = float(xi)
                for j in range(heights.shape[0]):
                    if val >= heights[j]:
                        cnt[j] += 1.0


@njit(cache=True, nogil=True)
def _one_window(xw, is_int, qs, center, thr, peak_h, lags, sos, out, counts, d, buf):
    """All features of one window ``xw`` into ``out``.

    Peaks follow scipy's ``_local_maxima_1d`` split in two (strict maxima, then plateaus, both
    counted where 1 <= i <= n-2); the rest streams through L1-sized blocks of the centred window.
    """
    n = xw.shape[0]
    block = 2048  # samples per pass: the block and its lookahead stay in L1 cache
    total, lo, hi = _range_sum(xw)
    mean = total / n
    nt = thr.shape[0]
    nl = lags.shape[0]
    npk = peak_h.shape[0]
    nb = sos.shape[0]
    maxlag = 0
    for j in range(nl):
        maxlag = max(maxlag, lags[j])
    acc = np.zeros(3 + nl)
    exc = np.zeros(nt)
    pk = np.zeros(npk)
    nvalid = np.zeros(nl, dtype=np.int64)
    single = sos.shape[1] == 1
    ngroups = (nb + 3) // 4
    co = np.zeros((max(ngroups, 1), 4, 6))
    if single:
        for bnd in range(nb):
            for c in range(6):
                co[bnd // 4, bnd % 4, c] = sos[bnd, 0, c]
    z = np.zeros((max(ngroups, 1), 4, 2))
    power = np.zeros(max(ngroups, 1) * 4)
    for b0 in range(0, n, block):
        m = min(block, n - b0)
        look = min(n - b0, m + maxlag)
        _center_block(xw[b0:b0 + look], mean, d)
        for j in range(nl):
            nvalid[j] = max(0, min(m, n - lags[j] - b0))
        _block_stats(d, m, nvalid, lags, acc)
        if nt > 0:
            _block_exceed(xw[b0:b0 + m], center, thr, exc)
        if npk > 0:
            lo_i = max(1, b0)
            hi_i = min(n - 1, b0 + m)
            if hi_i > lo_i:
                _strict_peaks(xw[lo_i - 1:hi_i + 1], peak_h, pk)
                _plateau_peaks(xw, lo_i, hi_i, peak_h, pk)
        if single:
            for g in range(ngroups):
                _block_band4(d, m, co[g], z[g], power[4 * g:4 * g + 4])
    m2, m3, m4 = acc[0], acc[1], acc[2]
    var = m2 / n
    out[0] = mean
    out[1] = var
    # scipy.stats.skew/kurtosis treat var <= (resolution * mean)^2 as zero variance
    if m2 <= 0.0 or var <= (1e-15 * mean) ** 2:
        out[2] = 0.0
        out[3] = 0.0
    else:
        # a tiny var (below ~1e-162) underflows var**2 (and below ~1e-216 var**1.5) to 0: scipy
        # then returns NaN (0/0), which the reference takes as 0, like a constant window
        v15 = var ** 1.5
        v2 = var * var
        skew = (m3 / n) / v15 if v15 > 0.0 else 0.0
        kurt = (m4 / n) / v2 - 3.0 if v2 > 0.0 else 0.0
        out[2] = skew if np.isfinite(skew) else 0.0
        out[3] = kurt if np.isfinite(kurt) else 0.0
    k = 4
    nq = qs.shape[0]
    if nq > 0:
        use_hist = is_int or _is_integral(xw)
        _quantiles(xw, qs, lo, hi, use_hist, counts, buf, out[k:k + nq])
        k += nq
    for j in range(nt):
        out[k + j] = exc[j]
    k += nt
    for j in range(npk):
        out[k + j] = pk[j]
    k += npk
    for j in range(nl):
        out[k + j] = acc[3 + j] / m2 if m2 > 0.0 and lags[j] < n else 0.0
    k += nl
    if single:
        for bnd in range(nb):
            out[k + bnd] = power[bnd] / n
    else:
        _center_block(xw, mean, d)
        for bnd in range(nb):
            out[k + bnd] = _band_cascade(d, n, sos[bnd], buf)


@njit(cache=True, nogil=True)
def window_features_serial(x, ends, window, is_int, qs, center, thr, peak_h, lags, sos, out):
    """Features of the windows ``x[e - window:e]`` into ``out`` (windows x features); status 0."""
    counts = np.zeros(1 << 17, dtype=np.int64)  # integer windows spanning fewer values use a histogram
    d = np.empty(window)
    buf = np.empty(window)
    for w in range(ends.shape[0]):
        _one_window(x[ends[w] - window:ends[w]], is_int, qs, center, thr, peak_h, lags, sos, out[w],
                    counts, d, buf)
    return 0


@njit(cache=True, nogil=True, parallel=True)
def window_features_parallel(x, ends, window, is_int, qs, center, thr, peak_h, lags, sos, out):
    """Parallel twin of :func:`window_features_serial` (windows split over threads)."""
    nw = ends.shape[0]
    nchunk = min(nw, 64)
    for c in prange(nchunk):
        counts = np.zeros(1 << 17, dtype=np.int64)  # integer windows spanning fewer values use a histogram
        d = np.empty(window)
        buf = np.empty(window)
        for w in range(c * nw // nchunk, (c + 1) * nw // nchunk):
            _one_window(x[ends[w] - window:ends[w]], is_int, qs, center, thr, peak_h, lags, sos, out[w],
                        counts, d, buf)
    return 0


def _kernel_args(features: WindowFeatures, center: float, scale: float):
    qs = np.asarray(features.quantiles, dtype=np.float64)
    thr = np.asarray(features.thresholds, dtype=np.float64) * scale
    peak_h = center + scale * np.asarray(features.peak_heights, dtype=np.float64)
    lags = np.asarray(features.lags, dtype=np.int64)
    return qs, float(center), thr, peak_h, lags, features.sos()


def window_features(x: np.ndarray, ends: np.ndarray, window: int, features: WindowFeatures,
                    center: float = 0.0, scale: float = 1.0, parallel: bool = False) -> np.ndarray:
    """Feature matrix (windows x ``features.count``) of ``x`` (float64 or int16, may be memory-mapped).

    Thresholds are ``|x - center| > t * scale``; peak heights ``x >= center + h * scale``.
    """
    x = np.asarray(x)
    if x.dtype not in (np.float64, np.int16):
        x = np.ascontiguousarray(x, dtype=np.float64)
    ends = np.ascontiguousarray(ends, dtype=np.int64)
    if ends.size and (ends.min() < window or ends.max() > x.shape[0]):
        raise ValueError(f"window ends must lie in [{window}, {x.shape[0]}]")
    out = np.empty((ends.size, features.count))
    if x.flags.writeable:    # the kernels only read x: one compiled version for arrays and read-only memory maps
        x = x.view()
        x.flags.writeable = False
    kernel = window_features_parallel if parallel else window_features_serial
    kernel(x, ends, int(window), x.dtype.kind in "iu", *_kernel_args(features, center, scale), out)
    return out


def noise_scale(x: np.ndarray, max_samples: int = 1 << 20) -> tuple[float, float]:
    """Centre (median) and robust scale (1.4826 MAD, at least 1e-12) of the signal, from an evenly
    strided subsample of at most ``max_samples`` values (so memory maps are not read in full)."""
    step = max(1, x.shape[0] // max_samples)
    sub = np.asarray(x[::step], dtype=np.float64)
    center = float(np.median(sub))
    scale = float(1.4826 * np.median(np.abs(sub - center)))
    if scale <= 0:
        scale = float(np.std(sub)) or 1.0
    return center, scale


def feature_matrix(samples, ends, window, features, parallel=False):
    """Features of every window with thresholds in units of the signal's noise scale."""
    center, scale = noise_scale(samples)
    return window_features(samples, ends, window, features, center, scale, parallel=parallel)


# ------------------------------------------------------------------------------------------
# NumPy/SciPy reference

def reference_features(x, ends, window, features: WindowFeatures, center=0.0, scale=1.0) -> np.ndarray:
    """The same features computed window by window with NumPy and SciPy (slow; for tests)."""
    import warnings

    from scipy import signal as sps
    from scipy import stats

    qs, c, thr, peak_h, lags, sos = _kernel_args(features, center, scale)
    rows = []
    for e in np.asarray(ends):
        w = np.asarray(x[e - window:e], dtype=np.float64)
        d = w - w.mean()
        var = w.var()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            skew = stats.skew(w)
            kurt = stats.kurtosis(w)
        row = [w.mean(), var, 0.0 if not np.isfinite(skew) else skew, 0.0 if not np.isfinite(kurt) else kurt]
        row += list(np.quantile(w, qs)) if qs.size else []
        row += [np.count_nonzero(np.abs(w - c) > t) for t in thr]
        row += [sps.find_peaks(w, height=h)[0].size for h in peak_h]
        denom = np.dot(d, d)
        row += [np.dot(d[:-lag], d[lag:]) / denom if denom > 0 and lag < w.size else 0.0 for lag in lags]
        row += [np.mean(sps.sosfilt(sos[b], d) ** 2) for b in range(sos.shape[0])]
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(rows), features.count)
