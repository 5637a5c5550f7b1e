"""Property-based tests (hypothesis): the ops against NumPy in float64, on random shapes,
broadcasting, axes and dtypes, forward and backward (closed-form gradients), and impossible
shapes refused with the op's name. Thousands of cases in a few seconds in all.
"""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import zerodl as zd  # noqa: E402
import zerodl.functions as F  # noqa: E402

DTYPES = st.sampled_from([np.float32, np.float64])
FAST = settings(max_examples=150, deadline=None, derandomize=True)


def _tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-11}


def _close(got, want, dtype, what):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, err_msg=what, **_tol(dtype))


def _sum_to(g, shape):
    """NumPy reference: reduce a broadcast gradient back to ``shape``."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _arrays(draw, dtype, shape, lo=-3.0, hi=3.0, away_from_zero=0.0, unique=False):
    a = draw(hnp.arrays(np.float64, shape, unique=unique,
                        elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False)))
    if away_from_zero:
        a = np.where(np.abs(a) < away_from_zero, np.where(a < 0, -away_from_zero, away_from_zero), a)
    return a.astype(dtype)


def _leaf(a):
    return zd.tensor(a, dtype=a.dtype, requires_grad=True)


# ----------------------------------------------------------------------------- binary, broadcasting
BINARY = {
    "add": (F.add, lambda a, b: a + b, lambda g, a, b: (g, g)),
    "sub": (F.sub, lambda a, b: a - b, lambda g, a, b: (g, -g)),
    "mul": (F.mul, lambda a, b: a * b, lambda g, a, b: (g * b, g * a)),
    "div": (F.div, lambda a, b: a / b, lambda g, a, b: (g / b, -g * a / b ** 2)),
}


@FAST
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)), da=DTYPES, db=DTYPES,
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
def test_binary_ops_broadcast_as_numpy(data, op, da, db, shapes):
    fn, ref, grads = BINARY[op]
    sa, sb = shapes.input_shapes
    a = _arrays(data.draw, da, sa)
    b = _arrays(data.draw, db, sb, away_from_zero=0.5 if op == "div" else 0.0)
    ta, tb = _leaf(a), _leaf(b)
    out = fn(ta, tb)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    low = np.float32 if np.float32 in (da, db) else np.float64  # the tolerance of the coarser input
    assert out.shape == shapes.result_shape and out.dtype == np.result_type(da, db)
    _close(out.data, ref(a64, b64), low, f"{op} forward")
    g = _arrays(data.draw, np.float64, shapes.result_shape)
    out.backward(g.astype(out.dtype))
    want_a, want_b = (_sum_to(np.broadcast_to(w, shapes.result_shape), s)
                      for w, s in zip(grads(g, a64, b64), (sa, sb)))
    assert ta.grad.shape == sa and tb.grad.shape == sb
    assert ta.grad.dtype == da and tb.grad.dtype == db  # each gradient in its input's dtype
    _close(ta.grad, want_a.reshape(sa), low, f"{op} grad a")
    _close(tb.grad, want_b.reshape(sb), low, f"{op} grad b")


@settings(max_examples=100, deadline=None, derandomize=True)
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)),
       sa=hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
       sb=hnp.array_shapes(min_dims=1, max_dims=3, max_side=5))
def test_shapes_that_do_not_broadcast_are_refused_by_name(data, op, sa, sb):
    try:
        np.broadcast_shapes(sa, sb)
        hypothesis.assume(False)
    except ValueError:
        pass
    with pytest.raises(ValueError) as e:
        BINARY[op][0](zd.tensor(np.ones(sa)), zd.tensor(np.ones(sb)))
    msg = str(e.value)
    assert msg.startswith(op) and str(sa) in msg and str(sb) in msg, msg


# ----------------------------------------------------------------------------- unary
UNARY = {  # name: (fn, forward, derivative, (lo, hi))
    "exp": (F.exp, np.exp, np.exp, (-5, 5)),
    "log": (F.log, np.log, lambda x: 1 / x, (0.05, 10)),
    "sqrt": (F.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x), (0.05, 10)),
    "tanh": (F.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2, (-4, 4)),
    "sigmoid": (F.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
                lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, (-8, 8)),
    "relu": (F.relu, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(np.float64), (-3, 3)),
    "neg": (F.neg, np.negative, lambda x: -np.ones_like(x), (-3, 3)),
    "square": (lambda t: F.pow(t, 2), np.square, lambda x: 2 * x, (-3, 3)),
}


@FAST
@given(data=st.data(), op=st.sampled_from(sorted(UNARY)), dtype=DTYPES,
       shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=5))
def test_unary_ops_match_numpy(data, op, dtype, shape):
    fn, ref, deriv, (lo, hi) = UNARY[op]
    x = _arrays(data.draw, dtype, shape, lo, hi, away_from_zero=1e-3 if op == "relu" else 0.0)
    t = _leaf(x)
    y = fn(t)
    x64 = x.astype(np.float64)
    assert y.shape == shape and y.dtype == dtype
    _close(y.data, ref(x64), dtype, f"{op} forward")
    g = _arrays(data.draw, np.float64, shape)
    y.backward(g.astype(dtype))
    _close(t.grad, g * deriv(x64), dtype, f"{op} grad")


# ----------------------------------------------------------------------------- reductions
@st.composite
def _axes(draw, ndim):
    if ndim == 0 or draw(st.booleans()):
        return None
    axes = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                         unique_by=lambda a: a % ndim))
    return axes[0] if len(axes) == 1 else tuple(axes)


@FAST
@given(data=st.data(), op=st.sampled_from(["sum", "mean", "max", "min"]), dtype=DTYPES,
       shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=4), keepdims=st.booleans())
def test_reductions_match_numpy(data, op, dtype, shape, keepdims):
    axis = data.draw(_axes(len(shape)))
    x = _arrays(data.draw, dtype, shape, unique=op in ("max", "min"))  # no ties for max/min
    # distinct float64 draws may still tie once cast (4e-166 and 0 in float32)
    hypothesis.assume(op not in ("max", "min") or np.unique(x).size == x.size)
    t = _leaf(x)
    y = getattr(F, op)(t, axis=axis, keepdims=keepdims)
    x64 = x.astype(np.float64)
    want = getattr(np, {"sum": "sum", "mean": "mean", "max": "max", "min": "min"}[op])(x64, axis=axis,
                                                                                    keepdims=keepdims)
    assert y.shape == np.shape(want)
    _close(y.data, want, dtype, f"{op} forward")
    g = _arrays(data.draw, np.float64, np.shape(want))
    y.backward(g.astype(dtype))
    gk = g if keepdims else np.reshape(g, np.shape(getattr(np, op)(x64, axis=axis, keepdims=True)))
    if op == "sum":
        expected = np.broadcast_to(gk, shape)
    elif op == "mean":
        expected = np.broadcast_to(gk, shape) * (np.size(want) / max(x.size, 1))
    else:
        hit = x64 == getattr(np, op)(x64, axis=axis, keepdims=True)
        expected = np.where(hit, gk, 0.0)
    _close(t.grad, expected, dtype, f"{op} grad")


# ----------------------------------------------------------------------------- matmul, softmax
@FAST
@given(data=st.data(), dtype=DTYPES, batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       n=st.integers(1, 5), k=st.integers(1, 5), m=st.integers(1, 5))
def test_matmul_matches_numpy(data, dtype, batch, n, k, m):
    a = _arrays(data.draw, dtype, batch + (n, k))
    b = _arrays(data.draw, dtype, batch + (k, m))
    ta, tb = _leaf(a), _leaf(b)
    y = F.matmul(ta, tb)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    _close(y.data, a64 @ b64, dtype, "matmul forward")
    g = _arrays(data.draw, np.float64, batch + (n, m))
    y.backward(g.astype(dtype))
    _close(ta.grad, g @ np.swapaxes(b64, -1, -2), dtype, "matmul grad a")
    _close(tb.grad, np.swapaxes(a64, -1, -2) @ g, dtype, "matmul grad b")


@FAST
@given(data=st.data(), dtype=DTYPES, shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
       log=st.booleans())
def test_softmax_and_log_softmax_match_numpy(data, dtype, shape, log):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = _arrays(data.draw, dtype, shape, -20, 20)
    t = _leaf(x)
    y = (F.log_softmax if log else F.softmax)(t, axis=axis)
    x64 = x.astype(np.float64)
    z = x64 - x64.max(axis=axis, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    _close(y.data, np.log(p) if log else p, dtype, "forward")
    g = _arrays(data.draw, np.float64, shape)
    y.backward(g.astype(dtype))
    if log:
        want = g - p * g.sum(axis=axis, keepdims=True)
    else:
        want = p * (g - (g * p).sum(axis=axis, keepdims=True))
    _close(t.grad, want, dtype, "grad")


# ----------------------------------------------------------------------------- shapes, indexing
@FAST
@given(data=st.data(), dtype=DTYPES, shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
def test_transpose_and_reshape_are_exact(data, dtype, shape):
    x = _arrays(data.draw, dtype, shape)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    t = _leaf(x)
    y = F.transpose(t, perm)
    np.testing.assert_array_equal(y.data, np.transpose(x, perm))
    new_shape = tuple(data.draw(st.permutations(shape)))
    z = F.reshape(y, new_shape)
    np.testing.assert_array_equal(z.data, np.transpose(x, perm).reshape(new_shape))
    g = _arrays(data.draw, dtype, new_shape)
    z.backward(g)
    np.testing.assert_array_equal(t.grad, np.transpose(g.reshape(y.shape), np.argsort(perm)))


@FAST
@given(data=st.data(), dtype=DTYPES, shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=6))
def test_indexing_matches_numpy_and_scatters_gradients(data, dtype, shape):
    x = _arrays(data.draw, dtype, shape)
    if data.draw(st.booleans()):
        index = data.draw(hnp.basic_indices(shape, allow_ellipsis=True, allow_newaxis=False))
    else:  # integer arrays, repeats allowed: their gradients add up
        index = np.asarray(data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=8)))
    t = _leaf(x)
    y = F.getitem(t, index)
    np.testing.assert_array_equal(y.data, x[index])
    g = _arrays(data.draw, np.float64, np.shape(x[index]))
    y.backward(g.astype(dtype))
    want = np.zeros(shape)
    np.add.at(want, index, g)
    _close(t.grad, want, dtype, "getitem grad")


# ----------------------------------------------------------------------------- files
FILE_DTYPES = st.sampled_from([np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32,
                               np.int64, np.uint64, np.float16, np.float32, np.float64])
STATES = st.dictionaries(
    st.text(alphabet="abcxyz._0123456789", min_size=1, max_size=8),
    FILE_DTYPES.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))),
    min_size=1, max_size=4,
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(state=STATES, data=st.data())
def test_saved_files_round_trip_and_any_flipped_byte_is_refused(state, data, tmp_path_factory):
    path = tmp_path_factory.mktemp("st") / "s.safetensors"
    zd.save(state, path, metadata={"note": "x"})
    back = zd.load(path)
    assert back.keys() == state.keys()
    for k, v in state.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)
    raw = bytearray(path.read_bytes())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.sampled_from([0x01, 0x02, 0x10, 0x80, 0xFF]))
    path.write_bytes(raw)
    with pytest.raises(ValueError) as e:
        zd.load(path)
    assert str(path) in str(e.value)
