"""Imports run one way: toolkit <- problems <- solvers, and no family imports another.

Read from the source (every ``import`` / ``from ... import`` statement, at any depth, so
imports inside functions count too): ``toolkit`` imports neither ``problems`` nor ``solvers``;
``problems`` imports only ``toolkit``; a family subpackage of ``solvers`` imports no other
family (it uses another's solver only through ``tk.init`` / ``tk.solve`` on an object the
user passed in).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Modules of ``problems`` that belong to another module's family and may import it: the molecule
#: family's datasets (training sets, fits, active-learning campaigns) are built on its molecules; the
#: fluid family's bridge coarse-grains an atomistic fluid (a molecule-family measurement) into a lattice model.
SAME_FAMILY = {"datasets": {"molecule"}, "fluid_bridge": {"molecule"}}
PACKAGES = ("toolkit", "problems", "solvers")


def _imports(path: Path, package: str) -> list[str]:
    """Absolute dotted names a module imports (relative imports resolved)."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name == "__init__.py":
        module = module.rsplit(".", 1)[0] + ".__init__"
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                names.append(".".join(base + ([node.module] if node.module else [])))
            else:
                names.append(node.module)
    return names


def _modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_import_direction(package):
    bad = []
    for path in _modules(package):
        for name in _imports(path, package):
            top = name.split(".")[0]
            if package == "toolkit" and top in ("problems", "solvers"):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
            if package == "problems" and top == "solvers":
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
            if package == "problems" and top == "problems":
                own = path.relative_to(ROOT).with_suffix("").parts
                target = name.split(".")[1] if len(name.split(".")) > 1 else None
                if target and target != own[-1] and own[-1] != "__init__" and \
                        target not in SAME_FAMILY.get(own[-1], ()):
                    bad.append(f"{path.relative_to(ROOT)} imports another family's module {name}")
            if package == "solvers" and top == "solvers":
                family = path.relative_to(ROOT / "solvers").parts[0]
                parts = name.split(".")
                if len(parts) > 1 and family.endswith(".py") is False and parts[1] != family:
                    bad.append(f"solvers/{family} imports another family: {name}")
    assert not bad, "imports against the direction toolkit <- problems <- solvers:\n" + "\n".join(bad)
