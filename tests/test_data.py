"""zerodl.data: Dataset, TensorDataset, DataLoader, train_test_split, to_categorical, make_windows."""

import json

import numpy as np
import pytest

from zerodl.data import (
    DataLoader,
    Dataset,
    TensorDataset,
    make_windows,
    to_categorical,
    train_test_split,
)


def _ids(loader):
    """The sample ids (first field) of every batch of one epoch, as a list of arrays."""
    return [b[0].copy() for b in loader]


def _epoch_order(loader):
    return np.concatenate(_ids(loader))


# ----------------------------------------------------------------------------- TensorDataset
def test_tensor_dataset_items_and_len():
    x = np.arange(20).reshape(10, 2)
    t = np.arange(10) * 10
    ds = TensorDataset(x, t)
    assert len(ds) == 10
    xi, ti = ds[3]
    np.testing.assert_array_equal(xi, [6, 7])
    assert ti == 30
    bx, bt = ds.get_batch(np.array([4, 1]))
    np.testing.assert_array_equal(bx, [[8, 9], [2, 3]])
    np.testing.assert_array_equal(bt, [40, 10])


def test_tensor_dataset_mismatched_first_dims_names_shapes():
    with pytest.raises(ValueError, match=r"TensorDataset.*\(100, 3\).*\(99,\)"):
        TensorDataset(np.zeros((100, 3)), np.zeros(99))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float32(1.0))


# -------------------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n,bs", [(10, 3), (12, 4), (5, 8), (1, 1)])
def test_loader_visits_every_sample_once(n, bs, shuffle):
    ids = np.arange(n)
    loader = DataLoader(TensorDataset(ids, ids * 2), batch_size=bs, shuffle=shuffle, seed=0)
    assert len(loader) == -(-n // bs)
    for _ in range(3):
        batches = list(loader)
        assert len(batches) == len(loader)
        assert all(len(b[0]) == bs for b in batches[:-1])
        seen = np.concatenate([b[0] for b in batches])
        np.testing.assert_array_equal(np.sort(seen), ids)
        for x, t in batches:  # fields stay aligned
            np.testing.assert_array_equal(t, x * 2)
        if not shuffle:
            np.testing.assert_array_equal(seen, ids)


@pytest.mark.parametrize("shuffle", [False, True])
def test_loader_drop_last(shuffle):
    ids = np.arange(10)
    loader = DataLoader(TensorDataset(ids), batch_size=3, shuffle=shuffle, drop_last=True, seed=1)
    assert len(loader) == 3
    batches = _ids(loader)
    assert [len(b) for b in batches] == [3, 3, 3]
    seen = np.concatenate(batches)
    assert len(np.unique(seen)) == 9
    # exactly divisible: nothing dropped
    assert len(DataLoader(TensorDataset(np.arange(9)), batch_size=3, drop_last=True)) == 3
    # fewer samples than one batch: no batch at all
    small = DataLoader(TensorDataset(np.arange(2)), batch_size=3, drop_last=True)
    assert len(small) == 0 and list(small) == []


def test_loader_seed_reproducible_and_epochs_differ():
    ds = TensorDataset(np.arange(50))
    a = DataLoader(ds, batch_size=7, shuffle=True, seed=123)
    b = DataLoader(ds, batch_size=7, shuffle=True, seed=123)
    c = DataLoader(ds, batch_size=7, shuffle=True, seed=124)
    orders_a = [_epoch_order(a) for _ in range(4)]
    orders_b = [_epoch_order(b) for _ in range(4)]
    orders_c = [_epoch_order(c) for _ in range(4)]
    for oa, ob in zip(orders_a, orders_b):
        np.testing.assert_array_equal(oa, ob)
    # every epoch reshuffles
    for i in range(3):
        assert not np.array_equal(orders_a[i], orders_a[i + 1])
    # and actually shuffles
    assert not np.array_equal(orders_a[0], np.arange(50))
    assert any(not np.array_equal(oa, oc) for oa, oc in zip(orders_a, orders_c))
    assert a.epoch == 4


def test_loader_unseeded_follows_numpy_global_seed():
    ds = TensorDataset(np.arange(30))
    np.random.seed(5)
    o1 = _epoch_order(DataLoader(ds, batch_size=4, shuffle=True))
    np.random.seed(5)
    o2 = _epoch_order(DataLoader(ds, batch_size=4, shuffle=True))
    np.testing.assert_array_equal(o1, o2)


def test_loader_state_dict_resume_between_epochs():
    ds = TensorDataset(np.arange(40))
    ref = DataLoader(ds, batch_size=6, shuffle=True, seed=7)
    ref_orders = [_epoch_order(ref) for _ in range(5)]

    run = DataLoader(ds, batch_size=6, shuffle=True, seed=7)
    for i in range(2):
        np.testing.assert_array_equal(_epoch_order(run), ref_orders[i])
    state = json.loads(json.dumps(run.state_dict()))  # must survive JSON
    assert state["epoch"] == 2 and state["batch"] == 0

    resumed = DataLoader(ds, batch_size=6, shuffle=True, seed=999)  # different seed: the state wins
    resumed.load_state_dict(state)
    assert resumed.epoch == 2
    for i in range(2, 5):
        np.testing.assert_array_equal(_epoch_order(resumed), ref_orders[i])


def test_loader_state_dict_resume_mid_epoch():
    ds = TensorDataset(np.arange(23))
    ref = DataLoader(ds, batch_size=5, shuffle=True, seed=3)
    ref_batches = [_ids(ref) for _ in range(3)]

    run = DataLoader(ds, batch_size=5, shuffle=True, seed=3)
    _ids(run)
    it = iter(run)
    first_two = [next(it)[0].copy(), next(it)[0].copy()]
    for got, want in zip(first_two, ref_batches[1][:2]):
        np.testing.assert_array_equal(got, want)
    state = json.loads(json.dumps(run.state_dict()))
    assert state["epoch"] == 1 and state["batch"] == 2

    resumed = DataLoader(ds, batch_size=5, shuffle=True, seed=0)
    resumed.load_state_dict(state)
    rest = _ids(resumed)  # the remainder of epoch 2
    assert len(rest) == len(ref_batches[1]) - 2
    for got, want in zip(rest, ref_batches[1][2:]):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(_ids(resumed), ref_batches[2]):  # then a full epoch 3
        np.testing.assert_array_equal(got, want)


def test_loader_state_dict_checks_batch_size():
    ds = TensorDataset(np.arange(10))
    state = DataLoader(ds, batch_size=2, shuffle=True, seed=0).state_dict()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=3, shuffle=True).load_state_dict(state)


class _Squares(Dataset):
    """A generic data set without get_batch override: the loader loops over samples."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i % 3


def test_loader_generic_dataset_stacks_fields():
    loader = DataLoader(_Squares(7), batch_size=3, shuffle=True, seed=2)
    seen = []
    for x, t in loader:
        assert x.dtype == np.float32 and x.shape[1:] == (2,)
        assert t.shape == x.shape[:1]
        np.testing.assert_array_equal(x[:, 1], x[:, 0] ** 2)
        np.testing.assert_array_equal(t, x[:, 0].astype(int) % 3)
        seen.extend(x[:, 0].astype(int))
    assert sorted(seen) == list(range(7))


def test_loader_fast_path_uses_get_batch_not_getitem():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, i):
            Counting.calls += 1
            return super().__getitem__(i)

    loader = DataLoader(Counting(np.arange(100)), batch_size=10, shuffle=True, seed=0)
    assert sum(len(b[0]) for b in loader) == 100
    assert Counting.calls == 0


def test_loader_batches_are_copies():
    x = np.arange(6.0)
    for shuffle in (False, True):
        for (b,) in DataLoader(TensorDataset(x), batch_size=4, shuffle=shuffle, seed=0):
            b[:] = -1
    np.testing.assert_array_equal(x, np.arange(6.0))


def test_loader_accepts_ndarray_and_rejects_bad_batch_size():
    (b,) = next(iter(DataLoader(np.arange(5), batch_size=2)))
    np.testing.assert_array_equal(b, [0, 1])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(np.arange(5), batch_size=bad)


# -------------------------------------------------------------------------- train_test_split
def test_train_test_split_fraction_and_alignment():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, seed=0)
    assert x_tr.shape == (7, 2) and x_te.shape == (3, 2)  # ceil(2.5) = 3 test samples
    assert y_tr.shape == (7,) and y_te.shape == (3,)
    np.testing.assert_array_equal(x_tr[:, 0], 2 * y_tr)
    np.testing.assert_array_equal(x_te[:, 0], 2 * y_te)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_te])), y)
    again = train_test_split(x, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_te)


def test_train_test_split_int_and_no_shuffle():
    y = np.arange(10)
    tr, te = train_test_split(y, test_size=4, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(6))
    np.testing.assert_array_equal(te, np.arange(6, 10))


def test_train_test_split_errors():
    with pytest.raises(ValueError, match=r"train_test_split.*\(10,\).*\(9,\)"):
        train_test_split(np.zeros(10), np.zeros(9))
    for bad in (0.0, 1.0, 1.5, 0, 10):
        with pytest.raises(ValueError, match="train_test_split"):
            train_test_split(np.zeros(10), test_size=bad)
    with pytest.raises(ValueError):
        train_test_split()


# ---------------------------------------------------------------------------- to_categorical
def test_to_categorical_values():
    out = to_categorical([0, 2, 1, 2])
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    out5 = to_categorical(np.array([[1], [3]]), num_classes=5)  # (N, 1) -> (N, C), as Keras
    np.testing.assert_array_equal(out5, [[0, 1, 0, 0, 0], [0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


def test_to_categorical_errors():
    with pytest.raises(ValueError, match="to_categorical.*out of range"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="non-negative"):
        to_categorical([-1, 0])
    with pytest.raises(ValueError, match="whole numbers"):
        to_categorical([0.5])


# ------------------------------------------------------------------------------ make_windows
def test_make_windows_1d():
    s = np.arange(10, dtype=np.float32)
    X, y = make_windows(s, history=3, horizon=2)
    assert X.shape == (6, 3, 1) and y.shape == (6, 2)
    assert X.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(y[0], [3, 4])
    np.testing.assert_array_equal(X[-1, :, 0], [5, 6, 7])
    np.testing.assert_array_equal(y[-1], [8, 9])
    X[:] = 0  # fresh arrays, not views of the series
    assert s[0] == 0 and s[5] == 5


def test_make_windows_2d():
    s = np.arange(12).reshape(6, 2)  # step t = [2t, 2t+1]
    X, y = make_windows(s, history=2)
    assert X.shape == (4, 2, 2) and y.shape == (4, 1, 2)
    np.testing.assert_array_equal(X[1], [[2, 3], [4, 5]])
    np.testing.assert_array_equal(y[1], [[6, 7]])


def test_make_windows_errors():
    with pytest.raises(ValueError, match=r"make_windows.*too short.*history=4.*horizon=2"):
        make_windows(np.arange(5), history=4, horizon=2)
    X, y = make_windows(np.arange(6), history=4, horizon=2)  # exactly long enough
    assert X.shape == (1, 4, 1) and y.shape == (1, 2)
    with pytest.raises(ValueError, match="history"):
        make_windows(np.arange(5), history=0)
    with pytest.raises(ValueError, match=r"shape \(2, 2, 2\)"):
        make_windows(np.zeros((2, 2, 2)), history=1)
