"""Values of activations, losses, normalisation, embedding and metrics against closed forms;
graph export; error messages."""
import math
import os
import shutil
import stat

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
from zerodl.utils import plot_graph, to_dot

RNG = np.random.default_rng(0)


def f64(x, requires_grad=False):
    return zd.tensor(x, dtype=np.float64, requires_grad=requires_grad)


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ----- activations ---------------------------------------------------------------------------
def test_step_relu_leaky_relu_identity_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    y = F.step(f64(x))
    np.testing.assert_array_equal(y.data, [0, 0, 0, 1, 1])
    assert y.dtype == np.float64 and not y.requires_grad
    assert F.step(np.array([-1, 2])).data.tolist() == [0, 1]  # integer input, integer output
    np.testing.assert_array_equal(F.relu(f64(x)).data, [0, 0, 0, 0.5, 3])
    np.testing.assert_allclose(F.leaky_relu(f64(x)).data, [-0.02, -0.005, 0, 0.5, 3])
    np.testing.assert_allclose(F.leaky_relu(f64(x), slope=0.2).data, [-0.4, -0.1, 0, 0.5, 3])
    t = f64(x)
    assert F.identity(t) is t


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_of_zero_dim_tensors(name, dtype):
    x = zd.tensor(-0.7, dtype=dtype, requires_grad=True)
    y = getattr(F, name)(x)
    assert type(y.data) is np.ndarray and y.shape == () and y.dtype == dtype
    y.backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == dtype
    assert F.step(x).data.shape == ()


def test_relu_gradient_is_the_mask():
    x = f64([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    F.relu(x).backward(np.array([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_array_equal(x.grad, [0, 20, 0, 40])


def test_sigmoid_and_tanh_values():
    x = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(F.sigmoid(f64(x)).data, 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(F.tanh(f64(x)).data, np.tanh(x))
    assert F.sigmoid(zd.tensor([0.0])).data[0] == 0.5


def test_normal_cdf_matches_math_erfc_in_both_tails():
    """GELU's Phi(x) = erfc(-x / sqrt(2)) / 2, relative accuracy kept far into either tail."""
    from zerodl.functions.activations import _normal_cdf

    x = np.concatenate([np.linspace(-30, 8, 3801), np.logspace(-12, 1, 200), -np.logspace(-12, 1, 200)])
    ref = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    assert np.max(np.abs(_normal_cdf(x) - ref) / ref) < 3e-13  # exp(-x^2/2) costs ~x^2 ulps deep in the tail
    assert _normal_cdf(np.array([np.inf, -np.inf])).tolist() == [1.0, 0.0]


def test_gelu_is_the_exact_erf_form():
    x = np.concatenate([np.linspace(-10, 10, 401), [0.0, 1e-8, -1e-8]])
    ref = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(F.gelu(f64(x)).data, ref, rtol=1e-13, atol=1e-15)
    y32 = F.gelu(zd.tensor(x))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.data, ref, rtol=1e-6, atol=1e-6)
    # the derivative: Phi(x) + x phi(x)
    t = f64(x, requires_grad=True)
    F.gelu(t).sum().backward()
    ref_g = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for v in x])
    np.testing.assert_allclose(t.grad, ref_g, rtol=1e-12, atol=1e-15)


def test_softmax_and_log_softmax_values():
    x = RNG.standard_normal((4, 5))
    y = F.softmax(f64(x)).data
    np.testing.assert_allclose(y.sum(axis=-1), np.ones(4))
    np.testing.assert_allclose(y, np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(F.softmax(f64(x), axis=0).data, np_softmax(x, axis=0))
    np.testing.assert_allclose(F.log_softmax(f64(x)).data, np.log(np_softmax(x)))
    np.testing.assert_allclose(F.log_softmax(f64(x), axis=0).data, np.log(np_softmax(x, axis=0)))
    with pytest.raises(ValueError, match=r"softmax: axis 2 is out of range for an input of shape \(4, 5\)"):
        F.softmax(f64(x), axis=2)


# ----- losses --------------------------------------------------------------------------------
def test_softmax_cross_entropy_value_and_gradient():
    x = RNG.standard_normal((6, 4))
    t = np.array([0, 3, 1, 1, 2, 0])
    logits = f64(x, requires_grad=True)
    loss = F.softmax_cross_entropy(logits, t)
    p = np_softmax(x)
    assert loss.item() == pytest.approx(-np.mean(np.log(p[np.arange(6), t])), rel=1e-12)
    loss.backward()
    onehot = np.eye(4)[t]
    np.testing.assert_allclose(logits.grad, (F.softmax(f64(x)).data - onehot) / 6, rtol=1e-12, atol=1e-16)

    # one-hot targets give the same loss and gradient
    logits2 = f64(x, requires_grad=True)
    loss2 = F.softmax_cross_entropy(logits2, onehot)
    loss2.backward()
    assert loss2.item() == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(logits2.grad, logits.grad, rtol=1e-12, atol=1e-16)


def test_softmax_cross_entropy_over_sequences_averages_over_n_times_t():
    x = RNG.standard_normal((2, 3, 5))
    t = np.array([[0, 4, 2], [1, 1, 3]])
    loss = F.softmax_cross_entropy(f64(x), t)
    flat = F.softmax_cross_entropy(f64(x.reshape(6, 5)), t.reshape(6))
    assert loss.item() == pytest.approx(flat.item(), rel=1e-12)


def test_cross_entropy_error_is_the_books():
    y = np.array([[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]])
    t = np.array([[0, 0, 1, 0, 0, 0, 0, 0, 0, 0]])
    # the book's example: 0.510825457099338
    assert F.cross_entropy_error(f64(y), t).item() == pytest.approx(0.510825457099338, rel=1e-6)
    assert F.cross_entropy_error(f64(y[0]), np.array(2)).item() == pytest.approx(0.510825457099338, rel=1e-6)
    Y = RNG.uniform(0.01, 1, (5, 4))
    T = np.array([0, 3, 2, 2, 1])
    expected = -np.sum(np.log(Y[np.arange(5), T] + 1e-7)) / 5
    assert F.cross_entropy_error(f64(Y), T).item() == pytest.approx(expected, rel=1e-12)
    assert F.cross_entropy_error(f64(Y), np.eye(4)[T]).item() == pytest.approx(expected, rel=1e-12)
    yt = f64(Y, requires_grad=True)
    F.cross_entropy_error(yt, T).backward()
    g = np.zeros_like(Y)
    g[np.arange(5), T] = -1 / (Y[np.arange(5), T] + 1e-7) / 5
    np.testing.assert_allclose(yt.grad, g)


def test_elementwise_losses_match_formulas():
    y, t = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    assert F.mean_squared_error(f64(y), t).item() == pytest.approx(np.mean((y - t) ** 2))
    assert F.sum_squared_error(f64(y), t).item() == pytest.approx(0.5 * np.sum((y - t) ** 2))
    assert F.mean_absolute_error(f64(y), t).item() == pytest.approx(np.mean(np.abs(y - t)))
    z, p = RNG.standard_normal((3, 4)) * 3, RNG.uniform(0, 1, (3, 4))
    s = 1 / (1 + np.exp(-z))
    bce = -np.mean(p * np.log(s) + (1 - p) * np.log(1 - s))
    assert F.binary_cross_entropy_with_logits(f64(z), p).item() == pytest.approx(bce, rel=1e-12)
    zt = f64(z, requires_grad=True)
    F.binary_cross_entropy_with_logits(zt, p).backward()
    np.testing.assert_allclose(zt.grad, (s - p) / 12, rtol=1e-12)
    # the book's sum_squared_error example: 0.0975
    yb = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    tb = np.eye(10)[2]
    assert F.sum_squared_error(f64(yb), tb).item() == pytest.approx(0.0975)


def test_mse_passes_gradient_to_a_target_that_requires_it():
    y, t = f64([1.0, 2.0], requires_grad=True), f64([0.0, 4.0], requires_grad=True)
    F.mean_squared_error(y, t).backward()
    np.testing.assert_allclose(y.grad, [1.0, -2.0])
    np.testing.assert_allclose(t.grad, [-1.0, 2.0])


@pytest.mark.parametrize(
    "loss",
    ["mean_squared_error", "sum_squared_error", "mean_absolute_error", "binary_cross_entropy_with_logits"],
)
def test_elementwise_loss_shape_mismatch_names_loss_and_shapes(loss):
    with pytest.raises(ValueError, match=rf"{loss}: prediction of shape \(4, 1\) and target of shape \(4,\)"):
        getattr(F, loss)(zd.tensor(np.zeros((4, 1))), np.zeros(4))


def test_class_loss_errors():
    x = zd.tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: scores of shape \(4, 3\) and targets of shape \(5,\)"):
        F.softmax_cross_entropy(x, np.zeros(5, dtype=int))
    with pytest.raises(IndexError, match=r"class index 3 is out of range for C=3"):
        F.softmax_cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(IndexError, match=r"softmax_cross_entropy: class index -1 is out of range"):
        F.softmax_cross_entropy(x, np.array([0, -1, 2, 2]))  # never wrapped around to the last class
    with pytest.raises(IndexError, match=r"cross_entropy_error: class index -1"):
        F.cross_entropy_error(x, np.array([0, -1, 2, 2]))


def test_linear_shape_error():
    with pytest.raises(ValueError, match=r"linear: cannot multiply input \(2, 3\) by weight \(4, 5\)"):
        F.linear(zd.tensor(np.zeros((2, 3))), zd.tensor(np.zeros((4, 5))))


# ----- dropout ------------------------------------------------------------------------------
def test_dropout_keeps_expectation_and_scales_kept_entries():
    zd.manual_seed(0)
    x = zd.tensor(np.ones(200_000))
    y = F.dropout(x, p=0.3).data
    assert y.dtype == np.float32
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.01


def test_dropout_mask_is_reproducible_and_used_in_backward():
    x = RNG.standard_normal((8, 16))
    zd.manual_seed(123)
    a = F.dropout(f64(x), p=0.5).data
    zd.manual_seed(123)
    t = f64(x, requires_grad=True)
    b = F.dropout(t, p=0.5)
    np.testing.assert_array_equal(a, b.data)
    c = F.dropout(f64(x), p=0.5).data  # the generator moved on
    assert not np.array_equal(a, c)
    b.backward(np.ones(x.shape))
    np.testing.assert_allclose(t.grad, (a != 0) * 2.0)


def test_dropout_eval_and_edge_probabilities():
    t = zd.tensor(np.ones((3, 4)), requires_grad=True)
    assert F.dropout(t, p=0.5, training=False) is t
    assert F.dropout(t, p=0.0) is t
    assert np.all(F.dropout(t, p=1.0).data == 0)
    with pytest.raises(ValueError, match="dropout: p must be"):
        F.dropout(t, p=1.5)


# ----- batch norm ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 5)])
def test_batch_norm_training_output_and_running_stats(shape):
    x = RNG.standard_normal(shape) * 3 + 2
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    rm0, rv0 = RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)
    rm, rv = rm0.copy(), zd.tensor(rv0.copy(), dtype=np.float64)  # an array and a tensor: both in place
    rv_data = rv.data
    y = F.batch_norm(f64(x), gamma, beta, rm, rv, training=True, momentum=0.1, eps=1e-5).data
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5)
    np.testing.assert_allclose(y, gamma.reshape(bshape) * xhat + beta.reshape(bshape), rtol=1e-12, atol=1e-12)
    n = x.size // 3
    # PyTorch: running = (1 - momentum) * running + momentum * stat, variance unbiased
    np.testing.assert_allclose(rm, 0.9 * rm0 + 0.1 * mean)
    np.testing.assert_allclose(rv.data, 0.9 * rv0 + 0.1 * var * n / (n - 1))
    assert rv.data is rv_data

    # evaluation uses the running statistics
    ye = F.batch_norm(f64(x), gamma, beta, rm, rv, training=False).data
    expected = (x - rm.reshape(bshape)) / np.sqrt(rv.data.reshape(bshape) + 1e-5) * gamma.reshape(bshape) + beta.reshape(bshape)
    np.testing.assert_allclose(ye, expected, rtol=1e-12)


def test_batch_norm_matches_torch_formulas_in_float32():
    x = zd.tensor(RNG.standard_normal((16, 4)))
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    y = F.batch_norm(x, np.ones(4, np.float32), np.zeros(4, np.float32), rm, rv, True)
    assert y.dtype == np.float32 and rm.dtype == np.float32
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(y.data.var(axis=0), 1, atol=1e-3)


def test_batch_norm_errors():
    x = zd.tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"batch_norm: input of shape \(4, 3\) has C=3 channels but gamma has shape \(4,\)"):
        F.batch_norm(x, np.ones(4), np.zeros(3), None, None, True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(zd.tensor(np.zeros((1, 3))), np.ones(3), np.zeros(3), None, None, True)
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(x, np.ones(3), np.zeros(3), None, None, False)


# ----- embedding -----------------------------------------------------------------------------
def test_embedding_lookup_and_scatter_add_gradient():
    W = f64(RNG.standard_normal((6, 3)), requires_grad=True)
    ids = np.array([[1, 5, 1], [0, 1, 4]])
    y = F.embedding(ids, W)
    assert y.shape == (2, 3, 3)
    np.testing.assert_array_equal(y.data, W.data[ids])
    gy = RNG.standard_normal((2, 3, 3))
    y.backward(gy)
    expected = np.zeros((6, 3))
    np.add.at(expected, ids.ravel(), gy.reshape(-1, 3))
    np.testing.assert_allclose(W.grad, expected, rtol=1e-14)
    # ids as a tensor, no repeats, and a scalar id
    W.zero_grad()
    F.embedding(zd.tensor(np.array([3, 2])), W).sum().backward()
    np.testing.assert_array_equal(W.grad.sum(axis=1), [0, 0, 3, 3, 0, 0])
    assert F.embedding(np.array(2), W).shape == (3,)


def test_embedding_errors():
    W = zd.tensor(np.zeros((10, 4)))
    with pytest.raises(IndexError, match=r"embedding: id 10 is out of range for a table of V=10 rows"):
        F.embedding(np.array([1, 10]), W)
    with pytest.raises(IndexError, match=r"id -1 is out of range"):
        F.embedding(np.array([-1]), W)
    with pytest.raises(TypeError, match="embedding: ids must be integers"):
        F.embedding(np.array([1.0]), W)


# ----- accuracy -------------------------------------------------------------------------------
def test_accuracy_values():
    scores = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    labels = np.array([1, 0, 1, 1])
    acc = F.accuracy(scores, labels)
    assert type(acc) is float and acc == 0.75
    assert F.accuracy(zd.tensor(scores), np.eye(3)[labels]) == 0.75  # one-hot targets
    assert F.accuracy(np.array([1, 0, 2, 1]), labels) == 0.75  # labels
    assert F.accuracy(np.array([0.9, 0.2, 0.4]), np.array([1, 0, 1])) == pytest.approx(2 / 3)  # probabilities
    with pytest.raises(ValueError, match=r"accuracy: predictions of shape \(4,\) and targets of shape \(3,\)"):
        F.accuracy(scores, labels[:3])


# ----- graph export ---------------------------------------------------------------------------
def _small_graph():
    x = zd.tensor(np.ones((2, 3)), requires_grad=True)
    x.name = "x"
    W = zd.tensor(np.ones((3, 4)), requires_grad=True)
    W.name = "W"
    loss = F.softmax_cross_entropy(F.relu(x @ W), np.array([0, 1]))
    loss.name = "loss"
    return loss


def test_to_dot_lists_ops_and_tensors():
    loss = _small_graph()
    dot = to_dot(loss)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for text in ("MatMul", "ReLU", "SoftmaxCrossEntropy", "shape=box", "shape=ellipse", "x\\n(2, 3) float32", "W\\n(3, 4) float32", "loss"):
        assert text in dot, text
    assert dot.count("->") == 7  # x, W -> MatMul -> h -> ReLU -> r -> SoftmaxCrossEntropy -> loss
    loss.backward()
    assert "graph freed" in to_dot(loss)


def test_plot_graph_without_dot_says_how_to_install(monkeypatch, tmp_path):
    import zerodl.utils.graph as graph

    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"apt-get install graphviz.*to_dot"):
        plot_graph(_small_graph(), tmp_path / "g.png")


def test_plot_graph_runs_dot(monkeypatch, tmp_path):
    # A stand-in for Graphviz's dot: writes the format and its input to the -o file.
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$1" > "$3"; cat >> "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    out = tmp_path / "graph.svg"
    assert plot_graph(_small_graph(), out) == out
    text = out.read_text()
    assert text.startswith("-Tsvg\n") and "MatMul" in text
    plot_graph(_small_graph(), tmp_path / "graph.dot")
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match="unknown image format"):
        plot_graph(_small_graph(), tmp_path / "graph.bmp")


# ----- NumPy-scalar hyper-parameters must not upcast float32 (NEP 50) ------------------------
@pytest.mark.parametrize(
    "op",
    [
        lambda x: F.clip(x, np.float64(-0.5), np.float64(0.5)),
        lambda x: F.clip(x, None, np.float64(0.5)),
        lambda x: F.leaky_relu(x, np.float64(0.1)),
        lambda x: F.leaky_relu(x, np.float64(2.0)),
        lambda x: F.batch_norm(x, None, None, np.zeros(3), np.ones(3), False, eps=np.float64(1e-5)),
        lambda x: F.batch_norm(x, None, None, None, None, True, eps=np.float64(1e-5)),
    ],
    ids=["clip", "clip_hi_only", "leaky_relu", "leaky_relu_steep", "batch_norm_eval", "batch_norm_train"],
)
def test_numpy_float64_hyper_parameters_keep_float32(op):
    x = zd.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    h = x * 1.0  # a non-leaf: its gradient is what flows on upstream
    h.retain_grad()
    y = op(h)
    y.sum().backward()
    assert y.dtype == np.float32
    assert h.grad.dtype == np.float32


# ----- bad input: an error that names the op and the shapes ----------------------------------
def _t(*shape):
    return zd.tensor(np.ones(shape), requires_grad=True)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: _t(2, 3, 4) @ _t(3, 4, 5), r"matmul: cannot multiply \(2, 3, 4\) by \(3, 4, 5\)"),
        (lambda: F.linear(_t(), _t(3, 2)), r"linear: .*input \(\).*weight \(3, 2\)"),
        (lambda: _t(2, 3) ** _t(4), r"pow: shapes \(2, 3\) and \(4,\)"),
        (lambda: F.sum_to(_t(2, 3), (4,)), r"sum_to: cannot sum \(2, 3\) down to \(4,\)"),
        (lambda: F.sum_to(_t(2, 3), (1, 2, 3)), r"sum_to: cannot sum \(2, 3\) down to \(1, 2, 3\)"),
        (lambda: _t(2, 3).sum(axis=2), r"sum: axis 2 is out of range for an input of shape \(2, 3\)"),
        (lambda: _t(2, 3).mean(axis=(0, -3)), r"mean: axis \(0, -3\) is out of range for an input of shape \(2, 3\)"),
        (lambda: _t(2, 3).max(axis=5), r"max: axis 5 is out of range"),
        (lambda: F.where(np.ones((2, 2), bool), _t(3), _t(2)), r"where: .*\(2, 2\).*\(3,\).*\(2,\)"),
        (lambda: F.concat([]), r"concat: expected at least one tensor"),
        (lambda: F.stack([]), r"stack: expected at least one tensor"),
    ],
    ids=["matmul", "linear", "pow", "sum_to", "sum_to_more_dims", "sum", "mean", "max", "where", "concat", "stack"],
)
def test_bad_input_errors_name_the_op_and_shapes(call, match):
    with pytest.raises((ValueError, IndexError), match=match):
        call()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_plot_graph_renders_the_apple_graph(tmp_path):
    apple = zd.tensor(100.0, requires_grad=True)
    apple.name = "apple"
    price = apple * 2.0 * 1.1
    path = plot_graph(price, str(tmp_path / "apple.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    svg = plot_graph(price, str(tmp_path / "apple.svg"))
    text = open(svg, encoding="utf-8").read()
    assert "<svg" in text and "apple" in text and "Mul" in text
