"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._numerics import Base, resolve_base, unit_name

__all__ = ["Base", "resolve_base", "unit_name"]
