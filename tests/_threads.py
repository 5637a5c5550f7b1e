"""The one-thread / two-thread comparison the kernel tests share."""
import pytest

import zerodl as zd


def one_then_two_threads(run):
    """run() with zd.set_num_threads(1), then with 2 (needs threadpoolctl: skipped without);
    the setting is restored. -> (one, two)."""
    pytest.importorskip("threadpoolctl")
    before = zd.get_num_threads()
    try:
        zd.set_num_threads(1)
        one = run()
        zd.set_num_threads(2)
        return one, run()
    finally:
        zd.set_num_threads(before)
