"""One run's history: its losses, validation scores, best weights and patience.

The estimators' scikit-learn attributes (``loss_curve_``, ``n_iter_``,
``validation_scores_``, ...) read a :class:`History`; the training loop writes it, one
epoch at a time, for every run of a stack alike.
"""

import numpy as np


class History:
    """What a run has been through, epoch by epoch, over all its fits and calls.

    Attributes
    ----------
    n_iter : int
        Epochs run.
    n_samples_seen : int
        Training samples seen by the solver.
    losses : list of float
        The objective of each epoch.
    best_loss : float
        The lowest of ``losses``.
    validation_scores : list of float or None
        The validation score after each epoch (higher is better), once validating.
    best_validation_score : float or None
        The best of ``validation_scores``.
    best_params : ndarray or None
        The parameters at the best validation score.
    epochs_without_progress : int
        Epochs in a row whose monitored quantity did not improve by more than ``tol``.
    patience_exhausted : bool
        Whether the last ``n_iter_no_change`` epochs brought no progress.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._history import History
    >>> history = History()
    >>> for loss in [1.0, 0.5, 0.5, 0.5]:
    ...     stop = history.record(loss, 100, np.zeros(2), tol=0.0, n_iter_no_change=2)
    >>> history.n_iter, history.best_loss, stop
    (4, 0.5, True)
    """

    def __init__(self):
        self.n_iter = 0
        self.n_samples_seen = 0
        self.losses = []
        self.best_loss = np.inf
        self.validation_scores = None
        self.best_validation_score = None
        self.best_params = None
        self.epochs_without_progress = 0
        self.patience_exhausted = False

    def begin_call(self, *, validating, incremental):
        """Prepare for a ``fit`` (patience starts afresh) or a ``partial_fit`` call."""
        if validating and self.validation_scores is None:
            self.validation_scores, self.best_validation_score = [], -np.inf
        if not incremental:
            self.epochs_without_progress = 0
        self.patience_exhausted = self.patience_exhausted and incremental

    def record(self, objective, n_samples, params, *, tol, n_iter_no_change, score=None):
        """Book an epoch; return True when patience ran out.

        Parameters
        ----------
        objective : float
            The epoch's training objective.
        n_samples : int
            The training samples of the epoch.
        params : ndarray
            The parameters at the end of the epoch, remembered when ``score`` is the
            best so far.
        tol : float
            Least improvement that counts as progress.
        n_iter_no_change : int
            Epochs in a row without progress that exhaust the patience.
        score : float, default=None
            The validation score, when validating: the monitored quantity, else the
            training objective is.

        Returns
        -------
        stop : bool
            True after exactly ``n_iter_no_change`` epochs in a row without progress.
        """
        self.n_iter += 1
        self.n_samples_seen += n_samples
        self.losses.append(objective)
        improved = objective < self.best_loss - tol
        self.best_loss = min(self.best_loss, objective)
        if score is not None:
            self.validation_scores.append(score)
            improved = score > self.best_validation_score + tol
            if score > self.best_validation_score:
                self.best_validation_score = score
                self.best_params = params.copy()
        self.epochs_without_progress = 0 if improved else self.epochs_without_progress + 1
        if self.epochs_without_progress == n_iter_no_change:
            self.patience_exhausted = True
            return True
        if improved:
            self.patience_exhausted = False
        return False
