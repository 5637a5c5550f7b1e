"""PyTorch habits on tensors: constructors, methods with PyTorch's meanings, in-place updates."""
import numpy as np
import pytest

import zerodl as zd
import zerodl.functions as F
import zerodl.nn as nn
import zerodl.optim as optim


# ----- constructors ---------------------------------------------------------------------------
def test_constructors_shapes_dtypes_and_values():
    assert zd.zeros(2, 3).shape == (2, 3) and zd.zeros((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(zd.ones(2).data, [1, 1])
    np.testing.assert_array_equal(zd.full((2, 2), 7.5).data, np.full((2, 2), 7.5, np.float32))
    assert zd.full((2,), 3).dtype == np.int64  # as torch.full with an int fill
    assert zd.zeros(3, dtype=np.float64).dtype == np.float64
    x = zd.tensor(np.arange(6.0).reshape(2, 3), dtype=np.float64)
    z, o = zd.zeros_like(x), zd.ones_like(x)
    assert z.shape == o.shape == (2, 3) and z.dtype == o.dtype == np.float64 and o.data.sum() == 6
    np.testing.assert_array_equal(zd.arange(4).data, [0, 1, 2, 3])
    assert zd.arange(4).dtype == np.int64 and zd.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_allclose(zd.arange(1, 2, 0.25).data, [1, 1.25, 1.5, 1.75])
    assert zd.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match=r"zd.zeros: sizes must be non-negative ints"):
        zd.zeros(2.5)


def test_random_constructors_follow_the_seed():
    zd.manual_seed(3)
    a, b = zd.randn(100, 50), zd.rand(4, 5)
    zd.manual_seed(3)
    np.testing.assert_array_equal(a.data, zd.randn(100, 50).data)
    np.testing.assert_array_equal(b.data, zd.rand(4, 5).data)
    assert a.dtype == b.dtype == np.float32
    assert abs(a.data.mean()) < 0.05 and abs(a.data.std() - 1) < 0.05
    assert 0 <= b.data.min() and b.data.max() < 1
    r = zd.randint(0, 10, (1000,))
    assert r.dtype == np.int64 and r.data.min() >= 0 and r.data.max() <= 9


def test_from_numpy_and_as_tensor_share_memory_and_keep_dtype():
    a = np.zeros(3)
    t = zd.from_numpy(a)
    assert t.dtype == np.float64
    a[0] = 5
    assert t.data[0] == 5
    assert zd.as_tensor(a).data is a
    assert zd.as_tensor([1.0, 2.0]).dtype == np.float32
    assert zd.as_tensor(a, dtype=np.float32).dtype == np.float32
    assert zd.as_tensor(t) is t
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray"):
        zd.from_numpy([1, 2])


def test_cat_and_stack_with_dim():
    a = zd.tensor(np.ones((2, 3)), requires_grad=True)
    b = zd.tensor(np.zeros((2, 1)), requires_grad=True)
    c = zd.cat([a, b], dim=1)
    assert c.shape == (2, 4)
    (c * zd.arange(4).float()).sum().backward()
    np.testing.assert_array_equal(a.grad, np.tile([0, 1, 2], (2, 1)))
    np.testing.assert_array_equal(b.grad, [[3], [3]])
    assert zd.stack([a, a, a], dim=1).shape == (2, 3, 3)
    assert F.concat([a, b], dim=-1).shape == (2, 4) and F.stack([a, a], dim=2).shape == (2, 3, 2)
    with pytest.raises(TypeError, match=r"cat: expected a list or tuple of tensors, got a single Tensor of shape \(2, 3\)"):
        zd.cat(a)
    with pytest.raises(ValueError, match=r"concat: cannot join shapes \(2, 3\), \(2, 1\) along axis 0"):
        zd.cat([a, b])


# ----- PyTorch's meanings ---------------------------------------------------------------------
def test_transpose_two_dims_swaps_them_the_silent_case():
    q = zd.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(q.transpose(0, 1).data, [[1, 3], [2, 4]])  # NumPy: unchanged
    np.testing.assert_array_equal(q.transpose(1, 0).data, [[1, 3], [2, 4]])
    b = zd.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(b.transpose(1, 2).data, np.swapaxes(b.data, 1, 2))  # NumPy: raises
    np.testing.assert_array_equal(b.transpose(-1, 0).data, np.swapaxes(b.data, -1, 0))
    np.testing.assert_array_equal(b.transpose(2, 0, 1).data, b.data.transpose(2, 0, 1))  # a full permutation
    np.testing.assert_array_equal(b.transpose().data, b.data.T)
    np.testing.assert_array_equal(F.transpose(q, 0, 1).data, q.data.T)
    np.testing.assert_array_equal(b.permute(2, 0, 1).data, b.data.transpose(2, 0, 1))
    np.testing.assert_array_equal(b.permute((1, 0, 2)).data, b.data.transpose(1, 0, 2))
    with pytest.raises(ValueError, match=r"transpose: dim 3 is out of range for a tensor of shape \(2, 3, 4\)"):
        b.transpose(0, 3)
    with pytest.raises(ValueError, match=r"permute: dims \(0, 0, 1\) are not a permutation"):
        b.permute(0, 0, 1)


def test_size_is_an_int_and_a_call():
    x = zd.zeros(2, 3, 4)
    assert x.size == 24 and x.size * 2 == 48 and x.size > 10 and isinstance(x.size, int)
    assert f"{x.size}" == "24" and repr(x.size) == "24" and {x.size: 1}[24] == 1
    assert x.size() == (2, 3, 4) and x.size(0) == 2 and x.size(-1) == 4
    assert np.zeros(x.size).shape == (24,)
    with pytest.raises(IndexError, match=r"size: dim 3 is out of range for a tensor of shape \(2, 3, 4\)"):
        x.size(3)


def test_dim_and_keepdim_everywhere():
    a = zd.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(a.sum(dim=1).data, [3, 12])
    assert a.sum(dim=1, keepdim=True).shape == (2, 1)
    np.testing.assert_array_equal(a.mean(dim=0).data, [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(F.sum(a, dim=(0, 1)).data, 15)
    assert F.mean(a, dim=0, keepdim=True).shape == (1, 3)
    assert a.softmax(dim=0).shape == (2, 3) and F.softmax(a, axis=0).shape == (2, 3)
    with pytest.raises(TypeError, match="sum: got axis=0 and dim=1; pass one of them"):
        a.sum(axis=0, dim=1)


def test_max_min_with_dim_return_values_and_indices():
    x = zd.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, [5, 7])
    np.testing.assert_array_equal(indices.data, [1, 0])  # the first of a tie, as PyTorch
    assert indices.dtype == np.int64
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])  # the picked index only
    r = x.min(dim=0, keepdim=True)
    assert r.values.shape == r.indices.shape == (1, 3)
    np.testing.assert_array_equal(r.indices.data, [[0, 1, 0]])
    v, i = F.max(x, dim=-1)
    np.testing.assert_array_equal(i.data, [1, 0])
    assert x.max().item() == 7.0 and x.max(axis=1).shape == (2,)  # NumPy's forms unchanged
    np.testing.assert_array_equal(x.argmax(dim=1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(dim=0).data, [0, 1, 0])
    assert x.argmax().item() == 3 and x.argmax(dim=1, keepdim=True).shape == (2, 1)
    with pytest.raises(ValueError, match=r"argmax: dim 2 is out of range for a tensor of shape \(2, 3\)"):
        x.argmax(dim=2)


def test_shape_methods():
    x = zd.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.view(6, 4).shape == (6, 4) and x.view(-1).shape == (24,)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert zd.zeros(1, 3, 1).squeeze().shape == (3,) and zd.zeros(1, 3, 1).squeeze(0).shape == (3, 1)
    assert zd.zeros(2, 3).squeeze(0).shape == (2, 3)  # not of size 1: left alone, as PyTorch
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12) and x.flatten(0, 1).shape == (6, 4)
    assert x.numel() == 24 and x.dim() == 3
    with pytest.raises(ValueError, match=r"unsqueeze: dim 4 is out of range for a tensor of shape \(2, 3, 4\)"):
        x.unsqueeze(4)
    with pytest.raises(ValueError, match=r"view: cannot reshape \(2, 3, 4\) into \(5, -1\)"):
        x.view(5, -1)


def test_clone_casts_and_elementwise_methods_are_differentiable():
    x = zd.tensor([[-2.0, 0.5]], requires_grad=True)
    y = x.clone()
    assert y.data is not x.data
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [[3, 3]])
    x.grad = None
    d = x.double()
    assert d.dtype == np.float64
    d.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [[-1, 1]])
    assert x.grad.dtype == np.float32
    assert x.float() is x and x.long().dtype == np.int64 and x.long().data.tolist() == [[-2, 0]]
    np.testing.assert_allclose(abs(x).data, [[2, 0.5]])
    np.testing.assert_allclose(x.exp().data, np.exp([[-2, 0.5]]), rtol=1e-6)
    np.testing.assert_allclose(x.abs().sqrt().log().data, np.log(np.sqrt([[2, 0.5]])), rtol=1e-6)
    assert float(zd.tensor(2.5)) == 2.5 and int(zd.tensor(3.0)) == 3


def test_errors_name_the_method_not_a_lambda():
    x = zd.zeros(2, 3)
    for call, name in ((lambda: x.sum(foo=1), "Tensor.sum"), (lambda: x.max(bar=1), "Tensor.max"),
                       (lambda: x.mean(1, 2, 3), "Tensor.mean")):
        with pytest.raises(TypeError) as e:
            call()
        assert name in str(e.value) and "lambda" not in str(e.value)


# ----- in place -------------------------------------------------------------------------------
def test_book_update_idiom_changes_the_parameters_the_silent_case():
    zd.manual_seed(0)
    model = nn.Linear(4, 3)
    x, t = zd.randn(8, 4), np.arange(8) % 3
    params = list(model.parameters())
    ids = [id(p) for p in params]
    losses = []
    for _ in range(60):
        loss = F.softmax_cross_entropy(model(x), t)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with zd.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    assert losses[-1] < 0.5 * losses[0]
    assert [id(p) for p in model.parameters()] == ids
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())


def test_in_place_keeps_parameter_and_optimizer_state():
    zd.manual_seed(1)
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.1)
    x = zd.randn(5, 3)
    (model(x) ** 2).mean().backward()
    opt.step()
    W = model.W
    state = opt.state[W]
    step_before = state["step"]
    with zd.no_grad():
        W.mul_(0.5)
        W += 1.0
        model.b.zero_()
        W.clamp_(-1.2, 1.2)
    assert model.W is W and isinstance(W, nn.Parameter)
    assert opt.state[W] is state and state["step"] == step_before
    assert np.all(model.b.data == 0) and W.data.max() <= 1.2
    opt.zero_grad()
    (model(x) ** 2).mean().backward()
    opt.step()
    assert opt.state[W]["step"] == step_before + 1


def test_in_place_values_and_rules():
    t = zd.tensor([1.0, 2.0, 3.0])
    data = t.data
    t += 1
    t *= zd.tensor([2.0, 2.0, 2.0])
    t -= np.array([1.0, 1.0, 1.0])
    t /= 2
    assert t.data is data
    np.testing.assert_array_equal(t.data, [1.5, 2.5, 3.5])
    t.add_(1, alpha=2).sub_(zd.tensor([0.5, 0.5, 0.5])).div_(2).mul_(4)
    np.testing.assert_array_equal(t.data, [6, 8, 10])
    t.copy_(np.array([9.0, 8.0, 7.0])).clamp_(max=8.0)
    np.testing.assert_array_equal(t.data, [8, 8, 7])
    t.fill_(2)
    assert t.data.tolist() == [2, 2, 2] and t.dtype == np.float32
    total = zd.tensor([1.0, 2.0]).sum()  # a 0-d result (held as a NumPy scalar)
    total += 1
    assert total.item() == 4.0
    w = zd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\+=: a leaf tensor that requires grad cannot be changed in place"):
        w += 1
    with pytest.raises(RuntimeError, match="zero_: a tensor that requires grad and is part of the graph"):
        (w * 2).zero_()
    with pytest.raises(ValueError, match=r"add_: a value of shape \(3,\) cannot be applied in place to a tensor of shape \(2,\)"):
        with zd.no_grad():
            w.add_(np.ones(3))
    with pytest.raises(TypeError, match="cannot write float64 values in place into a tensor of dtype int64"):
        i = zd.arange(3)
        i += np.array([0.5, 0.5, 0.5])


# ----- devices --------------------------------------------------------------------------------
def test_to_cpu_is_a_no_op_and_cuda_names_the_problem(monkeypatch):
    import sys

    tensor_module = sys.modules["zerodl.core.tensor"]  # (zerodl.core.tensor is also the function)

    x = zd.ones(2)
    assert x.to("cpu") is x
    assert x.to(np.float64).dtype == np.float64

    def no_device(arr):
        raise type("CUDARuntimeError", (Exception,), {})("cudaErrorNoDevice: no CUDA-capable device is detected")

    monkeypatch.setattr(tensor_module, "as_cupy", no_device)
    with pytest.raises(RuntimeError, match=r"Tensor.to\('cuda'\): CuPy found no usable GPU \(CUDARuntimeError: cudaErrorNoDevice"):
        x.to("cuda")

    def no_cupy(arr):
        raise RuntimeError("CuPy is not installed: pip install 'zerodl[gpu]' (cupy-cuda12x)")

    monkeypatch.setattr(tensor_module, "as_cupy", no_cupy)
    with pytest.raises(RuntimeError, match=r"Tensor.to\('cuda'\): CuPy is not installed"):
        x.to("cuda:0")


def test_the_issue_list_gives_pytorch_results():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(7).standard_normal((2, 3, 4))
    z, t = zd.tensor(a, dtype=np.float64), torch.tensor(a)
    calls = [
        lambda m: m.transpose(0, 1), lambda m: m.transpose(1, 2), lambda m: m[0].transpose(0, 1),
        lambda m: m.sum(dim=1), lambda m: m.mean(dim=(0, 2), keepdim=True), lambda m: m.max(dim=2)[0],
        lambda m: m.max(dim=2)[1], lambda m: m.min(dim=0).indices, lambda m: m.view(6, 4), lambda m: m.view(-1),
        lambda m: m.unsqueeze(1), lambda m: m[:, :1].squeeze(), lambda m: m[:, :1].squeeze(1),
        lambda m: m.permute(2, 0, 1), lambda m: m.flatten(), lambda m: m.flatten(1), lambda m: m.argmax(),
        lambda m: m.argmax(dim=1), lambda m: m.argmin(dim=-1, keepdim=True), lambda m: m.clone(),
        lambda m: m.float(), lambda m: m.double(), lambda m: m.long(), lambda m: m.abs(), lambda m: m.abs().sqrt(),
        lambda m: m.exp(), lambda m: m.abs().log(), lambda m: m.softmax(dim=1),
    ]
    for i, call in enumerate(calls):
        got, want = call(z), call(t)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, err_msg=f"call {i}")
        assert got.shape == tuple(want.shape), f"call {i}"
    assert z.size() == tuple(t.size()) and z.size(1) == t.size(1) and z.numel() == t.numel()
    np.testing.assert_array_equal(zd.cat([z, z], dim=2).numpy(), torch.cat([t, t], dim=2).numpy())
    np.testing.assert_array_equal(zd.stack([z, z], dim=1).numpy(), torch.stack([t, t], dim=1).numpy())
    for name, args in (("zeros", (2, 3)), ("ones", ((2, 3),))):
        assert getattr(zd, name)(*args).numpy().tolist() == getattr(torch, name)(*args).numpy().tolist()
    assert zd.full((2, 2), 1.5).numpy().tolist() == torch.full((2, 2), 1.5).numpy().tolist()
    assert zd.arange(1, 7, 2).numpy().tolist() == torch.arange(1, 7, 2).numpy().tolist()
    assert str(zd.arange(3).dtype) == "int64" and zd.zeros_like(z).shape == tuple(torch.zeros_like(t).shape)


def test_in_place_with_a_value_that_requires_grad_keeps_the_gradient():
    w = zd.tensor([1.0, 2.0], requires_grad=True)
    acc = zd.zeros(2)
    acc += w * 3  # as PyTorch: acc joins the graph (here: acc is rebound to the new node)
    assert acc.requires_grad
    with pytest.raises(RuntimeError, match=r"\*=: a tensor that requires grad and is part of the graph"):
        acc *= w  # now acc is in the graph: refused, never a wrong gradient
    (acc * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [6, 12])  # d/dw (3 w * w) = 6 w
    for call in (lambda t: t.add_(w), lambda t: t.sub_(w, alpha=2), lambda t: t.mul_(w), lambda t: t.copy_(w)):
        with pytest.raises(RuntimeError, match="requires grad, and an in-place"):
            call(zd.zeros(2))
    with zd.no_grad():
        t = zd.zeros(2)
        t.add_(w, alpha=2)  # under no_grad the value is just numbers
    np.testing.assert_array_equal(t.data, [2, 4])
