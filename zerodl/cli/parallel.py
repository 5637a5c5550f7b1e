"""``mpiexec -n N zerodl train --distributed``: what the train command does on several ranks.

Every rank loads the data, builds the model and trains on its shard (``fit(distributed=...)``);
rank 0 alone claims the run folder (its lock, ``run.json``, the resume check), prints, and
writes the history, the checkpoint and the model. The other ranks learn the folder and
whether the run resumes from rank 0, and read the same checkpoint when it does. A rank that
fails (a bad folder, a diverged loss, a backup made with another number of ranks, Ctrl-C)
prints its one-line message and aborts the whole job, so no rank is left waiting in an
Allreduce.
"""
import contextlib
import sys

from .. import distributed as dist
from .errors import CommandError, one_line
from .run_folder import RunFolder

__all__ = ["Ranks"]


class _FolderOfRankZero(RunFolder):
    """Rank 0's RunFolder as the other ranks see it: its path and resume flag, and the
    read-only questions (``file``, ``checkpoint_dir``, ``checkpoint_epochs``); no lock, no writes."""

    def __init__(self, path, resume):  # noqa: D107 - RunFolder's claiming __init__ is rank 0's
        self.path, self.resume, self.explicit, self._lock_file = path, resume, True, None


class Ranks:
    """The ranks of one ``zerodl train``: ``strategy`` (None in a single process), ``writer``."""

    def __init__(self, distributed):
        try:
            self.strategy = dist.resolve(True if distributed else None)
        except ImportError as e:
            raise CommandError(one_line(e)) from None
        self.writer = self.strategy is None or self.strategy.is_writer
        self.world_size = 1 if self.strategy is None else self.strategy.world_size

    def folder(self, claim):
        """``claim()`` (a RunFolder) on rank 0; on the others, its path and resume flag."""
        if self.world_size == 1:
            return claim()
        info, run = {"error": None}, None
        if self.writer:
            try:
                run = claim()
                info.update(path=run.path, resume=run.resume)
            except CommandError as e:
                info["error"] = str(e)
        info = dist.broadcast_object(info)
        if info["error"] is not None:
            raise CommandError(info["error"])
        return run if self.writer else _FolderOfRankZero(info["path"], info["resume"])

    @contextlib.contextmanager
    def abort_on_failure(self):
        """A rank whose command fails ends the job: message, then ``MPI_Abort``."""
        try:
            yield self
        except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - any failure must end every rank
            if self.world_size == 1:
                raise
            if isinstance(e, CommandError):
                text, prefix = str(e), e.prefix
            elif isinstance(e, KeyboardInterrupt):
                text, prefix = "stopped by Ctrl-C", "interrupted"
            else:
                text, prefix = f"{type(e).__name__}: {one_line(e)}", "error"
            print(f"zerodl: {prefix}: rank {self.strategy.rank} of {self.world_size}: {text}", file=sys.stderr,
                  flush=True)
            dist.abort(getattr(e, "exit_code", 130 if isinstance(e, KeyboardInterrupt) else 1))
