"""Atomic file writes: a crash, an exception or a full disk never leaves a half-written file.

The data goes to a temporary file in the destination's folder (same file system, so the final
rename is atomic), which is flushed and fsync'ed, then ``os.replace``d over the destination, and
the folder itself is fsync'ed so the rename survives a power cut. If anything fails before the
rename, the temporary file is removed and the old file (if any) is left untouched.

    atomic_write("log.csv", "a,b\\n1,2\\n")               # str: written as UTF-8 text
    atomic_write("model.bin", b"...")                     # bytes
    atomic_write("out.csv", lambda f: f.write("x"), text=True)   # callback gets the open file
    with atomic_open("out.json", "w") as f:               # or as a context manager
        json.dump(obj, f)
"""
import contextlib
import os
import secrets
import stat

__all__ = ["atomic_write", "atomic_open"]


def _fsync_dir(folder):
    if os.name != "posix":  # Windows cannot open a directory for fsync
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode="wb", *, encoding=None, newline=None):
    """Open a temporary file that replaces ``path`` atomically when the ``with`` block ends
    without an exception. ``mode`` is ``"wb"`` (bytes) or ``"w"`` (text, UTF-8 by default).
    A symbolic link at ``path`` is followed (its target is replaced)."""
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    path = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path!r}: the folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # 0o666 & ~umask: the permissions of an ordinary new file
    try:
        try:  # keep the permissions of the file being replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        except OSError:
            pass
        if "b" in mode:
            f = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
        fd = None  # owned by f now
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def atomic_write(path, data, *, text=None, encoding="utf-8", newline=None):
    """Write ``data`` to ``path`` atomically and return ``path``.

    ``data`` is ``bytes`` (or any buffer), ``str`` (written as text), or a callable
    ``data(f)`` that writes into the open temporary file ``f`` (binary, or text when
    ``text=True``). If the callable raises, the exception propagates, nothing is renamed and the
    old file is left as it was.
    """
    if callable(data):
        with atomic_open(path, "w" if text else "wb", encoding=encoding, newline=newline) as f:
            data(f)
    elif isinstance(data, str):
        with atomic_open(path, "w", encoding=encoding, newline=newline) as f:
            f.write(data)
    else:
        if text:
            raise TypeError("atomic_write: text=True needs str data or a callable")
        with atomic_open(path, "wb") as f:
            f.write(memoryview(data))
    return path
