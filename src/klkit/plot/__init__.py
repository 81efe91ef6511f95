"""Pictures of P, Q and the KL between them (matplotlib, the ``plot`` extra).

:func:`compare` draws P and Q side by side and, below them, the per-outcome terms
P log(P/Q) whose sum is D(P||Q): the "area between the two distributions" of the
founding post. :func:`decomposition` draws P and Q with the gap each outcome
contributes, beside H(P,Q) as a stacked bar of H(P) and D(P||Q). :func:`save`
writes a figure atomically.
"""

from __future__ import annotations

from klkit.plot._compare import compare
from klkit.plot._decomposition import decomposition
from klkit.plot._shared import COLORS, save

__all__ = ["COLORS", "compare", "decomposition", "save"]
