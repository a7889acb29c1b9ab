"""Layout of the family (issue 16.7): one module per saddle solver; problem builders in ``problems``."""

import ast
import importlib
import inspect
from pathlib import Path

import toolkit as tk
import problems.density_field as pdf
import solvers.density_field as sdf
from problems.density_field import NucleationBarrier

ROOT = Path(__file__).parents[2]
SADDLE_MODULES = {"StringMethod": "string_method", "GridNewtonKrylov": "grid_newton",
                  "RadialNewtonKrylov": "radial_newton", "DimerMethod": "dimer", "SizeScan": "size_scan"}


def test_each_saddle_solver_has_its_own_module_holding_only_it():
    assert {S.__name__ for S in tk.solvers_for(NucleationBarrier)} == set(SADDLE_MODULES)
    for name, module in SADDLE_MODULES.items():
        cls = getattr(sdf, name)
        assert cls.__module__ == f"solvers.density_field.{module}"
        mod = importlib.import_module(cls.__module__)
        own = [c for _, c in inspect.getmembers(mod, inspect.isclass)
               if issubclass(c, tk.Solver) and c.__module__ == mod.__name__]
        assert own == [cls], (module, own)


def test_problem_builders_live_in_problems_and_problems_never_import_solvers():
    family = next(f for f in tk.families() if f.name == "density-field")
    assert family.builders
    for name, builder in family.builders.items():
        assert builder.__module__ == "problems.density_field" and getattr(pdf, name) is builder
        assert name in pdf.__all__
    for name in ("bcc_droplet_seed", "bcc_lattice_constant"):
        assert getattr(pdf, name).__module__ == "problems.density_field"
    tree = ast.parse((ROOT / "problems" / "density_field.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m == "solvers" or m.startswith("solvers.") for m in imported), imported
