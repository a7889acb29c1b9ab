"""The documentation builds: the API reference with every cross-reference resolved, every tutorial
in the gallery, and small tutorial runs that say their numbers are not converged.

The site is built as ``docs/conf.py`` says (``sphinx-build -W``, nitpicky), with the tutorials
not executed (``-D plot_gallery=0``: their pages show the code; executing them is
``tests/test_scripts.py``'s job), from a copy of the ``.rst`` sources into a temporary folder,
so nothing is written into the working tree. No network is used: there is no intersphinx.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))


def _sphinx(source: pathlib.Path, out: pathlib.Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SCALEBRIDGE_SMALL="1", SCALEBRIDGE_OUT=str(out / "figures"), MPLBACKEND="Agg",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    (out / "figures").mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", "-c", str(DOCS),
               "-D", "plot_gallery=0", "-d", str(out / "doctrees"), str(source), str(out / "html")]
    return subprocess.run(command, cwd=out, env=env, capture_output=True, text=True, timeout=600)


def _copy_sources(target: pathlib.Path) -> pathlib.Path:
    shutil.copytree(DOCS, target, ignore=shutil.ignore_patterns(
        "_build", "_ext", "tutorials", "conf.py", "sg_execution_times.rst", ".gitignore", "__pycache__"))
    return target


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    source = _copy_sources(out / "src")
    result = _sphinx(source, out)
    return source, out / "html", result


def test_api_reference_builds_with_every_reference_resolved(built_site):
    _, html, result = built_site
    problems = [line for line in result.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert result.returncode == 0 and not problems, (
        "the documentation build failed (a broken cross-reference, bad reST in a docstring or a module "
        "that does not import); fix the docstring:\n" + "\n".join(problems or [result.stderr[-4000:]]))
    for page in ("index", "api/toolkit", "api/problems", "api/solvers"):
        assert (html / f"{page}.html").exists(), page
    toolkit_page = (html / "api" / "toolkit.html").read_text()
    for name in ("toolkit.solve", "toolkit.Problem", "toolkit.Solver", "toolkit.Solution", "toolkit.ReturnCode"):
        assert f'id="{name}"' in toolkit_page, f"{name} is missing from the API reference"


def test_every_tutorial_is_in_the_gallery(built_site):
    _, html, _ = built_site
    index = (html / "tutorials" / "index.html").read_text()
    for script in TUTORIALS:
        assert (html / "tutorials" / f"{script.stem}.html").exists(), f"{script.name} has no gallery page"
        assert f'href="{script.stem}.html"' in index, f"{script.name} is not listed on the gallery's index page"


def test_the_gallery_executes_every_tutorial(monkeypatch, tmp_path):
    # sphinx-gallery runs only the files its filename_pattern matches (by default plot_*.py).
    # conf.py sets environment variables and sys.path: keep them to this test.
    for name, value in (("SCALEBRIDGE_SMALL", "1"), ("SCALEBRIDGE_OUT", str(tmp_path)), ("MPLBACKEND", "Agg")):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "path", list(sys.path))
    namespace = {"__file__": str(DOCS / "conf.py")}
    exec(compile((DOCS / "conf.py").read_text(), str(DOCS / "conf.py"), "exec"), namespace)
    pattern = re.compile(namespace["sphinx_gallery_conf"]["filename_pattern"])
    assert TUTORIALS
    for script in TUTORIALS:
        assert pattern.search(str(script)), f"{script.name} would be shown but not run by sphinx-gallery"


def test_a_broken_reference_fails_the_build(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "index.rst").write_text(
        "Broken\n======\n\nSee :class:`toolkit.NoSuchProblem` and :func:`toolkit.solve`.\n\n"
        ".. toctree::\n\n   tutorials/index\n")
    result = _sphinx(source, tmp_path)
    assert result.returncode != 0
    assert "toolkit.NoSuchProblem" in result.stderr and "toolkit.solve" not in result.stderr.replace(
        "toolkit.NoSuchProblem", ""), result.stderr[-3000:]


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_is_a_gallery_page_and_says_small_runs_are_not_converged(script):
    text = script.read_text()
    docstring = re.match(r'"""(.*?)"""', text, re.S)
    assert docstring, f"{script.name} must open with a module docstring (the gallery page's text)"
    title, underline = (docstring.group(1).splitlines() + ["", ""])[:2]
    assert title.strip() and set(underline) == {"="} and len(underline) >= len(title), (
        f"{script.name}: the docstring's first line is the page title and must be underlined with '='")
    assert re.search(r"print\([^)]*NOT converged", text), (
        f"{script.name} must print, when run at small size, that its numbers are NOT converged")
