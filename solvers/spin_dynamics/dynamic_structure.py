"""The dynamic structure factor S(q, omega) of a deterministic spin trajectory.

For frames ``S_i(t_f)`` saved every ``delta`` (F frames) the spin amplitude at wave vector q is
``A_a(q, t) = sum_i (S_ia(t) - <S_ia>) e^{-i q . r_i}`` (the time mean removed when ``subtract_mean``)
and its windowed periodogram

    S_ab(q, omega) = delta / (N sum_f w_f^2) * X_a(q, omega) X_b(q, omega)^*,
    X_a(q, omega) = sum_f w_f A_a(q, t_f) e^{+i omega t_f},     omega = 2 pi k / (F delta),

summed over the requested components. The normalisation makes the frequency sum a sum rule:
``sum_omega S(q, omega) d omega / 2 pi = sum_f w_f^2 |A(q, t_f)|^2 / (N sum_f w_f^2)``, i.e. the
(window-weighted) time average of the equal-time structure factor ``S(q) = |A(q)|^2 / N`` (exact
for the rectangular window by Parseval's theorem).

It is meant for energy-conserving runs (temperature 0, damping 0, e.g. ``ImplicitMidpoint``)
started from an equilibrated state, and averaged over several such runs (Chern, Barros, Wang,
Suwa & Batista, Phys. Rev. B 97, 035120 (2018), doi:10.1103/PhysRevB.97.035120, Sec. IV). The
check of its physics: linear spin waves of the ferromagnetic Heisenberg model ``E = J sum_<ij>
S_i . S_j`` (J < 0) under ``dS/dt = S x h`` precess at ``omega(q) = |J| sum_delta (1 - cos q . delta)``
(sum over the z neighbours; on the square lattice ``2|J| (2 - cos q_x - cos q_y)``), which the
transverse components' peaks follow at low temperature.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk

from .observables import reciprocal_grid

__all__ = ["DynamicStructureFactor", "dynamic_structure_factor", "spin_amplitudes"]

_COMPONENTS = {"all": (0, 1, 2), "transverse": (0, 1), "longitudinal": (2,), "x": (0,), "y": (1,), "z": (2,)}
_WINDOWS = ("hann", "boxcar")


class DynamicStructureFactor(tk.Struct):
    """S(q, omega) of one or more trajectories (module docstring).

    ``values`` (Q, W): S(q, omega) at the wave vectors ``q`` (Q, d) and angular frequencies
    ``omega`` (W,), ascending (negative frequencies first); ``reduced`` (Q, 2) the reduced coordinates of
    q on the box's reciprocal grid (NaN-free; zeros where q was given directly); ``components`` the
    spin components summed; ``runs`` the number of trajectories averaged; ``sites`` N; ``spacing``
    the time between frames.
    """

    values: np.ndarray
    q: np.ndarray
    omega: np.ndarray
    reduced: np.ndarray
    components: str
    runs: int
    sites: int
    spacing: float

    def peak_frequency(self, index: int, positive: bool = True) -> float:
        """The omega of the largest S(q, omega) at wave vector ``index`` (among omega > 0 by default)."""
        values, omega = self.values[index], self.omega
        if positive:
            keep = omega > 0
            values, omega = values[keep], omega[keep]
        return float(omega[int(np.argmax(values))])

    def sum_rule(self) -> np.ndarray:
        """``sum_omega S(q, omega) d omega / 2 pi`` per q (Q,): the time-averaged equal-time S(q)."""
        d_omega = 2.0 * np.pi / (len(self.omega) * self.spacing)
        return self.values.sum(axis=1) * d_omega / (2.0 * np.pi)

    def to_xarray(self):
        import xarray as xr

        return xr.Dataset(
            {"S": (("wavevector", "omega"), self.values,
                   {"long_name": f"dynamic structure factor S(q, omega) ({self.components} components)",
                    "units": "hbar / energy"})},
            coords={"omega": ("omega", self.omega, {"long_name": "angular frequency", "units": "energy / hbar"}),
                    "wavevector": ("wavevector", np.arange(len(self.q)),
                                   {"long_name": "wave-vector index", "units": "1"}),
                    "q": (("wavevector", "dim"), self.q, {"long_name": "wave vector", "units": "1 / lattice constant"})},
            attrs={"runs": self.runs, "sites": self.sites, "frame_spacing": self.spacing})

    def plot(self, ax=None, omega_max: float | None = None, dispersion=None):
        """S(q, omega) along the listed wave vectors as a colour map (log scale), with an optional
        reference ``dispersion`` (a callable q (Q, d) -> omega (Q,)) drawn over it."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import LogNorm

        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
        else:
            fig = ax.figure
        keep = self.omega >= 0
        if omega_max is not None:
            keep &= self.omega <= omega_max
        values = np.maximum(self.values[:, keep].T, 1e-12)
        x = np.arange(len(self.q))
        art = ax.pcolormesh(x, self.omega[keep], values, shading="nearest",
                            norm=LogNorm(vmin=max(values.max() * 1e-4, 1e-12), vmax=values.max()))
        fig.colorbar(art, ax=ax, label="S(q, omega) [hbar / energy]")
        if dispersion is not None:
            ax.plot(x, dispersion(self.q), "w--", lw=1, label="linear spin waves")
            ax.legend(loc="upper left")
        ax.set_xlabel("wave-vector index along the path [1]")
        ax.set_ylabel("omega [energy / hbar]")
        ax.set_title(f"dynamic structure factor ({self.components}, {self.runs} run(s))")
        return fig


def spin_amplitudes(frames, positions, q) -> np.ndarray:
    """``A_a(q, t) = sum_i S_ia(t) e^{-i q . r_i}``, (F, Q, 3), by the direct sum over sites."""
    frames = np.asarray(frames, dtype=np.float64)
    phase = np.exp(-1j * (np.asarray(q, dtype=np.float64) @ np.asarray(positions, dtype=np.float64).T))
    return np.einsum("qn,fnc->fqc", phase, frames)


def _grid_amplitudes(frames, positions, lattice_vectors, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The amplitudes on the whole reciprocal grid by an FFT over the Bravais cells (sublattice phases)."""
    L1, L2 = shape
    F, n, _ = frames.shape
    nsub = n // (L1 * L2)
    reduced, q = reciprocal_grid(lattice_vectors, shape)
    tau = np.asarray(positions, dtype=np.float64)[:nsub]
    amp = np.fft.fft2(frames.reshape(F, L1, L2, nsub, 3), axes=(1, 2))        # e^{-2 pi i (m i/L1 + n j/L2)}
    phase = np.exp(-1j * np.einsum("mnd,sd->mns", q, tau))
    total = np.einsum("mns,fmnsc->fmnc", phase, amp)
    return total.reshape(F, L1 * L2, 3), q.reshape(-1, 2), reduced.reshape(-1, 2)


def _check(solutions):
    if not isinstance(solutions, (list, tuple)):
        solutions = [solutions]
    if not solutions:
        raise ValueError("solutions = [] is not allowed: give one or more spin-dynamics solutions")
    first = solutions[0]
    for k, s in enumerate(solutions):
        if not hasattr(s, "spins") or not hasattr(s, "time"):
            raise TypeError(f"solutions[{k}] is a {type(s).__name__}: give SpinDynamicsSolution objects")
        if s.spins.shape[1:] != first.spins.shape[1:] or len(s.time) != len(first.time):
            raise ValueError(f"solutions[{k}] has frames {s.spins.shape}, the first {first.spins.shape}: average "
                             "runs of the same problem and length")
        if len(s.time) < 4:
            raise ValueError(f"solutions[{k}] has {len(s.time)} frames: S(q, omega) needs at least 4 (lower save_every "
                             "or run longer)")
        spacing = np.diff(s.time)
        if not np.allclose(spacing, spacing[0], rtol=1e-9, atol=0.0) or spacing[0] <= 0:
            raise ValueError(f"solutions[{k}] has unevenly spaced frames: S(q, omega) needs a constant save_every")
        problem = s.problem
        if getattr(problem, "temperature", 0.0) != 0.0 or getattr(problem, "damping", 0.0) != 0.0 or \
                getattr(problem, "final_temperature", None) not in (None, 0.0):
            raise ValueError(f"solutions[{k}] ran with temperature {problem.temperature} and damping {problem.damping}: "
                             "S(q, omega) is defined by the deterministic dynamics; start a run with temperature=0, "
                             "damping=0 from an equilibrated state (e.g. tk.remake(problem, spins=sol.spins[-1], "
                             "temperature=0.0, damping=0.0)) and solve it with ImplicitMidpoint()")
    return list(solutions)


def dynamic_structure_factor(solutions, q=None, *, components: str = "transverse", window: str = "hann",
                             subtract_mean: bool = True) -> DynamicStructureFactor:
    """S(q, omega) averaged over one or more deterministic runs (module docstring).

    ``q``: wave vectors (Q, d) in the units of the problem's positions, or None for the whole
    reciprocal grid of the problem's periodic lattice; ``components``: "transverse" (x and y, the
    spin waves about a z-polarised state), "longitudinal" (z), "all", or one of "x", "y", "z";
    ``window``: "hann" (less leakage between frequencies) or "boxcar" (the exact sum rule).
    """
    solutions = _check(solutions)
    if components not in _COMPONENTS:
        raise ValueError(f"components = {components!r} is not allowed: give one of {sorted(_COMPONENTS)}")
    if window not in _WINDOWS:
        raise ValueError(f"window = {window!r} is not allowed: give one of {_WINDOWS}")
    problem = solutions[0].problem
    if problem.positions is None:
        raise ValueError("the problem has no positions: S(q, omega) needs the sites' positions (build it with "
                         "classical_lattice / kondo_lattice)")
    F = len(solutions[0].time)
    spacing = float(solutions[0].time[1] - solutions[0].time[0])
    w = np.hanning(F + 2)[1:-1] if window == "hann" else np.ones(F)
    picks = list(_COMPONENTS[components])
    total = None
    for s in solutions:
        frames = np.asarray(s.spins, dtype=np.float64)
        if subtract_mean:
            frames = frames - frames.mean(axis=0, keepdims=True)
        if q is None:
            if problem.lattice_vectors is None:
                raise ValueError("q = None needs a periodic 2-d lattice (lattice_vectors); give the wave vectors q (Q, d)")
            amp, qq, reduced = _grid_amplitudes(frames, problem.positions, problem.lattice_vectors,
                                                problem.lattice_shape)
        else:
            qq = np.atleast_2d(np.asarray(q, dtype=np.float64))
            if qq.shape[1] != problem.positions.shape[1]:
                raise ValueError(f"q has {qq.shape[1]} components per wave vector, the positions "
                                 f"{problem.positions.shape[1]}: give q as (Q, {problem.positions.shape[1]})")
            amp = spin_amplitudes(frames, problem.positions, qq)
            reduced = np.zeros((len(qq), 2))
        X = np.fft.ifft(amp[:, :, picks] * w[:, None, None], axis=0) * F        # e^{+i omega t}
        power = np.sum(np.abs(X) ** 2, axis=2).T                                   # (Q, F)
        total = power if total is None else total + power
    n = problem.spins.shape[0] if problem.spins is not None else solutions[0].spins.shape[1]
    values = total * spacing / (n * np.sum(w ** 2) * len(solutions))
    omega = 2.0 * np.pi * np.fft.fftfreq(F, d=spacing)
    order = np.argsort(omega, kind="stable")
    return DynamicStructureFactor(values=values[:, order], q=qq, omega=omega[order], reduced=reduced,
                                  components=components, runs=len(solutions), sites=int(n), spacing=spacing)
