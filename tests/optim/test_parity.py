"""Numerical parity of skadam's optimizers with torch.optim and with the
paper-equation reference in ``_reference.py``.

Three layers:

(a) reference vs torch golden trajectories: validates the reference itself;
(b) skadam vs torch golden trajectories;
(c) skadam vs reference on fresh gradient sequences, including options torch
    does not have (bias_correction=False, partial weight decay, epsilon inside
    the square root), a sweep of gradient scales down to 1e-9 and a buffer
    large enough to be processed in chunks.

All comparisons are in float64 with rtol=1e-9.  The absolute floor is 1e-12
times the largest magnitude in the expected trajectory, so that parameters
passing through zero do not turn rounding noise into huge relative errors.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from _reference import REFERENCES

RTOL = 1e-9
ATOL_FACTOR = 1e-12

GOLDEN_PATH = Path(__file__).resolve().parent.parent / "data" / "torch_golden.npz"


def _load_golden():
    with np.load(GOLDEN_PATH, allow_pickle=False) as data:
        golden = {key: data[key] for key in data.files}
    configs = json.loads(str(golden["meta/configs_json"]))
    sequences = sorted(json.loads(str(golden["meta/sequences_json"])))
    return golden, configs, sequences


GOLDEN, GOLDEN_CONFIGS, GOLDEN_SEQUENCES = _load_golden()
GOLDEN_CASES = [
    pytest.param(config, seq, id=f"{config}/{seq}")
    for config in sorted(GOLDEN_CONFIGS)
    for seq in GOLDEN_SEQUENCES
]


def worst_relative_error(actual, desired):
    """Largest |actual - desired| relative to max(|desired|, atol / rtol).

    Consistent with the pass criterion of ``assert_trajectory_close``: an
    entry passes when its relative error is below about ``RTOL``.
    """
    scale = np.max(np.abs(desired))
    floor = max(ATOL_FACTOR * scale / RTOL, np.finfo(np.float64).tiny)
    return float(np.max(np.abs(actual - desired) / np.maximum(np.abs(desired), floor)))


def assert_trajectory_close(actual, desired, node=None):
    actual = np.asarray(actual)
    desired = np.asarray(desired)
    assert actual.shape == desired.shape
    assert np.all(np.isfinite(actual)), "non-finite parameters"
    worst = worst_relative_error(actual, desired)
    if node is not None:
        # Exposed through report.user_properties (e.g. in junit XML) so the
        # achieved accuracy can be tracked on passing runs too.
        node.user_properties.append(("worst_relative_error", worst))
    np.testing.assert_allclose(
        actual,
        desired,
        rtol=RTOL,
        atol=ATOL_FACTOR * np.max(np.abs(desired)),
        err_msg=f"worst relative error {worst:.3e}",
    )


def golden_inputs(config, seq):
    grads = GOLDEN[f"sequences/{seq}/grads"]
    params0 = GOLDEN[f"sequences/{seq}/params0"]
    expected = GOLDEN[f"{config}/{seq}/trajectory"]
    meta = GOLDEN_CONFIGS[config]
    return meta["optimizer"], meta["hyperparameters"], params0, grads, expected


@pytest.fixture(scope="module")
def skoptim():
    # Imported lazily so that the reference-vs-torch checks stay runnable on
    # their own; a broken skadam still fails every test that needs it.
    import skadam.optim

    return skadam.optim


def run_skadam(optim_module, name, hyperparameters, params0, grads, n_decayed=None):
    opt = getattr(optim_module, name)(**hyperparameters)
    params = np.array(params0, dtype=np.float64)
    if n_decayed is None:
        state = opt.init_state(params)
    else:
        state = opt.init_state(params, n_decayed=n_decayed)
    trajectory = np.empty((len(grads), params.shape[0]), dtype=np.float64)
    for t, g in enumerate(grads):
        opt.step(params, np.array(g), state)
        trajectory[t] = params
    return trajectory


# (a) ------------------------------------------------------------------------


def test_golden_file_metadata():
    assert str(GOLDEN["meta/torch_version"]).startswith("2.")
    optimizers = {meta["optimizer"] for meta in GOLDEN_CONFIGS.values()}
    assert optimizers == set(REFERENCES)
    for seq in GOLDEN_SEQUENCES:
        n_steps, n = GOLDEN[f"sequences/{seq}/grads"].shape
        assert GOLDEN[f"sequences/{seq}/params0"].shape == (n,)
        for config in GOLDEN_CONFIGS:
            assert GOLDEN[f"{config}/{seq}/trajectory"].shape == (n_steps, n)


@pytest.mark.parametrize("config, seq", GOLDEN_CASES)
def test_reference_matches_torch(config, seq, request):
    name, hp, params0, grads, expected = golden_inputs(config, seq)
    actual = REFERENCES[name](params0, grads, **hp)
    assert_trajectory_close(actual, expected, request.node)


# (b) ------------------------------------------------------------------------


@pytest.mark.parametrize("config, seq", GOLDEN_CASES)
def test_skadam_matches_torch(skoptim, config, seq, request):
    name, hp, params0, grads, expected = golden_inputs(config, seq)
    actual = run_skadam(skoptim, name, hp, params0, grads)
    assert_trajectory_close(actual, expected, request.node)


# (c) ------------------------------------------------------------------------

ADAM = dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
ADAMW = dict(ADAM, weight_decay=0.1)


def _all_but_last(n):
    # The last entry plays the role of an undecayed intercept.
    return n - 1


def _half(n):
    return n // 2


def _none(n):
    return 0


def _all(n):
    return n


# (label, optimizer, hyperparameters, n_decayed as a function of the buffer
# length, or None to leave init_state's default) -- a function so that the
# same table serves the small and the large buffers.
FRESH_CONFIGS = [
    ("adam", "Adam", dict(ADAM, amsgrad=False, bias_correction=True), None),
    ("adam_amsgrad", "Adam", dict(ADAM, amsgrad=True, bias_correction=True), None),
    ("adam_nobc", "Adam", dict(ADAM, amsgrad=False, bias_correction=False), None),
    ("adam_nobc_amsgrad", "Adam", dict(ADAM, amsgrad=True, bias_correction=False), None),
    (
        "adam_lr0.01_b0.8_0.99_eps1e-6",
        "Adam",
        dict(
            learning_rate=0.01,
            beta_1=0.8,
            beta_2=0.99,
            epsilon=1e-6,
            amsgrad=False,
            bias_correction=True,
        ),
        None,
    ),
    ("adamw", "AdamW", dict(ADAM, weight_decay=0.01, amsgrad=False, bias_correction=True), None),
    ("adamw_wd0.1_amsgrad", "AdamW", dict(ADAMW, amsgrad=True, bias_correction=True), None),
    ("adamw_nobc", "AdamW", dict(ADAMW, amsgrad=False, bias_correction=False), None),
    (
        "adamw_ndecayed_all_but_last",
        "AdamW",
        dict(ADAMW, amsgrad=False, bias_correction=True),
        _all_but_last,
    ),
    (
        "adamw_ndecayed_half_amsgrad_nobc",
        "AdamW",
        dict(ADAMW, amsgrad=True, bias_correction=False),
        _half,
    ),
    ("adamw_ndecayed_0", "AdamW", dict(ADAMW, amsgrad=False, bias_correction=True), _none),
    ("adamw_ndecayed_n", "AdamW", dict(ADAMW, amsgrad=False, bias_correction=True), _all),
    ("sgd", "SGD", dict(learning_rate=0.01, momentum=0.0, nesterov=False), None),
    ("sgd_momentum", "SGD", dict(learning_rate=0.01, momentum=0.9, nesterov=False), None),
    ("sgd_nesterov", "SGD", dict(learning_rate=0.01, momentum=0.9, nesterov=True), None),
    ("rmsprop", "RMSprop", dict(learning_rate=0.001, rho=0.9, epsilon=1e-8, momentum=0.0), None),
    (
        "rmsprop_rho0.99_momentum",
        "RMSprop",
        dict(learning_rate=0.001, rho=0.99, epsilon=1e-8, momentum=0.9),
        None,
    ),
    ("adagrad", "Adagrad", dict(learning_rate=0.01, epsilon=1e-10), None),
    # epsilon inside the square root (optax's eps_root): alone, and with
    # epsilon outside too.
    ("adam_eps_root", "Adam", dict(ADAM, epsilon=0.0, epsilon_root=1e-8), None),
    ("adam_eps_root_amsgrad", "Adam", dict(ADAM, epsilon_root=1e-6, amsgrad=True), None),
    ("adam_eps_root_nobc", "Adam",
     dict(ADAM, epsilon=0.0, epsilon_root=1e-8, bias_correction=False), None),
    (
        "adamw_eps_root_ndecayed_half_amsgrad_nobc",
        "AdamW",
        dict(ADAMW, epsilon=0.0, epsilon_root=1e-10, amsgrad=True, bias_correction=False),
        _half,
    ),
]

GRAD_SCALES = [1e3, 1.0, 1e-3, 1e-6, 1e-9]


def fresh_sequence(rng, n_steps, n, scale):
    """Gradients around ``scale`` with a per-coordinate spread of two decades,
    a persistent drift, sign flips and exact zeros."""
    spread = scale * np.logspace(-1, 1, n)
    drift = rng.normal(0.0, 0.5, size=n)
    grads = (rng.standard_normal((n_steps, n)) + drift) * spread
    grads[rng.random((n_steps, n)) < 0.1] = 0.0
    grads[:, 0] = 0.0
    grads[: n_steps // 5, 1] = 0.0
    grads[n_steps // 2 :, 2] *= -1.0
    return grads


def check_against_reference(skoptim, name, hp, n_decayed_fn, params0, grads, node):
    n_decayed = None if n_decayed_fn is None else n_decayed_fn(params0.shape[0])
    ref_kwargs = dict(hp) if n_decayed is None else dict(hp, n_decayed=n_decayed)
    expected = REFERENCES[name](params0, grads, **ref_kwargs)
    actual = run_skadam(skoptim, name, hp, params0, grads, n_decayed=n_decayed)
    assert_trajectory_close(actual, expected, node)


FRESH_CASES = [
    pytest.param(seed, name, hp, nd, scale, id=f"{label}/scale{scale:g}")
    for seed, ((label, name, hp, nd), scale) in enumerate(
        (c, s) for c in FRESH_CONFIGS for s in GRAD_SCALES
    )
]


@pytest.mark.parametrize("seed, name, hp, n_decayed_fn, scale", FRESH_CASES)
def test_skadam_matches_reference(skoptim, seed, name, hp, n_decayed_fn, scale, request):
    n_steps, n = 500, 17
    rng = np.random.default_rng([seed, 500])
    grads = fresh_sequence(rng, n_steps, n, scale)
    # Start about ten typical steps from the origin so that the comparison
    # sees the displacement rather than being swamped by a large offset.
    typical_step = hp["learning_rate"] * (scale if name == "SGD" else 1.0)
    params0 = rng.standard_normal(n) * 10.0 * typical_step
    check_against_reference(skoptim, name, hp, n_decayed_fn, params0, grads, request.node)


LARGE_LABELS = {
    "adam",
    "adam_nobc_amsgrad",
    "adam_eps_root_amsgrad",
    "adamw_wd0.1_amsgrad",
    "adamw_ndecayed_all_but_last",
    "adamw_ndecayed_half_amsgrad_nobc",
    "sgd_nesterov",
    "rmsprop_rho0.99_momentum",
    "adagrad",
}
LARGE_CASES = [
    pytest.param(seed, name, hp, nd, id=label)
    for seed, (label, name, hp, nd) in enumerate(FRESH_CONFIGS)
    if label in LARGE_LABELS
]


@pytest.mark.parametrize("seed, name, hp, n_decayed_fn", LARGE_CASES)
def test_skadam_large_buffer_matches_reference(skoptim, seed, name, hp, n_decayed_fn, request):
    # Large enough that an implementation working in fixed-size chunks has
    # many full chunks and a ragged tail; n is deliberately not a power of 2.
    n_steps, n = 20, 200_000
    rng = np.random.default_rng([seed, 200_000])
    scales = 10.0 ** rng.uniform(-9, 3, size=n)
    grads = rng.standard_normal((n_steps, n)) * scales
    grads[rng.random((n_steps, n)) < 0.05] = 0.0
    params0 = rng.standard_normal(n) * 0.1
    check_against_reference(skoptim, name, hp, n_decayed_fn, params0, grads, request.node)


@pytest.mark.parametrize(
    "name, hp, n_decayed_fn",
    [pytest.param(name, hp, nd, id=label) for label, name, hp, nd in FRESH_CONFIGS],
)
def test_step_contract(skoptim, name, hp, n_decayed_fn):
    # Estimators hand the optimizer views into their own buffers, so the
    # update has to happen in place and must leave the gradient untouched.
    n = 9
    rng = np.random.default_rng(42)
    opt = getattr(skoptim, name)(**hp)
    params = rng.standard_normal(n)
    if n_decayed_fn is None:
        state = opt.init_state(params)
    else:
        state = opt.init_state(params, n_decayed=n_decayed_fn(n))
    before = params.copy()
    grad = rng.standard_normal(n)
    grad_before = grad.copy()
    assert opt.step(params, grad, state) is None
    assert params.dtype == np.float64 and params.shape == (n,)
    np.testing.assert_array_equal(grad, grad_before)
    assert not np.array_equal(params, before)
