"""Discrete families: log-probabilities, finite sums over a support, and the support rule.

Bernoulli (from ``probs`` or ``logits``, each probability accurate), Poisson,
Geometric and Binomial. Binomial log-probabilities use Loader's form, its entropy an
asymptotic series for large variances (``binom(1e10, 0.5)`` allocates nothing), and
finite sums over a support (pairs a closed form does not cover) are capped by
``KLKIT_MAX_SUPPORT`` (:func:`klkit._numerics.max_support`). Pairs ruled out by their
supports are exactly +inf, read from the parameters, never a 0 * inf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from klkit._backends import _namespace
from klkit._core._errors import DistributionError
from klkit._core._terms import kl_terms
from klkit._numerics import HALF_LOG_2PI, LN2, NEAR, max_support
from klkit._typing import Array, Namespace
from klkit.distributions import _families as fam
from klkit.distributions._base import Family
from klkit.distributions._safe import (
    expm1_capped,
    log1m,
    log_nonneg,
    log_ratio,
    phi_parts,
    quot,
    wg,
    xlogy,
    zeros_like_batch,
)
from klkit.distributions._special import SERIES_FROM, lgamma, lgamma_series

__all__ = [
    "ASYMPTOTIC_FROM",
    "bernoulli_logs",
    "bernoulli_parts",
    "binomial_log_pmf",
    "entropy_bernoulli",
    "entropy_binomial",
    "entropy_geometric",
    "entropy_poisson",
    "finite_grid",
    "js_bernoulli",
    "kl_bernoulli",
    "kl_bernoulli_poisson",
    "kl_binomial",
    "kl_discrete",
    "kl_geometric",
    "kl_poisson",
    "kl_poisson_bounded",
    "log_pmf",
    "poisson_log_pmf",
    "sum_over",
    "support",
]

_KL = Callable[[dict[str, Array], dict[str, Array], Namespace], Array]

# --- Bernoulli --------------------------------------------------------------------------


def bernoulli_logs(a: dict[str, Array], xp: Namespace) -> Array:
    """``[log(1 - p), log p]`` stacked on a last axis of length 2."""
    log0, log1 = bernoulli_parts(a, xp)[:2]
    return xp.stack([log0, log1], axis=-1)


def bernoulli_parts(a: dict[str, Array], xp: Namespace) -> tuple[Array, Array, Array, Array]:
    """``(log P(0), log P(1), P(0), P(1))`` from ``probs`` or ``logits``, each accurate.

    From logits: ``log P(1) = -softplus(-z)``, ``log P(0) = -softplus(z)``, so a
    confident logit keeps its tiny probability's digits.
    """
    if "logits" in a:
        z = a["logits"]
        zero = xp.zeros_like(z)
        log0, log1 = -xp.logaddexp(zero, z), -xp.logaddexp(zero, -z)
        return log0, log1, xp.exp(log0), xp.exp(log1)
    p = a["probs"]
    return log1m(p, xp), log_nonneg(p, xp), 1.0 - p, p


def entropy_bernoulli(a: dict[str, Array], xp: Namespace) -> Array:
    """``-(1 - p) log(1 - p) - p log p``, terms with probability 0 being 0."""
    log0, log1, p0, p1 = bernoulli_parts(a, xp)
    return -(_plogp(p0, log0, xp) + _plogp(p1, log1, xp))


def _plogp(p: Array, log_p: Array, xp: Namespace) -> Array:
    pos = p > 0
    return xp.where(pos, p * xp.where(pos, log_p, 0.0), 0.0)


def kl_bernoulli(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``sum_i P_i g(Q_i/P_i - 1)`` over the outcomes 1 and 0: every term >= 0.

    ``Q_i/P_i - 1`` comes from differences, exact to a few ulp: ``(q - p)/p`` and
    ``(p - q)/(1 - p)`` from probabilities, ``sigmoid(-b) expm1(b - a)`` and
    ``sigmoid(b) expm1(a - b)`` from logits, so nearly equal laws keep every digit.
    Mixed forms compare as probabilities. +inf where Q_i = 0 < P_i.
    """
    lp0, lp1, p0, p1 = bernoulli_parts(a, xp)
    lq0, lq1, q0, q1 = bernoulli_parts(b, xp)
    if "logits" in a and "logits" in b:
        za, zb = a["logits"], b["logits"]
        close = xp.abs(zb - za) < 1.0
        dz = xp.where(close, zb - za, 0.0)
        x1 = xp.exp(lq0) * xp.expm1(dz)  # Q1/P1 - 1 = sigmoid(-b) expm1(b - a)
        x0 = xp.exp(lq1) * xp.expm1(-dz)  # Q0/P0 - 1 = sigmoid(b) expm1(a - b)
    else:
        pp1 = p1 if "probs" in a else xp.exp(lp1)
        qq1 = q1 if "probs" in b else xp.exp(lq1)
        close = (pp1 > 0) & (pp1 < 1)
        pp = xp.where(close, pp1, 0.5)
        x1 = quot(qq1 - pp, pp, xp)
        x0 = (pp - qq1) / (1.0 - pp)
    return _kl_term(p1, lp1, q1, lq1, x1, close, xp) + _kl_term(p0, lp0, q0, lq0, x0, close, xp)


def _kl_term(
    p: Array, log_p: Array, q: Array, log_q: Array, x: Array, close: Array, xp: Namespace
) -> Array:
    """``p log(p/q) - p + q = p g(q/p - 1)``, ``x = q/p - 1`` (used where ``close``).

    Where ``p = 0`` the term is ``q``; summed over all outcomes this is the KL exactly.
    """
    pos = p > 0
    finite_q = log_q > -xp.inf
    log_r = xp.where(pos & finite_q, log_q - xp.where(pos, log_p, 0.0), 0.0)
    x = xp.where(close & pos & finite_q, x, expm1_capped(log_r, xp))
    x = xp.where(pos & finite_q, x, 0.0)
    term = xp.where(pos, wg(p, x, log_r, q - p, xp), q)
    return xp.where(pos & ~finite_q, xp.inf, term)


def kl_bernoulli_poisson(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``sum_k P(k) log(P(k)/Q(k))`` over k in {0, 1}: ``rate - p log(rate) - H(P)``."""
    p = bernoulli_parts(a, xp)[3]
    return b["rate"] - xlogy(p, b["rate"], xp) - entropy_bernoulli(a, xp)


def kl_poisson_bounded(count: Callable[[dict[str, Array]], Array]) -> _KL:
    """Poisson against Bernoulli/Binomial: +inf unless the rate is 0 (all mass at 0)."""

    def kl(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        n = count(b) + 0.0 * a["rate"]
        log_1mp = bernoulli_logs(b, xp)[..., 0]
        log_q0 = n * xp.where(n == 0, 0.0, log_1mp)  # log P_Q(0) = n log(1 - p)
        return xp.where(a["rate"] == 0, 0.0 - log_q0, xp.inf)

    return kl


def js_bernoulli(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """Jensen-Shannon divergence of two Bernoullis: the two-outcome JS, in nats.

    ``(sum_i KL(2 P_i || S_i) + KL(2 Q_i || S_i)) / 4`` over the outcomes 0 and 1, with
    ``S = P + Q`` (the core terms, as the arrays' JS: doubling is exact where halving
    ``S`` would round), ``Q - P`` given exactly; within ``[0, log 2]``.
    """
    p, q = xp.exp(bernoulli_logs(a, xp)), xp.exp(bernoulli_logs(b, xp))
    s, d = p + q, q - p
    terms = kl_terms(2.0 * p, s, None, None, xp=xp, diff=d) + kl_terms(
        2.0 * q, s, None, None, xp=xp, diff=-d
    )
    return xp.clip(xp.sum(terms, axis=-1) / 4.0, min=0.0, max=LN2)


# --- Poisson, Geometric, Binomial -------------------------------------------------------


ASYMPTOTIC_FROM = 1e4
"""Poisson rates (and Binomial variances) above this use the asymptotic entropy."""


def poisson_log_pmf(k: Array, lam: Array, xp: Namespace) -> Array:
    """``k log lam - lam - lgamma(k + 1)`` without its large terms cancelling.

    Near the mean of a large rate the three terms are ~1e5 and the result ~-5, so the
    direct formula keeps only ~11 digits. With ``z = k + 1 >= 10`` and Stirling,
    ``-(k + 1/2) log1p(v) + lam v - log(2 pi lam)/2 - c(z)`` with ``v = (z - lam)/lam``
    and ``c`` the series part of ``lgamma(z)``: every term stays small.
    """
    direct = xlogy(k, lam, xp) - lam - lgamma(k + 1.0, xp)
    big = (k + 1.0 >= SERIES_FROM) & (lam > 0)
    z = xp.where(big, k + 1.0, SERIES_FROM)
    m = xp.where(big, lam, 1.0)
    v = (z - m) / m
    stirling = (-(z - 0.5) * xp.log1p(v) + m * v - 0.5 * xp.log(2 * math.pi * m)) - lgamma_series(
        z, xp
    )
    return xp.where(big, stirling, direct)


def entropy_poisson(a: dict[str, Array], xp: Namespace) -> Array:
    """``-sum p log p`` over a window around the mean holding every term above eps."""
    lam = a["rate"]
    log_eps = -math.log(float(xp.finfo(lam.dtype).eps))
    top = ASYMPTOTIC_FROM
    if not _namespace.is_jax_tracer(lam) and math.prod(lam.shape) > 0:
        top = min(top, float(xp.max(lam)))
    # Tails beyond mean +- (sqrt(2.2 log(1/eps) mean) + log(1/eps)) are below eps.
    half = math.ceil(math.sqrt(2.2 * log_eps * top) + log_eps)
    capped = xp.where(lam > ASYMPTOTIC_FROM, ASYMPTOTIC_FROM, lam)
    start = xp.floor(xp.where(capped > half, capped - half, 0.0))
    k = start[..., None] + xp.arange(
        2 * half + 1, dtype=lam.dtype, device=_namespace.device_of(lam)
    )
    log_p = poisson_log_pmf(k, capped[..., None], xp)
    keep = log_p > -xp.inf  # rate 0: only k = 0 has mass
    safe = xp.where(keep, log_p, 0.0)
    series_sum = 0.0 - xp.sum(xp.where(keep, xp.exp(safe) * safe, 0.0), axis=-1)
    big = xp.where(lam > ASYMPTOTIC_FROM, lam, ASYMPTOTIC_FROM)
    inv = 1.0 / big
    asymptotic = 0.5 * xp.log(2 * math.pi * math.e * big) - inv * (
        1 / 12 + inv * (1 / 24 + inv * (19 / 360 + inv * 9 / 80))
    )
    return xp.where(lam > ASYMPTOTIC_FROM, asymptotic, series_sum)


def kl_poisson(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``l1 g(l2/l1 - 1)`` = ``l1 log(l1/l2) - l1 + l2``; ``l2`` when ``l1 = 0``."""
    l1, l2 = a["rate"], b["rate"]
    ok = (l1 > 0) & (l2 > 0)
    s1 = xp.where(ok, l1, 1.0)
    t1 = xp.where(ok, l2, 1.0)
    log_r = log_ratio(t1, s1, xp)
    near = xp.abs(t1 - s1) < NEAR * s1
    x = xp.where(near, (t1 - s1) / s1, expm1_capped(xp.where(near, 0.0, log_r), xp))
    value = wg(s1, x, log_r, t1 - s1, xp)
    return xp.where(ok, value, xp.where(l1 == 0, l2, xp.inf))


def entropy_geometric(a: dict[str, Array], xp: Namespace) -> Array:
    """``H(Bernoulli(p)) / p = -log p - (1 - p) log(1 - p) / p``."""
    p = a["probs"]
    below = p < 1
    ps = xp.where(below, p, 0.5)
    tail = xp.where(below, (1.0 - ps) / ps * xp.log1p(-ps), 0.0)
    return -xp.log(p) - tail


def kl_geometric(shift: int, p: Array, q: Array, xp: Namespace) -> Array:
    """KL of geometric laws whose supports start at ``s1`` and ``s2``, ``shift = s1 - s2``.

    Equal supports: ``KL(Bernoulli(p) || Bernoulli(q)) / p``. ``s1 < s2``: P puts mass
    below Q's support, +inf. ``s1 > s2``: ``-(shift + (1-p)/p) log(1-q) - log q - H(P)``.
    """
    if shift == 0:
        return kl_bernoulli({"probs": p}, {"probs": q}, xp) / p
    if shift < 0:
        return 0.0 * p + 0.0 * q + xp.inf
    trials = shift + (1.0 - p) / p
    cross = -trials * xp.log1p(-q) - xp.log(q)
    return cross - entropy_geometric({"probs": p}, xp)


def _stirling_err(z: Array, xp: Namespace) -> Array:
    """``lambda(z) = lgamma(z + 1) - (z + 1/2) log z + z - log(2 pi)/2`` for ``z >= 1``."""
    big = z >= SERIES_FROM
    zb = xp.where(big, z, SERIES_FROM)
    zs = xp.where(big, 1.0, z)
    small = lgamma(zs + 1.0, xp) - (zs + 0.5) * xp.log(zs) + zs - HALF_LOG_2PI
    return xp.where(big, lgamma_series(zb, xp), small)


def binomial_log_pmf(k: Array, n: Array, p: Array, xp: Namespace) -> Array:
    """``log P(K = k)`` for ``0 <= k <= n`` (else unused), to a few ulp at any ``n``.

    Loader's form: ``lambda(n) - lambda(k) - lambda(n - k) - log(2 pi k (n - k)/n)/2
    - bd0(k, n p) - bd0(n - k, n q)``, with ``lambda`` the Stirling remainder and
    ``bd0(x, m) = m phi(x/m - 1) >= 0``: no term of size ``n`` (the textbook
    ``lgamma(n + 1) - ...`` is ~2e11 at n = 1e10 and keeps 5 digits). ``k = 0`` and
    ``k = n`` are ``n log(1 - p)`` and ``n log p``.
    """
    q = 1.0 - p
    inner = (k > 0) & (k < n) & (p > 0) & (p < 1)
    ki, ni = xp.where(inner, k, 1.0), xp.where(inner, n, 2.0)
    pi, qi = xp.where(inner, p, 0.5), xp.where(inner, q, 0.5)
    m1, m0 = ni * pi, ni * qi
    rest = ni - ki
    bd0 = m1 * phi_parts((ki - m1) / m1, log_ratio(ki, m1, xp), xp) + m0 * phi_parts(
        (rest - m0) / m0, log_ratio(rest, m0, xp), xp
    )
    lam = _stirling_err(ni, xp) - _stirling_err(ki, xp) - _stirling_err(rest, xp)
    inside = lam - bd0 - 0.5 * (2.0 * HALF_LOG_2PI + xp.log(ki) + xp.log1p(-ki / ni))
    log_q, log_p = log1m(p, xp), log_nonneg(p, xp)
    at_0 = xp.where(n == 0, 0.0, n * xp.where(n == 0, 0.0, log_q))
    at_n = xp.where(n == 0, 0.0, n * xp.where(n == 0, 0.0, log_p))
    edge = xp.where(k == 0, at_0, xp.where(k == n, at_n, -xp.inf))
    return xp.where(inner, inside, edge)


def window(
    n: Array,
    p: Array,
    tail: float,
    xp: Namespace,
    *,
    what: str,
    counts: Array | None = None,
    var_cap: float = math.inf,
) -> Array:
    """Return the counts around ``n p`` holding all but ``~e^-tail`` of a Binomial's mass.

    ``mean +- (sqrt(2.2 tail var) + tail)``, cut to ``[0, n]``, on a new last axis
    (one length for the whole batch: the largest variance's, at most ``var_cap``, or
    ``max(counts)/4`` when ``p`` is traced under jit). ``counts`` (default ``n``) are
    the concrete counts that size the window. Raises when the batch would need more
    than ``KLKIT_MAX_SUPPORT`` terms (:func:`klkit._numerics.max_support`).
    """
    counts = n if counts is None else counts
    if _namespace.is_jax_tracer(counts):
        msg = (
            "Binomial sums run over the counts where P has mass, so `total_count` must "
            "be concrete, not traced: compute this entropy or divergence outside "
            "jax.jit (a traced `probs` is fine, e.g. under jax.grad alone)."
        )
        raise TypeError(msg)
    n, p = xp.broadcast_arrays(n, p)
    size = math.prod(n.shape)
    top = float(xp.max(counts)) if math.prod(counts.shape) else 0.0
    if _namespace.is_jax_tracer(n, p):
        vmax = top / 4
    else:
        vmax = float(xp.max(n * p * (1.0 - p))) if size else 0.0
    vmax = min(vmax, var_cap)
    half = math.ceil(math.sqrt(2.2 * tail * vmax) + tail)
    width = int(min(2 * half + 1, top + 1))
    terms = width * max(size, 1)
    limit = max_support()
    if terms > limit:
        problem = (
            f"{what} sums over the counts where P has mass: {width} per distribution "
            f"(total_count up to {top:.6g}) x {max(size, 1)} in the batch = {terms} terms, "
            f"above the limit KLKIT_MAX_SUPPORT = {limit}."
        )
        raise DistributionError(
            problem,
            fix=(
                f"Raise it (the environment variable KLKIT_MAX_SUPPORT={terms}) if "
                f"~{80 * terms / 2**30:.2g} GiB of memory is there, or use "
                "klkit.estimate.kl_divergence."
            ),
        )
    start = xp.floor(n * p) - half
    start = xp.where(start > n - (width - 1), n - (width - 1), start)
    start = xp.where(start > 0, start, 0.0)
    return start[..., None] + xp.arange(width, dtype=n.dtype, device=_namespace.device_of(n))


def entropy_binomial(a: dict[str, Array], xp: Namespace) -> Array:
    """Binomial entropy: a sum over its mass, or an asymptotic series for large variance.

    The sum ``-sum p log p`` runs over a window holding all but eps of the mass. When
    the variance ``v = n p q`` is above 1e4, the asymptotic expansion ``log(2 pi e v)/2
    - (1 - 4s)/(12 v) - (1 - 4s + 2s^2)/(24 v^2) - ...`` (``s = p q``; exact to
    rounding there, derived from Stirling's series and the binomial moments), so
    ``total_count = 1e10`` allocates nothing large.
    """
    n, p = xp.broadcast_arrays(a["total_count"], a["probs"])
    p = xp.where(p > 0.5, 1.0 - p, p)  # symmetric; keeps the window where counts are exact
    q = 1.0 - p
    var = n * p * q
    asym = var > ASYMPTOTIC_FROM
    ns, ps = xp.where(asym, 0.0, n), xp.where(asym, 0.0, p)
    log_eps = -math.log(float(xp.finfo(p.dtype).eps))
    k = window(
        ns,
        ps,
        log_eps,
        xp,
        what="The Binomial entropy",
        counts=a["total_count"],
        var_cap=ASYMPTOTIC_FROM,
    )
    log_pk = binomial_log_pmf(k, ns[..., None], ps[..., None], xp)
    keep = (k <= ns[..., None]) & (log_pk > -xp.inf)
    safe = xp.where(keep, log_pk, 0.0)
    summed = 0.0 - xp.sum(xp.where(keep, xp.exp(safe) * safe, 0.0), axis=-1)
    s = xp.where(asym, p * q, 0.25)
    v = xp.where(asym, var, ASYMPTOTIC_FROM)
    inv = 1.0 / v
    tail = inv * (
        -(1.0 - 4.0 * s) / 12.0
        + inv
        * (
            -(1.0 + s * (-4.0 + 2.0 * s)) / 24.0
            + inv
            * (
                -(19.0 + s * (-102.0 + s * (120.0 - 4.0 * s))) / 360.0
                + inv * (-27.0 + s * (184.0 + s * (-352.0 + s * (160.0 + 2.0 * s)))) / 240.0
            )
        )
    )
    return xp.where(asym, 0.5 * xp.log(2 * math.pi * math.e * v) + tail, summed)


def kl_binomial(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``n KL(Bernoulli)`` for equal counts, else the finite sum over P's support.

    +inf by the support rule when P has mass above ``n2`` (or where Q's probability is
    0 or 1 and P's mass is elsewhere), read from the parameters, not from underflowing
    probabilities.
    """
    n1, n2 = a["total_count"], b["total_count"]
    kl1 = kl_bernoulli({"probs": a["probs"]}, {"probs": b["probs"]}, xp)
    same = xp.where(n1 == 0, 0.0, xp.where(n1 == 0, 1.0, n1) * kl1)
    if not _namespace.is_traced(n1) and not _namespace.is_traced(n2) and bool(xp.all(n1 == n2)):
        return same
    summed = kl_discrete(fam.Binomial, a, fam.Binomial, b, xp)
    return xp.where(n1 == n2, same, summed)


def kl_discrete(
    p: Family | type, a: dict[str, Array], q: Family | type, b: dict[str, Array], xp: Namespace
) -> Array:
    """``sum_k P(k) log(P(k)/Q(k))`` over P's finite support (Bernoulli or Binomial P).

    +inf where P's support reaches outside Q's (from the parameters); the sum runs over
    a window holding all but ~e^-70 of P's mass.
    """
    name = q.__name__ if isinstance(q, type) else type(q).__name__
    k = finite_grid(p, a, xp, what=f"kl_divergence(Binomial, {name})")
    log_p = log_pmf(p, a, k, xp)
    log_q = log_pmf(q, b, k, xp)
    lo_p, hi_p = support(p, a, xp)
    lo_q, hi_q = support(q, b, xp)
    outside = (lo_p < lo_q) | (hi_p > hi_q)
    return xp.where(outside, xp.inf, sum_over(log_p, log_q, xp))


def finite_grid(p: Family | type, a: dict[str, Array], xp: Namespace, *, what: str) -> Array:
    """Return the points where a Bernoulli or Binomial has mass (all but ~e^-70 of it)."""
    x = next(iter(a.values()))
    if (p if isinstance(p, type) else type(p)) is fam.Bernoulli:
        return xp.arange(2, dtype=x.dtype, device=_namespace.device_of(x))
    tail = 2.0 * -math.log(float(xp.finfo(x.dtype).eps))
    return window(a["total_count"], a["probs"], tail, xp, what=what)


def sum_over(log_p: Array, log_q: Array, xp: Namespace) -> Array:
    """``sum_k P(k) (log P(k) - log Q(k))`` over the last axis; terms with P(k) = 0 are 0.

    A term with ``P(k) > 0 = Q(k)`` is +inf, even when P(k) underflows to 0.
    """
    keep = log_p > -xp.inf
    missing = keep & (log_q == -xp.inf)
    safe = xp.where(keep, log_p, 0.0)
    safe_q = xp.where(missing | ~keep, 0.0, log_q)
    terms = xp.where(keep & ~missing, xp.exp(safe) * (safe - safe_q), 0.0)
    return xp.where(xp.any(missing, axis=-1), xp.inf, xp.sum(terms, axis=-1))


def log_pmf(d: Family | type, a: dict[str, Array], k: Array, xp: Namespace) -> Array:
    """``log P(X = k)`` of a discrete family, ``k`` on a new last axis; -inf off the support."""
    kind = d if isinstance(d, type) else type(d)
    if kind is fam.Bernoulli:
        log0, log1 = bernoulli_parts(a, xp)[:2]
        log0, log1 = log0[..., None], log1[..., None]
        return xp.where(k == 0, log0, xp.where(k == 1, log1, -xp.inf))
    start = float(d.shift) if isinstance(d, fam.Geometric) else 0.0
    top = a["total_count"][..., None] if "total_count" in a else math.inf
    ok = (k >= start) & (k <= top)
    j = xp.where(ok, k - start, 0.0)
    if kind is fam.Poisson:
        rate = a["rate"][..., None]
        out = xp.where(rate == 0, xp.where(j == 0, 0.0, -xp.inf), poisson_log_pmf(j, rate, xp))
    elif kind is fam.Geometric:
        p = a["probs"][..., None]
        log_1mp = log1m(p, xp)
        out = xp.log(p) + xp.where(j == 0, 0.0, j * xp.where(j == 0, 0.0, log_1mp))
    else:
        n = a["total_count"][..., None]
        out = binomial_log_pmf(j, n + 0.0 * j, a["probs"][..., None] + 0.0 * j, xp)
    return xp.where(ok, out, -xp.inf)


def support(d: Family | type, a: dict[str, Array], xp: Namespace) -> tuple[Any, Any]:
    """Return the lowest and highest points where ``d`` puts mass (density or probability > 0).

    ``d`` is a family or a family class (a class: a Geometric on 0, 1, 2, ...).
    """
    kind = d if isinstance(d, type) else type(d)
    zero = zeros_like_batch(a, xp)
    if issubclass(kind, fam.Normal | fam.Laplace | fam.StudentT):
        return -math.inf, math.inf
    if issubclass(kind, fam.Exponential | fam.Gamma | fam.LogNormal):
        return 0.0, math.inf
    if issubclass(kind, fam.Beta):
        return 0.0, 1.0
    if issubclass(kind, fam.Uniform):
        return a["low"], a["high"]
    if issubclass(kind, fam.Poisson):
        return 0.0, xp.where(a["rate"] == 0, zero, math.inf)
    if issubclass(kind, fam.Geometric):
        start = float(d.shift) if isinstance(d, fam.Geometric) else 0.0
        return start, xp.where(a["probs"] == 1, zero + start, math.inf)
    if "logits" in a:  # finite log-odds put mass on both 0 and 1
        return 0.0, 1.0
    n = a.get("total_count", 1.0) + zero
    return xp.where(a["probs"] == 1, n, zero), xp.where(a["probs"] == 0, zero, n)
