"""Validation data from a Pipeline, scikit-learn's parameter names, and the errors they get:
each names what was wrong and the fix, and leaves a fitted model as it was."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def frame():
    """A mixed-type DataFrame: one numeric column, one of three categories."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"size": rng.normal(size=300), "colour": rng.choice(list("rgb"), 300)})
    y = ((X["size"] + (X["colour"] == "r")) > 0.3).astype(int).to_numpy()
    return X, y


def _preprocess():
    return make_column_transformer((StandardScaler(), ["size"]),
                                   (OneHotEncoder(handle_unknown="ignore"), ["colour"]))


def test_raw_X_val_in_a_pipeline_gets_an_error_with_the_recipe(frame):
    X, y = frame
    pipe = make_pipeline(_preprocess(), MLPClassifier(max_iter=3, early_stopping=True,
                                                      random_state=0))
    with pytest.raises(ValueError, match=r"X_val has 2 features, but the model was trained "
                                         r"on 4.*transform_input=\['X_val'\]"):
        pipe.fit(X[:200], y[:200], mlpclassifier__X_val=X[200:], mlpclassifier__y_val=y[200:])
    # Of the same width as the transformed X, a raw DataFrame still cannot be read.
    pipe = make_pipeline(make_column_transformer((StandardScaler(), ["size"]),
                                                 (OrdinalEncoder(), ["colour"])),
                         MLPClassifier(max_iter=3, early_stopping=True, random_state=0))
    with pytest.warns(UserWarning, match="X_val has column names") as caught:
        with pytest.raises(ValueError, match="X_val or y_val cannot be used as "
                                             "MLPClassifier's validation data: could not "
                                             "convert string to float.*transform_input"):
            pipe.fit(X[:200], y[:200], mlpclassifier__X_val=X[200:],
                     mlpclassifier__y_val=y[200:])
    assert caught[0].filename == __file__  # the warning points at the user's call


def test_the_documented_pipeline_recipe_transforms_X_val_without_leaking_it(frame):
    X, y = frame
    with sklearn.config_context(enable_metadata_routing=True):
        model = MLPClassifier(max_iter=5, early_stopping=True, random_state=0)
        pipe = Pipeline([("preprocess", _preprocess()),
                         ("mlp", model.set_fit_request(X_val=True, y_val=True))],
                        transform_input=["X_val"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
            pipe.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    # By hand: the preprocessing fitted on the training rows alone transforms both.
    preprocess = _preprocess().fit(X[:200])
    by_hand = MLPClassifier(max_iter=5, early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        by_hand.fit(preprocess.transform(X[:200]), y[:200],
                    X_val=preprocess.transform(X[200:]), y_val=y[200:])
    assert pipe[-1].validation_scores_ == by_hand.validation_scores_
    np.testing.assert_array_equal(pipe[-1]._params, by_hand._params)


def test_streaming_through_a_preprocessor_fitted_once(frame):
    X, y = frame
    preprocess = _preprocess().fit(X[:100])
    X_val = preprocess.transform(X[250:])
    model = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=2,
                          random_state=0)
    for start in range(0, 250, 50):
        chunk = slice(start, start + 50)
        model.partial_fit(preprocess.transform(X[chunk]), y[chunk], classes=[0, 1],
                          X_val=X_val, y_val=y[250:])
    assert len(model.validation_scores_) == 5 and model.n_iter_ == 5


@pytest.mark.parametrize("Regressor", [LinearRegression, MLPRegressor])
def test_a_regressors_first_fit_takes_a_validation_set(Regressor, regression):
    X, Y = regression
    model = Regressor(early_stopping=True, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        model.fit(X[:200], Y[:200, 0], X_val=X[200:], y_val=Y[200:, 0])
    assert len(model.validation_scores_) == 3
    with pytest.raises(ValueError, match="y has 2 targets but the model was fitted on 1"):
        clone(model).fit(X[:200], Y[:200, 0], X_val=X[200:], y_val=Y[200:])


def test_a_label_unseen_in_training_in_y_val_is_named(binary):
    X, y = binary
    model = LogisticRegression(max_iter=2, early_stopping=True, random_state=0).fit(X, y)
    before = pickle.dumps(model)
    y_val = y[:20].copy()
    y_val[0] = 7
    with pytest.raises(ValueError, match=r"y_val contains labels the model does not know, "
                                         r"\[7\]; its classes_ are \[0, 1\]"):
        model.fit(X, y, X_val=X[:20], y_val=y_val)
    with pytest.raises(ValueError, match="y_val contains labels"):
        model.partial_fit(X, y, X_val=X[:20], y_val=y_val)
    assert pickle.dumps(model) == before


@pytest.mark.parametrize("name, spelling", [
    ("learning_rate_init", "use solver__learning_rate"), ("beta_1", "use solver__beta_1"),
    ("momentum", "use solver=SGD"), ("C", "use alpha=1 / \\(C \\* n_samples\\)"),
    ("max_fun", "it belongs to the lbfgs solver"),
])
def test_scikit_learns_parameter_names_get_skadams_spelling(name, spelling, binary):
    X, y = binary
    with pytest.raises(ValueError, match=f"no parameter '{name}' \\(scikit-learn's\\): "
                                         f"{spelling}"):
        MLPClassifier().set_params(**{name: 0.5})
    search = GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(max_iter=2)),
                          {f"mlpclassifier__{name}": [0.1]}, cv=2)
    with pytest.raises(ValueError, match="Coming from scikit-learn"):
        search.fit(X, y)


def test_a_parameter_of_the_estimator_is_not_mistaken_for_scikit_learns():
    # epsilon is Huber's threshold for the regressors, Adam's constant for scikit-learn.
    assert LinearRegression().set_params(epsilon=2.0).epsilon == 2.0
    assert MLPRegressor().set_params(epsilon=2.0).epsilon == 2.0
    with pytest.raises(ValueError, match="solver__epsilon"):
        MLPClassifier().set_params(epsilon=1e-7)


def test_a_constructor_given_scikit_learns_name_says_what_to_write():
    with pytest.raises(TypeError, match=r"MLPRegressor has no parameter 'learning_rate_init' "
                                        r"\(scikit-learn's\): use solver__learning_rate"):
        MLPRegressor(learning_rate_init=0.01)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        MLPRegressor(colour="blue")  # not scikit-learn's either: Python's own error

    class WithBeta(LogisticRegression):
        def __init__(self, beta_1=0.5, **params):
            super().__init__(**params)
            self.beta_1 = beta_1

    assert WithBeta(beta_1=0.7).beta_1 == 0.7  # a subclass's own parameter is its own


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Model, scoring", [(MLPClassifier, "accuracy"),
                                            (MLPClassifier, "roc_auc"),
                                            (MLPRegressor, "r2"),
                                            (LogisticRegression, "accuracy")])
@pytest.mark.parametrize("given", [False, True], ids=["held out", "X_val"])
def test_early_stopping_on_a_scorer_with_a_dataframe_does_not_warn_of_feature_names(
        Model, scoring, given):
    """Early stopping scores the held-out rows as the user's data, with their column
    names: no "X does not have valid feature names" after every epoch (scikit-learn's
    issue 24846), whether the rows are held out of X or given as X_val."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    y = (X["a"] + X["b"] > 0).astype(int).to_numpy()
    if Model is MLPRegressor:
        y = X["a"].to_numpy() - X["b"].to_numpy()
    extra = {"X_val": X[:60], "y_val": y[:60]} if given else {}
    model = Model(scoring=scoring, early_stopping=True, max_iter=4, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, **extra)
    assert not [w for w in caught if "feature names" in str(w.message)]
    assert len(model.validation_scores_) == 4
    assert list(model.feature_names_in_) == ["a", "b", "c"]


@pytest.mark.parametrize("Model", [MLPClassifier, MLPRegressor, LogisticRegression,
                                   LinearRegression])
def test_partial_fit_says_early_stopping_has_nothing_to_monitor_without_X_val(Model, binary):
    """early_stopping=True with partial_fit and no X_val used to stop nothing, silently;
    now it warns at the user's call and names X_val. Given X_val, or with "auto" or
    False, nothing is said."""
    X, y = binary
    classes = {"classes": np.unique(y)} if Model in (MLPClassifier, LogisticRegression) else {}
    model = Model(early_stopping=True, random_state=0)
    with pytest.warns(UserWarning, match="without X_val and y_val") as caught:
        model.partial_fit(X, y, **classes)
    assert caught[0].filename == __file__
    assert model.validation_scores_ is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.partial_fit(X, y, X_val=X[:20], y_val=y[:20])
        assert len(model.validation_scores_) == 1
        for setting in ("auto", False) if Model in (MLPClassifier, MLPRegressor) else (False,):
            Model(early_stopping=setting, random_state=0).partial_fit(X, y, **classes)
