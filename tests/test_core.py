"""The engine: graphs, backward, accumulation, memory, dtypes, errors, numerical stability."""
import gc
import os
import time
import warnings
import weakref

import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F


def f64(x, requires_grad=True):
    return zd.tensor(x, dtype=np.float64, requires_grad=requires_grad)


# ----- the book's shopping graphs ---------------------------------------------------------
def test_apple_shopping_graph():
    apple, apple_num, tax = f64(100.0), f64(2.0), f64(1.1)
    apple_price = apple * apple_num
    price = apple_price * tax
    assert price.item() == pytest.approx(220.0)
    price.backward()
    assert apple.grad == pytest.approx(2.2)
    assert apple_num.grad == pytest.approx(110.0)
    assert tax.grad == pytest.approx(200.0)
    for t in (apple, apple_num, tax):  # 0-d gradients are arrays too, not NumPy scalars
        assert type(t.grad) is np.ndarray and t.grad.shape == () and t.grad.dtype == np.float64


def test_apple_and_orange_shopping_graph():
    apple, apple_num = f64(100.0), f64(2.0)
    orange, orange_num = f64(150.0), f64(3.0)
    tax = f64(1.1)
    all_price = apple * apple_num + orange * orange_num
    price = all_price * tax
    assert price.item() == pytest.approx(715.0)
    price.backward()
    assert apple.grad == pytest.approx(2.2)
    assert apple_num.grad == pytest.approx(110.0)
    assert orange.grad == pytest.approx(3.3)
    assert orange_num.grad == pytest.approx(165.0)
    assert tax.grad == pytest.approx(650.0)


# ----- backward mechanics ------------------------------------------------------------------
def test_deep_chain_has_no_recursion_limit():
    x = f64(1.0)
    y = x
    for i in range(20_000):
        y = y * 1.0001 if i % 2 else y + 0.5
    y.backward()
    assert y.item() == pytest.approx(sum(0.5 * 1.0001**k for k in range(1, 10_001)) + 1.0001**10_000)
    assert x.grad == pytest.approx(1.0001**10_000)


def test_gradient_accumulates_within_a_graph_and_across_calls():
    x = f64([1.0, -2.0, 3.0])
    y = (x * x + x).sum()  # x used three times
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)
    y.backward()  # accumulates: twice the gradient
    np.testing.assert_allclose(x.grad, 2 * (2 * x.data + 1))
    x.zero_grad()
    assert x.grad is None


def test_second_backward_needs_retain_graph():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()

    z = (x * 3).sum()
    x.zero_grad()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])


def test_broadcasting_is_undone_in_gradients():
    a = f64(np.ones((3, 1)))
    b = f64(np.ones(4))
    c = f64(np.ones((2, 1, 1)))
    (a * b + c).sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape and c.grad.shape == c.shape
    np.testing.assert_allclose(a.grad, np.full((3, 1), 8.0))
    np.testing.assert_allclose(b.grad, np.full(4, 6.0))
    np.testing.assert_allclose(c.grad, np.full((2, 1, 1), 12.0))


def test_leaf_gradients_are_own_writable_arrays():
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    (a + b).sum().backward()  # Add passes one (broadcast, read-only) gradient to both
    assert a.grad is not b.grad
    a.grad *= 2  # optimizers and clipping update .grad in place
    np.testing.assert_allclose(a.grad, [2.0, 2.0])
    np.testing.assert_allclose(b.grad, [1.0, 1.0])

    g = np.ones(2)
    c = f64([1.0, 2.0])
    (c + 0).backward(g)
    assert c.grad is not g


def test_functions_hold_outputs_by_weakref_and_graphs_are_freed():
    x = f64(np.ones((100, 100)))
    y = x * 2
    z = y * 3  # noqa: F841
    ref_y, ref_data = weakref.ref(y), weakref.ref(y.data)
    fn = weakref.ref(y.creator)
    del y
    assert ref_y() is not None  # z's creator keeps its input alive
    del z
    gc.collect()
    assert ref_y() is None and ref_data() is None and fn() is None

    # No reference cycles: freed by reference counting alone, without the collector.
    gc.disable()
    try:
        w = (x * 2) + 1
        ref_w = weakref.ref(w.creator)
        del w
        assert ref_w() is None
    finally:
        gc.enable()


def test_backward_frees_the_graph():
    x = f64([1.0, 2.0])
    y = x * 2
    loss = (y * y).sum()
    fn = y.creator
    loss.backward()
    assert fn.inputs is None and not hasattr(fn, "x0")


def test_no_grad_records_nothing():
    x = f64([1.0, 2.0])
    with zd.no_grad():
        y = x * 2 + 1
        z = F.relu(y)
    assert y.creator is None and not y.requires_grad
    assert z.creator is None and not z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.sum().backward()
    assert zd.is_grad_enabled()


def test_indexing_is_differentiable():
    x = f64(np.arange(6.0).reshape(2, 3))
    (x[1, 1:] * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0, 0], [0, 2, 2]])
    x.zero_grad()
    x[[0, 0, 1]].sum().backward()  # repeated rows add up
    np.testing.assert_allclose(x.grad, [[2, 2, 2], [1, 1, 1]])


# ----- dtypes -------------------------------------------------------------------------------
def test_float64_input_becomes_float32_by_default():
    t = zd.tensor(np.ones(3, dtype=np.float64))
    assert t.dtype == np.float32
    assert zd.tensor([1.0, 2.0]).dtype == np.float32
    assert zd.tensor(np.ones(3), dtype=np.float64).dtype == np.float64
    with zd.default_dtype(np.float64):
        assert zd.tensor([1.0]).dtype == np.float64
    assert zd.tensor([1, 2]).dtype.kind == "i"  # integers stay integers


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t * 2.0,
        lambda t: 2.0 * t,
        lambda t: t / 3,
        lambda t: 1 - t,
        lambda t: t**2,
        lambda t: t + np.float64(1.5),
        lambda t: t * np.array([1.0, 2.0, 3.0]),
        lambda t: F.sigmoid(t) * 0.5,
        lambda t: F.softmax_cross_entropy(t.reshape(1, 3), np.array([1])),
        lambda t: F.mean_squared_error(t, np.zeros(3)),
        lambda t: F.gelu(t),
    ],
)
def test_scalar_and_array_operands_keep_float32(op):
    t = zd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = op(t)
    assert y.dtype == np.float32
    y.sum().backward()
    assert t.grad.dtype == np.float32


def test_int_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match=r"requires_grad needs a floating tensor.*dtype=np\.float32"):
        zd.tensor([1, 2, 3], requires_grad=True)


def test_backward_of_non_scalar_says_what_to_do():
    y = f64([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"not a scalar.*grad=.*loss\.sum\(\)"):
        y.backward()


def test_matmul_shape_error_names_both_shapes():
    x = zd.tensor(np.zeros((100, 784)))
    W = zd.tensor(np.zeros((100, 10)))
    with pytest.raises(ValueError) as e:
        x @ W
    assert "matmul: cannot multiply (100, 784) by (100, 10)" in str(e.value)


def test_comparisons_return_plain_boolean_arrays():
    t = zd.tensor([-1.0, 0.0, 2.0])
    for r in (t > 0, t >= 0, t < 0, t <= 0, t == 0, t != 0, t > zd.tensor([0.0, 0.0, 0.0])):
        assert type(r) is np.ndarray and r.dtype == bool
    np.testing.assert_array_equal(t > 0, [False, False, True])


# ----- numerical stability ------------------------------------------------------------------
@pytest.fixture
def strict_fp():
    """Overflow, invalid operations and division by zero raise; so does any warning.
    (Underflow to 0, as exp(-1e4), is the right answer and stays quiet.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield


LOGITS = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [3.0, 1.0, -2.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name",
    ["softmax", "log_softmax", "softmax_cross_entropy", "softmax_cross_entropy_onehot", "bce_with_logits", "sigmoid"],
)
def test_extreme_logits_stay_finite(strict_fp, name, dtype):
    x = zd.tensor(LOGITS, dtype=dtype, requires_grad=True)
    t = np.array([1, 0, 0])
    y = {
        "softmax": lambda: F.softmax(x),
        "log_softmax": lambda: F.log_softmax(x),
        "softmax_cross_entropy": lambda: F.softmax_cross_entropy(x, t),
        "softmax_cross_entropy_onehot": lambda: F.softmax_cross_entropy(x, np.eye(3)[t]),
        "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(x, (LOGITS > 0) * 1.0),
        "sigmoid": lambda: F.sigmoid(x),
    }[name]()
    assert np.all(np.isfinite(y.data))
    y.backward(np.ones(y.shape, dtype=dtype))
    assert np.all(np.isfinite(x.grad))


def test_extreme_logit_values_are_right(strict_fp):
    x = f64(LOGITS)
    np.testing.assert_allclose(F.softmax(x).data[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(F.log_softmax(x).data[0], [0.0, -2e4, -1e4])
    loss = F.softmax_cross_entropy(x[:2], np.array([1, 2]))  # -log p = 2e4 and 0
    assert loss.item() == pytest.approx(1e4)
    bce = F.binary_cross_entropy_with_logits(f64([1e4, -1e4]), np.array([0.0, 0.0]))
    assert bce.item() == pytest.approx(5e3)


def test_sigmoid_of_large_negative_input_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = F.sigmoid(zd.tensor([-1000.0, 1000.0, -40.0], dtype=np.float64))
    assert 0.0 <= y.data[0] < 1e-300 and y.data[1] == 1.0
    assert y.data[2] == pytest.approx(np.exp(-40.0), rel=1e-12)  # full relative accuracy in the tail


def test_cross_entropy_error_on_probabilities_with_zeros_is_finite(strict_fp):
    y = zd.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], requires_grad=True)
    loss = F.cross_entropy_error(y, np.array([0, 2]))
    assert np.isfinite(loss.item())
    assert loss.item() == pytest.approx(-np.log(1e-7), rel=1e-5)
    loss.backward()
    assert np.all(np.isfinite(y.grad))


# ----- memory --------------------------------------------------------------------------------
def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_training_loop_memory_stays_flat():
    rng = np.random.default_rng(0)
    sizes = [20, 32, 32, 3]
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        params.append(zd.tensor(rng.standard_normal((i, o)) * np.sqrt(2 / i), requires_grad=True))
        params.append(zd.tensor(np.zeros(o), requires_grad=True))
    X = rng.standard_normal((256, 20)).astype(np.float32)
    T = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)
    lr = 0.05
    start = time.perf_counter()
    first_losses, rss_1000 = [], None
    for step in range(10_000):
        idx = (step * 16) % 256
        x, t = X[idx : idx + 16], T[idx : idx + 16]
        W1, b1, W2, b2, W3, b3 = params
        h = F.relu(F.linear(x, W1, b1))
        h = F.relu(F.linear(h, W2, b2))
        loss = F.softmax_cross_entropy(F.linear(h, W3, b3), t)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        if step < 16:
            first_losses.append(loss.item())
        if step == 1_000:
            gc.collect()
            rss_1000 = _rss_bytes()
    gc.collect()
    growth = _rss_bytes() - rss_1000
    assert growth < 5 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MiB"
    assert loss.item() < np.mean(first_losses) / 2  # it learnt
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in params)
    assert time.perf_counter() - start < 30
