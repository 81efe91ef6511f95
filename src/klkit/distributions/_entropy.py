"""Entropies of the continuous families, and the table of every family's entropy.

Gamma, Beta and Dirichlet entropies come from the reduced log-gamma function
(:mod:`klkit.distributions._reduced`), with no term of the size of a concentration;
Student's t from the normal's plus two positive terms. The discrete entropies are in
:mod:`klkit.distributions._discrete`, the multivariate normal's in ``_mvn``.
"""

from __future__ import annotations

from collections.abc import Callable

from klkit._numerics import HALF_LOG_2PI_E, LN2
from klkit._typing import Array, Namespace
from klkit.distributions import _families as fam
from klkit.distributions._base import Family
from klkit.distributions._discrete import (
    entropy_bernoulli,
    entropy_binomial,
    entropy_geometric,
    entropy_poisson,
)
from klkit.distributions._mvn import entropy_mvn
from klkit.distributions._reduced import lgamma_e, lgamma_f, lgamma_f1, stirling_shift
from klkit.distributions._safe import g, log_ratio, log_width
from klkit.distributions._special import DIGAMMA_SERIES, LGAMMA_SERIES, SERIES_FROM

__all__ = [
    "entropy",
    "entropy_beta",
    "entropy_dirichlet_c",
    "entropy_gamma",
    "stacked",
    "student_parts",
]

_E = Callable[[dict[str, Array], Namespace], Array]


def stacked(a: dict[str, Array], xp: Namespace) -> Array:
    """Beta's two concentrations as a Dirichlet's, on a last axis of length 2."""
    c1, c0 = xp.broadcast_arrays(a["concentration1"], a["concentration0"])
    return xp.stack([c1, c0], axis=-1)


def entropy_gamma(a: dict[str, Array], xp: Namespace) -> Array:
    """``log(c/r) + E(c)``, ``E(c) = F(c) - (c - 1) F'(c)`` (see ``_reduced``).

    The textbook ``c - log r + lgamma(c) + (1 - c) psi(c)`` cancels terms of ~1e7 at
    ``c = 1e6``; E is ``-log(c)/2 + log(2 pi e)/2 - 1/(3c) + ...`` there.
    """
    c, r = a["concentration"], a["rate"]
    return log_ratio(c, r, xp) + lgamma_e(c, xp)


def entropy_dirichlet_c(c: Array, xp: Namespace) -> Array:
    """``sum_i E(a_i) - E(s) - (K - 1) F'(s) + sum_i log(a_i / s)``, ``s = sum_i a_i``.

    The textbook ``sum lgamma(a_i) - lgamma(s) + (s - K) psi(s) - sum (a_i - 1) psi(a_i)``
    rearranged with ``lgamma = F + c log c - c`` and ``psi = F' + log c``: its log terms
    collapse to ``sum log(a_i/s)`` and no term is of size ``a``.
    """
    s = xp.sum(c, axis=-1)
    k = c.shape[-1]
    return (
        xp.sum(lgamma_e(c, xp) + log_ratio(c, s[..., None], xp), axis=-1)
        - lgamma_e(s, xp)
        - (k - 1) * lgamma_f1(s, xp)
    )


def entropy_beta(a: dict[str, Array], xp: Namespace) -> Array:
    """Beta's entropy: the Dirichlet's of its two concentrations."""
    return entropy_dirichlet_c(stacked(a, xp), xp)


def entropy_dirichlet(a: dict[str, Array], xp: Namespace) -> Array:
    """See :func:`entropy_dirichlet_c`."""
    return entropy_dirichlet_c(a["concentration"], xp)


def student_parts(df: Array, xp: Namespace) -> tuple[Array, Array]:
    """``(D, J)`` of Student's t with ``df`` (both >= 0; J is +inf for df <= 2).

    ``D = H(t) - H(N(loc, scale))`` and ``J = log(2 pi e var)/2 - H(t)`` (its distance to
    the normal with its variance), with ``a = df/2``:
    ``D = (a + 1/2) [F'(a + 1/2) - F'(a)] + F(a) - F(a + 1/2)``, both terms > 0. From
    ``a = 10``: ``D = 1/(4a) + log1p(1/(2a))/2 - (a + 1/2) dmu - dlambda`` and
    ``J = g(-1/a)/2 + g(1/(2a))/2 + (a + 1/2) dmu + dlambda`` (dmu, dlambda the
    Stirling remainders' differences between a + 1/2 and a, by expm1): the 1/a terms
    that cancel in J are gone, so J ~ 3/(4 df^2) keeps its digits.
    """
    a = 0.5 * df
    big = a >= SERIES_FROM
    ab = xp.where(big, a, SERIES_FROM)
    t = 0.5 / ab
    dmu = stirling_shift(DIGAMMA_SERIES, 2, ab, t, xp)
    dlam = stirling_shift(LGAMMA_SERIES, 1, ab, t, xp)
    d_big = 0.25 / ab + 0.5 * xp.log1p(t) - (ab + 0.5) * dmu - dlam
    j_big = 0.5 * g(-1.0 / ab, xp) + 0.5 * g(t, xp) + (ab + 0.5) * dmu + dlam
    asmall = xp.where(big, 1.0, a)
    d_small = (asmall + 0.5) * (lgamma_f1(asmall + 0.5, xp) - lgamma_f1(asmall, xp)) + (
        lgamma_f(asmall, xp) - lgamma_f(asmall + 0.5, xp)
    )
    finite = a > 1.0
    am = xp.where(finite, asmall, 2.0)
    j_small = xp.where(finite, -0.5 * xp.log1p(-1.0 / am) - d_small, xp.inf)
    return xp.where(big, d_big, d_small), xp.where(big, j_big, j_small)


def entropy_student(a: dict[str, Array], xp: Namespace) -> Array:
    """``log(scale) + log(2 pi e)/2 + D(df)`` (see :func:`student_parts`)."""
    d, _ = student_parts(a["df"], xp)
    return HALF_LOG_2PI_E + xp.log(a["scale"]) + d + 0.0 * a["loc"]


_ENTROPY: dict[type, _E] = {
    fam.Normal: lambda a, xp: HALF_LOG_2PI_E + xp.log(a["scale"]) + 0.0 * a["loc"],
    fam.LogNormal: lambda a, xp: HALF_LOG_2PI_E + xp.log(a["scale"]) + a["loc"],
    fam.Laplace: lambda a, xp: 1.0 + LN2 + xp.log(a["scale"]) + 0.0 * a["loc"],
    fam.Exponential: lambda a, xp: 1.0 - xp.log(a["rate"]),
    fam.Uniform: lambda a, xp: log_width(a["low"], a["high"], xp),
    fam.Gamma: entropy_gamma,
    fam.Beta: entropy_beta,
    fam.Dirichlet: entropy_dirichlet,
    fam.Poisson: entropy_poisson,
    fam.Geometric: entropy_geometric,
    fam.Binomial: entropy_binomial,
    fam.StudentT: entropy_student,
    fam.MultivariateNormal: entropy_mvn,
    fam.Bernoulli: entropy_bernoulli,
}


def entropy(d: Family, a: dict[str, Array], xp: Namespace) -> Array:
    """``H(d)`` in nats from its parameters as arrays ``a``."""
    return _ENTROPY[type(d)](a, xp)
