"""Nothing lost: a campaign killed with SIGKILL in the middle of a round (a real child process) resumes
from its checkpoint without asking the oracle again about any configuration it had an answer for,
and ends with the picks, labels and errors of an uninterrupted run.

Both a fixed pool and a sampler drawn each round with the current committee (committee MD on Ar3:
the resumed round must draw the same candidates from the restored committee, which the journal's
configuration checks confirm) are tested.

The child runs the campaign with a checkpoint path and records every oracle answer it receives
(``Journal.add``, before the journal is written) in a counter file, fsynced; after its fourth
durable answer (the first of round 1) it signals the parent and waits, and the parent kills it
with SIGKILL. The campaign is then resumed in this process with the same counter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import toolkit as tk
from problems.datasets import ActiveLearning
from solvers.molecule.active import Journal, QueryByCommittee

ROOT = Path(__file__).resolve().parents[2]
KILL_AFTER = 4

CHILD = textwrap.dedent("""
    import os, sys, time
    import toolkit as tk
    import solvers.molecule
    from problems.datasets import ActiveLearning
    from solvers.molecule.active import Journal, QueryByCommittee

    from tests.molecule.test_active_crash import _campaign

    checkpoint, counter, ready, kill_after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    add = Journal.add

    def counted(self, index, outcome):
        with open(counter, "a") as f:
            f.write(f"{index}\\n"); f.flush(); os.fsync(f.fileno())
        add(self, index, outcome)

    Journal.add = counted
    problem, solver = _campaign(sys.argv[5])
    integ = tk.init(problem, solver, checkpoint=checkpoint, progress=False)
    durable = []

    def hook(index, outcome):
        durable.append(index)
        if len(durable) == kill_after:
            open(ready, "w").close()
            time.sleep(600)                     # killed here, in the middle of round 1

    integ.on_oracle_result = hook
    integ.run()
""")


def _campaign(kind: str = "pool"):
    problem = tk.remake(ActiveLearning.example(0), budget=6, rounds=2)
    if kind == "committee-md":
        from problems.datasets import CommitteeMDSampler
        from problems.molecule import Molecule

        triangle = 1.06 * np.array([[0.0, 0.0, 0.0], [3.82, 0.0, 0.0], [1.91, 3.31, 0.0]])
        problem = tk.remake(problem, sampler=CommitteeMDSampler(Molecule(species=("Ar",) * 3, positions=triangle),
                                                                [100.0, 600.0], steps=120, threshold=0.03, runs=2,
                                                                dt=5.0, seed=3))
        return problem, tk.remake(QueryByCommittee.example(), batch=3)     # draws 3 or more candidates a round
    return problem, tk.remake(QueryByCommittee.example(), batch=3, seed=2)


@pytest.mark.parametrize("kind", ["pool", "committee-md"])
def test_a_campaign_killed_with_sigkill_mid_round_resumes_without_repeating_an_oracle_call(tmp_path, monkeypatch,
                                                                                           kind):
    problem, solver = _campaign(kind)
    reference = tk.solve(problem, solver, progress=False)
    assert len(reference.chosen) == 6

    checkpoint, counter, ready = tmp_path / "run.nc", tmp_path / "calls.txt", tmp_path / "ready"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, str(script), str(checkpoint), str(counter), str(ready),
                              str(KILL_AFTER), kind], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            if child.poll() is not None:
                pytest.fail(f"the child ended before the kill: {child.stderr.read().decode()[-2000:]}")
            assert time.monotonic() < deadline, "the child never reached its fourth oracle answer"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()

    before = [int(x) for x in counter.read_text().split()]
    assert len(before) == KILL_AFTER
    journal = Journal(problem, Path(f"{checkpoint}.oracle.nc"))
    assert sorted(journal.energies) == sorted(before)                # every answer received is durable

    after = []
    add = Journal.add

    def counted(self, index, outcome):
        after.append(int(index))
        add(self, index, outcome)

    monkeypatch.setattr(Journal, "add", counted)
    resumed = tk.resume(checkpoint, progress=False)
    assert resumed.step_index == 1                                    # round 0 finished, round 1 was cut
    resumed.run()
    final = resumed.solution()
    assert not set(before) & set(after), (before, after)             # no finished oracle call repeated
    assert sorted(before + after) == sorted(reference.chosen.tolist())
    assert final.chosen.tolist() == reference.chosen.tolist()
    assert np.array_equal(final.dataset.energies, reference.dataset.energies)
    assert np.array_equal(final.dataset.positions, reference.dataset.positions)
    assert np.array_equal(final.force_mae, reference.force_mae)
    assert final.potential == reference.potential
