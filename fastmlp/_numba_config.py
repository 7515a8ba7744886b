"""Numba options for every jitted function of fastmlp, in one place.

- nogil: an epoch releases the GIL, so threads (and joblib's threading
  backend) can train several models at once.
- cache: compiled loops are written next to the sources (or to
  NUMBA_CACHE_DIR), so only the first fit on a machine pays for compiling.
  Where no directory is writable (a read-only install run by a user without
  a home, as in many containers) the loops compile in memory instead, with
  one warning; an unreadable cache entry (a truncated or garbled file) is
  dropped and compiled again. A model must train wherever it is deployed.
- no fastmath: the fast engine must reproduce the reference engine's
  float64 trajectory; reassociating sums would break that.
"""

import functools
import warnings
from pathlib import Path

JIT_OPTIONS = dict(nogil=True, fastmath=False)

_warned_no_cache = False


@functools.cache
def _recovering_cache_class():
    from numba.core.caching import FunctionCache

    class RecoveringCache(FunctionCache):
        """Numba's on-disk cache, but an entry that fails to load (truncated
        or garbled ``.nbi``/``.nbc`` files, a pickle of another version) is a
        cache miss: the index is reset and the function compiles again.

        Numba keys an entry to its own source file only, while a loop
        compiles in what it calls from other modules (the optimizers' step
        rate, the operation codes): the key also holds the stamps of
        fastmlp's modules, so a change to any of them recompiles."""

        def __init__(self, py_func):
            super().__init__(py_func)
            index = self._cache_file
            index._source_stamp = (index._source_stamp, _package_stamps())

        def load_overload(self, sig, target_context):
            try:
                return super().load_overload(sig, target_context)
            except Exception:
                try:
                    self.flush()  # an empty index, so the next save succeeds
                except OSError:
                    pass
                return None

        def save_overload(self, sig, data):
            try:
                super().save_overload(sig, data)
            except Exception as exc:  # a full disk, a directory gone read-only
                _warn_no_cache(f"writing {self.cache_path} failed ({exc})")

    return RecoveringCache


@functools.cache
def _package_stamps():
    """(name, mtime, size) of every module of fastmlp and its engines."""
    root = Path(__file__).parent
    return tuple(sorted((str(path.relative_to(root)), stat.st_mtime, stat.st_size)
                        for path in [*root.glob("*.py"), *root.glob("engines/*.py")]
                        for stat in [path.stat()]))


def _warn_no_cache(reason):
    global _warned_no_cache
    if not _warned_no_cache:
        _warned_no_cache = True
        warnings.warn(
            f"fastmlp cannot cache its compiled training loops: {reason}. They "
            "are compiled in memory in each process (a few seconds on the first "
            "fit). Set NUMBA_CACHE_DIR to a writable directory to cache them.",
            RuntimeWarning,
            stacklevel=3,
        )


def jit(func):
    """``numba.njit(func)`` with JIT_OPTIONS and a cache that never fails a fit."""
    from numba import config, njit

    dispatcher = njit(**JIT_OPTIONS)(func)
    if config.DISABLE_JIT:
        return dispatcher  # the Python function itself
    try:
        dispatcher._cache = _recovering_cache_class()(func)
    except RuntimeError as exc:  # Numba found no writable cache directory
        _warn_no_cache(f"no writable cache directory for {func.__module__} ({exc})")
    return dispatcher
