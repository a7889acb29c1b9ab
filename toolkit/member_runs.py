"""Run ensemble members so that a crash, a hang or an exception costs only that member.

Every runner takes ``n`` and ``build(index) -> ("job", job) | ("error", reason)`` and returns
``{index: ("ok", solution) | ("error", reason)}`` with one entry per member. A member's reason
is the exception text, ``"worker died (signal 9, SIGKILL)"``, ``"worker exited with status 3"``
or ``"timed out after 2 s"``.

* :func:`run_on_processes`: ``k`` spawned worker processes, each given one member at a time
  over its own pipe. The parent waits on the pipes and the process sentinels together, so it
  knows which member a dead process was running (its exit code gives the signal); it starts a
  fresh process in its place and goes on. A member's clock starts when its worker has
  received it; past ``timeout`` the worker is killed (SIGKILL: a numba kernel holding no GIL
  cannot be interrupted otherwise).
* :func:`run_on_dask`: members are handed to idle worker threads one at a time (pinned to
  that worker, loosely, so a retry may go elsewhere), so a dying worker was running exactly
  one member; dask reports it as ``KilledWorker`` and the signal is read from the nanny's
  log. A member's clock starts when it is handed out; past ``timeout`` it is cancelled and
  its worker restarted (a thread cannot be stopped; restarting needs a nanny, as in a local
  cluster). Methods registered in the user's script travel with each member
  (:mod:`toolkit.shipped_methods`). A cluster that re-runs a member after losing its worker
  (``distributed.scheduler.allowed-failures``) is noticed two ways: the scheduler's
  ``remove-worker`` event (topic ``"all"``) lists the tasks the lost worker was processing,
  and the member's wrapper reports every start; such a member is listed in ``reruns``.
"""

from __future__ import annotations

import logging
import pickle
import re
import signal
import time
from collections import deque

__all__ = ["death_reason", "timeout_reason", "run_on_processes", "run_on_dask"]


def death_reason(exitcode: int | None) -> str:
    """Reason text for a worker process that ended with ``exitcode`` (negative: a signal)."""
    if exitcode is None:
        return "worker died"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            return f"worker died (signal {-exitcode})"
        return f"worker died (signal {-exitcode}, {name})"
    return f"worker exited with status {exitcode}"


def timeout_reason(timeout: float) -> str:
    return f"timed out after {timeout:g} s"


def run_job(job):
    """``("ok", solution)`` or ``("error", "Type: message")`` for one member job."""
    from .dispatch import solve

    problem, solver, options = job
    try:
        return "ok", solve(problem, solver, **options)
    except Exception as exc:  # a failing member is reported, the others are kept
        return "error", f"{type(exc).__name__}: {exc}"


# --- processes -----------------------------------------------------------------------------------

def _worker_loop(conn):
    """Child process: receive pickled jobs, answer ``("started",)`` then ``("done", outcome)``."""
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not payload:
            return
        try:
            job = pickle.loads(payload)
        except Exception as exc:
            conn.send(("done", ("error", f"the worker process could not read the member "
                                         f"({type(exc).__name__}: {exc})")))
            continue
        conn.send(("started",))
        outcome = run_job(job)
        try:
            conn.send(("done", outcome))
        except Exception as exc:  # the solution does not pickle: nothing was written yet
            conn.send(("done", ("error", f"the solution could not be sent back ({type(exc).__name__}: {exc})")))


class _Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_loop, args=(child,), name="scalebridge-member")
        self.process.start()
        child.close()
        self.index = None
        self.deadline = None

    def give(self, index: int, payload: bytes):
        self.index, self.deadline = index, None
        try:
            self.conn.send_bytes(payload)
        except OSError:  # died while starting: its sentinel reports it
            pass

    def close(self, kill: bool = False):
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send_bytes(b"")
            except OSError:
                pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


def run_on_processes(k: int, n: int, build, timeout: float | None = None) -> dict:
    """Members on ``k`` spawned processes, one member per process at a time (see module doc)."""
    import multiprocessing
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("spawn")
    outcomes: dict = {}
    pending = deque(range(n))

    def next_payload():
        while pending:
            index = pending.popleft()
            made = build(index)
            if made[0] != "job":
                outcomes[index] = made
                continue
            try:
                return index, pickle.dumps(made[1], protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                outcomes[index] = ("error", f"could not be sent to a process ({type(exc).__name__}: {exc})")
        return None

    workers: list[_Worker] = []
    try:
        while True:
            for worker in workers:
                if worker.index is None and (item := next_payload()) is not None:
                    worker.give(*item)
            while len(workers) < k and (item := next_payload()) is not None:
                workers.append(_Worker(ctx))
                workers[-1].give(*item)
            busy = [w for w in workers if w.index is not None]
            if not busy:
                return outcomes
            deadlines = [w.deadline for w in busy if w.deadline is not None]
            wait_s = None if not deadlines else max(0.0, min(deadlines) - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], wait_s))
            now = time.monotonic()
            for worker in busy:
                reason = None
                if worker.conn in ready:
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):
                        message = None
                    if message is None:
                        worker.process.join(5)
                        reason = death_reason(worker.process.exitcode)
                    elif message[0] == "started":
                        worker.deadline = None if timeout is None else now + timeout
                    else:
                        outcomes[worker.index] = message[1]
                        worker.index = None
                elif worker.process.sentinel in ready:
                    worker.process.join(5)
                    reason = death_reason(worker.process.exitcode)
                elif worker.deadline is not None and now >= worker.deadline:
                    reason = timeout_reason(timeout)
                if reason is not None:
                    outcomes[worker.index] = ("error", reason)
                    worker.close(kill=True)
                    workers.remove(worker)
    finally:
        for worker in workers:
            worker.close(kill=worker.index is not None)


# --- dask ----------------------------------------------------------------------------------------

_DEATH = re.compile(r"Worker process (\d+) (?:was killed by signal (\d+)|exited with status (\d+)"
                    r"|was killed by unknown signal)")


def _parse_death(text: str) -> tuple[int, str] | None:
    match = _DEATH.search(text)
    if match is None:
        return None
    if match.group(2) is not None:
        return int(match.group(1)), death_reason(-int(match.group(2)))
    if match.group(3) is not None:
        return int(match.group(1)), death_reason(int(match.group(3)))
    return int(match.group(1)), "worker died (unknown signal)"


class _NannyLog(logging.Handler):
    """Death messages of this process's nannies (a local cluster's), by worker pid."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.reasons: dict[int, str] = {}

    def emit(self, record):
        parsed = _parse_death(record.getMessage())
        if parsed is not None:
            self.reasons[parsed[0]] = parsed[1]


def _dask_death_reason(client, exc, nanny_log: _NannyLog, wait_s: float = 3.0) -> str:
    """The dead worker's signal, from the nanny's log (``KilledWorker`` names only its pid)."""
    pid = getattr(getattr(exc, "last_worker", None), "pid", None)
    stop = time.monotonic() + wait_s
    while pid is not None:
        if pid in nanny_log.reasons:
            return nanny_log.reasons[pid]
        try:  # nannies in other processes (a cluster at an address)
            logs = client.get_worker_logs(nanny=True)
        except Exception:
            logs = {}
        for lines in logs.values():
            for entry in lines if isinstance(lines, (list, tuple)) else ():
                parsed = _parse_death(str(entry[-1] if isinstance(entry, (list, tuple)) else entry))
                if parsed is not None and parsed[0] == pid:
                    return parsed[1]
        if time.monotonic() > stop:
            break
        time.sleep(0.25)
    return "worker died while running it (dask KilledWorker; see the worker logs for the signal)"


def _free_threads(client, in_flight: dict) -> list[str]:
    """One worker address per idle thread: threads minus tasks the scheduler has there or we sent."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    busy = {address: set(keys) for address, keys in client.processing().items()}
    for future, (_index, address, _retried) in in_flight.items():
        busy.setdefault(address, set()).add(future.key)
    return [address for address, info in workers.items()
            for _ in range(max(int(info.get("nthreads", 1)) - len(busy.get(address, ())), 0))]


def run_job_reporting(job, topic: str, index: int, shipment=None):
    """:func:`run_job` on a dask worker, first telling the client that member ``index`` started.

    ``shipment`` (a :class:`~toolkit.shipped_methods.Shipment`) holds the methods registered
    in the client's script; they are registered here, once per worker, before solving.
    """
    try:
        from distributed import get_worker

        worker = get_worker()
        worker.log_event(topic, {"index": index, "worker": worker.address})
    except Exception:  # no worker context: the member just has no start time
        pass
    if shipment:
        from .shipped_methods import install

        try:
            install(shipment)
        except Exception as exc:
            return "error", (f"could not register the script's methods on the worker "
                             f"({type(exc).__name__}: {exc})")
    return run_job(job)


def _rerun_note(addresses: list, lost_on: list, resent: bool) -> str:
    """Why a member ran more than once, e.g. ``its worker tcp://a was lost while running it; ...``."""
    if lost_on:
        text = (f"its worker {', '.join(map(str, lost_on))} was lost while it was running there; "
                "the scheduler ran it again")
    elif len(addresses) > 1:
        text = "its worker was lost and the scheduler ran it again"
    else:
        return "sent again: the worker it was waiting on was lost before it started"
    return text + (f" (started on {', '.join(map(str, addresses))})" if addresses else "")


def run_on_dask(client, n: int, build, timeout: float | None = None, tick: float = 0.1,
                shipment=None, reruns: dict | None = None) -> dict:
    """Members on a dask.distributed cluster, one per idle worker thread (see module doc).

    A member's clock starts when its worker reports that it started it. A member that dies
    with its worker before reporting a start was only waiting there: it is sent out once more.
    ``shipment`` goes with every member (see :func:`run_job_reporting`). ``reruns``, when
    given, is filled with ``{index: note}`` for every member that was started more than once
    or sent again (its result, if it has one, is the last run's).
    """
    import uuid

    from distributed import KilledWorker

    outcomes: dict = {}
    pending = deque((index, False) for index in range(n))
    jobs: dict = {}
    token = uuid.uuid4().hex[:12]
    topic = f"scalebridge-started-{token}"
    started: dict[int, tuple[float, str | None]] = {}  # index -> (start time, worker address)
    starts: dict[int, list] = {}  # index -> worker address of every start reported
    resent: set[int] = set()
    lost_on: dict[int, list] = {}  # index -> workers lost while processing it (scheduler's events)
    key_prefix = "scalebridge-member-"
    in_flight: dict = {}  # future -> (index, worker address, whether this is a retry)

    def next_job():
        while pending:
            index, retry = pending.popleft()
            if index not in jobs:
                made = build(index)
                if made[0] != "job":
                    outcomes[index] = made
                    continue
                jobs[index] = made[1]
            return index, retry
        return None

    def hand_out(addresses):
        for address in addresses:
            item = next_job()
            if item is None:
                return
            index, retry = item
            where = {} if address is None else {"workers": [address], "allow_other_workers": True}
            future = client.submit(run_job_reporting, jobs[index], topic, index, shipment, pure=False,
                                   key=f"{key_prefix}{index}-{token}-{int(retry)}", **where)
            in_flight[future] = (index, address, retry)

    def on_start(event):
        started[event[1]["index"]] = (time.monotonic(), event[1].get("worker"))
        starts.setdefault(event[1]["index"], []).append(event[1].get("worker"))

    def on_cluster_event(event):
        message = event[1] if isinstance(event, (tuple, list)) and len(event) > 1 else event
        if not isinstance(message, dict) or message.get("action") != "remove-worker":
            return
        for key in message.get("processing-tasks") or ():
            parts = str(key).split("-") if str(key).startswith(key_prefix) else []
            if len(parts) == 5 and parts[3] == token and parts[2].isdigit():
                lost_on.setdefault(int(parts[2]), []).append(message.get("worker", "a worker"))

    nanny_log = _NannyLog()
    nanny_logger = logging.getLogger("distributed.nanny")
    nanny_logger.addHandler(nanny_log)
    client.subscribe_topic(topic, on_start)
    try:
        client.subscribe_topic("all", on_cluster_event)
    except Exception:  # an old scheduler: starts alone tell re-runs
        pass
    try:
        while pending or in_flight:
            if pending:
                addresses = _free_threads(client, in_flight)
                if not addresses and not in_flight:
                    addresses = [None]  # no worker yet: queue one, dask places it when one joins
                hand_out(addresses)
            if not any(future.done() for future in in_flight):
                time.sleep(tick)
            now = time.monotonic()
            for future in list(in_flight):
                index, address, retry = in_flight[future]
                if future.done():
                    del in_flight[future]
                    if future.status == "finished":
                        outcomes[index] = future.result()
                        continue
                    exc = future.exception() if future.status == "error" else None
                    if isinstance(exc, KilledWorker) and index not in started and not retry:
                        pending.appendleft((index, True))  # it was waiting on a worker that died
                        resent.add(index)
                    elif isinstance(exc, KilledWorker):
                        outcomes[index] = ("error", _dask_death_reason(client, exc, nanny_log))
                    elif isinstance(exc, ImportError) or "deserialization of the task graph" in str(exc):
                        from .shipped_methods import import_advice

                        outcomes[index] = ("error", import_advice(exc))
                    elif exc is not None:
                        outcomes[index] = ("error", f"{type(exc).__name__}: {exc}")
                    else:
                        outcomes[index] = ("error", f"dask reported the member {future.status}")
                elif timeout is not None and index in started and now - started[index][0] >= timeout:
                    del in_flight[future]
                    outcomes[index] = ("error", timeout_reason(timeout))
                    future.cancel()
                    running_on = started[index][1] or address
                    if running_on is not None:  # free the thread still running it (needs a nanny)
                        try:
                            client.restart_workers([running_on], raise_for_error=False)
                        except Exception:
                            pass
    finally:
        for future in in_flight:
            future.cancel()
        nanny_logger.removeHandler(nanny_log)
        try:
            client.unsubscribe_topic(topic)
            client.unsubscribe_topic("all")
        except Exception:
            pass
    if reruns is not None:
        again = set(resent) | {i for i, where in starts.items() if len(where) > 1}
        again |= {i for i in lost_on if outcomes.get(i, ("error",))[0] == "ok"}  # else reported as died
        for index in sorted(again):
            reruns[index] = _rerun_note(starts.get(index, []), lost_on.get(index, []), index in resent)
    return outcomes
