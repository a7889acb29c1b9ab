"""Solver types and their dispatch methods, one subpackage per family.

Importing ``solvers`` imports every family subpackage, which registers its ``_solve`` /
``_init`` methods and its tour with the core. Heavy optional back ends (PySCF, torch
models, dask) are imported inside the functions that need them.
"""

import importlib as _importlib
import pkgutil as _pkgutil

#: The family subpackages found and imported (their registration runs at import).
FAMILIES = tuple(
    _importlib.import_module(f"{__name__}.{_info.name}")
    for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda i: i.name)
    if _info.ispkg and not _info.name.startswith("_")
)
