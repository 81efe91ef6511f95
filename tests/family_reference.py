"""mpmath references for the families: the textbook formulas at 50 digits.

The references are written from the textbook formulas (entropy, KL, and the
cross-entropy ``-E_P[log q]`` of each mixed pair), evaluated by mpmath at the exact
values of the float parameters klkit was given (``mp.mpf(float)`` is exact, float32
values included). Nothing is taken from klkit. Discrete entropies are sums (or, where
the variance is >= 100, the integral of the same smooth summand, which equals the sum
to far below double precision). The cases they are evaluated on are in
``family_draws.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
from mpmath import mp

# --- references (mpmath, 50 digits, textbook formulas) ---------------------------------

M = Any  # an mpmath number


def _m(x: float) -> M:
    return mp.mpf(float(x))


def _xlogx(x: M) -> M:
    return mp.mpf(0) if x == 0 else x * mp.log(x)


def _lbeta(a: M, b: M) -> M:
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def _h_bern(p: M, pm: M | None = None) -> M:
    """Entropy of Bernoulli(p); ``pm = 1 - p`` when given (from logits, exact)."""
    return -_xlogx(p) - _xlogx(1 - p if pm is None else pm)


def _kl_bern(p: M, q: M, pm: M | None = None, qm: M | None = None) -> M:
    total = mp.mpf(0)
    for a, b in ((p, q), (1 - p if pm is None else pm, 1 - q if qm is None else qm)):
        if a == 0:
            continue
        if b == 0:
            return mp.inf
        total += a * mp.log(a / b)
    return total


def _sigmoid(z: M) -> M:
    return 1 / (1 + mp.exp(-z))


def _bern_p(d: dict[str, M]) -> tuple[M, M]:
    """``(P(1), P(0))``; from logits each by its own sigmoid (``1 - p`` would round)."""
    if "probs" in d:
        return d["probs"], 1 - d["probs"]
    return _sigmoid(d["logits"]), _sigmoid(-d["logits"])


def _log_binom_pmf(k: M, n: M, p: M) -> M:
    if p == 0:
        return mp.mpf(0) if k == 0 else -mp.inf
    if p == 1:
        return mp.mpf(0) if k == n else -mp.inf
    return (
        mp.loggamma(n + 1)
        - mp.loggamma(k + 1)
        - mp.loggamma(n - k + 1)
        + k * mp.log(p)
        + (n - k) * mp.log(1 - p)
    )


def _log_poisson_pmf(k: M, lam: M) -> M:
    if lam == 0:
        return mp.mpf(0) if k == 0 else -mp.inf
    return k * mp.log(lam) - lam - mp.loggamma(k + 1)


def _discrete_entropy(log_pmf: Callable[[M], M], mean: M, var: M, lo: M, hi: M) -> M:
    """``-sum p log p``: a sum over mean +- 40 sd, or (var >= 100) the integral of the
    same analytic summand, equal to the sum up to ~exp(-2 pi^2 var)."""
    sd = mp.sqrt(var)
    a, b = max(lo, mp.floor(mean - 40 * sd - 60)), min(hi, mp.ceil(mean + 40 * sd + 60))

    def term(x: M) -> M:
        lp = log_pmf(x)
        return mp.mpf(0) if lp == -mp.inf else -mp.exp(lp) * lp

    if var < 100:
        return mp.fsum(term(mp.mpf(k)) for k in range(int(a), int(b) + 1))
    cuts = [max(a, mean + j * sd) for j in (-40, -12, -5, -2, 0, 2, 5, 12, 40)]
    cuts = sorted({min(b, c) for c in cuts})
    return mp.quad(term, cuts)


def ref_entropy(kind: str, d: dict[str, Any]) -> M:
    """Differential or Shannon entropy, nats."""
    e = mp.e
    if kind == "Normal":
        return mp.log(d["scale"] * mp.sqrt(2 * mp.pi * e))
    if kind == "LogNormal":
        return d["loc"] + mp.log(d["scale"] * mp.sqrt(2 * mp.pi * e))
    if kind == "Laplace":
        return 1 + mp.log(2 * d["scale"])
    if kind == "Exponential":
        return 1 - mp.log(d["rate"])
    if kind == "Uniform":
        return mp.log(d["high"] - d["low"])
    if kind == "Gamma":
        c, r = d["concentration"], d["rate"]
        return c - mp.log(r) + mp.loggamma(c) + (1 - c) * mp.digamma(c)
    if kind == "Beta":
        a, b = d["concentration1"], d["concentration0"]
        return (
            _lbeta(a, b)
            - (a - 1) * mp.digamma(a)
            - (b - 1) * mp.digamma(b)
            + (a + b - 2) * mp.digamma(a + b)
        )
    if kind == "Dirichlet":
        c = d["concentration"]
        s, k = mp.fsum(c), len(c)
        return (
            mp.fsum(mp.loggamma(x) for x in c)
            - mp.loggamma(s)
            + (s - k) * mp.digamma(s)
            - mp.fsum((x - 1) * mp.digamma(x) for x in c)
        )
    if kind == "StudentT":
        v = d["df"]
        return (
            (v + 1) / 2 * (mp.digamma((v + 1) / 2) - mp.digamma(v / 2))
            + mp.log(mp.sqrt(v))
            + _lbeta(v / 2, mp.mpf(1) / 2)
            + mp.log(d["scale"])
        )
    if kind == "Bernoulli":
        return _h_bern(*_bern_p(d))
    if kind == "Geometric":
        p = d["probs"]
        return _h_bern(p) / p
    if kind == "Poisson":
        lam = d["rate"]
        if lam == 0:
            return mp.mpf(0)
        return _discrete_entropy(lambda k: _log_poisson_pmf(k, lam), lam, lam, 0, mp.inf)
    if kind == "Binomial":
        n, p = d["total_count"], d["probs"]
        return _discrete_entropy(lambda k: _log_binom_pmf(k, n, p), n * p, n * p * (1 - p), 0, n)
    assert kind == "MultivariateNormal"
    cov = d["cov"]
    return (cov.rows * mp.log(2 * mp.pi * e) + mp.log(mp.det(cov))) / 2


def _moments(kind: str, d: dict[str, M]) -> tuple[M, M]:
    """Mean and variance (for the pairs against a Normal)."""
    if kind == "Beta":
        a, b = d["concentration1"], d["concentration0"]
        return a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    if kind == "Exponential":
        return 1 / d["rate"], 1 / d["rate"] ** 2
    if kind == "Gamma":
        return d["concentration"] / d["rate"], d["concentration"] / d["rate"] ** 2
    if kind == "Laplace":
        return d["loc"], 2 * d["scale"] ** 2
    if kind == "LogNormal":
        s2 = d["scale"] ** 2
        return mp.exp(d["loc"] + s2 / 2), (mp.exp(s2) - 1) * mp.exp(2 * d["loc"] + s2)
    if kind == "Uniform":
        return (d["low"] + d["high"]) / 2, (d["high"] - d["low"]) ** 2 / 12
    assert kind == "StudentT"
    v = d["df"]
    return d["loc"], (d["scale"] ** 2 * v / (v - 2) if v > 2 else mp.inf)


def _mean_log(kind: str, d: dict[str, M]) -> M:
    """E[log X] for laws on (0, inf)."""
    if kind == "Uniform":
        a, b = d["low"], d["high"]
        return (_xlogx(b) - _xlogx(a)) / (b - a) - 1
    if kind == "Beta":
        a, b = d["concentration1"], d["concentration0"]
        return mp.digamma(a) - mp.digamma(a + b)
    assert kind == "LogNormal"
    return d["loc"]


def _as_gamma(kind: str, d: dict[str, M]) -> dict[str, M]:
    return d if kind == "Gamma" else {"concentration": mp.mpf(1), "rate": d["rate"]}


def ref_cross(kp: str, dp: dict[str, M], kq: str, dq: dict[str, M]) -> M:
    """``-E_P[log q]`` for the mixed pairs (textbook moments of P)."""
    if kq == "Normal":
        mean, var = _moments(kp, dp)
        if var == mp.inf:
            return mp.inf
        s, m = dq["scale"], dq["loc"]
        return mp.log(s * mp.sqrt(2 * mp.pi)) + (var + (mean - m) ** 2) / (2 * s**2)
    if kq in ("Gamma", "Exponential"):
        g = _as_gamma(kq, dq)
        c, r = g["concentration"], g["rate"]
        if kp == "Uniform" and dp["low"] < 0:
            return mp.inf
        mean = _moments(kp, dp)[0]
        return -c * mp.log(r) + mp.loggamma(c) - (c - 1) * _mean_log(kp, dp) + r * mean
    if kq == "Beta":  # P uniform on [a, b] within [0, 1]
        a, b = dp["low"], dp["high"]
        if a < 0 or b > 1:
            return mp.inf
        x, y = dq["concentration1"], dq["concentration0"]
        mean_log1m = (_xlogx(1 - a) - _xlogx(1 - b)) / (b - a) - 1
        return _lbeta(x, y) - (x - 1) * _mean_log("Uniform", dp) - (y - 1) * mean_log1m
    if kq == "Uniform":  # P Beta on [0, 1]
        if dq["low"] > 0 or dq["high"] < 1:
            return mp.inf
        return mp.log(dq["high"] - dq["low"])
    if kq == "Laplace":  # P normal
        s, dd, b = dp["scale"], dp["loc"] - dq["loc"], dq["scale"]
        mean_abs = s * mp.sqrt(2 / mp.pi) * mp.exp(-(dd**2) / (2 * s**2)) + dd * mp.erf(
            dd / (s * mp.sqrt(2))
        )
        return mp.log(2 * b) + mean_abs / b
    assert (kp, kq) == ("Bernoulli", "Poisson")
    (p, pm), lam = _bern_p(dp), dq["rate"]
    return -(pm * (-lam) + (p * (mp.log(lam) - lam) if p > 0 else 0))


def ref_kl(kp: str, dp: dict[str, Any], kq: str, dq: dict[str, Any]) -> M:
    """KL(P || Q) in nats, from the textbook closed forms."""
    if kp == kq == "Normal" or kp == kq == "LogNormal":
        s1, s2 = dp["scale"], dq["scale"]
        return (
            mp.log(s2 / s1) + (s1**2 + (dp["loc"] - dq["loc"]) ** 2) / (2 * s2**2) - mp.mpf(1) / 2
        )
    if kp == kq == "Laplace":
        b1, b2, dd = dp["scale"], dq["scale"], abs(dp["loc"] - dq["loc"])
        return mp.log(b2 / b1) + dd / b2 + b1 / b2 * mp.exp(-dd / b1) - 1
    if kp == kq == "Exponential":
        r = dp["rate"] / dq["rate"]
        return mp.log(r) + 1 / r - 1
    if kp == kq == "Uniform":
        if dq["low"] > dp["low"] or dq["high"] < dp["high"]:
            return mp.inf
        return mp.log((dq["high"] - dq["low"]) / (dp["high"] - dp["low"]))
    if {kp, kq} <= {"Gamma", "Exponential"}:
        g1, g2 = _as_gamma(kp, dp), _as_gamma(kq, dq)
        c1, r1, c2, r2 = g1["concentration"], g1["rate"], g2["concentration"], g2["rate"]
        return (
            (c1 - c2) * mp.digamma(c1)
            - mp.loggamma(c1)
            + mp.loggamma(c2)
            + c2 * (mp.log(r1) - mp.log(r2))
            + c1 * (r2 - r1) / r1
        )
    if kp == kq == "Beta":
        a1, b1, a2, b2 = (
            dp["concentration1"],
            dp["concentration0"],
            dq["concentration1"],
            dq["concentration0"],
        )
        return (
            _lbeta(a2, b2)
            - _lbeta(a1, b1)
            + (a1 - a2) * mp.digamma(a1)
            + (b1 - b2) * mp.digamma(b1)
            + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1)
        )
    if kp == kq == "Dirichlet":
        c1, c2 = dp["concentration"], dq["concentration"]
        s1, s2 = mp.fsum(c1), mp.fsum(c2)
        return (
            mp.loggamma(s1)
            - mp.fsum(mp.loggamma(x) for x in c1)
            - mp.loggamma(s2)
            + mp.fsum(mp.loggamma(x) for x in c2)
            + mp.fsum(
                (x - y) * (mp.digamma(x) - mp.digamma(s1)) for x, y in zip(c1, c2, strict=True)
            )
        )
    if kp == kq == "Poisson":
        l1, l2 = dp["rate"], dq["rate"]
        if l1 == 0:
            return l2
        return mp.inf if l2 == 0 else l1 * mp.log(l1 / l2) - l1 + l2
    if kp == kq == "Bernoulli":
        if "logits" in dp and "logits" in dq:  # P(1) = 1 - 1e-68 needs more than 50 digits
            with mpmath.workdps(400):
                (p, pm), (q, qm) = _bern_p(dp), _bern_p(dq)
                return +_kl_bern(p, q, pm, qm)
        (p, pm), (q, qm) = _bern_p(dp), _bern_p(dq)
        return _kl_bern(p, q, pm, qm)
    if kp == kq == "Geometric":
        p, q = dp["probs"], dq["probs"]
        if p == 1:
            return -mp.log(q)
        return mp.inf if q == 1 else mp.log(p / q) + (1 - p) / p * mp.log((1 - p) / (1 - q))
    if kp == kq == "Binomial":
        n1, n2 = dp["total_count"], dq["total_count"]
        if n1 == n2:
            return n1 * _kl_bern(dp["probs"], dq["probs"]) if n1 > 0 else mp.mpf(0)
        total = mp.mpf(0)
        for k in range(int(n1) + 1):
            lp = _log_binom_pmf(mp.mpf(k), n1, dp["probs"])
            if lp == -mp.inf:
                continue
            lq = _log_binom_pmf(mp.mpf(k), n2, dq["probs"]) if k <= n2 else -mp.inf
            if lq == -mp.inf:
                return mp.inf
            total += mp.exp(lp) * (lp - lq)
        return total
    if kp == kq == "MultivariateNormal":
        c1, c2 = dp["cov"], dq["cov"]
        k = c1.rows
        inv2 = mp.inverse(c2)
        dmu = dq["loc"] - dp["loc"]
        trace = mp.fsum((inv2 * c1)[i, i] for i in range(k))
        quad = (dmu.T * inv2 * dmu)[0, 0]
        return (trace + quad - k + mp.log(mp.det(c2) / mp.det(c1))) / 2
    return ref_cross(kp, dp, kq, dq) - ref_entropy(kp, dp)
