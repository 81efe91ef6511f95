"""Distributions through SciPy: closed forms, log-densities, draws, Monte Carlo means."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from klkit._api import _measures
from klkit._backends._namespace import to_numpy
from klkit._core._errors import DistributionError
from klkit.distributions import Dirichlet
from klkit.estimate._inputs import Dist, NDArray

__all__ = [
    "closed_form",
    "draw",
    "float64_limits",
    "log_density",
    "mean_and_se",
    "on_a_line",
    "own_log_density",
    "times",
]


def closed_form(name: str, p: Dist, q: Dist | None) -> float | None:
    values = [p.family] if q is None else [p.family, q.family]
    if any(v is None for v in values):
        return None
    try:  # the public measure: klkit's floating-point policy, as in kl.entropy(family)
        out = getattr(_measures, name)(*values)
    except DistributionError:
        return None
    return float(to_numpy(out).reshape(()))


def float64_limits() -> Any:
    """NumPy's error state for SciPy's density, quantile and tail evaluations.

    SciPy works in float64: standardising x as (x - loc) / scale overflows to +-inf
    far outside a very narrow law (normal(0, 1e-320)), and a density that underflows
    has log 0 = -inf. Those infinities are the right answers (a -inf log-density is a
    zero density) and klkit reads them as such. Parameters near the ends of float64
    can also make SciPy compute inf/inf: such a NaN is never used, it is an error (a
    NaN log-density in :func:`log_density`, a NaN draw in :func:`draw`, a NaN
    estimate in ``_intervals``), so NumPy is not asked to report it either.
    """
    return np.errstate(over="ignore", divide="ignore", invalid="ignore")


def log_density(d: Dist, x: NDArray) -> NDArray:
    with float64_limits():
        out = _scipy_log_density(d, x)
    if np.isnan(out).any() and not np.isnan(x).any():
        msg = (
            f"the log-density of {d.name} is NaN at some points: its parameters are beyond "
            "what SciPy computes in float64 (near 1e-300 or 1e300?); rescale the law."
        )
        raise ValueError(msg)
    return out


def own_log_density(d: Dist, x: NDArray) -> NDArray:
    """Log-density of ``d`` at its own draws: finite, or float64 has lost the law."""
    out = log_density(d, x)
    if not np.all(np.isfinite(out)):
        msg = (
            f"draws from {d.name} have a zero or infinite density under it: float64 "
            "cannot hold the law where it lives (a location near 1e308, or a scale near "
            "1e-300, rounds its draws onto its edge); rescale the law."
        )
        raise ValueError(msg)
    return out


def mean_and_se(values: NDArray) -> tuple[float, float]:
    """Monte Carlo mean and its standard error; +inf terms give +inf with no error.

    Terms beyond 1e150 (a KL of 1e305 nats) are scaled down first, so that neither
    their sum nor the squares of the standard deviation overflow where the mean and
    its error do not.
    """
    if not np.all(np.isfinite(values)):
        return (math.inf if np.all(values > -np.inf) else math.nan), math.nan
    top = float(np.max(np.abs(values), initial=0.0))
    scale = top if top > 1e150 else 1.0
    scaled = values / scale
    mean = float(np.mean(scaled)) * scale
    return mean, float(np.std(scaled, ddof=1)) * scale / math.sqrt(values.size)


def times(weight: NDArray, value: NDArray) -> NDArray:
    """``weight * value`` with 0 where the weight is 0 (a density that underflowed)."""
    out: NDArray = np.zeros(np.broadcast_shapes(weight.shape, value.shape))
    some = weight > 0
    out[some] = weight[some] * value[some]
    return out


def _scipy_log_density(d: Dist, x: NDArray) -> NDArray:
    if d.discrete:
        return np.asarray(d.frozen.logpmf(x), dtype=np.float64)
    if d.dim == 1:
        return np.asarray(d.frozen.logpdf(x.reshape(-1)), dtype=np.float64)
    if isinstance(d.family, Dirichlet):  # SciPy wants the outcomes first: (K, n)
        return np.asarray(d.frozen.logpdf(x.T), dtype=np.float64).reshape(-1)
    return np.asarray(d.frozen.logpdf(x), dtype=np.float64).reshape(-1)


def draw(d: Dist, n: int, rng: np.random.Generator) -> NDArray:
    try:
        with float64_limits():
            x = np.asarray(d.frozen.rvs(size=n, random_state=rng))
    except (TypeError, ValueError) as e:  # e.g. a binomial count NumPy cannot cast to int
        msg = f"cannot draw from {d.name} ({e}); check its parameters, or use another method."
        raise ValueError(msg) from None
    x = x.reshape(n) if d.discrete else x.reshape(n, -1).astype(np.float64)
    if not d.discrete and not np.all(np.isfinite(x)):
        msg = (
            f"draws from {d.name} overflow float64 (some are infinite or NaN): the law is "
            "too wide to sample; rescale it, or use method='quad' for a 1-D law."
        )
        raise ValueError(msg)
    return x


def on_a_line(*dists: Dist) -> bool:
    """Tell whether quadrature applies: 1-D laws with SciPy's support and quantiles."""
    return all(d.dim == 1 and hasattr(d.frozen, "ppf") for d in dists)
