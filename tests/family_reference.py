"""mpmath references for the families, and the cases the distribution tests draw.

The references are written from the textbook formulas (entropy, KL, and the
cross-entropy ``-E_P[log q]`` of each mixed pair), evaluated by mpmath at 50 digits at
the exact values of the float parameters klkit was given (``mp.mpf(float)`` is exact,
float32 values included). Nothing is taken from klkit. Discrete entropies are sums
(or, where the variance is >= 100, the integral of the same smooth summand, which
equals the sum to far below double precision).

Targets (issue "trust", section 2): relative error <= 1e-9 in float64 and <= 1e-3 in
float32, for parameters from 1e-6 to 1e6, scale ratios down to 1e-12, nearly equal
pairs (relative parameter differences 1e-9 to 1e-3, KL down to ~1e-20) and a law
against itself (exactly 0). Entropies and cross-entropies, which can cross 0, are
compared relative to ``max(|reference|, 1)``. ``KLKIT_FUZZ=long`` draws ten times as
many cases.

The cases come from one seeded generator, always in one order (:func:`pairs`, then
:func:`entropy_cases`, then :func:`mvn_cases`, whichever test asks first), so every
test file sees the same draws.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from backends import Backend, Lib
from mpmath import mp

import klkit as kl

LONG = os.environ.get("KLKIT_FUZZ", "") == "long"
N = 40 if LONG else 8  # draws per kind of case
RTOL = {"float64": 1e-9, "float32": 1e-3}
BACKENDS = [Backend.NUMPY, Backend.TORCH, Backend.JAX]
# the regression examples: JAX runs them with x64 off, in a subprocess (and in KL tests)
EAGER = BACKENDS if LONG else BACKENDS[:2]

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


# --- cases ------------------------------------------------------------------------------

RNG = np.random.default_rng(20240611)


def _logu(n: int, lo: float = -6.0, hi: float = 6.0) -> np.ndarray:
    return 10.0 ** RNG.uniform(lo, hi, n)


def _signed(n: int) -> np.ndarray:
    out = RNG.choice([-1.0, 1.0], n) * _logu(n)
    out[RNG.uniform(size=n) < 0.2] = 0.0
    return out


def _probs(n: int) -> np.ndarray:
    p = _logu(n, -6, 0) * RNG.uniform(0.5, 1.0, n)
    flip = RNG.uniform(size=n) < 0.3
    return np.where(flip, 1.0 - p, p)


def _draw(kind: str, n: int) -> dict[str, np.ndarray]:
    """``n`` parameter sets of ``kind`` across 1e-6 .. 1e6."""
    if kind in ("Normal", "Laplace"):
        return {"loc": _signed(n), "scale": _logu(n)}
    if kind == "LogNormal":  # exp(loc) stays finite: loc within +-300
        return {"loc": RNG.uniform(-300, 300, n) * (RNG.uniform(size=n) < 0.5), "scale": _logu(n)}
    if kind in ("Exponential", "Poisson"):
        return {"rate": _logu(n)}
    if kind == "Uniform":
        low = _signed(n)
        wide = np.where(np.abs(low) < 1, _logu(n), np.abs(low) * _logu(n, -3, 3))
        return {"low": low, "high": low + wide}
    if kind == "Gamma":
        return {"concentration": _logu(n), "rate": _logu(n)}
    if kind == "Beta":
        return {"concentration1": _logu(n), "concentration0": _logu(n)}
    if kind == "Dirichlet":
        return {"concentration": _logu(3 * n).reshape(n, 3)}
    if kind == "StudentT":
        return {"df": _logu(n), "loc": _signed(n), "scale": _logu(n)}
    if kind == "Bernoulli":
        return {"probs": _probs(n)}
    if kind == "Geometric":
        return {"probs": np.where(RNG.uniform(size=n) < 0.1, 1.0, _probs(n))}
    if kind == "Binomial":
        return {"total_count": np.floor(_logu(n, 0, 6)), "probs": _probs(n)}
    raise AssertionError(kind)


def _near(d: dict[str, np.ndarray], lo: float, hi: float) -> dict[str, np.ndarray]:
    """Each parameter moved by a relative 10^U(lo, hi) of either sign (counts kept)."""
    out = {}
    for name, v in d.items():
        eps = RNG.choice([-1.0, 1.0], v.shape) * 10.0 ** RNG.uniform(lo, hi, v.shape)
        if name == "total_count":
            out[name] = v
        elif name == "probs":
            out[name] = np.clip(v + eps * np.minimum(v, 1 - v), 0.0, 1.0)
        elif name in ("loc", "low"):
            out[name] = v + eps * np.maximum(np.abs(v), 1.0)
        elif name == "high":
            out[name] = np.maximum(v + eps * np.maximum(np.abs(v), 1.0), out["low"] + 1e-3 * abs(v))
        else:
            out[name] = v * (1.0 + eps)
    return out


@dataclass(frozen=True)
class Pair:
    group: str  # "random", "ratio", "near", "self"
    kp: str
    p: dict[str, np.ndarray]
    kq: str
    q: dict[str, np.ndarray]


SAME = [
    "Normal",
    "LogNormal",
    "Laplace",
    "Exponential",
    "Uniform",
    "Gamma",
    "Beta",
    "Dirichlet",
    "Poisson",
    "Geometric",
    "Binomial",
    "Bernoulli",
]
# the mixed pairs of klkit.distributions._pairs.PAIRS that have a formula (not the support rule)
MIXED = [
    ("Exponential", "Gamma"),
    ("Gamma", "Exponential"),
    ("Uniform", "Normal"),
    ("Uniform", "Exponential"),
    ("Uniform", "Gamma"),
    ("Uniform", "Beta"),
    ("Beta", "Uniform"),
    ("Beta", "Gamma"),
    ("Beta", "Exponential"),
    ("LogNormal", "Gamma"),
    ("LogNormal", "Exponential"),
    ("Normal", "Laplace"),
    ("Bernoulli", "Poisson"),
    ("Beta", "Normal"),
    ("Exponential", "Normal"),
    ("Gamma", "Normal"),
    ("Laplace", "Normal"),
    ("LogNormal", "Normal"),
    ("StudentT", "Normal"),
]


def _scale_ratio(kind: str, d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Q with P's scale (or rate) times 10^U(-12, 12)."""
    out = dict(d)
    n = len(next(iter(d.values())))
    r = 10.0 ** RNG.uniform(-12, 12, n)
    key = {"Normal": "scale", "LogNormal": "scale", "Laplace": "scale"}.get(kind, "rate")
    out[key] = d[key] * r
    return out


def _binomial_pairs(n: int) -> list[Pair]:
    """Equal counts up to 1e9 (n KL(Bernoulli)); different counts, summed, below 300."""
    same = _draw("Binomial", n)
    same["total_count"] = np.floor(_logu(n, 0, 9))
    n1 = np.floor(_logu(n, 0, 2.4))
    p1 = {"total_count": n1, "probs": _probs(n)}
    q1 = {"total_count": n1 + np.floor(_logu(n, 0, 2)), "probs": np.clip(_probs(n), 1e-3, 1 - 1e-3)}
    return [
        Pair(
            "random",
            "Binomial",
            same,
            "Binomial",
            {**_draw("Binomial", n), "total_count": same["total_count"]},
        ),
        Pair("random", "Binomial", p1, "Binomial", q1),
    ]


def _mixed_q(kp: str, kq: str, p: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    q = _draw(kq if kq != "Normal" else "Normal", n)
    if kq == "Uniform":  # a Beta's [0, 1] inside Q half the time
        q = {"low": -_logu(n, -6, 1) * (RNG.uniform(size=n) < 0.5), "high": 1 + _logu(n, -6, 1)}
    if kp == "Uniform" and kq in ("Gamma", "Exponential", "Beta"):
        pass
    return q


def _mixed_p(kp: str, kq: str, n: int) -> dict[str, np.ndarray]:
    p = _draw(kp, n)
    if kp == "Uniform" and kq in ("Gamma", "Exponential"):  # mostly on (0, inf)
        low = _logu(n) * (RNG.uniform(size=n) < 0.8) - (RNG.uniform(size=n) < 0.1)
        p = {"low": low, "high": low + np.maximum(_logu(n), 1e-3 * np.abs(low))}
    if kp == "Uniform" and kq == "Beta":
        a = RNG.uniform(0, 1, n) * (RNG.uniform(size=n) < 0.8)
        p = {"low": a, "high": a + (1 - a) * 10.0 ** RNG.uniform(-6, 0, n)}
        p["high"][RNG.uniform(size=n) < 0.1] += 0.5  # beyond 1: +inf
    if kp == "LogNormal" and kq in ("Gamma", "Exponential", "Normal"):  # finite moments
        p = {"loc": RNG.uniform(-30, 30, n), "scale": _logu(n, -6, 0.7)}
    return p


def _logits(n: int) -> np.ndarray:
    return RNG.choice([-1.0, 1.0], n) * _logu(n, -6, 2.5)


@functools.cache
def pairs() -> list[Pair]:
    n = N
    out: list[Pair] = []
    for kind in SAME:
        if kind == "Binomial":
            out += _binomial_pairs(n)
        else:
            out.append(Pair("random", kind, _draw(kind, n), kind, _draw(kind, n)))
        p = _draw(kind, n)
        if kind == "Uniform":  # Q's interval holds P's, nearly equal
            q = _near(p, -9, -3)
            q = {"low": np.minimum(q["low"], p["low"]), "high": np.maximum(q["high"], p["high"])}
        else:
            q = _near(p, -9, -3)
        out.append(Pair("near", kind, p, kind, q))
        out.append(Pair("self", kind, p, kind, p))
        if kind in ("Normal", "LogNormal", "Laplace", "Exponential", "Gamma", "Poisson"):
            out.append(Pair("ratio", kind, p, kind, _scale_ratio(kind, p)))
    z = {"logits": _logits(n)}
    out += [
        Pair("random", "Bernoulli", z, "Bernoulli", {"logits": _logits(n)}),
        Pair("near", "Bernoulli", z, "Bernoulli", {"logits": z["logits"] * (1 + 1e-6)}),
        Pair("self", "Bernoulli", z, "Bernoulli", z),
        Pair("random", "Bernoulli", _draw("Bernoulli", n), "Bernoulli", z),
    ]
    for kp, kq in MIXED:
        p = _mixed_p(kp, kq, n)
        out.append(Pair("random", kp, p, kq, _mixed_q(kp, kq, p, n)))
    return out


ENTROPY_KINDS = [*SAME, "StudentT"]


@functools.cache
def entropy_cases() -> list[tuple[str, dict[str, np.ndarray]]]:
    pairs()  # the draws come after the pairs'
    out = [(kind, _draw(kind, N)) for kind in ENTROPY_KINDS if kind != "Poisson"]
    out.append(("Bernoulli", {"logits": _logits(N)}))
    # Poisson and Binomial sums: rates and variances from 1e-6 to 1e6 (a few quadratures)
    out.append(("Poisson", {"rate": np.array([0.0, 1e-6, 0.37, 12.5, 850.0, 9999.0, 2.5e4, 1e6])}))
    out.append(
        (
            "Binomial",
            {
                "total_count": np.array([1.0, 30.0, 1e3, 1e10, 1e10, 3e5, 1e6, 4e4]),
                "probs": np.array([0.3, 1e-6, 0.999, 0.5, 1e-9, 0.04, 0.9, 0.5]),
            },
        )
    )
    return out


# --- evaluation -------------------------------------------------------------------------


def build(kind: str, d: dict[str, np.ndarray], lib: Lib, dtype: str) -> kl.Family:
    arrays = {n: lib.asarray(np.asarray(v, dtype=dtype)) for n, v in d.items()}
    return getattr(kl, kind)(**arrays)


def _mp(v: Any) -> Any:
    return list(map(_m, v)) if isinstance(v, tuple) else _m(v)


@functools.cache
def _ref_kl_cached(kp: str, p: tuple[Any, ...], kq: str, q: tuple[Any, ...]) -> float:
    with mpmath.workdps(50):
        return float(ref_kl(kp, {n: _mp(v) for n, v in p}, kq, {n: _mp(v) for n, v in q}))


@functools.cache
def _ref_h_cached(kind: str, p: tuple[Any, ...]) -> float:
    with mpmath.workdps(50):
        return float(ref_entropy(kind, {n: _mp(v) for n, v in p}))


def _key(d: dict[str, np.ndarray], i: int, dtype: str) -> tuple[Any, ...]:
    """The ``i``-th parameter set, exactly as the ``dtype`` rounds it (hashable)."""
    out = []
    for name, v in d.items():
        x = np.asarray(v[i], dtype=dtype).astype(np.float64)
        out.append((name, tuple(float(t) for t in x) if x.ndim else float(x)))
    return tuple(out)


def _size(d: dict[str, np.ndarray]) -> int:
    return len(next(iter(d.values())))


def refs_kl(pair: Pair, dtype: str) -> np.ndarray:
    return np.array(
        [
            _ref_kl_cached(pair.kp, _key(pair.p, i, dtype), pair.kq, _key(pair.q, i, dtype))
            for i in range(_size(pair.p))
        ]
    )


def refs_h(kind: str, d: dict[str, np.ndarray], dtype: str) -> np.ndarray:
    return np.array([_ref_h_cached(kind, _key(d, i, dtype)) for i in range(_size(d))])


def rel_err(got: Any, ref: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Relative error; infinities must match exactly, NaN counts as +inf.

    Values below the result dtype's smallest normal number (a float32 KL of 4e-55 is
    0) are compared absolutely, against that number.
    """
    got = np.asarray(got)
    tiny = float(np.finfo(got.dtype).tiny)
    got = got.astype(np.float64)
    both_inf = np.isinf(ref) & (got == ref)
    scale = np.maximum(np.abs(ref), max(floor, tiny))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = np.where(scale > 0, np.abs(got - ref) / np.where(scale > 0, scale, 1.0), np.abs(got))
    err = np.where(both_inf, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


def _in_range(ref: np.ndarray, dtype: str) -> np.ndarray:
    """References beyond the dtype's range are +inf in it."""
    return np.where(ref > float(np.finfo(dtype).max), np.inf, ref)


def _id(pair: Pair) -> str:
    form = "-logits" if "logits" in pair.q else ""
    return f"{pair.group}-{pair.kp}-{pair.kq}{form}"


# --- multivariate normal --------------------------------------------------------------------


def _spd(k: int, spread: float) -> np.ndarray:
    q, _ = np.linalg.qr(RNG.normal(size=(k, k)))
    return (q * 10.0 ** RNG.uniform(-spread, spread, k)) @ q.T


@functools.cache
def mvn_cases() -> list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(group, form, loc1, mat1, loc2, mat2): covariances or Cholesky factors, k = 3."""
    entropy_cases()  # the draws come after the entropies'
    out = []
    n, k = 4, 3
    for form in ("covariance_matrix", "scale_tril"):
        c1 = np.stack([_spd(k, 3) for _ in range(n)])
        c2 = np.stack([_spd(k, 3) for _ in range(n)])
        m1, m2 = RNG.normal(size=(n, k)), RNG.normal(size=(n, k))
        if form == "scale_tril":
            c1, c2 = np.linalg.cholesky(c1), np.linalg.cholesky(c2)
        out.append(("random", form, m1, c1, m2, c2))
        eps = 10.0 ** RNG.uniform(-9, -4, (n, 1, 1))
        bump = RNG.normal(size=(n, k, k))
        if form == "covariance_matrix":
            near = c1 + eps * (bump @ np.swapaxes(bump, -1, -2)) * np.abs(c1).max()
        else:
            near = c1 + np.tril(eps * bump * np.abs(np.diagonal(c1, axis1=-2, axis2=-1)).min())
        out.append(("near", form, m1, c1, m1 + 1e-9 * RNG.normal(size=(n, k)), near))
        out.append(("self", form, m1, c1, m1, c1))
    return out


def _mp_cov(mat: np.ndarray, form: str) -> Any:
    a = mp.matrix([[_m(x) for x in row] for row in mat])
    return a if form == "covariance_matrix" else a * a.T


@functools.cache
def _mvn_ref(index: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    _, form, m1, c1, m2, c2 = mvn_cases()[index]
    kls, hs = [], []
    with mpmath.workdps(50):
        for i in range(len(m1)):
            r = [np.asarray(x[i], dtype=dtype).astype(np.float64) for x in (m1, c1, m2, c2)]
            dp = {"loc": mp.matrix([_m(x) for x in r[0]]), "cov": _mp_cov(r[1], form)}
            dq = {"loc": mp.matrix([_m(x) for x in r[2]]), "cov": _mp_cov(r[3], form)}
            # (a law against itself is 0 by definition; mpmath's inverse leaves 1e-51)
            same = np.array_equal(r[0], r[2]) and np.array_equal(r[1], r[3])
            kls.append(
                0.0 if same else float(ref_kl("MultivariateNormal", dp, "MultivariateNormal", dq))
            )
            hs.append(float(ref_entropy("MultivariateNormal", dp)))
    return np.array(kls), np.array(hs)
