"""Hand-written peers that zerodl is measured against (the plain-NumPy floor)."""
