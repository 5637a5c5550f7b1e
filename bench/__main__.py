"""``python -m bench`` runs the benchmark driver (see bench/run.py)."""
import sys

from bench.run import main

sys.exit(main(prog="python -m bench"))
