"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._core._checks import Checks, check_base
from klkit._core._errors import DistributionError

__all__ = ["Checks", "DistributionError", "check_base"]
