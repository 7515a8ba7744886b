/* NumPy's own inner loops of np.exp and np.tanh, called on contiguous runs.
 *
 * scikit-learn applies tanh, exp and softmax's exp with NumPy's ufuncs, and
 * NumPy computes them with its own SIMD code (numpy/_core/src/umath/
 * loops_exponent_log.dispatch.c.src, loops_hyperbolic.dispatch.c.src), not
 * with the C library's: the two differ in the last bit for a few percent of
 * arguments (measured: exp 4 %, tanh 20 % of random doubles). To give NumPy's
 * bits the kernels call the very loop NumPy calls, found at import time in
 * the ufunc's loop table (_npy_loops.pxi). Until then, or where the table
 * has no such loop, the kernels use the C library (correct, other bits).
 *
 * Each Cython module that includes this header gets its own copy of these
 * pointers (they are static) and fills it when it is imported.
 */
#ifndef FASTMLP_NPY_LOOPS_H
#define FASTMLP_NPY_LOOPS_H

#include <stddef.h>

/* A NumPy inner loop: args = {in, out}, dimensions = {n}, steps in bytes. */
typedef void (*fastmlp_npy_loop_t)(char **args, const ptrdiff_t *dimensions,
                                   const ptrdiff_t *steps, void *data);

enum { FASTMLP_NPY_EXP = 0, FASTMLP_NPY_TANH = 1, FASTMLP_NPY_N_FUNCS = 2 };

/* [function][0: float32, 1: float64] */
static fastmlp_npy_loop_t fastmlp_npy_loops[FASTMLP_NPY_N_FUNCS][2];
static void *fastmlp_npy_data[FASTMLP_NPY_N_FUNCS][2];

static void fastmlp_set_npy_loop(int func, int is_double, size_t loop,
                                 size_t data) {
    fastmlp_npy_loops[func][is_double] = (fastmlp_npy_loop_t) loop;
    fastmlp_npy_data[func][is_double] = (void *) data;
}

static int fastmlp_have_npy_loop(int func, int is_double) {
    return fastmlp_npy_loops[func][is_double] != NULL;
}

/* x[0..n) = f(x[0..n)) in place, as f(x, out=x) does; the loop must be set.
 * NumPy's loops compute each element on its own, so a run split into parts
 * gives the same bits as the whole. */
static void fastmlp_npy_apply(int func, int is_double, void *x, ptrdiff_t n) {
    char *args[2];
    ptrdiff_t dims[1];
    ptrdiff_t steps[2];
    args[0] = (char *) x;
    args[1] = (char *) x;
    dims[0] = n;
    steps[0] = steps[1] = is_double ? 8 : 4;
    fastmlp_npy_loops[func][is_double](args, dims, steps,
                                       fastmlp_npy_data[func][is_double]);
}

#endif
