"""Two distributions: closed form, then quadrature (1-D), then Monte Carlo."""

from __future__ import annotations

import math

import numpy as np

from klkit._core._errors import DistributionError
from klkit.distributions import Dirichlet
from klkit.estimate._density import (
    closed_form,
    draw,
    log_density,
    mean_and_se,
    on_a_line,
    own_log_density,
    times,
)
from klkit.estimate._inputs import Dist, NDArray, check_distribution_method
from klkit.estimate._quad import quad_or_sum

__all__ = ["pair_js", "pair_kl"]


def _check_same_dim(p: Dist, q: Dist) -> None:
    simplex = [isinstance(d.family, Dirichlet) for d in (p, q)]
    if simplex[0] != simplex[1]:
        which = "p" if simplex[0] else "q"
        msg = (
            f"`{which}` is a Dirichlet, a law on the probability simplex, and the other is "
            "not; compare it with another Dirichlet."
        )
        raise ValueError(msg)
    if p.dim != q.dim:
        what = "outcomes" if isinstance(p.family, Dirichlet) else "dimension(s)"
        msg = f"`p` has {p.dim} {what} and `q` has {q.dim}; compare laws on one space."
        raise ValueError(msg)


def pair_kl(
    p: Dist, q: Dist, method: str, n: int, rng: np.random.Generator
) -> tuple[float, float, str, int | None]:
    check_distribution_method(method)
    _check_same_dim(p, q)
    if p.discrete != q.discrete:
        return math.inf, 0.0, "exact", None  # atoms against a density, or the reverse
    if method in ("auto", "exact"):
        exact = closed_form("kl_divergence", p, q)
        if exact is not None:
            return exact, 0.0, "exact", None
        if method == "exact":
            msg = (
                f"kl_divergence({p.name}, {q.name}) has no closed form; use method='quad' or 'mc'."
            )
            raise DistributionError(msg)
    if method in ("auto", "quad") and on_a_line(p, q):
        lo, hi = (float(v) for v in p.frozen.support())
        qlo, qhi = (float(v) for v in q.frozen.support())
        if lo < qlo or hi > qhi:
            return math.inf, 0.0, "quad", None  # support rule

        def terms(x: NDArray) -> NDArray:
            lp, lq = log_density(p, x), log_density(q, x)
            out: NDArray = np.zeros_like(lp)
            keep = lp > -np.inf
            out[keep] = times(np.exp(lp[keep]), lp[keep] - lq[keep])  # q = 0 where p > 0: inf
            return out

        value, err = quad_or_sum(terms, p)
        if method == "quad" or not math.isnan(value):  # NaN: too narrow to integrate
            return value, err, "quad", None
    elif method == "quad":
        msg = "method='quad' integrates in one dimension only; use method='mc'."
        raise ValueError(msg)
    x = draw(p, n, rng)
    diff = own_log_density(p, x) - log_density(q, x)  # +inf where q = 0
    value, se = mean_and_se(diff)
    return value, se, "mc", n


def pair_js(
    p: Dist, q: Dist, method: str, n: int, rng: np.random.Generator
) -> tuple[float, float, str, int | None]:
    check_distribution_method(method)
    _check_same_dim(p, q)
    if p.discrete != q.discrete:
        return math.log(2), 0.0, "exact", None  # disjoint in effect: atoms vs a density
    if method in ("auto", "exact"):
        exact = closed_form("js_divergence", p, q)
        if exact is not None:
            return exact, 0.0, "exact", None
        if method == "exact":
            msg = "js_divergence of these two distributions has no closed form; use 'quad' or 'mc'."
            raise DistributionError(msg)

    def half(a: Dist, b: Dist, x: NDArray) -> NDArray:
        la, lb = log_density(a, x), log_density(b, x)
        return la - (np.logaddexp(la, lb) - math.log(2))

    if method in ("auto", "quad") and on_a_line(p, q):
        total, err = 0.0, 0.0
        for a, b in ((p, q), (q, p)):

            def terms(x: NDArray, a: Dist = a, b: Dist = b) -> NDArray:
                la = log_density(a, x)
                out: NDArray = np.zeros_like(la)
                keep = la > -np.inf
                out[keep] = np.exp(la[keep]) * half(a, b, x[keep])
                return out

            v, e = quad_or_sum(terms, a)
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
        x = draw(a, n, rng)
        own_log_density(a, x)  # draws where their own law has no density: an error
        draws.append(half(a, b, x))
    value = float(np.mean(draws[0]) + np.mean(draws[1])) / 2
    var = (np.var(draws[0], ddof=1) + np.var(draws[1], ddof=1)) / (4 * n)
    return value, float(math.sqrt(var)), "mc", n
