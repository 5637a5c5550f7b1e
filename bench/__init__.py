"""zerodl benchmark harness: zerodl vs PyTorch (CPU) vs a plain-NumPy floor.

Run ``python -m bench --help`` (or ``python bench/run.py --help``).  Each framework's
workload runs in a fresh subprocess (``bench.child``) so that timings and peak memory
are per framework; the driver (``bench.run``) alternates the frameworks run by run.
PyTorch is used for comparison only: it is never a zerodl dependency.
"""
