"""KL divergence and cross-entropy of two laws of different continuous families.

A law against a Normal is ``J(P) + KL(N(mean, var) || Q)``, ``J`` (P's distance to its
moment-matched normal) written without the two cancelling entropies; against a Gamma
it is ``c g(rho - 1) + (c - 1) J + ...`` from P's mean and Jensen gap ``log E[X] -
E[log X]``; Beta and Uniform pairs through the Bernoulli KL of their means. Pairs ruled
out by their supports are in :mod:`klkit.distributions._pairs`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from klkit._numerics import HALF_LOG_2PI_E, LN2
from klkit._typing import Array, Namespace
from klkit.distributions._entropy import entropy_beta, entropy_dirichlet_c, student_parts
from klkit.distributions._families import (
    Beta,
    Exponential,
    Gamma,
    Laplace,
    LogNormal,
    Normal,
    StudentT,
    Uniform,
)
from klkit.distributions._kl_same import as_gamma
from klkit.distributions._reduced import (
    lgamma_e,
    lgamma_f,
    lgamma_f1_diff,
    stirling_e_tail,
)
from klkit.distributions._safe import (
    exp_capped,
    expm1_capped,
    g,
    g_ratio,
    g_square,
    log_ratio,
    log_width,
    quot,
    square,
    wg,
    zeros_like_batch,
)
from klkit.distributions._special import SERIES_FROM, digamma_series, erf, lgamma_series

__all__ = [
    "cross_beta_gamma",
    "cross_beta_uniform",
    "cross_to_normal",
    "gamma_q",
    "kl_beta_gamma",
    "kl_beta_uniform",
    "kl_lognormal_gamma",
    "kl_normal_laplace",
    "kl_to_normal",
    "kl_uniform_beta",
    "kl_uniform_gamma",
    "mean",
    "normal_projection",
]

_KL = Callable[[dict[str, Array], dict[str, Array], Namespace], Array]


def _jensen_uniform(h: Array, xp: Namespace) -> Array:
    """``log E[X] - E[log X]`` for X uniform on ``m (1 +- h)``, ``0 < h <= 1``.

    ``sum_j>=1 h^2j / ((2j + 1) 2j)`` (all terms > 0) below h = 1/2, else
    ``1 - [(1 + h) log1p(h) - (1 - h) log1p(-h)] / (2h)``.
    """
    small = h < 0.5
    hs = xp.where(small, h, 0.0)
    w = hs * hs
    acc = xp.zeros_like(hs)
    for j in range(30, 0, -1):
        acc = (acc + 1.0 / ((2 * j + 1) * (2 * j))) * w
    hb = xp.where(small, 1.0, h)
    below = hb < 1.0
    lower = xp.where(below, (1.0 - hb) * xp.log1p(-xp.where(below, hb, 0.0)), 0.0)
    closed = 1.0 - ((1.0 + hb) * xp.log1p(hb) - lower) / (2.0 * hb)
    return xp.where(small, acc, closed)


def _kl_to_gamma(
    log_mean: Array, jensen: Array, rest: Array, b: dict[str, Array], xp: Namespace
) -> Array:
    """``-E_P[log Gamma(x; c, r)] + rest - log E[X]`` for a law P on (0, inf).

    From P's ``log E[X]`` and Jensen gap ``J = log E[X] - E[log X] >= 0``:
    ``c g(rho - 1) + (c - 1) J + rest + F(c)``, ``rho = r E[X] / c``; ``rest`` is
    ``log E[X]`` for the cross-entropy and ``log E[X] - H(P)`` for the KL. The textbook
    ``-c log r + lgamma(c) - (c - 1) E log X + r E X`` has terms of size ``c log c``.
    """
    c, r = b["concentration"], b["rate"]
    log_rho = log_ratio(r, c, xp) + log_mean
    rm = exp_capped(xp.log(r) + log_mean, xp)  # r E[X] = c rho
    return (
        wg(c, expm1_capped(log_rho, xp), log_rho, rm - c, xp)
        + (c - 1.0) * jensen
        + rest
        + lgamma_f(c, xp)
    )


def cross_beta_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``c g(rho - 1) + (c - 1) J + log E[X] + F(c)`` (``E log X = log E[X] - J``)."""
    x, y = a["concentration1"], a["concentration0"]
    log_mean = _log_share(x, y, xp)
    jensen = lgamma_f1_diff(x, y, xp)  # F'(s) - F'(x) >= 0
    return _kl_to_gamma(log_mean, jensen, log_mean, b, xp)


def cross_beta_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    inside = (b["low"] <= 0) & (b["high"] >= 1)
    lo, hi = xp.where(inside, b["low"], 0.0), xp.where(inside, b["high"], 1.0)
    return xp.where(inside, log_width(lo, hi, xp), xp.inf) + zeros_like_batch(a, xp)


def kl_uniform_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """Uniform on ``m (1 +- h)``: ``E log X - H = log(m/w) - J = -log(2h) - J``."""
    lo, hi = a["low"], a["high"]
    inside = lo >= 0
    lo_s, hi_s = xp.where(inside, lo, 0.0), xp.where(inside, hi, 1.0)
    total = hi_s + lo_s  # 2m
    w = hi_s - lo_s
    jensen = _jensen_uniform(w / total, xp)
    value = _kl_to_gamma(xp.log(total) - LN2, jensen, log_ratio(total, 2.0 * w, xp), b, xp)
    return xp.where(inside, value, xp.inf)


def kl_uniform_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """KL of a Uniform against a Beta, with no term of size ``x log x``.

    ``s KL(Bern(x/s) || Bern(mean)) + (x - 1) J_U + (y - 1) J_V + log(m_U m_V / w)
    + F(x) + F(y) - F(s)`` for Beta(x, y), ``s = x + y``, U uniform on [lo, hi] in [0, 1]
    and V = 1 - U (``J`` their Jensen gaps); the textbook ``log B(x, y) - (x - 1) E log U
    - (y - 1) E log V - log w`` has terms of size ``x log x``.
    """
    lo, hi = a["low"], a["high"]
    inside = (lo >= 0) & (hi <= 1)
    lo_s, hi_s = xp.where(inside, lo, 0.25), xp.where(inside, hi, 0.75)
    x, y = b["concentration1"], b["concentration0"]
    s = x + y
    w = hi_s - lo_s
    tot_u, tot_v = hi_s + lo_s, (1.0 - hi_s) + (1.0 - lo_s)  # 2 m_U, 2 m_V
    tot_v = xp.where(tot_v > 0, tot_v, w)  # hi = lo = 1 cannot happen (lo < hi)
    bern = x * g_ratio(0.5 * tot_u * s, x, xp) + y * g_ratio(0.5 * tot_v * s, y, xp)
    value = (
        bern
        + (x - 1.0) * _jensen_uniform(w / tot_u, xp)
        + (y - 1.0) * _jensen_uniform(w / tot_v, xp)
        + (xp.log(tot_u) + xp.log(tot_v) - 2.0 * LN2 - xp.log(w))
        + lgamma_f(x, xp)
        + lgamma_f(y, xp)
        - lgamma_f(s, xp)
    )
    return xp.where(inside, value, xp.inf)


def kl_beta_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    inside = (b["low"] <= 0) & (b["high"] >= 1)
    lo, hi = xp.where(inside, b["low"], 0.0), xp.where(inside, b["high"], 1.0)
    value = log_width(lo, hi, xp) - entropy_beta(a, xp)
    return xp.where(inside, value, xp.inf)


def _log_share(x: Array, y: Array, xp: Namespace) -> Array:
    """``log(x / (x + y))`` as ``-log1p(y/x)``: ``x + y`` may round ``y`` away."""
    q = quot(y, x, xp)
    big = q == xp.inf
    return xp.where(big, xp.log(x) - xp.log(x + y), -xp.log1p(xp.where(big, 0.0, q)))


def kl_beta_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """Beta(x, y): ``E X = x/s``, Jensen gap ``F'(s) - F'(x)`` (>= 0, F' increasing)."""
    x, y = a["concentration1"], a["concentration0"]
    log_mean = _log_share(x, y, xp)
    jensen = lgamma_f1_diff(x, y, xp)
    return _kl_to_gamma(log_mean, jensen, log_mean - entropy_beta(a, xp), b, xp)


def kl_lognormal_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """KL of a LogNormal against a Gamma: ``c g(rho - 1) + c s^2/2 + F(c) - log(2 pi e s^2)/2``.

    From c = 10 the last three are ``g(c s^2 - 1)/2 + lambda(c)`` (both >= 0), with
    ``rho = r e^(mu + s^2/2) / c``.
    """
    mu, sigma = a["loc"], a["scale"]
    c, r = b["concentration"], b["rate"]
    u = sigma * sigma
    log_rho = log_ratio(r, c, xp) + mu + 0.5 * u
    rm = exp_capped(xp.log(r) + mu + 0.5 * u, xp)  # r E[X] = c rho
    rate_part = wg(c, expm1_capped(log_rho, xp), log_rho, rm - c, xp)
    big = c >= SERIES_FROM
    cb = xp.where(big, c, SERIES_FROM)
    large = 0.5 * g_ratio(cb * u, xp.ones_like(cb * u), xp) + lgamma_series(cb, xp)
    cs = xp.where(big, 1.0, c)
    small = 0.5 * cs * u + lgamma_f(cs, xp) - HALF_LOG_2PI_E - xp.log(sigma)
    return rate_part + xp.where(big, large, small)


def _log_expm1(u: Array, xp: Namespace) -> Array:
    """``log(expm1(u))`` for ``u > 0``, without overflow."""
    small = u < 1.0
    us = xp.where(small, u, 1.0)
    ub = xp.where(small, 1.0, u)
    return xp.where(small, xp.log(xp.expm1(us)), ub + xp.log(-xp.expm1(-ub)))


def normal_projection(d: type, a: dict[str, Array], xp: Namespace) -> tuple[Array, Array, Array]:
    """``(mean, log sd, J)`` of a continuous law, ``J = log(2 pi e var)/2 - H(P) >= 0``.

    ``J`` is how far P is from the normal with its mean and variance; KL against any
    normal Q is ``J + KL(N(mean, var) || Q)`` (Q's log-density is quadratic, so only
    P's first two moments meet it). Each J is written without the cancellation of the
    two entropies, which are nearly equal for a Gamma, Beta or Student's t near normal.
    """
    if d is Exponential:
        log_sd = -xp.log(a["rate"])
        return exp_capped(log_sd, xp), log_sd, 0.0 * log_sd + (HALF_LOG_2PI_E - 1.0)
    if d is Laplace:
        log_sd = xp.log(a["scale"]) + 0.5 * LN2
        return a["loc"] + 0.0 * log_sd, log_sd, 0.0 * log_sd + 0.5 * (math.log(math.pi) - 1.0)
    if d is Uniform:
        lo, hi = a["low"], a["high"]
        log_sd = log_width(lo, hi, xp) - 0.5 * math.log(12.0)
        return 0.5 * lo + 0.5 * hi, log_sd, 0.0 * log_sd + 0.5 * math.log(math.pi * math.e / 6)
    if d is Gamma:
        c, r = a["concentration"], a["rate"]
        big = c >= SERIES_FROM
        cb, cs = xp.where(big, c, SERIES_FROM), xp.where(big, 1.0, c)
        j_big = 1.0 / (3.0 * cb) - stirling_e_tail(cb, xp)
        j_small = HALF_LOG_2PI_E - 0.5 * xp.log(cs) - lgamma_e(cs, xp)
        log_sd = 0.5 * xp.log(c) - xp.log(r)
        return exp_capped(log_ratio(c, r, xp), xp), log_sd, xp.where(big, j_big, j_small)
    if d is Beta:
        return _beta_projection(a, xp)
    if d is LogNormal:
        mu, sigma = a["loc"], a["scale"]
        u = square(sigma, xp)
        wide = u == xp.inf  # scale > 1e154: moments beyond the float range
        u = xp.where(wide, 1.0, u)
        small = u < 1.0
        us = xp.where(small, u, 0.0)
        acc = xp.zeros_like(us)
        for k in range(20, 0, -1):
            acc = (acc + 1.0 / math.factorial(k + 1)) * us  # expm1(u)/u - 1
        log_ratio_u = xp.where(
            small,
            xp.log1p(acc),
            _log_expm1(xp.where(small, 1.0, u), xp) - xp.log(xp.where(small, 1.0, u)),
        )
        j = xp.where(wide, xp.inf, 0.5 * log_ratio_u + 0.5 * u)
        # log sd = mu + u/2 + log(expm1(u))/2, with log(expm1(u)) = 2 log s + log1p(acc)
        # below u = 1 (u = s^2 may underflow)
        half_log = xp.where(
            small,
            xp.log(sigma) + 0.5 * xp.log1p(acc),
            0.5 * _log_expm1(xp.where(small, 1.0, u), xp),
        )
        log_sd = xp.where(wide, xp.inf, mu + 0.5 * u + half_log)
        return xp.where(wide, xp.inf, exp_capped(mu + 0.5 * u, xp)), log_sd, j
    assert d is StudentT
    df = a["df"]
    _, j = student_parts(df, xp)
    finite = df > 2.0
    dfs = xp.where(finite, df, 4.0)
    log_sd = xp.log(a["scale"]) + 0.5 * (xp.log(dfs) - xp.log(dfs - 2.0))
    return a["loc"] + 0.0 * df, xp.where(finite, log_sd, xp.inf), j


def _beta_projection(a: dict[str, Array], xp: Namespace) -> tuple[Array, Array, Array]:
    """Mean, log sd and distance J to its normal of a Beta(x, y).

    From ``min(x, y) = 10``, ``J = (x - y)^2 / (3 x y s) + g(1/s)/2 - mu(s) - e~(x)
    - e~(y) + e~(s)`` (``e~`` the O(c^-2) Stirling tail): the first-order terms
    ``1/(3x) + 1/(3y) - 4/(3s)``, which cancel for x = y, are combined exactly.
    """
    x, y = a["concentration1"], a["concentration0"]
    s = x + y
    log_sd = 0.5 * (xp.log(x) + xp.log(y) - xp.log1p(s)) - xp.log(s)
    big = xp.minimum(x, y) >= SERIES_FROM
    xb, yb = xp.where(big, x, SERIES_FROM), xp.where(big, y, SERIES_FROM)
    sb = xb + yb
    e = stirling_e_tail
    j_big = (
        (xb - yb) * (xb - yb) / (3.0 * xb * yb * sb)
        + 0.5 * g(1.0 / sb, xp)
        - digamma_series(sb, xp)
        - e(xb, xp)
        - e(yb, xp)
        + e(sb, xp)
    )
    xs, ys = xp.where(big, 1.0, x), xp.where(big, 1.0, y)
    ss = xs + ys
    log_sd_s = 0.5 * (xp.log(xs) + xp.log(ys) - xp.log1p(ss)) - xp.log(ss)
    j_small = HALF_LOG_2PI_E + log_sd_s - entropy_dirichlet_c(xp.stack([xs, ys], axis=-1), xp)
    x_, s_ = xp.broadcast_arrays(x, s)
    return x_ / s_, log_sd, xp.where(big, j_big, j_small)


def mean(d: type, a: dict[str, Array], xp: Namespace) -> Array:
    """Return the mean of a continuous univariate family."""
    if d in (Normal, Laplace, StudentT):
        return a["loc"] + zeros_like_batch(a, xp)
    return normal_projection(d, a, xp)[0]


def _against_normal(
    d: type, a: dict[str, Array], b: dict[str, Array], xp: Namespace
) -> tuple[Array, Array, Array, Array]:
    """``(J, log sd, scale part, location part)`` of P against a normal Q.

    ``KL(N(mean_P, var_P) || Q)`` is the sum of the last two parts: ``g2(sd/s)/2`` and
    ``((mean - loc)/s)^2/2`` (see :func:`normal_projection`).
    """
    mean, log_sd, j = normal_projection(d, a, xp)
    s = b["scale"]
    log_r = log_sd - xp.log(s)
    sd = exp_capped(log_sd, xp)
    return (
        j,
        log_sd,
        0.5 * g_square(sd, s, xp, log_r),
        0.5 * square(quot(mean - b["loc"], s, xp), xp),
    )


def kl_to_normal(d: type) -> _KL:
    """``J(P) + KL(N(mean_P, var_P) || Q)`` (see :func:`normal_projection`)."""

    def kl(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        j, _, scale_part, loc_part = _against_normal(d, a, b, xp)
        return j + scale_part + loc_part

    return kl


def cross_to_normal(d: type) -> _KL:
    """``log(2 pi e var_P)/2 + KL(N(mean_P, var_P) || Q)``: ``H(P) + J`` without H(P)."""

    def cross(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        _, log_sd, scale_part, loc_part = _against_normal(d, a, b, xp)
        return HALF_LOG_2PI_E + log_sd + (scale_part + loc_part)

    return cross


def kl_normal_laplace(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``log(2 b / s) + E|X - m| / b - log(2 pi e)/2``, E|X - m| the folded normal's mean."""
    s, d, bs = a["scale"], a["loc"] - b["loc"], b["scale"]
    z = quot(d, s, xp)
    inner = xp.abs(z) < 40.0
    zc = xp.where(inner, z, 0.0)
    spread = xp.where(inner, quot(s, bs, xp) * math.sqrt(2 / math.pi) * xp.exp(-0.5 * zc * zc), 0.0)
    shift = quot(d, bs, xp) * erf(xp.where(inner, zc, xp.sign(z) * 40.0) / math.sqrt(2.0), xp)
    return log_ratio(2.0 * bs, s, xp) + spread + shift - HALF_LOG_2PI_E


def gamma_q(kl: _KL) -> _KL:
    """Make a rule against a Gamma take an Exponential(rate) as Gamma(1, rate)."""
    return lambda a, b, xp: kl(a, as_gamma(b), xp)
