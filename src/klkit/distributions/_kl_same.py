"""KL divergence and cross-entropy of two laws of one family (continuous ones).

Scales compare through ``g(x) = x - log1p(x)`` of their log ratio, never through
``1 + x`` (``N(0, 1e-12)`` against ``N(0, 1)`` is 27.131); Gamma, Beta and Dirichlet
through the Bregman divergence of the reduced log-gamma function
(:mod:`klkit.distributions._reduced`): a sum of terms that are each >= 0, with series in
the parameter differences where they are small, so a law against itself is exactly 0.
The discrete families' pairs are in :mod:`klkit.distributions._discrete`, the
multivariate normal's in ``_mvn``.
"""

from __future__ import annotations

import math

from klkit._core._errors import DistributionError
from klkit._typing import Array, Namespace
from klkit.distributions._entropy import stacked
from klkit.distributions._reduced import bregman_f, bregman_f_shift, lgamma_f, lgamma_f1
from klkit.distributions._safe import (
    g_ratio,
    g_square,
    log_ratio,
    log_width,
    quot,
    ratio,
    square,
    wg,
)

__all__ = [
    "as_gamma",
    "cross_beta",
    "cross_difference",
    "cross_dirichlet",
    "cross_gamma",
    "kl_beta",
    "kl_dirichlet",
    "kl_dirichlet_c",
    "kl_exponential",
    "kl_gamma",
    "kl_laplace",
    "kl_normal",
    "kl_uniform",
    "same_outcomes",
]


def as_gamma(a: dict[str, Array]) -> dict[str, Array]:
    """Exponential(rate) is Gamma(1, rate)."""
    rate = a["rate"]
    return {"concentration": 0.0 * rate + 1.0, "rate": rate}


def kl_normal(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``g((s1/s2)^2 - 1)/2 + ((m1 - m2)/s2)^2/2`` (see :func:`g_square`)."""
    s1, s2 = a["scale"], b["scale"]
    return 0.5 * g_square(s1, s2, xp) + 0.5 * square(quot(a["loc"] - b["loc"], s2, xp), xp)


def _h(t: Array, xp: Namespace) -> Array:
    """``(exp(-t) - 1 + t) / t^2`` for ``0 <= t < 0.1``, by its Taylor series."""
    acc = 1.0 / 3628800
    for k in (9, 8, 7, 6, 5, 4, 3, 2):
        acc = 1.0 / math.factorial(k) - t * acc
    return acc


def kl_laplace(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``g(r - 1) + r h(t)``: ``r = s1/s2``, ``t = |loc1 - loc2|/s1``, ``h(t) = e^-t - 1 + t``.

    ``g`` from the ratio (``Laplace(0, 1e-6)`` against ``Laplace(0.5, 2)`` is 13.7587 in
    float32 too) and ``r h(t)`` by its series below t = 0.1, else as
    ``|loc1 - loc2|/s2 - r (1 - e^-t)``.
    """
    s1, s2 = a["scale"], b["scale"]
    ad = xp.abs(a["loc"] - b["loc"])
    t = quot(ad, s1, xp)
    r = quot(s1, s2, xp)
    finite = r < xp.inf
    rf = xp.where(finite, r, 0.0)
    small = t < 0.1
    ts = xp.where(small, t, 0.0)
    near = rf * ts * ts * _h(ts, xp)
    far = quot(ad, s2, xp) + rf * xp.expm1(-xp.where(small, 1.0, t))
    value = g_ratio(s1, s2, xp) + xp.where(small, near, far)
    return xp.where(finite, value, xp.inf)


def kl_exponential(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``g(r2/r1 - 1) = r2/r1 - 1 - log(r2/r1)``, for every ratio."""
    return g_ratio(b["rate"], a["rate"], xp)


def kl_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``log(w2/w1)`` where Q's interval holds P's, as ``log1p(extra/w1)`` when nearly equal."""
    inside = (b["low"] <= a["low"]) & (a["high"] <= b["high"])
    lo1, hi1 = xp.where(inside, a["low"], 0.0), xp.where(inside, a["high"], 1.0)
    lo2, hi2 = xp.where(inside, b["low"], 0.0), xp.where(inside, b["high"], 1.0)
    extra = (hi2 - hi1) + (lo1 - lo2)  # both >= 0: nothing cancels
    w1 = hi1 - lo1
    near = extra < w1
    log1p = xp.log1p(xp.where(near, extra, 0.0) / xp.where(near, w1, 1.0))
    far = log_width(lo2, hi2, xp) - log_width(lo1, hi1, xp)
    return xp.where(inside, xp.where(near, log1p, far), xp.inf)


def kl_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``B_F(c2, c1) + c2 g(v)``, ``1 + v = (c1 r2)/(c2 r1)`` (the ratio of the means).

    Textbook: ``(c1 - c2) psi(c1) - lgamma(c1) + lgamma(c2) + c2 log(r1/r2) +
    c1 (r2 - r1)/r1``. With ``lgamma = F + c log c - c`` it is the Bregman divergence of
    the reduced log-gamma F (>= 0, see :func:`~klkit.distributions._reduced.bregman_f`) plus ``c2``
    times ``g`` of the mean ratio (>= 0): two non-negative terms, so nearly equal pairs
    (KL ~ 1e-18) and concentrations of 1e6 in float32 keep their digits.
    """
    c1, c2 = a["concentration"], b["concentration"]
    r1, r2 = a["rate"], b["rate"]
    dc = c2 - c1
    v = cross_difference(c1, c2, dc, r1, r2, r2 - r1, r1, xp)  # (c1 r2)/(c2 r1) - 1
    log_v = log_ratio(c1, c2, xp) + log_ratio(r2, r1, xp)
    return bregman_f(c2, c1, xp, dc) + wg(c2, v, log_v, _rate_term(c1, c2, r1, r2, xp), xp)


def _rate_term(c1: Array, c2: Array, r1: Array, r2: Array, xp: Namespace) -> Array:
    """``c2 v = c1 r2 / r1 - c2`` (+inf where it overflows)."""
    return c1 * ratio(r2, r1, log_ratio(r2, r1, xp), xp) - c2


def cross_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``H(P, Q) = F(c2) + c2 g(v) - (c2 - 1) F'(c1) + log(c1/r1)`` (v as in the KL).

    The textbook ``-c2 log r2 + lgamma(c2) - (c2 - 1)(psi(c1) - log r1) + r2 c1/r1``
    with ``lgamma = F + c log c - c``; computed as ``H(P) + KL`` it would lose
    ``H(P) ~ -1/c1`` (-1e6 at c1 = 1e-6) where Q is flat (``c2 = 1``).
    """
    c1, c2 = a["concentration"], b["concentration"]
    r1, r2 = a["rate"], b["rate"]
    v = cross_difference(c1, c2, c2 - c1, r1, r2, r2 - r1, r1, xp)
    log_v = log_ratio(c1, c2, xp) + log_ratio(r2, r1, xp)
    return (
        lgamma_f(c2, xp)
        + wg(c2, v, log_v, _rate_term(c1, c2, r1, r2, xp), xp)
        - xp.where(c2 == 1.0, 0.0, (c2 - 1.0) * lgamma_f1(c1, xp))  # (F' is -inf at 1e-320)
        + log_ratio(c1, r1, xp)
    )


def cross_difference(
    a1: Array, a2: Array, da: Array, b1: Array, b2: Array, db: Array, den: Array, xp: Namespace
) -> Array:
    """``(a1 b2 - a2 b1) / (a2 den)`` given the exact changes ``da = a2 - a1``, ``db``.

    Where both changes are under half: ``(a1/a2)(db/den) - (da/a2)(b1/den)``, two small
    terms, so nearly equal pairs keep every digit; elsewhere ``(a1/a2)(b2/den) -
    b1/den`` (the first form would cancel its ``a1 b1`` terms). Only quotients, so
    parameters up to the float range do not overflow.
    """
    near = (xp.abs(da) <= 0.5 * a1) & (xp.abs(db) <= 0.5 * b1)
    ra = quot(a1, a2, xp)
    close = ra * quot(db, den, xp) - quot(da, a2, xp) * quot(b1, den, xp)
    return xp.where(near, close, ra * quot(b2, den, xp) - quot(b1, den, xp))


def _others(c: Array, xp: Namespace) -> Array:
    """``sum_k!=i c_k`` for each i (last axis), from prefix and suffix sums: no cancellation."""
    before = xp.cumulative_sum(c, axis=-1, include_initial=True)[..., :-1]
    flipped = xp.flip(c, axis=-1)
    after = xp.flip(xp.cumulative_sum(flipped, axis=-1, include_initial=True)[..., :-1], axis=-1)
    return before + after


def _mean_term(c1: Array, c2: Array, s1: Array, s2: Array, xp: Namespace) -> Array:
    """``b_i x_i = a_i t / s - b_i`` for the mean part of the Dirichlet KL."""
    return c1 * ratio(s2, s1, log_ratio(s2, s1, xp), xp)[..., None] - c2


class _Means:
    """The mean part shared by the Dirichlet KL and cross-entropy (P = a, Q = b).

    ``wg`` is ``b_i g(p_i/q_i - 1)`` per outcome, ``p = a/s``, ``q = b/t``:
    ``p_i/q_i - 1 = (a_i sum_k!=i d_k - d_i sum_k!=i a_k) / (b_i s)`` (``d = b - a``,
    exact where nearly equal); the sums leave out ``a_i``, so a dominant
    concentration's own change cancels exactly, not through ``s``.
    """

    def __init__(self, c1: Array, c2: Array, xp: Namespace) -> None:
        self.c1, self.c2 = xp.broadcast_arrays(c1, c2)
        c1, c2 = self.c1, self.c2
        self.d = d = c2 - c1
        self.s1, self.s2 = s1, s2 = xp.sum(c1, axis=-1), xp.sum(c2, axis=-1)
        self.o1, self.o2, self.od = o1, o2, od = _others(c1, xp), _others(c2, xp), _others(d, xp)
        x = cross_difference(c1, c2, d, o1, o2, od, s1[..., None], xp)
        log_v = log_ratio(c1, c2, xp) + log_ratio(s2, s1, xp)[..., None]
        self.wg = wg(c2, x, log_v, _mean_term(c1, c2, s1, s2, xp), xp)


def kl_dirichlet_c(c1: Array, c2: Array, xp: Namespace) -> Array:
    """``sum_i B_F(b_i, a_i) - B_F(t, s) + sum_i b_i g(p_i/q_i - 1)`` (P = a, Q = b).

    The KL of exponential families is the Bregman divergence of the log-partition
    ``sum lgamma(a_i) - lgamma(s)``; with ``lgamma = F + c log c - c`` its ``c log c``
    part is ``t KL(q || p)`` of the normalised means ``p = a/s``, ``q = b/t``, written
    as ``sum b_i g(p_i/q_i - 1)``, every term >= 0. ``p_i/q_i - 1`` comes from the
    relative differences ``(a_i - b_i)/b_i`` and ``sum(b - a)/s``, so nearly equal
    laws keep every digit and a law against itself is exactly 0.
    """
    m = _Means(c1, c2, xp)
    c1, c2, d, s1, s2, o1, o2, od = m.c1, m.c2, m.d, m.s1, m.s2, m.o1, m.o2, m.od
    mean_part = xp.sum(m.wg, axis=-1)
    # A concentration holding >= 4/5 of the total on both sides: its B_F and the sum's
    # agree to ~others/a; their difference comes from bregman_f_shift instead.
    dom = (o1 <= 0.25 * c1) & (o2 <= 0.25 * c2)
    any_dom = xp.any(dom, axis=-1)

    def pick(v: Array, default: float) -> Array:
        return xp.where(any_dom, xp.sum(xp.where(dom, v, 0.0), axis=-1), default)

    shift = bregman_f_shift(pick(c1, 1.0), pick(d, 0.0), pick(o1, 0.0), pick(od, 0.0), xp)
    rest = xp.sum(xp.where(dom, 0.0, bregman_f(c2, c1, xp, d)), axis=-1)
    total = bregman_f(
        xp.where(any_dom, 1.0, s2),
        xp.where(any_dom, 1.0, s1),
        xp,
        xp.where(any_dom, 0.0, xp.sum(d, axis=-1)),
    )
    f_part = rest + xp.where(any_dom, shift, -total)
    return f_part + mean_part


def _cross_dirichlet_c(c1: Array, c2: Array, xp: Namespace) -> Array:
    """``sum F(b_i) - F(t) + t KL(q || p) + sum log p_i - sum (b_i - 1)(F'(a_i) - F'(s))``.

    The textbook ``log B(b) - sum (b_i - 1)(psi(a_i) - psi(s))`` rearranged like the
    entropy (P = Dirichlet(a), Q = Dirichlet(b), p = a/s, q = b/t).
    """
    m = _Means(c1, c2, xp)
    terms = (
        lgamma_f(m.c2, xp)
        + m.wg
        + log_ratio(m.c1, m.s1[..., None], xp)
        - (m.c2 - 1.0) * (lgamma_f1(m.c1, xp) - lgamma_f1(m.s1, xp)[..., None])
    )
    return xp.sum(terms, axis=-1) - lgamma_f(m.s2, xp)


def kl_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """Beta's KL: the Dirichlet's of its two concentrations."""
    return kl_dirichlet_c(stacked(a, xp), stacked(b, xp), xp)


def same_outcomes(a: dict[str, Array], b: dict[str, Array]) -> None:
    """Raise unless two Dirichlets have the same number of outcomes."""
    k1, k2 = a["concentration"].shape[-1], b["concentration"].shape[-1]
    if k1 != k2:
        problem = (
            f"kl_divergence(Dirichlet, Dirichlet) needs the same number of outcomes; got "
            f"{k1} and {k2} (the last axis of `concentration`)."
        )
        raise DistributionError(problem)


def kl_dirichlet(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """See :func:`kl_dirichlet_c`."""
    same_outcomes(a, b)
    return kl_dirichlet_c(a["concentration"], b["concentration"], xp)


def cross_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """Beta's cross-entropy: the Dirichlet's of its two concentrations."""
    return _cross_dirichlet_c(stacked(a, xp), stacked(b, xp), xp)


def cross_dirichlet(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """See :func:`_cross_dirichlet_c`."""
    same_outcomes(a, b)
    return _cross_dirichlet_c(a["concentration"], b["concentration"], xp)
