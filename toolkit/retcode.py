"""Return codes: how a solve ended.

Modelled on SciMLBase's ``ReturnCode``: a run never hands back NaN fields as if they
were results; it ends with a code whose meaning tells the user what to change.
"""

from __future__ import annotations

import enum

from . import records

__all__ = ["ReturnCode"]


@records.register
class ReturnCode(enum.Enum):
    """How a solve or an integration ended.

    ``Success``            reached the end (or converged) normally.
    ``Terminated``         a callback stopped the run early on purpose.
    ``MaxIters``           an iterative method hit its iteration budget before converging.
    ``Unstable``           the state diverged (NaN, Inf, unphysical values); the solution keeps
                           the last good state and the step where it happened.
    ``ConvergenceFailure`` an iteration stalled or went the wrong way.
    ``Failure``            anything else went wrong; the message says what.
    """

    Success = "Success"
    Terminated = "Terminated"
    MaxIters = "MaxIters"
    Unstable = "Unstable"
    ConvergenceFailure = "ConvergenceFailure"
    Failure = "Failure"

    @property
    def successful(self) -> bool:
        """``True`` for ``Success`` and ``Terminated`` (a deliberate early stop)."""
        return self in (ReturnCode.Success, ReturnCode.Terminated)

    @property
    def advice(self) -> str:
        """What a user should usually try when a run ends with this code."""
        return _ADVICE[self]

    def __str__(self) -> str:
        return self.value


_ADVICE = {
    ReturnCode.Success: "nothing to do.",
    ReturnCode.Terminated: "a callback stopped the run; remove it or loosen its condition to run on.",
    ReturnCode.MaxIters: "raise the solver's iteration budget or loosen its tolerance.",
    ReturnCode.Unstable: "reduce the time step, raise the resolution or damping, or check the initial state.",
    ReturnCode.ConvergenceFailure: "start closer to the solution, or use a more robust solver.",
    ReturnCode.Failure: "read the message; it names the failing part.",
}
