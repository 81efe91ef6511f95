r"""The reduced log-gamma function ``F`` and its Bregman divergence, written not to cancel.

The closed forms never take differences of large ``lgamma`` or ``digamma`` values.
They use the *reduced* log-gamma function

.. math:: F(c) = \log\Gamma(c) - c \log c + c,

which is ``-log(c)/2 + log(2 pi)/2 + lambda(c)`` for large ``c`` (``lambda`` is the
Stirling remainder, about ``1/(12 c)``), so it stays small where ``lgamma`` is ~1e7,
and its Bregman divergence ``B_F(c2, c1) = F(c2) - F(c1) - (c2 - c1) F'(c1)``, which
is what every Gamma, Beta and Dirichlet KL is made of. It is >= 0 (F is convex) and is
computed from terms that are each >= 0 (a series in ``c2 - c1`` for nearly equal
arguments), so it keeps its relative precision down to ``c2 = c1`` (exactly 0) and in
float32, with no upcasting (JAX without x64 has no float64).
"""

from __future__ import annotations

from math import comb

import numpy as np

from klkit._backends._namespace import device_of
from klkit._numerics import HALF_LOG_2PI, HALF_LOG_2PI_E
from klkit._typing import Array, Namespace
from klkit.distributions._safe import g, g_parts, g_ratio, log_ratio, phi_parts
from klkit.distributions._special import (
    DIGAMMA_SERIES,
    LGAMMA_SERIES,
    SERIES_FROM,
    digamma,
    digamma_series,
    lgamma,
    lgamma_series,
    poly,
)

__all__ = [
    "bregman_f",
    "bregman_f_shift",
    "lgamma_e",
    "lgamma_f",
    "lgamma_f1",
    "lgamma_f1_diff",
    "lgamma_f2",
    "stirling_e_tail",
    "stirling_shift",
]

_NEAR_BREGMAN = 0.25
"""``B_F(c2, c1)`` with ``|c2 - c1| <= this * min(c1, c2)`` uses the series form."""

# e(c) = F(c) - (c - 1) F'(c) + log(c)/2 - log(2 pi e)/2 = -1/(3c) + sum_k>=2 e_k c^-k
# (from -1/(2c) + lambda(c) + (c - 1) mu(c)): e_2j = -b_j, e_2j+1 = a_j+1 + b_j+1.
_E_TAIL = tuple(
    -DIGAMMA_SERIES[k // 2 - 1]
    if k % 2 == 0
    else LGAMMA_SERIES[(k - 1) // 2] + DIGAMMA_SERIES[(k - 1) // 2]
    for k in range(2, 2 * len(LGAMMA_SERIES) + 1)
)


def _bregman_poly(m: int) -> tuple[int, ...]:
    """Coefficients of ``Q_m``, lowest power first, for the Bregman divergence of ``z^-m``.

    ``(1 + t)^-m - 1 + m t = t^2 Q_m(t) / (1 + t)^m`` with
    ``Q_m(t) = sum_k>=2 (m C(m, k - 1) - C(m, k)) t^(k - 2)``: every coefficient is
    positive, so for ``|t| <= 1/2`` nothing cancels.
    """
    return tuple(m * comb(m, k - 1) - comb(m, k) for k in range(2, m + 2))


_LAMBDA_BREGMAN = tuple(_bregman_poly(2 * j - 1) for j in range(1, len(LGAMMA_SERIES) + 1))

_MU_BREGMAN = tuple(_bregman_poly(2 * j) for j in range(1, len(DIGAMMA_SERIES) + 1))

# 8-point Gauss-Legendre on [0, 1]
_GL_NODES, _GL_WEIGHTS = (
    tuple(float(t) for t in 0.5 * (v + w))
    for v, w in zip(np.polynomial.legendre.leggauss(8), (1.0, 0.0), strict=True)
)


def _split(c: Array, xp: Namespace) -> tuple[Array, Array, Array]:
    """``(big, c where big else 10, c where small else 1)``: inputs for each branch."""
    big = c >= SERIES_FROM
    return big, xp.where(big, c, SERIES_FROM), xp.where(big, 1.0, c)


def lgamma_f(c: Array, xp: Namespace) -> Array:
    """``F(c) = lgamma(c) - c log c + c``: ``-log(c)/2 + log(2 pi)/2 + lambda(c)`` from 10 up."""
    big, zb, zs = _split(c, xp)
    large = -0.5 * xp.log(zb) + HALF_LOG_2PI + lgamma_series(zb, xp)
    small = lgamma(zs, xp) - zs * xp.log(zs) + zs
    return xp.where(big, large, small)


def lgamma_f1(c: Array, xp: Namespace) -> Array:
    """``F'(c) = psi(c) - log c`` (< 0, increasing): ``-1/(2c) - mu(c)`` from 10 up."""
    big, zb, zs = _split(c, xp)
    large = -0.5 / zb - digamma_series(zb, xp)
    small = digamma(zs, xp) - xp.log(zs)
    return xp.where(big, large, small)


def _lgamma_fh(c: Array, xp: Namespace) -> Array:
    """``F(c) + log c = lgamma(1 + c) - c log c + c`` (small where c is)."""
    big, zb, zs = _split(c, xp)
    large = 0.5 * xp.log(zb) + HALF_LOG_2PI + lgamma_series(zb, xp)
    return xp.where(big, large, lgamma(1.0 + zs, xp) - zs * xp.log(zs) + zs)


def _lgamma_fh1(c: Array, xp: Namespace) -> Array:
    """``F'(c) + 1/c = psi(1 + c) - log c``."""
    big, zb, zs = _split(c, xp)
    large = 0.5 / zb - digamma_series(zb, xp)
    return xp.where(big, large, digamma(1.0 + zs, xp) - xp.log(zs))


def stirling_e_tail(c: Array, xp: Namespace) -> Array:
    """``sum_k>=2 e_k c^-k``: the part of ``-1/(2c) + lambda(c) + (c - 1) mu(c)`` after -1/(3c).

    For ``c >= SERIES_FROM`` only; summed term by term, so it keeps its relative
    precision (the first-order terms, which cancel in Beta's, are left to the caller).
    """
    r = 1.0 / c
    return poly(r, _E_TAIL, xp) * r * r


def lgamma_e(c: Array, xp: Namespace) -> Array:
    """``E(c) = F(c) - (c - 1) F'(c)``, the per-coordinate part of the Gamma/Beta/Dirichlet entropy.

    From 10 up: ``-log(c)/2 + log(2 pi e)/2 + e(c)``, ``e(c) = -1/(3c) + O(c^-2)``, with
    no term of size c (``lgamma`` and ``(c - 1) psi`` are ~1e7 at c = 1e6 and cancel).
    """
    big, zb, zs = _split(c, xp)
    large = -0.5 * xp.log(zb) + HALF_LOG_2PI_E - 1.0 / (3.0 * zb) + stirling_e_tail(zb, xp)
    small = lgamma(zs, xp) - zs * xp.log(zs) + zs - (zs - 1.0) * (digamma(zs, xp) - xp.log(zs))
    return xp.where(big, large, small)


def _lambda_bregman(z: Array, t: Array, xp: Namespace) -> Array:
    """``lambda(z (1 + t)) - lambda(z) + z t mu(z)`` for ``z >= 10``, ``|t| <= 1/2``.

    Term by term ``a_j z^-m [(1 + t)^-m - 1 + m t] = a_j z^-m t^2 Q_m(t) / (1 + t)^m``
    (``m = 2j - 1``), whose polynomial ``Q_m`` has positive coefficients: no cancellation.
    """
    r = 1.0 / z
    inv = 1.0 / (1.0 + t)
    total = xp.zeros_like(z)
    zpow = r  # z^-m
    tpow = inv  # (1 + t)^-m
    for j, coeffs in enumerate(_LAMBDA_BREGMAN):
        total = total + LGAMMA_SERIES[j] * zpow * tpow * poly(t, tuple(map(float, coeffs)), xp)
        zpow = zpow * r * r
        tpow = tpow * inv * inv
    return total * t * t


def _bregman_big(c2: Array, c1: Array, d: Array, xp: Namespace) -> Array:
    """``B_F(c2, c1)`` for ``c1, c2 >= 10``: ``g(t)/2 + B_lambda``, ``t = d/c1``."""
    log_r = log_ratio(c2, c1, xp)
    t = d / c1
    half_g = 0.5 * g_parts(t, log_r, xp)
    close = xp.abs(t) <= 0.5
    tc = xp.where(close, t, 0.0)
    series_part = _lambda_bregman(c1, tc, xp)
    c2f = xp.where(close, SERIES_FROM, c2)
    c1f = xp.where(close, SERIES_FROM, c1)
    direct = lgamma_series(c2f, xp) - lgamma_series(c1f, xp) + (c2f - c1f) * digamma_series(c1f, xp)
    return half_g + xp.where(close, series_part, direct)


def _bregman_near(d: Array, c1: Array, xp: Namespace) -> Array:
    """``B_F(c2, c1)`` for ``|c2 - c1| <= min(c1, c2) / 4`` with ``min < 10``.

    ``B_lgamma(c2, c1) = sum_j g(d/(c1 + j)) + B_lgamma(c2 + n, c1 + n)`` by the
    recurrence (``d = c2 - c1``, every term >= 0), Stirling at ``z = c1 + n >= 10``:
    ``B_lgamma(z + d, z) = z phi(d/z) + g(d/z)/2 + B_lambda``; then ``B_F = B_lgamma -
    c1 phi(d/c1)`` (loses at most ~20x: ``F'' >= psi'/20`` below 10).
    """
    z = c1
    acc = xp.zeros_like(c1)
    for _ in range(int(SERIES_FROM)):
        low = xp.minimum(z, z + d) < SERIES_FROM
        acc = acc + xp.where(low, g(d / z, xp), 0.0)
        z = xp.where(low, z + 1.0, z)
    t = d / z
    at_z = z * phi_parts(t, xp.log1p(t), xp) + 0.5 * g(t, xp) + _lambda_bregman(z, t, xp)
    y = d / c1
    return acc + at_z - c1 * phi_parts(y, xp.log1p(y), xp)


def bregman_f(c2: Array, c1: Array, xp: Namespace, d: Array | None = None) -> Array:
    """``B_F(c2, c1) = F(c2) - F(c1) - (c2 - c1) F'(c1) >= 0``, accurate for all c1, c2 > 0.

    ``d`` is ``c2 - c1`` when the caller has it more accurately than the difference of
    the rounded ``c2`` and ``c1`` (a sum of concentrations and the sum of their changes).

    * both >= 10: ``g(c2/c1 - 1)/2`` plus the Stirling remainder's Bregman divergence
      (a positive-coefficient series near c1, else direct), all terms >= 0;
    * nearly equal below 10: the series form of :func:`_bregman_near`;
    * otherwise ``F(c2) - F(c1) - (c2 - c1) F'(c1)`` (at least 1/4 apart, no near-total
      cancellation).

    Exactly 0 when ``c2 == c1``.
    """
    if d is None:
        d = c2 - c1
    m = xp.minimum(c1, c2)
    big = m >= SERIES_FROM
    near = (~big) & (xp.abs(d) <= _NEAR_BREGMAN * m)
    far = ~(big | near)
    b1, b2 = xp.where(big, c1, SERIES_FROM), xp.where(big, c2, SERIES_FROM)
    bd = xp.where(big, d, 0.0)
    n1, nd = xp.where(near, c1, 1.0), xp.where(near, d, 0.0)
    f1, f2 = xp.where(far, c1, 1.0), xp.where(far, c2, 2.0)
    # F(c) = -log c + Fh(c): B_-log is g(c2/c1 - 1), exact for any ratio, and Fh is
    # small where c is (Fh(c) = lgamma(1 + c) - c log c + c), so nothing large cancels.
    fh2, fh1 = _lgamma_fh(f2, xp), _lgamma_fh(f1, xp)
    direct = g_ratio(f2, f1, xp) + (fh2 - fh1 - (f2 - f1) * _lgamma_fh1(f1, xp))
    return xp.where(
        big, _bregman_big(b2, b1, bd, xp), xp.where(near, _bregman_near(nd, n1, xp), direct)
    )


def lgamma_f2(c: Array, xp: Namespace) -> Array:
    """``F''(c) = psi'(c) - 1/c > 0``, for every ``c > 0``.

    From 10 up ``1/(2c^2) + sum_j 2j b_j c^-(2j+1)``; below by the recurrence
    ``psi'(c) = sum_j<n 1/(c + j)^2 + psi'(c + n)``.
    """
    z = c
    acc = xp.zeros_like(c)
    for _ in range(int(SERIES_FROM)):
        low = z < SERIES_FROM
        zs = xp.where(low, z, 1.0)
        acc = acc + xp.where(low, 1.0 / (zs * zs), 0.0)
        z = xp.where(low, z + 1.0, z)
    r = 1.0 / z
    w = r * r
    tail = poly(w, tuple(2 * (j + 1) * b for j, b in enumerate(DIGAMMA_SERIES)), xp) * w * r
    big = c >= SERIES_FROM
    cs = xp.where(big, 1.0, c)
    # small: psi'(c) - 1/c with psi'(z) = 1/z + 1/(2z^2) + tail(z); big: 1/(2c^2) + tail
    small = acc + r + 0.5 * w + tail - 1.0 / cs
    return xp.where(big, 0.5 * w + tail, small)


def _bregman_f1(d: Array, x: Array, xp: Namespace) -> Array:
    """``F'(x + d) - F'(x) - d F''(x) <= 0`` (F' is concave), accurate near ``d = 0``.

    Near (``|d| <= min(x, x + d)/4``): ``psi`` by its recurrence, ``psi(x) = psi(x + 1)
    - 1/x`` (whose ``1/x`` has the exact Bregman term ``d^2 / (x^2 (x + d))``), up to
    ``z >= 10``, then Stirling's ``log z - 1/(2z) - mu(z)`` term by term; minus
    ``log``'s, ``-g(d/x)``. Elsewhere directly.
    """
    near = xp.abs(d) <= _NEAR_BREGMAN * xp.minimum(x, x + d)
    xf, df = xp.where(near, 1.0, x), xp.where(near, 1.0, d)
    far = lgamma_f1(xf + df, xp) - lgamma_f1(xf, xp) - df * lgamma_f2(xf, xp)
    x, d = xp.where(near, x, 1.0), xp.where(near, d, 0.0)
    z = x
    acc = xp.zeros_like(x)
    for _ in range(int(SERIES_FROM)):
        low = xp.minimum(z, z + d) < SERIES_FROM
        zs = xp.where(low, z, 1.0)
        acc = acc + xp.where(low, d * d / (zs * zs * (zs + d)), 0.0)
        z = xp.where(low, z + 1.0, z)
    t = d / z
    r = 1.0 / z
    inv = 1.0 / (1.0 + t)
    mu_part = xp.zeros_like(z)
    zpow, tpow = r * r, inv * inv
    for j, coeffs in enumerate(_MU_BREGMAN):
        mu_part = mu_part + DIGAMMA_SERIES[j] * zpow * tpow * poly(t, tuple(map(float, coeffs)), xp)
        zpow, tpow = zpow * r * r, tpow * inv * inv
    y = d / x
    close = g(y, xp) - g(t, xp) - acc - 0.5 * t * t * r * inv - mu_part * t * t
    return xp.where(near, close, far)


def lgamma_f1_diff(x: Array, y: Array, xp: Namespace) -> Array:
    """``F'(x + y) - F'(x) >= 0`` for ``y >= 0``, accurate when ``y << x``.

    There ``y F''(x) + [F'(x + y) - F'(x) - y F''(x)]``, the bracket by the series of
    :func:`_bregman_f1`; elsewhere the difference itself.
    """
    near = y <= _NEAR_BREGMAN * x
    xn, yn = xp.where(near, x, 1.0), xp.where(near, y, 0.0)
    series_form = yn * lgamma_f2(xn, xp) + _bregman_f1(yn, xn, xp)
    xf, yf = xp.where(near, 1.0, x), xp.where(near, 1.0, y)
    return xp.where(near, series_form, lgamma_f1(xf + yf, xp) - lgamma_f1(xf, xp))


def bregman_f_shift(a1: Array, da: Array, r1: Array, dr: Array, xp: Namespace) -> Array:
    """``B_F(a2, a1) - B_F(a2 + r2, a1 + r1)``: a dominant concentration against the sum.

    For a concentration ``a`` and the small sum ``r`` of the others (``r <= a/4`` on
    both sides), given their exact changes ``da`` and ``dr``. Computed separately, the
    two divergences agree to ~r/a and their difference keeps only ``eps a/r`` of
    relative precision. Along ``u`` in [0, 1] from ``(a, a)`` to ``(a + r, a + r)`` the
    derivative of ``B_F(a2 + u r2, a1 + u r1)`` is ``r2 B_F'(y2, y1) + dr dy F''(y1)``
    (``y = a + u r``), smooth in u, so 8-point Gauss-Legendre gives the difference to
    rounding, from terms that are themselves small.
    """
    u = xp.asarray(_GL_NODES, dtype=a1.dtype, device=device_of(a1))
    w = xp.asarray(_GL_WEIGHTS, dtype=a1.dtype, device=device_of(a1))
    a1, da, r1, dr = a1[..., None], da[..., None], r1[..., None], dr[..., None]
    y1, dy = a1 + u * r1, da + u * dr  # the nodes on a new last axis
    # near: r2 B_F'(y2, y1) + dr dy F''(y1); far, the same with B_F' = F'(y2) - F'(y1)
    # - dy F''(y1) expanded, as r2 [F'(y2) - F'(y1)] - r1 dy F''(y1) (no large terms)
    near = xp.abs(dy) <= _NEAR_BREGMAN * xp.minimum(y1, y1 + dy)
    f2 = lgamma_f2(y1, xp)
    yf, df = xp.where(near, 1.0, y1), xp.where(near, 1.0, dy)
    far = (r1 + dr) * (lgamma_f1(yf + df, xp) - lgamma_f1(yf, xp)) - r1 * dy * f2
    integrand = xp.where(near, (r1 + dr) * _bregman_f1(dy, y1, xp) + dr * dy * f2, far)
    return -xp.sum(w * integrand, axis=-1)


def stirling_shift(
    coeffs: tuple[float, ...], first: int, z: Array, t: Array, xp: Namespace
) -> Array:
    """``sum_j c_j z^-m_j [(1 + t)^-m_j - 1]`` with ``m_j = first + 2j``, ``z >= 10``.

    The difference of a Stirling remainder at ``z (1 + t)`` and at ``z`` (``lambda``:
    ``first = 1``; ``mu``: ``first = 2``), each bracket by ``expm1``: no cancellation.
    """
    r = 1.0 / z
    lt = xp.log1p(t)
    total = xp.zeros_like(z)
    for j, c in enumerate(coeffs):
        m = first + 2 * j
        total = total + c * r**m * xp.expm1(-m * lt)
    return total
