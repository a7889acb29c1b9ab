"""Problem families register what the CLI needs to know about them: tour cases and spec names.

A family's solver subpackage calls :func:`register_family` once, at import::

    tk.register_family(tk.Family(
        name="tight-binding",
        title="Tight-binding Hamiltonians (KPM)",
        tour=tour_cases,                       # () -> list[tk.TourCase], small and fast
        builders={"lattice_problem": lattice_problem},          # names a [problem] table may use
        components={"RandomVectors": RandomVectors},             # nested objects specs may build
    ))

Problem and solver classes need no registering: ``scalebridge run`` finds every class that
appears in a registered ``_solve``/``_init`` method by its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Family", "TourCase", "register_family", "families"]


@dataclass(frozen=True)
class TourCase:
    """One short run shown by ``scalebridge tour``: a label, a problem, a solver, options."""

    label: str
    problem: object
    solver: object
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Family:
    """What a problem family tells the core: its name, tour cases and spec vocabulary."""

    name: str
    title: str
    tour: Callable[[], list[TourCase]] | None = None
    builders: dict[str, Callable] = field(default_factory=dict)
    components: dict[str, Callable] = field(default_factory=dict)


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Register (or replace) a family under ``family.name``.

    Component classes (dataclasses and enums a spec may build) are registered with
    :func:`toolkit.records.register` too, so that files holding them can be read back.
    """
    import dataclasses
    import enum

    from . import records

    for component in family.components.values():
        if isinstance(component, type) and (dataclasses.is_dataclass(component) or issubclass(component, enum.Enum)):
            records.register(component)
    _FAMILIES[family.name] = family
    return family


def families() -> list[Family]:
    """The registered families, in registration order."""
    return list(_FAMILIES.values())


def load_plugins() -> list[Family]:
    """Import the ``solvers`` package so every family registers its methods and tour.

    ``toolkit`` never imports ``solvers`` statically (imports run toolkit <- problems <-
    solvers); the CLI and the compatibility tests call this to load the installed families.
    """
    import importlib

    importlib.import_module("solvers")
    return families()
