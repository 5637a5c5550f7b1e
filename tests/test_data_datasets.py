"""zerodl.data: IDX files, MNIST-like loading and downloading (no network), embedded data sets."""

import gzip
import hashlib
import os

import numpy as np
import pytest

from zerodl.data import datasets
from zerodl.data import download as dl
from zerodl.data.idx import read_idx, write_idx

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """No test touches the network or the user's cache or data folder."""
    calls = []

    def refuse(url, dest, timeout=60.0):
        calls.append(url)
        raise OSError(f"network disabled in tests ({url})")

    monkeypatch.setattr(dl, "fetch", refuse)
    monkeypatch.setenv("ZERODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ZERODL_DATA", raising=False)
    return calls


def fake_split(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    return images, labels


def write_split(folder, train, n, seed, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = fake_split(n, seed)
    ext = ".gz" if gz else ""
    write_idx(folder / (FILES[train][0] + ext), images)
    write_idx(folder / (FILES[train][1] + ext), labels)
    return images, labels


def leftovers(folder):
    return [p for p in os.listdir(folder) if p.endswith(".part") or p.endswith(".tmp")]


# ----------------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "dtype,shape",
    [("uint8", (4, 3, 2)), ("int8", (5,)), ("int16", (2, 3)), ("int32", (3, 1)), ("float32", (2, 2)), ("float64", (3,))],
)
def test_idx_round_trip(tmp_path, dtype, shape, gz):
    a = (np.arange(np.prod(shape)).reshape(shape) * 3 - 5).astype(dtype)
    if dtype == "uint8":
        a = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    path = tmp_path / ("a.idx" + (".gz" if gz else ""))
    write_idx(path, a)
    with open(path, "rb") as f:
        assert (f.read(2) == b"\x1f\x8b") == gz
    b = read_idx(path)
    assert b.dtype == a.dtype and b.dtype.isnative and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    b[...] = 0  # writable


def test_idx_header_layout_is_standard(tmp_path):
    write_idx(tmp_path / "x", np.array([[1, 2], [3, 4], [5, 6]], dtype=np.uint8))
    raw = (tmp_path / "x").read_bytes()
    assert raw == bytes([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6])
    write_idx(tmp_path / "y", np.array([1], dtype=np.int32))
    assert (tmp_path / "y").read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 0, 1])


def test_idx_gzip_detected_by_content_not_name(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "a.gz", a)
    os.rename(tmp_path / "a.gz", tmp_path / "no-extension")
    np.testing.assert_array_equal(read_idx(tmp_path / "no-extension"), a)


def test_idx_truncated_payload_refused(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, np.zeros((4, 5, 5), dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    with pytest.raises(ValueError, match=r"images-idx3-ubyte.*truncated.*\(4, 5, 5\).*100 payload bytes.*only 93"):
        read_idx(path)


def test_idx_truncated_gzip_refused(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, np.arange(200, dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"labels\.gz.*(truncated|corrupt)"):
        read_idx(path)


def test_idx_trailing_data_refused(tmp_path):
    path = tmp_path / "extra"
    write_idx(path, np.arange(4, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="extra.*trailing data"):
        read_idx(path)


def test_idx_wrong_magic_and_dtype_refused(tmp_path):
    path = tmp_path / "bad-magic"
    path.write_bytes(b"\x50\x4b\x03\x04" + b"\x00" * 20)  # a zip file, say
    with pytest.raises(ValueError, match="bad-magic.*wrong magic number 0x504b0304"):
        read_idx(path)
    path = tmp_path / "bad-code"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]))
    with pytest.raises(ValueError, match="bad-code.*dtype code 0x07"):
        read_idx(path)
    path = tmp_path / "short-header"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 1]))
    with pytest.raises(ValueError, match="short-header.*truncated inside its header"):
        read_idx(path)
    path = tmp_path / "tiny"
    path.write_bytes(b"\x00")
    with pytest.raises(ValueError, match="tiny.*only 1 bytes"):
        read_idx(path)


def test_write_idx_rejects_int64(tmp_path):
    with pytest.raises(ValueError, match="write_idx.*int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))


# -------------------------------------------------------------------------------- MNIST
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_fake_files_from_root(tmp_path, gz, no_network):
    root = tmp_path / "data"
    tr_x, tr_y = write_split(root, True, 6, seed=1, gz=gz)
    te_x, te_y = write_split(root, False, 4, seed=2, gz=gz)
    x, y = datasets.mnist(root=root)
    assert x.dtype == np.uint8 and x.shape == (6, 28, 28)
    assert y.dtype == np.int64 and y.shape == (6,)
    np.testing.assert_array_equal(x, tr_x)
    np.testing.assert_array_equal(y, tr_y)
    x, y = datasets.mnist(root=str(root), train=False)
    np.testing.assert_array_equal(x, te_x)
    np.testing.assert_array_equal(y, te_y)
    assert no_network == []


def test_mnist_finds_subfolder_and_env_var(tmp_path, monkeypatch):
    base = tmp_path / "all-data"
    mx, _ = write_split(base / "mnist", True, 3, seed=3)
    fx, _ = write_split(base / "fashion-mnist", True, 5, seed=4, gz=False)
    np.testing.assert_array_equal(datasets.mnist(root=base)[0], mx)
    monkeypatch.setenv("ZERODL_DATA", str(base))
    np.testing.assert_array_equal(datasets.mnist()[0], mx)
    np.testing.assert_array_equal(datasets.fashion_mnist()[0], fx)


def test_mnist_missing_files_download_false(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    with pytest.raises(FileNotFoundError) as e:
        datasets.mnist(root=root, download=False)
    msg = str(e.value)
    assert "download=False" in msg and str(root) in msg
    for name in FILES[True] + FILES[False]:
        assert name in msg
    assert "ZERODL_DATA" in msg


def test_mnist_download_failure_gives_helpful_error(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as e:
        datasets.mnist()
    msg = str(e.value)
    cache = str(tmp_path / "cache" / "mnist")
    assert cache in msg  # where to put the files
    assert "ZERODL_DATA" in msg and "root=" in msg
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "network disabled in tests" in msg  # why the download failed
    assert len(no_network) == 2  # both mirrors tried, for the first file
    assert all(u.startswith("https://") and u.endswith("train-images-idx3-ubyte.gz") for u in no_network)
    assert not os.path.exists(cache) or leftovers(cache) == []


def test_fashion_download_failure_names_its_cache(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"fashion_mnist.*Fashion-MNIST") as e:
        datasets.fashion_mnist(train=False)
    assert str(tmp_path / "cache" / "fashion-mnist") in str(e.value)


def test_mnist_rejects_inconsistent_files(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    write_idx(root / FILES[True][0], np.zeros((3, 5, 5), dtype=np.uint8))
    write_idx(root / FILES[True][1], np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"mnist.*\(N, 28, 28\).*\(3, 5, 5\)"):
        datasets.mnist(root=root)
    write_idx(root / FILES[True][0], np.zeros((3, 28, 28), dtype=np.uint8))
    write_idx(root / FILES[True][1], np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="3 images.*4 labels"):
        datasets.mnist(root=root)


def _serve(monkeypatch, payloads):
    """Replace the fetch function: the file name at the end of the URL -> bytes written."""
    calls = []

    def fake_fetch(url, dest, timeout=60.0):
        calls.append(url)
        name = url.rsplit("/", 1)[1]
        with open(dest, "wb") as f:
            f.write(payloads[name])
        if name == "broken":
            raise OSError("connection reset")

    monkeypatch.setattr(dl, "fetch", fake_fetch)
    return calls


def _gz_idx_bytes(tmp_path, array, name):
    p = tmp_path / name
    write_idx(p, array)
    return p.read_bytes()


def test_mnist_downloads_verified_files_into_cache(tmp_path, monkeypatch):
    images, labels = fake_split(4, seed=5)
    payloads = {
        FILES[False][0] + ".gz": _gz_idx_bytes(tmp_path, images, "i.gz"),
        FILES[False][1] + ".gz": _gz_idx_bytes(tmp_path, labels, "l.gz"),
    }
    gz_md5 = {k[:-3]: {hashlib.md5(v).hexdigest()} for k, v in payloads.items()}
    monkeypatch.setitem(datasets._MNIST, "gz", gz_md5)
    calls = _serve(monkeypatch, payloads)
    x, y = datasets.mnist(train=False)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    cache = tmp_path / "cache" / "mnist"
    assert sorted(os.listdir(cache)) == sorted(payloads)
    assert len(calls) == 2
    datasets.mnist(train=False)  # now cached: no more fetching
    assert len(calls) == 2


def test_bad_download_never_replaces_good_cached_file(tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "mnist"
    cache.mkdir(parents=True)
    good = _gz_idx_bytes(tmp_path, np.arange(10, dtype=np.uint8), "good.gz")
    target = cache / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(good)
    good_md5 = hashlib.md5(good).hexdigest()

    # A truncated copy (checksum mismatch), then a transfer that breaks half-way.
    _serve(monkeypatch, {"t10k-labels-idx1-ubyte.gz": good[:20]})
    with pytest.raises(dl.DownloadError, match="checksum mismatch"):
        dl.download_verified("t10k-labels-idx1-ubyte.gz", cache, ["https://a/", "https://b/"], md5s={good_md5})
    assert target.read_bytes() == good
    assert leftovers(cache) == []

    _serve(monkeypatch, {"broken": good[:20]})
    with pytest.raises(dl.DownloadError, match="connection reset"):
        dl.download_verified("broken", cache, ["https://a/"], md5s={good_md5})
    assert not (cache / "broken").exists() and leftovers(cache) == []

    # Right checksum but content that fails validation is refused too.
    _serve(monkeypatch, {"t10k-labels-idx1-ubyte.gz": good})

    def validate(path):
        raise ValueError("not what we wanted")

    with pytest.raises(dl.DownloadError, match="bad content: not what we wanted"):
        dl.download_verified("t10k-labels-idx1-ubyte.gz", cache, ["https://a/"], md5s={good_md5}, validate=validate)
    assert target.read_bytes() == good and leftovers(cache) == []

    # And a verified download does replace the file, atomically.
    newer = _gz_idx_bytes(tmp_path, np.arange(12, dtype=np.uint8), "newer.gz")
    _serve(monkeypatch, {"t10k-labels-idx1-ubyte.gz": newer})
    dl.download_verified("t10k-labels-idx1-ubyte.gz", cache, ["https://a/"], md5s={hashlib.md5(newer).hexdigest()})
    assert target.read_bytes() == newer and leftovers(cache) == []


def test_mnist_bad_download_keeps_cache_intact(tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "mnist"
    tr_x, tr_y = write_split(cache, True, 3, seed=6)
    before = {p: (cache / p).read_bytes() for p in os.listdir(cache)}
    # Test files are missing: the "mirror" serves garbage for them.
    _serve(monkeypatch, {FILES[False][0] + ".gz": b"\x1f\x8b garbage", FILES[False][1] + ".gz": b"junk"})
    with pytest.raises(FileNotFoundError, match="checksum mismatch"):
        datasets.mnist(train=False)
    assert {p: (cache / p).read_bytes() for p in os.listdir(cache)} == before
    np.testing.assert_array_equal(datasets.mnist()[0], tr_x)  # the good train files still load


def test_checksum_ok_accepts_raw_content_md5(tmp_path):
    a = np.arange(50, dtype=np.uint8)
    write_idx(tmp_path / "a", a)
    raw_md5 = hashlib.md5((tmp_path / "a").read_bytes()).hexdigest()
    (tmp_path / "a.gz").write_bytes(gzip.compress((tmp_path / "a").read_bytes(), compresslevel=1))
    assert dl.checksum_ok(tmp_path / "a.gz", raw_md5s={raw_md5})
    assert not dl.checksum_ok(tmp_path / "a.gz", md5s={raw_md5})
    assert not dl.checksum_ok(tmp_path / "a", raw_md5s={raw_md5})  # not gzip at all


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ZERODL_CACHE", str(tmp_path / "c"))
    assert dl.cache_dir("mnist") == tmp_path / "c" / "mnist"
    monkeypatch.delenv("ZERODL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert dl.cache_dir("mnist") == tmp_path / "x" / "zerodl" / "mnist"


# ------------------------------------------------------------------------- embedded data sets
def test_digits():
    x, t = datasets.digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.uint8
    assert t.shape == (1797,) and t.dtype == np.int64
    assert x.min() == 0 and x.max() == 16
    np.testing.assert_array_equal(np.bincount(t), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    np.testing.assert_array_equal(x[0, 0], [0, 0, 5, 13, 9, 1, 0, 0])
    np.testing.assert_array_equal(x[0, 1], [0, 0, 13, 15, 10, 15, 5, 0])
    np.testing.assert_array_equal(t[:10], np.arange(10))
    x[...] = 0  # a copy: the next call is unaffected
    assert datasets.digits()[0].max() == 16


def _dezero_spiral(seed):
    """DeZero's get_spiral, written out as in the book, for comparison."""
    np.random.seed(seed=seed)
    num_data, num_class = 100, 3
    x = np.zeros((num_data * num_class, 2), dtype=np.float32)
    t = np.zeros(num_data * num_class, dtype=np.int64)
    for j in range(num_class):
        for i in range(num_data):
            rate = i / num_data
            radius = 1.0 * rate
            theta = j * 4.0 + 4.0 * rate + np.random.randn() * 0.2
            ix = num_data * j + i
            x[ix] = np.array([radius * np.sin(theta), radius * np.cos(theta)]).flatten()
            t[ix] = j
    indices = np.random.permutation(num_data * num_class)
    return x[indices], t[indices]


def test_spiral():
    x, t = datasets.spiral()
    assert x.shape == (300, 2) and x.dtype == np.float32
    assert t.shape == (300,) and t.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(t), [100, 100, 100])
    assert np.all(np.hypot(x[:, 0], x[:, 1]) < 1.0)
    x2, t2 = datasets.spiral()
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, t2)
    rx, rt = _dezero_spiral(1984)
    sx, st = datasets.spiral(seed=1984)
    np.testing.assert_array_equal(sx, rx)
    np.testing.assert_array_equal(st, rt)
    x, t = datasets.spiral(n_per_class=7, n_classes=4, seed=1)
    assert x.shape == (28, 2) and sorted(np.bincount(t)) == [7, 7, 7, 7]
    with pytest.raises(ValueError, match="spiral.*n_classes"):
        datasets.spiral(n_classes=0)


def test_airline_passengers():
    a = datasets.airline_passengers()
    assert a.shape == (144,) and a.dtype == np.float32
    np.testing.assert_array_equal(a[:12], [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118])
    np.testing.assert_array_equal(a[-12:], [417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432])
    assert a.sum() == 40363
    assert a.argmax() == 138 and a.max() == 622  # July 1960 (12 * 11 + 6)
