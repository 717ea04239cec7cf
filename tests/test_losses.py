"""The losses of skadam._losses against textbook formulas, finite differences and minimisers."""

import math

import numpy as np
import pytest

from skadam._losses import BinaryLogLoss, HalfPoisson, Huber, MultinomialLogLoss, SquaredError

N_SAMPLES = 12
STEP = 1e-6


# --- textbook references, one sample and one output at a time -------------------------


def _squared_reference(raw, Y, delta=None):
    return np.array(
        [sum(0.5 * (r - y) ** 2 for r, y in zip(row, target, strict=True)) / len(row)
         for row, target in zip(raw, Y, strict=True)]
    )


def _huber_reference(raw, Y, delta):
    deltas = np.broadcast_to(delta, raw.shape[1])
    losses = []
    for row, target in zip(raw, Y, strict=True):
        terms = []
        for r, y, d in zip(row, target, deltas, strict=True):
            residual = abs(r - y)
            terms.append(0.5 * residual**2 if residual <= d else d * (residual - d / 2))
        losses.append(sum(terms) / len(terms))
    return np.array(losses)


def _poisson_reference(raw, Y, delta=None):
    losses = []
    for row, target in zip(raw, Y, strict=True):
        terms = [
            math.exp(r) - y * r + (y * math.log(y) if y > 0 else 0.0) - y
            for r, y in zip(row, target, strict=True)
        ]
        losses.append(sum(terms) / len(terms))
    return np.array(losses)


def _binary_reference(raw, Y, delta=None):
    losses = []
    for row, target in zip(raw, Y, strict=True):
        terms = []
        for r, y in zip(row, target, strict=True):
            p = 1.0 / (1.0 + math.exp(-r))
            terms.append(-(y * math.log(p) + (1 - y) * math.log(1 - p)))
        losses.append(sum(terms) / len(terms))
    return np.array(losses)


def _multinomial_reference(raw, Y, delta=None):
    losses = []
    for row, target in zip(raw, Y, strict=True):
        label = int(target)
        total = sum(math.exp(r) for r in row)
        losses.append(-math.log(math.exp(row[label]) / total))
    return np.array(losses)


# --- targets and raw outputs --------------------------------------------------------


def _real_targets(rng, n_outputs):
    return rng.normal(size=(N_SAMPLES, n_outputs))


def _count_targets(rng, n_outputs):
    Y = rng.poisson(2.0, size=(N_SAMPLES, n_outputs)).astype(float)
    # Zero counts exercise 0 log 0 = 0; a positive row keeps every column mean positive.
    Y[0] = 0.0
    Y[1] = 3.0
    return Y


def _binary_targets(rng, n_outputs):
    Y = rng.integers(0, 2, size=(N_SAMPLES, n_outputs)).astype(float)
    # Both classes in every column, so the baseline is finite and not clipped.
    Y[0], Y[1] = 0.0, 1.0
    return Y


def _class_codes(rng, n_outputs):
    labels = rng.integers(0, n_outputs, size=N_SAMPLES)
    labels[:n_outputs] = np.arange(n_outputs)
    return labels


class Case:
    """A loss configuration with its target generator and textbook reference."""

    def __init__(self, make_loss, n_outputs, targets, reference, delta=None):
        self.make_loss, self.n_outputs = make_loss, n_outputs
        self.targets, self.reference, self.delta = targets, reference, delta

    def loss(self):
        return self.make_loss(self.n_outputs)

    def data(self, seed=0):
        rng = np.random.default_rng(seed)
        Y = self.targets(rng, self.n_outputs)
        if self.delta is None:
            return rng.normal(size=(N_SAMPLES, self.n_outputs)), Y
        # Keep Huber residuals off the kink at |r| = delta, where finite differences fail.
        residual = rng.normal(scale=1.5, size=Y.shape)
        delta = np.broadcast_to(self.delta, Y.shape)
        near_kink = np.abs(np.abs(residual) - delta) < 0.05
        residual[near_kink] += 0.2 * np.sign(residual[near_kink])
        return Y + residual, Y


def _huber(delta):
    return lambda n_outputs: Huber(n_outputs, delta=delta)


CASES = {
    "squared-1": Case(SquaredError, 1, _real_targets, _squared_reference),
    "squared-3": Case(SquaredError, 3, _real_targets, _squared_reference),
    "huber-scalar-1": Case(_huber(0.8), 1, _real_targets, _huber_reference, delta=0.8),
    "huber-scalar-3": Case(_huber(0.8), 3, _real_targets, _huber_reference, delta=0.8),
    "huber-array-1": Case(
        _huber(np.array([0.6])), 1, _real_targets, _huber_reference, delta=np.array([0.6])
    ),
    "huber-array-3": Case(
        _huber(np.array([0.3, 1.0, 2.0])), 3, _real_targets, _huber_reference,
        delta=np.array([0.3, 1.0, 2.0]),
    ),
    "poisson-1": Case(HalfPoisson, 1, _count_targets, _poisson_reference),
    "poisson-3": Case(HalfPoisson, 3, _count_targets, _poisson_reference),
    "binary-1": Case(BinaryLogLoss, 1, _binary_targets, _binary_reference),
    "multilabel-3": Case(BinaryLogLoss, 3, _binary_targets, _binary_reference),
    "multinomial-2": Case(MultinomialLogLoss, 2, _class_codes, _multinomial_reference),
    "multinomial-3": Case(MultinomialLogLoss, 3, _class_codes, _multinomial_reference),
}
HUBER = [name for name in CASES if name.startswith("huber")]
SMOOTH = [name for name in CASES if not name.startswith("huber")]

cases = pytest.mark.parametrize("name", list(CASES))


def _finite_difference(loss, raw, Y):
    """d per_sample[i] / d raw[i, k], perturbing one column of every row at once."""
    fd = np.empty_like(raw)
    for k in range(raw.shape[1]):
        up, down = raw.copy(), raw.copy()
        up[:, k] += STEP
        down[:, k] -= STEP
        fd[:, k] = (loss.per_sample(up, Y) - loss.per_sample(down, Y)) / (2 * STEP)
    return fd


def _weights(weighted, seed=1):
    if not weighted:
        return None
    return np.random.default_rng(seed).uniform(0.1, 3.0, size=N_SAMPLES)


def _mean_loss_at_constant(loss, constant, Y, sample_weight):
    raw = np.tile(constant, (Y.shape[0], 1))
    return np.average(loss.per_sample(raw, Y), weights=sample_weight)


# --- values and gradients -------------------------------------------------------------


@cases
def test_per_sample_matches_textbook_formula(name):
    """per_sample is the textbook loss of each row, averaged over outputs."""
    case = CASES[name]
    raw, Y = case.data()
    losses = case.loss().per_sample(raw, Y)
    assert losses.shape == (N_SAMPLES,)
    np.testing.assert_allclose(losses, case.reference(raw, Y, case.delta), rtol=1e-12)


@pytest.mark.parametrize("name", HUBER)
def test_huber_data_covers_both_regimes(name):
    """The Huber cases really test both the quadratic and the linear branch."""
    case = CASES[name]
    raw, Y = case.data()
    inside = np.abs(raw - Y) <= np.broadcast_to(case.delta, Y.shape)
    assert inside.any() and not inside.all()


@cases
def test_gradient_matches_finite_differences(name):
    """gradient is the derivative of each sample's loss with respect to its raw outputs."""
    case = CASES[name]
    raw, Y = case.data()
    loss = case.loss()
    out = np.empty_like(raw)
    loss.gradient(raw, Y, out)
    np.testing.assert_allclose(out, _finite_difference(loss, raw, Y), rtol=1e-6, atol=1e-8)


@cases
def test_loss_and_gradient_equals_separate_calls(name):
    """The fused call returns per_sample and writes gradient, bit for bit."""
    case = CASES[name]
    raw, Y = case.data()
    loss = case.loss()
    expected_grad = np.empty_like(raw)
    loss.gradient(raw, Y, expected_grad)
    out = np.full_like(raw, np.nan)
    losses = loss.loss_and_gradient(raw, Y, out)
    np.testing.assert_array_equal(losses, loss.per_sample(raw, Y))
    np.testing.assert_array_equal(out, expected_grad)


@cases
def test_gradient_fills_out_and_leaves_inputs_alone(name):
    """gradient writes every entry of ``out`` in place and neither raw nor Y."""
    case = CASES[name]
    raw, Y = case.data()
    raw_before, Y_before = raw.copy(), Y.copy()
    out = np.full_like(raw, np.nan)
    out_buffer = out
    case.loss().gradient(raw, Y, out)
    assert out is out_buffer
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(raw, raw_before)
    np.testing.assert_array_equal(Y, Y_before)


# --- baseline -------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", SMOOTH)
def test_baseline_is_stationary_for_weighted_mean_loss(name, weighted):
    """The constant raw output from baseline has zero derivative of the weighted mean loss."""
    case = CASES[name]
    _, Y = case.data()
    loss = case.loss()
    sample_weight = _weights(weighted)
    constant = np.asarray(loss.baseline(Y, sample_weight), dtype=float)
    assert constant.shape == (case.n_outputs,)
    slope = np.empty(case.n_outputs)
    for k in range(case.n_outputs):
        step = np.zeros(case.n_outputs)
        step[k] = STEP
        slope[k] = (
            _mean_loss_at_constant(loss, constant + step, Y, sample_weight)
            - _mean_loss_at_constant(loss, constant - step, Y, sample_weight)
        ) / (2 * STEP)
    np.testing.assert_allclose(slope, 0.0, atol=1e-7)
    # Convexity makes the stationary point a minimum; checked anyway against a nearby point.
    at_baseline = _mean_loss_at_constant(loss, constant, Y, sample_weight)
    nudged = constant + 0.1 * np.random.default_rng(2).normal(size=case.n_outputs)
    assert at_baseline <= _mean_loss_at_constant(loss, nudged, Y, sample_weight)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_multinomial_baseline_is_minimal_up_to_a_shift(weighted):
    """Softmax ignores a common shift, so any shifted baseline is equally good."""
    case = CASES["multinomial-3"]
    _, Y = case.data()
    loss = case.loss()
    sample_weight = _weights(weighted)
    constant = loss.baseline(Y, sample_weight)
    at_baseline = _mean_loss_at_constant(loss, constant, Y, sample_weight)
    shifted = _mean_loss_at_constant(loss, constant + 4.0, Y, sample_weight)
    np.testing.assert_allclose(shifted, at_baseline, rtol=1e-12)
    # The minimum is the log of the weighted class shares, up to the same shift.
    share = np.bincount(Y, weights=sample_weight) / (
        len(Y) if sample_weight is None else sample_weight.sum())
    centred = constant - constant.mean()
    np.testing.assert_allclose(centred, np.log(share) - np.log(share).mean(), atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", HUBER)
def test_huber_baseline_is_weighted_median(name, weighted):
    """Each output's baseline is a target value splitting the weight in halves."""
    case = CASES[name]
    _, Y = case.data()
    sample_weight = _weights(weighted)
    weights = np.ones(N_SAMPLES) if sample_weight is None else sample_weight
    half = 0.5 * weights.sum()
    median = Huber(case.n_outputs, delta=case.delta).baseline(Y, sample_weight)
    assert np.shape(median) == (case.n_outputs,)
    for k, m in enumerate(median):
        column = Y[:, k]
        assert m in column
        assert weights[column < m].sum() <= half + 1e-12
        assert weights[column > m].sum() <= half + 1e-12


def test_huber_baseline_is_weighted_median_for_skewed_weights():
    """A heavy sample pulls the weighted median onto itself."""
    Y = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    weights = np.array([1.0, 1.0, 1.0, 1.0, 10.0])
    assert Huber(1, delta=1.0).baseline(Y, weights)[0] == 10.0
    assert Huber(1, delta=1.0).baseline(Y, None)[0] == 2.0


# --- link -----------------------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def _softmax_rows(raw):
    return np.array([[math.exp(r) / sum(math.exp(s) for s in row) for r in row] for row in raw])


LINKS = {
    "squared": lambda raw: raw,
    "huber": lambda raw: raw,
    "poisson": np.vectorize(math.exp),
    "binary": np.vectorize(_sigmoid),
    "multilabel": np.vectorize(_sigmoid),
    "multinomial": _softmax_rows,
}


@cases
def test_link_gives_the_implied_prediction(name):
    """link is identity, exp, sigmoid or softmax according to the loss."""
    case = CASES[name]
    raw, _ = case.data()
    prediction = case.loss().link(raw)
    np.testing.assert_allclose(prediction, LINKS[name.split("-")[0]](raw), rtol=1e-12)
    if name.startswith("multinomial"):
        np.testing.assert_allclose(prediction.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", SMOOTH)
def test_gradient_vanishes_where_prediction_equals_target(name):
    """The canonical links make the gradient (link(raw) - y) / n_outputs."""
    case = CASES[name]
    raw, Y = case.data()
    loss = case.loss()
    out = np.empty_like(raw)
    loss.gradient(raw, Y, out)
    if name.startswith("multinomial"):
        # Class codes stand for the one-hot rows the softmax is compared with.
        scale, Y = 1.0, np.eye(case.n_outputs)[Y]
    else:
        scale = case.n_outputs
    np.testing.assert_allclose(out * scale, loss.link(raw) - Y, rtol=1e-12, atol=1e-14)


# --- numerical robustness -------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_binary_log_loss_is_finite_at_extreme_raw(n_outputs, dtype):
    """Confidently wrong sigmoid outputs cost |raw| per label, not inf or nan."""
    raw = np.array([[500.0] * n_outputs, [-500.0] * n_outputs, [500.0] * n_outputs],
                   dtype=dtype)
    Y = np.array([[0.0] * n_outputs, [1.0] * n_outputs, [1.0] * n_outputs], dtype=dtype)
    loss = BinaryLogLoss(n_outputs)
    out = np.empty_like(raw)
    losses = loss.loss_and_gradient(raw, Y, out)
    assert np.isfinite(losses).all() and np.isfinite(out).all()
    np.testing.assert_allclose(losses, [500.0, 500.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(out * n_outputs, [[1.0] * n_outputs, [-1.0] * n_outputs,
                                                 [0.0] * n_outputs], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multinomial_log_loss_is_finite_at_extreme_raw(dtype):
    """Softmax of ±500 neither overflows nor yields log(0)."""
    raw = np.array([[500.0, -500.0, 0.0], [500.0, -500.0, 0.0], [-500.0, -500.0, -500.0]],
                   dtype=dtype)
    Y = np.array([1, 0, 2])
    loss = MultinomialLogLoss(3)
    out = np.empty_like(raw)
    losses = loss.loss_and_gradient(raw, Y, out)
    assert np.isfinite(losses).all() and np.isfinite(out).all()
    # logsumexp(raw) - raw[y] cancels two values near 500: one float32 ulp there is 3e-5.
    atol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(losses, [1000.0, 0.0, math.log(3.0)], rtol=1e-6, atol=atol)
    np.testing.assert_allclose(
        out, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0], [1 / 3, 1 / 3, -2 / 3]], atol=1e-6
    )
    np.testing.assert_allclose(loss.link(raw).sum(axis=1), 1.0, rtol=1e-6)


@cases
def test_a_stack_of_runs_gets_each_run_its_own_loss(name):
    """Raw outputs of K runs against the same targets: each run's loss as if alone."""
    case = CASES[name]
    raw, Y = case.data()
    stack = np.stack([raw, 2 * raw, raw - 1])
    loss = case.loss()
    out = np.empty_like(stack)
    losses = loss.loss_and_gradient(stack, Y, out)
    assert losses.shape == (3, N_SAMPLES)
    for run in range(3):
        alone = np.empty_like(raw)
        np.testing.assert_array_equal(losses[run], loss.loss_and_gradient(stack[run], Y, alone))
        np.testing.assert_array_equal(out[run], alone)


@pytest.mark.parametrize("name", ["binary-1", "multilabel-3", "multinomial-3"])
def test_label_smoothing_is_the_cross_entropy_of_the_smoothed_targets(name):
    """Training aims at (1 - e) onehot + e / n_classes (per sigmoid: (1 - e) y + e / 2);
    per_sample stays the loss of the true labels. Checked against the textbook
    cross-entropy of the smoothed distribution and finite differences of it."""
    case, smoothing = CASES[name], 0.2
    raw, Y = case.data()
    plain, smoothed = case.loss(), type(case.loss())(case.n_outputs, smoothing)
    if name.startswith("multinomial"):
        target = (1 - smoothing) * np.eye(case.n_outputs)[Y] + smoothing / case.n_outputs
        log_proba = raw - np.log(np.exp(raw).sum(axis=1, keepdims=True))
        expected = -(target * log_proba).sum(axis=1)
    else:
        target = (1 - smoothing) * Y + smoothing / 2
        expected = (np.logaddexp(0, raw) - target * raw).mean(axis=1)
    out = np.empty_like(raw)
    losses = smoothed.loss_and_gradient(raw.copy(), Y, out)
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    np.testing.assert_array_equal(smoothed.per_sample(raw, Y), plain.per_sample(raw, Y))
    fd = np.empty_like(raw)
    for k in range(raw.shape[1]):
        up, down = raw.copy(), raw.copy()
        up[:, k] += STEP
        down[:, k] -= STEP
        fd[:, k] = (smoothed.loss_and_gradient(up, Y, np.empty_like(raw))
                    - smoothed.loss_and_gradient(down, Y, np.empty_like(raw))) / (2 * STEP)
    np.testing.assert_allclose(out, fd, rtol=1e-6, atol=1e-8)
