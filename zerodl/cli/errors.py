"""What a ``zerodl`` user sees when something goes wrong: one line, ``zerodl: error: ...``.

Exit statuses: 2 for usage and bad input (a missing or damaged file, a bad option value), 1
for a failure while running (a read-only folder, a full disk, a diverged training run), 130
for Ctrl-C. Paths are checked here so that a folder given where a file is expected (and the
other way round) is named as such, rather than reported as missing.
"""
import errno
import os


class CommandError(Exception):
    """A user-facing error: printed as ``zerodl: error: ...``, exit status ``exit_code``."""

    exit_code = 2
    prefix = "error"


class RunFailure(CommandError):
    """The command was right but running it failed (disk, permissions, divergence)."""

    exit_code = 1


class Interrupted(CommandError):
    """Ctrl-C: the message says what was kept."""

    exit_code = 130
    prefix = "interrupted"


def one_line(text):
    """``text`` on one line (a multi-line library message joined with "; ")."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def need_file(path, what):
    """Raise unless ``path`` is an existing file; ``what`` names it ("model file")."""
    if os.path.isdir(path):
        raise CommandError(f"{path}: is a folder, not a {what}")
    if not os.path.exists(path):
        raise CommandError(f"{path}: no such {what}")


def need_folder(path, what):
    """Raise if ``path`` exists but is not a folder; ``what`` names it ("--out folder")."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CommandError(f"{path}: is a file, not a folder (the {what})")


_REASONS = {
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
}


def os_failure(e, doing):
    """A ``RunFailure`` for the ``OSError`` ``e`` met while ``doing`` (e.g. "write the model")."""
    where = getattr(e, "filename", None)
    reason = _REASONS.get(getattr(e, "errno", None)) or (e.strerror or str(e)).lower()
    shown = where and os.fspath(where) not in doing  # the path once, not twice
    text = f"cannot {doing}" + (f" ({os.fspath(where)})" if shown else "") + f": {reason}"
    return RunFailure(text)
