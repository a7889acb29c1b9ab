"""The frozen-dataclass machinery shared by ``Problem`` and ``Solver``.

Subclasses are turned into frozen, keyword-or-positional dataclasses automatically (no
``@dataclass`` decorator needed, as in equinox). ``_validate`` normalises and checks fields,
setting normalised values with ``self._set``. ``__repr__`` is compact: arrays show as
``float64[512,512]``, never their values.

Misspelled names
----------------
A constructor called with a keyword that is not a field (``KPM(ordr=10)``), with a required
field missing, or with too many positional arguments raises an error that names the class,
the unknown or missing field, the closest valid names ("Did you mean order?", from
:func:`difflib.get_close_matches`) and all the fields. Its class is the struct's own error
(:class:`InvalidProblemError` for a problem, :class:`InvalidSolverError` for a solver, both
``ValueError``) *and* ``TypeError``: :class:`UnknownProblemFieldError`,
:class:`UnknownSolverFieldError` or, for any other struct, :class:`UnknownFieldError`. So the
project's convention (a bad problem is an ``InvalidProblemError``, ``except ValueError`` catches
it) holds, and code written for the plain ``TypeError`` Python used to raise keeps working.
:func:`close_matches` and :func:`did_you_mean` give the same hints to the rest of the toolkit
(``tk.solve`` options, specs).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools

import numpy as np

from . import records
from .errors import InvalidProblemError, InvalidSolverError, ScalebridgeError


def close_matches(name, candidates, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The names among ``candidates`` closest to ``name``, best first (case-insensitive).

    :func:`difflib.get_close_matches` on lower-cased names (so ``"kmp"`` finds ``"KPM"``), then any
    candidate that starts with ``name`` (three characters or more: ``"square"`` finds
    ``"square_lattice"``). At most ``n`` names; none when ``name`` is not a string.
    """
    if not isinstance(name, str) or not name:
        return []
    lowered: dict[str, list[str]] = {}
    for candidate in candidates:
        if isinstance(candidate, str):
            lowered.setdefault(candidate.lower(), []).append(candidate)
    key = name.lower()
    hits = difflib.get_close_matches(key, list(lowered), n=n, cutoff=cutoff)
    if len(key) >= 3:
        hits += sorted(c for c in lowered if c.startswith(key) and c not in hits)
    found = [original for hit in hits for original in lowered[hit]]
    return list(dict.fromkeys(found))[:n]


def did_you_mean(name, candidates, n: int = 3, say_name: bool = False) -> str:
    """``" Did you mean X?"`` (or ``" Did you mean X or Y?"``) for the closest candidates; ``""`` if none.

    ``say_name=True`` gives ``" For 'nme', did you mean X?"`` (when several names are wrong at once).
    """
    hits = close_matches(name, candidates, n=n)
    if not hits:
        return ""
    shown = ", ".join(hits[:-1]) + " or " + hits[-1] if len(hits) > 1 else hits[0]
    return f" For {name!r}, did you mean {shown}?" if say_name else f" Did you mean {shown}?"


class UnknownFieldError(ScalebridgeError, ValueError, TypeError):
    """A struct was built with a keyword that is not one of its fields (or without a required one).

    A ``ValueError`` like every bad-field error of the project, and a ``TypeError`` like the error
    Python raises for an unexpected keyword argument, so callers written for either keep working.
    """


class UnknownProblemFieldError(InvalidProblemError, UnknownFieldError):
    """A problem was built with an unknown field name, or without a required field."""


class UnknownSolverFieldError(InvalidSolverError, UnknownFieldError):
    """A solver was built with an unknown hyperparameter name, or without a required one."""


def unknown_field_error_class(error: type) -> type:
    """The error raised for an unknown/missing field of a struct whose field errors are ``error``."""
    if isinstance(error, type) and issubclass(error, InvalidProblemError):
        return UnknownProblemFieldError
    if isinstance(error, type) and issubclass(error, InvalidSolverError):
        return UnknownSolverFieldError
    return UnknownFieldError


def init_field_names(cls) -> list[str]:
    """The names a struct's constructor takes, in order."""
    return [f.name for f in dataclasses.fields(cls) if f.init]


def unknown_fields_error(cls, unknown, verb: str | None = None) -> UnknownFieldError:
    """The error for ``unknown`` keyword names given to ``cls`` (its constructor, or ``verb`` such as remake).

    ``"KPM has no field ordr; its fields are: order, kernel, ... Did you mean order?"``: the unknown
    names, all the fields, then the closest valid name of each unknown one.
    """
    names = init_field_names(cls)
    unknown = list(unknown)
    where = f"{verb}: " if verb else ""
    hints = "".join(did_you_mean(name, names, say_name=len(unknown) > 1) for name in unknown)
    text = (f"{where}{cls.__name__} has no field {', '.join(map(str, unknown))}; "
            f"its fields are: {', '.join(names) or 'none'}.{hints}")
    return unknown_field_error_class(getattr(cls, "_error", ValueError))(text)


def _bad_call(cls, args: tuple, kwargs: dict) -> UnknownFieldError | None:
    """The error for a constructor call whose arguments do not fit the fields, or None if they fit."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = [f.name for f in fields]
    error = unknown_field_error_class(getattr(cls, "_error", ValueError))
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        return unknown_fields_error(cls, unknown)
    if len(args) > len(names):
        return error(f"{cls.__name__} takes at most {len(names)} positional arguments ({', '.join(names)}), "
                     f"got {len(args)}; pass fields by name, e.g. {cls.__name__}({names[0]}=...)" if names else
                     f"{cls.__name__} takes no arguments, got {len(args)}")
    given = set(names[:len(args)])
    twice = sorted(given & set(kwargs))
    if twice:
        return error(f"{cls.__name__} got {', '.join(map(repr, twice))} both by position and by name; give each "
                     "field once")
    missing = [f.name for f in fields if f.name not in given and f.name not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        return error(f"{cls.__name__} needs field {', '.join(missing)}; its fields are: {', '.join(names)}")
    return None


def _checked_init(cls, original):
    """Wrap the dataclass ``__init__`` of ``cls``: argument mistakes become errors with advice."""
    names = frozenset(init_field_names(cls))

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        if not names.issuperset(kwargs):
            raise _bad_call(cls, args, kwargs)
        try:
            original(self, *args, **kwargs)
        except TypeError:
            error = _bad_call(cls, args, kwargs)   # only argument-binding mistakes are rewritten
            if error is None:
                raise
            raise error from None

    return __init__


def summarize(value) -> str:
    """Compact text for a field value: shapes and scalars, never whole arrays."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype.name}[{','.join(map(str, value.shape))}]"
    if hasattr(value, "nnz") and hasattr(value, "shape"):
        return f"{type(value).__name__}[{','.join(map(str, value.shape))}, nnz={value.nnz}]"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (tuple, list)) and len(value) > 8:
        return f"{type(value).__name__}(len={len(value)})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return repr(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _values_equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if hasattr(a, "nnz") or hasattr(b, "nnz"):
        try:
            return a.shape == b.shape and abs(a - b).sum() == 0
        except Exception:
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_values_equal, a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


_SCALARS = {"bool": bool, "int": int, "float": float, "str": str}


def _scalar_annotation(annotation) -> tuple[type | None, bool]:
    """(bool/int/float/str or None, whether None is allowed) for a field annotation.

    Handles classes and the strings of postponed annotations: ``float``, ``float | None``,
    ``Optional[int]``. Anything else (arrays, tuples, components) is left to ``_validate``.
    """
    if isinstance(annotation, str):
        text = annotation.replace(" ", "")
        if text.startswith("Optional[") and text.endswith("]"):
            text = text[9:-1] + "|None"
        names = text.split("|")
    else:
        args = getattr(annotation, "__args__", None) if type(annotation).__name__ in {"UnionType", "_UnionGenericAlias"} \
            else None
        names = [getattr(a, "__name__", str(a)) for a in (args or (annotation,))]
        names = ["None" if n == "NoneType" else n for n in names]
    optional = "None" in names
    kinds = [n for n in names if n != "None"]
    if len(kinds) == 1 and kinds[0] in _SCALARS:
        return _SCALARS[kinds[0]], optional
    return None, optional


def _check_scalar(kind: type, name: str, value, error):
    """The value of a field annotated bool/int/float/str, normalised, or an error naming the field."""
    from numbers import Integral, Real

    from .validate import _fail

    if kind is bool:
        if not isinstance(value, (bool, np.bool_)):
            _fail(error, name, value, "give True or False")
        return bool(value)
    if kind is str:
        if not isinstance(value, str):
            _fail(error, name, value, "give a string")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        _fail(error, name, value, "give an integer" if kind is int else "give a real number")
    if kind is int:
        if not isinstance(value, Integral):
            _fail(error, name, value, "give an integer")
        return int(value)
    if value != value:
        _fail(error, name, value, "give a number, not NaN")
    return float(value)


class FrozenStruct:
    """Base of Problem and Solver: frozen dataclass, validated on construction.

    Fields annotated ``bool``, ``int``, ``float`` or ``str`` (optionally ``| None``) are checked
    and normalised automatically before ``_validate`` runs: a string where a number belongs, a
    NaN, or a float where an integer belongs is refused with an error naming the field.
    """

    #: The error raised for a bad field (Problem: InvalidProblemError; Solver: InvalidSolverError).
    _error = ValueError

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own_init = "__init__" in cls.__dict__
        dataclasses.dataclass(cls, frozen=True, repr=False, eq=False)
        if not own_init:  # the generated __init__: unknown, missing or extra arguments get advice
            cls.__init__ = _checked_init(cls, cls.__dict__["__init__"])
        records.register(cls)
        checks = []
        for field in dataclasses.fields(cls):
            if not field.init:
                continue
            kind, optional = _scalar_annotation(field.type)
            if kind is not None:
                checks.append((field.name, kind, optional or field.default is None))
        cls._scalar_checks = tuple(checks)

    def __post_init__(self):
        for name, kind, optional in self._scalar_checks:
            value = getattr(self, name)
            if value is None and optional:
                continue
            object.__setattr__(self, name, _check_scalar(kind, name, value, self._error))
        self._validate()

    def _validate(self) -> None:
        """Check and normalise fields. Subclasses override and call ``self._set``."""

    def _set(self, name: str, value) -> None:
        """Store a normalised value in a frozen field (for use inside ``_validate``)."""
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        parts = [f"{f.name}={summarize(getattr(self, f.name))}"
                 for f in dataclasses.fields(self) if f.repr and f.init]
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return all(_values_equal(getattr(self, f.name), getattr(other, f.name))
                   for f in dataclasses.fields(self))

    def __hash__(self) -> int:
        # Consistent with the structural __eq__: equal structs share a type, hence a hash.
        return hash(type(self))

    def parameters(self) -> dict:
        """The constructor fields as a dict (arrays included, by reference)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
