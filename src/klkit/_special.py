"""``lgamma``, ``digamma`` (positive arguments) and ``erf``, on every array library.

The array API standard has neither, and the Gamma, Beta, Dirichlet, Poisson,
Binomial and Student-t families need both. PyTorch and JAX have their own
(differentiable, on the array's device): those are used. Everything else (NumPy,
array-api-strict, Dask, CuPy) gets the same formulas written in ``xp.*``: the argument
is shifted up to ``z >= 10`` by the recurrences ``lgamma(x) = lgamma(x + 1) - log x``
and ``psi(x) = psi(x + 1) - 1/x``, then Stirling's series (truncation error below
1e-16 at ``z = 10``). Absolute error is a few ulp of ``lgamma(10) ~ 12.8``; tests
compare with SciPy and mpmath. SciPy is not used so that ``import klkit`` stays light.
"""

from __future__ import annotations

import math
import sys

from klkit._typing import Array, Namespace

__all__ = ["SERIES_FROM", "digamma", "erf", "lbeta", "lgamma", "lgamma_series"]

SERIES_FROM = 10.0
"""Stirling's series is used from here up (shifting smaller arguments)."""
_SHIFT_TO = SERIES_FROM
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Stirling: lgamma(z) = (z - 1/2) log z - z + log(2 pi)/2 + sum_k B_2k / (2k (2k - 1) z^(2k - 1))
_LGAMMA_SERIES = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
# psi(z) = log z - 1/(2z) - sum_k B_2k / (2k z^(2k))
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _native(x: Array, torch_name: str, jax_name: str) -> Array | None:
    """Call the library's own function (torch and JAX have both, differentiable)."""
    module = type(x).__module__
    if module.startswith("torch"):
        return getattr(sys.modules["torch"], torch_name)(x)
    if module.startswith(("jax", "jaxlib")):
        return getattr(sys.modules["jax"].scipy.special, jax_name)(x)
    return None


def _shifted(x: Array, xp: Namespace, step: str) -> tuple[Array, Array]:
    """``z = x + n >= 10`` and the recurrence's sum over ``x, ..., x + n - 1``."""
    z = x
    acc = xp.zeros_like(x)
    for _ in range(int(_SHIFT_TO)):
        low = z < _SHIFT_TO
        safe = xp.where(low, z, 1.0)
        acc = acc + xp.where(low, xp.log(safe) if step == "log" else 1.0 / safe, 0.0)
        z = xp.where(low, z + 1.0, z)
    return z, acc


def lgamma(x: Array, xp: Namespace) -> Array:
    """``log Gamma(x)`` for ``x > 0``."""
    native = _native(x, "lgamma", "gammaln")
    if native is not None:
        return native
    z, acc = _shifted(x, xp, "log")
    return (z - 0.5) * xp.log(z) - z + _HALF_LOG_2PI + lgamma_series(z, xp) - acc


def lgamma_series(z: Array, xp: Namespace) -> Array:
    """``lgamma(z) - [(z - 1/2) log z - z + log(2 pi)/2]`` for ``z >= SERIES_FROM``."""
    r = 1.0 / z
    w = r * r
    series = xp.zeros_like(z)
    for c in reversed(_LGAMMA_SERIES):
        series = series * w + c
    return series * r


def digamma(x: Array, xp: Namespace) -> Array:
    """``psi(x) = d/dx log Gamma(x)`` for ``x > 0``."""
    native = _native(x, "digamma", "digamma")
    if native is not None:
        return native
    z, acc = _shifted(x, xp, "reciprocal")
    r = 1.0 / z
    w = r * r
    series = xp.zeros_like(z)
    for c in reversed(_DIGAMMA_SERIES):
        series = series * w + c
    return xp.log(z) - 0.5 / z - series * w - acc


def lbeta(a: Array, b: Array, xp: Namespace) -> Array:
    """``log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b)``."""
    return lgamma(a, xp) + lgamma(b, xp) - lgamma(a + b, xp)


def erf(x: Array, xp: Namespace) -> Array:
    """Return erf(x): torch's and JAX's own, else a series with no cancellation.

    ``erf(x) = 2x/sqrt(pi) e^(-x^2) sum_n (2x^2)^n / (1 * 3 * ... * (2n + 1))``: every
    term is positive, so it keeps full precision; 160 terms reach |x| = 6, beyond
    which ``|erf(x)| = 1`` to double precision.
    """
    native = _native(x, "erf", "erf")
    if native is not None:
        return native
    a = xp.abs(x)
    small = a < 6.0
    z = xp.where(small, a, 0.0)
    two_z2 = 2.0 * z * z
    term = xp.ones_like(z)
    total = xp.ones_like(z)
    for n in range(1, 160):
        term = term * two_z2 / (2 * n + 1)
        total = total + term
    value = xp.where(small, (2.0 / math.sqrt(math.pi)) * z * xp.exp(-z * z) * total, 1.0)
    return xp.where(x < 0, -value, value)
