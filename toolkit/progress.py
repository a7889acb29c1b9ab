"""Progress bars: tqdm, shown only when standard error is a terminal and progress is wanted."""

from __future__ import annotations

import sys


def progress_bar(enabled: bool, total: int, initial: int = 0, desc: str = ""):
    """A tqdm bar, or a do-nothing stand-in when ``enabled`` is false or stderr is not a terminal."""
    from tqdm.auto import tqdm

    show = bool(enabled) and sys.stderr.isatty()
    return tqdm(total=total, initial=initial, desc=desc, disable=not show, leave=False)
