"""``CNN1D``: a tiny 1-D convolutional network (torch) on raw windows of the acoustic signal.

Two strided convolutions, ReLU, the log of the mean square of each channel (a learned band
power) and a linear read-out of the time to failure; trained with Adam on the mean squared
error of the standardised labels. Torch is imported only when the solver runs.
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from problems.strain_signal import TimeToFailure
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .features import noise_scale
from .memory import check_memory
from .prediction import (ROUNDS_MAX, SEED_MAX, THREADS_MAX, TimeToFailureSolution, failed_solution, make_solution,
                         split_windows, training_labels)

__all__ = ["CNN1D"]


class CNN1D(tk.Solver):
    """A tiny 1-D CNN on raw windows: ``channels`` (1 to 256), ``kernel`` (1 to 1025), ``epochs``
    (1 to 100,000), ``batch`` (1 to 2**31 - 1), ``learning_rate`` (in (0, 1]), ``seed`` (0 to
    2**32 - 1), ``threads`` (torch intra-op threads, 1 to 1024).

    Training stops ``Unstable`` at the first epoch whose loss is not finite (the epoch is in
    ``stats["unstable_step"]``); the result then holds no predictions.
    """

    channels: int = 8
    kernel: int = 9
    epochs: int = 40
    batch: int = 32
    learning_rate: float = 3e-3
    seed: int = 0
    threads: int = 1

    stochastic = True

    def _validate(self):
        err = dict(error=tk.InvalidSolverError)
        self._set("channels", v.integer("channels", self.channels, lower=1, upper=256, **err))
        self._set("kernel", v.integer("kernel", self.kernel, lower=1, upper=1025, **err))
        self._set("epochs", v.integer("epochs", self.epochs, lower=1, upper=ROUNDS_MAX, **err))
        self._set("batch", v.integer("batch", self.batch, lower=1, upper=2 ** 31 - 1, **err))
        self._set("learning_rate", v.real_scalar("learning_rate", self.learning_rate, lower=0, lower_open=True,
                                                 upper=1, **err))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=SEED_MAX, **err))
        self._set("threads", v.integer("threads", self.threads, lower=1, upper=THREADS_MAX, **err))

    @classmethod
    def example(cls):
        return cls(channels=4, epochs=3)

    def memory_estimate(self, problem: TimeToFailure) -> int:
        """Peak bytes: the raw windows (float64) and their standardised float64 and float32 copies,
        plus activations of one batch (two convolutions of ``channels`` maps)."""
        n_windows = problem.windows()[0].size
        batch = min(self.batch, n_windows)
        return int(20 * n_windows * problem.window + 4 * 3 * batch * self.channels * problem.window)


def _network(torch, channels, kernel):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(1, channels, kernel, stride=2, padding=kernel // 2)
            self.conv2 = nn.Conv1d(channels, channels, kernel, stride=2, padding=kernel // 2)
            self.head = nn.Linear(channels, 1)

        def forward(self, x):
            h = torch.relu(self.conv1(x))
            h = self.conv2(h)
            power = torch.log(h.pow(2).mean(dim=2) + 1e-6)
            return self.head(power).squeeze(1)

    return Net()


@dispatch
def _solve(problem: TimeToFailure, solver: CNN1D) -> TimeToFailureSolution:
    import torch

    start = time.perf_counter()
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(solver.threads)
    try:
        torch.manual_seed(solver.seed)
        ends, cycles, labels, test = split_windows(problem)
        center, scale = noise_scale(problem.signal.samples)
        check_memory(solver.memory_estimate(problem), f"CNN1D on {ends.size} windows of {problem.window} samples",
                     "use a larger stride or a shorter window", tk.InvalidProblemError)
        offsets = np.arange(-problem.window, 0)
        # standardise in float64, then narrow: a tiny noise scale (1e-100) is not a float32
        raw = np.asarray(problem.signal.samples[ends[:, None] + offsets[None, :]], dtype=np.float64)
        X = torch.from_numpy(((raw - center) / scale).astype(np.float32)).unsqueeze(1)
        del raw
        y_train = training_labels(problem, labels[~test])
        mu, sd = float(y_train.mean()), float(y_train.std()) or 1.0
        yt = torch.from_numpy(((y_train - mu) / sd).astype(np.float32))
        Xtr, Xte = X[torch.from_numpy(~test)], X[torch.from_numpy(test)]
        net = _network(torch, solver.channels, solver.kernel)
        opt = torch.optim.Adam(net.parameters(), lr=solver.learning_rate)
        gen = torch.Generator().manual_seed(solver.seed)
        loss = torch.tensor(0.0)
        for epoch in range(solver.epochs):
            order = torch.randperm(Xtr.shape[0], generator=gen)
            for i in range(0, Xtr.shape[0], solver.batch):
                idx = order[i:i + solver.batch]
                opt.zero_grad()
                loss = torch.mean((net(Xtr[idx]) - yt[idx]) ** 2)
                if not torch.isfinite(loss):
                    return failed_solution(
                        problem, solver, tk.ReturnCode.Unstable,
                        f"training diverged at epoch {epoch + 1} (non-finite loss); lower learning_rate",
                        {"wall_time": time.perf_counter() - start, "unstable_step": epoch + 1})
                loss.backward()
                opt.step()
        with torch.no_grad():
            predicted = net(Xte).numpy().astype(np.float64) * sd + mu
            fitted = net(Xtr).numpy().astype(np.float64) * sd + mu
        if not (np.all(np.isfinite(predicted)) and np.all(np.isfinite(fitted))):
            return failed_solution(problem, solver, tk.ReturnCode.Unstable,
                                   "the trained network predicts non-finite times; lower learning_rate",
                                   {"wall_time": time.perf_counter() - start, "unstable_step": solver.epochs})
    finally:
        torch.set_num_threads(torch_threads)
    from sklearn.metrics import r2_score

    train_r2 = float(r2_score(y_train, fitted)) if y_train.size > 1 else float("nan")
    stats = {"wall_time": time.perf_counter() - start, "final_loss": float(loss.detach()),
             "train_windows": int((~test).sum()), "test_windows": int(test.sum())}
    return make_solution(problem, solver, ends, cycles, labels, test, predicted, train_r2, [], np.zeros(0), stats)
