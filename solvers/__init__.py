"""Solver types and their dispatch methods, one subpackage per family.

Importing ``solvers`` imports every family subpackage, which registers its ``_solve`` /
``_init`` methods and its tour with the core. Heavy optional back ends (PySCF, torch
models, dask) are imported inside the functions that need them.

Every family subpackage's public names (its ``__all__``: solver, solution and component types,
builders) are re-exported here, so ``solvers.KPM`` or ``solvers.BGK`` work. No two families
may export one name for two different objects: such a name is left out of this namespace
(listed in :data:`AMBIGUOUS`), reaching it raises an ``AttributeError`` naming the subpackages,
and ``tests/test_namespace.py`` fails while any exists.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from problems import _merge_exports

#: The family subpackages found and imported (their registration runs at import).
FAMILIES = tuple(
    _importlib.import_module(f"{__name__}.{_info.name}")
    for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda i: i.name)
    if _info.ispkg and not _info.name.startswith("_")
)

_exports, AMBIGUOUS = _merge_exports(
    FAMILIES, reserved=("FAMILIES", "AMBIGUOUS", *(m.__name__.rpartition(".")[2] for m in FAMILIES)))
globals().update(_exports)
__all__ = ["FAMILIES", *sorted(_exports)]


def __getattr__(name):
    if name in AMBIGUOUS:
        where = " and ".join(f"{module}.{name}" for module in AMBIGUOUS[name])
        raise AttributeError(f"solvers.{name} is ambiguous: {where} are different objects; "
                             f"import it from its family (e.g. from {AMBIGUOUS[name][0]} import {name})")
    raise AttributeError(f"module 'solvers' has no attribute {name!r}")
