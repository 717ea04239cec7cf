"""What early stopping monitors: the held-out part of a fit's data and how it is scored.

``fit`` holds out ``validation_fraction`` of its data (stratified for classifiers) or
takes ``X_val`` and ``y_val``; the estimators' target hooks check and encode the
held-out targets as they do the training ones.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split

from ._data import Validation
from ._validation_input import check_validation_data

# The least number of samples with which early_stopping="auto" holds out validation data:
# with fewer, the held-out part (10 rows at the default fraction) would say little.
AUTO_EARLY_STOPPING_SAMPLES = 100


class HeldOutMixin:
    """The estimators' handling of held-out data; they supply the target hooks
    (``_check_target_shape``, ``_check_targets``, ``_check_weights``,
    ``_encode_targets``)."""

    def _holds_out(self, n_samples):
        """Whether ``fit`` on ``n_samples`` holds out ``validation_fraction`` of them."""
        if self.early_stopping == "auto":
            return n_samples >= AUTO_EARLY_STOPPING_SAMPLES
        return bool(self.early_stopping)

    def _check_validation_request(self, X_val, y_val, incremental):
        if X_val is None or y_val is None:
            raise ValueError("Pass both X_val and y_val, or neither.")
        if not incremental and not self.early_stopping:
            raise ValueError(
                "X_val and y_val are only used for early stopping: set early_stopping=True "
                "to monitor them, or leave them out."
            )

    def _hold_out(self, X, y, sample_weight, X_val, y_val, sample_weight_val, seed):
        """Split off (by the run's ``seed``) or validate the monitored set:
        ``(training part, held-out part)``.

        Each part is ``(X, y, sample_weight)`` with the targets as given, not encoded.
        """
        if X_val is not None:
            X_val, y_val = check_validation_data(self, X_val, y_val, X.dtype)
            y_val = self._check_target_shape(y_val)
            self._check_targets(y_val, first=False, classes=None, warm_start=False)
            self._check_validation_labels(y_val)
            sample_weight_val = self._check_weights(sample_weight_val, X_val)
            train_part = (X, y, sample_weight)
        else:
            indices = np.arange(X.shape[0])
            stratify = self._stratify(y)
            try:
                train_idx, val_idx = train_test_split(
                    indices, test_size=self.validation_fraction,
                    random_state=seed, stratify=stratify,
                )
            except ValueError as error:
                raise ValueError(
                    f"early_stopping could not hold out validation_fraction="
                    f"{self.validation_fraction} of {X.shape[0]} samples ({error}). Pass "
                    "more samples, a larger validation_fraction, or X_val and y_val."
                ) from error
            weights = (None,) * 2 if sample_weight is None else (
                sample_weight[train_idx], sample_weight[val_idx])
            train_part = (X[train_idx], y[train_idx], weights[0])
            X_val, y_val, sample_weight_val = X[val_idx], y[val_idx], weights[1]
        for part, weights in (("training", train_part[2]), ("validation", sample_weight_val)):
            if weights is not None and not weights.sum() > 0:
                raise ValueError(
                    f"The {part} data for early stopping have only zero sample weights, so "
                    "there is nothing to measure. Pass X_val and y_val (with "
                    "sample_weight_val) chosen so that both parts weigh something, or more "
                    "samples of non-zero weight."
                )
        return train_part, (X_val, y_val, sample_weight_val)

    def _check_validation_labels(self, y_val):
        """Refuse validation targets the model cannot score (a classifier's new labels)."""

    def _validation(self, X_val, y_val, sample_weight_val, dtype):
        """The :class:`Validation` of a held-out part, its targets encoded as in training."""
        Y_val = self._encode_targets(y_val, sample_weight_val, first=False, dtype=dtype)
        scorer = None if self.scoring == "loss" else check_scoring(self, self.scoring)
        return Validation(X_val, y_val, Y_val, sample_weight_val, scorer,
                          None if scorer is None else self._with_feature_names(X_val))

    def _with_feature_names(self, X):
        """Validated rows as a DataFrame of the fitted column names, for a scorer: a
        scorer calls ``predict``, which warns of rows without the names the model was
        fitted with (scikit-learn's issue 24846). ``X`` itself without names to give."""
        names = getattr(self, "feature_names_in_", None)
        if names is None or sp.issparse(X):
            return X
        try:
            import pandas as pd
        except ImportError:  # names from another DataFrame library: predict warns
            return X
        return pd.DataFrame(X, columns=names, copy=False)

    def _stratify(self, y):
        return None
