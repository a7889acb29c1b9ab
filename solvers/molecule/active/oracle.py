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

The :class:`Journal` holds every answer, keyed by the candidate's name: its pool index for a
fixed pool, ``round * capacity + slot`` for a sampler (:mod:`.rounds`). With a path (the
campaign's checkpoint path plus ``.oracle.nc``) it is rewritten atomically (temporary file, fsync,
rename, through ``toolkit.io.write_record``) after every chunk; a campaign resumed from a
checkpoint reads it and takes a name's answer from it instead of calling the oracle again. The
journal names the campaign it belongs to (a digest of the pool, or of the sampler's whole
description, and the oracle): another campaign's journal at that path is refused. Each answer
also keeps a check of the configuration it labels (:func:`configuration_check`, 63 bits of a
SHA-256 of the atomic numbers and positions): a resumed campaign whose sampler drew a different
configuration under the same name (the draw was not reproduced from seed, round and committee)
is stopped with :class:`~toolkit.FileFormatError` instead of pairing a label with the wrong
configuration. Journals written before the checks existed (fixed pools only) are read without them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

import toolkit as tk
from problems.molecule import PotentialEnergy

from ..sampling import molecule_of

__all__ = ["Journal", "call_oracle", "chunk_size", "configuration_check", "campaign_digest"]


class _PoolMember:
    """``vary`` of an oracle ensemble: member ``i`` is the ``PotentialEnergy`` of ``molecules[i]``."""

    def __init__(self, molecules):
        self.molecules = list(molecules)

    def __call__(self, problem, index, rng):
        return PotentialEnergy(self.molecules[index])


def _feed(h, value) -> None:
    """Hash ``value``'s content: arrays by dtype, shape and bytes; dataclasses field by field."""
    if isinstance(value, np.ndarray):
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(type(value).__name__.encode())
        for f in dataclasses.fields(value):
            h.update(f.name.encode())
            _feed(h, getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        h.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _feed(h, item)
    else:
        h.update(repr(value).encode())


def campaign_digest(problem) -> str:
    """A digest naming the campaign a journal belongs to: the pool's arrays (or the sampler's whole
    description), the oracle's repr, the charge and spin."""
    h = hashlib.sha256()
    if problem.pool is not None:
        for array in (problem.pool.species, problem.pool.positions, problem.pool.offsets):
            h.update(np.ascontiguousarray(array).tobytes())
    else:
        h.update(b"sampler")
        _feed(h, problem.sampler)
    h.update(repr(problem.oracle).encode())
    h.update(f"{problem.charge},{problem.spin}".encode())
    return h.hexdigest()[:32]


def configuration_check(species, positions) -> int:
    """63 bits of the SHA-256 of a configuration's atomic numbers (int64) and positions (float64)."""
    h = hashlib.sha256(np.ascontiguousarray(species, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(positions, dtype=np.float64).tobytes())
    return int.from_bytes(h.digest()[:8], "little") >> 1


_KEYS = {"digest", "indices", "energies", "forces", "failed", "reasons"}
_CHECK_KEYS = _KEYS | {"counts", "checks", "failed_checks"}


class Journal:
    """Oracle answers by candidate name: ``energies[i]`` (eV), ``forces[i]`` (eV/Å, (n_i, 3)), or
    ``failures[i]`` (the reason), with ``checks[i]`` the :func:`configuration_check` of the
    configuration answered; written to ``path`` atomically after every :meth:`flush`."""

    def __init__(self, problem, path=None):
        self.digest = campaign_digest(problem)
        self.pool = problem.pool
        self.path = None if path is None else Path(path)
        self.energies: dict[int, float] = {}
        self.forces: dict[int, np.ndarray] = {}
        self.failures: dict[int, str] = {}
        self.checks: dict[int, int] = {}
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

    def verify(self, index: int, check: int) -> None:
        """Refuse to reuse answer ``index`` for a configuration other than the one it labels."""
        known = self.checks.get(index)
        if known is not None and known != check:
            raise tk.FileFormatError(
                f"{self.path}: candidate {index} was answered for another configuration than the one drawn now: "
                "the sampler did not draw the same candidates from (seed, round, committee weights); resume with the "
                "same versions and thread count as the interrupted run, or remove the journal to ask again")

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
                  "counts": np.array([len(self.forces[i]) for i in done], dtype=np.int64),
                  "checks": np.array([self.checks.get(i, -1) for i in done], dtype=np.int64),
                  "failed": failed, "reasons": [self.failures[i] for i in failed],
                  "failed_checks": np.array([self.checks.get(i, -1) for i in failed], dtype=np.int64)}
        write_record(self.path, "oracle_journal", record, {"answers": len(self)})

    def _read(self) -> None:
        from toolkit.io import read_record

        record, _ = read_record(self.path, "oracle_journal")
        bad = tk.FileFormatError
        if not isinstance(record, dict) or set(record) not in (_KEYS, _CHECK_KEYS):
            raise bad(f"{self.path} is not an oracle journal of an active-learning campaign")
        if record["digest"] != self.digest:
            raise bad(f"{self.path} holds the oracle answers of another campaign (another pool, sampler or oracle): "
                      "give this campaign its own checkpoint path, or remove the file")
        idx = np.asarray(record["indices"])
        energies = np.asarray(record["energies"], dtype=np.float64)
        forces = np.asarray(record["forces"], dtype=np.float64)
        failed = np.asarray(record["failed"])
        reasons = list(record["reasons"])
        n = len(self.pool) if self.pool is not None else None
        if idx.dtype.kind not in "iu" or failed.dtype.kind not in "iu" or idx.ndim != 1 or failed.ndim != 1 or \
                np.any(idx < 0) or np.any(failed < 0) or energies.shape != idx.shape or \
                len(reasons) != len(failed) or not np.all(np.isfinite(energies)) or \
                (n is not None and (np.any(idx >= n) or np.any(failed >= n))):
            raise bad(f"{self.path}: the journal's indices, energies or failures do not fit "
                      + (f"the pool of {n}" if n is not None else "one another"))
        if "counts" in record:
            counts = np.asarray(record["counts"])
            checks, failed_checks = np.asarray(record["checks"]), np.asarray(record["failed_checks"])
            if counts.shape != idx.shape or counts.dtype.kind not in "iu" or np.any(counts < 1) or \
                    checks.shape != idx.shape or failed_checks.shape != failed.shape or \
                    checks.dtype.kind not in "iu" or failed_checks.dtype.kind not in "iu" or \
                    (n is not None and idx.size and not np.array_equal(counts, self.pool.n_atoms[idx])):
                raise bad(f"{self.path}: the journal's atom counts or checks do not fit its configurations")
        elif n is not None:
            counts = self.pool.n_atoms[idx] if idx.size else np.zeros(0, dtype=np.int64)
            checks, failed_checks = np.full(idx.shape, -1), np.full(failed.shape, -1)
        else:
            raise bad(f"{self.path}: a journal of a sampled campaign must hold its configuration checks")
        if forces.shape != (int(counts.sum()), 3) or not np.all(np.isfinite(forces)):
            raise bad(f"{self.path}: the journal's forces do not fit its configurations")
        starts = np.concatenate([[0], np.cumsum(counts)])
        for k, i in enumerate(idx.tolist()):
            self.energies[i], self.forces[i] = float(energies[k]), forces[starts[k]:starts[k + 1]].copy()
        for i, reason in zip(failed.tolist(), reasons):
            self.failures[i] = str(reason)
        for i, c in list(zip(idx.tolist(), checks.tolist())) + list(zip(failed.tolist(), failed_checks.tolist())):
            if c >= 0:
                self.checks[i] = int(c)


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


def call_oracle(problem, indices, executor, journal: Journal, on_result=None, configurations=None) -> int:
    """Label candidates ``indices`` with ``problem.oracle`` into ``journal``; return the calls
    actually made (indices already in the journal are not asked again, after checking that the
    journal answered the same configuration). ``configurations``: the candidates' dataset, row
    ``k`` for ``indices[k]`` (default: the pool's structures at ``indices``). ``on_result(index,
    outcome)`` runs after each answer is durable."""
    indices = [int(i) for i in indices]
    if configurations is None:
        configurations = problem.pool.subset(np.asarray(indices, dtype=np.int64))
    if len(configurations) != len(indices):
        raise ValueError(f"{len(indices)} indices for {len(configurations)} configurations")
    rows = {}
    for k, i in enumerate(indices):
        a, b = configurations.offsets[k], configurations.offsets[k + 1]
        check = configuration_check(configurations.species[a:b], configurations.positions[a:b])
        if i in journal:
            journal.verify(i, check)
        else:
            rows[i] = (k, check)
    todo = list(rows)
    size = chunk_size(executor, len(todo))
    calls = 0
    for start in range(0, len(todo), size):
        chunk = todo[start:start + size]
        molecules = [molecule_of(configurations[rows[i][0]], problem.charge, problem.spin) for i in chunk]
        ensemble = tk.EnsembleProblem(PotentialEnergy(molecules[0]), vary=_PoolMember(molecules), n=len(chunk))
        solved = tk.solve(ensemble, problem.oracle, ensemble=tk.Serial() if executor is None else executor)
        outcomes = [_outcome(m, solved.errors.get(k)) for k, m in enumerate(solved.members)]
        for i, outcome in zip(chunk, outcomes):
            journal.checks[i] = rows[i][1]
            journal.add(i, outcome)
        calls += len(chunk)
        journal.flush()
        if on_result is not None:
            for i, outcome in zip(chunk, outcomes):
                on_result(i, outcome)
    return calls
