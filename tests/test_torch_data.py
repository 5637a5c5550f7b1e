"""DataLoader's PyTorch arguments: num_workers (a thread pool keeping the seeded order), collate_fn."""
import threading

import numpy as np
import pytest

from zerodl.data import DataLoader, Dataset, TensorDataset


class Squares(Dataset):
    """Per-sample __getitem__ (no get_batch); records which threads built samples."""

    def __init__(self, n):
        self.n, self.threads = n, set()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.threads.add(threading.current_thread().name)
        return np.full(3, float(i * i), np.float32), np.int64(i)


def _epochs(loader, k=3):
    return [[(x.copy(), y.copy()) for x, y in loader] for _ in range(k)]


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_give_the_same_batches_in_the_same_order(workers):
    ds = Squares(103)
    ref = _epochs(DataLoader(ds, batch_size=10, shuffle=True, seed=4))
    ds.threads.clear()
    got = _epochs(DataLoader(ds, batch_size=10, shuffle=True, seed=4, num_workers=workers))
    assert len(got) == len(ref) and all(len(a) == len(b) == 11 for a, b in zip(got, ref))
    for ea, eb in zip(got, ref):
        for (xa, ya), (xb, yb) in zip(ea, eb):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    assert ds.threads and all(t.startswith("zerodl-DataLoader") for t in ds.threads)  # really built by workers


def test_workers_resume_mid_epoch_and_leave_early():
    ds = TensorDataset(np.arange(50.0).reshape(50, 1))
    a = DataLoader(ds, batch_size=4, shuffle=True, seed=1, num_workers=2)
    it = iter(a)
    first = [next(it)[0] for _ in range(5)]
    state = a.state_dict()
    rest = [b[0] for b in it]
    b = DataLoader(ds, batch_size=4, shuffle=True, seed=99, num_workers=2)
    b.load_state_dict(state)
    resumed = [x[0] for x in b]
    assert len(first) + len(rest) == len(a) == 13
    for x, y in zip(rest, resumed):
        np.testing.assert_array_equal(x, y)
    for _ in DataLoader(ds, batch_size=4, num_workers=2):
        break  # leaving early shuts the pool down without error
    assert "num_workers=2" in repr(a)


def test_collate_fn_and_accepted_pytorch_arguments():
    ds = Squares(7)
    loader = DataLoader(ds, batch_size=3, collate_fn=lambda samples: [s[1] for s in samples], pin_memory=True,
                        persistent_workers=True)
    assert [list(map(int, b)) for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="DataLoader: num_workers must be an int >= 0, got -1"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="DataLoader: collate_fn must be callable"):
        DataLoader(ds, collate_fn=3)
