"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit.distributions._scipy import NoFamilyError, from_scipy, is_scipy_frozen

__all__ = ["NoFamilyError", "from_scipy", "is_scipy_frozen"]
