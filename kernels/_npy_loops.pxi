# Included by every kernel module that cimports _npy_loops: each such module
# keeps its own copy of the loop pointers (_npy_loops.h), filled here when
# the module is imported.

cimport numpy as cnp
import numpy as _np


cdef bint _find_npy_loop(cnp.ufunc uf, int typenum, int func, int is_double):
    """Hand the ufunc's loop for typenum -> typenum to _npy_loops.h."""
    cdef int i
    if uf.nin != 1 or uf.nout != 1:
        return False
    for i in range(uf.ntypes):
        if uf.types[2 * i] == typenum and uf.types[2 * i + 1] == typenum:
            fastmlp_set_npy_loop(func, is_double, <size_t> uf.functions[i],
                                 <size_t> (uf.data[i] if uf.data != NULL else NULL))
            return True
    return False


def _find_npy_loops():
    found = {}
    for name, func in (("exp", FASTMLP_NPY_EXP), ("tanh", FASTMLP_NPY_TANH)):
        uf = getattr(_np, name)
        for dtype, typenum, is_double in (("float32", cnp.NPY_FLOAT, 0),
                                          ("float64", cnp.NPY_DOUBLE, 1)):
            found[name, dtype] = _find_npy_loop(uf, typenum, func, is_double)
    return found


_NPY_LOOPS = _find_npy_loops()


def npy_loops():
    """{(ufunc name, dtype): whether this module calls NumPy's own loop}."""
    return dict(_NPY_LOOPS)
