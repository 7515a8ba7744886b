"""fastmlp's tunables, in one place: the sizes, thresholds and times that set
speed only, never results.

Plain constants and nothing to import, so that setup.py reads this file as
it is and hands the C-level ones (the ``C_MACROS`` names) to the compiler as
``FASTMLP_<NAME>``: the kernels have no default of their own, and a build
without them fails. Changing one rebuilds the kernels.
"""

# --- Python level

# The time one call of a training loop aims at. Python handles Ctrl-C only
# between calls, so this bounds how long an interrupt waits; a call costs
# ~20 us of dispatch, so 0.05 s of work per call hides it entirely.
SLICE_SECONDS = 0.05

# Dense float32 input to predict runs through the network this many rows at
# a time (float64 runs each layer over all rows, for scikit-learn's bits:
# fastmlp/_inference.py):
# a block's activations stay in cache for the next layer (10000x784 float32,
# hidden (100,): 11.3 ms -> 10.2 ms in 512-row blocks), and while one block
# runs, idle threads check the next for non-finite values (kernels/_pool.h).
# Once that check left the blocks' critical path, larger blocks made larger
# GEMMs: 9.7 ms (512 rows) -> 9.1-9.3 ms (768-2048), GEMM floor 8.4 ms.
INFERENCE_BLOCK_ROWS = 1024

# predict on at most this many C-ordered float rows skips validate_data's
# ~60 us (its checks are made directly; the forward pass checks finiteness).
FAST_PATH_MAX_ROWS = 16

# The CUDA engine captures an epoch's launches once per fit as a CUDA graph
# and replays it (one launch an epoch instead of ~15 a minibatch); False
# launches each kernel from Python (the benchmark's "eager" row).
CUDA_GRAPHS = True

# float32 backward passes take delta @ W^T as a plain product with a copy of
# W transposed, for layers whose W has at most this many entries (a copy of
# up to 32 KB): OpenBLAS's small-matrix path multiplies by a transposed
# operand several times slower (one core, delta 32 x 3 by W^T 3 x 32: 297 ->
# 79 ns; 200 x 10 by 10 x 100: 6.3 -> 3.7 us). float64 keeps the
# transposed product: scikit-learn's bits come from it.
TRANSPOSED_WEIGHTS_MAX = 8192
# --- C level (kernels/_pool.h, kernels/_train.pyx)

# A pass splits over the pool only from this much work: a split costs a
# wake-up (~2-5 us) and moves half the block between the cores' caches.
PARALLEL_MIN_STEP = 16384        # parameters, for an optimizer step
PARALLEL_MIN_ELEMENTS = 131072   # entries, for activation passes
PARALLEL_MIN_BYTES = 65536       # bytes, for the minibatch gather
# A bfloat16 GEMM (kernels/_bf16.h) splits from this many multiply-adds
# (~2 us of one core's AMX): below it, a wake-up and the shared packing
# cost more than the half they save.
PARALLEL_MIN_MACS = 2097152
# An entry of the added activations' passes (libm's erfc, exp, expm1 per
# element, kernels/_activations.h) weighs this many entries against
# PARALLEL_MIN_ELEMENTS: gelu on a 200 x 512 block costs ~60 us forward and
# ~110 us backward on one core, against ~10 us for relu.
MATH_PASS_WEIGHT = 8

# The pool's workers stay awake this long after a part (so the next GEMM of
# the step finds them), yielding the core every POOL_PAUSES pauses.
POOL_SPIN_NS = 1_000_000
POOL_PAUSES = 64

C_MACROS = ("PARALLEL_MIN_STEP", "PARALLEL_MIN_ELEMENTS", "PARALLEL_MIN_BYTES",
            "PARALLEL_MIN_MACS",
            "MATH_PASS_WEIGHT", "POOL_SPIN_NS", "POOL_PAUSES")
