"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._numerics import NEAR, series

__all__ = ["NEAR", "series"]
