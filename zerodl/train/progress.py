"""Progress output of ``fit``: a tqdm bar on a terminal, one plain line per epoch elsewhere.

- ``verbose=0``: silent.
- ``verbose=1``: on a terminal, a tqdm bar during each epoch (``Epoch 3/10``) whose postfix
  shows the running loss and metrics (refreshed at most every 0.1 s); when the epoch ends the
  bar is replaced by the epoch's line (below), which is never truncated however many metrics
  there are. When stdout is not a terminal (a log file, a pipe, CI, pytest's capture), only
  the line per epoch, so logs stay readable.
- ``verbose=2``: always one line per epoch.

The line: ``Epoch 3/10 - 1.2s - loss: 0.1234 - accuracy: 0.9612 - val_loss: 0.2345 - ...``
(an epoch under a second reads ``250ms``). tqdm is imported only when a bar is shown, so
``import zerodl`` needs only NumPy.
"""
import io
import math
import os
import sys
import time

__all__ = ["Progress", "format_logs", "format_value"]


def format_value(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return f"{v:.4f}"
    return f"{v:.4e}"


def format_logs(logs, sep=" - "):
    return sep.join(f"{k}: {format_value(v)}" for k, v in logs.items())


def _width(stream):
    """Columns of the terminal behind ``stream`` (0 when unknown, e.g. a pty without a size)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return 0


def _is_tty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Reports ``fit``'s epochs. ``bar`` is True when per-batch updates are wanted."""

    REFRESH = 0.1  # seconds between postfix updates of the bar

    def __init__(self, verbose, epochs, steps, stream=None):
        self.stream = stream if stream is not None else sys.stdout
        self.epochs = epochs
        self.steps = steps
        if verbose == 1 and _is_tty(self.stream):
            self.mode = "bar"
        elif verbose in (1, 2):
            self.mode = "line"
        else:
            self.mode = None
        self.bar = self.mode == "bar"
        self._tqdm = None
        self._last = 0.0
        self._done = 0
        self._t0 = 0.0

    def epoch_begin(self, epoch):
        self._t0 = time.perf_counter()
        if self.mode == "bar":
            from tqdm import tqdm

            # A terminal that reports no size (some ptys, CI consoles) would get an empty bar.
            size = {} if _width(self.stream) > 0 else {"ncols": 100, "nrows": 24}
            self._tqdm = tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}", unit="batch",
                              file=self.stream, leave=False, mininterval=self.REFRESH,
                              bar_format="{desc}: {n_fmt}/{total_fmt} |{bar:16}| {elapsed}<{remaining}{postfix}",
                              dynamic_ncols=not size, **size)
            self._done = 0
            self._last = self._t0

    def batch_end(self, batches_done, running_logs):
        """Bar mode only: ``running_logs()`` gives the running means (called at most every 0.1 s)."""
        now = time.perf_counter()
        if now - self._last < self.REFRESH:
            return
        self._last = now
        bar = self._tqdm
        if bar is None:
            return
        bar.set_postfix_str(format_logs(running_logs(), sep=", "), refresh=False)
        bar.update(batches_done - self._done)
        self._done = batches_done

    def epoch_end(self, epoch, logs, batches_done=None):
        seconds = time.perf_counter() - self._t0
        if self.mode is None:
            return
        if self._tqdm is not None:
            self._tqdm.close()  # leave=False: the bar is cleared, the line below replaces it
            self._tqdm = None
        if self.mode in ("bar", "line"):
            body = format_logs(logs)
            took = f"{seconds:.1f}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"
            line = f"Epoch {epoch + 1}/{self.epochs} - {took}" + (f" - {body}" if body else "")
            print(line, file=self.stream, flush=True)

    def close(self):
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
