"""ParameterLayout, Network and Workspace: buffer layout, forward pass and backpropagation.

One model is the stack of one (its parameters a 1 x n_params array); a stack of K runs
gives each run what it gives alone, bit for bit.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from _finite_differences import central_differences

from skadam._layout import ParameterLayout
from skadam._losses import BinaryLogLoss, HalfPoisson, Huber, MultinomialLogLoss, SquaredError
from skadam._model import Network

N_ROWS = 6
N_FEATURES = 4
N_OUTPUTS = 2
STEP = 1e-6
# Pre-activations (relu) and Huber residuals this close to a kink are redrawn.
KINK_MARGIN = 1e-3

ARCHITECTURES = {
    "mlp": ((N_FEATURES, 5, 3, N_OUTPUTS), True),
    "mlp-no-intercept": ((N_FEATURES, 5, 3, N_OUTPUTS), False),
    "linear": ((N_FEATURES, N_OUTPUTS), True),
    "linear-no-intercept": ((N_FEATURES, N_OUTPUTS), False),
}
ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu", "selu", "mish"]
# Activations whose slope jumps at zero: finite differences need pre-activations off it.
KINKED = {"relu", "leaky_relu", "selu"}
HUBER_DELTA = np.array([0.5, 1.2])
LOSSES = {
    "squared": lambda: SquaredError(N_OUTPUTS),
    "huber": lambda: Huber(N_OUTPUTS, delta=HUBER_DELTA),
    "poisson": lambda: HalfPoisson(N_OUTPUTS),
    "binary": lambda: BinaryLogLoss(N_OUTPUTS),
    "multinomial": lambda: MultinomialLogLoss(N_OUTPUTS),
}
FORMATS = {
    "dense": lambda X: X,
    "csr_matrix": sp.csr_matrix,
    "csr_array": sp.csr_array,
}

# The activation only matters with a hidden layer, so linear models are tried once.
NETWORK_CASES = [("mlp", activation) for activation in ACTIVATIONS] + [
    ("mlp-no-intercept", "tanh"),
    ("linear", "identity"),
    ("linear-no-intercept", "identity"),
]


# --- an independent reference of the forward pass -------------------------------------


def _reference_activation(name, Z):
    if name == "identity":
        return Z.copy()
    if name == "logistic":
        return np.vectorize(lambda z: 1.0 / (1.0 + math.exp(-z)))(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if name == "selu":
        # Klambauer et al. (2017), equation 2, with their lambda and alpha.
        scale, alpha = 1.0507009873554805, 1.6732632423543772
        return scale * np.where(Z > 0, Z, alpha * np.vectorize(math.expm1)(Z))
    if name == "mish":
        # Misra (2019): x tanh(softplus(x)), with libm's log1p, exp and tanh.
        return np.vectorize(lambda z: z * math.tanh(math.log1p(math.exp(z))))(Z)
    return np.where(Z > 0, Z, 0.0)


def _reference_forward(layer_sizes, fit_intercept, activation, params, X):
    """Raw output and hidden pre-activations, slicing ``params`` by the documented layout."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
    weights, offset = [], 0
    for fan_in, fan_out in pairs:
        weights.append(params[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out))
        offset += fan_in * fan_out
    biases = []
    for layer, (_, fan_out) in enumerate(pairs):
        if layer == len(pairs) - 1 and not fit_intercept:
            biases.append(np.zeros(fan_out))
        else:
            biases.append(params[offset : offset + fan_out])
            offset += fan_out
    assert offset == params.size
    A, hidden = X, []
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True)):
        Z = A @ W + b
        if layer == len(pairs) - 1:
            return Z, hidden
        hidden.append(Z)
        A = _reference_activation(activation, Z)


# --- problem construction ---------------------------------------------------------------


def _targets(loss_name, rng, n_rows=N_ROWS):
    if loss_name in ("squared", "huber"):
        return rng.normal(size=(n_rows, N_OUTPUTS))
    if loss_name == "poisson":
        return rng.poisson(1.5, size=(n_rows, N_OUTPUTS)).astype(float)
    if loss_name == "binary":
        return rng.integers(0, 2, size=(n_rows, N_OUTPUTS)).astype(float)
    return rng.integers(0, N_OUTPUTS, size=n_rows)  # class codes


def _problem(arch, activation, loss_name, fmt, seed=0, n_rows=N_ROWS):
    """Network, layout, float64 params, X in ``fmt`` and targets, away from any kink."""
    layer_sizes, fit_intercept = ARCHITECTURES[arch]
    layout = ParameterLayout(layer_sizes, fit_intercept=fit_intercept)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, N_FEATURES))
    # About half the entries zero, so the sparse formats actually skip something.
    X[rng.random(X.shape) < 0.5] = 0.0
    X[:, 0] = rng.normal(size=n_rows)
    Y = _targets(loss_name, rng, n_rows)
    for _ in range(200):
        params = rng.normal(scale=0.7, size=layout.n_params)
        raw, hidden = _reference_forward(layer_sizes, fit_intercept, activation, params, X)
        if activation in KINKED and any(np.abs(Z).min() < KINK_MARGIN for Z in hidden):
            continue
        if loss_name == "huber" and (
            np.abs(np.abs(raw - Y) - HUBER_DELTA).min() < KINK_MARGIN
        ):
            continue
        break
    else:
        raise AssertionError("no parameters away from the kinks")
    return Network(layout, activation), layout, params, FORMATS[fmt](X), Y


def _objective(network, loss, params, X, Y):
    """J(params) = mean_i per_sample(raw_i), evaluated on a private inference workspace."""
    work = network.workspace(params[np.newaxis], None, X.shape[0])
    return float(np.mean(loss.per_sample(network.forward(work, X)[0], Y)))


def _backprop(network, loss, params, X, Y, n_rows=None):
    """Raw output and gradient of J, normalised as the training loop does with unit
    weights; ``params`` of shape (K, n_params) for a stack, (n_params,) for one model."""
    n_batch = X.shape[0]
    n_rows = n_batch if n_rows is None else n_rows
    stack = np.atleast_2d(params)
    grad = np.full_like(stack, np.nan)
    work = network.workspace(stack, grad, n_rows)
    raw = network.forward(work, X)
    delta = work.deltas(n_batch)[-1]
    loss.gradient(raw, Y, delta)
    delta *= 1.0 / n_batch
    network.backward(work, X, delta)
    if params.ndim == 1:
        return raw[0].copy(), grad[0]
    return raw.copy(), grad


def _finite_difference_gradient(network, loss, params, X, Y):
    return central_differences(lambda values: _objective(network, loss, values, X, Y),
                               params, STEP)


# --- layout -----------------------------------------------------------------------------

LAYOUTS = [(3, 4, 2), (4, 5, 3, 2), (4, 2), (7, 1)]
layouts = pytest.mark.parametrize("layer_sizes", LAYOUTS, ids=lambda s: "x".join(map(str, s)))
intercepts = pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no-intercept"]
)


@intercepts
@layouts
def test_layout_counts(layer_sizes, fit_intercept):
    """n_weights sums fan_in * fan_out; n_params adds every width, bar the output's if told."""
    layout = ParameterLayout(layer_sizes, fit_intercept=fit_intercept)
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
    n_weights = sum(a * b for a, b in pairs)
    n_biases = sum(layer_sizes[1:]) - (0 if fit_intercept else layer_sizes[-1])
    assert layout.n_layers == len(pairs)
    assert layout.weight_shapes == pairs
    assert layout.n_weights == n_weights
    assert layout.n_params == n_weights + n_biases


@intercepts
@layouts
def test_layout_puts_weights_first_then_intercepts(layer_sizes, fit_intercept):
    """Flattened in layer order, the weights fill buffer[:n_weights] and intercepts the rest."""
    layout = ParameterLayout(layer_sizes, fit_intercept=fit_intercept)
    buffer = np.arange(layout.n_params, dtype=float)
    coefs, biases = layout.coefs(buffer), layout.intercepts(buffer)
    assert [W.shape for W in coefs] == list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
    np.testing.assert_array_equal(
        np.concatenate([W.ravel() for W in coefs]), np.arange(layout.n_weights)
    )
    np.testing.assert_array_equal(
        np.concatenate(biases), np.arange(layout.n_weights, layout.n_params)
    )
    # C order: X @ W needs W[i, j] at row i, so consecutive entries run along a row.
    assert all(W.flags.c_contiguous for W in coefs)


@intercepts
@layouts
def test_layout_views_share_memory_with_buffer(layer_sizes, fit_intercept):
    """Every view writes through to the buffer, and no two views overlap."""
    layout = ParameterLayout(layer_sizes, fit_intercept=fit_intercept)
    buffer = np.zeros(layout.n_params)
    views = [v for v in layout.coefs(buffer) + layout.intercepts(buffer) if v.size]
    for view in views:
        assert np.shares_memory(view, buffer)
        view[...] += 1.0
    # Each entry incremented exactly once: the views tile the buffer without overlap.
    np.testing.assert_array_equal(buffer, 1.0)


@layouts
def test_layout_without_intercept_drops_only_the_output_intercept(layer_sizes):
    """fit_intercept=False empties the output intercept; hidden layers keep theirs."""
    layout = ParameterLayout(layer_sizes, fit_intercept=False)
    biases = layout.intercepts(np.zeros(layout.n_params))
    assert biases[-1].size == 0
    assert [b.size for b in biases[:-1]] == list(layer_sizes[1:-1])
    assert layout.n_params - layout.n_weights == sum(layer_sizes[1:-1])


# --- forward and backward ---------------------------------------------------------------

network_cases = pytest.mark.parametrize(
    ("arch", "activation"), NETWORK_CASES, ids=[f"{a}-{b}" for a, b in NETWORK_CASES]
)
formats = pytest.mark.parametrize("fmt", list(FORMATS))
losses = pytest.mark.parametrize("loss_name", list(LOSSES))


@formats
@network_cases
def test_forward_matches_reference(arch, activation, fmt):
    """The raw output is the plain textbook composition of affine maps and activations."""
    network, layout, params, X, Y = _problem(arch, activation, "squared", fmt)
    work = network.workspace(params[np.newaxis], None, N_ROWS)
    raw = network.forward(work, X)[0]
    expected, _ = _reference_forward(layout.layer_sizes, layout.fit_intercept, activation,
                                     params, X)
    np.testing.assert_allclose(raw, expected, rtol=1e-12, atol=1e-14)


@losses
@formats
@network_cases
def test_backprop_matches_finite_differences(arch, activation, fmt, loss_name):
    """backward fills the flat grad buffer with dJ/dparams, J the mean per-sample loss."""
    network, _, params, X, Y = _problem(arch, activation, loss_name, fmt)
    loss = LOSSES[loss_name]()
    params_before = params.copy()
    X_before = X.copy()
    _, grad = _backprop(network, loss, params, X, Y)
    np.testing.assert_array_equal(params, params_before)
    assert (abs(X - X_before)).max() == 0
    assert np.isfinite(grad).all(), "backward left entries of the grad buffer unwritten"
    fd = _finite_difference_gradient(network, loss, params, X, Y)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@formats
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_large_workspace_serves_smaller_batch(activation, fmt):
    """A batch in the leading rows of a bigger, already used workspace gives the same results."""
    n_big, n_small = 10, 4
    network, _, params, X, Y = _problem("mlp", activation, "binary", fmt, n_rows=n_big)
    loss = LOSSES["binary"]()
    X_small, Y_small = X[:n_small], Y[:n_small]
    exact_raw, exact_grad = _backprop(network, loss, params, X_small, Y_small)

    grad = np.full_like(params, np.nan)
    work = network.workspace(params[np.newaxis], grad[np.newaxis], n_big)
    # A full batch first leaves stale values in the rows the small batch must not read.
    for X_batch, Y_batch in ((X, Y), (X_small, Y_small)):
        n = X_batch.shape[0]
        raw = network.forward(work, X_batch)
        delta = work.deltas(n)[-1]
        loss.gradient(raw, Y_batch, delta)
        delta *= 1.0 / n
        network.backward(work, X_batch, delta)
    assert raw.shape == (1, n_small, N_OUTPUTS)
    np.testing.assert_allclose(raw[0], exact_raw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, exact_grad, rtol=1e-12, atol=1e-15)


@losses
@formats
@network_cases
def test_float32_matches_float64(arch, activation, fmt, loss_name):
    """float32 params and X stay float32 throughout and agree with float64 to ~1e-4."""
    network, _, params, X, Y = _problem(arch, activation, loss_name, fmt)
    loss = LOSSES[loss_name]()
    raw64, grad64 = _backprop(network, loss, params, X, Y)
    # Class codes stay integers; float targets follow the parameters' dtype.
    Y32 = Y if Y.dtype.kind == "i" else Y.astype(np.float32)
    raw32, grad32 = _backprop(
        network, loss, params.astype(np.float32), X.astype(np.float32), Y32
    )
    assert raw32.dtype == np.float32 and grad32.dtype == np.float32
    np.testing.assert_allclose(raw32, raw64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-5)


@formats
@network_cases
def test_inference_workspace_matches_training_workspace(arch, activation, fmt):
    """A grad=None workspace computes the same raw output as one set up for training."""
    network, _, params, X, _ = _problem(arch, activation, "squared", fmt)
    stack = params[np.newaxis]
    grad = np.empty_like(stack)
    raw_train = network.forward(network.workspace(stack, grad, N_ROWS), X)
    raw_infer = network.forward(network.workspace(stack, None, N_ROWS), X)
    np.testing.assert_array_equal(raw_infer, raw_train)


def test_workspace_reads_params_in_place():
    """The workspace holds views, so in-place updates of params change the next forward."""
    network, _, params, X, _ = _problem("mlp", "tanh", "squared", "dense")
    work = network.workspace(params[np.newaxis], None, N_ROWS)
    before = network.forward(work, X)[0].copy()
    params *= 0.5
    after = network.forward(work, X)[0]
    expected, _ = _reference_forward((N_FEATURES, 5, 3, N_OUTPUTS), True, "tanh", params, X)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, expected, rtol=1e-12)


@losses
@formats
@network_cases
def test_a_stack_gives_each_run_what_it_gives_alone(arch, activation, fmt, loss_name):
    """K runs with their own parameters, side by side: each run's raw output and gradient
    are those of the run alone, bit for bit, also with the smaller last batch."""
    network, layout, params, X, Y = _problem(arch, activation, loss_name, fmt, n_rows=8)
    loss = LOSSES[loss_name]()
    stack = np.stack([params, 0.5 * params, params[::-1].copy()])
    for n_batch in (8, 5):
        X_batch, Y_batch = X[:n_batch], Y[:n_batch]
        raw, grad = _backprop(network, loss, stack, X_batch, Y_batch, n_rows=8)
        assert raw.shape == (3, n_batch, N_OUTPUTS) and grad.shape == stack.shape
        for run in range(3):
            raw_alone, grad_alone = _backprop(network, loss, stack[run].copy(), X_batch,
                                              Y_batch)
            np.testing.assert_array_equal(raw[run], raw_alone)
            np.testing.assert_array_equal(grad[run], grad_alone)


@formats
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backprop_through_dropout_matches_finite_differences(activation, fmt):
    """With the masks held fixed (the same seed for every evaluation), backward gives
    the gradient of the objective of the dropped-out network."""
    from skadam._model import Dropout

    network, _, params, X, Y = _problem("mlp", activation, "binary", fmt)
    loss = LOSSES["binary"]()
    widths = network.layout.layer_sizes[1:-1]

    def dropout():
        return Dropout(0.3, [np.random.default_rng(7)], widths, N_ROWS, params.dtype)

    def objective(values):
        work = network.workspace(values[np.newaxis], None, N_ROWS)
        raw = network.forward(work, X, dropout())[0]
        return float(np.mean(loss.per_sample(raw, Y)))

    grad = np.full_like(params, np.nan)
    work = network.workspace(params[np.newaxis], grad[np.newaxis], N_ROWS)
    masks = dropout()
    raw = network.forward(work, X, masks)
    delta = work.deltas(N_ROWS)[-1]
    loss.gradient(raw, Y, delta)
    delta *= 1.0 / N_ROWS
    network.backward(work, X, delta, masks)
    fd = central_differences(objective, params, STEP)
    # Dropped units sit at zero, a kink of the kinked activations: keep to smooth ones
    # there, where finite differences hold.
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
