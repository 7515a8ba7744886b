# The epochs' shuffle (_shuffle.h), for fastmlp/_random.py. Included by
# _train.pyx.

from cpython.pycapsule cimport PyCapsule_GetPointer


cdef extern from "_shuffle.h" nogil:
    ctypedef struct fastmlp_mt_state:
        unsigned int key[624]
        int pos
    void fastmlp_mt_shuffle(fastmlp_mt_state *st, Py_ssize_t *x, Py_ssize_t n)


# NumPy's bit generator interface (numpy/random/bitgen.h, public for
# extensions): its first member points at the generator's state.
cdef extern from *:
    """
    typedef struct { void *state; } fastmlp_bitgen_head;
    """
    ctypedef struct fastmlp_bitgen_head:
        void *state


cdef fastmlp_mt_state *_mt_state(object capsule) except NULL:
    return <fastmlp_mt_state *> (<fastmlp_bitgen_head *> PyCapsule_GetPointer(
        capsule, "BitGenerator")).state


def mt19937_state(object capsule):
    """(key words, position) as this module reads an MT19937's state."""
    cdef fastmlp_mt_state *st = _mt_state(capsule)
    return [st.key[i] for i in range(624)], st.pos


def mt19937_shuffle(object capsule, Py_ssize_t[::1] x):
    """Shuffle x in place as ``RandomState.shuffle(x)`` would, with the
    draws of the MT19937 behind ``capsule`` (a bit generator's ``capsule``),
    whose lock the caller holds; at most 2^32 entries."""
    cdef fastmlp_mt_state *st = _mt_state(capsule)
    if x.shape[0] > 0x100000000:
        raise ValueError("at most 2**32 entries")
    if x.shape[0] > 1:
        with nogil:
            fastmlp_mt_shuffle(st, &x[0], x.shape[0])
