"""Plug-in estimates for discrete samples: frequencies from counts, smoothing, bias terms."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from klkit.estimate._inputs import NDArray

__all__ = [
    "check_smoothing",
    "count_labels",
    "delta_se",
    "entropy_of",
    "outcomes",
    "plugin_probs",
    "unseen_note",
    "xlogx_ratio",
]


def count_labels(labels: Iterable[Any]) -> Counter[Any]:
    return Counter(v.item() if hasattr(v, "item") else v for v in labels)


def check_smoothing(smoothing: object) -> float | None:
    if smoothing is None:
        return None
    if (
        isinstance(smoothing, bool)
        or not isinstance(smoothing, int | float | np.integer | np.floating)
        or not 0 <= smoothing < math.inf
    ):
        msg = (
            f"`smoothing` must be a finite pseudo-count >= 0 (1 Laplace, 0.5 Jeffreys) or "
            f"None; got {smoothing!r}."
        )
        raise ValueError(msg)
    return float(smoothing)


def plugin_probs(counts: Counter[Any], support: list[Any], smoothing: float | None) -> NDArray:
    alpha = 0.0 if smoothing is None else float(smoothing)
    c: NDArray = np.array([counts.get(s, 0) for s in support], dtype=np.float64) + alpha
    out: NDArray = c / c.sum()
    return out


def xlogx_ratio(p: NDArray, q: NDArray) -> float:
    keep = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[keep] * (np.log(p[keep]) - np.log(q[keep]))))


def entropy_of(p: NDArray) -> float:
    keep = p > 0
    return float(-np.sum(p[keep] * np.log(p[keep])))


def outcomes(*samples: NDArray) -> list[Any]:
    seen: set[Any] = set()
    for s in samples:
        seen.update(count_labels(s))
    return sorted(seen, key=lambda v: (type(v).__name__, v))


def unseen_note(support: list[Any], p: NDArray, q: NDArray, where: str) -> str:
    missing = [s for s, a, b in zip(support, p, q, strict=True) if a > 0 and b == 0]
    if not missing:
        return ""
    shown = ", ".join(repr(m) for m in missing[:3]) + (" ..." if len(missing) > 3 else "")
    if where == "samples":
        return (
            f"infinite because outcome {shown} appears in p's samples but never in q's; "
            "pass smoothing=0.5 (Jeffreys) or 1 (Laplace) for a finite estimate"
        )
    return f"infinite because outcome {shown} appears in p's samples but has probability 0 under q"


def delta_se(p: NDArray, q: NDArray, n: int, m: int | None) -> float:
    """First-order (delta-method) standard error of the plug-in KL of ``p`` against ``q``.

    ``Var = Var_p[log(p/q)] / n + (sum p^2/q - 1) / m``; the second term only when q
    is estimated from m samples. Used when a jackknife replicate is infinite (an
    outcome rare in q's samples left out with its group).
    """
    keep = p > 0
    ratio = np.log(p[keep]) - np.log(q[keep])
    mean = float(np.sum(p[keep] * ratio))
    var = (float(np.sum(p[keep] * ratio**2)) - mean**2) / n
    if m is not None:
        var += max(float(np.sum(p[keep] ** 2 / q[keep])) - 1.0, 0.0) / m
    return math.sqrt(max(var, 0.0))
