"""Oracle calls of a campaign: run on the core's ensembles, every answer kept durably at once.

``call_oracle(problem, indices, executor, journal, on_result)`` labels pool configurations
``indices`` with ``problem.oracle``. Calls go out in chunks through
``tk.solve(tk.EnsembleProblem(PotentialEnergy(...), vary=_PoolMember(...), n=len(chunk)), oracle,
ensemble=executor)``: a chunk is one configuration on ``tk.Serial()`` (so every answer is written
before the next call starts) and ``k`` on ``tk.Threads(k)`` / ``tk.Processes(k)`` /
``tk.Dask(n_workers=k)`` (so no worker idles while a chunk runs); an executor with only ``map``
gets the whole request as one chunk.

A member that fails (its exception, a crashed worker, a timeout, or a non-finite energy or
force) is recorded as ``failures[index] = reason`` and skipped; it never stops the campaign.

The :class:`Journal` holds every answer, keyed by pool index. With a path (the campaign's
checkpoint path plus ``.oracle.nc``) it is rewritten atomically (temporary file, fsync, rename,
through ``toolkit.io.write_record``) after every chunk; a campaign resumed from a checkpoint
reads it and takes an index's answer from it instead of calling the oracle again. The journal
names the campaign it belongs to (a digest of the pool and the oracle): another campaign's
journal at that path is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

import toolkit as tk
from problems.molecule import PotentialEnergy

from ..sampling import molecule_of

__all__ = ["Journal", "call_oracle", "chunk_size"]


class _PoolMember:
    """``vary`` of an oracle ensemble: member ``i`` is the ``PotentialEnergy`` of ``molecules[i]``."""

    def __init__(self, molecules):
        self.molecules = list(molecules)

    def __call__(self, problem, index, rng):
        return PotentialEnergy(self.molecules[index])


def campaign_digest(problem) -> str:
    """A digest naming the campaign a journal belongs to: the pool's arrays and the oracle's repr."""
    h = hashlib.sha256()
    for array in (problem.pool.species, problem.pool.positions, problem.pool.offsets):
        h.update(np.ascontiguousarray(array).tobytes())
    h.update(repr(problem.oracle).encode())
    h.update(f"{problem.charge},{problem.spin}".encode())
    return h.hexdigest()[:32]


class Journal:
    """Oracle answers by pool index: ``energies[i]`` (eV), ``forces[i]`` (eV/Å, (n_i, 3)), or
    ``failures[i]`` (the reason); written to ``path`` atomically after every :meth:`flush`."""

    def __init__(self, problem, path=None):
        self.digest = campaign_digest(problem)
        self.pool = problem.pool
        self.path = None if path is None else Path(path)
        self.energies: dict[int, float] = {}
        self.forces: dict[int, np.ndarray] = {}
        self.failures: dict[int, str] = {}
        if self.path is not None and self.path.exists():
            self._read()

    def __contains__(self, index: int) -> bool:
        return index in self.energies or index in self.failures

    def __len__(self) -> int:
        return len(self.energies) + len(self.failures)

    def add(self, index: int, outcome) -> None:
        if isinstance(outcome, str):
            self.failures[index] = outcome
        else:
            self.energies[index], self.forces[index] = float(outcome[0]), np.array(outcome[1], dtype=np.float64)

    def flush(self) -> None:
        if self.path is None:
            return
        from toolkit.io import write_record

        done = np.array(sorted(self.energies), dtype=np.int64)
        failed = np.array(sorted(self.failures), dtype=np.int64)
        record = {"digest": self.digest, "indices": done,
                  "energies": np.array([self.energies[i] for i in done], dtype=np.float64),
                  "forces": (np.concatenate([self.forces[i] for i in done]) if done.size
                             else np.zeros((0, 3))),
                  "failed": failed, "reasons": [self.failures[i] for i in failed]}
        write_record(self.path, "oracle_journal", record, {"answers": len(self)})

    def _read(self) -> None:
        from toolkit.io import read_record

        record, _ = read_record(self.path, "oracle_journal")
        bad = tk.FileFormatError
        if not isinstance(record, dict) or set(record) != {"digest", "indices", "energies", "forces", "failed",
                                                           "reasons"}:
            raise bad(f"{self.path} is not an oracle journal of an active-learning campaign")
        if record["digest"] != self.digest:
            raise bad(f"{self.path} holds the oracle answers of another campaign (another pool or oracle): "
                      "give this campaign its own checkpoint path, or remove the file")
        n = len(self.pool)
        idx = np.asarray(record["indices"])
        energies = np.asarray(record["energies"], dtype=np.float64)
        forces = np.asarray(record["forces"], dtype=np.float64)
        failed = np.asarray(record["failed"])
        reasons = list(record["reasons"])
        if idx.dtype.kind not in "iu" or failed.dtype.kind not in "iu" or idx.ndim != 1 or \
                np.any(idx < 0) or np.any(idx >= n) or np.any(failed < 0) or np.any(failed >= n) or \
                energies.shape != idx.shape or len(reasons) != len(failed) or not np.all(np.isfinite(energies)):
            raise bad(f"{self.path}: the journal's indices, energies or failures do not fit the pool of {n}")
        counts = self.pool.n_atoms[idx] if idx.size else np.zeros(0, dtype=np.int64)
        if forces.shape != (int(counts.sum()), 3) or not np.all(np.isfinite(forces)):
            raise bad(f"{self.path}: the journal's forces do not fit its configurations")
        starts = np.concatenate([[0], np.cumsum(counts)])
        for k, i in enumerate(idx.tolist()):
            self.energies[i], self.forces[i] = float(energies[k]), forces[starts[k]:starts[k + 1]].copy()
        for i, reason in zip(failed.tolist(), reasons):
            self.failures[i] = str(reason)


def chunk_size(executor, requested: int) -> int:
    """Configurations per ensemble call on ``executor`` (module docstring)."""
    if executor is None or isinstance(executor, tk.Serial):
        return 1
    if isinstance(executor, (tk.Threads, tk.Processes)):
        return executor.k
    if isinstance(executor, tk.Dask) and executor.address is None:
        return executor.n_workers
    return max(1, requested)        # a cluster of unknown size, or a user's executor with map only


def _outcome(member, reason):
    if member is None:
        return str(reason)
    energy, forces = float(member.energy), np.asarray(member.forces, dtype=np.float64)
    if not np.isfinite(energy) or not np.all(np.isfinite(forces)):
        return f"the oracle returned a non-finite energy or force ({member.message or 'no message'})"
    if not member.successful:
        return f"the oracle ended {member.retcode}: {member.message}"
    return energy, forces


def call_oracle(problem, indices, executor, journal: Journal, on_result=None) -> int:
    """Label pool ``indices`` with ``problem.oracle`` into ``journal``; return the calls actually
    made (indices already in the journal are not asked again). ``on_result(index, outcome)`` runs
    after each answer is durable."""
    todo = [int(i) for i in indices if int(i) not in journal]
    size = chunk_size(executor, len(todo))
    calls = 0
    for start in range(0, len(todo), size):
        chunk = todo[start:start + size]
        molecules = [molecule_of(problem.pool[i], problem.charge, problem.spin) for i in chunk]
        ensemble = tk.EnsembleProblem(PotentialEnergy(molecules[0]), vary=_PoolMember(molecules), n=len(chunk))
        solved = tk.solve(ensemble, problem.oracle, ensemble=tk.Serial() if executor is None else executor)
        outcomes = [_outcome(m, solved.errors.get(k)) for k, m in enumerate(solved.members)]
        for i, outcome in zip(chunk, outcomes):
            journal.add(i, outcome)
        calls += len(chunk)
        journal.flush()
        if on_result is not None:
            for i, outcome in zip(chunk, outcomes):
                on_result(i, outcome)
    return calls
