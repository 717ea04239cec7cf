"""Docstring fragments shared by the estimators, so each parameter is described once."""

import textwrap

from ._losses import REGRESSION_LOSSES

TRAINING_PARAMETERS = """\
solver : {{"adam", "adamw", "sgd", "rmsprop", "adagrad"}} or Optimizer, default="adam"
{solver_description}
    alpha : {alpha_type}, default={alpha}
        Strength of the L2 penalty ``alpha / 2 * ||W||^2`` on the weights (not the
        intercepts). It is part of the objective, so its effect does not depend on the
        batch size.{alpha_note}
    batch_size : int or "auto", default="auto"
        Samples per minibatch; "auto" is {auto_batch_size}.
    max_iter : int, default={max_iter}
        Maximum number of epochs (passes over the training data) of ``fit``.
    tol : float, default={tol}
        Improvement of the monitored quantity below which an epoch counts as no
        progress.
    n_iter_no_change : int, default={n_iter_no_change}
        ``fit`` stops after exactly this many epochs in a row without progress. The
        monitored quantity is the validation score with ``early_stopping=True``, else
        the training loss.
    early_stopping : bool or "auto", default={early_stopping}
        Monitor a validation set (``X_val``/``y_val`` given to ``fit``, or
        ``validation_fraction`` of the training data, stratified for classifiers) and
        restore the weights of its best epoch at the end. "auto" does so when ``X_val``
        is given or ``fit`` sees at least 100 samples, and otherwise trains on all of
        them, monitoring the training loss.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True`` and no
        ``X_val`` is given.
    scoring : str or callable, default="loss"
        What early stopping maximises: "loss" for the negative validation loss, or any
        scikit-learn scorer name (e.g. "accuracy", "r2") or callable
        ``scorer(estimator, X, y)``.
    shuffle : bool, default=True
        Shuffle the training data before every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split and the shuffling.
    verbose : int, default=0
        Print one line per epoch: the training loss, the validation score (when
        there is validation data) and the epoch's training time in seconds.
    warm_start : bool, default=False
        Continue from the previous fit: the weights, the optimizer's state (moments and
        step count) and the random stream all carry over, so two fits of ``n`` epochs
        give the model of one fit of ``2n``. A classifier's ``y`` must then hold the
        same classes as before (``partial_fit`` takes chunks that lack some)."""

HISTORY_ATTRIBUTES = """\
alpha_ : float
        The L2 penalty the last call of ``fit`` or ``partial_fit`` trained with:
        ``alpha``, or what "auto" stood for.
    n_iter_ : int
        Epochs run, over all fits when warm-starting and all ``partial_fit`` calls.
    t_ : int
        Training samples seen by the solver.
    loss_curve_ : list of float
        The objective (mean loss plus penalty) averaged over each epoch's minibatches
        (and over the members of an ensemble).{loss_units}
    best_loss_ : float
        The lowest entry of ``loss_curve_``.
    validation_scores_ : list of float or None
        The monitored score after every epoch (higher is better), when validating.
    best_validation_score_ : float or None
        The best entry of ``validation_scores_``.
    patience_exhausted_ : bool
        Whether the last ``n_iter_no_change`` epochs brought no progress.
    optimizer_ : Optimizer
        The optimizer used (a clone of ``solver`` or the one it names).
    optimizer_state_ : OptimizerState or tuple of OptimizerState
        Its state, carried over by ``warm_start`` and ``partial_fit``; one per member
        for an ensemble.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` has string column names."""


# Regressors train on standardised targets: their losses are in those units.
REGRESSION_LOSS_UNITS = """ With the squared error and
        Huber's loss, in the units of the standardised targets ``(y - target_mean_) /
        target_scale_``: the squared error in the units of ``y`` is ``target_scale_**2``
        times the loss (averaged over the targets). Validation losses alike."""


def _regression_loss_parameter():
    """The regressors' ``loss`` parameter, from the losses ``REGRESSION_LOSSES`` names."""
    names = ", ".join(f'"{name}"' for name in REGRESSION_LOSSES)
    kinds = "; ".join(f'"{name}", {loss.description}'
                      for name, loss in REGRESSION_LOSSES.items())
    text = textwrap.fill(f"The loss: {kinds}.", width=84, initial_indent=" " * 8,
                         subsequent_indent=" " * 8)
    return f'loss : {{{names}}}, default="squared_error"\n{text}'


def _solver_description(learning_rate_note):
    """The ``solver`` parameter's text, with the estimator's note on its learning rate."""
    text = (
        "The optimizer. A name stands for that class of :mod:`skadam.optim` with its "
        f"defaults{learning_rate_note}. An instance (e.g. ``Adam(beta_2=0.99)``) is "
        "cloned, never changed, and tunable as ``solver__beta_1``; the clone used is "
        "``optimizer_`` and its state ``optimizer_state_``. ``solver__beta_1`` tunes a "
        "solver given by name too: ``set_params`` replaces the name by its optimizer.")
    return wrap_description(text)


def wrap_description(text):
    """``text`` wrapped as the description of a parameter in a numpydoc docstring."""
    return textwrap.fill(text, width=88, initial_indent=" " * 8, subsequent_indent=" " * 8,
                         break_on_hyphens=False, break_long_words=False)


def fill_doc(**values):
    """Class decorator replacing ``{training_parameters}``, ``{history_attributes}`` and
    ``{loss_parameter}``."""

    def decorate(cls):
        training = TRAINING_PARAMETERS.format(
            solver_description=_solver_description(values.get("learning_rate_note", "")),
            alpha=values["alpha"],
            alpha_type=values.get("alpha_type", "float"),
            alpha_note=values.get("alpha_note", ""),
            max_iter=values["max_iter"],
            tol=values["tol"],
            n_iter_no_change=values.get("n_iter_no_change", 10),
            early_stopping=values.get("early_stopping", False),
            auto_batch_size=cls._auto_batch_size_doc,
        )
        history = HISTORY_ATTRIBUTES.format(loss_units=values.get("loss_units", ""))
        cls.__doc__ = cls.__doc__.replace("{training_parameters}", training).replace(
            "{history_attributes}", history
        ).replace("{loss_parameter}", _regression_loss_parameter())
        return cls

    return decorate
