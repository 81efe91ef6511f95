"""The public API: each measure's docstring and option checks, the one router, and explain."""
