"""Dropout masks: a counter-based generator, the specification every engine
draws from.

Design: a minibatch's mask for one hidden layer is a pure function of the
fit's seed (drawn from ``random_state``), the optimizer's step (1-based,
counted across epochs and partial fits), the layer and the element's index
in the layer's row-major (rows x units) block. Nothing is stored or
streamed: the backward pass draws the forward mask again, and every engine
(the numpy reference here, the C kernel ``kernels/_dropout.h``, a GPU
kernel) computes the same bits from the same four numbers, in any order
and on any number of threads.

    key(seed, step, layer): splitmix64's finalizer applied twice, on 64-bit
        words: z = mix64(seed + GOLDEN64 * (step + 1)), then
        z = mix64(z + GOLDEN64 * (layer + 1)); the key is z's high 32 bits.
    hash(key, i): murmur3's 32-bit finalizer of (i * GOLDEN32 + key) mod
        2^32, a bijection of i for each key.
    keep(i): hash(key, i) >= threshold, threshold = floor(p * 2^32):
        an element is dropped with probability p (to 2^-32).
    output: x * (1 / (1 - p)) where kept (inverted dropout: the expected
        output is the input), 0 where dropped; the scale in x's dtype.
"""

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN64 = 0x9E3779B97F4A7C15
GOLDEN32 = 0x9E3779B9


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def layer_key(seed, step, layer):
    """The 32-bit key of hidden layer ``layer``'s mask at ``step``."""
    z = _mix64((seed + GOLDEN64 * (step + 1)) & MASK64)
    z = _mix64((z + GOLDEN64 * (layer + 1)) & MASK64)
    return z >> 32


def threshold(p):
    """The hash below which an element is dropped, for a rate p in [0, 1)."""
    return int(p * 2.0**32)


def keep_mask(seed, step, layer, shape, p):
    """Which elements of a (rows, units) block are kept."""
    i = np.arange(int(np.prod(shape)), dtype=np.uint32)
    h = i * np.uint32(GOLDEN32) + np.uint32(layer_key(seed, step, layer))
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return (h >= np.uint32(threshold(p))).reshape(shape)


def apply(X, mask, p):
    """X * (1 / (1 - p)) where mask, else 0 (a new array of X's dtype)."""
    return np.where(mask, X * (1.0 / (1.0 - p)), 0).astype(X.dtype, copy=False)
