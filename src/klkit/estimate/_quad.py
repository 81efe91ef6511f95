"""Quadrature for 1-D densities and sums over a discrete support, with error bounds."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable

import numpy as np

from klkit._numerics import max_support
from klkit.estimate._density import float64_limits, log_density
from klkit.estimate._inputs import Dist, NDArray
from klkit.estimate._scipy import si

__all__ = ["quad_or_sum"]


def quad_or_sum(terms: Callable[[NDArray], NDArray], d: Dist) -> tuple[float, float]:
    """Integrate ``terms`` over P's support (1-D density), or sum it (discrete).

    Returns the value and an error bound: ``quad``'s own, or for an infinite discrete
    support the mass left beyond the last block times the largest term ratio seen.
    """
    with float64_limits():
        return _integrate(terms, d)


def _integrate(terms: Callable[[NDArray], NDArray], d: Dist) -> tuple[float, float]:
    lo, hi = (float(v) for v in d.frozen.support())
    if not d.discrete:
        # Split at P's quantiles: one quad over (-inf, inf) can miss mass far from 0
        # entirely (N(50, 1) came out as 0 with a 0 error bound).
        with warnings.catch_warnings():
            # Split points only: SciPy's root finding may give up on a far quantile
            # (beta(0.5, 2).ppf(1e-12) says so in a RuntimeWarning), and an inexact
            # quantile is still a valid place to split the integral.
            warnings.simplefilter("ignore", RuntimeWarning)
            inner = np.asarray(d.frozen.ppf([1e-12, 1e-4, 0.1, 0.5, 0.9, 1 - 1e-4, 1 - 1e-12]))
        central = inner[1:-1][np.isfinite(inner[1:-1])]
        if len(set(central.tolist())) < 5:  # P's spread is below float64's resolution
            return math.nan, math.inf  # where it lives (lognorm(1e-300)): no grid sees it
        if float(np.max(log_density(d, central))) > _LOG_HUGE:
            return math.nan, math.inf  # a density near 1e300 (normal(0, 1e-320)) overflows
        edges = [lo, *sorted({float(v) for v in inner if lo < v < hi}), hi]
        value = err = 0.0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", si.IntegrationWarning)
            for a, b in itertools.pairwise(edges):
                part, e = si.quad(lambda t: float(terms(np.array([t]))[0]), a, b, limit=200)
                value, err = value + float(part), err + float(e)
        others = [w for w in caught if not issubclass(w.category, si.IntegrationWarning)]
        for w in others:  # recorded only to read quad's own; any other is shown as it was
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        if len(others) < len(caught):
            err = math.inf  # divergent or unresolved: no bound (the value may be infinite)
        return value, err
    # Start where P's mass starts (binom(1e10, 0.5) has none below 4.9e9), in blocks
    # that double, and stop once less than 1e-17 of it is left; the mass skipped on
    # either side, times the largest term ratio seen, is the error bound.
    first = float(d.frozen.ppf(_TAIL))
    start = max(lo, first - 1) if math.isfinite(first) else lo
    skipped = float(d.frozen.cdf(start - 1)) if start > lo else 0.0
    total, block, ratio, summed = 0.0, 4096, 0.0, 0
    limit = max_support()
    while True:
        stop = start + block if not math.isfinite(hi) else min(start + block, hi + 1)
        summed += int(stop - start)
        if summed > limit or stop > 2.0**53:  # float64 no longer counts single points
            raise _support_error(d, limit)
        ks = np.arange(start, stop)
        t = terms(ks)
        total += float(np.sum(t))
        pmf = np.asarray(d.frozen.pmf(ks), dtype=np.float64)
        keep = pmf > 0
        ratio = max(ratio, float(np.max(np.abs(t[keep] / pmf[keep]), initial=0.0)))
        start, block = stop, min(2 * block, 2**20)
        if not math.isfinite(total):
            return total, 0.0
        left = 0.0 if math.isfinite(hi) and start > hi else float(d.frozen.sf(start - 1))
        if left < _TAIL:
            return total, (left + skipped) * (1 + ratio)


_LOG_HUGE = 690.0
"""Log-densities above this (densities above 1e299) are beyond what quadrature can sum."""

_TAIL = 1e-17
"""Mass of a discrete law left out of a sum over its support, at each end."""


def _support_error(d: Dist, limit: int) -> ValueError:
    return ValueError(
        f"summing {d.name} over its support would take more than {limit:,} points, the "
        "limit (KLKIT_MAX_SUPPORT), or points beyond 2**53, which float64 cannot count; "
        "use method='mc', or raise the limit with the environment variable "
        f"KLKIT_MAX_SUPPORT (e.g. KLKIT_MAX_SUPPORT={limit * 10})."
    )
