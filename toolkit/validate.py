"""Field validation and normalisation shared by every ``Problem`` and ``Solver``.

Each helper takes the field's name and value, returns the normalised value (float64 or
complex128 C-contiguous writeable arrays, int64 indices, plain Python scalars) so a numba
kernel compiles once, and raises the error class it is given with a message that names
the field, shows the value and says what is allowed.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from .errors import InvalidProblemError

__all__ = [
    "show",
    "real_array",
    "complex_array",
    "index_array",
    "bool_array",
    "flag",
    "real_scalar",
    "integer",
    "choice",
    "probability",
    "shape_tuple",
]

_Error = type[Exception]


def show(value, limit: int = 60) -> str:
    """A short printable form of ``value`` for error messages (never a whole array)."""
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(error: _Error, name: str, value, allowed: str):
    raise error(f"{name} = {show(value)} is not allowed: {allowed}.")


def _as_array(name, value, dtype, error):
    if isinstance(value, (str, bytes)) or value is None:
        _fail(error, name, value, f"give an array of numbers")
    try:
        arr = np.array(value, dtype=dtype, copy=True, order="C")
    except (TypeError, ValueError):
        _fail(error, name, value, f"give an array convertible to {np.dtype(dtype).name}")
    return arr


def _check_shape(name, arr, ndim, shape, error):
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        _fail(error, name, arr, f"expected {ndim}-dimensional array, got {arr.ndim}-dimensional")
    if shape is not None:
        if len(shape) != arr.ndim or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = tuple("any" if s is None else s for s in shape)
            _fail(error, name, arr, f"expected shape {want}, got {arr.shape}")


def real_array(name: str, value, *, ndim=None, shape=None, finite: bool = True,
               lower: float | None = None, upper: float | None = None,
               error: _Error = InvalidProblemError) -> np.ndarray:
    """A float64, C-contiguous, writeable copy of ``value``; checks shape, finiteness, bounds."""
    try:
        complex_values = np.iscomplexobj(value)
    except (TypeError, ValueError):  # ragged nested lists
        _fail(error, name, value, "give a rectangular array of numbers (rows of equal length)")
    if complex_values:
        _fail(error, name, value, "values must be real (got complex numbers)")
    arr = _as_array(name, value, np.float64, error)
    _check_shape(name, arr, ndim, shape, error)
    if finite and not np.all(np.isfinite(arr)):
        _fail(error, name, arr, "every value must be finite (found NaN or Inf)")
    if lower is not None and arr.size and arr.min() < lower:
        _fail(error, name, arr, f"every value must be >= {lower} (minimum is {arr.min():g})")
    if upper is not None and arr.size and arr.max() > upper:
        _fail(error, name, arr, f"every value must be <= {upper} (maximum is {arr.max():g})")
    return arr


def complex_array(name: str, value, *, ndim=None, shape=None, finite: bool = True,
                  error: _Error = InvalidProblemError) -> np.ndarray:
    """A complex128, C-contiguous, writeable copy of ``value``; checks shape and finiteness."""
    arr = _as_array(name, value, np.complex128, error)
    _check_shape(name, arr, ndim, shape, error)
    if finite and not np.all(np.isfinite(arr)):
        _fail(error, name, arr, "every value must be finite (found NaN or Inf)")
    return arr


def index_array(name: str, value, *, ndim=None, shape=None, lower: int | None = 0,
                upper: int | None = None, error: _Error = InvalidProblemError) -> np.ndarray:
    """An int64 C-contiguous copy; refuses non-integral values and out-of-range indices."""
    raw = _as_array(name, value, None, error)
    if raw.size and raw.dtype.kind not in "iub":
        if raw.dtype.kind != "f" or not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            _fail(error, name, raw, "values must be integers")
        if np.any(np.abs(raw) >= 2.0**53):
            _fail(error, name, raw, "values must be integers of magnitude below 2**53 (floats above it "
                  "are not exact)")
    if raw.size and raw.dtype.kind == "u" and raw.max() >= 2**63:
        _fail(error, name, raw, "values must be below 2**63")
    arr = np.ascontiguousarray(raw, dtype=np.int64)
    _check_shape(name, arr, ndim, shape, error)
    if lower is not None and arr.size and arr.min() < lower:
        _fail(error, name, arr, f"every index must be >= {lower} (minimum is {arr.min()})")
    if upper is not None and arr.size and arr.max() >= upper:
        _fail(error, name, arr, f"every index must be < {upper} (maximum is {arr.max()})")
    return arr


def bool_array(name: str, value, *, shape=None, error: _Error = InvalidProblemError) -> np.ndarray:
    """A boolean C-contiguous copy; only bool arrays (or 0/1 integer arrays) are accepted."""
    raw = _as_array(name, value, None, error)
    if raw.dtype != np.bool_:
        if raw.dtype.kind not in "iu" or (raw.size and not np.all((raw == 0) | (raw == 1))):
            _fail(error, name, raw, "give a boolean mask (True/False values)")
    arr = np.ascontiguousarray(raw, dtype=np.bool_)
    _check_shape(name, arr, None, shape, error)
    return arr


def flag(name: str, value, *, error: _Error = InvalidProblemError) -> bool:
    """A Python bool; only ``True``/``False`` (or NumPy booleans) are accepted, never truthy strings."""
    if not isinstance(value, (bool, np.bool_)):
        _fail(error, name, value, "give True or False")
    return bool(value)


def real_scalar(name: str, value, *, lower: float | None = None, upper: float | None = None,
                lower_open: bool = False, upper_open: bool = False, allow_none: bool = False,
                error: _Error = InvalidProblemError) -> float | None:
    """A finite Python float within the stated bounds (open or closed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        _fail(error, name, value, "give a real number")
    x = float(value)
    if not np.isfinite(x):
        _fail(error, name, value, "give a finite number")
    if lower is not None and (x < lower or (lower_open and x == lower)):
        _fail(error, name, value, f"must be {'>' if lower_open else '>='} {lower}")
    if upper is not None and (x > upper or (upper_open and x == upper)):
        _fail(error, name, value, f"must be {'<' if upper_open else '<='} {upper}")
    return x


def integer(name: str, value, *, lower: int | None = None, upper: int | None = None,
            allow_none: bool = False, error: _Error = InvalidProblemError) -> int | None:
    """A Python int within ``[lower, upper]``; floats with integral values are refused."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        _fail(error, name, value, "give an integer")
    n = int(value)
    if lower is not None and n < lower:
        _fail(error, name, value, f"must be >= {lower}")
    if upper is not None and n > upper:
        _fail(error, name, value, f"must be <= {upper}")
    return n


def choice(name: str, value, allowed: Iterable, *, error: _Error = InvalidProblemError):
    """``value`` if it is one of ``allowed``; otherwise an error listing the choices."""
    allowed = tuple(allowed)
    try:
        ok = bool(value in allowed) and not isinstance(value, np.ndarray)
    except (TypeError, ValueError):  # unhashable or array-valued comparisons
        ok = False
    if not ok:
        _fail(error, name, value, "choose one of " + ", ".join(repr(a) for a in allowed))
    return value


def probability(name: str, value, *, error: _Error = InvalidProblemError) -> float:
    """A float in [0, 1]."""
    return real_scalar(name, value, lower=0.0, upper=1.0, error=error)


def shape_tuple(name: str, value, *, ndim: int | Sequence[int] | None = None, minimum: int = 1,
                error: _Error = InvalidProblemError) -> tuple[int, ...]:
    """A tuple of positive ints (a grid shape), with an allowed number of dimensions."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list, np.ndarray)) or len(value) == 0:
        _fail(error, name, value, "give a tuple of grid sizes, e.g. (64, 64)")
    out = tuple(integer(f"{name}[{i}]", v, lower=minimum, error=error) for i, v in enumerate(value))
    if ndim is not None and len(out) not in np.atleast_1d(ndim):
        _fail(error, name, value, f"expected {ndim} dimensions, got {len(out)}")
    return out
