"""Model quality on real tabular data: skadam's models beside scikit-learn's, at defaults.

Usage: python benchmarks/tabular.py [--only NAME ...] [--quick] [--ablation [OPTION ...]]
                                   [--plot PATH] [--seeds N]

For every data set of ``tabular_data.DATASETS`` (real data that install offline): one
75/25 split (random_state=0), every model at its defaults, each in the pipeline a user
would write. The MLPs and linear models see median imputation (with missing-value
indicators), one-hot encoding of the categorical columns and standard scaling; the
gradient-boosted trees a tabular user picks instead need no scaling and take the
categorical columns and the missing values natively, each its own way:
HistGradientBoosting and LightGBM read the pandas category dtype, CatBoost the columns
named in ``cat_features``, as strings (a missing category becomes one of its own, since
CatBoost refuses NaN there). CatBoost and LightGBM are skipped, with a note, where not
installed. Binary classification is scored by ROC AUC, regression by R². Prints one row
per data set with each model's score and fit time, then the summary: skadam's MLP against
CatBoost, LightGBM and HistGradientBoosting, against skadam's linear model and against
scikit-learn's MLP (mean difference, wins), the total fit times, and skadam's MLP's time
against scikit-learn's MLP's in all and on its slowest set (the defaults' budget: half in
all, at most as long on every set).

``--ablation`` then trains skadam's MLP once more per option of ``ABLATION`` (each one
change to the defaults) and prints, per option, its mean difference to the default MLP
and to HistGradientBoosting and CatBoost, its wins over the default, and its total fit
time: the measurement an option needs before it becomes a default. ``--plot PATH`` draws
that table as a figure (the docs' Tabular data page shows it).

``--seeds N`` fits skadam's MLP with ``random_state`` 0 to N-1 (the other models keep
theirs): it prints the defaults' standing against HistGradientBoosting and CatBoost for
each seed and on average, and the ablation compares each option with the defaults of the
same seed, every cell the mean over the seeds. One seed's difference of a few
thousandths is within the spread between seeds; three seeds take three times as long.

The thread setting is the user's unless the environment sets one: every model then uses
the cores as it would in a user's session (scikit-learn's MLP through BLAS threads,
HistGradientBoosting through OpenMP, CatBoost and LightGBM on all cores by their own
count, skadam's ensembles one part per core). CatBoost and LightGBM do not read
OMP_NUM_THREADS, so where it is set they are given it.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from pandas.api.types import is_numeric_dtype
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info

# The boosters of the bench extra; a missing one costs its column only.
try:
    from catboost import CatBoostClassifier, CatBoostRegressor
except ImportError:
    CatBoostClassifier = CatBoostRegressor = None
try:
    from lightgbm import LGBMClassifier, LGBMRegressor
except ImportError:
    LGBMClassifier = LGBMRegressor = None

sys.path.insert(0, os.path.dirname(__file__))
import tabular_data  # noqa: E402

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor  # noqa: E402
from skadam.optim import CosineEpochSchedule, CosineLogSchedule  # noqa: E402

MODELS = {
    # name: (binary model, regression model, how it takes the data: "pipeline" for the
    # imputing, encoding and scaling pipeline, "category" for the frame with the pandas
    # category dtype, "strings" for the frame with string categoricals)
    "skadam MLP": (MLPClassifier, MLPRegressor, "pipeline"),
    "skadam linear": (LogisticRegression, LinearRegression, "pipeline"),
    "sklearn MLP": (SklearnMLPClassifier, SklearnMLPRegressor, "pipeline"),
    "sklearn linear": (SklearnLogisticRegression, Ridge, "pipeline"),
    "HistGradientBoosting": (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                             "category"),
}
BOOSTERS = {
    "CatBoost": (CatBoostClassifier, CatBoostRegressor, "strings"),
    "LightGBM": (LGBMClassifier, LGBMRegressor, "category"),
}
MODELS.update({name: spec for name, spec in BOOSTERS.items() if spec[0] is not None})
# Column heads for the models the seeds and the ablation are measured against.
ABBREVIATIONS = {"HistGradientBoosting": "HGB", "CatBoost": "CB", "skadam linear": "lin"}


# One change to skadam's MLP defaults each; an option under "classifier" or "regressor"
# applies to that one only. The defaults embed up to 16 numeric columns piecewise-linearly
# (numeric_embedding="auto"), scale each input of the first layer (scaling_layer=True),
# average two regressor networks of two hidden layers of 48 units each, penalised by
# alpha="auto" (0.1 * n_features / n_samples within [1e-4, 1e-2]) with a linear skip from
# the inputs to the output, and give the classifier one network of one layer of 200
# (alpha=1e-3), train with Adam from a rate of 3e-3 on minibatches of 64 rows (128 from
# 20,000 rows on), keep a moving average of the weights over one epoch and stop early on
# a held-out tenth with a patience of 10 epochs; each option below undoes one of those or
# adds a piece of the tabular toolkit.
ABLATION = {
    "numeric_embedding=None": {"numeric_embedding": None},
    "numeric_embedding=periodic (every column)": {"numeric_embedding": "periodic"},
    "numeric_embedding=piecewise_linear (every column)": {
        "numeric_embedding": "piecewise_linear"},
    "early_stopping=False": {"early_stopping": False},
    "n_iter_no_change=20": {"n_iter_no_change": 20},
    "batch_size=200 (scikit-learn's)": {"batch_size": 200},
    "batch_size=128 (on small data)": {"batch_size": 128},
    "batch_size=32": {"batch_size": 32},
    "weight_averaging=0 (last step's weights)": {"weight_averaging": 0.0},
    "weight_averaging=3": {"weight_averaging": 3.0},
    "ensemble_size=1 (regressor)": {"regressor": {"ensemble_size": 1}},
    # The regressor's defaults before its ensemble: one network of two layers of 64.
    "ensemble_size=1, hidden_layer_sizes=(64, 64) (regressor)": {"regressor": {
        "ensemble_size": 1, "hidden_layer_sizes": (64, 64)}},
    "hidden_layer_sizes=(64, 64) (regressor)": {"regressor": {
        "hidden_layer_sizes": (64, 64)}},
    "ensemble_size=2 (classifier)": {"classifier": {"ensemble_size": 2}},
    "ensemble_size=4": {"ensemble_size": 4},
    "ensemble_size=4, hidden_layer_sizes=(48,)": {"ensemble_size": 4,
                                                 "hidden_layer_sizes": (48,)},
    # TabM-mini: members that share the hidden layers.
    **{f"ensemble=shared, ensemble_size={k}": {"ensemble": "shared", "ensemble_size": k}
       for k in (4, 8, 16, 32)},
    "hidden_layer_sizes=(256, 256)": {"hidden_layer_sizes": (256, 256)},
    "one network of (100,) (regressor, scikit-learn's)": {
        "regressor": {"ensemble_size": 1, "hidden_layer_sizes": (100,)}},
    "hidden_layer_sizes=(100,) (classifier, scikit-learn's)": {
        "classifier": {"hidden_layer_sizes": (100,)}},
    "hidden_layer_sizes=(64, 64) (classifier)": {
        "classifier": {"hidden_layer_sizes": (64, 64)}},
    "scaling_layer=False": {"scaling_layer": False},
    "linear_skip=False (regressor)": {"regressor": {"linear_skip": False}},
    "linear_skip=True (classifier)": {"classifier": {"linear_skip": True}},
    "activation=leaky_relu": {"activation": "leaky_relu"},
    "activation=selu": {"activation": "selu"},
    "activation=mish": {"activation": "mish"},
    "label_smoothing=0.1 (classifier)": {"classifier": {"label_smoothing": 0.1}},
    "beta_2=0.95": {"solver__beta_2": 0.95},
    "solver=adamw": {"solver": "adamw"},
    "learning_rate=1e-3 (Adam's own default)": {"solver__learning_rate": 1e-3},
    "alpha=0": {"alpha": 0.0},
    "alpha=1e-2": {"alpha": 1e-2},
    "alpha=1e-2 (classifier)": {"classifier": {"alpha": 1e-2}},
    "alpha=1e-3 (regressor, the default before)": {"regressor": {"alpha": 1e-3}},
    "alpha=1e-4 (regressor)": {"regressor": {"alpha": 1e-4}},
    "alpha=auto (classifier)": {"classifier": {"alpha": "auto"}},
    "dropout=0.1": {"dropout": 0.1},
    # Schedules in epochs over a budget of 100, the rate at 3e-3.
    "cosine over 100 epochs": {
        "max_iter": 100, "solver__learning_rate": CosineEpochSchedule(3e-3, n_epochs=100)},
    # RealMLP's protocol: a fixed budget of epochs, the best validation epoch kept.
    "coslog over 100 epochs, best epoch kept": {
        "max_iter": 100, "n_iter_no_change": 100,
        "solver__learning_rate": CosineLogSchedule(3e-3, n_epochs=100)},
    # skrub's robust scaling with smooth clipping, the ecosystem's convention for
    # tabular MLPs, in place of StandardScaler for the numeric columns.
    "numeric scaling: skrub SquashingScaler": {"scaler": "squashing"},
}


def _preprocessing():
    numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                            StandardScaler())
    categorical = make_pipeline(SimpleImputer(strategy="most_frequent"),
                                OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    return make_column_transformer(
        (numeric, make_column_selector(dtype_include="number")),
        (categorical, make_column_selector(dtype_exclude="number")),
    )


def _model(name, task, X_train=None, seed=0):
    """``name``'s model at its defaults, seeded (``seed`` for the MLPs and linear models,
    0 for the boosters); CatBoost's also reads which columns of ``X_train`` are
    categorical."""
    binary, regression, _ = MODELS[name]
    cls = binary if task == "binary" else regression
    if name == "HistGradientBoosting":
        return cls(categorical_features="from_dtype", random_state=0)
    if name == "CatBoost":
        # allow_writing_files=False: by default every fit writes a catboost_info directory.
        return cls(cat_features=_categorical_indices(X_train), random_seed=0, verbose=0,
                   allow_writing_files=False, thread_count=_environment_threads())
    if name == "LightGBM":
        return cls(random_state=0, verbose=-1, n_jobs=_environment_threads())
    kwargs = {"random_state": seed} if "random_state" in cls().get_params() else {}
    return make_pipeline(_preprocessing(), cls(**kwargs))


def _environment_threads():
    # HistGradientBoosting's OpenMP reads OMP_NUM_THREADS; CatBoost and LightGBM count the
    # cores themselves, so they are told the environment's setting (None: their default).
    threads = os.environ.get("OMP_NUM_THREADS")
    return int(threads) if threads else None


def _fit_and_score(model, X_train, X_test, y_train, y_test, task):
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return _score(model, X_test, y_test, task), seconds


def _score(model, X, y, task):
    if task == "binary":
        return roc_auc_score(y, model.predict_proba(X)[:, 1])
    return r2_score(y, model.predict(X))


def _inputs(name, X_train, X_test):
    """The train and test frames as ``name``'s model takes them."""
    prepare = {"pipeline": lambda X: X, "category": _categoricals_as_category,
               "strings": _categoricals_as_strings}[MODELS[name][2]]
    return prepare(X_train), prepare(X_test)


def _categoricals_as_category(X):
    # HistGradientBoosting and LightGBM read categorical columns from the pandas category
    # dtype.
    X = X.copy()
    for column in X.columns:
        if not is_numeric_dtype(X[column]) and X[column].dtype != "category":
            X[column] = X[column].astype("category")
    return X


def _categoricals_as_strings(X):
    # CatBoost takes categorical values as strings and refuses NaN among them: a missing
    # category becomes a category of its own, as CatBoost advises. Numeric NaNs stay, for
    # CatBoost's own handling.
    X = X.copy()
    for column in X.columns[_categorical_indices(X)]:
        X[column] = X[column].astype(object).where(X[column].notna(), "NaN").astype(str)
    return X


def _categorical_indices(X):
    return [i for i, column in enumerate(X.columns) if not is_numeric_dtype(X[column])]


def _splits(names, quick):
    for dataset in names:
        X, y, task = tabular_data.load(dataset)
        if quick and len(y) > 3000:
            keep = np.random.default_rng(0).choice(len(y), 3000, replace=False)
            X, y = X.iloc[keep], y[keep]
        stratify = y if task == "binary" else None
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0, stratify=stratify)
        yield dataset, task, len(y), (X_train, X_test, y_train, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", help="data set names")
    parser.add_argument("--quick", action="store_true", help="at most 3,000 rows a set")
    parser.add_argument("--ablation", nargs="*", metavar="OPTION",
                        help="also each option of ABLATION on skadam's MLP (or the "
                             "options named)")
    parser.add_argument("--plot", metavar="PATH",
                        help="draw the ablation as a figure (needs matplotlib)")
    parser.add_argument("--seeds", type=int, default=1, metavar="N",
                        help="fit skadam's MLP (and each option of the ablation) with "
                             "random_state 0 to N-1, and report the mean over the seeds")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    names = args.only or tabular_data.DATASETS
    for name in (name for name in BOOSTERS if name not in MODELS):
        print(f"{name} is not installed (pip install {name.lower()}): no {name} column")
    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    print(f"{os.cpu_count()} cores, BLAS threads {blas}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    scores = {name: [] for name in MODELS}
    times = {name: 0.0 for name in MODELS}
    seconds_per_set = {name: [] for name in ("skadam MLP", "sklearn MLP")}
    sets = []
    print(f"{'data set':<22} {'task':<10} {'rows':>6}  " +
          "  ".join(f"{name:>21}" for name in MODELS))
    for dataset, task, n_rows, (X_train, X_test, y_train, y_test) in _splits(
            names, args.quick):
        cells = []
        for name in MODELS:
            frames = _inputs(name, X_train, X_test)
            score, seconds = _fit_and_score(_model(name, task, frames[0]), *frames,
                                            y_train, y_test, task)
            times[name] += seconds
            scores[name].append(score)
            if name in seconds_per_set:
                seconds_per_set[name].append(seconds)
            cells.append(f"{score:>8.4f} ({seconds:>7.2f} s)")
        print(f"{dataset:<22} {task:<10} {n_rows:>6}  " + "  ".join(f"{c:>21}" for c in cells))
        sets.append(dataset)

    ours = np.array(scores["skadam MLP"])
    print()
    peers = ("CatBoost", "LightGBM", "HistGradientBoosting", "skadam linear", "sklearn MLP")
    for peer in (peer for peer in peers if peer in MODELS):
        difference = ours - np.array(scores[peer])
        print(f"skadam MLP - {peer:<21} mean {difference.mean():+.4f}, at least as good on "
              f"{int(_at_least_as_good(ours, scores[peer]).sum())} of {len(difference)}")
    print("total fit time: " + ", ".join(f"{name} {seconds:.1f} s"
                                         for name, seconds in times.items()))
    _print_time_budget(sets, seconds_per_set["skadam MLP"], seconds_per_set["sklearn MLP"])
    # The bars the seeds and the options are measured against: HistGradientBoosting, and
    # CatBoost where installed (the seeds' table adds skadam's linear models).
    bars = {name: np.array(scores[name])
            for name in ("HistGradientBoosting", "CatBoost") if name in MODELS}
    defaults = [(ours, times["skadam MLP"])]
    if args.seeds > 1:
        print(f"\nskadam's MLP over random_state 0 to {args.seeds - 1} (the other models "
              "as above)")
        # One seed's count against the linear model turns on a few small, noisy sets
        # (german_credit, diabetes): its share is read from the mean over the seeds.
        seed_bars = {**bars, "skadam linear": np.array(scores["skadam linear"])}
        print(f"{'seed':<10} " + "".join(
            f"{'- ' + ABBREVIATIONS[bar]:>9} {'>= ' + ABBREVIATIONS[bar]:>7} "
            for bar in seed_bars) + f"{'fit s':>7}")
        defaults += [_skadam_scores({}, names, args.quick, seed)
                     for seed in range(1, args.seeds)]
        for seed, (seed_scores, seconds) in enumerate(defaults):
            print(f"{seed:<10} {_against([seed_scores], seed_bars)}{seconds:>7.1f}")
        mean_seconds = np.mean([t for _, t in defaults])
        print(f"{'mean':<10} {_against([s for s, _ in defaults], seed_bars)}"
              f"{mean_seconds:>7.1f}")
        print(f"skadam MLP / sklearn MLP fit time over the seeds: "
              f"{mean_seconds / times['sklearn MLP']:.2f} on average")
    if args.ablation is not None:
        options = {name: ABLATION[name] for name in args.ablation or ABLATION}
        results = _ablation(options, names, args.quick, defaults, bars)
        if args.plot:
            _plot(args.plot, results, defaults, bars,
                  {name: times[name] for name in ("sklearn MLP", *bars)})


def _skadam_scores(parameters, names, quick, seed):
    """skadam's MLP with ``parameters`` changed (an ABLATION entry) and ``random_state``
    ``seed`` on every set: its scores, as an array, and its total fit time."""
    scores, seconds = [], 0.0
    for _, task, _, split in _splits(names, quick):
        model = _model("skadam MLP", task, seed=seed)
        changes = dict(parameters)
        if changes.pop("scaler", None) == "squashing":
            from skrub import SquashingScaler  # the bench extra
            model.set_params(**{
                "columntransformer__pipeline-1__standardscaler": SquashingScaler()})
        own = changes.pop("classifier", {}), changes.pop("regressor", {})
        changes.update(own[0] if task == "binary" else own[1])
        step = model.steps[-1][0]
        model.set_params(**{f"{step}__{key}": value for key, value in changes.items()})
        score, elapsed = _fit_and_score(model, *split, task)
        scores.append(score)
        seconds += elapsed
    return np.array(scores), seconds


def _ablation(options, names, quick, defaults, bars):
    """Fit skadam's MLP once per option and seed; print and return ``{option: [(scores,
    seconds) per seed]}``.

    ``defaults`` holds the default MLP's ``(scores, seconds)`` per seed: an option is
    compared with the defaults of the same seed. ``bars`` maps a peer's name to its
    scores: each option's mean difference to it and the sets where the option is at
    least as good are printed beside those to the defaults. With several seeds, every
    cell is the mean over them (the counts too)."""
    width = max(len(option) for option in [*options, "(defaults)"])
    n_seeds = len(defaults)
    seeds = f", {n_seeds} seeds" if n_seeds > 1 else ""
    print(f"\nAblation of skadam's MLP, one change at a time ({len(names)} data sets{seeds})")
    print(f"{'option':<{width}} {'- default':>10} {'better':>7} " + "".join(
        f"{'- ' + ABBREVIATIONS[bar]:>9} {'>= ' + ABBREVIATIONS[bar]:>7} " for bar in bars)
        + f"{'fit s':>7}")
    default_scores = [scores for scores, _ in defaults]
    print(f"{'(defaults)':<{width}} {0:>+10.4f} {'-':>7} "
          f"{_against(default_scores, bars)}{np.mean([t for _, t in defaults]):>7.1f}")
    results = {}
    for option, parameters in options.items():
        runs = [_skadam_scores(parameters, names, quick, seed) for seed in range(n_seeds)]
        differences = [scores - default for (scores, _), default in zip(
            runs, default_scores, strict=True)]
        print(f"{option:<{width}} {np.mean(differences):>+10.4f} "
              f"{_count([d > TIE for d in differences])} "
              f"{_against([scores for scores, _ in runs], bars)}"
              f"{np.mean([t for _, t in runs]):>7.1f}", flush=True)
        results[option] = runs
    return results


def _against(runs, bars):
    """The cells for the scores of each seed in ``runs`` against each bar: the mean
    difference and the sets where they are at least as good, both averaged over the
    seeds."""
    return "".join(f"{np.mean([scores - bar for scores in runs]):>+9.4f} "
                   f"{_count([_at_least_as_good(scores, bar) for scores in runs])} "
                   for bar in bars.values())


def _print_time_budget(sets, ours, theirs):
    """skadam's MLP's fit time against scikit-learn's, in all and on its slowest set: the
    budget of the defaults is half scikit-learn's time in all and no more on any set."""
    ratios = np.array(ours) / np.array(theirs)
    worst = int(np.argmax(ratios))
    print(f"skadam MLP / sklearn MLP fit time: {sum(ours) / sum(theirs):.2f} in all, "
          f"at most {ratios[worst]:.2f} on a set ({sets[worst]}: {ours[worst]:.2f} s against "
          f"{theirs[worst]:.2f} s)")


# Two models that rank the test rows alike have the same ROC AUC, a ratio of counts, but
# the floating-point sums behind two computations of it can differ in the last bits
# (HistGradientBoosting's 0.9958062486894528 against an MLP's 0.9958062486894527): such
# a difference is a tie.
TIE = 1e-12


def _at_least_as_good(scores, bar):
    """Where ``scores`` are at least ``bar``, ties up to rounding included."""
    return np.asarray(scores) >= np.asarray(bar) - TIE


def _count(masks):
    """The sets a mask per seed holds, as "k/n", or their mean over the seeds."""
    total, n_sets = np.mean([mask.sum() for mask in masks]), len(masks[0])
    text = f"{int(total)}" if len(masks) == 1 else f"{total:.1f}"
    return f"{text:>4}/{n_sets:<2}"


def _plot(path, results, defaults, bars, peer_times):
    """The ablation as a figure: each option's mean difference to the defaults, and its
    total fit time beside the defaults' and the peers' (means over the seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    options = list(results)
    default_scores = [scores for scores, _ in defaults]
    default_time = float(np.mean([seconds for _, seconds in defaults]))
    differences = [float(np.mean([scores - default for (scores, _), default in zip(
        results[o], default_scores, strict=True)])) for o in options]
    seconds = [float(np.mean([t for _, t in results[o]])) for o in options]
    order = np.argsort(differences)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.32 * len(options) + 1.6),
                                      sharey=True, layout="constrained",
                                      gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(options))
    values = np.array(differences)[order]
    left.barh(y, values, color=np.where(values > 0, "tab:green", "tab:red"))
    left.axvline(0.0, color="black", linewidth=0.8)
    for (name, scores), color in zip(bars.items(), ("tab:blue", "tab:orange"), strict=False):
        bar = float(np.mean([scores - default for default in default_scores]))
        left.axvline(bar, color=color, linestyle="--", label=f"{name} ({bar:+.4f})")
    left.set_yticks(y, np.array(options)[order])
    left.set_xlabel("mean difference to the defaults (ROC AUC or R²)")
    left.legend(loc="lower right", fontsize="small")
    right.barh(y, np.array(seconds)[order], color="tab:gray")
    right.axvline(default_time, color="black", linewidth=0.8,
                  label=f"defaults ({default_time:.0f} s)")
    for (name, value), style in zip(peer_times.items(), (":", "--", "-."), strict=False):
        right.axvline(value, color="tab:purple", linestyle=style, label=f"{name} ({value:.0f} s)")
    right.set_xlabel(f"total fit time over the {len(default_scores[0])} sets (s)")
    right.legend(loc="lower right", fontsize="small")
    fig.suptitle("skadam's MLP, one change to the defaults at a time")
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


if __name__ == "__main__":
    main()
