"""Machine learning predicts laboratory earthquakes -- on a synthetic stick-slip experiment.
=========================================================================================

Rouet-Leduc et al., "Machine learning predicts laboratory earthquakes", Geophys. Res. Lett. 44,
9276 (2017), doi:10.1002/2017GL074677, sheared a layer of glass beads between steel blocks and
recorded the acoustic emission. A random forest fed with statistics of short windows of that
signal predicted the time remaining before the next lab-quake with R^2 = 0.89, the signal's
variance being the most informative statistic. This script reproduces their prediction figure
on a synthetic experiment:

1. A spring-slider with rate-and-state friction (Dieterich aging law, Dieterich 1979,
   doi:10.1029/JB084iB05p02161), radiation damping and a randomly perturbed load-point velocity
   sticks and slips when the spring is softer than k_c = sigma (b - a)/D_c (Ruina 1983);
   ``SliderODE`` integrates it on the logarithm of the slip rate with an adaptive stiff solver.
2. Micro-slip emissions (rate following the slip rate, Gutenberg-Richter amplitudes whose
   b-value falls as the fault is loaded, Riviere et al. 2018) plus background noise make the
   acoustic signal, sampled at 4 MHz as in the laboratory and streamed to a memory-mapped file;
   each sample is labelled with the time to failure. The slow loading is time-compressed 200-fold
   (cycles of ~0.25 s instead of ~10 s; see ``StickSlipExperiment``).
3. ``TimeToFailure`` cuts windows and holds out whole slip cycles; ``RandomForest`` (features by
   numba kernels) and ``GradientBoosting`` predict them; a shuffled-label control has no skill.

Environment: SCALEBRIDGE_SMALL=1 for a quick run, SCALEBRIDGE_OUT for the figure folder.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import toolkit as tk
from problems.strain_signal import StickSlipExperiment, TimeToFailure
from solvers.strain_signal import GradientBoosting, RandomForest, SliderODE

small = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if small:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
out = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
out.mkdir(parents=True, exist_ok=True)

# Full size: 4 MHz as in the laboratory, ~30 lab-quakes (~3e7 samples). The record is streamed
# to a memory-mapped int16 lab file (bounded memory), then cut into 150,000-sample windows
# (37.5 ms, the window of the 2017 paper). Small: 50 kHz, in memory.
rate = 5e4 if small else 4e6
experiment = StickSlipExperiment(sampling_rate=rate, steps=60 if small else 160, seed=0,
                                 emission_rate=4.0 * rate, emission_frequency=rate / 4, emission_decay=1.0 / rate)
print(f"critical stiffness k_c = {experiment.critical_stiffness:.3g} Pa/m; spring k = "
      f"{experiment.spring_constant:.3g} Pa/m (stick-slip: k < k_c)")
run = tk.solve(experiment, SliderODE(record=small), progress=False)
recur = run.recurrence_times
if small:
    signal = run.signal()
else:
    signal = run.write_record(out / "05_lab_quake_4MHz.bin")    # int16 counts + float32 labels, memory-mapped
print(f"{run.failure_times.size} lab-quakes, recurrence {recur.mean():.3f} s +- {recur.std():.3f} s; "
      f"peak slip rate {run.slip_rate.max():.3g} m/s; {signal.n_samples:,} acoustic samples at "
      f"{rate / 1e6:g} MHz")

window = 1024 if small else 150_000
problem = TimeToFailure(signal=signal, window=window, stride=window // 2 if small else window // 6,
                        test_cycles=3 if small else 6)
forest = tk.solve(problem, RandomForest())
boost = tk.solve(problem, GradientBoosting())
control = tk.solve(tk.remake(problem, shuffle_labels=True), RandomForest())
print(f"random forest      R2 = {forest.r2:.3f}  MAE = {forest.mae * 1e3:.1f} ms  top features {forest.top_features(3)}")
print(f"gradient boosting  R2 = {boost.r2:.3f}  MAE = {boost.mae * 1e3:.1f} ms")
print(f"shuffled control   R2 = {control.r2:.3f}")
print(f"(Rouet-Leduc et al. 2017, laboratory data: R2 = 0.89, variance the top feature)")

fig, axes = plt.subplots(3, 1, figsize=(10, 8))
step = max(1, signal.n_samples // 100_000)
t = run.record_start + np.arange(0, signal.n_samples, step) / signal.sampling_rate
axes[0].plot(run.times, run.shear_stress / 1e6, lw=0.8)
axes[0].set_ylabel("shear stress (MPa)")
axes[1].plot(t, np.asarray(signal.samples[::step]), lw=0.3, color="k")
axes[1].set_ylabel("acoustic signal")
axes[1].set_xlim(axes[0].get_xlim())
forest.plot(ax=axes[2])
axes[2].set_title("time to failure in held-out cycles: truth (red) and random-forest prediction (blue)")
fig.tight_layout()
fig.savefig(out / "05_lab_quake.png", dpi=110)
print(f"figure: {out / '05_lab_quake.png'}")
if not small:
    (out / "05_lab_quake_4MHz.bin").unlink()    # ~170 MB; the memory map stays valid until exit
