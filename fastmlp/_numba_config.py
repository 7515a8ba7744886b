"""Numba options for every jitted function of fastmlp, in one place.

- nogil: an epoch releases the GIL, so threads (and joblib's threading
  backend) can train several models at once.
- cache: compiled loops are written next to the sources (or to
  NUMBA_CACHE_DIR), so only the first fit on a machine pays for compiling.
- no fastmath: the fast engine must reproduce the reference engine's
  float64 trajectory; reassociating sums would break that.
"""

JIT_OPTIONS = dict(nogil=True, cache=True, fastmath=False)
