"""The heads of the estimators: classification and regression, targets in, predictions out."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._estimator import BaseAdamEstimator
from ._losses import REGRESSION_LOSSES, BinaryLogLoss, MultinomialLogLoss
from ._warnings import warn


class ClassifierBase(ClassifierMixin, BaseAdamEstimator):
    """Label encoding, class weights and the predict/proba methods of the classifiers.

    Two classes use one sigmoid output (the log-odds of ``classes_[1]``), more classes a
    softmax over one output each, and a 2-D 0/1 ``y`` (where allowed) one sigmoid per
    label.
    """

    _parameter_constraints = {
        **BaseAdamEstimator._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }
    _y_numeric = False
    _multilabel_allowed = False
    _DATA_ATTRIBUTES = (*BaseAdamEstimator._DATA_ATTRIBUTES, "classes_", "_multilabel")

    def partial_fit(self, X, y, classes=None, sample_weight=None, *, X_val=None, y_val=None,
                    sample_weight_val=None):
        """Train one epoch on ``(X, y)``, continuing from the current state.

        The optimizer's state (step count and moments) carries over from call to call.
        When ``X_val`` and ``y_val`` are given, the model is scored on them after the
        epoch (``validation_scores_``) and the best weights seen are remembered; after
        ``n_iter_no_change`` calls in a row without an improvement greater than ``tol``,
        ``patience_exhausted_`` becomes True and, with ``early_stopping=True``, the
        weights are reset to the best ones. The caller decides whether to stop.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes that will ever appear; required on the first call, which
            starts the model from even odds over them (the first chunk need not hold
            every class).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        X_val, y_val : array-like, default=None
            Validation data to score after this call's epoch.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skadam import MLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> model = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
        >>> for chunk in np.array_split(np.random.default_rng(0).permutation(150), 5):
        ...     _ = model.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        >>> model.n_iter_, model.optimizer_state_.t
        (5, 5)
        """
        if not self.__sklearn_is_fitted__() and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: all the labels "
                "that will ever appear, e.g. classes=np.unique(y_all)."
            )
        return self._fit_public(X, y, sample_weight, X_val, y_val, sample_weight_val,
                                incremental=True, classes=classes)

    def _check_target_shape(self, y):
        if y.ndim == 2 and y.shape[1] == 1:
            warn(
                "A column-vector y was passed when a 1d array was expected; it was "
                "flattened. Pass y.ravel() to silence this warning.",
                DataConversionWarning,
            )
            return y.ravel()
        if y.ndim == 2 and not self._multilabel_allowed:
            raise ValueError(
                f"{type(self).__name__} needs a 1-D y of class labels; got shape {y.shape}. "
                "For several labels per sample use MLPClassifier with a 0/1 indicator matrix."
            )
        return y

    def _check_targets(self, y, *, first, classes, warm_start):
        multilabel = y.ndim == 2
        if multilabel and type_of_target(y) != "multilabel-indicator":
            raise ValueError(
                "A 2-D y must be a 0/1 label indicator matrix (multilabel); got "
                f"{type_of_target(y)!r} targets."
            )
        if first:
            if multilabel:
                found = np.arange(y.shape[1])
            else:
                if y.dtype == object:
                    _sorted_labels(y)  # mixed types: a clearer error than "unknown" targets
                check_classification_targets(y)
                found = _sorted_labels(y)
            self._multilabel = multilabel
            self.classes_ = found if classes is None or multilabel else _sorted_labels(
                np.asarray(classes))
            if not multilabel and len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes; the data "
                    f"hold only one class: {np.asarray(self.classes_[0]).item()!r}."
                )
        elif multilabel != self._multilabel or (multilabel and y.shape[1] != len(self.classes_)):
            raise ValueError(
                "y does not match the targets the model was fitted on: "
                f"{'multilabel' if self._multilabel else '1-D'} with "
                f"{len(self.classes_)} classes."
            )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the classes_ of the "
                f"first call {self.classes_.tolist()}."
            )
        elif warm_start and not multilabel:
            # fit learns classes_ from y, so a warm start must see the same classes;
            # a chunk that lacks some of them is what partial_fit is for.
            found = _sorted_labels(y)
            if not np.array_equal(found, self.classes_):
                raise ValueError(
                    f"warm_start=True continues the model fitted before, whose classes_ "
                    f"are {self.classes_.tolist()}, but this y holds the classes "
                    f"{found.tolist()[:20]}. Pass data of exactly those classes, call "
                    "partial_fit to train on a chunk that lacks some of them, or set "
                    "warm_start=False to fit a new model."
                )

    def _check_validation_labels(self, y_val):
        if self._multilabel:
            return
        unseen = ~np.isin(y_val, self.classes_)
        if unseen.any():
            raise ValueError(
                f"y_val contains labels the model does not know, "
                f"{np.unique(y_val[unseen])[:10].tolist()}; its classes_ are "
                f"{self.classes_.tolist()}. Early stopping can only score the classes the "
                "model trains on: drop those samples from X_val and y_val, or, when "
                "streaming with partial_fit, declare every label in classes on the first "
                "call."
            )

    def _encode_targets(self, y, sample_weight, first, dtype):
        if self._multilabel:
            return y.astype(dtype)
        # One binary search per label both encodes it and, read back, detects the
        # labels that are not among the classes.
        codes = np.searchsorted(self.classes_, y)
        unseen = self.classes_[np.minimum(codes, len(self.classes_) - 1)] != y
        if unseen.any():
            raise ValueError(
                f"y contains labels not in classes_ {self.classes_.tolist()}: "
                f"{np.unique(y[unseen])[:10].tolist()}. Pass every label in classes on the "
                "first call to partial_fit."
            )
        if len(self.classes_) == 2:
            return (codes == 1).astype(dtype).reshape(-1, 1)
        return codes

    def _initial_output_bias(self, loss, Y, sample_weight, incremental):
        if incremental:
            # The first chunk of a stream need not hold every class declared in
            # `classes`: priors from its shares would start an absent class at a
            # log-odds of about -14, which Adam takes thousands of steps to undo. Even
            # odds, as scikit-learn's partial_fit starts from.
            return np.zeros(loss.n_outputs)
        return super()._initial_output_bias(loss, Y, sample_weight, incremental)

    def _apply_class_weight(self, y, sample_weight, incremental):
        if self.class_weight is None:
            return sample_weight
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class frequencies of all the data, which "
                "partial_fit never sees; compute them with "
                "sklearn.utils.class_weight.compute_class_weight and pass a dict."
            )
        weights = compute_sample_weight(self.class_weight, y).astype(
            sample_weight.dtype if sample_weight is not None else np.float64
        )
        return weights if sample_weight is None else weights * sample_weight

    def _stratify(self, y):
        return None if y.ndim == 2 else y

    def _make_loss(self, n_outputs):
        if self._multilabel or n_outputs == 1:
            return BinaryLogLoss(n_outputs, self.label_smoothing)
        return MultinomialLogLoss(n_outputs, self.label_smoothing)

    def predict(self, X):
        """Predict class labels (or, for multilabel models, the 0/1 indicator matrix).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skadam import LogisticRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> LogisticRegression(random_state=0).fit(X, y).predict(X[:3])
        array([0, 0, 0])
        """
        raw = self._raw_output(X)
        if self._multilabel:
            return (raw > 0).astype(int)
        if raw.shape[1] == 1:
            return self.classes_[(raw[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(raw, axis=1)]

    def predict_proba(self, X):
        """Class probabilities (per label for multilabel models).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skadam import LogisticRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> proba = LogisticRegression(random_state=0).fit(X, y).predict_proba(X[:2])
        >>> proba.shape, proba.sum(axis=1).round(6).tolist()
        ((2, 3), [1.0, 1.0])
        """
        raw = self._raw_output(X)
        proba = self._make_loss(raw.shape[1]).link(raw)
        if raw.shape[1] == 1 and not self._multilabel:
            return np.hstack([1.0 - proba, proba])
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skadam import LogisticRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> model = LogisticRegression(random_state=0).fit(X, y)
        >>> bool(np.allclose(np.exp(model.predict_log_proba(X)), model.predict_proba(X)))
        True
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = self._multilabel_allowed
        return tags


class RegressorBase(RegressorMixin, BaseAdamEstimator):
    """Target scaling, the regression losses and ``predict`` of the regressors.

    For the squared error and Huber losses, training sees the targets standardised by
    their (weighted) mean and standard deviation, kept as ``target_mean_`` and
    ``target_scale_``; predictions are mapped back. Adam moves each parameter by about
    the learning rate per step, so this puts the parameters on the scale that the
    learning rate suits whatever the units of ``y``. The Poisson loss, whose log link
    already makes the scale additive, sees the raw counts.
    """

    _y_numeric = True
    _DATA_ATTRIBUTES = (*BaseAdamEstimator._DATA_ATTRIBUTES, "_y_1d", "_n_targets",
                        "target_mean_", "target_scale_")

    def partial_fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
                    sample_weight_val=None):
        """Train one epoch on ``(X, y)``, continuing from the current state.

        The optimizer's state (step count and moments) carries over from call to call;
        the target scaling is set by the first call. When ``X_val`` and ``y_val`` are
        given, the model is scored on them after the epoch (``validation_scores_``) and
        the best weights seen are remembered; after ``n_iter_no_change`` calls in a row
        without an improvement greater than ``tol``, ``patience_exhausted_`` becomes
        True and, with ``early_stopping=True``, the weights are reset to the best ones.
        The caller decides whether to stop.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        X_val, y_val : array-like, default=None
            Validation data to score after this call's epoch.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam import LinearRegression
        >>> X = np.arange(40.0).reshape(20, 2)
        >>> model = LinearRegression(random_state=0)
        >>> for _ in range(3):
        ...     _ = model.partial_fit(X, X.sum(axis=1))
        >>> model.n_iter_
        3
        """
        return self._fit_public(X, y, sample_weight, X_val, y_val, sample_weight_val,
                                incremental=True)

    def _check_targets(self, y, *, first, classes, warm_start):
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        REGRESSION_LOSSES[self.loss].check_targets(y, first)
        if first:
            # Known before the targets' statistics: y_val is checked against it when the
            # first fit has not yet computed them.
            self._y_1d, self._n_targets = y.ndim == 1, n_targets
        elif n_targets != self._n_targets:
            raise ValueError(
                f"y has {n_targets} targets but the model was fitted on {self._n_targets}."
            )

    def _encode_targets(self, y, sample_weight, first, dtype):
        Y = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(dtype)
        if first:
            self.target_mean_, self.target_scale_ = REGRESSION_LOSSES[
                self.loss].target_scaling(Y, sample_weight, centre=self._fit_intercept())
        return (Y - self.target_mean_) / self.target_scale_

    def _make_loss(self, n_outputs):
        return REGRESSION_LOSSES[self.loss].for_targets(
            n_outputs, epsilon=self.epsilon, target_scale=self.target_scale_)

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, 1-D when the model was fitted on a 1-D ``y``.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam import LinearRegression
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> model = LinearRegression(random_state=0).fit(X, 3 * X[:, 0] + 1)
        >>> model.predict([[1.0, 0.0]]).round(1)
        array([4.])
        """
        raw = self._raw_output(X)
        # The scaling of training undone (none for a loss that does not scale).
        link = self._make_loss(raw.shape[1]).link(raw)
        prediction = link * self.target_scale_ + self.target_mean_
        return prediction.ravel() if self._y_1d else prediction

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = REGRESSION_LOSSES[self.loss].positive_targets
        return tags


def _sorted_labels(labels):
    """The distinct labels in order; labels of types that do not compare are refused."""
    try:
        return np.unique(labels)
    except TypeError as error:
        types = sorted({type(label).__name__ for label in labels.ravel()})
        raise TypeError(
            f"The labels mix types that cannot be ordered ({', '.join(types)}); pass labels "
            "of one type, for instance y.astype(str)."
        ) from error
