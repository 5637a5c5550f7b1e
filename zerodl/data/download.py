"""Checksummed downloads into a local cache, with atomic replacement.

A file is fetched to a temporary file next to its destination, verified
(checksum, then an optional content check), and only then renamed over the
destination. A failed, partial or corrupt download therefore never replaces
(or half-writes) a cached file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

__all__ = ["cache_dir", "fetch", "download_verified", "DownloadError"]

USER_AGENT = "zerodl (https://pypi.org/project/zerodl/) python-urllib"


class DownloadError(OSError):
    """A file could not be downloaded from any mirror (or failed verification)."""


def cache_dir(name: str | None = None) -> Path:
    """The cache folder: ``$ZERODL_CACHE``, else ``$XDG_CACHE_HOME/zerodl``, else ``~/.cache/zerodl``.

    With ``name``, the sub-folder for that data set (not created here).
    """
    root = os.environ.get("ZERODL_CACHE")
    if root:
        base = Path(root).expanduser()
    elif os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "zerodl"
    else:
        base = Path.home() / ".cache" / "zerodl"
    return base / name if name else base


def fetch(url: str, dest, timeout: float = 60.0) -> None:
    """Download ``url`` into the (temporary) file ``dest``. Raises on any network error.

    Kept as one small module-level function so that tests can replace it.
    """
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:
        shutil.copyfileobj(resp, out, length=1 << 20)


def file_hash(path, algorithm: str = "md5", decompress: bool = False) -> str:
    """Hex digest of a file's bytes (of its gunzipped content when ``decompress``)."""
    h = hashlib.new(algorithm)
    opener = gzip.open if decompress else open
    with opener(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksum_ok(path, md5s=(), raw_md5s=()) -> bool:
    """True if the file's MD5 is in ``md5s``, or its gunzipped content's MD5 is in ``raw_md5s``.

    With neither given, nothing can be verified and the answer is False.
    """
    try:
        if md5s and file_hash(path) in md5s:
            return True
        if raw_md5s and file_hash(path, decompress=True) in raw_md5s:
            return True
    except (OSError, EOFError, ValueError):
        return False
    return False


def download_verified(filename: str, folder, mirrors, md5s=(), raw_md5s=(), validate=None, timeout=60.0) -> Path:
    """Download ``filename`` from the first mirror that gives a verified copy.

    Each mirror URL is ``mirror + filename``. The bytes go to a temporary file
    in ``folder``; it must pass :func:`checksum_ok` and then ``validate(path)``
    (which raises on bad content) before it is atomically renamed to
    ``folder/filename``. Returns that path.

    Raises
    ------
    DownloadError
        Listing every mirror tried and why it failed. ``folder/filename`` is
        left exactly as it was.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / filename
    errors = []
    for mirror in mirrors:
        url = mirror + filename
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
        os.close(fd)
        try:
            try:
                fetch(url, tmp, timeout=timeout)
            except Exception as e:  # network errors come in many classes
                errors.append(f"{url}: {type(e).__name__}: {e}")
                continue
            if not checksum_ok(tmp, md5s, raw_md5s):
                errors.append(f"{url}: checksum mismatch (got md5 {file_hash(tmp)})")
                continue
            if validate is not None:
                try:
                    validate(tmp)
                except Exception as e:
                    errors.append(f"{url}: bad content: {e}")
                    continue
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, dest)
            return dest
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise DownloadError(f"could not download {filename}:\n  " + "\n  ".join(errors or ["no mirrors given"]))
