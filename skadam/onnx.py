"""ONNX export of skadam's estimators through skl2onnx.

Importing this module registers a shape calculator and a converter for each of
:class:`~skadam.MLPClassifier`, :class:`~skadam.MLPRegressor`,
:class:`~skadam.LogisticRegression` and :class:`~skadam.LinearRegression` with skl2onnx,
so that ``skl2onnx.to_onnx(model, X[:1])`` exports a fitted model, alone or inside a
Pipeline, in float64 or float32 (the type of ``X`` given). The graph computes what
``predict`` and ``predict_proba`` do: the periodic or piecewise-linear embedding of the
numeric columns (``Gather``, then ``Cos``, or the encoding's ``Sub``, ``Div``, ``Max`` and
``Min``, then ``MatMul``), every hidden layer and its activation, the members of
an ensemble averaged as skadam averages them (probabilities for the classifiers), the
regressors' target scaling or Poisson link, and the classifiers' labels. Multilabel
classifiers are not exported. Needs the ``onnx`` extra: ``pip install skadam[onnx]``.

Examples
--------
>>> import numpy as np
>>> import onnxruntime
>>> from skl2onnx import to_onnx
>>> import skadam.onnx  # registers the converters
>>> from skadam import MLPRegressor
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3))
>>> model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
>>> model = model.fit(X, X[:, 0] * 3 - X[:, 1])
>>> session = onnxruntime.InferenceSession(to_onnx(model, X[:1]).SerializeToString())
>>> [onnx_prediction] = session.run(None, {"X": X})
>>> bool(np.allclose(onnx_prediction.ravel(), model.predict(X), rtol=1e-7))
True
"""

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx.algebra.onnx_ops import (
    OnnxAdd,
    OnnxArgMax,
    OnnxArrayFeatureExtractor,
    OnnxConcat,
    OnnxCos,
    OnnxDiv,
    OnnxExp,
    OnnxGather,
    OnnxIdentity,
    OnnxLog,
    OnnxMatMul,
    OnnxMax,
    OnnxMin,
    OnnxMul,
    OnnxRelu,
    OnnxReshape,
    OnnxSigmoid,
    OnnxSoftmax,
    OnnxSub,
    OnnxTanh,
    OnnxTranspose,
)
from skl2onnx.common.data_types import guess_numpy_type
from skl2onnx.common.shape_calculator import (
    calculate_linear_classifier_output_shapes,
    calculate_linear_regressor_output_shapes,
)

from ._activations import LEAKY_SLOPE, SELU_ALPHA, SELU_SCALE
from ._embeddings import SCALE as PERIODIC_SCALE
from ._embeddings import PeriodicEmbedding
from ._losses import REGRESSION_LOSSES
from ._piecewise import SCALE as PIECEWISE_SCALE
from ._shared_ensemble import independent_members
from .linear_model import LinearRegression, LogisticRegression
from .neural_network import MLPClassifier, MLPRegressor


def _activation(name, Z, dtype, opv):
    if name == "identity":
        return Z
    if name == "relu":
        return OnnxRelu(Z, op_version=opv)
    if name == "leaky_relu":
        # Written with Relu: onnxruntime has no float64 LeakyRelu.
        positive = OnnxRelu(Z, op_version=opv)
        negative = OnnxSub(Z, positive, op_version=opv)
        return OnnxAdd(positive, OnnxMul(negative, np.array([LEAKY_SLOPE], dtype=dtype),
                                         op_version=opv), op_version=opv)
    if name == "tanh":
        return OnnxTanh(Z, op_version=opv)
    if name == "logistic":
        return OnnxSigmoid(Z, op_version=opv)
    if name == "selu":
        # scale (max(z, 0) + alpha (e^min(z, 0) - 1)), written with Relu and Exp: no
        # float64 Selu in onnxruntime.
        positive = OnnxRelu(Z, op_version=opv)
        below = OnnxSub(OnnxExp(OnnxSub(Z, positive, op_version=opv), op_version=opv),
                        np.array([1], dtype=dtype), op_version=opv)
        return OnnxMul(OnnxAdd(positive, OnnxMul(below, np.array([SELU_ALPHA], dtype=dtype),
                                                 op_version=opv), op_version=opv),
                       np.array([SELU_SCALE], dtype=dtype), op_version=opv)
    if name == "mish":
        # x tanh(softplus(x)); onnxruntime has no float64 Softplus, so log(1 + e^x): an
        # overflowing e^x gives tanh(inf) = 1, which is mish's limit.
        one = np.array([1], dtype=dtype)
        softplus = OnnxLog(OnnxAdd(OnnxExp(Z, op_version=opv), one, op_version=opv),
                           op_version=opv)
        return OnnxMul(Z, OnnxTanh(softplus, op_version=opv), op_version=opv)
    raise NotImplementedError(f"No ONNX export for activation={name!r}.")


def _members(model):
    """The layout of one member of ``model`` and each member's parameters: a shared
    ensemble's members written out as the plain networks they compute."""
    if model._layout.shared_members:
        return independent_members(model._layout, model._params[0])
    return model._layout, model._params


def _embedded_values(embedding, X, opv):
    """The embedded columns of ``X``, (n, m, 1)."""
    values = OnnxGather(X, embedding.columns.astype(np.int64), axis=1, op_version=opv)
    return OnnxReshape(values, np.array([-1, embedding.n_embedded, 1], dtype=np.int64),
                       op_version=opv)


def _mixed(codes, V, c, dtype, opv):
    """The features ``codes @ V + c`` of each column, from codes (n, m, F) and V
    (m, F, D): (n, m * D)."""
    m, D = c.shape
    mixed = OnnxTranspose(OnnxMatMul(OnnxTranspose(codes, perm=[1, 0, 2], op_version=opv),
                                     V.astype(dtype), op_version=opv),
                          perm=[1, 0, 2], op_version=opv)  # (n, m, D)
    return OnnxAdd(OnnxReshape(mixed, np.array([-1, m * D], dtype=np.int64), op_version=opv),
                   c.reshape(-1).astype(dtype), op_version=opv)


def _periodic_features(embedding, params, X, dtype, opv):
    w, b, V, c = (PERIODIC_SCALE * view[0] for view in embedding.views(params))
    phases = OnnxAdd(OnnxMul(_embedded_values(embedding, X, opv),
                             (2 * np.pi * w).astype(dtype), op_version=opv),
                     b.astype(dtype), op_version=opv)
    return _mixed(OnnxCos(phases, op_version=opv), V, c, dtype, opv)


def _piecewise_features(embedding, params, X, dtype, opv):
    # Every bin's entry of the encoding, clip((x - e_t) / (e_{t+1} - e_t), 0, 1), open
    # below in the first bin and above in the last; 0 in the bins a column lacks.
    V, c = (PIECEWISE_SCALE * view[0] for view in embedding.views(params))
    edges = embedding.edges.astype(np.float64)
    used = np.isfinite(edges[:, 1:])
    lower = np.where(used, edges[:, :-1], 0.0)
    width = np.where(used, edges[:, 1:] - lower, 1.0)
    floor = np.zeros(used.shape)
    floor[:, 0] = -np.inf
    last = used.sum(axis=1) - 1
    ceiling = np.where(used, 1.0, 0.0)
    ceiling[np.arange(len(last)), last] = np.inf
    codes = OnnxDiv(OnnxSub(_embedded_values(embedding, X, opv), lower.astype(dtype),
                            op_version=opv), width.astype(dtype), op_version=opv)
    codes = OnnxMin(OnnxMax(codes, floor.astype(dtype), op_version=opv),
                    ceiling.astype(dtype), op_version=opv)
    return _mixed(codes, V, c, dtype, opv)


def _member_raw(model, layout, params, X, dtype, opv):
    """The raw outputs of one member of ``model``, with parameters ``params`` laid out
    by ``layout``, for the input ``X``: (n, n_outputs)."""
    coefs = layout.coefs(params)
    if layout.input_scale:  # the scaling layer folded into the first layer's weights
        coefs[0] = coefs[0] * layout.adapter(params)[0][:, np.newaxis]
    intercepts = layout.intercepts(params)
    inputs = X
    embedding = model._embedding
    if embedding is not None:
        embedding_params = params[np.newaxis, layout.embedding_start:]
        features = (_periodic_features if isinstance(embedding, PeriodicEmbedding)
                    else _piecewise_features)(embedding, embedding_params, X, dtype, opv)
        inputs = OnnxConcat(features, X, axis=1, op_version=opv)
    activation = model._activation()
    last = len(coefs) - 1
    A = inputs
    for layer, W in enumerate(coefs):
        Z = OnnxMatMul(A, W.astype(dtype), op_version=opv)
        if intercepts[layer].size:
            Z = OnnxAdd(Z, intercepts[layer].astype(dtype), op_version=opv)
        A = _activation(activation, Z, dtype, opv) if layer < last else Z
    skip = layout.skip(params)
    if skip is not None:
        A = OnnxAdd(A, OnnxMatMul(X, skip.astype(dtype), op_version=opv), op_version=opv)
    return A


def _convert_regressor(scope, operator, container):
    model, opv = operator.raw_operator, container.target_opset
    X = operator.inputs[0]
    dtype = guess_numpy_type(X.type)
    members = []
    layout, rows = _members(model)
    for params in rows:
        raw = _member_raw(model, layout, params, X, dtype, opv)
        # The loss's link, then the target scaling undone, as predict does.
        if REGRESSION_LOSSES[model.loss].onnx_link == "Exp":
            raw = OnnxExp(raw, op_version=opv)
        members.append(OnnxAdd(
            OnnxMul(raw, np.atleast_1d(model.target_scale_).astype(dtype), op_version=opv),
            np.atleast_1d(model.target_mean_).astype(dtype), op_version=opv))
    prediction = _mean_of(members, dtype, opv)
    OnnxIdentity(prediction, op_version=opv,
                 output_names=operator.outputs[:1]).add_to(scope, container)


def _mean_of(members, dtype, opv):
    if len(members) == 1:
        return members[0]
    total = members[0]
    for term in members[1:]:
        total = OnnxAdd(total, term, op_version=opv)
    return OnnxDiv(total, np.array([len(members)], dtype=dtype), op_version=opv)


def _convert_classifier(scope, operator, container):
    model, opv = operator.raw_operator, container.target_opset
    if model._multilabel:
        raise NotImplementedError(
            "No ONNX export for a multilabel classifier: export each label's model, or "
            "predict with skadam.")
    X = operator.inputs[0]
    dtype = guess_numpy_type(X.type)
    members = []
    layout, rows = _members(model)
    for params in rows:
        raw = _member_raw(model, layout, params, X, dtype, opv)
        if len(model.classes_) == 2:
            positive = OnnxSigmoid(raw, op_version=opv)
            members.append(OnnxConcat(
                OnnxSub(np.array([1], dtype=dtype), positive, op_version=opv), positive,
                axis=1, op_version=opv))
        else:
            members.append(OnnxSoftmax(raw, axis=1, op_version=opv))
    proba = _mean_of(members, dtype, opv)
    label_index = OnnxArgMax(proba, axis=1, keepdims=0, op_version=opv)
    classes = model.classes_
    if np.issubdtype(classes.dtype, np.integer) or classes.dtype == bool:
        classes = classes.astype(np.int64)
    elif np.issubdtype(classes.dtype, np.floating):
        raise NotImplementedError(
            "No ONNX export for float class labels: encode them as integers or strings.")
    else:
        classes = np.array([str(label) for label in classes])
    labels = OnnxArrayFeatureExtractor(classes, label_index, op_version=opv)
    OnnxReshape(labels, np.array([-1], dtype=np.int64), op_version=opv,
                output_names=operator.outputs[:1]).add_to(scope, container)
    OnnxIdentity(proba, op_version=opv,
                 output_names=operator.outputs[1:]).add_to(scope, container)


def register():
    """Register skadam's converters with skl2onnx (done on import; safe to repeat).

    Examples
    --------
    >>> from skadam.onnx import register
    >>> register()
    """
    for model in (MLPRegressor, LinearRegression):
        update_registered_converter(model, f"Skadam{model.__name__}",
                                    calculate_linear_regressor_output_shapes,
                                    _convert_regressor)
    for model in (MLPClassifier, LogisticRegression):
        update_registered_converter(model, f"Skadam{model.__name__}",
                                    calculate_linear_classifier_output_shapes,
                                    _convert_classifier,
                                    options={"zipmap": [True, False, "columns"],
                                             "nocl": [True, False]})


register()
