"""numba's on-disk cache must keep every jitted kernel's machine code apart.

numba keys a cache file by the Python function's module, qualified name and first line, and its
index entries by signature and bytecode; the target options (``parallel=True``) are in neither.
Two dispatchers jitted from one Python function with different options would share an entry, and
the second to run would load the first one's build (the parallel LBM kernels once ran serial code
that way).
"""

import importlib
import pkgutil
from collections import defaultdict

from numba.core.registry import CPUDispatcher

PACKAGES = ("toolkit", "problems", "solvers")


def _all_modules():
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=name + "."):
            if info.name.rsplit(".", 1)[-1].startswith("_gen"):
                continue  # code generators write files when run
            yield importlib.import_module(info.name)


def _cached_dispatchers():
    seen = {}
    for module in _all_modules():
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and value._cache._enabled:
                seen[id(value)] = value
    return list(seen.values())


def test_no_two_kernels_with_different_options_share_a_cache_file():
    by_file = defaultdict(list)
    dispatchers = _cached_dispatchers()
    assert len(dispatchers) > 50, "the walk found too few kernels to be checking anything"
    for d in dispatchers:
        by_file[d._cache._cache_file._index_path].append(d)
    clashes = []
    for path, group in by_file.items():
        options = {tuple(sorted((k, repr(v)) for k, v in d.targetoptions.items())) for d in group}
        if len(options) > 1:
            clashes.append(f"{path}: {[d.py_func.__qualname__ for d in group]}")
    assert not clashes, "serial/parallel twins share a numba cache file; give the twin its own " \
                        "Python function, or spread a row kernel with toolkit.kernels.rows.RowKernel:\n" \
                        + "\n".join(clashes)

