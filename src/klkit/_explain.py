"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._api._explain import COLUMNS, Breakdown, explain

__all__ = ["COLUMNS", "Breakdown", "explain"]
