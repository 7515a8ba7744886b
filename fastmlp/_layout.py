"""The flat parameter buffer and how the per-layer arrays sit in it.

All weights of a network live in one contiguous 1-D buffer, in the order
scikit-learn packs them for L-BFGS: every layer's coefficient matrix raveled
in C order, then every layer's intercept vector. ``coefs_`` and
``intercepts_`` are views of that buffer, the optimizer state (Adam moments,
momentum velocities) and the gradient mirror it, so an optimizer step is one
pass over one array and L-BFGS needs no packing.
"""

import numpy as np


class ParamLayout:
    """Offsets of each layer's coefficients and intercepts in the flat buffer.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    """

    def __init__(self, layer_units):
        self.layer_units = tuple(int(u) for u in layer_units)
        pairs = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.coef_shapes = pairs
        self.coef_slices = []
        self.intercept_slices = []
        start = 0
        for fan_in, fan_out in pairs:
            self.coef_slices.append(slice(start, start + fan_in * fan_out))
            start += fan_in * fan_out
        for _, fan_out in pairs:
            self.intercept_slices.append(slice(start, start + fan_out))
            start += fan_out
        self.size = start

    @property
    def n_weight_layers(self):
        return len(self.coef_shapes)

    def coef_views(self, flat):
        """The coefficient matrices as views of ``flat``."""
        return [
            flat[s].reshape(shape)
            for s, shape in zip(self.coef_slices, self.coef_shapes)
        ]

    def intercept_views(self, flat):
        """The intercept vectors as views of ``flat``."""
        return [flat[s] for s in self.intercept_slices]

    def coef_size(self):
        """Number of entries before the first intercept (all coefficients)."""
        return self.intercept_slices[0].start

    def pack(self, coefs, intercepts, dtype):
        """A new flat buffer of ``dtype`` holding copies of the given arrays."""
        shapes = [np.shape(c) for c in coefs]
        if shapes != self.coef_shapes or [np.shape(b) for b in intercepts] != [
            (fan_out,) for _, fan_out in self.coef_shapes
        ]:
            raise ValueError(
                "The fitted coefs_/intercepts_ do not match the network "
                f"{list(self.layer_units)}: coefficient shapes are {shapes}. "
                "hidden_layer_sizes and the number of features or outputs "
                "must not change between warm-started or partial fits."
            )
        flat = np.empty(self.size, dtype=dtype)
        for view, array in zip(
            self.coef_views(flat) + self.intercept_views(flat),
            list(coefs) + list(intercepts),
        ):
            view[...] = array
        return flat
