"""Sphinx configuration: the API reference (autodoc) and the tutorials gallery (sphinx-gallery).

Build the whole site, tutorials executed at small size with their figures (from the
repository root, after ``.venv/bin/pip install -e '.[docs]'``)::

    .venv/bin/sphinx-build -W -b html docs docs/_build/html

``-D plot_gallery=0`` skips running the tutorials (their pages then show code only); this is
what ``tests/test_docs.py`` builds. Every cross-reference must resolve (``nitpicky``): a
docstring naming an object that does not exist fails the build under ``-W`` (how names are
looked up: ``_resolve_by_object`` below). The build never touches the network: there is no
intersphinx; objects without a page here (third-party types, internal helpers) are shown as
code, unlinked.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

# The gallery runs each tutorial at its small size, figures to a scratch folder (the scraper
# in _ext/saved_figures.py copies them into the pages). Small runs say their numbers are not
# converged; run a tutorial by hand without SCALEBRIDGE_SMALL for the full size.
os.environ.setdefault("SCALEBRIDGE_SMALL", "1")
if "SCALEBRIDGE_OUT" not in os.environ:
    os.environ["SCALEBRIDGE_OUT"] = tempfile.mkdtemp(prefix="scalebridge-docs-figures-")
    atexit.register(shutil.rmtree, os.environ["SCALEBRIDGE_OUT"], ignore_errors=True)
os.environ.setdefault("MPLBACKEND", "Agg")

import toolkit  # noqa: E402

project = "scalebridge"
author = "the scalebridge authors"
copyright = "2026, the scalebridge authors"
release = toolkit.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
html_theme = "furo"
html_title = f"scalebridge {release}"
# MathJax is loaded by the reader's browser from its CDN; the build itself needs no network.

# Every reference must resolve; a broken one is a warning, and -W makes it an error. There is no
# intersphinx (the build stays offline): a third-party object (``numpy.ndarray``, ``xarray.Dataset``)
# is shown as code, unlinked, by ``_resolve_by_object`` below, because it exists. Annotations that
# name a module by its import alias (``np.ndarray``) cannot be looked up that way; those aliases are
# listed here. This list holds third-party module aliases only, never scalebridge's own names.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(np|npt|sp|xr|pd|plt|mpl)\..+")]

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Heavy optional back ends (PySCF, tblite, qm9pack, hippynn) are imported inside the functions
# that use them, so importing the packages for autodoc needs none of them.

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "tutorials"),
    "gallery_dirs": "tutorials",
    # Every numbered tutorial is executed (sphinx-gallery's default runs only plot_*.py).
    "filename_pattern": re.escape(os.sep) + r"\d\d_",
    "ignore_pattern": r"__init__\.py|/specs/",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("saved_figures.scrape",),
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_signature": False,
    "min_reported_time": 1,
    "write_computation_times": True,
}

# Members a family's ``solvers`` subpackage re-exports from ``problems`` are documented once, on
# the problems page (documenting them twice is a duplicate-object error).
_current_module = {"name": ""}


def _remember_module(app, what, name, obj, options, lines):
    if what == "module":
        _current_module["name"] = name


def _skip_reexported_problem_types(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", None) or ""
    if _current_module["name"].startswith("solvers.") and module.startswith("problems."):
        return True
    return None


# Docstrings here are written to read well as plain text (``help()``, an editor). Three of their
# habits are not reST, and are translated when the pages are built; nothing else is rewritten:
#
# * aligned tables of names, ``name``  description (continuation lines indented under the
#   description), and "Fields" sections of ``name: description`` items, become definition lists;
# * ``|chi|`` (absolute values, norms), a lone ``*shape`` and a word ending in an underscore
#   (``s_``) would be read as a substitution, as emphasis and as a link: outside inline literals
#   and literal blocks they are escaped; an inline literal glued to what follows
#   (````points``^D``) is separated from it by an escaped (invisible) space;
# * an attribute without a docstring would inherit the docstring of its value's builtin type
#   (``dict()`` ...), which is dropped.
_LITERAL = re.compile(r"(``.*?``)")
_TABLE_ITEM = re.compile(r"^((?:``[^`]+``(?:,\s*)?)+)\s{2,}(\S.*)$")
_FIELD_ITEM = re.compile(r"^([A-Za-z_]\w*(?:,\s*[A-Za-z_]\w*)*):\s+(\S.*)$")
_EMPHASIS = re.compile(r"(?<![\w*])\*\*?\S(?:[^*]*?\S)?\*\*?(?!\w)")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?![\w`])")
_GLUED_AFTER = re.compile(r"[^\s\-.,:;!?\\/'\")\]}>`]")  # may not follow an inline literal directly
_LONE_STAR = re.compile(r"(?<=[\s(\[])\*(?=\w+[\s,)\]])")
_BUILTIN_DOCS = {" ".join((t.__doc__ or "").split()) for t in (dict, list, tuple, set, frozenset, str, int, float,
                                                               bool, bytes, type(None), object)}


def _definition_lists(lines, item, start=0, stop=None):
    """Turn runs of ``item`` lines (with indented continuations) into reST definition lists."""
    stop = len(lines) if stop is None else stop
    out, i = lines[:start], start
    while i < stop:
        run, j = [], i
        while j < stop and lines[j].strip():
            match = item.match(lines[j])
            if match:
                run.append([match.group(1), [match.group(2)]])
            elif run and lines[j].startswith(" "):
                run[-1][1].append(lines[j].strip())
            else:
                break
            j += 1
        if len(run) >= 2 or (run and item is _FIELD_ITEM):
            if out and out[-1].strip():
                out.append("")
            for term, body in run:
                name = term if term.startswith("``") else ", ".join(f"``{t.strip()}``" for t in term.split(","))
                out.append(name)
                out.extend("    " + text for text in body)
            out.append("")
            i = j
        else:
            # a paragraph that is not an item: its own paragraph, continuation lines joined
            line = lines[i]
            if item is _FIELD_ITEM and out and out[-1].strip() and not line.startswith(" "):
                out.append("")
            out.append(line.strip() if item is _FIELD_ITEM else line)
            i += 1
            if item is _FIELD_ITEM and (i >= stop or not lines[i].startswith(" ")):
                out.append("")
    return out + lines[stop:]


def _plain_text_habits(app, what, name, obj, options, lines):
    if lines and " ".join(" ".join(lines).split()) in _BUILTIN_DOCS:
        lines[:] = []
        return
    text = list(lines)
    # "Fields" sections: a heading underlined with dashes, items up to the next blank line
    for k in range(len(text) - 1):
        if text[k].strip() == "Fields" and set(text[k + 1].strip()) == {"-"}:
            stop = next((m for m in range(k + 2, len(text)) if not text[m].strip()), len(text))
            text = text[:k] + [".. rubric:: Fields", ""] + _definition_lists(text[k + 2:stop], _FIELD_ITEM) + text[stop:]
            break
    text = _definition_lists(text, _TABLE_ITEM)
    block_indent = None
    for i, line in enumerate(text):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if block_indent is not None:
            if stripped and indent <= block_indent:
                block_indent = None
            else:
                continue
        if not stripped.startswith((">>>", "...", ".. ")):
            parts = _LITERAL.split(line)
            for k in range(0, len(parts), 2):
                part = _TRAILING_UNDERSCORE.sub(r"\_", parts[k].replace("|", r"\|"))
                if k and _GLUED_AFTER.match(part):
                    part = "\\ " + part
                if not _EMPHASIS.search(part):  # a line with *emphasis* keeps its stars
                    part = _LONE_STAR.sub(r"\*", part)
                parts[k] = part
            text[i] = "".join(parts)
        if stripped.endswith("::") or stripped.startswith(".. code"):
            block_indent = indent
    lines[:] = text


# How a Python reference that Sphinx cannot find by name is resolved. The name is looked up the
# way Python would, in the object whose docstring holds it and then in that object's module
# (``:class:`Relaxation``` in ``solvers.density_field.spectral`` is the ``Relaxation`` that
# module imports). If that object is documented anywhere, under any name, the reference links
# there (``toolkit._struct.FrozenStruct`` is documented as ``toolkit.Struct``). If it exists but
# has no page (an internal module or helper), the reference is shown as code, unlinked. A name
# that names nothing (a typo, a renamed or removed object) stays a broken reference and fails the
# build under -W.
def _lookup(dotted: str):
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None



_DOCUMENTED: dict[int, str] = {}  # id(object) -> its shortest documented name; built once per process


def _documented_objects(env):
    if not _DOCUMENTED:
        for fullname in sorted(env.get_domain("py").objects, key=len):
            obj = _lookup(fullname)
            if obj is not None and not isinstance(obj, (int, float, str, bytes, bool, tuple)):
                _DOCUMENTED.setdefault(id(obj), fullname)
    return _DOCUMENTED


def _scopes(node):
    """Dotted names to look a reference up in: its docstring's owner, the owner's parents, its module."""
    from sphinx.util.nodes import get_node_source

    try:
        source = get_node_source(node)
    except ValueError:
        source = ""
    owner = source.rpartition("docstring of ")[2] if "docstring of " in source else ""
    scopes = [node.get("py:module") or ""]
    if owner:
        parts = owner.split(".")
        scopes = [".".join(parts[:cut]) for cut in range(len(parts), 0, -1)] + scopes
        module = getattr(_lookup(owner), "__module__", None)
        if isinstance(module, str):
            scopes.insert(1, module)
    return [scope for i, scope in enumerate(scopes) if scope not in scopes[:i]]


def _resolve_by_object(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~").removesuffix("()")
    for scope in [*_scopes(node), ""]:
        candidate = f"{scope}.{target}" if scope else target
        obj = _lookup(candidate)
        if obj is None:
            continue
        documented = _documented_objects(env).get(id(obj))
        head, _, attr = candidate.rpartition(".")
        if documented is None and head:
            parent = _documented_objects(env).get(id(_lookup(head)))
            documented = f"{parent}.{attr}" if parent else None
        if documented is not None:
            found = env.get_domain("py").resolve_any_xref(env, node["refdoc"], app.builder, documented, node,
                                                          contnode)
            if found:
                return found[0][1]
        return contnode  # it exists, but has no page: shown as code
    return None


# A dataclass field with a default factory shows as ``=<factory>`` in its class's signature, which
# is not Python and breaks the parsing of the annotations around it; show the factory's call.
def _show_default_factories(app, what, name, obj, options, signature, return_annotation):
    import dataclasses

    if signature is None or "<factory>" not in signature or not dataclasses.is_dataclass(obj):
        return None
    for field in dataclasses.fields(obj):
        if field.default_factory is not dataclasses.MISSING:
            start = max(signature.find(f"{field.name}:"), signature.find(f"{field.name}="), 0)
            factory = getattr(field.default_factory, "__qualname__", "factory")
            signature = signature[:start] + re.sub(r"\s*=\s*<factory>", f" = {factory}()", signature[start:], count=1)
    return signature, return_annotation


# The API pages of problems and solvers hold one section per family, in the packages' own order;
# the families are read from the packages (problems.FAMILY_MODULES, solvers.FAMILIES), never
# listed by hand.
def _family_sections(app, docname, source):
    import importlib

    package = {"api/problems": "problems", "api/solvers": "solvers"}.get(docname)
    if package:
        module = importlib.import_module(package)
        families = module.FAMILY_MODULES if package == "problems" else module.FAMILIES
        source[0] += "".join(f"\n.. automodule:: {family.__name__}\n" for family in families)


def setup(app):
    app.connect("source-read", _family_sections)
    app.connect("autodoc-process-signature", _show_default_factories)
    app.connect("autodoc-process-docstring", _remember_module)
    app.connect("autodoc-process-docstring", _plain_text_habits)
    app.connect("autodoc-skip-member", _skip_reexported_problem_types)
    app.connect("missing-reference", _resolve_by_object)
