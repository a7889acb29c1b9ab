"""A sphinx-gallery image scraper for the figures a tutorial saves with ``savefig``.

The tutorials write their figures into ``SCALEBRIDGE_OUT`` (and some close them after
saving, so matplotlib's own scraper would miss them). After each code block this scraper
copies every image file in that folder that is new or changed since it last looked into the
gallery's image folder, in name order, and returns the rST that shows them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx_gallery.scrapers import figure_rst

_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg"}


def _images() -> dict[Path, int]:
    """Image files in ``SCALEBRIDGE_OUT``: path -> modification time (ns)."""
    out = Path(os.environ["SCALEBRIDGE_OUT"])
    return {path: path.stat().st_mtime_ns for path in sorted(out.rglob("*"))
            if path.suffix.lower() in _SUFFIXES and path.is_file()} if out.is_dir() else {}


#: Image files already shown (or there before the build): path -> modification time (ns).
_SEEN: dict[Path, int] = _images()


def scrape(block, block_vars, gallery_conf, **kwargs):
    """Copy the figures the block saved into ``SCALEBRIDGE_OUT``; return their rST."""
    fresh = []
    for path, stamp in _images().items():
        if _SEEN.get(path) != stamp:
            _SEEN[path] = stamp
            fresh.append(path)
    shown = []
    for path, target in zip(fresh, block_vars["image_path_iterator"]):
        target = Path(target).with_suffix(path.suffix.lower())
        shutil.copyfile(path, target)
        shown.append(target)
    return figure_rst(shown, gallery_conf["src_dir"])
