"""numba's on-disk cache must keep every jitted kernel's machine code apart.

numba keys a cache file by the Python function's module, qualified name and first line, and its
index entries by signature and bytecode; the target options (``parallel=True``) are in neither.
Two dispatchers jitted from one Python function with different options would share an entry, and
the second to run would load the first one's build (the parallel LBM kernels once ran serial code
that way). :func:`toolkit.kernels.cache_twin` gives a twin its own name and so its own file.
"""

import importlib
import pkgutil
from collections import defaultdict

import numpy as np
from numba import njit, prange
from numba.core.registry import CPUDispatcher

from toolkit.kernels import cache_twin

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
    assert not clashes, "serial/parallel twins share a numba cache file; jit the twin from " \
                        "toolkit.kernels.cache_twin(f):\n" + "\n".join(clashes)


def _body(a):
    for i in prange(a.shape[0]):
        a[i] = 2.0 * a[i]
    return a


def test_cache_twin_is_the_same_function_under_its_own_cache_file():
    serial = njit(cache=True)(_body)
    twin = cache_twin(_body)
    parallel = njit(cache=True, parallel=True)(twin)
    assert twin.__qualname__ == "_body_parallel" and twin.__code__ is _body.__code__
    assert serial._cache._cache_file._index_path != parallel._cache._cache_file._index_path
    a = np.arange(5.0)
    np.testing.assert_array_equal(parallel(a.copy()), serial(a.copy()))
