"""One namespace for users (issue 16, item 5): ``problems.X`` and ``solvers.X`` reach every family's
public names, and no two families export one name for two different objects.

The collisions are recomputed here from the family modules' ``__all__``, not read from the
packages, so a new family is covered as soon as it exists.
"""

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import problems
import solvers
from toolkit.spec import vocabulary

#: Collisions awaiting a rename in the family modules (none left: the fluid's LATTICES became
#: FLUID_LATTICES). Add a name here only with an issue that says when it goes.
PENDING: set[str] = set()


def _public(package, want_packages: bool) -> dict[str, list[tuple[str, object]]]:
    """name -> [(module, object)] over the package's family modules (subpackages for solvers)."""
    found: dict[str, list] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg != want_packages:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        assert hasattr(module, "__all__"), f"{module.__name__} has no __all__: list its public names"
        for name in module.__all__:
            obj = getattr(module, name)
            if not isinstance(obj, types.ModuleType):
                found.setdefault(name, []).append((module.__name__, obj))
    return found


def _collisions(found: dict) -> dict[str, list[str]]:
    return {name: [m for m, _ in items] for name, items in found.items()
            if any(obj is not items[0][1] for _, obj in items)}


PROBLEM_NAMES = _public(problems, want_packages=False)
SOLVER_NAMES = _public(solvers, want_packages=True)


def test_no_two_families_export_one_name_for_two_objects():
    both = {name: PROBLEM_NAMES.get(name, []) + SOLVER_NAMES.get(name, [])
            for name in set(PROBLEM_NAMES) | set(SOLVER_NAMES)}
    collisions = _collisions(both)
    new = {name: where for name, where in collisions.items() if name not in PENDING}
    assert not new, (f"these names mean different objects in different families: {new}. Rename one, or "
                     "make it one type that dispatches on the problem (issue 16.5)")
    resolved = PENDING - set(collisions)
    assert not resolved, f"{sorted(resolved)} no longer collide: remove them from PENDING"


def test_problems_namespace_reaches_every_family_module_name():
    for name, items in PROBLEM_NAMES.items():
        if name in PENDING:
            continue
        assert getattr(problems, name) is items[0][1], name
        assert name in problems.__all__
    assert problems.TightBinding.__module__ == "problems.tight_binding"
    assert problems.LatticeFluid.__module__ == "problems.lattice_fluid"
    assert problems.MolecularDynamics.__module__ == "problems.molecule"


def test_solvers_namespace_reaches_every_family_subpackage_name():
    for name, items in SOLVER_NAMES.items():
        assert getattr(solvers, name) is items[0][1], name
        assert name in solvers.__all__
    assert solvers.KPM.__module__.startswith("solvers.tight_binding")
    assert solvers.BGK.__module__.startswith("solvers.lattice_boltzmann")
    assert solvers.LennardJones.__module__.startswith("solvers.molecule")
    assert solvers.SemiImplicit.__module__.startswith("solvers.density_field")
    assert solvers.RandomForest.__module__.startswith("solvers.strain_signal")
    assert solvers.TightBinding is problems.TightBinding     # a problem re-exported by its family


@pytest.mark.parametrize("package", [problems, solvers])
def test_an_ambiguous_name_is_refused_with_advice(package):
    assert set(package.AMBIGUOUS) == set(_collisions(PROBLEM_NAMES if package is problems else SOLVER_NAMES))
    for name, modules in package.AMBIGUOUS.items():
        with pytest.raises(AttributeError, match=rf"{package.__name__}.{name} is ambiguous: {modules[0]}"):
            getattr(package, name)
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        package.NoSuchThing


def test_every_spec_name_is_unique_across_the_installed_families():
    names = vocabulary()   # raises SpecError on a collision
    for expected in ("TightBinding", "KPM", "BGK", "LatticeFluid", "LennardJones", "SemiImplicit", "SliderODE"):
        assert expected in names


def test_import_stays_light():
    """``import problems`` / ``import solvers`` import no optional heavy back end."""
    code = ("import sys, problems, solvers\n"
            "heavy = [m for m in ('torch', 'pyscf', 'dask', 'distributed', 'matplotlib', 'sklearn', 'xarray')"
            " if m in sys.modules]\n"
            "print(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"import solvers pulled in {result.stdout.strip()}"
