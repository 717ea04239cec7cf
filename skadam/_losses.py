"""Losses on the raw network output: per-sample values, gradients, link and baseline.

Raw outputs come for a stack of K runs, shape (K, n_samples, n_outputs), and per-sample
losses go out as (K, n_samples) (or for one model, (n_samples, n_outputs) and
(n_samples,)); the targets are the same for every run: a 2-D float
array ``Y`` of shape (n_samples, n_outputs), the standardised regression targets or the
0/1 indicator of the positive class or labels, or for the multinomial loss the integer
class codes. A loss with several outputs averages them, and its gradient is scaled the
same way, so value and gradient always belong to the same function.
"""

import numpy as np
from scipy.special import expit, logit, logsumexp, softmax, xlogy

from ._kernels import sigmoid_cross_entropy, softmax_cross_entropy


class Loss:
    """Base class: ``per_sample(raw, Y)``, ``gradient(raw, Y, out)``, ``link`` and ``baseline``.

    ``gradient`` writes the derivative of each sample's loss with respect to its raw
    output into ``out`` (an array distinct from ``raw``); ``per_sample`` returns the
    loss of each sample (the classifiers' label smoothing shapes what training
    minimises, ``loss_and_gradient`` and ``gradient``, not this measured loss);
    ``link`` maps raw outputs to predictions; ``baseline`` gives the constant raw output
    that minimises the weighted loss, used as the initial intercept of the output
    layer.
    """

    def __init__(self, n_outputs):
        self.n_outputs = n_outputs

    def loss_and_gradient(self, raw, Y, out):
        """Per-sample losses of ``raw`` against ``Y``; their gradient goes into ``out``."""
        losses = self.per_sample(raw, Y)
        self.gradient(raw, Y, out)
        return losses

    def combine(self, raw):
        """The raw output of an ensemble, whose prediction is the mean of its members'.

        ``raw`` holds the members' raw outputs, shape (n_members, n_samples, n_outputs);
        the result, (n_samples, n_outputs), is the raw output that ``link`` maps to the
        mean of the members' predictions (their probabilities, for the classifiers), so
        that the losses, scores and predictions of an ensemble are those of one model.
        A single member's output is returned as it is.
        """
        if raw.shape[0] == 1:
            return raw[0]
        return self._combine(raw)

    def _mean_over_outputs(self, values):
        # A reduction along the outputs of a single column costs more than the column.
        return values[..., 0] if self.n_outputs == 1 else values.mean(axis=-1)

    def _average_outputs(self, out):
        if self.n_outputs > 1:
            out *= 1.0 / self.n_outputs


class RegressionLoss(Loss):
    """A regression loss, which owns what it needs of the targets: their check
    (:meth:`check_targets`), the scaling training sees them in (:meth:`target_scaling`,
    undone by the regressors after :meth:`link`) and how it is made from an estimator's
    parameters (:meth:`for_targets`); ``REGRESSION_LOSSES`` names the losses.
    """

    # What the loss is, for the estimators' docstrings.
    description = ""
    # The link's ONNX operator, for skadam.onnx: None for the identity.
    onnx_link = None
    # Whether the targets must be non-negative (scikit-learn's positive_only tag).
    positive_targets = False

    @classmethod
    def for_targets(cls, n_outputs, *, epsilon, target_scale):
        """The loss for targets scaled by ``target_scale``; ``epsilon`` is Huber's."""
        return cls(n_outputs)

    @staticmethod
    def check_targets(y, first):
        """Refuse targets the loss cannot take (``first``: the first call of a fit)."""


class SquaredError(RegressionLoss):
    """Half the squared error, averaged over outputs: ``mean_k (raw_k - y_k)**2 / 2``."""

    description = "half the squared error"

    @staticmethod
    def target_scaling(Y, sample_weight, centre):
        """The (weighted) mean and standard deviation of each target, which training
        subtracts and divides by; the mean is 0 when not ``centre``, and a constant
        target's scale 1.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam._losses import SquaredError
        >>> SquaredError.target_scaling(np.array([[1.0], [3.0]]), None, centre=True)
        (array([2.]), array([1.]))
        """
        n_targets = Y.shape[1]
        mean = np.average(Y, axis=0, weights=sample_weight) if centre else np.zeros(n_targets)
        scale = np.sqrt(np.average((Y - mean) ** 2, axis=0, weights=sample_weight))
        scale[~(scale > np.finfo(Y.dtype).eps * (1 + np.abs(mean)))] = 1.0
        return mean.astype(Y.dtype), scale.astype(Y.dtype)

    def per_sample(self, raw, Y):
        residual = raw - Y
        if self.n_outputs == 1:
            # The same numbers as the sum below, without einsum's setup, which costs more
            # than a batch's squares.
            losses = np.square(residual[..., 0])
            losses *= 0.5
            return losses
        return 0.5 * np.einsum("...ij,...ij->...i", residual, residual) / self.n_outputs

    def gradient(self, raw, Y, out):
        np.subtract(raw, Y, out=out)
        self._average_outputs(out)

    def link(self, raw):
        return raw

    def _combine(self, raw):
        return raw.mean(axis=0)

    def baseline(self, Y, sample_weight):
        return np.average(Y, axis=0, weights=sample_weight)


class Huber(SquaredError):
    """Huber's loss, averaged over outputs: quadratic within ``delta``, linear beyond."""

    description = "Huber's loss (robust to outlying targets)"

    def __init__(self, n_outputs, delta):
        super().__init__(n_outputs)
        self.delta = delta

    @classmethod
    def for_targets(cls, n_outputs, *, epsilon, target_scale):
        # epsilon is in units of y; training sees y divided by its scale.
        return cls(n_outputs, delta=epsilon / target_scale)

    @staticmethod
    def target_scaling(Y, sample_weight, centre):
        """The median and the normal-consistent median absolute deviation of each target.

        Huber's loss is for targets with outliers, which inflate the standard deviation:
        on targets scaled by it the inliers' residuals, and so the loss and its progress
        from epoch to epoch, would shrink with the outliers' size, and ``tol`` would stop
        training early. A target whose deviations are mostly zero falls back to its
        standard deviation, and a constant one to 1.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam._losses import Huber
        >>> Huber.target_scaling(np.array([[1.0], [2.0], [3.0], [100.0]]), None, centre=True)
        (array([2.]), array([1.4826]))
        """
        n_targets = Y.shape[1]
        middle = column_medians(Y, sample_weight) if centre else np.zeros(n_targets)
        deviation = np.abs(Y - middle)
        scale = 1.4826 * column_medians(deviation, sample_weight)
        spread = np.sqrt(np.average(deviation ** 2, axis=0, weights=sample_weight))
        tiny = np.finfo(Y.dtype).eps * (1 + np.abs(middle))
        scale = np.where(scale > tiny, scale, np.where(spread > tiny, spread, 1.0))
        return middle.astype(Y.dtype), scale.astype(Y.dtype)

    def per_sample(self, raw, Y):
        residual = np.abs(raw - Y)
        quadratic = np.minimum(residual, self.delta)
        # 0.5 q**2 + delta * (|r| - q) is 0.5 r**2 inside delta and delta (|r| - delta/2) beyond
        return self._mean_over_outputs(0.5 * quadratic**2 + self.delta * (residual - quadratic))

    def gradient(self, raw, Y, out):
        np.subtract(raw, Y, out=out)
        np.clip(out, -self.delta, self.delta, out=out)
        self._average_outputs(out)

    def baseline(self, Y, sample_weight):
        # The median minimises the linear part; for standardised targets it is near zero.
        return column_medians(Y, sample_weight)


class HalfPoisson(RegressionLoss):
    """Half the Poisson deviance with a log link, averaged over outputs.

    ``exp(raw) - y * raw + y * log(y) - y``, which is zero for a perfect prediction. The
    targets are not scaled: the log link already makes their scale additive.
    """

    description = "half the Poisson deviance, with a log link (non-negative targets)"
    onnx_link = "Exp"
    positive_targets = True

    @staticmethod
    def check_targets(y, first):
        if np.any(y < 0) or (first and not np.any(y > 0)):
            raise ValueError(
                "loss='poisson' needs non-negative targets, not all zero; got "
                f"min(y)={y.min()}, max(y)={y.max()}."
            )

    @staticmethod
    def target_scaling(Y, sample_weight, centre):
        n_targets = Y.shape[1]
        return np.zeros(n_targets, Y.dtype), np.ones(n_targets, Y.dtype)

    def per_sample(self, raw, Y):
        return self._mean_over_outputs(np.exp(raw) - Y * raw + xlogy(Y, Y) - Y)

    def gradient(self, raw, Y, out):
        np.exp(raw, out=out)
        out -= Y
        self._average_outputs(out)

    def link(self, raw):
        return np.exp(raw)

    def _combine(self, raw):
        # log mean exp, without overflow.
        return logsumexp(raw, axis=0) - np.log(raw.shape[0])

    def baseline(self, Y, sample_weight):
        mean = np.average(Y, axis=0, weights=sample_weight)
        return np.log(np.maximum(mean, np.finfo(Y.dtype).tiny))


# The regressors' losses by the name of their loss parameter.
REGRESSION_LOSSES = {"squared_error": SquaredError, "huber": Huber, "poisson": HalfPoisson}


class BinaryLogLoss(Loss):
    """Log-loss of independent sigmoid outputs (binary or multilabel), averaged over them.

    With ``label_smoothing`` ε, training (:meth:`loss_and_gradient`) aims at the targets
    ``(1 - ε) y + ε / 2`` rather than 0 and 1; :meth:`per_sample` stays the log-loss of
    the true labels, what validation measures.
    """

    def __init__(self, n_outputs, label_smoothing=0.0):
        super().__init__(n_outputs)
        self.label_smoothing = label_smoothing

    def per_sample(self, raw, Y):
        raw = np.ascontiguousarray(raw)
        return self._cross_entropy(raw, Y, np.empty_like(raw))

    def loss_and_gradient(self, raw, Y, out):
        if self.label_smoothing:
            Y = np.asarray(Y, dtype=raw.dtype) * (1 - self.label_smoothing) + (
                0.5 * self.label_smoothing)
        return self._cross_entropy(raw, Y, out)

    def _cross_entropy(self, raw, Y, out):
        # One fused compiled loop: softplus, sigmoid and the mean over outputs from one
        # exponential per entry, instead of half a dozen NumPy passes per batch.
        losses = np.empty(raw.shape[:-1], dtype=raw.dtype)
        sigmoid_cross_entropy(raw, np.ascontiguousarray(Y, dtype=raw.dtype), out, losses)
        return losses

    def gradient(self, raw, Y, out):
        self.loss_and_gradient(raw, Y, out)

    def link(self, raw):
        return expit(raw)

    def _combine(self, raw):
        # The log-odds of the mean probability, from the log-probabilities of both
        # outcomes (-softplus(-raw) and -softplus(raw)), so that none rounds to 0 or 1.
        log_positive = logsumexp(-np.logaddexp(0, -raw), axis=0)
        log_negative = logsumexp(-np.logaddexp(0, raw), axis=0)
        return log_positive - log_negative

    def baseline(self, Y, sample_weight):
        share = np.average(Y, axis=0, weights=sample_weight)
        tiny = 1e-6
        return logit(np.clip(share, tiny, 1 - tiny))


class MultinomialLogLoss(Loss):
    """Cross-entropy of a softmax over the classes: ``logsumexp(raw) - raw[y]``.

    Its targets are the integer class codes, shape (n_samples,), rather than a one-hot
    matrix: the loss picks one entry per row, and the data need no n_classes-fold copy.
    With ``label_smoothing`` ε, training (:meth:`loss_and_gradient`) aims at the
    distribution ``(1 - ε) onehot(y) + ε / n_classes``: the loss gains
    ``ε (raw[y] - mean(raw))`` and the gradient ``ε (onehot(y) - 1 / n_classes)``;
    :meth:`per_sample` stays the cross-entropy of the true class.
    """

    def __init__(self, n_outputs, label_smoothing=0.0):
        super().__init__(n_outputs)
        self.label_smoothing = label_smoothing

    def per_sample(self, raw, Y):
        raw = np.ascontiguousarray(raw)
        return self._cross_entropy(raw, Y, np.empty_like(raw))

    def loss_and_gradient(self, raw, Y, out):
        smoothing = self.label_smoothing
        if not smoothing:
            return self._cross_entropy(raw, Y, out)
        codes = np.asarray(Y, dtype=np.int64)
        rows = np.arange(codes.shape[0])
        # Read before the kernel, which may write its gradient over raw.
        shift = raw[..., rows, codes] - raw.mean(axis=-1)
        losses = self._cross_entropy(raw, codes, out)
        losses += smoothing * shift
        out -= smoothing / self.n_outputs
        out[..., rows, codes] += smoothing
        return losses

    def _cross_entropy(self, raw, Y, out):
        # One fused compiled loop per row: the max shift that keeps exp from overflowing,
        # one pass of exponentials for both the loss and the softmax. As NumPy calls on
        # a batch of a few hundred rows it costs several times the output layer's product.
        losses = np.empty(raw.shape[:-1], dtype=raw.dtype)
        softmax_cross_entropy(raw, np.asarray(Y, dtype=np.int64), out, losses)
        return losses

    def gradient(self, raw, Y, out):
        self.loss_and_gradient(raw, Y, out)

    def link(self, raw):
        return softmax(raw, axis=-1)

    def _combine(self, raw):
        # The log of the mean probabilities: a raw output whose softmax is that mean.
        log_proba = raw - logsumexp(raw, axis=-1, keepdims=True)
        return logsumexp(log_proba, axis=0) - np.log(raw.shape[0])

    def baseline(self, Y, sample_weight):
        counts = np.bincount(Y, weights=sample_weight, minlength=self.n_outputs)
        log_share = np.log(np.clip(counts / counts.sum(), 1e-6, None))
        return log_share - log_share.mean()


def column_medians(Y, sample_weight):
    """The weighted median of each column of ``Y`` (n_samples, n_columns)."""
    return np.array([weighted_median(column, sample_weight) for column in Y.T])


def weighted_median(values, sample_weight):
    """The value at which the cumulative weight of the sorted ``values`` reaches half."""
    order = np.argsort(values)
    weights = np.ones_like(values) if sample_weight is None else sample_weight
    cumulative = np.cumsum(weights[order])
    return values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])]
