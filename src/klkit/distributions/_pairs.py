"""Which formula takes a pair of families: the tables of KL and cross-entropy rules.

Every same-family pair has a closed form except StudentT's; mixed pairs have one where
listed in :data:`PAIRS`. Pairs ruled out by their supports (a support on the whole
line against a bounded one, a discrete law against a continuous one, either way) are
exactly +inf. A Bernoulli or Binomial against another discrete law is a finite sum
over P's support.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from klkit._core._errors import DistributionError
from klkit._typing import Array, Namespace
from klkit.distributions import _families as fam
from klkit.distributions._base import Family
from klkit.distributions._discrete import (
    kl_bernoulli,
    kl_bernoulli_poisson,
    kl_binomial,
    kl_discrete,
    kl_geometric,
    kl_poisson,
    kl_poisson_bounded,
    log_pmf,
)
from klkit.distributions._entropy import entropy
from klkit.distributions._kl_mixed import (
    cross_beta_gamma,
    cross_beta_uniform,
    cross_to_normal,
    gamma_q,
    kl_beta_gamma,
    kl_beta_uniform,
    kl_lognormal_gamma,
    kl_normal_laplace,
    kl_to_normal,
    kl_uniform_beta,
    kl_uniform_gamma,
)
from klkit.distributions._kl_same import (
    as_gamma,
    cross_beta,
    cross_dirichlet,
    cross_gamma,
    kl_beta,
    kl_dirichlet,
    kl_exponential,
    kl_gamma,
    kl_laplace,
    kl_normal,
    kl_uniform,
)
from klkit.distributions._mvn import kl_mvn
from klkit.distributions._safe import zeros_like_batch

__all__ = ["CROSS", "PAIRS", "cross_entropy", "kl", "kl_infinite"]

_KL = Callable[[dict[str, Array], dict[str, Array], Namespace], Array]


def kl_infinite(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """P puts mass where Q has none (a support on the whole line against a bounded one)."""
    return zeros_like_batch(a, xp) + xp.inf


_SAME_CONTINUOUS: dict[type, _KL] = {
    fam.Normal: kl_normal,
    fam.LogNormal: kl_normal,
    fam.Laplace: kl_laplace,
    fam.Exponential: kl_exponential,
    fam.Uniform: kl_uniform,
    fam.Gamma: kl_gamma,
    fam.Beta: kl_beta,
    fam.Dirichlet: kl_dirichlet,
    fam.MultivariateNormal: kl_mvn,
}
_SAME_DISCRETE: dict[type, _KL] = {
    fam.Poisson: kl_poisson,
    fam.Binomial: kl_binomial,
    fam.Bernoulli: kl_bernoulli,
}
# (Geometric pairs are taken before this table, and a Bernoulli or Binomial against a
# discrete law it does not list is a finite sum over P's support: see _kl_rule.)
PAIRS: dict[tuple[type, type], _KL] = {
    **{(f, f): rule for f, rule in (_SAME_CONTINUOUS | _SAME_DISCRETE).items()},
    (fam.Exponential, fam.Gamma): lambda a, b, xp: kl_gamma(as_gamma(a), b, xp),
    (fam.Gamma, fam.Exponential): lambda a, b, xp: kl_gamma(a, as_gamma(b), xp),
    (fam.Uniform, fam.Normal): kl_to_normal(fam.Uniform),
    (fam.Uniform, fam.Exponential): gamma_q(kl_uniform_gamma),
    (fam.Uniform, fam.Gamma): kl_uniform_gamma,
    (fam.Uniform, fam.Beta): kl_uniform_beta,
    (fam.Beta, fam.Uniform): kl_beta_uniform,
    (fam.Beta, fam.Gamma): kl_beta_gamma,
    (fam.Beta, fam.Exponential): gamma_q(kl_beta_gamma),
    (fam.LogNormal, fam.Gamma): kl_lognormal_gamma,
    (fam.LogNormal, fam.Exponential): gamma_q(kl_lognormal_gamma),
    (fam.Normal, fam.Laplace): kl_normal_laplace,
    (fam.Bernoulli, fam.Poisson): kl_bernoulli_poisson,
    (fam.Poisson, fam.Bernoulli): kl_poisson_bounded(lambda b: 1.0),
    (fam.Poisson, fam.Binomial): kl_poisson_bounded(lambda b: b["total_count"]),
}
"""(P's family, Q's family) -> KL in nats from their parameters as arrays."""

_MOMENTS = (fam.Beta, fam.Exponential, fam.Gamma, fam.Laplace, fam.LogNormal, fam.StudentT)
"""Laws that meet a Normal through their first two moments."""
for _m in _MOMENTS:
    PAIRS[_m, fam.Normal] = kl_to_normal(_m)
_CONTINUOUS = (
    fam.Normal,
    fam.LogNormal,
    fam.Laplace,
    fam.Exponential,
    fam.Uniform,
    fam.Gamma,
    fam.Beta,
    fam.StudentT,
)
# Whole-line supports against half-line or bounded ones, half-line against bounded,
# and (either way) a discrete law against a continuous one: P has mass where Q has none.
for _p, _q in [
    (fam.Normal, fam.Uniform),
    (fam.Laplace, fam.Uniform),
    (fam.StudentT, fam.Uniform),
    (fam.Exponential, fam.Uniform),
    (fam.Gamma, fam.Uniform),
    (fam.LogNormal, fam.Uniform),
    (fam.Gamma, fam.Beta),
    (fam.Exponential, fam.Beta),
    (fam.LogNormal, fam.Beta),
    *(
        (w, h)
        for w in (fam.Normal, fam.Laplace, fam.StudentT)
        for h in (fam.Exponential, fam.Gamma, fam.LogNormal, fam.Beta)
    ),
    *((x, y) for x in fam.DISCRETE for y in _CONTINUOUS),
    *((y, x) for x in fam.DISCRETE for y in _CONTINUOUS),
]:
    PAIRS[_p, _q] = kl_infinite


CROSS: dict[tuple[type, type], _KL] = {
    (fam.Gamma, fam.Gamma): cross_gamma,
    (fam.Exponential, fam.Gamma): lambda a, b, xp: cross_gamma(as_gamma(a), b, xp),
    (fam.Gamma, fam.Exponential): lambda a, b, xp: cross_gamma(a, as_gamma(b), xp),
    (fam.Beta, fam.Beta): cross_beta,
    (fam.Dirichlet, fam.Dirichlet): cross_dirichlet,
    (fam.Beta, fam.Uniform): cross_beta_uniform,
    (fam.Beta, fam.Gamma): cross_beta_gamma,
    (fam.Beta, fam.Exponential): gamma_q(cross_beta_gamma),
}
"""Cross-entropies written directly where H(P) + KL(P || Q) would cancel.

H(P) of a Gamma, Beta or Dirichlet is ~ -1/c for small concentrations, against a flat Q.
"""
for _m in _MOMENTS:
    CROSS[_m, fam.Normal] = cross_to_normal(_m)


def cross_entropy(
    p: Family, q: Family, a: dict[str, Array], b: dict[str, Array], xp: Namespace
) -> Array:
    """``H(P, Q)``: a direct formula where one is listed, else ``H(P) + KL(P || Q)``."""
    rule = CROSS.get((type(p), type(q)))
    if rule is not None:
        return rule(a, b, xp)
    value = kl(p, q, a, b, xp)
    return xp.where(value == xp.inf, value, entropy(p, a, xp) + value)  # Q misses P's mass


def kl(p: Family, q: Family, a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``KL(P || Q)`` >= 0; +inf, not NaN, where two terms beyond the float range meet.

    (Only parameters far outside 1e-6..1e6 get there, e.g. Beta(1e-300, 1e-300)
    against Beta(1e-300, 1e30), whose terms are ~1/c; parameters are finite.)
    """
    out = _kl_rule(p, q, a, b, xp)
    # KL >= 0: a rounding below 0 (only the near-limit mixed pairs, e.g. Beta(7, 1e300)
    # against Gamma(7, 1e300), get one: -1e-13) is the nearest value, 0
    return xp.where(xp.isnan(out), xp.inf, xp.where(out < 0, 0.0, out))


def _kl_rule(
    p: Family, q: Family, a: dict[str, Array], b: dict[str, Array], xp: Namespace
) -> Array:
    if isinstance(p, fam.Geometric) and isinstance(q, fam.Geometric):
        return kl_geometric(p.shift - q.shift, a["probs"], b["probs"], xp)
    if (
        isinstance(p, fam.MultivariateNormal)
        and isinstance(q, fam.MultivariateNormal)
        and p._covariance is not None
        and q._covariance is not None
    ):
        return kl_mvn(a, b, xp, (p._covariance, q._covariance))
    rule = PAIRS.get((type(p), type(q)))
    if rule is not None:
        return rule(a, b, xp)
    if isinstance(p, fam.Bernoulli | fam.Binomial) and isinstance(q, fam.DISCRETE):
        return kl_discrete(p, a, q, b, xp)
    if isinstance(p, fam.Geometric) and isinstance(q, fam.Bernoulli | fam.Binomial):
        # the support rule, except that Geometric(1) is all at its first point
        at_start = -log_pmf(q, b, xp.asarray(float(p.shift), dtype=a["probs"].dtype), xp)
        return xp.where(a["probs"] == 1, at_start[..., 0], math.inf)
    problem = (
        f"kl_divergence({type(p).__name__}, {type(q).__name__}) has no closed form. "
        "Every same-family pair has one except StudentT's, and so do these mixed "
        f"pairs: {_mixed_pairs()}."
    )
    raise DistributionError(
        problem,
        fix=(
            "For this pair use klkit.estimate.kl_divergence, which integrates numerically "
            "or by Monte Carlo and reports its error."
        ),
    )


def _mixed_pairs() -> str:
    return ", ".join(
        f"{x.__name__}-{y.__name__}"
        for (x, y), f in PAIRS.items()
        if x is not y and f is not kl_infinite
    )
