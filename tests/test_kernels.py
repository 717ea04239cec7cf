"""The compiled kernels against the straightforward NumPy formulas they fuse."""

import ast
import importlib.machinery
import importlib.util
import re
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from skadam import _kernels as kernels

DTYPES = [np.float64, np.float32]
# float32 results differ from NumPy's in the last bits (another order of operations).
RTOL = {np.float64: 1e-13, np.float32: 2e-6}


def _rng():
    return np.random.default_rng(0)


def _adam(p, g, m, v, v_max, beta_1=0.8, beta_2=0.99, learning_rate=0.01, epsilon=1e-3,
          epsilon_root=0.0, weight_decay=10.0, t=3, bias_correction=True, n_decayed=0,
          start=0, stop=None):
    n = p.shape[-1]
    kernels.adam(p, g, m, v, v_max, beta_1, beta_2, learning_rate, epsilon, epsilon_root,
                 weight_decay, t, bias_correction, n_decayed, start, n if stop is None else stop)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("n_decayed", [0, 7, 20])
@pytest.mark.parametrize("eps_root", [0.0, 0.5])
@pytest.mark.parametrize("bias_correction", [False, True])
def test_adam_matches_the_update_equations(dtype, amsgrad, n_decayed, eps_root,
                                           bias_correction):
    # Kingma & Ba's Algorithm 1 as written, with the hats, at step t = 3; decoupled
    # weight decay shrinks the leading n_decayed entries by 1 - learning_rate * decay.
    rng = _rng()
    p, g = rng.standard_normal(20).astype(dtype), rng.standard_normal(20).astype(dtype)
    m = rng.standard_normal(20).astype(dtype)
    v, v_max = rng.random(20).astype(dtype), 2 * rng.random(20).astype(dtype)
    b1, b2, lr, eps, decay, t = 0.8, 0.99, 0.01, 1e-3, 10.0, 3
    expected_p = p.astype(np.float64)
    expected_p[:n_decayed] *= 1 - lr * decay
    expected_m = b1 * m + (1 - b1) * g.astype(np.float64)
    expected_v = b2 * v + (1 - b2) * g.astype(np.float64) ** 2
    expected_v_max = np.maximum(v_max, expected_v)
    second = expected_v_max if amsgrad else expected_v
    m_hat = expected_m / (1 - b1**t) if bias_correction else expected_m
    second_hat = second / (1 - b2**t) if bias_correction else second
    expected_p -= lr * m_hat / (np.sqrt(second_hat + eps_root) + eps)

    _adam(p, g, m, v, v_max if amsgrad else None, b1, b2, lr, eps, eps_root, decay, t,
          bias_correction, n_decayed)

    for got, expected in [(p, expected_p), (m, expected_m), (v, expected_v)]:
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=RTOL[dtype] * 10)
    if amsgrad:
        np.testing.assert_allclose(v_max, expected_v_max, rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_on_stacked_runs_equals_each_run_alone(dtype, amsgrad):
    # One call over K rows, each with its own hyperparameters and step count, is K
    # independent steps.
    rng = _rng()
    k, n = 4, 9
    arrays = [rng.standard_normal((k, n)).astype(dtype) for _ in range(3)]
    arrays += [rng.random((k, n)).astype(dtype) for _ in range(2)]
    per_run = [rng.uniform(0.5, 0.99, k), rng.uniform(0.9, 0.999, k), rng.uniform(0, 0.1, k),
               rng.uniform(0, 1e-3, k), rng.uniform(0, 1e-3, k), rng.uniform(0, 1, k),
               np.array([1, 5, 17, 300])]
    alone = [a.copy() for a in arrays]
    for row in range(k):
        p, g, m, v, v_max = (a[row] for a in alone)
        kernels.adam(p, g, m, v, v_max if amsgrad else None,
                     *(float(h[row]) for h in per_run), True, 5, 0, n)
    p, g, m, v, v_max = arrays
    kernels.adam(p, g, m, v, v_max if amsgrad else None, *per_run, True, 5, 0, n)
    for stacked, single in zip(arrays, alone, strict=True):
        np.testing.assert_array_equal(stacked, single)

    # A number stands for the same value on every row.
    scalar = [a.copy() for a in alone]
    vector = [a.copy() for a in alone]
    _adam(*scalar[:4], None, 0.9, 0.999, 1e-3, 1e-8, 1e-6, 0.0, 4)
    _adam(*vector[:4], None, np.full(k, 0.9), 0.999, np.full(k, 1e-3), 1e-8,
          np.full(k, 1e-6), 0.0, np.full(k, 4, dtype=np.int64))
    for a, b in zip(scalar, vector, strict=True):
        np.testing.assert_array_equal(a, b)

    with pytest.raises(ValueError, match="one value per run"):
        _adam(*arrays[:4], None, np.full(k + 1, 0.9))
    with pytest.raises(ValueError, match="epsilon_root must be .* one value per run"):
        _adam(*arrays[:4], None, epsilon_root=np.zeros(k - 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_steps_a_range_of_columns(dtype):
    # Threads step disjoint ranges of the columns: together, the step of the whole.
    rng = _rng()
    arrays = [rng.standard_normal((3, 10)).astype(dtype) for _ in range(3)]
    arrays += [rng.random((3, 10)).astype(dtype)]
    whole = [a.copy() for a in arrays]
    _adam(*whole, None, n_decayed=6)
    for start, stop in [(0, 4), (4, 10)]:
        _adam(*arrays, None, n_decayed=6, start=start, stop=stop)
    for got, expected in zip(arrays, whole, strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_with_zero_eps_root_steps_exactly_as_without_it(dtype, amsgrad):
    # v + 0 == v for v >= 0, so eps_root = 0 changes no bit of the step.
    rng = _rng()
    p, g, m = (rng.standard_normal(50).astype(dtype) for _ in range(3))
    v, v_max = rng.random(50).astype(dtype), 2 * rng.random(50).astype(dtype)
    v[:5] = 0.0
    g[:3] = 0.0
    m[:3] = 0.0
    new_v = dtype(0.99) * v + (g * g) * (dtype(1) - dtype(0.99))
    second = np.maximum(v_max, new_v) if amsgrad else new_v
    new_m = dtype(0.8) * m + (dtype(1) - dtype(0.8)) * g
    expected = p - dtype(0.01) * (new_m / (np.sqrt(second) + dtype(1e-3)))
    _adam(p, g, m, v, v_max if amsgrad else None, 0.8, 0.99, 0.01, 1e-3, 0.0, 0.0,
          bias_correction=False)
    np.testing.assert_array_equal(v, new_v)
    np.testing.assert_array_equal(p, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_scaled(dtype):
    rng = _rng()
    y, x = rng.standard_normal(33).astype(dtype), rng.standard_normal(33).astype(dtype)
    expected = y + dtype(0.25) * x
    kernels.add_scaled(y, x, 0.25)
    np.testing.assert_allclose(y, expected, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_mish_and_its_slopes(dtype):
    rng = _rng()
    Z = np.concatenate([8 * rng.standard_normal((3, 40)),
                        np.array([[-800.0, -30.0, -1.19, 0.0, 19.99, 20.0, 35.0, 1e6] * 5])]
                       ).astype(dtype)
    b = rng.standard_normal(40).astype(dtype)
    x = Z.astype(np.float64) + b.astype(np.float64)
    # Misra (2019) with libm: x tanh(log(1 + e^x)), and its derivative by hand.
    softplus = np.logaddexp(0.0, x)
    expected = x * np.tanh(softplus)
    expected_slope = np.tanh(softplus) + x * (1.0 - np.tanh(softplus) ** 2) / (1.0 + np.exp(-x))
    slopes = np.empty_like(Z)
    unkept = Z.copy()
    kernels.bias_mish(Z, b, slopes)
    kernels.bias_mish(unkept, b)
    np.testing.assert_array_equal(unkept, Z)  # the slopes change nothing else
    np.testing.assert_allclose(Z, expected, rtol=RTOL[dtype], atol=1e-300)
    np.testing.assert_allclose(slopes, expected_slope, rtol=RTOL[dtype], atol=1e-15)

    delta = rng.standard_normal(Z.shape).astype(dtype)
    column_sums = np.full(40, np.nan, dtype=dtype)
    expected_delta = delta * slopes
    kernels.slope_backprop(slopes, delta, column_sums)
    np.testing.assert_array_equal(delta, expected_delta)
    np.testing.assert_allclose(column_sums, expected_delta.sum(axis=0), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_move_towards(dtype):
    rng = _rng()
    y, x = rng.standard_normal((3, 33)).astype(dtype), rng.standard_normal((3, 33)).astype(dtype)
    # A weight of one copies exactly, where y + (x - y) could round away from x.
    y[2, 0], x[2, 0] = 1e30, 1.0
    weights = np.array([0.25, 0.0, 1.0])
    expected = y + weights.astype(dtype)[:, np.newaxis] * (x - y)
    expected[1], expected[2] = y[1], x[2]
    kernels.move_towards(y, x, weights)
    np.testing.assert_allclose(y[0], expected[0], rtol=RTOL[dtype])
    np.testing.assert_array_equal(y[1:], expected[1:])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_relu_and_its_backprop(dtype):
    rng = _rng()
    Z, b = rng.standard_normal((9, 5)).astype(dtype), rng.standard_normal(5).astype(dtype)
    expected = np.maximum(Z + b, 0)
    kernels.bias_relu(Z, b)
    np.testing.assert_array_equal(Z, expected)

    delta = rng.standard_normal((9, 5)).astype(dtype)
    column_sums = np.full(5, np.nan, dtype=dtype)
    expected_delta = delta * (Z > 0)
    kernels.relu_backprop(Z, delta, column_sums)
    np.testing.assert_array_equal(delta, expected_delta)
    np.testing.assert_allclose(column_sums, expected_delta.sum(axis=0), rtol=RTOL[dtype])


def test_bias_relu_lets_nan_through():
    # A diverging network must show up as a non-finite loss, not be masked to zero.
    Z = np.array([[np.nan, -1.0, 2.0]])
    kernels.bias_relu(Z, np.zeros(3))
    np.testing.assert_array_equal(Z, [[np.nan, 0.0, 2.0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_place", [False, True])
def test_softmax_cross_entropy(dtype, in_place):
    rng = _rng()
    raw = (30 * rng.standard_normal((12, 4))).astype(dtype)  # large: exp would overflow
    codes = rng.integers(0, 4, 12)
    expected_losses = logsumexp(raw.astype(np.float64), axis=1) - raw[np.arange(12), codes]
    expected = np.exp(raw - logsumexp(raw.astype(np.float64), axis=1, keepdims=True))
    expected[np.arange(12), codes] -= 1
    out = raw if in_place else np.empty_like(raw)
    losses = np.empty(12, dtype=dtype)
    kernels.softmax_cross_entropy(raw, codes, out, losses)
    np.testing.assert_allclose(losses, expected_losses, rtol=RTOL[dtype] * 10, atol=1e-5)
    np.testing.assert_allclose(out, expected, rtol=RTOL[dtype] * 10, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_sigmoid_cross_entropy(dtype, n_outputs):
    rng = _rng()
    raw = (30 * rng.standard_normal((12, n_outputs))).astype(dtype)
    Y = rng.integers(0, 2, (12, n_outputs)).astype(dtype)
    wide = raw.astype(np.float64)
    expected_losses = (np.logaddexp(0, wide) - Y * wide).mean(axis=1)
    expected = (expit(wide) - Y) / n_outputs
    out, losses = np.empty_like(raw), np.empty(12, dtype=dtype)
    kernels.sigmoid_cross_entropy(raw, Y, out, losses)
    np.testing.assert_allclose(losses, expected_losses, rtol=RTOL[dtype] * 10, atol=1e-6)
    np.testing.assert_allclose(out, expected, rtol=RTOL[dtype] * 10, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_stacked_kernels_equal_each_run_alone(dtype):
    # A leading axis of K runs (of any stride, as the rows of a parameter stack) runs
    # each run's block through the same loop as the run alone.
    rng = _rng()
    k, n, width = 3, 7, 5
    params = rng.standard_normal((k, 40)).astype(dtype)
    b = params[:, 10:10 + width]  # strided rows, as the intercepts of a stack
    Z = rng.standard_normal((k, n, width)).astype(dtype)
    alone = Z.copy()
    for run in range(k):
        kernels.bias_relu(alone[run], b[run].copy())
    kernels.bias_relu(Z, b)
    np.testing.assert_array_equal(Z, alone)

    delta = rng.standard_normal((k, n, width)).astype(dtype)
    sums = np.zeros((k, 40), dtype=dtype)[:, 3:3 + width]
    delta_alone, sums_alone = delta.copy(), np.zeros((k, width), dtype=dtype)
    for run in range(k):
        kernels.relu_backprop(Z[run], delta_alone[run], sums_alone[run])
    kernels.relu_backprop(Z, delta, sums)
    np.testing.assert_array_equal(delta, delta_alone)
    np.testing.assert_array_equal(sums, sums_alone)

    y, x = params[:, :20].copy(), rng.standard_normal((k, 20)).astype(dtype)
    y_alone = y.copy()
    alphas = np.array([0.5, 0.0, 2.0])
    for run in range(k):
        kernels.add_scaled(y_alone[run], x[run], float(alphas[run]))
    kernels.add_scaled(y, x, alphas)
    np.testing.assert_array_equal(y, y_alone)
    for run in range(k):
        kernels.move_towards(y_alone[run], x[run], float(alphas[run]) / 2)
    kernels.move_towards(y, x, alphas / 2)
    np.testing.assert_array_equal(y, y_alone)

    raw = (5 * rng.standard_normal((k, n, 4))).astype(dtype)
    codes = rng.integers(0, 4, n)
    Y = rng.integers(0, 2, (n, 4)).astype(dtype)
    for kernel, targets in [(kernels.softmax_cross_entropy, codes),
                            (kernels.sigmoid_cross_entropy, Y)]:
        out, losses = np.empty_like(raw), np.empty((k, n), dtype=dtype)
        kernel(raw, targets, out, losses)
        for run in range(k):
            out_alone, losses_alone = np.empty_like(raw[run]), np.empty(n, dtype=dtype)
            kernel(raw[run], targets, out_alone, losses_alone)
            np.testing.assert_array_equal(out[run], out_alone)
            np.testing.assert_array_equal(losses[run], losses_alone)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 2, 3, 9])
def test_narrow_product_is_delta_times_the_transposed_weights(dtype, n_outputs):
    # Each element the sum of n_outputs products, in order; NumPy's product as the
    # reference. Through one output the product is exact, as BLAS's is.
    rng = _rng()
    delta = rng.standard_normal((4, 29, n_outputs)).astype(dtype)
    W = rng.standard_normal((4, 17, n_outputs)).astype(dtype)
    out = np.full((4, 29, 17), np.nan, dtype)
    kernels.narrow_product(delta, W, out)
    expected = np.einsum("kio,kjo->kij", delta.astype(np.float64), W.astype(np.float64))
    np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=RTOL[dtype])
    if n_outputs == 1:
        np.testing.assert_array_equal(out, delta * W.transpose(0, 2, 1))
    # A run alone, and runs interleaved in one buffer (a stack's parameters), as a stack.
    for run in range(4):
        alone = np.empty((29, 17), dtype)
        kernels.narrow_product(delta[run], W[run], alone)
        np.testing.assert_array_equal(alone, out[run])
    interleaved = np.zeros((4, 17 * n_outputs + 5), dtype)
    interleaved[:, :17 * n_outputs] = W.reshape(4, -1)
    strided = interleaved[:, :17 * n_outputs].reshape(4, 17, n_outputs)
    again = np.empty_like(out)
    kernels.narrow_product(delta, strided, again)
    np.testing.assert_array_equal(again, out)


def test_narrow_product_refuses_mismatched_or_overlapping_arrays():
    delta, W = np.zeros((2, 5, 1)), np.zeros((2, 4, 1))
    with pytest.raises(ValueError, match="must share o, n, h"):
        kernels.narrow_product(delta, np.zeros((2, 4, 2)), np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="must share o, n, h"):
        kernels.narrow_product(delta, W, np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="must share o, n, h"):
        kernels.narrow_product(delta, W.astype(np.float32), np.zeros((2, 5, 4)))
    out = np.zeros((2, 5, 4))
    inside_out = out.reshape(2, 20, 1)[:, :5]
    with pytest.raises(ValueError, match="delta and out must not share memory"):
        kernels.narrow_product(inside_out, W, out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("width", [1, 8, 100, 13])
def test_scale_rows_and_its_backward_match_the_scaling_layer_equations(dtype, width):
    # The first layer reads W' = s[:, None] * W; from G = dL/dW', dL/ds_i is the sum over
    # the units of W * G and dL/dW = s[:, None] * G.
    rng = _rng()
    W, G = (rng.standard_normal((3, 11, width)).astype(dtype) for _ in range(2))
    s = rng.standard_normal((3, 11)).astype(dtype)
    scaled, grad_W, grad_s = np.empty_like(W), np.empty_like(W), np.empty_like(s)
    kernels.scale_rows(W, s, scaled)
    kernels.scale_rows_backward(W, s, G, grad_W, grad_s)
    np.testing.assert_array_equal(scaled, W * s[:, :, np.newaxis])
    np.testing.assert_array_equal(grad_W, G * s[:, :, np.newaxis])
    np.testing.assert_allclose(grad_s, (W.astype(np.float64) * G).sum(axis=2),
                               rtol=RTOL[dtype], atol=RTOL[dtype])
    for run in range(3):
        alone, alone_W, alone_s = np.empty_like(W[0]), np.empty_like(W[0]), np.empty_like(s[0])
        kernels.scale_rows(W[run], s[run], alone)
        kernels.scale_rows_backward(W[run], s[run], G[run], alone_W, alone_s)
        np.testing.assert_array_equal(alone, scaled[run])
        np.testing.assert_array_equal(alone_s, grad_s[run])


def test_scale_rows_refuse_mismatched_or_overlapping_arrays():
    W, s = np.zeros((2, 5, 4)), np.zeros((2, 5))
    with pytest.raises(ValueError, match="one value per row of W"):
        kernels.scale_rows(W, np.zeros((2, 4)), np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="W and out must not share memory"):
        kernels.scale_rows(W, s, W)
    with pytest.raises(ValueError, match="one value per row of W"):
        kernels.scale_rows_backward(W, s, np.zeros((2, 5, 3)), np.zeros((2, 5, 4)), s.copy())
    with pytest.raises(ValueError, match="G and grad_W must not share memory"):
        G = np.zeros((2, 5, 4))
        kernels.scale_rows_backward(W, s, G, G, s.copy())


def test_kernels_refuse_arrays_they_cannot_read_or_write():
    x = np.zeros(4)
    with pytest.raises(ValueError, match="grad must have the shape and dtype of params"):
        _adam(x, np.zeros(3), np.zeros(4), np.zeros(4), None)
    with pytest.raises(ValueError, match="grad must have the shape and dtype of params"):
        _adam(x, np.zeros(4, np.float32), np.zeros(4), np.zeros(4), None)
    with pytest.raises(ValueError, match="must not share memory"):
        _adam(x, np.zeros(4), x, np.zeros(4), None)
    with pytest.raises(ValueError, match="C-contiguous"):
        kernels.add_scaled(np.zeros(8)[::2], x, 1.0)
    with pytest.raises(ValueError, match="float64 or float32"):
        kernels.add_scaled(np.zeros(4, dtype=int), x, 1.0)
    with pytest.raises(ValueError, match="not a class index"):
        kernels.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]), np.zeros((2, 3)),
                                      np.zeros(2))
    with pytest.raises(ValueError, match="int64"):
        kernels.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1], dtype=np.int32),
                                      np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="width and dtype"):
        kernels.bias_relu(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="runs, width and dtype"):
        kernels.bias_relu(np.zeros((2, 2, 3)), np.zeros((3, 3)))
    frozen = np.zeros(4)
    frozen.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        kernels.add_scaled(frozen, x, 1.0)


def _setup_value(name):
    """The expression setup.py assigns to `name`, read from setup.py itself."""
    tree = ast.parse(Path(__file__).parents[1].joinpath("setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return node.value
    raise AssertionError(f"setup.py no longer sets {name}")


def _compile_args():
    """The flags setup.py builds the kernels with."""
    return ast.literal_eval(_setup_value("compile_args").orelse)


def _kernel_files():
    """The sources and headers setup.py builds the kernels from, by their paths."""
    root = Path(__file__).parents[1]
    names = ast.literal_eval(_setup_value("kernel_sources"))
    headers = ast.literal_eval(_setup_value("kernel_headers"))
    return [root / name for name in names], [root / name for name in headers]


def _cpu_flags():
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return set(text.split())


def test_kernels_give_the_same_bits_on_every_instruction_set(tmp_path):
    # The build runs the kernels through the widest vector instructions the CPU has; each
    # machine must compute what any other computes. Build one copy per instruction set
    # this machine can run, and compare every kernel's results bit for bit.
    sources, headers = _kernel_files()
    texts = {path: path.read_text() for path in sources + headers}
    clones = re.search(r"target_clones\(([^)]*)\)", "".join(texts.values())).group(1)
    targets = [name.strip().strip('"') for name in clones.split(",")]
    runnable = [target for target in targets
                if target == "default" or target in _cpu_flags()]
    include = sysconfig.get_paths()["include"]
    modules = {}
    for target in runnable:
        attribute = "" if target == "default" else f'__attribute__((target("{target}")))'
        # Every file copied side by side, so that the sources include the copied header.
        directory = tmp_path / target
        directory.mkdir()
        for path, text in texts.items():
            directory.joinpath(path.name).write_text(
                text.replace(f"__attribute__((target_clones({clones})))", attribute))
        library = tmp_path / f"_kernels_{target}{sysconfig.get_config_var('EXT_SUFFIX')}"
        subprocess.run(["gcc", "-shared", "-fPIC", *_compile_args(), f"-I{include}",
                        *(str(directory / path.name) for path in sources), "-o",
                        str(library)], check=True)
        loader = importlib.machinery.ExtensionFileLoader("_kernels", str(library))
        spec = importlib.util.spec_from_file_location("_kernels", library, loader=loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        modules[target] = module
    assert len(modules) >= 2, f"only {list(modules)} of {targets} can run here"
    results = {target: _every_kernel(module) for target, module in modules.items()}
    reference = results.pop("default")
    for target, outputs in results.items():
        for name, expected in reference.items():
            for got, want in zip(outputs[name], expected, strict=True):
                np.testing.assert_array_equal(got, want, err_msg=f"{name} with {target}")


def _every_kernel(module):
    outputs = {}
    for dtype in DTYPES:
        rng = _rng()
        raw = (30 * rng.standard_normal((5, 301, 7))).astype(dtype)
        codes = rng.integers(0, 7, 301)
        out, losses = np.empty_like(raw), np.empty((5, 301), dtype)
        module.softmax_cross_entropy(raw, codes, out, losses)
        outputs["softmax", dtype] = (out, losses)
        Y = rng.integers(0, 2, (301, 7)).astype(dtype)
        out, losses = np.empty_like(raw), np.empty((5, 301), dtype)
        module.sigmoid_cross_entropy(raw, Y, out, losses)
        outputs["sigmoid", dtype] = (out, losses)
        p, g, m = (rng.standard_normal((4, 1003)).astype(dtype) for _ in range(3))
        v, v_max = (rng.random((4, 1003)).astype(dtype) for _ in range(2))
        module.adam(p, g, m, v, v_max, 0.9, 0.999, 0.01, 1e-8, 1e-9, 0.1,
                    np.array([1, 7, 50, 999]), True, 500, 0, 1003)
        outputs["adam", dtype] = (p, m, v, v_max)
        Z, delta = (rng.standard_normal((3, 77, 13)).astype(dtype) for _ in range(2))
        b, sums = rng.standard_normal((3, 13)).astype(dtype), np.zeros((3, 13), dtype)
        leaky, leaky_delta, leaky_sums = Z.copy(), delta.copy(), sums.copy()
        module.bias_relu(Z, b)
        module.relu_backprop(Z, delta, sums)
        outputs["relu", dtype] = (Z, delta, sums)
        module.bias_relu(leaky, b, 0.01)
        module.relu_backprop(leaky, leaky_delta, leaky_sums, 0.01)
        outputs["leaky relu", dtype] = (leaky, leaky_delta, leaky_sums)
        mish = (4 * rng.standard_normal((3, 77, 13))).astype(dtype)
        mish_slopes, mish_delta = np.empty_like(mish), delta.copy()
        mish_sums = np.zeros((3, 13), dtype)
        module.bias_mish(mish, b, mish_slopes)
        module.slope_backprop(mish_slopes, mish_delta, mish_sums)
        outputs["mish", dtype] = (mish, mish_slopes, mish_delta, mish_sums)
        y, x = (rng.standard_normal((3, 99)).astype(dtype) for _ in range(2))
        module.add_scaled(y, x, np.array([0.3, 0.0, 1.7]))
        outputs["add_scaled", dtype] = (y,)
        average = rng.standard_normal((3, 99)).astype(dtype)
        module.move_towards(average, x, np.array([0.3, 0.0, 1.0]))
        outputs["move_towards", dtype] = (average,)
        outputs["all_finite", dtype] = (np.array(module.all_finite(np.append(y, np.inf))),)
        U, w, b, V, c = _embedding_arrays(dtype, K=2, m=3, n=41)
        cosines, sines = np.empty((2, 3 * 16, 41), dtype), np.empty((2, 3 * 16, 41), dtype)
        features = np.empty((2, 41, 9), dtype)
        module.embed_forward(U, w, b, V, c, 0.1, cosines, sines, features)
        grads = [np.empty_like(x) for x in (w, b, V, c)]
        module.embed_backward(U, V, 0.1, cosines, sines, rng.standard_normal((2, 41, 9)).astype(
            dtype), *grads)
        outputs["embedding", dtype] = (cosines, sines, features, *grads)
        delta, W = rng.standard_normal((3, 37, 3)).astype(dtype), rng.standard_normal(
            (3, 23, 3)).astype(dtype)
        product = np.empty((3, 37, 23), dtype)
        module.narrow_product(delta, W, product)
        outputs["narrow_product", dtype] = (product,)
        W, G = (rng.standard_normal((3, 19, 27)).astype(dtype) for _ in range(2))
        scales = rng.standard_normal((3, 19)).astype(dtype)
        scaled, grad_W, grad_s = np.empty_like(W), np.empty_like(W), np.empty_like(scales)
        module.scale_rows(W, scales, scaled)
        module.scale_rows_backward(W, scales, G, grad_W, grad_s)
        outputs["scale_rows", dtype] = (scaled, grad_W, grad_s)
        U = (3 * rng.standard_normal((3, 41))).astype(dtype)
        edges = np.full((3, 9), np.inf, dtype)
        edges[:, :6] = np.sort(rng.standard_normal((3, 6)), axis=1)
        edges[2, 6:] = edges[2, 5] + np.arange(1, 4)  # a column of every bin
        V, c = (rng.standard_normal((2, 3, k)).astype(dtype) for k in (8 * 3, 3))
        bins, positions = np.empty((3, 41), np.int64), np.empty((3, 41), dtype)
        features = np.empty((2, 41, 9), dtype)
        module.piecewise_forward(U, edges, V, c, 3.0, bins, positions, features)
        grad_V, grad_c = np.empty_like(V), np.empty_like(c)
        module.piecewise_backward(bins, positions, 3.0, rng.standard_normal((2, 41, 9)).astype(
            dtype), grad_V, grad_c)
        outputs["piecewise", dtype] = (bins, positions, features, grad_V, grad_c)
    return outputs


def test_piecewise_kernels_refuse_what_they_cannot_take():
    U, V, c = np.zeros((2, 5)), np.zeros((1, 2, 3 * 2)), np.zeros((1, 2, 2))
    edges = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, np.inf, np.inf]])
    bins, positions, features = np.empty((2, 5), np.int64), np.empty((2, 5)), np.empty((1, 5, 4))
    kernels.piecewise_forward(U, edges, V, c, 1.0, bins, positions, features)
    with pytest.raises(ValueError, match="at least two finite edges"):
        kernels.piecewise_forward(U, np.array([[0.0, np.inf, np.inf, np.inf]] * 2), V, c, 1.0,
                                  bins, positions, features)
    with pytest.raises(ValueError, match="edges"):
        kernels.piecewise_forward(U, edges[:, :3], V, c, 1.0, bins, positions, features)
    with pytest.raises(ValueError, match="int64"):
        kernels.piecewise_forward(U, edges, V, c, 1.0, bins.astype(np.int32), positions,
                                  features)
    shared = np.empty(30)
    with pytest.raises(ValueError, match="share memory"):
        kernels.piecewise_forward(U, edges, V, c, 1.0, bins, shared[:10].reshape(2, 5),
                                  shared[5:25].reshape(1, 5, 4))
    bins[0, 0] = 3
    with pytest.raises(ValueError, match="not a bin"):
        kernels.piecewise_backward(bins, positions, 1.0, features, np.empty_like(V),
                                   np.empty_like(c))


@pytest.mark.parametrize("dtype", DTYPES)
def test_leaky_relu_and_its_backprop(dtype):
    rng = _rng()
    Z, b = rng.standard_normal((9, 5)).astype(dtype), rng.standard_normal(5).astype(dtype)
    x = Z + b
    expected = np.where(x < 0, dtype(0.01) * x, x)
    kernels.bias_relu(Z, b, 0.01)
    np.testing.assert_array_equal(Z, expected)
    delta = rng.standard_normal((9, 5)).astype(dtype)
    column_sums = np.full(5, np.nan, dtype=dtype)
    expected_delta = np.where(Z > 0, delta, dtype(0.01) * delta)
    kernels.relu_backprop(Z, delta, column_sums, 0.01)
    np.testing.assert_array_equal(delta, expected_delta)
    np.testing.assert_allclose(column_sums, expected_delta.sum(axis=0), rtol=RTOL[dtype])



# pi to the precision of numpy's long double (np.pi is only a double).
PI = np.longdouble("3.14159265358979323846264338327950288")


def _embedding_arrays(dtype, K=2, m=4, n=57, F=16, D=3, frequency=20.0):
    rng = _rng()
    U = (3 * rng.standard_normal((m, n))).astype(dtype)
    w = (frequency * rng.standard_normal((K, m, F))).astype(dtype)
    b = rng.uniform(-30, 30, (K, m, F)).astype(dtype)
    V = rng.standard_normal((K, m, F * D)).astype(dtype)
    c = rng.standard_normal((K, m, D)).astype(dtype)
    return U, w, b, V, c


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_kernels_match_the_equations(dtype):
    K, m, n, F, D, scale = 2, 4, 57, 16, 3, 0.1
    U, w, b, V, c = _embedding_arrays(dtype, K, m, n, F, D)
    cosines, sines = np.empty((K, m * F, n), dtype), np.empty((K, m * F, n), dtype)
    features = np.empty((K, n, m * D), dtype)
    kernels.embed_forward(U, w, b, V, c, scale, cosines, sines, features)
    # In extended precision from the float parameters: phases of every quadrant, and far.
    # A phase rounded to double is off by up to an ulp of its size, so the tolerance
    # grows with it.
    exact = [scale * x.astype(np.longdouble) for x in (w, b)]
    phases = (2 * PI * exact[0][:, :, None, :] * U.astype(np.longdouble)[None, :, :, None]
              + exact[1][:, :, None, :])
    tolerance = 4 * np.finfo(dtype).eps + 4 * np.finfo(np.float64).eps * np.abs(phases)
    by_frequency = (0, 1, 3, 2)  # (K, m, n, F) to the kernel's (K, m, F, n)
    for got, want in ((cosines, np.cos(phases)), (sines, np.sin(phases))):
        error = np.abs(got.reshape(K, m, F, n) - want.transpose(by_frequency))
        assert (error <= tolerance.transpose(by_frequency)).all(), error.max()
    # The features and the gradients from the cosines and sines the kernel kept.
    kept_cos, kept_sin = (x.astype(float).reshape(K, m, F, n).transpose(by_frequency)
                          for x in (cosines, sines))
    w64, b64, V64, c64 = (scale * x.astype(float) for x in (w, b, V, c))
    expected = np.einsum("kjif,kjfd->kijd", kept_cos, V64.reshape(K, m, F, D))
    expected += c64[:, None, :, :]
    np.testing.assert_allclose(features, expected.reshape(K, n, m * D), rtol=0,
                               atol=64 * np.finfo(dtype).eps)

    delta = _rng().standard_normal((K, n, m * D)).astype(dtype)
    grads = [np.empty_like(x) for x in (w, b, V, c)]
    kernels.embed_backward(U, V, scale, cosines, sines, delta, *grads)
    g = delta.astype(float).reshape(K, n, m, D)
    d_cos = np.einsum("kijd,kjfd->kjif", g, V64.reshape(K, m, F, D))
    d_phase = -kept_sin * d_cos
    expected = [
        scale * 2 * np.pi * np.einsum("kjif,ji->kjf", d_phase, U.astype(float)),
        scale * d_phase.sum(axis=2),
        scale * np.einsum("kjif,kijd->kjfd", kept_cos, g).reshape(K, m, F * D),
        scale * g.sum(axis=1),
    ]
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-10,
                                   atol=1e-3 if dtype == np.float32 else 1e-10)


def test_embedding_sincos_on_quadrant_edges_huge_phases_and_nan():
    # In turns: the kernel reduces the phase to the nearest quarter turn exactly.
    t = np.array([[0.0, 1 / 8, -1 / 8, 3 / 8, 1 / 2, -1 / 2, 0.4, -0.4, 1e6, -7e5 + 0.25,
                   1e6 + 0.3, 4e12, np.nan]])
    ones, zeros = np.ones((1, 1, 1)), np.zeros((1, 1, 1))
    cosines, sines = np.empty((1, 1, t.size)), np.empty((1, 1, t.size))
    # w = 1 with scale 1: the phases are 2 pi times the values.
    kernels.embed_forward(t, ones, zeros, ones, zeros, 1.0, cosines, sines,
                          np.empty((1, t.size, 1)))
    turns = t.astype(np.longdouble).ravel()[:11]
    phases = 2 * PI * (turns - np.round(turns))  # exact: a whole turn changes nothing
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(cosines.ravel()[:11], np.cos(phases), rtol=0, atol=1e-15)
        np.testing.assert_allclose(sines.ravel()[:11], np.sin(phases), rtol=0, atol=1e-15)
    assert np.abs(cosines.ravel()[11]) <= 1 and np.abs(sines.ravel()[11]) <= 1
    assert np.isnan(cosines.ravel()[12]) and np.isnan(sines.ravel()[12])


def test_embedding_kernels_take_interleaved_parameters_and_refuse_overlaps():
    # The parameters and gradients are parts of each run's row of one (K, n) buffer.
    K, m, n, F, D = 3, 2, 5, 4, 2
    U = _rng().standard_normal((m, n))
    sizes = [m * F, m * F, m * F * D, m * D]
    buffer = _rng().standard_normal((K, sum(sizes)))
    parts = np.split(buffer, np.cumsum(sizes)[:-1], axis=1)
    w, b, V, c = (part.reshape(K, m, -1) for part in parts)
    cosines, sines = np.empty((K, m * F, n)), np.empty((K, m * F, n))
    kernels.embed_forward(U, w, b, V, c, 0.1, cosines, sines, np.empty((K, n, m * D)))
    with pytest.raises(ValueError, match="must not share memory"):
        kernels.embed_forward(U, w, b, V, c, 0.1, cosines, cosines, np.empty((K, n, m * D)))
    grad = np.zeros_like(buffer)
    grads = [part.reshape(K, m, -1) for part in np.split(grad, np.cumsum(sizes)[:-1], axis=1)]
    kernels.embed_backward(U, V, 0.1, cosines, sines, np.ones((K, n, m * D)), *grads)
    assert np.all(grad != 0)
    with pytest.raises(ValueError, match="must not share memory"):
        kernels.embed_backward(U, V, 0.1, cosines, sines, np.ones((K, n, m * D)),
                               grads[0], grads[0], grads[2], grads[3])
    with pytest.raises(ValueError, match="F <= 64"):
        kernels.embed_forward(U, np.ones((K, m, 65)), np.ones((K, m, 65)),
                              np.ones((K, m, 65 * D)), c, 0.1, np.empty((K, m * 65, n)),
                              np.empty((K, m * 65, n)), np.empty((K, n, m * D)))
