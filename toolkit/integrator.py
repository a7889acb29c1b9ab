"""``Integrator``: the mutable state of a time problem being stepped.

``tk.init(problem, solver)`` returns one; ``step(n)``, ``run(until=...)``, iteration,
callbacks, a progress bar and atomic checkpoints are provided here once for every family.

Contract for subclasses
-----------------------
``_advance(n) -> int``
    Advance exactly ``n`` steps from ``self.step_index`` and return ``n``; if the state
    diverges, stop at the last good state and return how many steps succeeded (set
    ``self.message`` to say what diverged). The result must not depend on how a run is
    cut into ``_advance`` calls: draw random numbers per step, save frames by global step.
``_state() -> dict`` / ``_load_state(state)``
    Everything that evolves (fields, saved frames, RNG state as ``bit_generator.state``),
    as arrays, numbers, strings, lists and dicts. Resuming from it must reproduce the
    uninterrupted run bit for bit.
``solution() -> Solution``
    The family's solution from the current state; use :meth:`_common` for the shared fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import io
from .errors import FileFormatError, InvalidOptionError, UnstableError
from .progress import progress_bar
from .retcode import ReturnCode
from .validate import integer, real_scalar

__all__ = ["Integrator", "Callback", "StopWhen", "SaveEvery", "LogEvery", "resume"]


@dataclass
class Callback:
    """Call ``fn(integrator)`` every ``every`` steps. ``integrator.terminate()`` stops the run."""

    fn: Callable
    every: int = 1

    def __post_init__(self):
        self.every = integer("every", self.every, lower=1, error=InvalidOptionError)

    def __call__(self, integrator) -> None:
        self.fn(integrator)


class StopWhen(Callback):
    """Stop the run (``ReturnCode.Terminated``) once ``condition(integrator)`` is true."""

    def __init__(self, condition: Callable, every: int = 1, message: str = "stop condition met"):
        def check(integ):
            if condition(integ):
                integ.terminate(message)
        super().__init__(check, every)


class SaveEvery(Callback):
    """Record ``value(integrator)`` every ``every`` steps into ``.steps`` and ``.values``."""

    def __init__(self, every: int, value: Callable):
        self.steps: list[int] = []
        self.values: list = []

        def save(integ):
            self.steps.append(integ.step_index)
            self.values.append(value(integ))
        super().__init__(save, every)


class LogEvery(Callback):
    """Log ``message(integrator)`` (default: the step) with :mod:`logging` every ``every`` steps."""

    def __init__(self, every: int, message: Callable | None = None, logger: str = "scalebridge"):
        import logging

        log = logging.getLogger(logger)

        def emit(integ):
            log.info(message(integ) if message else f"step {integ.step_index}/{integ.total_steps}")
        super().__init__(emit, every)


class Integrator:
    """Base class of every family's integrator (see the module docstring for the contract)."""

    def __init__(self, problem, solver):
        self.problem = problem
        self.solver = solver
        self.step_index = 0
        self.retcode: ReturnCode | None = None
        self.message = ""
        self.stats = {"wall_time": 0.0, "steps": 0}
        self._options: dict = {}
        self._cleaned_for = None   # the checkpoint path whose stale temporary files were removed
        self.configure()

    # -- options ---------------------------------------------------------------------
    def configure(self, *, progress: bool = True, callbacks=None, checkpoint=None,
                  checkpoint_every: int | None = None, checkpoint_seconds: float | None = None,
                  strict: bool = False) -> "Integrator":
        """Set the run options (``tk.init`` passes its integrator options here)."""
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise InvalidOptionError(f"callbacks must be tk.Callback objects, got {type(cb).__name__}; "
                                         "wrap a function as tk.Callback(fn, every=N)")
        if (checkpoint_every or checkpoint_seconds) and checkpoint is None:
            raise InvalidOptionError("checkpoint_every/checkpoint_seconds need checkpoint=PATH to write to")
        self.progress = bool(progress)
        self.callbacks = list(callbacks)
        self.checkpoint_path = Path(checkpoint) if checkpoint is not None else None
        self.checkpoint_every = integer("checkpoint_every", checkpoint_every, lower=1, allow_none=True,
                                        error=InvalidOptionError)
        self.checkpoint_seconds = real_scalar("checkpoint_seconds", checkpoint_seconds, lower=0,
                                              lower_open=True, allow_none=True, error=InvalidOptionError)
        self.strict = bool(strict)
        return self

    # -- what subclasses provide -------------------------------------------------------
    @property
    def total_steps(self) -> int:
        """Steps of a full run (the problem's ``steps``)."""
        return self.problem.total_steps

    def _advance(self, n: int) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_state(self, state: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def solution(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _common(self) -> dict:
        """The fields every Solution shares, for subclasses' ``solution()``."""
        retcode = self.retcode or (ReturnCode.Success if self.done else ReturnCode.Terminated)
        message = self.message or ("" if retcode is ReturnCode.Success
                                   else f"stopped at step {self.step_index} of {self.total_steps}")
        return dict(problem=self.problem, solver=self.solver, retcode=retcode, message=message,
                    stats=dict(self.stats))

    # -- stepping ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """Whether the run has ended (all steps done, terminated, or unstable)."""
        return self.retcode is not None or self.step_index >= self.total_steps

    def terminate(self, message: str = "terminated by a callback") -> None:
        """Stop the run at the current step with ``ReturnCode.Terminated`` (for callbacks)."""
        self.retcode = ReturnCode.Terminated
        self.message = message

    def step(self, n: int = 1) -> "Integrator":
        """Advance ``n`` steps (fewer if the run ends first), running due callbacks and checkpoints."""
        n = integer("n", n, lower=0, error=InvalidOptionError)
        return self._run_to(min(self.step_index + n, self.total_steps))

    def run(self, until: int | None = None) -> ReturnCode:
        """Advance to step ``until`` (default: the end) and return the return code so far.

        ``Success`` when ``until`` was reached (the run may go on), otherwise the code that
        ended it (``Terminated`` by a callback, ``Unstable``).
        """
        target = self.total_steps if until is None else integer("until", until, lower=0,
                                                                error=InvalidOptionError)
        self._run_to(min(target, self.total_steps), final_checkpoint=True)
        return self.retcode or ReturnCode.Success

    def __iter__(self) -> Iterator["Integrator"]:
        """Step one at a time, yielding the integrator after each step."""
        while not self.done:
            self.step(1)
            yield self

    def _next_event(self, target: int) -> int:
        stop = target
        for cb in self.callbacks:
            stop = min(stop, (self.step_index // cb.every + 1) * cb.every)
        if self.checkpoint_every:
            stop = min(stop, (self.step_index // self.checkpoint_every + 1) * self.checkpoint_every)
        return stop

    def _run_to(self, target: int, final_checkpoint: bool = False) -> "Integrator":
        if self.checkpoint_path is None:
            return self._stepping(target)
        clean = getattr(self, "_cleaned_for", None) != self.checkpoint_path
        with io.checkpoint_lock(self.checkpoint_path, clean=clean):
            self._cleaned_for = self.checkpoint_path
            self._stepping(target)
            if final_checkpoint:
                self.checkpoint(self.checkpoint_path)
        return self

    def _stepping(self, target: int) -> "Integrator":
        if self.done or target <= self.step_index:
            return self
        bar = progress_bar(self.progress, self.total_steps, self.step_index, type(self.solver).__name__)
        chunk, last_checkpoint = 1, time.perf_counter()
        try:
            while not self.done and self.step_index < target:
                stop = min(self._next_event(target), self.step_index + chunk)
                n = stop - self.step_index
                t0 = time.perf_counter()
                done = self._advance(n)
                elapsed = time.perf_counter() - t0
                self.stats["wall_time"] += elapsed
                self.step_index += done
                self.stats["steps"] = self.step_index
                bar.update(done)
                if done < n:
                    self._unstable()
                    break
                # grow the chunk while chunks are short, so bars and timers stay responsive
                chunk = chunk * 2 if elapsed < 0.05 else max(1, chunk // 2) if elapsed > 0.5 else chunk
                for cb in self.callbacks:
                    if self.step_index % cb.every == 0:
                        cb(self)
                if self.checkpoint_path is not None:
                    due_steps = self.checkpoint_every and self.step_index % self.checkpoint_every == 0
                    due_time = (self.checkpoint_seconds is not None and
                                time.perf_counter() - last_checkpoint >= self.checkpoint_seconds)
                    if due_steps or due_time:
                        self.checkpoint(self.checkpoint_path)
                        last_checkpoint = time.perf_counter()
        finally:
            bar.close()
        return self

    def _unstable(self) -> None:
        self.retcode = ReturnCode.Unstable
        step = self.step_index + 1
        self.message = f"diverged at step {step}: {self.message or 'non-finite state'}; " + \
            ReturnCode.Unstable.advice
        self.stats["unstable_step"] = step
        if self.strict:
            raise UnstableError(self.message, step=step)

    # -- checkpoints -------------------------------------------------------------------
    def checkpoint(self, path) -> Path:
        """Write everything needed to resume to ``path``, atomically (temp file, fsync, rename)."""
        record = {"problem": self.problem, "solver": self.solver, "options": self._options,
                  "step_index": self.step_index, "stats": self.stats, "message": self.message,
                  "retcode": self.retcode, "state": self._state()}
        return io.write_record(path, "checkpoint", record, {"step": self.step_index})


def resume(path, **options) -> Integrator:
    """Rebuild the integrator saved by ``checkpoint(path)``, positioned at its step.

    ``options`` are integrator options for the continued run (callbacks, progress,
    checkpoint...: functions are not saved in checkpoints, so pass callbacks again).
    ``tk.resume(path).run()`` ends bit-identical to the uninterrupted run. A checkpoint that
    is not one, or whose step or state does not fit its problem, raises FileFormatError
    before any kernel touches its arrays.
    """
    from .dispatch import init

    record, _ = io.read_record(path, "checkpoint")
    record = _checked_record(path, record)
    integrator = init(record["problem"], record["solver"], **record["options"], **options)
    if not isinstance(integrator, Integrator):
        raise FileFormatError(f"{path}: {type(record['problem']).__name__} with "
                              f"{type(record['solver']).__name__} does not step in time; not a checkpoint")
    total = integrator.total_steps
    if record["step_index"] > total:
        raise FileFormatError(f"{path}: step_index = {record['step_index']} is past the run's {total} steps")
    try:
        integrator._load_state(record["state"])
    except FileFormatError as exc:
        raise FileFormatError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise FileFormatError(f"{path}: the saved state does not fit {type(record['problem']).__name__} "
                              f"with {type(record['solver']).__name__}: {type(exc).__name__}: {exc}") from None
    integrator.step_index = record["step_index"]
    integrator.stats = dict(record["stats"])
    integrator.message = record["message"]
    integrator.retcode = record["retcode"]
    return integrator


def _checked_record(path, record) -> dict:
    """The checkpoint record with every top-level entry of the right kind, or FileFormatError."""
    from .problem import TimeProblem
    from .solver import Solver

    expected = {"problem": TimeProblem, "solver": Solver, "options": dict, "step_index": int,
                "stats": dict, "message": str, "state": dict}
    if not isinstance(record, dict):
        raise FileFormatError(f"{path} holds a {type(record).__name__}, not a checkpoint record")
    missing = sorted((set(expected) | {"retcode"}) - set(record))
    if missing:
        raise FileFormatError(f"{path} is not a complete checkpoint: it lacks {', '.join(missing)}")
    for key, kind in expected.items():
        value = record[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise FileFormatError(f"{path}: checkpoint entry {key!r} is a {type(value).__name__}, "
                                  f"not a {kind.__name__}")
    if record["step_index"] < 0:
        raise FileFormatError(f"{path}: step_index = {record['step_index']} must be >= 0")
    if record["retcode"] is not None and not isinstance(record["retcode"], ReturnCode):
        raise FileFormatError(f"{path}: checkpoint entry 'retcode' is not a ReturnCode")
    from .dispatch import INTEGRATOR_OPTIONS

    bad = [k for k in record["options"] if not isinstance(k, str) or k in INTEGRATOR_OPTIONS]
    if bad:
        raise FileFormatError(f"{path}: checkpoint options {bad} cannot come from a file")
    return record
