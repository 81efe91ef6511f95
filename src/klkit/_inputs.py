"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._core._inputs import Labels, Logits, LogProbs
from klkit._core._inputs import float_dtype as _float_dtype
from klkit._core._named import Named, align_named

__all__ = ["Labels", "LogProbs", "Logits", "Named", "_float_dtype", "align_named"]
