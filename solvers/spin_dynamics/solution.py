"""``SpinDynamicsSolution``: the saved frames of a spin-dynamics run and their observables."""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit.conventions import attrs, index
from toolkit.conventions import reduced as _reduced

from .kernels import scalar_chirality
from .observables import TRIANGULAR_POINTS, ChernNumber, StructureFactor, chern_number, structure_factor_of

__all__ = ["SpinDynamicsSolution", "chirality_frames"]

#: The reduced energy unit of the family's datasets (see toolkit.conventions).
_E0 = "the model's energy unit (the hopping t with electrons, else the unit of J and B)"


def chirality_frames(frames: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """``S_i . (S_j x S_k)`` per frame and triangle, (F, T)."""
    out = np.empty((frames.shape[0], triangles.shape[0]))
    for f in range(frames.shape[0]):
        scalar_chirality(frames[f], triangles, out[f])
    return out


class SpinDynamicsSolution(tk.Solution):
    """Frames of a spin-dynamics run (F frames of N spins, T triangles).

    ``step`` (F,) step numbers and ``time`` (F,) = step * dt; ``spins`` (F, N, 3);
    ``electronic_energy`` (F,) the electrons' Omega (fixed mu) or F = Omega + mu N (fixed filling),
    0 without electrons; ``classical_energy`` (F,) the Heisenberg and Zeeman terms; ``energy`` (F,)
    their sum; ``magnetisation`` (F, 3) the mean spin; ``chirality`` (F, T) the scalar chirality
    ``S_i . (S_j x S_k)`` of each of the problem's triangles. An unsuccessful run keeps the frames
    saved before it stopped (never NaN).

    Observables of a frame on the problem's periodic lattice (:mod:`.observables`):
    :meth:`structure_factor` (S(q) on the reciprocal grid), :meth:`m_point_weights`,
    :meth:`chern_number` of the electrons' occupied levels and :meth:`hall_conductance`.
    """

    dims = {"step": ("frame",), "time": ("frame",), "spins": ("frame", "site", "component"),
            "electronic_energy": ("frame",), "classical_energy": ("frame",), "energy": ("frame",),
            "magnetisation": ("frame", "component"), "chirality": ("frame", "triangle")}
    coords = {"frame": "time"}
    cf = {"time": _reduced("time", "(hbar/E0)", _E0), "step": index("step number"),
          "spins": attrs("1", "unit spin S_i"),
          "electronic_energy": _reduced("electronic energy (Omega at fixed mu, F at fixed filling)", "E0", _E0),
          "classical_energy": _reduced("Heisenberg and Zeeman energy", "E0", _E0),
          "energy": _reduced("energy", "E0", _E0), "magnetisation": attrs("1", "magnetisation (mean spin)"),
          "chirality": attrs("1", "scalar chirality S_i . (S_j x S_k)"), "site": index("site index"),
          "triangle": index("triangle index")}
    compare_fields = ("spins", "energy")

    step: np.ndarray
    time: np.ndarray
    spins: np.ndarray
    electronic_energy: np.ndarray
    classical_energy: np.ndarray
    energy: np.ndarray
    magnetisation: np.ndarray
    chirality: np.ndarray

    @property
    def mean_abs_chirality(self) -> np.ndarray:
        """Mean |chi| over triangles per frame (F,) (zeros without triangles)."""
        if self.chirality.shape[1] == 0:
            return np.zeros(self.chirality.shape[0])
        return np.abs(self.chirality).mean(axis=1)

    def _frame(self, frame: int) -> np.ndarray:
        F = self.spins.shape[0]
        if not isinstance(frame, (int, np.integer)) or isinstance(frame, bool) or not -F <= frame < F:
            raise IndexError(f"frame = {frame!r} is not allowed: give an integer from {-F} to {F - 1} (this "
                             f"solution has {F} frames)")
        return self.spins[frame]

    def structure_factor(self, frame: int = -1) -> StructureFactor:
        """S(q) = |sum_i S_i e^{i q . r_i}|^2 / N of a frame on the periodic box's reciprocal grid."""
        return structure_factor_of(self.problem, self._frame(frame))

    def m_point_weights(self, frame: int = -1) -> np.ndarray:
        """S(q) at the three M points of the triangular lattice, (3,) (N / 3 each for triple-Q)."""
        sf = self.structure_factor(frame)
        return np.array([sf.at(TRIANGULAR_POINTS[k]) for k in ("M1", "M2", "M3")])

    def chern_number(self, frame: int = -1, twists: int = 6) -> ChernNumber:
        """The Chern number of the electrons' occupied levels for a frame's texture (Fukui-Hatsugai-Suzuki
        on a ``twists x twists`` grid of boundary twists; the model's filling sets the occupation)."""
        return chern_number(self.problem, self._frame(frame), twists=twists)

    def hall_conductance(self, frame: int = -1, twists: int = 6) -> float:
        """sigma_xy = C e^2 / h of a frame's texture, in units of e^2 / h (refused for a metal)."""
        return self.chern_number(frame, twists).hall_conductance

    def domain_lengths(self, order: str = "chirality") -> np.ndarray:
        """ell per frame: the length of the domains of the Z2 ``order`` ("chirality" or
        "magnetisation", the projection on the easy axis) from the half-height of their correlation
        (:func:`.coarsening.correlation_length`; needs the periodic lattice)."""
        from .coarsening import correlation_length, order_field

        problem = self.problem
        return np.array([correlation_length(order_field(problem, self._frame(k), order), problem.lattice_vectors)
                         for k in range(len(self.step))])

    def coarsening(self, order: str = "chirality", window=None):
        """A :class:`.coarsening.Coarsening`: ell per frame and its growth exponent fitted over
        ``window`` = (t_first, t_last) (default: from the first frame after t = 0 to the last frame
        whose ell is below an eighth of the box's shorter side; larger domains feel the box)."""
        from .coarsening import Coarsening, growth_exponent

        ell = self.domain_lengths(order)
        t = np.asarray(self.time, dtype=np.float64)
        if window is None:
            a = self.problem.lattice_vectors
            side = min(self.problem.lattice_shape[0] * np.linalg.norm(a[0]),
                       self.problem.lattice_shape[1] * np.linalg.norm(a[1]))
            small = np.nonzero((t > 0) & (ell < side / 8))[0]
            window = (float(t[small[0]]), float(t[small[-1]])) if small.size else (0.0, 0.0)
        inside = (t >= window[0]) & (t <= window[1])
        z, err = growth_exponent(t[inside], ell[inside])
        return Coarsening(time=t, length=ell, order=order, window=tuple(window), exponent=z, exponent_error=err)

    def dynamic_structure_factor(self, q=None, **options):
        """S(q, omega) of this deterministic run (:func:`.dynamic_structure.dynamic_structure_factor`;
        average several runs by calling that function with a list)."""
        from .dynamic_structure import dynamic_structure_factor

        return dynamic_structure_factor(self, q, **options)

    def plot(self, ax=None, kind: str = "texture"):
        """``kind="texture"`` (default): see below; ``kind="structure_factor"``: the last frame's S(q) map.


        The last frame's spin texture, triangles coloured by chirality and arrows the in-plane spin
        components (with ``ax``: only that picture); without ``ax`` beside it the energy per site and
        the mean |chi| against time (and, when the problem has a periodic lattice, the S(q) map).
        Needs 2-d ``positions`` for the texture."""
        if kind not in ("texture", "structure_factor"):
            raise ValueError(f"kind = {kind!r} is not allowed: give 'texture' or 'structure_factor'")
        if kind == "structure_factor":
            return self.structure_factor(-1).plot(ax)
        from matplotlib.tri import Triangulation

        from toolkit.plotting import DIMENSIONLESS, finish, label, new_axes, reduced

        problem = self.problem
        texture = problem.positions is not None and problem.positions.shape[1] == 2 and len(self.step)
        sq_map = ax is None and problem.lattice_vectors is not None and len(self.step)
        chi = bool(self.chirality.shape[1])
        if ax is None:
            import matplotlib.pyplot as plt

            columns = ["texture"] * bool(texture) + ["sq"] * bool(sq_map)
            mosaic = [columns + ["energy"], columns + ["chirality" if chi else "energy"]]
            fig, named = plt.subplot_mosaic(mosaic, figsize=(5.8 * (len(columns) + 1), 4.6), layout="constrained")
            axes = [named[k] for k in columns] + [named["energy"]]
        else:
            fig, axes = ax.figure, [ax]
        if texture:
            a = axes[0]
            pos, S = problem.positions, self.spins[-1]
            tri = problem.triangles
            if len(tri):
                # draw only triangles that do not wrap around the periodic box
                span = np.ptp(pos[tri], axis=1).max(axis=1)
                keep = span < 2.0
                if np.any(keep):
                    mesh = Triangulation(pos[:, 0], pos[:, 1], tri[keep])
                    art = a.tripcolor(mesh, facecolors=self.chirality[-1][keep], cmap="RdBu_r",
                                      vmin=-0.8, vmax=0.8)
                    fig.colorbar(art, ax=a, label=label("scalar chirality", DIMENSIONLESS))
            arrows = a.quiver(pos[:, 0], pos[:, 1], S[:, 0], S[:, 1], S[:, 2], cmap="viridis", clim=(-1, 1),
                              pivot="middle", scale=1.5, scale_units="xy")
            fig.colorbar(arrows, ax=a, label=label("arrow colour: S_z", DIMENSIONLESS))
            a.set_aspect("equal", adjustable="datalim")
            a.set_title(f"spins at t = {self.time[-1]:.3g} (arrows: in-plane part)")
            a.set_xlabel(label("x", reduced("a")))
            a.set_ylabel(label("y", reduced("a")))
        if sq_map:
            self.structure_factor(-1).plot(axes[1 if texture else 0])
        if ax is None:
            b = axes[-1]
            n = self.spins.shape[1] if self.spins.ndim == 3 else 1
            b.plot(self.time, self.energy / max(n, 1), color="C0")
            b.set_ylabel(label("energy per site", reduced("E₀")))
            b.set_xlabel(label("time t", reduced("ħ/E₀")))
            b.set_title("energy against time")
            if chi:
                c = named["chirality"]
                c.plot(self.time, self.mean_abs_chirality, color="C1")
                c.set_ylabel(label("mean |chirality|", DIMENSIONLESS))
                c.set_xlabel(label("time t", reduced("ħ/E₀")))
                c.set_title("mean |scalar chirality| against time")
            electrons = " with electrons" if problem.model is not None else ""
            finish(fig, f"{n} spins{electrons}, {type(self.solver).__name__} at kT = {problem.temperature:g}")
        return fig
