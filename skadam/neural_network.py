"""Multi-layer perceptrons trained by skadam's optimizers."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._activations import ACTIVATIONS
from ._docs import REGRESSION_LOSS_UNITS, fill_doc, wrap_description
from ._embeddings import AUTO_MAX_COLUMNS, AUTO_MAX_INPUTS, AUTO_MIN_DISTINCT
from ._heads import ClassifierBase, RegressorBase
from ._losses import REGRESSION_LOSSES
from ._model import adapter_views, coef_views, intercept_views, skip_views
from ._penalty import AUTO_ALPHA_RANGE, AUTO_ALPHA_SCALE, STREAM_ALPHA

_NETWORK_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "ensemble_size": [Interval(Integral, 1, None, closed="left")],
    "ensemble": [StrOptions({"independent", "shared"})],
    "scaling_layer": ["boolean"],
    "linear_skip": ["boolean"],
    "weight_averaging": [Interval(Real, 0, None, closed="left")],
    "numeric_embedding": [StrOptions({"auto", "periodic", "piecewise_linear"}), None],
    "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
}

# The networks' alpha="auto", for the docstrings.
_LOW, _HIGH = AUTO_ALPHA_RANGE
_AUTO_ALPHA_NOTE = f""" "auto" is ``{AUTO_ALPHA_SCALE} * n_features / n_samples``
        of the data given to ``fit``, within ``[{_LOW:g}, {_HIGH:g}]``: the ratio by which the
        best ridge penalty grows with the inputs and shrinks with the rows.
        ``partial_fit`` keeps the fitted model's penalty, and starts a model with {STREAM_ALPHA:g}.
        The penalty a fit used is ``alpha_``."""


# From this many training rows on, batch_size="auto" takes 128 rows, not 64.
AUTO_LARGER_BATCH_SAMPLES = 20_000


# Where the adam solver of the networks starts, three times Adam's own default.
_NETWORK_LEARNING_RATE = 3e-3
_LEARNING_RATE_NOTE = (
    f', except that "adam" starts at a learning rate of {_NETWORK_LEARNING_RATE}: on the '
    "tabular benchmark and scikit-learn's digits the fits converged in two thirds of the "
    "time or less, with the same scores on average (the user guide's Tabular data page)"
)


class _NetworkMixin:
    """Hidden layers, their activation and the weight views shared by both MLPs."""

    _default_learning_rates = {"adam": _NETWORK_LEARNING_RATE}
    _auto_batch_size_doc = (
        f"64 rows below {AUTO_LARGER_BATCH_SAMPLES:,} training samples and 128\n        "
        "from there (never more than the samples)")

    def _auto_batch_size(self, n_samples):
        # Smaller than scikit-learn's 200: on small data an epoch of 200-row batches
        # takes too few steps before early stopping's patience runs out. 64 rows gained
        # +0.0010 on benchmarks/tabular.py over 128 (better on 14 of 18 sets) and fewer
        # epochs paid for the steps, but on protein_casp (31,000 training rows, all 200
        # epochs trained either way) they only cost time; make_classification's
        # 20,000 x 200 (13,500 rows) fitted faster with 64 (1.4 s against 1.6 s).
        return 64 if n_samples < AUTO_LARGER_BATCH_SAMPLES else 128

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        if not all(isinstance(size, Integral) and size >= 1 for size in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes}."
            )
        return tuple(int(size) for size in sizes)

    def _activation(self):
        return self.activation

    def _fit_intercept(self):
        return True

    def _dropout(self):
        return float(self.dropout)

    def _n_members(self):
        return 1 if self._shared_members() else self.ensemble_size

    def _shared_members(self):
        if self.ensemble != "shared" or self.ensemble_size == 1:
            return 0
        if not self._hidden_layer_sizes():
            raise ValueError(
                "ensemble='shared' shares the hidden layers of the members, and this "
                "network has none: give it hidden_layer_sizes, or use "
                "ensemble='independent'.")
        return self.ensemble_size

    def _averaging_epochs(self):
        return float(self.weight_averaging)

    def _scaling_layer(self):
        return self.scaling_layer

    def _linear_skip(self):
        return self.linear_skip and bool(self._hidden_layer_sizes())

    def _numeric_embedding(self):
        return self.numeric_embedding

    @property
    def coefs_(self):
        layout, alone = self._layout, self._params.shape[0] == 1
        coefs = layout.coefs(self._params[0]) if alone else coef_views(layout, self._params)
        if layout.input_scale:
            # What the first layer applies: each input's row times its learnt scale.
            scales = adapter_views(layout, self._params)[:, 0, :, np.newaxis]
            coefs[0] = coefs[0] * (scales[0] if alone else scales)
        return coefs

    @property
    def intercepts_(self):
        if self._params.shape[0] == 1:
            return self._layout.intercepts(self._params[0])
        return intercept_views(self._layout, self._params)

    @property
    def linear_skip_coef_(self):
        layout = self._layout
        if not layout.skip_inputs:
            return None
        if self._params.shape[0] == 1:
            return layout.skip(self._params[0])
        return skip_views(layout, self._params)

    @property
    def n_layers_(self):
        return self._layout.n_layers + 1

    @property
    def embedded_features_(self):
        embedding = self._embedding
        return np.empty(0, dtype=np.intp) if embedding is None else embedding.columns.copy()

    @property
    def n_outputs_(self):
        return self._layout.layer_sizes[-1]


_NETWORK_PARAMETERS = """hidden_layer_sizes : array-like of int, default={hidden_layer_sizes}
        Width of each hidden layer. {hidden_layer_sizes_note}
    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "selu", "mish"}, \
default="relu"
        Activation of the hidden layers: ``"leaky_relu"`` has slope 0.01 below zero,
        ``"selu"`` is Klambauer et al.'s self-normalising unit, ``"mish"`` is
        ``x tanh(log(1 + e^x))`` (Misra, 2019), smooth, with a small dip below zero.
    dropout : float, default=0.0
        Probability of dropping each hidden unit at each training step (inverted
        dropout: the kept units are scaled by ``1 / (1 - dropout)``, and predictions use
        every unit). In [0, 1).
    {ensemble_size_parameter}
    ensemble : {"independent", "shared"}, default="independent"
        How the members of an ensemble (``ensemble_size`` > 1) are made.
        ``"independent"``: whole networks, each with its own weights, as described
        above. ``"shared"``: TabM-mini (Gorishniy et al., 2025). The members share
        every hidden layer, each scales the first layer's input by a vector of its own
        (drawn as random signs) and has its own output layer. Training minimises the
        mean of the members' losses, and predictions average the members'. One
        network's parameters and one product per layer over ``ensemble_size`` times
        the rows. ``coefs_[-1]`` and ``intercepts_[-1]`` then hold one output layer
        per member, ``(ensemble_size, fan_in, fan_out)`` and ``(ensemble_size,
        fan_out)``.
    weight_averaging : float, default=1.0
        Horizon, in epochs, of the moving average of the weights that the model keeps
        and predicts with. After every step the average moves towards the weights the
        optimizer has just stepped: an exponential moving average over about
        ``weight_averaging`` epochs, bias-corrected as Adam's moments are (so it starts
        at the first step's weights). The validation score, the best weights early
        stopping keeps, ``coefs_`` and ``intercepts_`` are the average's; the optimizer
        goes on from its own weights, which ``warm_start`` and ``partial_fit``
        continue. Averaging smooths out the noise of the last minibatch steps; 0 keeps
        the last step's weights, as scikit-learn's MLPs do. >= 0.
    scaling_layer : bool, default=True
        Learn a scale per input of the first layer (embedded features included),
        starting at 1: RealMLP's scaling layer, which lets the network weigh its
        inputs before they mix. Not penalised by ``alpha``. ``coefs_[0]`` is then the
        weights the first layer applies, each input's row times its scale (a new
        array). On the tabular benchmark it gained +0.0009, +0.0022 and +0.0022 on three
        seeds, better on 10, 12 and 15 of 18 sets, for 2% of a step's time (the user
        guide's Tabular data page). ``False`` gives scikit-learn's first layer. A
        shared ensemble's members have scales of their own anyway.
    linear_skip : bool, default={linear_skip}
        Add a linear function of the inputs to the network's raw output: the output
        layer also reads the columns of ``X`` through weights of its own,
        ``linear_skip_coef_``, which ``alpha`` penalises as it does the others and which
        start at 0 (the network starts as it would without them). The hidden layers
        then learn what a linear model of the inputs misses, the wide and deep
        networks' linear part (Cheng et al., 2016). No effect without hidden layers.
        {linear_skip_note}
    numeric_embedding : {"auto", "piecewise_linear", "periodic"} or None, default="auto"
        Embed numeric input columns before the first layer, each into 3 learned
        features that the first layer reads in front of the original columns.
        ``"piecewise_linear"``: each column gets 32 bins between quantiles of its
        training values, and each feature is a piecewise-linear function of the value
        with its knots there and learnt slopes (Gorishniy et al.'s piecewise-linear
        encoding, mixed linearly); the first and last bins are open, so values beyond
        the training range keep their slope. ``"periodic"``: each column becomes 16
        functions ``cos(2π w x + b)`` with trainable frequencies and phases, mixed into
        the 3 features (RealMLP's PBLD); its parameters learn at a tenth of the
        learning rate (with Adam). Either embeds every column of more than two distinct
        values (not one-hot or indicator columns). ``"auto"`` embeds piecewise-linearly,
        of the columns with at least """ + f"{AUTO_MIN_DISTINCT} distinct values, the " \
        f"{AUTO_MAX_COLUMNS} with the most, and none\n        when the data have more " \
        f"than {AUTO_MAX_INPUTS} columns: the" + """
        embedding's gain on tabular data, at a bounded cost on wide data (pixels, or
        hundreds of numeric columns, would take longer for no gain); the user guide's
        Tabular data page gives the measurements. The embedding's parameters are not
        penalised by ``alpha``. Which columns are embedded, and the bins, are decided on
        the first call to ``fit`` or ``partial_fit``; ``embedded_features_`` lists the
        columns."""

_NETWORK_ATTRIBUTES = """coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (fan_in, fan_out), or (ensemble_size,
        fan_in, fan_out) for an ensemble: views of the one parameter buffer, like
        ``intercepts_`` (with ``scaling_layer``, the first one is the scaled weights,
        a new array). With a numeric embedding, the first one's rows are 3 per
        embedded column, then one per input column.
    linear_skip_coef_ : ndarray or None
        The linear skip's weights (``linear_skip``), a view of shape (n_features,
        n_outputs), or (ensemble_size, n_features, n_outputs) for an ensemble; the raw
        outputs add ``X @ linear_skip_coef_``. None without a linear skip.
    embedded_features_ : ndarray of int
        The indices of the columns of ``X`` the numeric embedding embeds, in order
        (empty without one).
    intercepts_ : list of ndarray
        Intercept vectors, one per layer, of shape (fan_out,) or (ensemble_size,
        fan_out).
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs."""


@fill_doc(alpha='"auto"', max_iter=200, tol=1e-4, n_iter_no_change=10,
          early_stopping='"auto"', learning_rate_note=_LEARNING_RATE_NOTE,
          loss_units=REGRESSION_LOSS_UNITS, alpha_type='float or "auto"',
          alpha_note=_AUTO_ALPHA_NOTE + """
        On the tabular benchmark "auto" gained +0.0056 R² per regression set over three
        seeds against 1e-3, the default before (the user guide's Tabular data page).""")
class MLPRegressor(_NetworkMixin, RegressorBase):
    """Multi-layer perceptron regressor trained by minibatch Adam.

    Minimises ``sum_i s_i loss(y_i, f(x_i)) / sum_i s_i + alpha / 2 * ||W||^2`` over
    all weight matrices ``W`` (not the intercepts). With the squared error and Huber's
    loss, ``f`` is the network's output on standardised targets, ``target_mean_ + target_scale_ *
    network(x)`` in the units of ``y``; with the Poisson loss (half the deviance),
    ``f(x) = exp(network(x))``. Losses of a multi-output ``y`` are averaged over the
    targets, gradients alike.

    Parameters
    ----------
    {network_parameters}
    {loss_parameter}
    epsilon : float, default=1.35
        Huber's threshold, in units of ``y``: residuals beyond it cost linearly.
    {training_parameters}

    Attributes
    ----------
    {network_attributes}
    target_mean_, target_scale_ : ndarray of shape (n_targets,)
        The standardisation of the targets the network is trained on (for Huber's loss,
        their median and their median absolute deviation times 1.4826, which outliers do
        not inflate).
    {history_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skadam import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = make_pipeline(StandardScaler(), MLPRegressor(random_state=0, max_iter=50))
    >>> round(model.fit(X_train, y_train).score(X_test, y_test), 1)
    0.4
    """

    _parameter_constraints = {
        **RegressorBase._parameter_constraints,
        **_NETWORK_CONSTRAINTS,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(48, 48),
        activation="relu",
        *,
        dropout=0.0,
        ensemble_size=2,
        ensemble="independent",
        scaling_layer=True,
        linear_skip=True,
        weight_averaging=1.0,
        numeric_embedding="auto",
        loss="squared_error",
        epsilon=1.35,
        solver="adam",
        alpha="auto",
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        scoring="loss",
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.ensemble_size = ensemble_size
        self.ensemble = ensemble
        self.scaling_layer = scaling_layer
        self.linear_skip = linear_skip
        self.weight_averaging = weight_averaging
        self.numeric_embedding = numeric_embedding
        self.loss = loss
        self.epsilon = epsilon
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


@fill_doc(alpha=1e-3, max_iter=200, tol=1e-4, n_iter_no_change=10, early_stopping='"auto"',
          alpha_type='float or "auto"', alpha_note=_AUTO_ALPHA_NOTE,
          learning_rate_note=_LEARNING_RATE_NOTE)
class MLPClassifier(_NetworkMixin, ClassifierBase):
    """Multi-layer perceptron classifier trained by minibatch Adam.

    Minimises the weighted mean log-loss plus ``alpha / 2 * ||W||^2`` over all weight
    matrices: a sigmoid output for two classes, a softmax beyond, and one sigmoid per
    label for a multilabel 0/1 ``y`` (their losses averaged).

    Parameters
    ----------
    {network_parameters}
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
        The class labels (``arange(n_labels)`` for multilabel targets).
    {network_attributes}
    {history_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skadam import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = make_pipeline(StandardScaler(), MLPClassifier(random_state=0, max_iter=30))
    >>> bool(model.fit(X_train, y_train).score(X_test, y_test) > 0.95)
    True
    """

    _parameter_constraints = {
        **ClassifierBase._parameter_constraints,
        **_NETWORK_CONSTRAINTS,
    }
    _multilabel_allowed = True

    def __init__(
        self,
        hidden_layer_sizes=(200,),
        activation="relu",
        *,
        dropout=0.0,
        ensemble_size=1,
        ensemble="independent",
        scaling_layer=True,
        linear_skip=False,
        weight_averaging=1.0,
        numeric_embedding="auto",
        class_weight=None,
        label_smoothing=0.0,
        solver="adam",
        alpha=1e-3,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        scoring="loss",
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.ensemble_size = ensemble_size
        self.ensemble = ensemble
        self.scaling_layer = scaling_layer
        self.linear_skip = linear_skip
        self.weight_averaging = weight_averaging
        self.numeric_embedding = numeric_embedding
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


_HIDDEN_LAYER_SIZES_NOTES = {
    MLPRegressor: "Two layers of 48 units in each network\n"
                  "        of the default ensemble, where scikit-learn's MLPRegressor has\n"
                  "        one network with one layer of 100.",
    MLPClassifier: "One layer of 200 units, where scikit-learn's\n"
                   "        MLPClassifier has 100: on the tabular benchmark the wider layer\n"
                   "        gained +0.0015 ROC AUC per classification set over 20 seeds, at\n"
                   "        1.7 times the time of an epoch on wide data (still below\n"
                   "        scikit-learn's whole fit; the user guide's Tabular data page).",
}
_LINEAR_SKIP_NOTES = {
    MLPRegressor: "On the tabular benchmark the skip gained +0.003 R² per regression\n"
                  "        set over three seeds, most on the smallest sets, where a linear\n"
                  "        model is hard to beat (the user guide's Tabular data page).",
    MLPClassifier: "Off for the classifier: on the tabular benchmark it changed ROC AUC by\n"
                   "        -0.0004 per classification set over 20 seeds (the user guide's\n"
                   "        Tabular data page).",
}
_ENSEMBLE_SIZE_NOTES = {
    MLPRegressor: (
        " Two by default: on the tabular benchmark, two networks of (48, 48) gained "
        "+0.0050 R² per regression set over three seeds against one of (64, 64), at 1.8 "
        "times the time (the user guide's Tabular data page); ``coefs_`` and "
        "``intercepts_`` then have a member axis."),
    MLPClassifier: "",
}


def _ensemble_size_parameter(default, note):
    """The ``ensemble_size`` parameter's docstring entry, with the class's note."""
    text = wrap_description(
        "Number of networks trained side by side, each from its own initial weights, on "
        "the same minibatches in one pass, each minimising its own loss; predictions "
        f"average theirs (the probabilities, for a classifier).{note} The first network "
        "is the one ``ensemble_size=1`` trains. The ensemble is one model: "
        "``loss_curve_`` holds the mean of the members' objectives, early stopping "
        "monitors the score of the averaged prediction and restores every member's "
        "weights of its best epoch. Training costs about ``ensemble_size`` times as "
        "much; members whose steps have the work for it train on several cores.")
    return f"ensemble_size : int, default={default}\n{text}"


for _cls in (MLPRegressor, MLPClassifier):
    _parameters = _NETWORK_PARAMETERS.replace(
        "{hidden_layer_sizes}", repr(_cls().hidden_layer_sizes)).replace(
        "{hidden_layer_sizes_note}", _HIDDEN_LAYER_SIZES_NOTES[_cls]).replace(
        "{linear_skip}", repr(_cls().linear_skip)).replace(
        "{linear_skip_note}", _LINEAR_SKIP_NOTES[_cls]).replace(
        "{ensemble_size_parameter}", _ensemble_size_parameter(
            _cls().ensemble_size, _ENSEMBLE_SIZE_NOTES[_cls]))
    _cls.__doc__ = _cls.__doc__.replace("{network_parameters}", _parameters).replace(
        "{network_attributes}", _NETWORK_ATTRIBUTES
    )
