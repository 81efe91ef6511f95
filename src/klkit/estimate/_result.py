"""The result of every estimate: the value, its standard error and interval, and how."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Estimate"]


@dataclass(frozen=True)
class Estimate:
    """An estimated measure with its uncertainty; ``float(est)`` is the value.

    Attributes
    ----------
    value
        The estimate, in ``unit``.
    stderr
        Its standard error (``"quad"``: the integration error bound; ``"exact"``: 0).
    ci_low, ci_high
        The confidence interval at level ``confidence``.
    method
        ``"exact"``, ``"quad"``, ``"mc"``, ``"knn"`` or ``"plugin"``.
    n
        The sample size, ``(n, m)`` for two samples, None for exact or quadrature.
    unit
        ``"nats"``, ``"bits"``, ``"bans"`` or ``"log-base-b units"`` (as
        :func:`klkit.explain` names them).
    confidence
        The interval's level, 0.95 by default.
    note
        Anything the number alone does not say (e.g. which outcome made it infinite).
    """

    value: float
    stderr: float
    ci_low: float
    ci_high: float
    method: str
    n: int | tuple[int, int] | None
    unit: str = "nats"
    confidence: float = 0.95
    note: str = ""

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        sizes = "" if self.n is None else f", n={_sizes(self.n)}"
        label = {"knn": "kNN", "mc": "Monte Carlo", "plugin": "plug-in"}.get(
            self.method, self.method
        )
        if math.isnan(self.stderr):  # no interval: infinite, or groups=None
            text = f"{self.value:.3g} {self.unit} ({label}{sizes}, no interval)"
        else:
            text = (
                f"{self.value:.3g} {self.unit} ± {self.stderr:.2g} "
                f"({self.confidence:.0%} CI {self.ci_low:.3g}–{self.ci_high:.3g}, {label}{sizes})"  # noqa: RUF001
            )
        return f"{text}; {self.note}" if self.note else text


def _sizes(n: int | tuple[int, int]) -> str:
    return "/".join(str(v) for v in n) if isinstance(n, tuple) else str(n)
