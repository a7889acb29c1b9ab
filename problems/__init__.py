"""Problem types, one module per family: data and validation, no numerics.

Imports run one way: ``problems`` imports only ``toolkit``.

Every family module's public names (its ``__all__``) are re-exported here, so tutorials can
write ``problems.TightBinding`` or ``problems.LatticeFluid``. No two families may export one
name for two different objects: such a name is left out of this namespace (listed in
:data:`AMBIGUOUS`) and reaching it raises an ``AttributeError`` that names the family modules to
import it from; ``tests/test_namespace.py`` fails while any exists.
"""

import importlib as _importlib
import pkgutil as _pkgutil
import types as _types


def _merge_exports(modules, reserved=()) -> tuple[dict, dict]:
    """The public names of ``modules`` (each one's ``__all__``, submodules excluded).

    Returns ``(exports, ambiguous)``: name -> object for names that mean one object, and
    name -> the modules that export it for names that mean different objects or that are
    ``reserved`` (the package's own names: its submodules, its constants).
    """
    seen: dict[str, list] = {name: [("the package itself", None)] for name in reserved}
    for module in modules:
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, _types.ModuleType):
                continue
            seen.setdefault(name, []).append((module.__name__, obj))
    exports, ambiguous = {}, {}
    for name, found in seen.items():
        if name in reserved:
            if len(found) > 1:
                ambiguous[name] = tuple(module for module, _ in found)
        elif all(obj is found[0][1] for _, obj in found):
            exports[name] = found[0][1]
        else:
            ambiguous[name] = tuple(module for module, _ in found)
    return exports, ambiguous


#: The family modules, imported (data and validation only: numpy/scipy, no solvers).
FAMILY_MODULES = tuple(
    _importlib.import_module(f"{__name__}.{_info.name}")
    for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda i: i.name)
    if not _info.ispkg and not _info.name.startswith("_")
)

_exports, AMBIGUOUS = _merge_exports(
    FAMILY_MODULES, reserved=("FAMILY_MODULES", "AMBIGUOUS", *(m.__name__.rpartition(".")[2] for m in FAMILY_MODULES)))
globals().update(_exports)
__all__ = sorted(_exports)


def __getattr__(name):
    if name in AMBIGUOUS:
        where = " and ".join(f"{module}.{name}" for module in AMBIGUOUS[name])
        raise AttributeError(f"problems.{name} is ambiguous: {where} are different objects; "
                             f"import it from its family module (e.g. from {AMBIGUOUS[name][0]} import {name})")
    raise AttributeError(f"module 'problems' has no attribute {name!r}")
