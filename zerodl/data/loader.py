"""``DataLoader``: mini-batches over a data set, with a resumable shuffle."""

from __future__ import annotations

import collections
import copy
import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core.jsonable import to_jsonable

from ._rng import make_rng
from .dataset import TensorDataset, _as_array, _collate

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over a data set in mini-batches.

    Each ``iter(loader)`` (each ``for`` loop) is one epoch: it visits every
    sample exactly once (or, with ``drop_last``, every sample of the full
    batches) and yields tuples of stacked NumPy arrays, one per field, each of
    shape ``(B, ...)`` with ``B <= batch_size``. A data set whose samples are
    single arrays yields 1-tuples.

    Parameters
    ----------
    dataset : Dataset, TensorDataset or ndarray
        Anything with ``__len__`` and ``__getitem__``; an ndarray is wrapped in
        a ``TensorDataset``. If the data set has a ``get_batch(indices)``
        method (``TensorDataset`` has: it indexes its arrays with the batch's
        index array), it builds each batch in one call, without a per-sample
        Python loop.
    batch_size : int
        Samples per batch (the last one may be smaller unless ``drop_last``).
    shuffle : bool
        Draw a new random order at the start of every epoch.
    drop_last : bool
        Drop the last, incomplete batch.
    seed : int, numpy.random.Generator or None
        Seed of the shuffling generator: the same seed gives the same sequence
        of epoch orders. None seeds it from NumPy's global RNG (``np.random``).
    num_workers : int
        0 (default): batches are built in the loop. N > 0: N threads build the
        next ``N * prefetch_factor`` batches ahead while the model trains; the
        batches and their order are exactly those of ``num_workers=0`` (the
        shuffle is drawn in the main thread). Threads, not processes (no
        pickling of the data set): this pays off when ``__getitem__`` spends its
        time in NumPy code that releases the GIL (decoding, augmenting images);
        for a ``TensorDataset`` (one fancy index per batch) it brings nothing.
        A data set whose ``__getitem__`` draws from a shared random generator
        must be thread-safe, and its draws are then no longer in a fixed order.
    collate_fn : callable or None
        PyTorch's: turns the list of samples of a batch into the batch
        (default: stack each field into an array).
    pin_memory, persistent_workers : accepted for PyTorch scripts; no effect
        (there is no pinned host memory on the NumPy backend).

    ``len(loader)`` is the number of batches per epoch. ``state_dict()`` /
    ``load_state_dict()`` save and restore the generator state, the epoch
    counter and the position inside an epoch, so a resumed run sees exactly
    the batches that an uninterrupted run would have seen.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, num_workers=0,
                 collate_fn=None, pin_memory=False, prefetch_factor=2, persistent_workers=False):
        if isinstance(dataset, np.ndarray):
            dataset = TensorDataset(dataset)
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must have __len__ and __getitem__ (a Dataset), "
                f"got {type(dataset).__name__}"
            )
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        for name, v, lo in (("num_workers", num_workers, 0), ("prefetch_factor", prefetch_factor, 1)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"DataLoader: {name} must be an int >= {lo}, got {v!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        self.num_workers, self.prefetch_factor = int(num_workers), int(prefetch_factor)
        self.collate_fn = collate_fn
        self.pin_memory, self.persistent_workers = bool(pin_memory), bool(persistent_workers)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed if not isinstance(seed, np.random.Generator) else None
        self._rng = make_rng(seed, "DataLoader")
        self._epoch = 0  # number of epochs started
        self._epoch_start_state = None  # generator state before the running epoch's order was drawn
        self._position = 0  # batches handed out in the running epoch
        self._running = False
        self._resume_batch = 0  # batches to skip at the next epoch (after load_state_dict)

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    @property
    def epoch(self) -> int:
        """Number of epochs started so far (0 before the first ``iter``)."""
        return self._epoch

    # --------------------------------------------------------------- iterating
    def _order(self, n: int):
        if self.shuffle:
            return self._rng.permutation(n)
        return None

    def __iter__(self):
        n = len(self.dataset)
        self._epoch_start_state = copy.deepcopy(self._rng.bit_generator.state)
        order = self._order(n)  # drawn now, not at the first next()
        self._epoch += 1
        start = self._resume_batch
        self._resume_batch = 0
        self._position = start
        self._running = True
        return self._batches(order, n, start, self._epoch)

    def _batch_maker(self, order, n):
        """A function: batch number -> the batch (a tuple of arrays, or collate_fn's result)."""
        bs = self.batch_size
        ds = self.dataset
        get_batch = getattr(ds, "get_batch", None)
        collate = self.collate_fn
        # Unshuffled TensorDataset: contiguous slices (copied), cheaper than fancy indexing.
        fast_slices = (
            order is None
            and collate is None
            and isinstance(ds, TensorDataset)
            and type(ds).get_batch is TensorDataset.get_batch
        )

        def make(b):
            lo, hi = b * bs, min((b + 1) * bs, n)
            if fast_slices:
                return ds.get_batch(slice(lo, hi))
            idx = order[lo:hi] if order is not None else np.arange(lo, hi)
            if collate is not None:
                return collate([ds[int(i)] for i in idx])
            if get_batch is not None:
                return tuple(_as_array(a) for a in get_batch(idx))
            return _collate([ds[int(i)] for i in idx], "DataLoader")

        return make

    def _prefetched(self, make, numbers):
        """``make(b)`` for each b, built ``num_workers * prefetch_factor`` ahead by a thread pool
        and handed out in order."""
        numbers = iter(numbers)
        with ThreadPoolExecutor(self.num_workers, thread_name_prefix="zerodl-DataLoader") as pool:
            pending = collections.deque(pool.submit(make, b) for b in itertools.islice(numbers, self.num_workers * self.prefetch_factor))
            try:
                while pending:
                    batch = pending.popleft().result()
                    for b in itertools.islice(numbers, 1):
                        pending.append(pool.submit(make, b))
                    yield batch
            finally:
                for f in pending:  # the loop was left early: drop what has not started
                    f.cancel()

    def _batches(self, order, n, start, epoch):
        nb = len(self)
        make = self._batch_maker(order, n)
        numbers = range(start, nb)
        source = self._prefetched(make, numbers) if self.num_workers else map(make, numbers)
        try:
            for b, batch in zip(numbers, source):
                if self._epoch == epoch:
                    self._position = b + 1
                yield batch
        finally:
            if self.num_workers:
                source.close()
            if self._epoch == epoch:
                self._running = False

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """The loader's resumable state, as a JSON-able dict.

        Keys: ``epoch`` (epochs completed or fully started before the saved
        point), ``batch`` (batches already handed out in the epoch that a
        resumed loader will run next), ``rng_state`` (the NumPy
        ``bit_generator.state`` dict before that epoch's order was drawn) and,
        for checking, ``batch_size``, ``shuffle``, ``drop_last`` and ``num_samples``.
        Taken while an epoch's iterator is still running (inside the ``for``
        loop, e.g. from a batch callback), a loader restored from it resumes
        that epoch after the batches already handed out; taken between epochs
        (or after the loop ended or was left), it starts the next epoch.
        """
        in_epoch = self._running and self._position < len(self)
        if in_epoch:
            epoch, batch, state = self._epoch - 1, self._position, self._epoch_start_state
        else:
            epoch, batch, state = self._epoch, self._resume_batch, self._rng.bit_generator.state
        return {
            "epoch": int(epoch),
            "batch": int(batch),
            "rng_state": to_jsonable(copy.deepcopy(state)),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            "num_samples": int(len(self.dataset)),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a state from :meth:`state_dict`; the next ``iter`` continues from it."""
        missing = {"epoch", "rng_state"} - set(state)
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: state is missing {sorted(missing)}")
        for key, mine in (("batch_size", self.batch_size), ("num_samples", len(self.dataset))):
            if key in state and int(state[key]) != mine:
                raise ValueError(
                    f"DataLoader.load_state_dict: the state was saved with {key}={state[key]} "
                    f"but this loader has {key}={mine}; the data order would not match"
                )
        rng_state = copy.deepcopy(dict(state["rng_state"]))
        name = rng_state.get("bit_generator")
        if name != type(self._rng.bit_generator).__name__:
            bitgen = getattr(np.random, str(name), None)
            if bitgen is None or not isinstance(bitgen, type) or not issubclass(bitgen, np.random.BitGenerator):
                raise ValueError(f"DataLoader.load_state_dict: unknown bit generator {name!r}")
            self._rng = np.random.Generator(bitgen())
        self._rng.bit_generator.state = rng_state
        self._epoch = int(state["epoch"])
        self._resume_batch = int(state.get("batch", 0))
        self._running = False
        self._position = 0
        self._epoch_start_state = None

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)}"
            + (f", num_workers={self.num_workers})" if self.num_workers else ")")
        )
