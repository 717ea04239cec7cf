"""Linear and logistic regression: skadam networks without hidden layers."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._docs import REGRESSION_LOSS_UNITS, fill_doc
from ._estimator import SOLVERS
from ._feature_scale import MAX_ABS_MEAN, MAX_STD, badly_scaled_columns
from ._heads import ClassifierBase, RegressorBase
from ._losses import REGRESSION_LOSSES
from ._warnings import warn

_LINEAR_LEARNING_RATE = 0.01
_LEARNING_RATE_NOTE = (
    f", except that the learning rate starts at {_LINEAR_LEARNING_RATE}: a convex linear "
    "model tolerates larger steps than Adam's 0.001 tuned for deep networks, and takes few "
    "steps per epoch on small data"
)
# Every solver name of the linear models starts there.
_LINEAR_LEARNING_RATES = dict.fromkeys(SOLVERS, _LINEAR_LEARNING_RATE)


class _ScaleCheck:
    """A linear model's warning about columns far from standardised: where a
    closed-form solver does not care, Adam stops short of the solution on them
    (``skadam._feature_scale``)."""

    def _check_feature_scale(self, X):
        columns, means, stds = badly_scaled_columns(X)
        if not columns.size:
            return
        names = getattr(self, "feature_names_in_", None)
        shown = [f"{repr(str(names[column])) if names is not None else f'column {column}'} "
                 f"(mean {mean:.3g}, "
                 f"standard deviation {std:.3g})"
                 for column, mean, std in zip(columns[:5], means, stds, strict=False)]
        more = f" and {columns.size - 5} more" if columns.size > 5 else ""
        warn(
            f"{type(self).__name__}: {columns.size} column(s) of X are far from "
            f"standardised: {', '.join(shown)}{more}. Adam's steps suit columns of mean "
            f"within ±{MAX_ABS_MEAN:g} and standard deviation up to {MAX_STD:g}; on these "
            "it stops short of the best fit. Put a StandardScaler in front: "
            f"make_pipeline(StandardScaler(), {type(self).__name__}()).",
            UserWarning,
        )


@fill_doc(alpha=0.0, max_iter=1000, tol=1e-5, learning_rate_note=_LEARNING_RATE_NOTE,
          loss_units=REGRESSION_LOSS_UNITS)
class LinearRegression(_ScaleCheck, RegressorBase):
    """Linear regression trained by minibatch Adam (or another optimizer).

    Minimises the weighted mean loss plus an L2 penalty,
    ``sum_i s_i loss(y_i, x_i @ w + b) / sum_i s_i + alpha / 2 * ||w||^2``, where the
    loss is half the squared error, Huber's loss or half the Poisson deviance (log link,
    ``y = exp(x @ w + b)``), averaged over the targets of a multi-output ``y``. For the
    squared error and Huber losses, training runs on standardised targets, which leaves
    the minimiser unchanged (the objective is merely divided by the target variance).

    Parameters
    ----------
    {loss_parameter}
    epsilon : float, default=1.35
        Huber's threshold, in units of ``y``: residuals beyond it cost linearly.
    fit_intercept : bool, default=True
        Fit an intercept; without one the targets are scaled but not centred.
    {training_parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients in the units of ``y``, computed from the parameter buffer.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercepts in the units of ``y`` (0.0 without ``fit_intercept``).
    target_mean_, target_scale_ : ndarray of shape (n_targets,)
        The standardisation of the targets used in training (for Huber's loss, their median
        and their median absolute deviation times 1.4826, which outliers do not inflate).
    {history_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skadam import LinearRegression
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), LinearRegression(random_state=0)).fit(X, y)
    >>> round(model.score(X, y), 2)
    0.51
    """

    _parameter_constraints = {
        **RegressorBase._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
    }

    _default_learning_rates = _LINEAR_LEARNING_RATES

    def __init__(
        self,
        *,
        loss="squared_error",
        epsilon=1.35,
        fit_intercept=True,
        solver="adam",
        alpha=0.0,
        batch_size="auto",
        max_iter=1000,
        tol=1e-5,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        scoring="loss",
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.loss = loss
        self.epsilon = epsilon
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _hidden_layer_sizes(self):
        return ()

    def _activation(self):
        return "identity"

    def _fit_intercept(self):
        return self.fit_intercept

    @property
    def coef_(self):
        W = self._layout.coefs(self._params[0])[0]
        coef = W.T * self.target_scale_[:, np.newaxis]  # the target scaling undone
        return coef[0] if self._y_1d else coef

    @property
    def intercept_(self):
        b = self._layout.intercepts(self._params[0])[0]
        if not b.size:
            b = np.zeros(self.target_mean_.shape[0], dtype=self._params.dtype)
        b = self.target_mean_ + self.target_scale_ * b
        return float(b[0]) if self._y_1d else b


@fill_doc(alpha=3e-3, max_iter=1000, tol=1e-5, learning_rate_note=_LEARNING_RATE_NOTE)
class LogisticRegression(_ScaleCheck, ClassifierBase):
    """Logistic regression (binary or multinomial) trained by minibatch Adam.

    Minimises the weighted mean log-loss plus an L2 penalty,
    ``sum_i s_i log_loss(y_i, x_i @ W + b) / sum_i s_i + alpha / 2 * ||W||^2``: a
    sigmoid of one output for two classes, a softmax over one output per class beyond.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit an intercept per output.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights; "balanced" weighs
        classes inversely to their frequency (not available to ``partial_fit``).
    label_smoothing : float, default=0.0
        Share ε of each target spread over the classes: training aims at
        ``(1 - ε) onehot(y) + ε / n_classes`` (``(1 - ε) y + ε / 2`` per sigmoid output),
        which keeps the outputs from growing without bound; ``scoring="loss"`` still
        measures the log-loss of the true labels. In [0, 1).
    {training_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, a view of the parameter buffer.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts, a view of the parameter buffer (zeros without ``fit_intercept``).
    {history_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skadam import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = make_pipeline(StandardScaler(), LogisticRegression(random_state=0))
    >>> round(model.fit(X_train, y_train).score(X_test, y_test), 2)
    0.97
    """

    _parameter_constraints = {
        **ClassifierBase._parameter_constraints,
        "fit_intercept": ["boolean"],
    }

    _default_learning_rates = _LINEAR_LEARNING_RATES

    def __init__(
        self,
        *,
        fit_intercept=True,
        class_weight=None,
        label_smoothing=0.0,
        solver="adam",
        alpha=3e-3,
        batch_size="auto",
        max_iter=1000,
        tol=1e-5,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        scoring="loss",
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _hidden_layer_sizes(self):
        return ()

    def _activation(self):
        return "identity"

    def _fit_intercept(self):
        return self.fit_intercept

    @property
    def coef_(self):
        return self._layout.coefs(self._params[0])[0].T

    @property
    def intercept_(self):
        b = self._layout.intercepts(self._params[0])[0]
        return b if b.size else np.zeros(self._layout.layer_sizes[-1], self._params.dtype)

    def decision_function(self, X):
        """Raw scores: the log-odds of ``classes_[1]`` (binary) or one score per class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``X @ coef_.T + intercept_``.

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from skadam import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> model = LogisticRegression(max_iter=5, random_state=0).fit(X, y)
        >>> model.decision_function(X[:4]).shape
        (4,)
        """
        raw = self._raw_output(X)
        return raw[:, 0].copy() if raw.shape[1] == 1 else raw.copy()
