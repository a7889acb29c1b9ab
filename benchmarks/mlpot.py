"""HIP-NN speed and accuracy: training throughput against hippynn, MD inference, QM9 learning curve.

1. Training throughput on one QM9 subset (U0 atomisation energies, eV) with one architecture
   (20 features, 20 sensitivities, 2 interaction blocks, 3 on-site layers, cutoff 6.5 Å, soft
   0.85-5 Å), one loss (RMSE + MAE of the energy, E_0 the frozen composition fit), Adam at 1e-3,
   batch 64, float32, split 80/10/10: our ``HIPNNTraining`` against hippynn's own training loop
   (``assemble_for_training`` + ``setup_and_train``), in this process, on this machine. Seconds per
   epoch are the difference between a (1 + E)-epoch run and a 1-epoch run divided by E, after a warm-up
   run (so setup,
   the final test and file writing drop out); each epoch includes the validation pass (hippynn also
   evaluates 10 % of the training set). Molecules per second = training molecules / (s/epoch).
2. Inference: atom-steps per second of NVE (VelocityVerlet, 0.5 fs) of a QM9 molecule under a
   HIP-NN of that architecture: our potential against hippynn's ASE calculator driven by ASE's
   VelocityVerlet.
3. QM9 U0 learning curve: test MAE against training-set size (1k / 2k / 5k / 10k molecules;
   ``--full``: the whole set) with ``--epochs`` epochs each (early stopping on), log-log figure with
   the paper's 0.26 kcal/mol at ~110k molecules (Lubbers et al. 2018) as the reference line.

torch and numba (hippynn's custom kernels are numba ``parallel=True``) run on ``--threads``
threads (default 1: the machine may be shared; both sides get the same cores). Seconds per epoch
are given as wall time and as this process's CPU time (less sensitive to other load on a shared
machine; equal to wall time on a quiet one with one thread). ``--quick`` runs tiny sizes in well
under a minute, with hippynn on its torch.sparse kernels (its numba ones would spend most of the quick
run compiling): a smoke test, not a speed comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import time
import warnings

import numpy as np

import toolkit as tk
from problems.datasets import KCAL_MOL_EV, FitPotential
from problems.molecule import MolecularDynamics, maxwell_boltzmann
from solvers.molecule import VelocityVerlet, load_qm9, molecule_of
from solvers.molecule.hipnn import HIPNN, HIPNNTraining
from solvers.molecule.qm9 import QM9_SIZE

SPECIES = ("H", "C", "N", "O", "F")
ARCH = dict(features=20, sensitivities=20, interactions=2, atom_layers=3, cutoff=6.5, soft_min=0.85, soft_max=5.0)


def ours_seconds_per_epoch(data, epochs: int, batch: int):
    problem = FitPotential(data, validation=0.1, test=0.1)
    solver = HIPNNTraining(model=HIPNN(species=SPECIES, **ARCH), epochs=1 + epochs, batch=batch, learning_rate=1e-3,
                           hierarchicality_weight=0.0, l2=0.0, dtype="float32", patience=None)
    integ = tk.init(problem, solver, progress=False)
    integ.step(1)                                   # compile and warm up
    t0, c0 = time.perf_counter(), time.process_time()
    integ.step(epochs)
    per_epoch = ((time.perf_counter() - t0) / epochs, (time.process_time() - c0) / epochs)
    fit = integ.solution()
    return per_epoch, fit.metrics["n_train"], fit


def hippynn_seconds_per_epoch(data, epochs: int, batch: int, kernels: str | None = None):
    """hippynn's own loop on the same molecules, split fractions, loss and optimiser; ``kernels``
    (e.g. ``"sparse"``) picks hippynn's message-passing implementation (default: its own choice,
    the numba kernels)."""
    import torch

    import hippynn
    from hippynn import custom_kernels
    from hippynn.experiment import SetupParams, assemble_for_training, setup_and_train
    from hippynn.graphs import inputs, loss, networks, targets
    from hippynn.pretraining import hierarchical_energy_initialization

    hippynn.settings.PROGRESS = None
    if kernels is not None:
        custom_kernels.set_custom_kernels(kernels)
    n, width = len(data), int(data.n_atoms.max())
    z = np.zeros((n, width), dtype=np.int64)
    r = np.zeros((n, width, 3), dtype=np.float32)
    for k in range(n):
        s = data[k]
        z[k, :s.n_atoms] = s.species
        r[k, :s.n_atoms] = s.positions
    arrays = {"Z": z, "R": r, "T": data.energies.astype(np.float32)[:, None]}

    def run(max_epochs):
        torch.manual_seed(0)
        species = inputs.SpeciesNode(db_name="Z")
        positions = inputs.PositionsNode(db_name="R")
        params = {"possible_species": [0, 1, 6, 7, 8, 9], "n_features": ARCH["features"],
                  "n_sensitivities": ARCH["sensitivities"], "dist_soft_min": ARCH["soft_min"],
                  "dist_soft_max": ARCH["soft_max"], "dist_hard_max": ARCH["cutoff"],
                  "n_interaction_layers": ARCH["interactions"], "n_atom_layers": ARCH["atom_layers"]}
        network = networks.Hipnn("hipnn", (species, positions), module_kwargs=params)
        energy = targets.HEnergyNode("HEnergy", network, db_name="T")
        error = loss.MSELoss.of_node(energy) ** 0.5 + loss.MAELoss.of_node(energy)
        modules, db_info = assemble_for_training(error, {"Loss": error})
        database = hippynn.databases.Database(arrays, seed=0, test_size=0.1, valid_size=0.1, quiet=True,
                                              pin_memory=False, **db_info)
        hierarchical_energy_initialization(energy, database, trainable_after=False)
        setup = SetupParams(stopping_key="Loss", batch_size=batch, eval_batch_size=256, optimizer=torch.optim.Adam,
                            learning_rate=1e-3, max_epochs=max_epochs, device="cpu")
        with tempfile.TemporaryDirectory() as folder, hippynn.tools.active_directory(folder), \
                contextlib.redirect_stdout(open(os.devnull, "w")):
            t0, c0 = time.perf_counter(), time.process_time()
            setup_and_train(modules, database, setup, store_best=False)
            return (np.array([time.perf_counter() - t0, time.process_time() - c0]), len(database.splits["train"]["Z"]),
                    energy)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(1)                                      # warm up: imports, kernels, caches
        short, _, _ = run(1)
        long, n_train, energy = run(1 + epochs)
    return tuple((long - short) / epochs), n_train, energy


def md_ours(molecule, potential, steps: int):
    mol = tk.remake(molecule, velocities=maxwell_boltzmann(molecule.masses, 300.0, np.random.default_rng(0)))
    integ = tk.init(MolecularDynamics(mol, potential, steps=steps + 5, save_every=10 ** 6, thermo_every=steps),
                    VelocityVerlet(dt=0.5), progress=False)
    integ.step(5)
    t0 = time.perf_counter()
    integ.step(steps)
    return molecule.n_atoms * steps / (time.perf_counter() - t0)


def md_hippynn(molecule, energy_node, steps: int):
    from ase import Atoms, units
    from ase.md.verlet import VelocityVerlet as AseVerlet

    from hippynn.interfaces.ase_interface import HippynnCalculator

    atoms = Atoms(symbols=list(molecule.species), positions=molecule.positions)
    atoms.calc = HippynnCalculator(energy_node, en_unit=units.eV, dist_unit=units.Angstrom)
    dyn = AseVerlet(atoms, timestep=0.5 * units.fs)
    dyn.run(5)
    t0 = time.perf_counter()
    dyn.run(steps)
    return molecule.n_atoms * steps / (time.perf_counter() - t0)


def learning_curve(sizes, epochs: int, batch: int, out: str | None):
    rows = []
    for size in sizes:
        data = load_qm9(n=min(int(size / 0.8) + 1, QM9_SIZE), seed=1)      # 110k: the whole set, 104,665 train
        solver = HIPNNTraining(model=HIPNN(species=SPECIES, **ARCH), epochs=epochs, batch=batch, learning_rate=1e-3,
                               dtype="float32", patience=max(5, epochs // 4), decay_patience=max(3, epochs // 10))
        t0 = time.perf_counter()
        fit = tk.solve(FitPotential(data, validation=0.1, test=0.1), solver, progress=sys.stderr.isatty())
        wall = time.perf_counter() - t0
        m = fit.metrics
        rows.append((m["n_train"], m["energy_mae_kcal_mol"], m["composition_mae"] / KCAL_MOL_EV, len(fit.epoch), wall))
        print(f"{m['n_train']:>8} {m['energy_mae_kcal_mol']:>14.3f} {m['composition_mae'] / KCAL_MOL_EV:>14.2f} "
              f"{len(fit.epoch):>7} {wall:>9.1f}", flush=True)
    if out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 4))
        ax.loglog([r[0] for r in rows], [r[1] for r in rows], "o-", label=f"HIP-NN, {epochs} epochs max")
        ax.axhline(0.26, color="0.5", ls="--", label="Lubbers et al. 2018, ~110k molecules")
        ax.set(xlabel="training molecules", ylabel="test MAE U0 (kcal/mol)", title="QM9 learning curve")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out, dpi=120)
        print(f"figure: {out}")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test, < 60 s)")
    parser.add_argument("--full", action="store_true", help="learning curve up to the whole QM9 set")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--molecules", type=int, default=2000, help="QM9 subset of the throughput comparison")
    parser.add_argument("--epochs", type=int, default=60, help="epochs per learning-curve point")
    parser.add_argument("--no-hippynn", action="store_true", help="skip the hippynn side")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="learning-curve training-set sizes (default 1000 2000 5000 10000; --full adds 50k and 110k, i.e. the whole set: 104,665 training molecules at 80/10/10)")
    args = parser.parse_args(argv)
    import numba
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))   # hippynn's kernels are parallel
    if args.quick:
        molecules, timed, batch, md_steps, sizes, curve_epochs = 200, 1, 64, 20, [160], 2
    else:
        molecules, timed, batch, md_steps = args.molecules, 3, 64, 200
        sizes = args.sizes or [1000, 2000, 5000, 10000] + ([50000, 110000] if args.full else [])
        curve_epochs = args.epochs
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"on {torch.get_num_threads()} thread(s), numba on {numba.get_num_threads()}, load average "
          f"{tuple(round(x, 2) for x in os.getloadavg())}")
    print(f"architecture: {ARCH}, batch {batch}, Adam 1e-3, float32, loss RMSE+MAE, E_0 frozen composition fit")
    data = load_qm9(n=molecules, seed=0)

    ours, n_train, fit = ours_seconds_per_epoch(data, timed, batch)
    print(f"\ntraining throughput, QM9 subset of {molecules} ({n_train} training molecules), {timed} timed epoch(s):")
    print(f"{'':>10} {'s/epoch':>10} {'molecules/s':>12} {'CPU s/epoch':>12}")
    print(f"{'ours':>10} {ours[0]:>10.3f} {n_train / ours[0]:>12.0f} {ours[1]:>12.3f}")
    energy_node = None
    if not args.no_hippynn:
        try:
            # --quick: hippynn's torch.sparse kernels. Its numba kernels compile in every process (~13 s, two
            # thirds of a quick run), its "pytorch" ones go through torch.compile (~4 s), and a one-epoch
            # timing of 160 molecules says nothing about speed anyway.
            theirs, n_theirs, energy_node = hippynn_seconds_per_epoch(data, timed, batch,
                                                                      "sparse" if args.quick else None)
            import hippynn

            from hippynn import custom_kernels

            kernels = custom_kernels.CUSTOM_KERNELS_ACTIVE
            print(f"{'hippynn':>10} {theirs[0]:>10.3f} {n_theirs / theirs[0]:>12.0f} {theirs[1]:>12.3f}   "
                  f"(hippynn {hippynn.__version__}, custom kernels: {kernels})")
            print(f"speed-up (ours / hippynn, molecules per second): {(n_train / ours[0]) / (n_theirs / theirs[0]):.2f}x "
                  f"wall, {(n_train / ours[1]) / (n_theirs / theirs[1]):.2f}x CPU time")
        except ImportError as exc:
            print(f"hippynn not available ({exc}); install it to compare")

    molecule = molecule_of(data[int(np.argmax(data.n_atoms))])
    print(f"\nMD inference (NVE, 0.5 fs), {''.join(molecule.species)} ({molecule.n_atoms} atoms), {md_steps} steps:")
    print(f"{'ours':>10} {md_ours(molecule, fit.potential, md_steps):>14.0f} atom-steps/s")
    if energy_node is not None:
        try:
            print(f"{'hippynn':>10} {md_hippynn(molecule, energy_node, md_steps):>14.0f} atom-steps/s (ASE calculator)")
        except Exception as exc:  # noqa: BLE001 -- report, do not fail the benchmark on the reference side
            print(f"hippynn ASE calculator failed: {type(exc).__name__}: {exc}")

    print(f"\nQM9 U0 learning curve ({curve_epochs} epochs max, early stopping; reference 0.26 kcal/mol at ~110k):")
    print(f"{'train':>8} {'MAE kcal/mol':>14} {'E_0 only':>14} {'epochs':>7} {'wall s':>9}")
    out = os.path.join(os.environ.get("SCALEBRIDGE_OUT", "."), "mlpot_learning_curve.png")
    learning_curve(sizes, curve_epochs, batch, out)


if __name__ == "__main__":
    main()
