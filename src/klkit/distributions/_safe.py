"""Elementary pieces of the closed forms that neither cancel nor overflow.

``g(x) = x - log1p(x)`` and ``phi(y) = (1 + y) log1p(y) - y`` (both >= 0) are the
building blocks of every KL here: each takes the small argument (accurate to a few ulp
where it is small) and, for large ones, the logarithm of the ratio, so a ratio of
1e-12 is not rounded through ``1 + x``. Around them: quotients, squares, exponentials
and logarithms that give +-inf where the float range ends, masked on both sides of
each ``where``, so no NumPy warning escapes and no gradient is NaN.
"""

from __future__ import annotations

import math

from klkit._numerics import NEAR, series
from klkit._typing import Array, Namespace

__all__ = [
    "exp_capped",
    "expm1_capped",
    "g",
    "g_parts",
    "g_ratio",
    "g_square",
    "log1m",
    "log_max",
    "log_nonneg",
    "log_ratio",
    "log_width",
    "phi_parts",
    "quot",
    "ratio",
    "square",
    "wg",
    "xlogy",
    "zeros_like_batch",
]


def log_max(x: Array, xp: Namespace) -> float:
    """Return the log of the largest finite number of ``x``'s dtype."""
    return math.log(float(xp.finfo(x.dtype).max))


def log_ratio(num: Array, den: Array, xp: Namespace) -> Array:
    """``log(num / den)`` for ``num, den > 0``, to a few ulp for every ratio.

    ``log`` of the rounded quotient, except where the quotient would overflow or be
    subnormal: there the difference of the logs (exact enough, the result is large).
    """
    split = xp.log(num) - xp.log(den)
    ok = xp.abs(split) < 0.5 * log_max(num, xp)
    quotient = xp.where(ok, num, 1.0) / xp.where(ok, den, 1.0)
    return xp.where(ok, xp.log(quotient), split)


def ratio(num: Array, den: Array, log_r: Array, xp: Namespace) -> Array:
    """``num / den`` given ``log_r = log(num / den)``; +inf where it overflows (no warning)."""
    ok = log_r < log_max(num, xp) - 1.0
    quotient = xp.where(ok, num, 1.0) / xp.where(ok, den, 1.0)
    return xp.where(ok, quotient, xp.inf)


def g(x: Array, xp: Namespace) -> Array:
    """``x - log1p(x)`` for ``x > -1``: >= 0, by the series where it would cancel.

    Accurate while ``1 + x`` is (``x`` above about -0.5); for ratios that may be far
    from 1 use :func:`g_ratio` or :func:`g_parts`.
    """
    small = xp.abs(x) < NEAR
    xs = xp.where(small, x, 0.0)
    xf = xp.where(small, 1.0, x)
    return xp.where(small, series(xs), xf - xp.log1p(xf))


def g_parts(x: Array, log_r: Array, xp: Namespace) -> Array:
    """``r - 1 - log r`` from ``x = r - 1`` and ``log_r = log r`` (both as accurate as given).

    The series of ``x`` where ``|x| < NEAR`` (only ``x`` must be accurate there), else
    ``x - log_r`` (``x`` may be +inf). Never negative, exactly 0 at ``x = 0``.
    """
    small = xp.abs(x) < NEAR
    xs = xp.where(small, x, 0.0)
    skip = small | (x == xp.inf)
    big = xp.where(skip, 0.0, x) - xp.where(skip, 0.0, log_r)
    return xp.where(small, series(xs), xp.where(skip, xp.inf, big))


def g_ratio(num: Array, den: Array, xp: Namespace) -> Array:
    """``g(num/den - 1) = num/den - 1 - log(num/den)`` for ``num, den > 0``, any ratio."""
    log_r = log_ratio(num, den, xp)
    near = xp.abs(num - den) < NEAR * den
    x_near = (xp.where(near, num, 1.0) - xp.where(near, den, 1.0)) / xp.where(near, den, 1.0)
    x_far = ratio(xp.where(near, 2.0, num), xp.where(near, 1.0, den), log_r, xp) - 1.0
    return g_parts(xp.where(near, x_near, x_far), log_r, xp)


def phi_parts(y: Array, log_r: Array, xp: Namespace) -> Array:
    """``r log r - r + 1`` (r = 1 + y) from ``y`` (accurate where small) and ``log r``.

    Near ``r = 1``: ``r g(-y/r)``, with no cancellation; elsewhere ``y (log r - 1) +
    log r`` (+inf for ``y = +inf``). Never negative, exactly 0 at ``y = 0``.
    """
    small = xp.abs(y) < NEAR
    ys = xp.where(small, y, 0.0)
    r = 1.0 + ys
    yb = xp.where(small, 0.0, y)
    lb = xp.where(small, 0.0, log_r)
    return xp.where(small, r * g(-ys / r, xp), yb * (lb - 1.0) + lb)


def wg(w: Array, x: Array, log_r: Array, wx: Array, xp: Namespace) -> Array:
    """``w g(x) = w (x - log(1 + x))`` with ``wx = w x`` given in a form of its own.

    By the series where ``|x| < NEAR``; elsewhere ``wx - w log(1 + x)``, where ``wx`` is
    a difference of the two quantities ``x`` compares (``q - p`` for ``x = q/p - 1``):
    the same value as ``w (x - log_r)``, but its gradient does not come from two
    huge terms cancelling.
    """
    small = xp.abs(x) < NEAR
    big = xp.where(small, 0.0, wx) - xp.where(small, 0.0, w) * xp.where(small, 0.0, log_r)
    return xp.where(
        small, w * g_parts(xp.where(small, x, 0.0), log_r, xp), xp.where(wx == xp.inf, xp.inf, big)
    )


def g_square(s1: Array, s2: Array, xp: Namespace, log_r: Array | None = None) -> Array:
    """``r^2 - 1 - 2 log r >= 0`` for ``r = s1/s2`` (twice the KL of two centred normals).

    ``r^2 - 1 = u (2 + u)`` with ``u = (s1 - s2)/s2`` near 1 (no cancellation), else
    from the ratio, and ``log r`` of the quotient (or of each scale when the quotient
    would overflow or underflow): ``N(0, 1e-12)`` against ``N(0, 1)`` is 27.131.
    """
    if log_r is None:
        log_r = log_ratio(s1, s2, xp)
    near = xp.abs(log_r) < 0.04
    u = (xp.where(near, s1, 1.0) - xp.where(near, s2, 1.0)) / xp.where(near, s2, 1.0)
    fits = (~near) & (2.0 * log_r < log_max(log_r, xp) - 1.0)
    r = exp_capped(xp.where(fits, log_r, 0.0), xp)
    x = xp.where(near, u * (2.0 + u), xp.where(fits, r * r - 1.0, xp.inf))
    return g_parts(x, 2.0 * log_r, xp)


# --- overflow-safe arithmetic -----------------------------------------------------------


def quot(a: Array, b: Array, xp: Namespace) -> Array:
    """Return ``a / b`` for ``b > 0``: +-inf where it overflows, without a warning."""
    root = math.sqrt(float(xp.finfo(b.dtype).max))
    over = xp.abs(a) * (2.0 / root) > xp.minimum(b, 1.0) * (root / 2.0)
    q = xp.where(over, 0.0, a) / xp.where(over, 1.0, b)
    return xp.where(over, xp.where(a < 0, -xp.inf, xp.zeros_like(q) + xp.inf), q)


def square(x: Array, xp: Namespace) -> Array:
    """``x * x``: +inf where it overflows, without a warning."""
    fits = xp.abs(x) < 0.5 * math.sqrt(float(xp.finfo(x.dtype).max))
    xs = xp.where(fits, x, 0.0)
    return xp.where(fits, xs * xs, xp.inf)


def exp_capped(x: Array, xp: Namespace) -> Array:
    """``exp(x)``: +inf where it overflows, without a warning."""
    fits = x < log_max(x, xp) - 1.0
    return xp.where(fits, xp.exp(xp.where(fits, x, 0.0)), xp.inf)


def expm1_capped(x: Array, xp: Namespace) -> Array:
    """``expm1(x)``: +inf where it overflows, without a warning."""
    fits = x < log_max(x, xp) - 1.0
    return xp.where(fits, xp.expm1(xp.where(fits, x, 0.0)), xp.inf)


def log_nonneg(x: Array, xp: Namespace) -> Array:
    """``log(x)`` for ``x >= 0``: -inf at 0 with no warning and no NaN gradient."""
    pos = x > 0
    return xp.where(pos, xp.log(xp.where(pos, x, 1.0)), -xp.inf)


def log1m(p: Array, xp: Namespace) -> Array:
    """``log(1 - p)`` for ``p`` in [0, 1]: -inf at ``p = 1`` with no NaN gradient."""
    below = p < 1
    return xp.where(below, xp.log1p(-xp.where(below, p, 0.0)), -xp.inf)


def xlogy(x: Array, y: Array, xp: Namespace) -> Array:
    """``x log y`` for ``x, y >= 0`` with ``0 log y = 0`` (also for y = 0), gradient-safe."""
    pos = y > 0
    log_y = xp.log(xp.where(pos, y, 1.0))
    return xp.where(x == 0, 0.0, xp.where(pos, x * log_y, -xp.inf))


def log_width(lo: Array, hi: Array, xp: Namespace) -> Array:
    """``log(hi - lo)`` for ``lo < hi``, also where ``hi - lo`` overflows."""
    half = 0.25 * float(xp.finfo(lo.dtype).max)
    fits = (xp.abs(lo) < half) & (xp.abs(hi) < half)
    w = xp.where(fits, hi, 1.0) - xp.where(fits, lo, 0.0)
    wide = 0.5 * xp.where(fits, 1.0, hi) - 0.5 * xp.where(fits, 0.0, lo)
    return xp.where(fits, xp.log(w), xp.log(wide) + math.log(2.0))


def zeros_like_batch(a: dict[str, Array], xp: Namespace) -> Array:
    """Zeros with the broadcast batch shape of scalar parameters (for ``+ 0 * loc``)."""
    out = None
    for v in a.values():
        out = 0.0 * v if out is None else out + 0.0 * v
    assert out is not None
    return out
