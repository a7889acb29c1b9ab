"""Figure conventions of every ``.plot()`` and ``scalebridge tour`` figure, and their checker.

1. **Title.** Every axes that shows data has a title that says what it shows (or the figure has a
   suptitle that does).
2. **Units.** Axis and colour-bar labels read ``"quantity symbol [unit]"`` (:func:`label`).
   Reduced units say so: ``"time t [reduced: τ]"`` (:func:`reduced`); pure numbers say
   ``[dimensionless]``, tallies ``[count]``. A categorical axis (atoms, features) needs a label but
   no unit.
3. **Atoms by element.** An axis over atoms shows element symbols with their index, ``O1 H2 H3``
   (:func:`atom_labels`), never bare indices.
4. **References.** Where an exact or published result exists (the square lattice's DOS, Ghia,
   Ghia & Shin's cavity profiles, Poiseuille's parabola, a perfect prediction ``y = x``) it is drawn
   in black or grey with a legend entry naming its source.
5. **Layout.** :func:`finish` applies matplotlib's constrained layout; no text is clipped by the
   figure's edge or overlaps other text. :func:`figure_problems` checks 1, 2 and 5 and lists what
   is wrong.

matplotlib is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["label", "reduced", "DIMENSIONLESS", "COUNT", "atom_labels", "new_axes", "finish",
           "figure_problems", "REFERENCE_STYLE"]

DIMENSIONLESS = "dimensionless"
COUNT = "count"
#: Line style of reference curves (exact or published results).
REFERENCE_STYLE = {"color": "k", "ls": "--", "lw": 1.0}
_UNIT = re.compile(r"\[[^\[\]]+\]")
_WORDS = ("reduced", "dimensionless")


def label(quantity: str, unit: str) -> str:
    """``"quantity [unit]"``; ``unit`` must be given (``DIMENSIONLESS`` for pure numbers)."""
    if not isinstance(unit, str) or not unit.strip():
        raise ValueError(f"unit = {unit!r} is not allowed for {quantity!r}: give the unit, "
                         f"'{DIMENSIONLESS}' for a pure number or reduced('...') for reduced units")
    return f"{quantity} [{unit}]"


def reduced(unit: str = "") -> str:
    """A reduced unit, ``"reduced: τ"`` (or ``"reduced"``), for :func:`label`."""
    return f"reduced: {unit}" if unit else "reduced"


def atom_labels(species) -> list[str]:
    """``["O1", "H2", "H3"]``: element symbol and 1-based index of each atom."""
    return [f"{s}{k + 1}" for k, s in enumerate(species)]


def new_axes(ax=None, *, figsize=(6.0, 4.0), ncols: int = 1, nrows: int = 1):
    """``(fig, axes, created)``: the given axes, or a new constrained-layout figure of ``nrows x ncols``.

    ``axes`` is the single axes for a 1 x 1 grid, else a flat list.
    """
    import matplotlib.pyplot as plt

    if ax is not None:
        first = ax[0] if isinstance(ax, (list, tuple, np.ndarray)) else ax
        return first.figure, ax, False
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False)
    flat = list(axes.ravel())
    return fig, (flat[0] if len(flat) == 1 else flat), True


def finish(fig, title: str | None = None):
    """Give ``fig`` a suptitle (if ``title``) and constrained layout (unless it has a layout engine)."""
    if title:
        fig.suptitle(title)
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    return fig


# -- the checker ---------------------------------------------------------------------------------

def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.images or ax.patches)


def _number(text: str) -> bool:
    try:
        float(text.replace("−", "-"))
    except ValueError:
        return text.startswith("$")             # math text: 10^{-4}, 1.5\times10^{3}
    return True


def _categorical(axis) -> bool:
    """An axis whose tick labels are names (atoms, features), not numbers."""
    texts = [t.get_text() for t in _visible_ticklabels(axis)]
    return bool(texts) and not any(_number(t) for t in texts)


def _has_unit(text: str) -> bool:
    return bool(_UNIT.search(text)) or any(w in text.lower() for w in _WORDS)


def _titles(ax) -> str:
    return " ".join(t.get_text() for t in (ax.title, ax._left_title, ax._right_title)).strip()


def _same_place(a, b) -> bool:
    return np.allclose(a.get_position().bounds, b.get_position().bounds, atol=1e-6)


def _visible_ticklabels(axis):
    """The tick labels matplotlib draws: those whose ticks lie inside the view (in scale space)."""
    scale = axis.get_transform()
    lo, hi = sorted(scale.transform(np.asarray(axis.get_view_interval(), dtype=float)))
    span = max(hi - lo, 1e-300)
    out = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        loc = tick.get_loc()
        if loc is None:
            continue
        with np.errstate(all="ignore"):
            where = float(scale.transform(np.array([loc], dtype=float))[0])
        if not np.isfinite(where) or not lo - 1e-9 * span <= where <= hi + 1e-9 * span:
            continue
        for text in (tick.label1, tick.label2):
            if text.get_visible() and text.get_text().strip():
                out.append(text)
    return out


def _texts(fig):
    """(description, artist) of every piece of text drawn on ``fig``."""
    items = []
    for name in ("_suptitle", "_supxlabel", "_supylabel"):
        t = getattr(fig, name, None)
        if t is not None and t.get_visible() and t.get_text().strip():
            items.append((f"figure {name.strip('_')}", t))
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        tag = f"axes {k}" + (" (colour bar)" if _is_colorbar(ax) else "")
        for t in (ax.title, ax._left_title, ax._right_title):
            if t.get_visible() and t.get_text().strip():
                items.append((f"{tag} title {t.get_text()!r}", t))
        if not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():
                continue
            lab = axis.label
            if lab.get_visible() and lab.get_text().strip():
                items.append((f"{tag} {axis.axis_name}label {lab.get_text()!r}", lab))
            for t in _visible_ticklabels(axis):
                items.append((f"{tag} {axis.axis_name} tick {t.get_text()!r}", t))
            off = axis.offsetText
            if off.get_visible() and off.get_text().strip():
                items.append((f"{tag} {axis.axis_name} offset {off.get_text()!r}", off))
        for t in ax.texts:
            if t.get_visible() and t.get_text().strip():
                items.append((f"{tag} text {t.get_text()!r}", t))
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            items.append((f"{tag} legend", legend))
    for legend in fig.legends:
        items.append(("figure legend", legend))
    return items


def figure_problems(fig, *, tolerance: float = 1.0) -> list[str]:
    """What breaks the conventions in ``fig`` (an empty list when nothing does).

    Checks: a title on every axes with data (or a suptitle); an x and y label with a unit (or
    the words reduced/dimensionless) on every visible axis of such axes, unless a shared axes in
    the figure carries it or the axis is categorical; a unit on colour-bar labels; every text
    inside the figure and no two texts overlapping by more than ``tolerance`` pixels. Draws the
    figure (use the Agg back end).
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    suptitle = getattr(fig, "_suptitle", None)
    has_suptitle = suptitle is not None and suptitle.get_text().strip()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        if _is_colorbar(ax):
            cb = ax._colorbar
            long_axis = cb.long_axis if hasattr(cb, "long_axis") else ax.yaxis
            text = long_axis.label.get_text()
            if not _has_unit(text):
                problems.append(f"axes {k} (colour bar): label {text!r} has no unit in [brackets]")
            continue
        if not _has_data(ax):
            continue
        twins = [o for o in axes if o is not ax and not _is_colorbar(o) and _same_place(o, ax)]
        if not (_titles(ax) or has_suptitle or any(_titles(o) for o in twins)):
            problems.append(f"axes {k}: shows data but has no title (and the figure no suptitle)")
        if not ax.axison:
            continue
        for axis, shared in ((ax.xaxis, ax.get_shared_x_axes()), (ax.yaxis, ax.get_shared_y_axes())):
            if not axis.get_visible():
                continue
            name = axis.axis_name
            text = axis.label.get_text()
            siblings = [o for o in shared.get_siblings(ax) if o is not ax]
            sibling_text = [getattr(o, f"{name}axis").label.get_text() for o in siblings]
            if not text.strip():
                if any(_has_unit(t) for t in sibling_text):
                    continue
                problems.append(f"axes {k}: no {name}label")
            elif not _categorical(axis) and not _has_unit(text):
                problems.append(f"axes {k}: {name}label {text!r} has no unit in [brackets]")
    # geometry: inside the figure, no overlaps
    page = fig.bbox
    boxes = []
    for desc, artist in _texts(fig):
        try:
            box = artist.get_window_extent(renderer)
        except (RuntimeError, ValueError):
            continue
        if box.width <= 0 or box.height <= 0:
            continue
        if (box.x0 < page.x0 - tolerance or box.y0 < page.y0 - tolerance or box.x1 > page.x1 + tolerance
                or box.y1 > page.y1 + tolerance):
            problems.append(f"{desc} is clipped by the figure's edge")
        boxes.append((desc, artist, box))
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (da, aa, a), (db, ab, b) = boxes[i], boxes[j]
            if _legend_owns(aa, ab) or _legend_owns(ab, aa):
                continue
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > tolerance and h > tolerance:
                problems.append(f"{da} overlaps {db}")
    return problems


def _legend_owns(legend, artist) -> bool:
    from matplotlib.legend import Legend

    return isinstance(legend, Legend) and artist in legend.texts
