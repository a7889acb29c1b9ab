"""Observables from an ``MDSolution``: RDF, MSD and diffusion, VACF, Green–Kubo viscosity.

* radial distribution function ``g(r) = <n(r)> / (4 pi r^2 dr rho N / 2)`` over pairs within
  ``rmax`` (Verlet-list kernel, minimum image);
* mean-square displacement ``MSD(t) = <|x(t0 + t) - x(t0)|^2>`` over time origins, and the
  Einstein diffusion coefficient ``D = lim MSD / 6t`` (slope fitted over the later half);
* velocity autocorrelation ``C(t) = <v(t0) . v(t0 + t)>`` (FFT, Wiener–Khinchin);
* shear viscosity by Green–Kubo, ``eta = V / (k_B T) int_0^inf <P_xy(0) P_xy(t)> dt`` averaged
  over the off-diagonal components (Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed.,
  §2.7 and §8.4), or over the symmetric traceless tensor ``P_os = (P + P^T)/2 - tr P / 3``,
  ``eta = V / (10 k_B T) int sum_ab <P_os,ab(0) P_os,ab(t)> dt`` (five independent components
  of an isotropic fluid; Daivis & Evans, J. Chem. Phys. 100, 541 (1994), doi:10.1063/1.466970),
  with its statistical error from independent blocks (of one run or of several independent runs);
* bulk viscosity by Green–Kubo, ``eta_V = V / (k_B T) int_0^inf <dP(0) dP(t)> dt`` with
  ``dP = tr P / 3 - <P>`` (Hansen & McDonald, *Theory of Simple Liquids*, §8.4).

Units follow the family: Å, fs, eV; viscosity in eV·fs/Å³ (``EV_FS_PER_A3_IN_PA_S`` converts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from problems.molecule import KB_EV
from toolkit.kernels.neighbors import verlet_list

__all__ = ["rdf", "msd", "diffusion_coefficient", "vacf", "autocorrelation", "green_kubo_viscosity",
           "green_kubo_bulk_viscosity", "ViscosityEstimate", "EV_FS_PER_A3_IN_PA_S"]

#: 1 eV·fs/Å³ in Pa·s.
EV_FS_PER_A3_IN_PA_S = 1.602176634e-19 * 1e-15 / 1e-30


def _box(solution):
    mol = solution.problem.molecule
    if mol.cell is None or not mol.orthorhombic or not all(mol.pbc):
        raise ValueError("this observable needs a fully periodic orthorhombic cell")
    return np.ascontiguousarray(np.diag(mol.cell)), np.ones(3, dtype=np.int64)


def rdf(solution, rmax: float | None = None, bins: int = 100, start: int = 0):
    """``(r, g)``: the radial distribution function averaged over frames ``start:``."""
    box, periodic = _box(solution)
    rmax = 0.5 * box.min() if rmax is None else min(rmax, 0.5 * box.min())
    edges = np.linspace(0.0, rmax, bins + 1)
    hist = np.zeros(bins)
    frames = solution.positions[start:]
    n = frames.shape[1]
    for x in frames:
        xw = np.ascontiguousarray(x % box)
        starts, nbrs = verlet_list(xw, box, periodic, rmax)
        i = np.repeat(np.arange(n), np.diff(starts))
        d = xw[i] - xw[nbrs]
        d -= box * np.rint(d / box)
        hist += np.histogram(np.sqrt((d ** 2).sum(1)), bins=edges)[0]
    rho = n / float(np.prod(box))
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = hist / (len(frames) * 0.5 * n * rho * shell)
    return 0.5 * (edges[1:] + edges[:-1]), g


def _drift_free(solution, array, start):
    """Frames minus their mass-weighted centre (of positions or velocities)."""
    m = solution.problem.molecule.masses
    x = array[start:]
    return x - (np.tensordot(x, m, axes=([1], [0])) / m.sum())[:, None, :]


def msd(solution, start: int = 0, remove_drift: bool = True):
    """``(t, MSD)``: mean-square displacement (Å²) against lag time (fs), averaged over origins.

    ``remove_drift`` subtracts the centre-of-mass motion first: after a Langevin stage the total
    momentum is random, and its ballistic drift would otherwise inflate the MSD at long lags.
    """
    x = _drift_free(solution, solution.positions, start) if remove_drift else solution.positions[start:]
    t = solution.frame_time[start:] - solution.frame_time[start]
    nf = len(x)
    out = np.zeros(nf)
    for lag in range(1, nf):
        out[lag] = np.mean(np.sum((x[lag:] - x[:-lag]) ** 2, axis=2))
    return t, out


def diffusion_coefficient(solution, start: int = 0, fit: tuple[float, float] = (0.2, 0.5)) -> float:
    """Einstein ``D = slope(MSD) / 6`` (Å²/fs), fitted over lags between ``fit`` fractions of the run.

    Long lags have few time origins and a large statistical error, so the default fits the
    lags between 20% and 50% of the run (past the ballistic regime for any liquid run much
    longer than its velocity correlation time).
    """
    t, m = msd(solution, start)
    keep = (t >= fit[0] * t[-1]) & (t <= fit[1] * t[-1])
    if keep.sum() < 2:
        keep = t > 0
    slope = np.polyfit(t[keep], m[keep], 1)[0]
    return float(slope / 6.0)


def autocorrelation(series: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """``C[k] = <a(t) . a(t + k)>`` averaged over origins (FFT), for a (time, ...) array."""
    a = np.asarray(series, dtype=float).reshape(len(series), -1)
    n = len(a)
    max_lag = n if max_lag is None else min(max_lag, n)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(a, n=size, axis=0)
    corr = np.fft.irfft(spec * np.conj(spec), n=size, axis=0)[:max_lag].sum(axis=1)
    return corr / (n - np.arange(max_lag))


def vacf(solution, start: int = 0, normalize: bool = True, remove_drift: bool = True):
    """``(t, C)``: velocity autocorrelation ``<v(0).v(t)>`` per atom from the saved frames
    (centre-of-mass velocity removed unless ``remove_drift=False``)."""
    v = _drift_free(solution, solution.velocities, start) if remove_drift else solution.velocities[start:]
    c = autocorrelation(v.reshape(len(v), -1)) / v.shape[1]
    t = solution.frame_time[start:] - solution.frame_time[start]
    return t, (c / c[0] if normalize else c)


@dataclass
class ViscosityEstimate:
    """Green–Kubo shear or bulk viscosity (eV·fs/Å³) with the standard error of the block mean
    (``blocks`` counts the blocks of every run together)."""

    value: float
    error: float
    blocks: int
    correlation_time: float   # the integration window, fs
    time: np.ndarray          # lag times, fs
    running_integral: np.ndarray

    def __repr__(self):
        return f"ViscosityEstimate({self.value:.4g} ± {self.error:.2g} eV·fs/Å³, {self.blocks} blocks)"


def _shear_components(tensor: np.ndarray, components: str) -> tuple[np.ndarray, float]:
    """Columns whose summed autocorrelation, divided by the returned weight, is the shear-stress ACF."""
    if components == "offdiagonal":
        return np.stack([tensor[:, 0, 1], tensor[:, 0, 2], tensor[:, 1, 2]], axis=1), 3.0
    if components == "traceless":
        sym = 0.5 * (tensor + np.swapaxes(tensor, 1, 2))
        p = np.trace(sym, axis1=1, axis2=2) / 3.0
        r2 = np.sqrt(2.0)     # each off-diagonal pair appears twice in sum_ab P_ab P_ab
        cols = [r2 * sym[:, 0, 1], r2 * sym[:, 0, 2], r2 * sym[:, 1, 2],
                sym[:, 0, 0] - p, sym[:, 1, 1] - p, sym[:, 2, 2] - p]
        return np.stack(cols, axis=1), 10.0
    raise ValueError(f"components = {components!r}: choose 'offdiagonal' or 'traceless'")


def _as_runs(tensor) -> list[np.ndarray]:
    """One (time, 3, 3) array, or a list of them (independent runs), as a list of float arrays."""
    if isinstance(tensor, (list, tuple)):
        runs = [np.asarray(t, dtype=float) for t in tensor]
    else:
        runs = [np.asarray(tensor, dtype=float)]
    for r in runs:
        if r.ndim != 3 or r.shape[1:] != (3, 3):
            raise ValueError(f"tensor has shape {r.shape}: give a (time, 3, 3) pressure tensor series or a list of them")
    return runs


def _block_integrals(runs: list[np.ndarray], weight: float, dt: float, prefactor: float, blocks: int,
                     window: float | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Running Green–Kubo integrals of ``blocks`` blocks of every run's (time, columns) series.

    Each block's autocorrelation (summed over columns, divided by ``weight``) is integrated by the
    trapezoid rule up to ``window`` (default a tenth of a block). Returns the block integrals
    (runs x blocks), the running integral curves and the number of lags.
    """
    n_block = min(len(r) for r in runs) // blocks
    if n_block < 4:
        raise ValueError(f"{min(len(r) for r in runs)} records cannot make {blocks} blocks: run longer or use fewer "
                         "blocks")
    lags = max(2, min(n_block, int(round(window / dt)) + 1 if window else n_block // 10 + 1))
    integrals, curves = [], []
    for series in runs:
        for b in range(blocks):
            part = series[b * n_block:(b + 1) * n_block]
            c = autocorrelation(part, lags) / weight
            running = prefactor * np.concatenate([[0.0], np.cumsum(0.5 * (c[1:] + c[:-1])) * dt])
            curves.append(running)
            integrals.append(running[-1])
    return np.array(integrals), np.array(curves), lags


def _estimate(integrals, curves, lags, dt) -> "ViscosityEstimate":
    n = len(integrals)
    return ViscosityEstimate(value=float(integrals.mean()), error=float(integrals.std(ddof=1) / np.sqrt(n)),
                             blocks=n, correlation_time=(lags - 1) * dt, time=np.arange(lags) * dt,
                             running_integral=curves.mean(axis=0))


def _gk_inputs(solution, tensor, dt, volume, temperature, start):
    """(list of tensor series, dt, volume, temperature) from a solution, a sequence of solutions (independent
    runs of one state: the same thermo step and volume), or the explicit arguments."""
    if isinstance(solution, (list, tuple)):
        if not solution:
            raise ValueError("solution is an empty sequence: give one MDSolution or several runs of one state")
        steps = {round(float(s.time[1] - s.time[0]), 9) for s in solution}
        volumes = {round(float(s.volume), 6) for s in solution}
        if len(steps) > 1 or len(volumes) > 1:
            raise ValueError(f"the runs differ in thermo step ({sorted(steps)} fs) or volume ({sorted(volumes)} Å³): "
                             "give independent runs of one state, recorded at the same step")
        tensor = [s.pressure_tensor[start:] for s in solution]
        dt = steps.pop()
        volume = float(solution[0].volume)
        temperature = float(np.mean([s.temperature[start:].mean() for s in solution]))
    elif solution is not None:
        tensor = solution.pressure_tensor[start:]
        dt = float(solution.time[1] - solution.time[0])
        volume = solution.volume
        temperature = float(solution.temperature[start:].mean())
    if tensor is None or dt is None or volume is None or temperature is None:
        raise ValueError("give an MDSolution, or tensor (time, 3, 3), dt (fs), volume (Å³) and temperature (K)")
    return _as_runs(tensor), float(dt), float(volume), float(temperature)


def green_kubo_viscosity(solution=None, *, tensor=None, dt=None, volume=None, temperature=None,
                         window: float | None = None, blocks: int = 10, start: int = 0,
                         components: str = "offdiagonal") -> ViscosityEstimate:
    """Shear viscosity from the stress autocorrelation, with its statistical error.

    From an ``MDSolution`` (pressure tensor, thermo time step, volume, mean temperature), a list of
    them (independent runs of one state), or from explicit ``tensor`` (time, 3, 3) in eV/Å³, ``dt`` (fs),
    ``volume`` (Å³), ``temperature`` (K); ``tensor`` may also be a list of such series from independent
    runs of the same state.
    Every run is cut into ``blocks`` blocks; each gives an integral up to ``window`` fs (default a
    tenth of a block); the estimate is their mean and the error their standard error.
    ``components="offdiagonal"`` averages ``P_xy, P_xz, P_yz``; ``"traceless"`` uses the whole
    symmetric traceless stress (Daivis & Evans 1994), the same viscosity with a smaller error.
    """
    runs, dt, volume, temperature = _gk_inputs(solution, tensor, dt, volume, temperature, start)
    columns = [_shear_components(r, components) for r in runs]
    weight = columns[0][1]
    integrals, curves, lags = _block_integrals([c for c, _ in columns], weight, dt,
                                               volume / (KB_EV * temperature), blocks, window)
    return _estimate(integrals, curves, lags, dt)


def green_kubo_bulk_viscosity(solution=None, *, tensor=None, dt=None, volume=None, temperature=None,
                              window: float | None = None, blocks: int = 10, start: int = 0) -> ViscosityEstimate:
    """Bulk (volume) viscosity ``eta_V = V / (k_B T) int_0^inf <dP(0) dP(t)> dt``, with its error.

    ``P = tr P / 3`` is the instantaneous pressure and ``dP = P - <P>`` its fluctuation about the
    mean of each run (Hansen & McDonald, *Theory of Simple Liquids*, 4th ed., §8.4; Allen &
    Tildesley §2.7). Inputs, blocks, window and error as for :func:`green_kubo_viscosity`.
    In the microcanonical ensemble ``<dP^2>`` differs from the canonical one, but the integral
    (the hydrodynamic limit) is the same; the pressure fluctuation decays more slowly than the shear
    stress and its integral converges less well: give it a window of several tau.
    """
    runs, dt, volume, temperature = _gk_inputs(solution, tensor, dt, volume, temperature, start)
    fluct = []
    for r in runs:
        p = np.trace(r, axis1=1, axis2=2) / 3.0
        fluct.append((p - p.mean())[:, None])
    integrals, curves, lags = _block_integrals(fluct, 1.0, dt, volume / (KB_EV * temperature), blocks, window)
    return _estimate(integrals, curves, lags, dt)
