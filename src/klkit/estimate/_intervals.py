"""Intervals: the delete-a-group jackknife, the interval options, scaling to the unit."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from klkit._numerics import resolve_base
from klkit.estimate._inputs import NDArray
from klkit.estimate._result import Estimate
from klkit.estimate._scipy import ss

__all__ = ["JS_RANGE", "NONNEGATIVE", "REAL_LINE", "How", "done", "interval_options", "resampled"]


def _jackknife(
    stat: Callable[[Sequence[NDArray]], float],
    data: Sequence[NDArray],
    *,
    groups: int | None,
    rng: np.random.Generator,
    fallback: Callable[[], float] | None = None,
    min_points: int = 1,
) -> tuple[float, float, int]:
    """``(estimate, standard error, groups used)`` by the delete-a-group jackknife.

    Each sample is split into ``groups`` random groups; estimate ``g`` leaves group
    ``g`` out of every sample at once. Variance ``(G - 1)/G * sum (t_g - mean t)^2``.
    ``G`` is at most the smallest sample size (no empty groups), and small enough that
    every replicate keeps ``min_points`` points; below 2 groups there is no interval.
    If a replicate is infinite while the estimate is not, ``fallback()`` gives the
    standard error.
    """
    value = stat(data)
    if groups is None:
        return value, math.nan, 0
    smallest = min(len(a) for a in data)
    groups = min(groups, smallest)
    while groups >= 2 and smallest - math.ceil(smallest / groups) < min_points:
        groups -= 1  # every replicate keeps what the estimator needs (k + 1 points: kNN)
    if groups < 2 or not math.isfinite(value):
        return value, math.nan, groups
    labels = [rng.permutation(len(a)) % groups for a in data]
    leave_out = [
        stat([a[lab != g] for a, lab in zip(data, labels, strict=True)]) for g in range(groups)
    ]
    t = np.asarray(leave_out)
    if not np.all(np.isfinite(t)):  # a replicate lost every copy of a rare outcome
        return value, fallback() if fallback is not None else math.nan, groups
    return value, float(math.sqrt((groups - 1) / groups * np.sum((t - t.mean()) ** 2))), groups


@dataclass(frozen=True)
class How:
    """The caller's interval options, and the range of the measure (in nats)."""

    groups: int | None
    rng: np.random.Generator
    base: float | str | None
    confidence: float
    bounds: tuple[float, float]


NONNEGATIVE = (0.0, math.inf)  # KL, and the entropy of a discrete law
REAL_LINE = (-math.inf, math.inf)  # a differential entropy
JS_RANGE = (0.0, math.log(2))


def interval_options(
    groups: object,
    rng: np.random.Generator,
    base: float | str | None,
    confidence: object,
    bounds: tuple[float, float],
) -> How:
    """Check the interval options before any work, and keep them with the range."""
    resolve_base(base)
    return How(_check_groups(groups), rng, base, _check_confidence(confidence), bounds)


def done(how: How, value: float, stderr: float, **kwargs: Any) -> Estimate:
    return _finish(
        value, stderr, base=how.base, confidence=how.confidence, bounds=how.bounds, **kwargs
    )


def _check_groups(groups: object) -> int | None:
    if groups is None:
        return None
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 2:
        msg = (
            f"`groups` must be a whole number >= 2 (the jackknife leaves each group out "
            f"once), or None for no interval; got {groups!r}."
        )
        raise ValueError(msg)
    return int(groups)


def _check_confidence(confidence: object) -> float:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float | np.floating)
        or not 0 < confidence < 1
    ):
        msg = f"`confidence` must be a number between 0 and 1, e.g. 0.95; got {confidence!r}."
        raise ValueError(msg)
    return float(confidence)


def resampled(
    stat: Callable[[Sequence[NDArray]], float],
    data: Sequence[NDArray],
    *,
    how: How,
    method: str,
    n: int | tuple[int, int],
    note: str = "",
    fallback: Callable[[], float] | None = None,
    min_points: int = 1,
) -> Estimate:
    """Estimate from samples, with the jackknife interval (t with G - 1 dof)."""
    value, se, used = _jackknife(
        stat, data, groups=how.groups, rng=how.rng, fallback=fallback, min_points=min_points
    )
    return _finish(
        value,
        se,
        method=method,
        n=n,
        base=how.base,
        confidence=how.confidence,
        bounds=how.bounds,
        dof=used - 1,
        note=note,
    )


def _finish(
    value: float,
    stderr: float,
    *,
    method: str,
    n: int | tuple[int, int] | None,
    base: float | str | None,
    confidence: float,
    bounds: tuple[float, float],
    dof: int | None = None,
    note: str = "",
    bound: bool = False,
) -> Estimate:
    """Scale to ``base`` and build the interval, cut to ``bounds`` (the measure's range)."""
    log_base = resolve_base(base)
    scale = 1.0 if log_base.log is None else 1.0 / log_base.log
    if bound or stderr == 0 or math.isnan(stderr):
        half = stderr
    elif dof is not None:
        half = float(ss.t.ppf(0.5 + confidence / 2, dof)) * stderr
    else:
        half = float(ss.norm.ppf(0.5 + confidence / 2)) * stderr
    if bound and math.isinf(stderr) and not note:
        note = "the integral did not converge: no error bound, and it may be infinite"
    if math.isnan(value):
        msg = (
            f"the {method} estimate came out NaN: the densities overflow or underflow "
            "float64 where they were evaluated (parameters near 1e-300 or 1e300?); rescale "
            "the laws, or try another method."
        )
        raise ValueError(msg)
    if math.isinf(value):
        stderr, half = math.nan, math.nan
    if math.isinf(value) or math.isnan(half):
        lo, hi = (value, value) if math.isinf(value) else (math.nan, math.nan)
    else:
        low, high = bounds
        lo = min(max(value - half, low), high)  # an interval entirely outside the range
        hi = max(min(value + half, high), low)  # shrinks to the nearest end of it
    return Estimate(
        value * scale,
        stderr * scale,
        lo * scale,
        hi * scale,
        method,
        n,
        log_base.unit,
        confidence,
        note,
    )
