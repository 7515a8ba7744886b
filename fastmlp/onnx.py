"""ONNX export: ``import fastmlp.onnx`` registers fastmlp's estimators with
skl2onnx, so ``skl2onnx.to_onnx(model, X[:1])`` converts them.

The graph is the forward pass that predict runs: per layer a MatMul and an
Add, then the layer's activation. Every activation fastmlp offers has an
ONNX form: Relu, Tanh, Sigmoid, LeakyRelu (alpha 0.01), Elu (alpha 1), gelu
as x * erfc(-x / sqrt 2) / 2 = x * (1 + Erf(x / sqrt 2)) / 2, silu as
x * Sigmoid(x); outputs Identity, Exp (Poisson: skl2onnx's own MLP converter
has none), Sigmoid and Softmax. A classifier outputs its labels and its
probabilities (predict and predict_proba; the ZipMap skl2onnx adds by
default can be turned off with ``options={"zipmap": False}``), a regressor
its predictions, always 2-D. skl2onnx and onnxruntime are the optional
extra ``fastmlp[onnx]``.
"""

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import guess_proto_type
from skl2onnx.common.shape_calculator import (
    calculate_linear_classifier_output_shapes,
    calculate_linear_regressor_output_shapes,
)
from skl2onnx.proto import onnx_proto

from ._multilayer_perceptron import MLPClassifier, MLPRegressor
from ._operations import hidden_activation_names

_SQRT1_2 = 0.7071067811865476


def _constant(scope, container, name, dtype, values, shape=None):
    values = np.asarray(values)
    variable = scope.get_unique_variable_name(name)
    container.add_initializer(variable, dtype, list(values.shape if shape is None else shape),
                              values.ravel().tolist())
    return variable


# The opset every node is written for (Softmax's axis, ArgMax, Cast...).
_OPSET, _ML_OPSET = 13, 1


def _add(container, scope, op_type, inputs, output, **attributes):
    domain = attributes.pop("op_domain", "")
    version = _ML_OPSET if domain == "ai.onnx.ml" else _OPSET
    container.add_node(op_type, inputs, output, name=scope.get_unique_operator_name(op_type),
                       op_domain=domain, op_version=version, **attributes)


def _node(scope, container, op_type, inputs, **attributes):
    """One node with one new output; returns the output's name."""
    output = scope.get_unique_variable_name(op_type.lower())
    _add(container, scope, op_type, inputs, output, **attributes)
    return output


def _activation(scope, container, name, x, dtype):
    """The output of activation ``name`` on variable x."""
    simple = {"identity": "Identity", "logistic": "Sigmoid", "tanh": "Tanh",
              "relu": "Relu", "exp": "Exp"}
    if name in simple:
        return _node(scope, container, simple[name], [x])
    if name == "softmax":
        return _node(scope, container, "Softmax", [x], axis=1)
    if name == "leaky_relu":
        return _node(scope, container, "LeakyRelu", [x], alpha=0.01)
    if name == "elu":
        return _node(scope, container, "Elu", [x], alpha=1.0)
    if name == "silu":
        return _node(scope, container, "Mul", [x, _node(scope, container, "Sigmoid", [x])])
    if name == "gelu":
        scaled = _node(scope, container, "Mul",
                       [x, _constant(scope, container, "sqrt1_2", dtype, [_SQRT1_2], [])])
        one = _constant(scope, container, "one", dtype, [1.0], [])
        half = _constant(scope, container, "half", dtype, [0.5], [])
        cdf = _node(scope, container, "Add", [one, _node(scope, container, "Erf", [scaled])])
        return _node(scope, container, "Mul",
                     [_node(scope, container, "Mul", [x, cdf]), half])
    raise ValueError(f"no ONNX form for activation {name!r}")


def _forward(scope, operator, container):
    """The output layer's activations of the model on the operator's input,
    and the graph's float type."""
    model = operator.raw_operator
    dtype = guess_proto_type(operator.inputs[0].type)
    if dtype != onnx_proto.TensorProto.DOUBLE:
        dtype = onnx_proto.TensorProto.FLOAT
    numpy_dtype = np.float64 if dtype == onnx_proto.TensorProto.DOUBLE else np.float32
    x = _node(scope, container, "Cast", [operator.inputs[0].full_name], to=dtype)
    names = hidden_activation_names(model.activation, len(model.coefs_) - 1)
    names += (model.out_activation_,)
    for W, b, name in zip(model.coefs_, model.intercepts_, names):
        W = np.asarray(W, dtype=numpy_dtype)
        b = np.asarray(b, dtype=numpy_dtype)
        z = _node(scope, container, "MatMul", [x, _constant(scope, container, "coef", dtype, W)])
        z = _node(scope, container, "Add",
                  [z, _constant(scope, container, "intercept", dtype, b, [1, len(b)])])
        x = _activation(scope, container, name, z, dtype)
    return x, dtype


def _convert_regressor(scope, operator, container):
    out, _ = _forward(scope, operator, container)
    _add(container, scope, "Identity", [out], operator.outputs[0].full_name)


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    out, dtype = _forward(scope, operator, container)
    labels, probabilities = operator.outputs[0].full_name, operator.outputs[1].full_name
    y_type = model._label_binarizer.y_type_
    if y_type == "multilabel-indicator":
        _add(container, scope, "Identity", [out], probabilities)
        above = _node(scope, container, "Greater",
                      [out, _constant(scope, container, "half", dtype, [0.5], [])])
        _add(container, scope, "Cast", [above], labels, to=onnx_proto.TensorProto.INT64)
        return
    if model.out_activation_ == "logistic":
        # One column, the second class's probability, as predict_proba widens it.
        one = _constant(scope, container, "one", dtype, [1.0], [])
        other = _node(scope, container, "Sub", [one, out])
        _add(container, scope, "Concat", [other, out], probabilities, axis=1)
        above = _node(scope, container, "Greater",
                      [out, _constant(scope, container, "half", dtype, [0.5], [])])
        index = _node(scope, container, "Cast", [above], to=onnx_proto.TensorProto.INT64)
    else:
        _add(container, scope, "Identity", [out], probabilities)
        index = _node(scope, container, "ArgMax", [out], axis=1, keepdims=1)
    classes = model.classes_
    if np.issubdtype(classes.dtype, np.number) or classes.dtype == np.bool_:
        table = _constant(scope, container, "classes", onnx_proto.TensorProto.INT64,
                          classes.astype(np.int64))
    else:
        table = scope.get_unique_variable_name("classes")
        container.add_initializer(table, onnx_proto.TensorProto.STRING, [len(classes)],
                                  [str(c).encode("utf-8") for c in classes])
    picked = _node(scope, container, "ArrayFeatureExtractor", [table, index],
                   op_domain="ai.onnx.ml")
    shape = _constant(scope, container, "shape", onnx_proto.TensorProto.INT64, [-1])
    _add(container, scope, "Reshape", [picked, shape], labels)


def _classifier_shapes(operator):
    calculate_linear_classifier_output_shapes(operator)
    model = operator.raw_operator
    if model._label_binarizer.y_type_ == "multilabel-indicator":
        # One 0/1 label per output, not one label per row.
        n_rows = operator.outputs[0].type.shape[0]
        operator.outputs[0].type = operator.outputs[0].type.__class__(
            [n_rows, model.n_outputs_])


def _regressor_shapes(operator):
    calculate_linear_regressor_output_shapes(operator)
    n_rows = operator.outputs[0].type.shape[0]
    operator.outputs[0].type.shape = [n_rows, operator.raw_operator.n_outputs_]


update_registered_converter(
    MLPClassifier, "FastmlpMLPClassifier", _classifier_shapes,
    _convert_classifier, options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
)
update_registered_converter(
    MLPRegressor, "FastmlpMLPRegressor", _regressor_shapes,
    _convert_regressor,
)
