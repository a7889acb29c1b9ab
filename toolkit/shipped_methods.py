"""Methods a dask worker cannot import, carried with each member and registered there.

A dask worker imports ``toolkit`` and the installed families, never the script that started
the ensemble. Classes defined in that script (``__main__``) reach the worker by value, through
cloudpickle, but the ``@dispatch`` registrations that ran when the script ran did not run
there, so every member failed with "no method to solve Oscillator with Verlet".

:func:`pack` collects the methods of ``_solve`` and ``_init`` whose code lives where a worker
cannot import it by name: ``__main__`` (a script, a notebook), a module made at run time, or
a module registered with ``cloudpickle.register_pickle_by_value``. A :class:`Shipment` holds
them as ``(generic function name, implementation, signature types, varargs, precedence)``;
cloudpickle sends each implementation by value together with the classes it names, and
:func:`install` registers them on the worker with the same signature before the member is
solved. cloudpickle gives a class sent by value one identity per worker process (it tracks
dynamic classes by id), so the methods are registered once per worker and shipment token,
and a member's problem, solver and solution are instances of the registered classes.

Methods of importable modules are not shipped: the scheduler and the workers import them by
name, like the client did. :func:`modules_named` lists the modules a pickled member names and
:func:`missing_modules`, run on the cluster, those it cannot import, so that a module the
cluster lacks is refused before anything runs, with :func:`import_advice`.
"""

from __future__ import annotations

import importlib.util
import pickletools
import sys
import threading
import uuid

__all__ = ["Shipment", "pack", "install", "by_value_module", "import_advice", "modules_named",
           "missing_modules"]

_PROCESS = uuid.uuid4().hex[:12]  # tells apart shipments of different client processes
_installed: set[str] = set()      # tokens registered in this (worker) process
_lock = threading.Lock()


def by_value_module(name: str | None) -> bool:
    """Whether code of module ``name`` can only reach another process by value."""
    if name in (None, "__main__", "__mp_main__"):
        return True
    module = sys.modules.get(name)
    if module is None or getattr(module, "__spec__", None) is None:
        return True  # made at run time (exec, a notebook cell, types.ModuleType)
    try:
        import cloudpickle

        return name in cloudpickle.list_registry_pickle_by_value()
    except (ImportError, AttributeError):
        return False


class Shipment:
    """The by-value methods of ``_solve`` and ``_init`` and a token naming this set of them."""

    def __init__(self, methods: list[tuple]):
        self.methods = methods
        names = ",".join(f"{name}:{id(impl)}:{types!r}" for name, impl, types, _, _ in methods)
        self.token = f"{_PROCESS}:{hash(names)}"

    def __bool__(self) -> bool:
        return bool(self.methods)

    def describe(self) -> str:
        """``_solve(Oscillator, Analytic), _init(Oscillator, Verlet)``: what is shipped."""
        return ", ".join(f"{name}({', '.join(getattr(t, '__name__', str(t)) for t in types)})"
                         for name, _, types, _, _ in self.methods)


def pack() -> Shipment:
    """The registered methods a worker cannot import (empty when every method is importable)."""
    from plum import Missing

    from . import dispatch as dispatch_module

    methods, seen = [], set()
    for name in ("_solve", "_init"):
        for method in getattr(dispatch_module, name).methods:
            impl = method.implementation
            if not by_value_module(getattr(impl, "__module__", None)):
                continue
            signature = method.signature
            varargs = None if signature.varargs is Missing else signature.varargs
            key = (name, id(impl), tuple(signature.types), varargs is None)
            if key in seen:
                continue
            seen.add(key)
            methods.append((name, impl, tuple(signature.types), varargs, signature.precedence))
    return Shipment(methods)


def install(shipment: Shipment | None) -> None:
    """Register ``shipment``'s methods in this process, once per token (thread safe)."""
    if not shipment:
        return
    with _lock:
        if shipment.token in _installed:
            return
        import plum

        from . import dispatch as dispatch_module

        for name, impl, types, varargs, precedence in shipment.methods:
            extra = {} if varargs is None else {"varargs": varargs}
            signature = plum.Signature(*types, precedence=precedence, **extra)
            getattr(dispatch_module, name).register(impl, signature)
        _installed.add(shipment.token)


def import_advice(exc: BaseException) -> str:
    """Advice for a member that the scheduler or a worker could not unpickle (a module it lacks)."""
    module = getattr(exc, "name", None)
    what = f"module {module!r}" if module else "a module the member names"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (f"{type(exc).__name__}: {first}. The dask cluster cannot import {what}, where the member's "
            "problem, solver or method is defined: install it where the scheduler and the workers run "
            "(pip install, or client.upload_file for one file), or send its code with the members by calling "
            f"cloudpickle.register_pickle_by_value({module or 'module'}) before solving")


def modules_named(payload: bytes) -> list[str]:
    """Modules a pickle imports by name (its ``GLOBAL`` / ``STACK_GLOBAL`` opcodes), sorted.

    Modules that travel by value (:func:`by_value_module`) are left out.
    """
    strings = ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8")
    memo, pushed, names = {}, [], set()
    for opcode, arg, _ in pickletools.genops(payload):
        name = opcode.name
        if name in strings:
            pushed.append(arg)
        elif name == "MEMOIZE":  # stores the top of the stack, pushes nothing
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            pushed.append(memo.get(int(arg)))
        elif name == "STACK_GLOBAL":
            if len(pushed) >= 2 and isinstance(pushed[-2], str):
                names.add(pushed[-2])
            pushed.append(None)
        else:
            if name in ("GLOBAL", "INST"):
                names.add(str(arg).split(" ")[0])
            pushed.append(None)
    return sorted(n for n in names if not by_value_module(n))


def missing_modules(names: list[str]) -> list[str]:
    """Of ``names``, the modules this process cannot import (run on the cluster's processes)."""
    missing = []
    for name in names:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing
