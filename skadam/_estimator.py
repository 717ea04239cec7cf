"""The estimator base shared by all four estimators: parameters, validation, one _fit path.

A fit validates and encodes its data, sets the estimator's description of them
(``n_features_in_``, ``classes_``, the target scaling), starts a
:class:`~skadam._run.Run` (or resumes a copy of the model's) and hands it to the one
training loop as a stack of one; :func:`~skadam._fit_together.fit_together` hands it
the runs of several estimators of one configuration, as a batched search does. The
fitted attributes read the run.
"""

import functools
import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)

from ._callbacks import EpochCallbacks, RunHooks
from ._data import TrainingData
from ._embeddings import AUTO_EMBEDDING, PeriodicEmbedding, embedded_columns
from ._held_out import HeldOutMixin
from ._interrupt import InterruptGuard, TrainingInterrupted
from ._layout import ParameterLayout
from ._loop import Fit, train
from ._penalty import STREAM_ALPHA, auto_alpha
from ._persistence import plain_state, restored_state
from ._piecewise import PiecewiseLinearEmbedding
from ._run import Run, Stopping
from ._shared_ensemble import MemberMeanLoss, make_network
from ._sklearn_names import sklearn_name_error
from ._warnings import warn
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop

# Stands for an attribute a model did not have before a call.
_ABSENT = object()

SOLVERS = {"adam": Adam, "adamw": AdamW, "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad}


class BaseAdamEstimator(HeldOutMixin, CallbackSupportMixin, BaseEstimator):
    """Shared machinery; subclasses define the network shape, the loss and the targets.

    Supports scikit-learn's callbacks (``set_callbacks``): a fit is a task whose
    subtasks are its epochs, so ``ProgressBar`` shows the epochs as they finish, and a
    callback whose ``on_fit_task_end`` returns True after an epoch stops training there.

    Subclass hooks: ``_hidden_layer_sizes()``, ``_activation()``, ``_fit_intercept()``,
    ``_make_loss(n_outputs)``, ``_check_targets(y, first, classes, warm_start)``, which
    checks the targets against the model (and on the first call learns what it needs of
    them, such as ``classes_``), ``_encode_targets(y, sample_weight, first, dtype)``
    returning the targets the loss takes, ``_initial_output_bias(...)`` and the
    prediction methods built on ``_raw_output(X)``.
    """

    def __new__(cls, *args, **kwargs):
        # Python's own TypeError for scikit-learn's names (learning_rate_init=...) would
        # not say what to write instead.
        for name in kwargs:
            error = (None if name in _init_parameters(cls)
                     else sklearn_name_error(cls, name, TypeError))
            if error is not None:
                raise error
        return super().__new__(cls)

    def __getstate__(self):
        # Saved as arrays and builtins (skadam._persistence): skops then trusts no
        # private class of skadam's, and a pickle holds nothing twice.
        return plain_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(restored_state(state))

    # What batch_size="auto" is, for the docstrings.
    _auto_batch_size_doc = "``min(200, n_samples)``, scikit-learn's"

    _parameter_constraints = {
        "solver": [StrOptions(set(SOLVERS)), HasMethods(["init_state", "step"])],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "scoring": [StrOptions({"loss"}), str, callable],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # The learning rate each solver name starts from where the estimator's differs from
    # the optimizer's own default; see each estimator's docstring.
    _default_learning_rates = {}

    def __sklearn_is_fitted__(self):
        return "_run" in self.__dict__

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on ``(X, y)`` for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input trains in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels (or, for ``MLPClassifier``, a 0/1 label indicator
            matrix) for the classifiers, values for the regressors.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss.
        X_val, y_val : array-like, default=None
            A validation set for early stopping (needs ``early_stopping=True``), used
            instead of holding out ``validation_fraction`` of the training data.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skadam import LogisticRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> model = LogisticRegression(max_iter=50, random_state=0).fit(X, y)
        >>> model.n_iter_ <= 50
        True
        """
        return self._fit_public(X, y, sample_weight, X_val, y_val, sample_weight_val,
                                incremental=False)

    @with_callbacks
    def _fit_public(self, X, y, sample_weight, X_val, y_val, sample_weight_val, incremental,
                    classes=None):
        # A call that raises must leave a fitted model as it was. It trains a run of its
        # own (a copy, when it goes on from the model's), which the model holds from the
        # start of training, so that scorers and callbacks see its weights; on failure the
        # model goes back to its run and its description of the data.
        fitted = {name: self.__dict__.get(name, _ABSENT)
                  for name in (*self._DATA_ATTRIBUTES, "_run", "alpha_")}
        try:
            return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val,
                             incremental=incremental, classes=classes)
        except TrainingInterrupted:
            raise  # stopped between two steps: the model keeps what it has trained
        except BaseException:
            for name, value in fitted.items():
                if value is _ABSENT:
                    self.__dict__.pop(name, None)
                else:
                    self.__dict__[name] = value
            raise
        finally:
            if "_run" in self.__dict__:
                self._run.end_call()

    def _fit(self, X, y, sample_weight, X_val, y_val, sample_weight_val, *, incremental,
             classes):
        run, fit = self._prepare_fit(X, y, sample_weight, X_val, y_val, sample_weight_val,
                                     incremental=incremental, classes=classes)
        n_epochs = 1 if incremental else self.max_iter
        callbacks = EpochCallbacks(self, n_epochs, X, y, sample_weight)
        self._run = self._for_call(run, callbacks, X, incremental=incremental)
        with InterruptGuard() as interrupt:
            train([run], fit, n_epochs, incremental=incremental, interrupt=interrupt)
        callbacks.fit_ends()
        return self

    def _prepare_fit(self, X, y, sample_weight, X_val, y_val, sample_weight_val, *,
                     incremental, classes):
        """Validate, encode, split and initialise: what a fit starts training from.

        Sets the estimator's description of the data (``n_features_in_``, ``classes_``,
        the target scaling...) and returns the :class:`~skadam._run.Run` to train (new,
        or a copy of the model's to go on from) and the :class:`~skadam._loop.Fit` it
        trains on.
        """
        self._validate_params()
        fitted = self.__sklearn_is_fitted__()
        continuing = fitted and (incremental or self.warm_start)
        if X_val is not None or y_val is not None:
            self._check_validation_request(X_val, y_val, incremental)
        elif incremental and self.early_stopping is True:
            warn(
                "early_stopping=True has nothing to monitor in partial_fit without X_val "
                "and y_val: this call trains on and never stops. Pass the same held-out "
                "X_val and y_val to every call to score the model after each one, keep "
                "the best weights and read patience_exhausted_.",
                UserWarning,
            )
        X, y = validate_data(
            self, X, y, reset=not continuing, accept_sparse="csr",
            dtype=[np.float64, np.float32], multi_output=True, y_numeric=self._y_numeric,
        )
        if continuing:
            X = X.astype(self._params.dtype, copy=False)
        else:
            self._check_feature_scale(X)
        y = self._check_target_shape(y)
        sample_weight = self._check_weights(sample_weight, X)
        solver = self._resolve_solver()
        dropout, averaging = self._dropout(), bool(self._averaging_epochs())

        if continuing:
            run = self._run.resumed(solver, dropout=bool(dropout), averaging=averaging)
            rng, seed = run.rng, run.seed
        else:
            rng = check_random_state(self.random_state)
            seed = rng.randint(np.iinfo(np.int32).max)
        self._check_targets(y, first=not continuing, classes=classes,
                            warm_start=continuing and not incremental)
        sample_weight = self._apply_class_weight(y, sample_weight, incremental)

        held_out = None
        if (X_val is not None) or (self._holds_out(X.shape[0]) and not incremental):
            (X, y, sample_weight), held_out = self._hold_out(
                X, y, sample_weight, X_val, y_val, sample_weight_val, seed)
        # After the split: statistics of the targets (the regressors' scaling) come from
        # the training part alone, so the held-out targets never reach the training.
        Y = self._encode_targets(y, sample_weight, first=not continuing, dtype=X.dtype)
        validation = None if held_out is None else self._validation(*held_out, X.dtype)

        # Class codes (1-D) stand for one output per class.
        n_outputs = Y.shape[1] if Y.ndim == 2 else len(self.classes_)
        embedding = self._make_embedding(X, run.embedding if continuing else None)
        width = 0 if embedding is None else embedding.width
        layout = ParameterLayout(
            (X.shape[1] + width, *self._hidden_layer_sizes(), n_outputs),
            self._fit_intercept(), n_embedding=0 if embedding is None else embedding.n_params,
            shared_members=self._shared_members(), input_scale=self._scaling_layer(),
            skip_inputs=X.shape[1] if self._linear_skip() else 0,
        )
        n_members = self._n_members()
        if continuing:
            self._check_same_layout(layout, n_members)
        else:
            params = self._init_params(layout, embedding, X.dtype, Y, sample_weight, rng,
                                       seed, incremental, n_members)
            run = Run.start(layout, embedding, params, solver, rng, seed,
                            dropout=bool(dropout), averaging=averaging)
        loss = self._make_loss(n_outputs)
        if layout.shared_members:
            loss = MemberMeanLoss(loss, layout.shared_members)
        return run, Fit(make_network(layout, self._activation(), embedding),
                        loss, TrainingData(X, Y, sample_weight),
                        validation, self._batch_size(X.shape[0]),
                        rng if self.shuffle else None, dropout)

    def _penalty(self, n_samples, incremental):
        """The L2 penalty of a call on ``n_samples`` rows: ``alpha``, or what "auto"
        stands for. ``partial_fit`` goes on with the penalty the model was fitted with."""
        if self.alpha != "auto":
            return self.alpha
        if incremental:
            return self.alpha_ if self.__sklearn_is_fitted__() else STREAM_ALPHA
        return auto_alpha(self.n_features_in_, n_samples)

    def _for_call(self, run, callbacks, X, *, incremental):
        """``run`` set up for a call of this estimator on ``X``: its penalty (recorded as
        ``alpha_``), stopping rule, the horizon of its average and its hooks."""
        self.alpha_ = self._penalty(_num_samples(X), incremental)
        return run.for_call(alpha=self.alpha_,
                            stopping=Stopping(self.tol, self.n_iter_no_change,
                                              self.early_stopping),
                            averaging_epochs=self._averaging_epochs(),
                            hooks=RunHooks(self, callbacks))

    def _n_members(self):
        """The number of networks trained side by side whose predictions are averaged."""
        return 1

    def _shared_members(self):
        """The members of an ensemble that share their hidden layers; 0 for none."""
        return 0

    def _scaling_layer(self):
        """Whether the network learns a scale per input of its first layer."""
        return False

    def _linear_skip(self):
        """Whether the output layer also reads X through a linear skip."""
        return False

    def _numeric_embedding(self):
        """The embedding of numeric columns asked for: None, "auto", "periodic" or
        "piecewise_linear"."""
        return None

    def _make_embedding(self, X, previous):
        """The embedding of the first layer's input: the ``previous`` one of the run a call
        goes on from, else one learnt from the training part ``X`` (None without one, or
        without a column to embed)."""
        rule = self._numeric_embedding()
        if not rule:
            return None
        if previous is not None:
            return previous
        columns = embedded_columns(X, rule)
        if not columns.size:
            return None
        if (AUTO_EMBEDDING if rule == "auto" else rule) == "piecewise_linear":
            return PiecewiseLinearEmbedding.from_data(columns, X)
        return PeriodicEmbedding(columns)

    def _dropout(self):
        """The probability of dropping a hidden unit in training; none without hidden layers."""
        return 0.0

    def _averaging_epochs(self):
        """The horizon in epochs of the average of the weights the model keeps; 0 for none."""
        return 0.0

    # The estimator's description of the data, which the preparation of a fit sets and
    # the estimators of a batched search (:func:`fit_together`) share; the heads add
    # their targets'.
    _DATA_ATTRIBUTES = ("n_features_in_", "feature_names_in_")

    def set_params(self, **params):
        """Set the parameters of this estimator and of its solver.

        Nested ``solver__<name>`` parameters set a hyperparameter of the optimizer. When
        the solver is given by name (``solver="adam"``, the default), the name is first
        replaced by the optimizer it stands for, with the same defaults, so that a grid
        search tunes ``solver__beta_1`` on a default-constructed estimator.

        Parameters
        ----------
        **params : dict
            Estimator parameters, and ``solver__<name>`` for the optimizer's.

        Returns
        -------
        self : object
            The estimator.

        Examples
        --------
        >>> from skadam import LogisticRegression
        >>> model = LogisticRegression().set_params(solver__beta_1=0.8)
        >>> model.solver
        Adam(beta_1=0.8, learning_rate=0.01)
        """
        valid = self.get_params(deep=False)
        for key in params:
            name = key.partition("__")[0]
            error = None if name in valid else sklearn_name_error(self, name)
            if error is not None:
                raise error
        solver = params.get("solver", getattr(self, "solver", None))
        if isinstance(solver, str) and any(key.startswith("solver__") for key in params):
            params = {**params, "solver": self._optimizer_named(solver)}
        return super().set_params(**params)

    # ------------------------------------------------------------------------- helpers
    def _optimizer_named(self, name):
        """The optimizer a solver name stands for, with this estimator's defaults."""
        if name not in SOLVERS:
            raise ValueError(
                f"The 'solver' parameter of {type(self).__name__} must be one of "
                f"{sorted(SOLVERS)} or an optimizer instance; got {name!r}."
            )
        solver = SOLVERS[name]()
        if name in self._default_learning_rates:
            solver.set_params(learning_rate=self._default_learning_rates[name])
        return solver

    def _resolve_solver(self):
        if isinstance(self.solver, str):
            return self._optimizer_named(self.solver)
        return clone(self.solver)

    def _batch_size(self, n_samples):
        """The minibatch asked for; the fit takes at most its ``n_samples`` rows."""
        if self.batch_size == "auto":
            return self._auto_batch_size(n_samples)
        return self.batch_size

    def _auto_batch_size(self, n_samples):
        """The minibatch of ``batch_size="auto"`` for ``n_samples`` training rows."""
        return 200

    def _check_weights(self, sample_weight, X):
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)

    def _apply_class_weight(self, y, sample_weight, incremental):
        return sample_weight

    def _check_target_shape(self, y):
        return y

    def _check_feature_scale(self, X):
        """Say so when the columns of ``X`` are too far from standardised for training."""

    def _init_params(self, layout, embedding, dtype, Y, sample_weight, rng, seed, incremental,
                     n_members):
        """Initial parameters, one row per member.

        The first member draws its weights from the fit's stream ``rng``, as a model
        alone does; the others from streams of their own seeded from the fit's seed,
        so that the shuffling, which ``rng`` goes on to draw, is the same for any
        number of members.
        """
        params = np.zeros((n_members, layout.n_params), dtype=dtype)
        bias = self._initial_output_bias(self._make_loss(layout.layer_sizes[-1]), Y,
                                         sample_weight, incremental)
        for member, row in enumerate(params):
            stream = rng if member == 0 else np.random.default_rng(
                [seed, 2, member])
            for coef, (fan_in, fan_out) in zip(layout.coefs(row), layout.weight_shapes,
                                               strict=True):
                if layout.n_layers > 1:
                    # Glorot & Bengio's uniform initialisation; sigmoid units take a
                    # narrower range as their slope at zero is 1/4. A shared ensemble's
                    # members draw output layers of their own.
                    factor = 2.0 if self._activation() == "logistic" else 6.0
                    bound = np.sqrt(factor / (fan_in + fan_out))
                    coef[...] = stream.uniform(-bound, bound, size=coef.shape)
            if layout.input_scale:
                layout.adapter(row)[...] = 1.0  # the inputs as they come, to start with
            if layout.shared_members:
                # Random signs, as TabM's first adapter: the members see different
                # inputs from the first step, at the scale of one network's. On
                # benchmarks/tabular.py, scales drawn from N(1, 0.1) instead gained
                # less with 4 members (+0.0027 against +0.0040 over one network) but
                # kept their gain with 16 (+0.0033 against -0.0025), where the signs'
                # members pull the shared first layer too many ways at once.
                layout.adapter(row)[...] = stream.choice([-1.0, 1.0], size=(
                    layout.shared_members, layout.layer_sizes[0]))
            output_bias = layout.intercepts(row)[-1]
            if output_bias.size:
                output_bias[...] = bias
            if embedding is not None:
                embedding.initialise(row[layout.embedding_start:], stream)
        return params

    def _initial_output_bias(self, loss, Y, sample_weight, incremental):
        # Starting from the best constant prediction spares the first epochs the work
        # of learning the targets' mean (or the class priors).
        return loss.baseline(Y, sample_weight)

    def _check_same_layout(self, layout, n_members):
        fitted = self._layout
        if layout.shared_members != fitted.shared_members:
            def described(shared):
                return (f"ensemble='shared' of {shared}" if shared else
                        "networks of their own (ensemble='independent' or one network)")
            raise ValueError(
                f"Cannot continue training: the model's members were fitted as "
                f"{described(fitted.shared_members)}, and the parameters now ask for "
                f"{described(layout.shared_members)}: the ensemble's sharing changed. Set "
                "ensemble and ensemble_size back to continue, or warm_start=False to fit "
                "a new model."
            )
        if n_members != self._params.shape[0]:
            raise ValueError(
                f"Cannot continue training: the model was fitted as an ensemble of "
                f"{self._params.shape[0]} and ensemble_size is now {n_members}. Set "
                f"ensemble_size={self._params.shape[0]} to continue, or warm_start=False to "
                "fit a new model."
            )
        if layout.layer_sizes != fitted.layer_sizes or (
            layout.fit_intercept != fitted.fit_intercept
        ) or layout.input_scale != fitted.input_scale or (
            layout.skip_inputs != fitted.skip_inputs
        ):
            raise ValueError(
                f"Cannot continue training: the network's layer sizes "
                f"{fitted.layer_sizes} became {layout.layer_sizes} (or fit_intercept, "
                "scaling_layer or linear_skip changed). Set warm_start=False to fit a new "
                "model."
            )

    def _raw_output(self, X):
        """Raw network output for new data, shape (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr",
                          dtype=[np.float64, np.float32])
        X = X.astype(self._params.dtype, copy=False)
        network = make_network(self._layout, self._activation(), self._embedding)
        raw = network.outputs(self._params, X)
        return self._make_loss(raw.shape[-1]).combine(raw)

    # The history's entries, under scikit-learn's names (documented on each estimator).
    n_iter_ = property(lambda self: self._run.history.n_iter)
    t_ = property(lambda self: self._run.history.n_samples_seen)
    loss_curve_ = property(lambda self: self._run.history.losses)
    best_loss_ = property(lambda self: self._run.history.best_loss)
    validation_scores_ = property(lambda self: self._run.history.validation_scores)
    best_validation_score_ = property(lambda self: self._run.history.best_validation_score)
    patience_exhausted_ = property(lambda self: self._run.history.patience_exhausted)
    optimizer_ = property(lambda self: self._run.optimizer)

    @property
    def optimizer_state_(self):
        states = self._run.states
        return states[0] if len(states) == 1 else tuple(states)

    # The run's parts under the names the estimators' own code reads.
    _params = property(lambda self: self._run.params)
    _trained_params = property(lambda self: self._run.trained_params)
    _layout = property(lambda self: self._run.layout)
    _embedding = property(lambda self: self._run.embedding)
    _optimizer_states = property(lambda self: self._run.states)
    _random_state = property(lambda self: self._run.rng)
    _best_params = property(lambda self: self._run.history.best_params)


@functools.cache
def _init_parameters(cls):
    """The names ``cls.__init__`` takes (a subclass's own included)."""
    return frozenset(inspect.signature(cls.__init__).parameters)
