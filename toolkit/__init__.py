"""scalebridge core: ``solve(problem, solver)`` by multiple dispatch.

``import toolkit as tk`` gives the whole public API::

    solution = tk.solve(problem, solver, **options)   # any compatible pair
    integ = tk.init(problem, solver); integ.step(10); integ.run()
    tk.compare(problem, [solver_a, solver_b])          # swap solvers, one table
    tk.solve(tk.EnsembleProblem(problem, vary=f, n=100), solver, ensemble=tk.Processes(2))
    tk.save(solution, "run.nc"); tk.load("run.nc")

See ``DESIGN.md`` for the contract every problem family follows.
"""

from . import conventions, records, validate
from .compare import Comparison, compare
from ._struct import FrozenStruct as Struct
from .cache import ForceCache, ForceProvider, SolveCache
from .dispatch import compatibility, composed, init, problems_for, register_default_solver, solve, solvers_for
from .ensemble import Dask, EnsembleProblem, EnsembleSolution, Processes, Serial, Threads
from .errors import (FileFormatError, IncompatiblePairError, InvalidOptionError, InvalidProblemError,
                     InvalidSolverError, ScalebridgeError, SpecError, UnstableError)
from .family import Family, TourCase, families, load_plugins, register_family
from .integrator import Callback, Integrator, LogEvery, SaveEvery, StopWhen, resume
from .io import load, save
from .memory import memory_estimate
from .problem import Problem, TimeProblem, remake
from .retcode import ReturnCode
from .solution import Solution
from .solver import Solver


def _version() -> str:
    """The installed distribution's version; from a source tree without an install, pyproject.toml's."""
    from importlib import metadata

    try:
        return metadata.version("scalebridge")
    except metadata.PackageNotFoundError:
        pass
    try:
        import tomllib
        from pathlib import Path

        with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "0+unknown"


#: The scalebridge version (``importlib.metadata``; pyproject.toml's in an uninstalled source tree).
__version__ = _version()

__all__ = [
    "__version__",
    # core types
    "Problem", "TimeProblem", "Solver", "Solution", "ReturnCode", "Integrator",
    # caches and composition (solvers that hold solvers)
    "SolveCache", "ForceProvider", "ForceCache",
    # frozen, validated parameter records for components (estimators, functionals, boundaries)
    "Struct",
    # verbs
    "solve", "init", "resume", "remake", "compare", "save", "load",
    # dispatch introspection
    "solvers_for", "problems_for", "compatibility", "composed", "register_default_solver", "memory_estimate",
    # integrator callbacks
    "Callback", "StopWhen", "SaveEvery", "LogEvery",
    # ensembles
    "EnsembleProblem", "EnsembleSolution", "Serial", "Threads", "Processes", "Dask",
    # comparison
    "Comparison",
    # families
    "Family", "TourCase", "register_family", "families", "load_plugins",
    # errors
    "ScalebridgeError", "InvalidProblemError", "InvalidSolverError", "InvalidOptionError",
    "IncompatiblePairError", "UnstableError", "FileFormatError", "SpecError",
    # helper modules
    "validate", "records", "conventions",
]
