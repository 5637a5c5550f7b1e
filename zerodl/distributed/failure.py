"""One failing rank ends the whole job: the global exception hook that calls ``MPI_Abort``.

Without it, a rank that raises would finalise MPI and exit while the others wait forever in
their next Allreduce. The hook prints the failing rank's traceback (prefixed with its rank)
to stderr, flushes, and aborts ``COMM_WORLD``; the launcher then ends every other rank. A
rank that dies outright (SIGKILL, out of memory) is noticed by the launcher itself
(``mpiexec`` reports the signal and kills the rest). ``sys.exit(code)`` with a non-zero code
is not an exception the hook sees: a script that wants to stop one rank should call
``zerodl.distributed.abort(code)``.
"""
import sys
import threading
import traceback

__all__ = ["install", "report_and_abort"]

_installed = {"comm": None}


def report_and_abort(comm, exc_type, exc, tb, code=1):
    """Print ``[rank r/n]``-prefixed traceback lines to stderr, then ``comm.Abort(code)``."""
    prefix = f"[rank {comm.Get_rank()}/{comm.Get_size()}] "
    try:
        lines = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n").splitlines()
        sys.stderr.write("".join(prefix + line + "\n" for line in lines))
        sys.stderr.write(f"{prefix}zerodl.distributed: aborting the job because rank "
                         f"{comm.Get_rank()} failed ({exc_type.__name__}: {exc})\n")
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        comm.Abort(code)


def install(comm):
    """Route uncaught exceptions (main thread and other threads) to :func:`report_and_abort`."""
    if _installed["comm"] is comm:
        return
    _installed["comm"] = comm
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
        report_and_abort(comm, exc_type, exc, tb)

    def thread_hook(args):
        if args.exc_type is SystemExit:
            return
        report_and_abort(comm, args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
