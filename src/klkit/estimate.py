"""Estimates with error bars: from samples, or for distributions without a closed form.

``klkit.estimate.kl_divergence(x, y)`` takes samples (shape ``(n,)`` or ``(n, d)``),
distribution objects (klkit families or frozen ``scipy.stats`` distributions), or one
of each, and returns an :class:`Estimate`: the value, a standard error and a
confidence interval, the method used and the sample sizes.

Methods (``method="auto"`` picks from the input and reports its choice):

``"exact"``
    Two distributions with a closed form (:mod:`klkit`'s families); standard error 0.
``"quad"``
    Two 1-D distributions without one: adaptive quadrature (``scipy.integrate.quad``)
    for densities, a sum over the support for discrete laws. ``stderr`` is the
    integrator's error bound and the interval is value +- that bound.
``"mc"``
    Monte Carlo: ``n`` draws from P (default 100 000; ``rng=`` for reproducibility),
    the CLT standard error, a normal interval.
``"knn"``
    Continuous samples: the k-nearest-neighbour estimators of Kozachenko and
    Leonenko (entropy) and Wang, Kulkarni and Verdu (2009, KL) on SciPy's
    ``cKDTree`` (all cores). Repeated values (rounded measurements) are first spread
    uniformly within their resolution (the estimate's ``note`` says so); a tie that
    remains is counted inside the ball, with the matching ``psi`` correction of Wang
    et al., so no log(0) is ever taken. Samples
    against a distribution: the kNN entropy of the samples plus the distribution's
    log-density (KL); a distribution against samples: ``n`` draws from the
    distribution (default: as many as there are samples), then the sample estimator.
``"plugin"``
    Discrete samples (integers, booleans or strings): frequencies from counts, with
    ``smoothing=`` pseudo-counts (None, 1 for Laplace, 0.5 for Jeffreys, or any
    number) and optional Miller-Madow bias correction (``miller_madow=True``).

Intervals for sample-based estimates come from the delete-a-group jackknife
(``groups`` random groups, each left out once, drawn with ``rng``): unlike the
bootstrap it never duplicates points, which would shrink nearest-neighbour
distances to zero. The interval uses Student's t with ``groups - 1`` degrees of
freedom; ``groups=None`` skips it (no standard error, no interval). Results are in
nats, or in the unit of ``base`` (a number > 1 or a unit name such as ``"bits"``;
units are named as :func:`klkit.explain` names them).

Every interval is cut to the range the measure can take: ``[0, inf)`` for the KL
divergence and for the entropy of a discrete law, ``[0, log 2]`` for the
Jensen-Shannon divergence (in the unit of ``base``); a differential entropy can be
negative and is not cut. The estimate itself is never moved: a kNN KL of two close
samples may come out slightly below 0, with an interval that starts at 0.

Summing a discrete law over its support starts at its 1e-17 quantile and stops at
``KLKIT_MAX_SUPPORT`` points (an environment variable, default 10 000 000): a larger
sum is a ValueError that names the limit; use ``method="mc"`` or raise the limit.

This module needs SciPy (``pip install klkit[estimate]``); ``import klkit`` does not.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

try:
    import scipy.integrate as si
    import scipy.special as sp
    import scipy.stats as ss
    from scipy.spatial import cKDTree
except ModuleNotFoundError as _missing:  # one line naming the extra, as the CLI says it
    if not (_missing.name or "").startswith("scipy"):
        raise
    _msg = "klkit.estimate needs SciPy; install it with: pip install 'klkit[estimate]'"
    raise ModuleNotFoundError(_msg, name=_missing.name) from None

from klkit import _compat, _measures
from klkit import _families as fam
from klkit._scipy_dists import NoFamilyError, from_scipy, is_scipy_frozen
from klkit._units import resolve_base
from klkit._validation import DistributionError
from klkit.distributions._scipy import to_scipy

__all__ = ["Estimate", "entropy", "js_divergence", "kl_divergence"]

Method = Literal["auto", "exact", "quad", "mc", "knn", "plugin"]
_NDArray = np.ndarray[Any, Any]


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


# --- inputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dist:
    """One distribution as SciPy sees it (for densities, sampling and supports)."""

    family: fam.Family | None  # None: a SciPy distribution klkit has no family for
    frozen: Any  # a frozen scipy.stats distribution
    discrete: bool
    dim: int

    @property
    def name(self) -> str:
        if self.family is not None and not isinstance(self.family, fam.Affine):
            return type(self.family).__name__
        return f"scipy.stats.{getattr(self.frozen.dist, 'name', type(self.frozen).__name__)}"


@dataclass(frozen=True)
class _Samples:
    data: _NDArray  # (n, d) floats, or (n,) discrete labels
    discrete: bool

    @property
    def n(self) -> int:
        return int(self.data.shape[0])


def _as_input(x: Any, name: str) -> _Dist | _Samples:
    if isinstance(x, fam.Family):
        return _dist(x, to_scipy(x, name))
    if is_scipy_frozen(x):
        # SciPy's own object gives densities and draws (with its loc and scale); the
        # family, when there is one, gives the closed forms.
        try:
            # converted as the public measures convert it, under klkit's floating-point
            # policy (_measures._quiet): 1/scale overflowing to inf is then refused by
            # the family's own parameter check, in words
            with np.errstate(all="ignore"):
                family: fam.Family | None = from_scipy(x)
        except NoFamilyError:  # invalid parameters still raise
            family = None
        if family is not None:
            batch = family.batch_shape
        elif hasattr(x, "dist"):  # the parameters' shape; x.mean() would compute
            batch = np.broadcast_shapes(*(np.shape(v) for v in (*x.args, *x.kwds.values())))
        else:
            batch = ()
        if (family is not None or hasattr(x, "dist")) and batch != ():
            msg = (
                f"klkit.estimate takes single distributions; `{name}` is a batch of shape "
                f"{batch}. Estimate each member separately."
            )
            raise ValueError(msg)
        return _dist(family, x)
    return _samples(x, name)


def _dist(family: fam.Family | None, frozen: Any) -> _Dist:
    discrete = hasattr(frozen.dist, "pmf") if hasattr(frozen, "dist") else False
    if isinstance(family, fam.Dirichlet):
        dim = int(np.size(frozen.alpha))
    elif hasattr(frozen, "cov") or hasattr(frozen, "dim"):
        dim = int(getattr(frozen, "dim", np.size(getattr(frozen, "mean", 1))))
    else:
        dim = 1
    return _Dist(family, frozen, discrete, dim)


def _samples(x: Any, name: str) -> _Samples:
    try:
        arr = _compat.to_numpy(x) if fam._is_array(x) else np.asarray(x)
    except (TypeError, ValueError) as exc:
        msg = f"`{name}` must be samples (an array of shape (n,) or (n, d)) or a distribution."
        raise TypeError(msg) from exc
    if arr.ndim not in (1, 2) or arr.shape[0] < 2:
        msg = (
            f"`{name}` has shape {arr.shape}; samples must have shape (n,) or (n, d) "
            "with n >= 2 (one row per draw)."
        )
        raise ValueError(msg)
    if arr.dtype.kind in "biuUSO":
        if arr.ndim != 1:
            msg = f"`{name}`: discrete samples must be one label per draw, shape (n,)."
            raise ValueError(msg)
        return _Samples(arr, discrete=True)
    if arr.dtype.kind != "f":
        msg = f"`{name}` has dtype {arr.dtype}; pass numbers (continuous) or labels."
        raise TypeError(msg)
    data = arr.astype(np.float64).reshape(arr.shape[0], -1)
    bad = ~np.isfinite(data)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        msg = (
            f"`{name}` has {data[row][bad[row]][0]} in row {row}; samples must be finite. "
            "Drop or impute those rows."
        )
        raise ValueError(msg)
    spread = float(np.max(np.abs(data)))
    if spread > _MAX_SPREAD:
        msg = (
            f"`{name}` has values up to {spread:.3g} in size; the nearest-neighbour "
            f"estimators square distances, which overflow float64 beyond {_MAX_SPREAD:.0e}. "
            "Rescale the samples (a KL divergence does not change when both are scaled "
            "alike; an entropy shifts by d log(scale))."
        )
        raise ValueError(msg)
    return _Samples(data, discrete=False)


_MAX_SPREAD = 1e150
"""Largest sample value kNN accepts: squared distances stay below float64's maximum."""


_MC_DRAWS = 100_000
"""Monte Carlo draws when ``n`` is not given."""


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        msg = f"`n` (draws) must be a whole number >= 2; got {n!r}."
        raise ValueError(msg)
    return n


def _rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


# --- the estimators -------------------------------------------------------------------


def _knn_distances(tree: cKDTree, points: _NDArray, k: int, *, skip_self: bool) -> tuple[Any, Any]:
    """Distance to the k-th neighbour, pushed past ties, and the count inside that ball.

    With continuous data the k-th neighbour's distance ``eps`` is positive and exactly
    k points lie within it. With repeated values (ties), the k-th distance may be 0 or
    shared by several points: the distance used is then the first positive one at or
    beyond rank k, and the count is every point within it (``<= eps``), so
    ``psi(count)`` matches the ball actually used (Wang, Kulkarni and Verdu's
    adaptive k). Never a log 0.
    """
    own = 1 if skip_self else 0
    n_tree = tree.n - own
    want = k
    while True:
        kk = min(want + own, tree.n)
        dist, _ = tree.query(points, k=list(range(1, kk + 1)), workers=-1)
        dist = dist[:, own:]
        zeros = np.sum(dist == 0, axis=1)
        rank = np.minimum(np.maximum(zeros + 1, k), dist.shape[1])
        found = dist[np.arange(len(points)), rank - 1]
        if np.all(found > 0) or want >= n_tree:
            break
        want = min(2 * want + int(zeros.max()), n_tree)
    if not np.all(found > 0):
        msg = (
            "the samples are mostly repeated values (a point has no neighbour at a "
            "positive distance), so they look discrete: pass them as integers or labels, "
            "or use method='plugin'."
        )
        raise ValueError(msg)
    count = rank.copy()
    tied = (zeros > 0) | (rank < dist.shape[1]) & (
        dist[np.arange(len(points)), np.minimum(rank, dist.shape[1] - 1)] == found
    )
    if np.any(tied):  # count every point inside the ball, ties included
        inside = tree.query_ball_point(points[tied], r=found[tied], return_length=True, workers=-1)
        count[tied] = np.asarray(inside) - own
    return found, count


def _dequantize(
    samples: Sequence[_NDArray], rng: np.random.Generator
) -> tuple[list[_NDArray], str]:
    """Spread tied values uniformly within their resolution, if any value repeats.

    Measurements are rounded (to 0.1 s, to 1 mm): many points then coincide, and
    nearest-neighbour distances describe the rounding grid, not the density (data
    rounded to 0.01 gave an entropy 0.25 nats too low). Each column with repeated
    values gets ``U(-h/2, h/2)`` noise, ``h`` its smallest positive gap over all the
    samples: the continuous law the rounding came from, to within the rounding.
    """
    pooled = np.concatenate(list(samples))
    if len(np.unique(pooled, axis=0)) == len(pooled):
        return list(samples), ""
    widths = []
    for j in range(pooled.shape[1]):
        gaps = np.diff(np.unique(pooled[:, j]))
        repeated = len(np.unique(pooled[:, j])) < len(pooled)
        widths.append(float(gaps[gaps > 0].min()) if repeated and np.any(gaps > 0) else 0.0)
    h = np.asarray(widths)
    spread = [a + h * rng.uniform(-0.5, 0.5, size=a.shape) for a in samples]
    shown = ", ".join(f"{w:.3g}" for w in widths)
    return spread, f"repeated values were spread uniformly within their resolution ({shown})"


def _log_unit_ball(d: int) -> float:
    return d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1)


def _knn_entropy(x: _NDArray, k: int) -> float:
    n, d = x.shape
    eps, rank = _knn_distances(cKDTree(x), x, k, skip_self=True)
    return float(
        sp.digamma(n) - np.mean(sp.digamma(rank)) + _log_unit_ball(d) + d * np.mean(np.log(eps))
    )


def _knn_kl(x: _NDArray, y: _NDArray, k: int) -> float:
    n, d = x.shape
    m = y.shape[0]
    rho, k_rank = _knn_distances(cKDTree(x), x, k, skip_self=True)
    nu, l_rank = _knn_distances(cKDTree(y), x, k, skip_self=False)
    return float(
        d * np.mean(np.log(nu / rho))
        + np.mean(sp.digamma(k_rank) - sp.digamma(l_rank))
        + math.log(m / (n - 1))
    )


def _check_dims(x: _NDArray, y: _NDArray) -> None:
    if x.shape[1] != y.shape[1]:
        msg = f"`p` samples have {x.shape[1]} dimension(s) and `q` samples {y.shape[1]}."
        raise ValueError(msg)


def _counts(labels: Iterable[Any]) -> Counter[Any]:
    return Counter(v.item() if hasattr(v, "item") else v for v in labels)


def _check_smoothing(smoothing: object) -> float | None:
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


def _plugin_probs(counts: Counter[Any], support: list[Any], smoothing: float | None) -> _NDArray:
    alpha = 0.0 if smoothing is None else float(smoothing)
    c: _NDArray = np.array([counts.get(s, 0) for s in support], dtype=np.float64) + alpha
    out: _NDArray = c / c.sum()
    return out


def _xlogx_ratio(p: _NDArray, q: _NDArray) -> float:
    keep = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[keep] * (np.log(p[keep]) - np.log(q[keep]))))


def _entropy_of(p: _NDArray) -> float:
    keep = p > 0
    return float(-np.sum(p[keep] * np.log(p[keep])))


# --- the jackknife --------------------------------------------------------------------


def _jackknife(
    stat: Callable[[Sequence[_NDArray]], float],
    data: Sequence[_NDArray],
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
class _How:
    """The caller's interval options, and the range of the measure (in nats)."""

    groups: int | None
    rng: np.random.Generator
    base: float | str | None
    confidence: float
    bounds: tuple[float, float]


_NONNEGATIVE = (0.0, math.inf)  # KL, and the entropy of a discrete law
_REAL_LINE = (-math.inf, math.inf)  # a differential entropy
_JS_RANGE = (0.0, math.log(2))


def _how(
    groups: object,
    rng: np.random.Generator,
    base: float | str | None,
    confidence: object,
    bounds: tuple[float, float],
) -> _How:
    """Check the interval options before any work, and keep them with the range."""
    resolve_base(base)
    return _How(_check_groups(groups), rng, base, _check_confidence(confidence), bounds)


def _done(how: _How, value: float, stderr: float, **kwargs: Any) -> Estimate:
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


def _resampled(
    stat: Callable[[Sequence[_NDArray]], float],
    data: Sequence[_NDArray],
    *,
    how: _How,
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


# --- two distributions ----------------------------------------------------------------


def _closed_form(name: str, p: _Dist, q: _Dist | None) -> float | None:
    values = [p.family] if q is None else [p.family, q.family]
    if any(v is None for v in values):
        return None
    try:  # the public measure: klkit's floating-point policy, as in kl.entropy(family)
        out = getattr(_measures, name)(*values)
    except DistributionError:
        return None
    return float(_compat.to_numpy(out).reshape(()))


def _float64_limits() -> Any:
    """NumPy's error state for SciPy's density, quantile and tail evaluations.

    SciPy works in float64: standardising x as (x - loc) / scale overflows to +-inf
    far outside a very narrow law (normal(0, 1e-320)), and a density that underflows
    has log 0 = -inf. Those infinities are the right answers (a -inf log-density is a
    zero density) and klkit reads them as such. Parameters near the ends of float64
    can also make SciPy compute inf/inf: such a NaN is never used, it is an error (a
    NaN log-density in :func:`_log_density`, a NaN draw in :func:`_draw`, a NaN
    estimate in :func:`_finish`), so NumPy is not asked to report it either.
    """
    return np.errstate(over="ignore", divide="ignore", invalid="ignore")


def _log_density(d: _Dist, x: _NDArray) -> _NDArray:
    with _float64_limits():
        out = _scipy_log_density(d, x)
    if np.isnan(out).any() and not np.isnan(x).any():
        msg = (
            f"the log-density of {d.name} is NaN at some points: its parameters are beyond "
            "what SciPy computes in float64 (near 1e-300 or 1e300?); rescale the law."
        )
        raise ValueError(msg)
    return out


def _own_log_density(d: _Dist, x: _NDArray) -> _NDArray:
    """Log-density of ``d`` at its own draws: finite, or float64 has lost the law."""
    out = _log_density(d, x)
    if not np.all(np.isfinite(out)):
        msg = (
            f"draws from {d.name} have a zero or infinite density under it: float64 "
            "cannot hold the law where it lives (a location near 1e308, or a scale near "
            "1e-300, rounds its draws onto its edge); rescale the law."
        )
        raise ValueError(msg)
    return out


def _mean_and_se(values: _NDArray) -> tuple[float, float]:
    """Monte Carlo mean and its standard error; +inf terms give +inf with no error.

    Terms near float64's maximum (a KL of 1e305 nats) are scaled down first, so their
    sum does not overflow where their mean does not.
    """
    if not np.all(np.isfinite(values)):
        return (math.inf if np.all(values > -np.inf) else math.nan), math.nan
    top = float(np.max(np.abs(values), initial=0.0))
    scale = top if top > 1e300 else 1.0
    scaled = values / scale
    mean = float(np.mean(scaled)) * scale
    return mean, float(np.std(scaled, ddof=1)) * scale / math.sqrt(values.size)


def _times(weight: _NDArray, value: _NDArray) -> _NDArray:
    """``weight * value`` with 0 where the weight is 0 (a density that underflowed)."""
    out: _NDArray = np.zeros(np.broadcast_shapes(weight.shape, value.shape))
    some = weight > 0
    out[some] = weight[some] * value[some]
    return out


def _scipy_log_density(d: _Dist, x: _NDArray) -> _NDArray:
    if d.discrete:
        return np.asarray(d.frozen.logpmf(x), dtype=np.float64)
    if d.dim == 1:
        return np.asarray(d.frozen.logpdf(x.reshape(-1)), dtype=np.float64)
    if isinstance(d.family, fam.Dirichlet):  # SciPy wants the outcomes first: (K, n)
        return np.asarray(d.frozen.logpdf(x.T), dtype=np.float64).reshape(-1)
    return np.asarray(d.frozen.logpdf(x), dtype=np.float64).reshape(-1)


def _draw(d: _Dist, n: int, rng: np.random.Generator) -> _NDArray:
    try:
        with _float64_limits():
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


def _quad(terms: Callable[[_NDArray], _NDArray], d: _Dist) -> tuple[float, float]:
    """Integrate ``terms`` over P's support (1-D density), or sum it (discrete).

    Returns the value and an error bound: ``quad``'s own, or for an infinite discrete
    support the mass left beyond the last block times the largest term ratio seen.
    """
    with _float64_limits():
        return _integrate(terms, d)


def _integrate(terms: Callable[[_NDArray], _NDArray], d: _Dist) -> tuple[float, float]:
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
        if float(np.max(_log_density(d, central))) > _LOG_HUGE:
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
    limit = _max_support()
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

DEFAULT_MAX_SUPPORT = 10_000_000
"""Most support points summed for one discrete law, unless ``KLKIT_MAX_SUPPORT`` says."""


def _max_support() -> int:
    text = os.environ.get("KLKIT_MAX_SUPPORT", "").strip()
    if not text:
        return DEFAULT_MAX_SUPPORT
    if not text.isdecimal() or len(text) > 18 or int(text) < 1:
        msg = (
            f"the environment variable KLKIT_MAX_SUPPORT is {text[:30]!r}, not a limit; set "
            "it to a whole number above 0, or unset it for the default "
            f"{DEFAULT_MAX_SUPPORT:,}."
        )
        raise ValueError(msg)
    return int(text)


def _support_error(d: _Dist, limit: int) -> ValueError:
    return ValueError(
        f"summing {d.name} over its support would take more than {limit:,} points, the "
        "limit (KLKIT_MAX_SUPPORT), or points beyond 2**53, which float64 cannot count; "
        "use method='mc', or raise the limit with the environment variable "
        f"KLKIT_MAX_SUPPORT (e.g. KLKIT_MAX_SUPPORT={limit * 10})."
    )


def _on_a_line(*dists: _Dist) -> bool:
    """Tell whether quadrature applies: 1-D laws with SciPy's support and quantiles."""
    return all(d.dim == 1 and hasattr(d.frozen, "ppf") for d in dists)


def _check_same_dim(p: _Dist, q: _Dist) -> None:
    simplex = [isinstance(d.family, fam.Dirichlet) for d in (p, q)]
    if simplex[0] != simplex[1]:
        which = "p" if simplex[0] else "q"
        msg = (
            f"`{which}` is a Dirichlet, a law on the probability simplex, and the other is "
            "not; compare it with another Dirichlet."
        )
        raise ValueError(msg)
    if p.dim != q.dim:
        what = "outcomes" if isinstance(p.family, fam.Dirichlet) else "dimension(s)"
        msg = f"`p` has {p.dim} {what} and `q` has {q.dim}; compare laws on one space."
        raise ValueError(msg)


def _pair_kl(
    p: _Dist, q: _Dist, method: str, n: int, rng: np.random.Generator
) -> tuple[float, float, str, int | None]:
    _check_distribution_method(method)
    _check_same_dim(p, q)
    if p.discrete != q.discrete:
        return math.inf, 0.0, "exact", None  # atoms against a density, or the reverse
    if method in ("auto", "exact"):
        exact = _closed_form("kl_divergence", p, q)
        if exact is not None:
            return exact, 0.0, "exact", None
        if method == "exact":
            msg = (
                f"kl_divergence({p.name}, {q.name}) has no closed form; use method='quad' or 'mc'."
            )
            raise DistributionError(msg)
    if method in ("auto", "quad") and _on_a_line(p, q):
        lo, hi = (float(v) for v in p.frozen.support())
        qlo, qhi = (float(v) for v in q.frozen.support())
        if lo < qlo or hi > qhi:
            return math.inf, 0.0, "quad", None  # support rule

        def terms(x: _NDArray) -> _NDArray:
            lp, lq = _log_density(p, x), _log_density(q, x)
            out: _NDArray = np.zeros_like(lp)
            keep = lp > -np.inf
            out[keep] = _times(np.exp(lp[keep]), lp[keep] - lq[keep])  # q = 0 where p > 0: inf
            return out

        value, err = _quad(terms, p)
        if method == "quad" or not math.isnan(value):  # NaN: too narrow to integrate
            return value, err, "quad", None
    elif method == "quad":
        msg = "method='quad' integrates in one dimension only; use method='mc'."
        raise ValueError(msg)
    x = _draw(p, n, rng)
    diff = _own_log_density(p, x) - _log_density(q, x)  # +inf where q = 0
    value, se = _mean_and_se(diff)
    return value, se, "mc", n


def _pair_js(
    p: _Dist, q: _Dist, method: str, n: int, rng: np.random.Generator
) -> tuple[float, float, str, int | None]:
    _check_distribution_method(method)
    _check_same_dim(p, q)
    if p.discrete != q.discrete:
        return math.log(2), 0.0, "exact", None  # disjoint in effect: atoms vs a density
    if method in ("auto", "exact"):
        exact = _closed_form("js_divergence", p, q)
        if exact is not None:
            return exact, 0.0, "exact", None
        if method == "exact":
            msg = "js_divergence of these two distributions has no closed form; use 'quad' or 'mc'."
            raise DistributionError(msg)

    def half(a: _Dist, b: _Dist, x: _NDArray) -> _NDArray:
        la, lb = _log_density(a, x), _log_density(b, x)
        return la - (np.logaddexp(la, lb) - math.log(2))

    if method in ("auto", "quad") and _on_a_line(p, q):
        total, err = 0.0, 0.0
        for a, b in ((p, q), (q, p)):

            def terms(x: _NDArray, a: _Dist = a, b: _Dist = b) -> _NDArray:
                la = _log_density(a, x)
                out: _NDArray = np.zeros_like(la)
                keep = la > -np.inf
                out[keep] = np.exp(la[keep]) * half(a, b, x[keep])
                return out

            v, e = _quad(terms, a)
            total, err = total + v / 2, err + e / 2
        # JS is finite: a failed integral (a density too narrow or too far out for the
        # integrator, e.g. normal(0, 1e-320)) is not an answer; Monte Carlo always is.
        if method == "quad" or (math.isfinite(total) and math.isfinite(err)):
            return total, err, "quad", None
    elif method == "quad":
        msg = "method='quad' integrates in one dimension only; use method='mc'."
        raise ValueError(msg)
    draws = []
    for a, b in ((p, q), (q, p)):
        x = _draw(a, n, rng)
        _own_log_density(a, x)  # draws where their own law has no density: an error
        draws.append(half(a, b, x))
    value = float(np.mean(draws[0]) + np.mean(draws[1])) / 2
    var = (np.var(draws[0], ddof=1) + np.var(draws[1], ddof=1)) / (4 * n)
    return value, float(math.sqrt(var)), "mc", n


# --- public functions -----------------------------------------------------------------


def _check_method(method: str, allowed: Sequence[str]) -> None:
    if method not in allowed:
        msg = f"`method` must be one of {', '.join(repr(m) for m in allowed)}; got {method!r}."
        raise ValueError(msg)


def _check_distribution_method(method: str) -> None:
    if method in ("knn", "plugin"):
        msg = (
            f"method={method!r} estimates from samples; for distributions use 'exact', "
            "'quad' or 'mc' (or 'auto')."
        )
        raise ValueError(msg)


def _check_sample_method(method: str, s: _Samples) -> str:
    want = "plugin" if s.discrete else "knn"
    if method not in ("auto", want):
        kind = "discrete (labels)" if s.discrete else "continuous (floats)"
        msg = (
            f"method={method!r} does not apply to {kind} samples; use method={want!r}. "
            "(Float samples of whole numbers are continuous: pass integers for plug-in.)"
        )
        raise ValueError(msg)
    return want


def _unseen_note(support: list[Any], p: _NDArray, q: _NDArray, where: str) -> str:
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


def _delta_se(p: _NDArray, q: _NDArray, n: int, m: int | None) -> float:
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


def entropy(
    x: Any,
    *,
    base: float | str | None = None,
    method: Method = "auto",
    k: int = 1,
    smoothing: float | None = None,
    miller_madow: bool = False,
    groups: int | None = 20,
    n: int | None = None,
    rng: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Estimate the entropy H(P) of samples (or of a distribution).

    Continuous samples: Kozachenko-Leonenko, ``psi(n) - psi(k) + log V_d +
    (d/n) sum log eps_i`` with ``eps_i`` the distance to the k-th neighbour (a
    differential entropy: it can be negative). Discrete samples: plug-in
    ``-sum p log p`` of the frequencies, plus ``(K - 1)/(2n)`` with
    ``miller_madow=True`` (K outcomes seen). A distribution: its closed form.

    The interval of a discrete entropy is cut to ``[0, inf)``; a differential
    entropy's is not cut. ``groups=None`` gives no interval.

    Examples
    --------
    >>> import numpy as np, klkit.estimate as ke
    >>> x = np.random.default_rng(0).normal(size=5000)
    >>> est = ke.entropy(x, rng=0)  # true: log(2 pi e)/2 = 1.419 nats
    >>> est.method, abs(est.value - 1.419) < 3 * est.stderr
    ('knn', True)
    """
    _check_method(method, ("auto", "exact", "quad", "mc", "knn", "plugin"))
    smoothing = _check_smoothing(smoothing)
    gen = _rng(rng)
    src = _as_input(x, "p")
    how = _how(groups, gen, base, confidence, _NONNEGATIVE if src.discrete else _REAL_LINE)
    if isinstance(src, _Dist):
        _check_distribution_method(method)
        if method in ("auto", "exact"):
            exact = _closed_form("entropy", src, None)
            if exact is not None:
                return _done(how, exact, 0.0, method="exact", n=None)
        if method in ("auto", "quad") and _on_a_line(src):

            def terms(x: _NDArray) -> _NDArray:
                lp = _log_density(src, x)
                out: _NDArray = np.zeros_like(lp)
                keep = lp > -np.inf
                out[keep] = -np.exp(lp[keep]) * lp[keep]
                return out

            value, err = _quad(terms, src)
            if method == "quad" or not math.isnan(value):
                return _done(how, value, err, method="quad", n=None, bound=True)
        n = _MC_DRAWS if n is None else _check_n(n)
        logs = -_own_log_density(src, _draw(src, n, gen))
        return _done(how, *_mean_and_se(logs), method="mc", n=n)
    chosen = _check_sample_method(method, src)
    if chosen == "knn":
        _check_k(k, src.n)
        spread, note = _dequantize([src.data], gen)
        return _resampled(
            lambda d: _knn_entropy(d[0], k),
            spread,
            method="knn",
            n=src.n,
            note=note,
            how=how,
            min_points=k + 1,
        )
    support = sorted(_counts(src.data), key=repr)

    def plug(d: Sequence[_NDArray]) -> float:
        counts = _counts(d[0])
        h = _entropy_of(_plugin_probs(counts, support, smoothing))
        if miller_madow:
            h += (sum(1 for s in support if counts.get(s, 0) > 0) - 1) / (2 * len(d[0]))
        return h

    return _resampled(plug, [src.data], method="plugin", n=src.n, how=how)


def _check_k(k: int, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < n:
        msg = f"`k` must be a whole number of neighbours from 1 to n - 1 = {n - 1}; got {k!r}."
        raise ValueError(msg)


def _outcomes(*samples: _NDArray) -> list[Any]:
    seen: set[Any] = set()
    for s in samples:
        seen.update(_counts(s))
    return sorted(seen, key=lambda v: (type(v).__name__, v))


def _mixed_kinds(a: _Samples | _Dist, b: _Samples | _Dist) -> ValueError:
    kind = {True: "discrete", False: "continuous"}
    return ValueError(
        f"`p` is {kind[a.discrete]} and `q` is {kind[b.discrete]}: compare labels with "
        "labels (or a discrete distribution) and real numbers with real numbers."
    )


def kl_divergence(
    p: Any,
    q: Any,
    *,
    base: float | str | None = None,
    method: Method = "auto",
    k: int = 1,
    smoothing: float | None = None,
    miller_madow: bool = False,
    groups: int | None = 20,
    n: int | None = None,
    rng: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Estimate D(P || Q) from samples of P and Q, distributions, or one of each.

    Continuous samples: Wang-Kulkarni-Verdu, ``(d/n) sum log(nu_i / rho_i) +
    log(m / (n - 1))`` with ``rho_i`` the k-th neighbour distance of ``x_i`` among
    the other x and ``nu_i`` among the y. Discrete samples: the plug-in
    ``sum p log(p/q)`` of the frequencies over every outcome seen; with
    ``miller_madow=True`` minus the first-order bias ``(K - 1)/(2n) +
    (sum p/q - 1)/(2m)``. Samples x against a distribution Q: ``-H_kNN(x) - mean
    log q(x)`` (or the plug-in against Q's pmf). A distribution P against samples:
    ``n`` draws from P (default: as many as there are samples). Two distributions:
    closed form, then quadrature (1-D), then Monte Carlo with ``n`` draws (default
    100 000).

    The interval is cut to ``[0, inf)``, where a KL divergence lies; the estimate
    itself is not moved (a kNN estimate of two close samples may be slightly below
    0). ``groups=None`` gives no interval.

    Examples
    --------
    >>> import numpy as np, klkit as kl, klkit.estimate as ke
    >>> g = np.random.default_rng(1)
    >>> est = ke.kl_divergence(g.normal(0, 1, 4000), g.normal(1, 1, 4000), rng=0)
    >>> est.method, abs(est.value - 0.5) < 0.1  # N(0,1) vs N(1,1): 0.5 nats
    ('knn', True)
    >>> print(ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0)))
    0.5 nats ± 0 (95% CI 0.5–0.5, exact)
    """
    _check_method(method, ("auto", "exact", "quad", "mc", "knn", "plugin"))
    smoothing = _check_smoothing(smoothing)
    gen = _rng(rng)
    a, b = _as_input(p, "p"), _as_input(q, "q")
    how = _how(groups, gen, base, confidence, _NONNEGATIVE)
    if isinstance(a, _Dist) and isinstance(b, _Dist):
        value, se, used, size = _pair_kl(a, b, method, _MC_DRAWS if n is None else _check_n(n), gen)
        return _done(how, value, se, method=used, n=size, bound=used == "quad")
    if isinstance(a, _Dist):
        assert isinstance(b, _Samples)
        a = _Samples(_draw(a, b.n if n is None else _check_n(n), gen), a.discrete)
    if a.discrete != b.discrete:
        raise _mixed_kinds(a, b)
    assert isinstance(a, _Samples)
    chosen = _check_sample_method(method, a)
    if isinstance(b, _Dist):
        dist = b
        if chosen == "knn":
            _check_k(k, a.n)
            if a.data.shape[1] != dist.dim:
                msg = f"`p` samples have {a.data.shape[1]} dimension(s) and `q` has {dist.dim}."
                raise ValueError(msg)

            def stat(d: Sequence[_NDArray]) -> float:
                return -_knn_entropy(d[0], k) - float(np.mean(_log_density(dist, d[0])))

            data, note = _dequantize([a.data], gen)
            return _resampled(stat, data, method="knn", n=a.n, note=note, how=how, min_points=k + 1)
        support = _outcomes(a.data)
        q_at = np.exp(_log_density(dist, np.asarray(support, dtype=np.float64)))

        def plug(d: Sequence[_NDArray]) -> float:
            freq = _plugin_probs(_counts(d[0]), support, smoothing)
            value = _xlogx_ratio(freq, q_at)
            if miller_madow:
                value -= (int(np.sum(freq > 0)) - 1) / (2 * len(d[0]))
            return value

        full = _plugin_probs(_counts(a.data), support, smoothing)
        return _resampled(
            plug,
            [a.data],
            method="plugin",
            n=a.n,
            note=_unseen_note(support, full, q_at, "distribution"),
            fallback=lambda: _delta_se(full, q_at, a.n, None),
            how=how,
        )
    if chosen == "knn":
        _check_dims(a.data, b.data)
        _check_k(k, min(a.n, b.n + 1))
        data, note = _dequantize([a.data, b.data], gen)
        return _resampled(
            lambda d: _knn_kl(d[0], d[1], k),
            data,
            method="knn",
            n=(a.n, b.n),
            note=note,
            how=how,
            min_points=k + 1,
        )
    support = _outcomes(a.data, b.data)

    def plugin(d: Sequence[_NDArray]) -> float:
        fp, fq = (_plugin_probs(_counts(part), support, smoothing) for part in d)
        value = _xlogx_ratio(fp, fq)
        if miller_madow and math.isfinite(value):
            seen = fp > 0
            value -= (int(np.sum(seen)) - 1) / (2 * len(d[0]))
            value -= (float(np.sum(fp[seen] / fq[seen])) - 1) / (2 * len(d[1]))
        return value

    fp, fq = (_plugin_probs(_counts(s.data), support, smoothing) for s in (a, b))
    return _resampled(
        plugin,
        [a.data, b.data],
        method="plugin",
        n=(a.n, b.n),
        note=_unseen_note(support, fp, fq, "samples"),
        fallback=lambda: _delta_se(fp, fq, a.n, b.n),
        how=how,
    )


def js_divergence(
    p: Any,
    q: Any,
    *,
    base: float | str | None = None,
    method: Method = "auto",
    k: int = 1,
    smoothing: float | None = None,
    groups: int | None = 20,
    n: int | None = None,
    rng: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Estimate the Jensen-Shannon divergence ``H(M) - (H(P) + H(Q))/2``, ``M = (P + Q)/2``.

    Continuous samples: kNN entropies of each sample and of the pooled sample (the
    larger sample is subsampled, with ``rng``, so the pool is an equal mixture).
    Discrete samples: the plug-in JS of the frequencies. Distributions: exact
    (Bernoulli), quadrature (1-D) or Monte Carlo; a distribution against samples is
    replaced by as many draws from it. At most ``log 2`` nats (1 bit): the interval
    is cut to ``[0, log 2]`` in the unit of ``base`` (the estimate itself is not
    moved); a failed integral falls back to Monte Carlo.

    Examples
    --------
    >>> import klkit as kl, klkit.estimate as ke
    >>> est = ke.js_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0))
    >>> est.method, round(est.value, 4)
    ('quad', 0.1114)
    """
    _check_method(method, ("auto", "exact", "quad", "mc", "knn", "plugin"))
    smoothing = _check_smoothing(smoothing)
    gen = _rng(rng)
    a, b = _as_input(p, "p"), _as_input(q, "q")
    how = _how(groups, gen, base, confidence, _JS_RANGE)
    if isinstance(a, _Dist) and isinstance(b, _Dist):
        value, se, used, size = _pair_js(a, b, method, _MC_DRAWS if n is None else _check_n(n), gen)
        return _done(how, value, se, method=used, n=size, bound=used == "quad")
    if isinstance(a, _Dist):
        assert isinstance(b, _Samples)
        a = _Samples(_draw(a, b.n if n is None else _check_n(n), gen), a.discrete)
    if isinstance(b, _Dist):
        b = _Samples(_draw(b, a.n if n is None else _check_n(n), gen), b.discrete)
    if a.discrete != b.discrete:
        raise _mixed_kinds(a, b)
    chosen = _check_sample_method(method, a)
    if chosen == "knn":
        _check_dims(a.data, b.data)
        _check_k(k, min(a.n, b.n))
        (x, y), note = _dequantize(
            [a.data[gen.permutation(a.n)], b.data[gen.permutation(b.n)]], gen
        )

        def stat(d: Sequence[_NDArray]) -> float:
            s = min(len(d[0]), len(d[1]))
            pool = np.concatenate([d[0][:s], d[1][:s]])
            return _knn_entropy(pool, k) - (_knn_entropy(d[0], k) + _knn_entropy(d[1], k)) / 2

        return _resampled(
            stat, [x, y], method="knn", n=(a.n, b.n), note=note, how=how, min_points=k + 1
        )
    support = _outcomes(a.data, b.data)

    def plugin(d: Sequence[_NDArray]) -> float:
        fp, fq = (_plugin_probs(_counts(part), support, smoothing) for part in d)
        mix = (fp + fq) / 2
        return _entropy_of(mix) - (_entropy_of(fp) + _entropy_of(fq)) / 2

    return _resampled(plugin, [a.data, b.data], method="plugin", n=(a.n, b.n), how=how)
