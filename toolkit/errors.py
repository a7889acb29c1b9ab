"""Exceptions raised by scalebridge.

Every error says what went wrong *and* what to do about it. The classes subclass the
built-in exception a Python user would expect (a bad field is a ``ValueError``, a
problem/solver pair with no method is a ``TypeError``) so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ScalebridgeError",
    "InvalidProblemError",
    "InvalidSolverError",
    "InvalidOptionError",
    "IncompatiblePairError",
    "UnstableError",
    "FileFormatError",
    "SpecError",
]


class ScalebridgeError(Exception):
    """Base class of every error scalebridge raises on purpose."""


class InvalidProblemError(ScalebridgeError, ValueError):
    """A problem field has a value the problem cannot accept.

    The message names the field, the value received and what is allowed.
    """


class InvalidSolverError(ScalebridgeError, ValueError):
    """A solver hyperparameter has a value the solver cannot accept."""


class InvalidOptionError(ScalebridgeError, TypeError):
    """``tk.solve``/``tk.init`` received a keyword option the method does not take."""


class IncompatiblePairError(ScalebridgeError, TypeError):
    """No method is registered for this (problem, solver) pair."""


class UnstableError(ScalebridgeError, RuntimeError):
    """A run diverged and ``strict=True`` asked for an exception instead of a return code."""

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step


class FileFormatError(ScalebridgeError, ValueError):
    """A file is not a scalebridge file, or it is corrupt or truncated."""


class SpecError(ScalebridgeError, ValueError):
    """A TOML run specification has an unknown key, a wrong type or a bad value."""
