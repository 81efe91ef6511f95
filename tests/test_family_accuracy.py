"""Family entropy, cross-entropy and KL against mpmath closed forms, every family and pair.

The references below are written from the textbook formulas (entropy, KL, and the
cross-entropy ``-E_P[log q]`` of each mixed pair), evaluated by mpmath at 50 digits at
the exact values of the float parameters klkit was given (``mp.mpf(float)`` is exact,
float32 values included). Nothing is taken from klkit. Discrete entropies are sums
(or, where the variance is >= 100, the integral of the same smooth summand, which
equals the sum to far below double precision).

Targets (issue "trust", section 2): relative error <= 1e-9 in float64 and <= 1e-3 in
float32, for parameters from 1e-6 to 1e6, scale ratios down to 1e-12, nearly equal
pairs (relative parameter differences 1e-9 to 1e-3, KL down to ~1e-20) and a law
against itself (exactly 0); gradients (torch autograd and jax.grad, float64) within
1e-6 relative of ``mpmath.diff`` of the references; pairs that the supports rule out
exactly +inf. Entropies and cross-entropies, which can cross 0, are compared relative
to ``max(|reference|, 1)``. Backends: NumPy, torch and JAX (and array-api-strict and
Dask on a smaller set). ``KLKIT_FUZZ=long`` draws ten times as many cases.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import pytest
from backends import Backend, Lib, make_lib
from mpmath import mp

import klkit as kl

LONG = os.environ.get("KLKIT_FUZZ", "") == "long"
N = 40 if LONG else 8  # draws per kind of case
RTOL = {"float64": 1e-9, "float32": 1e-3}
GRAD_RTOL = 1e-6
BACKENDS = [Backend.NUMPY, Backend.TORCH, Backend.JAX]
# the regression examples: JAX runs them with x64 off, in a subprocess (and in KL tests)
EAGER = BACKENDS if os.environ.get("KLKIT_FUZZ", "") == "long" else BACKENDS[:2]

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


# JAX compiles every primitive for each new shape, seconds per family: by default it
# runs the families whose special functions are JAX's own (lgamma, digamma, erf) in
# float32 (where JAX cannot upcast); KLKIT_FUZZ=long runs every case on it.
JAX_PAIRS = {
    ("Gamma", "Gamma"),
    ("Beta", "Beta"),
    ("Dirichlet", "Dirichlet"),
    ("Normal", "Normal"),
    ("StudentT", "Normal"),
    ("Normal", "Laplace"),
    ("Beta", "Gamma"),
    ("LogNormal", "Gamma"),
}
JAX_ENTROPY = {"Gamma", "Beta", "Dirichlet", "StudentT"}


def _kl_params() -> list[Any]:
    out = []
    for backend in BACKENDS:
        for dtype in ("float64", "float32"):
            for i, pair in enumerate(pairs()):
                if backend is Backend.JAX and not LONG:
                    if dtype == "float64" or (pair.kp, pair.kq) not in JAX_PAIRS:
                        continue
                    if pair.group == "self":
                        continue
                out.append(
                    pytest.param(backend, dtype, i, id=f"{backend.value}-{dtype}-{_id(pair)}")
                )
    return out


def _entropy_params() -> list[Any]:
    out = []
    for backend in BACKENDS:
        for dtype in ("float64", "float32"):
            for i, (kind, d) in enumerate(entropy_cases()):
                if (
                    backend is Backend.JAX
                    and not LONG
                    and (dtype == "float64" or kind not in JAX_ENTROPY)
                ):
                    continue
                form = "-logits" if "logits" in d else ""
                out.append(
                    pytest.param(backend, dtype, i, id=f"{backend.value}-{dtype}-{kind}{form}")
                )
    return out


@pytest.mark.parametrize(("backend", "dtype", "index"), _kl_params())
def test_kl_and_cross_entropy_against_mpmath(backend, dtype, index):
    pair = pairs()[index]
    lib = make_lib(backend)
    p, q = build(pair.kp, pair.p, lib, dtype), build(pair.kq, pair.q, lib, dtype)
    ref = _in_range(refs_kl(pair, dtype), dtype)
    got = lib.check_result(kl.kl_divergence(p, q), dtype=dtype)
    err = rel_err(got, ref)
    worst = int(np.argmax(err))
    where = (_key(pair.p, worst, dtype), _key(pair.q, worst, dtype))
    assert err[worst] <= RTOL[dtype], (got[worst], ref[worst], where)
    assert not np.any(got < 0), got
    if pair.group == "self":
        assert np.all(got == 0), got
    # H(P, Q) = H(P) + KL, both from mpmath; it can cross 0: relative to max(|.|, 1)
    ce_ref = _in_range(refs_h(pair.kp, pair.p, dtype) + ref, dtype)
    ce = lib.check_result(kl.cross_entropy(p, q), dtype=dtype)
    err = rel_err(ce, ce_ref, floor=1.0)
    worst = int(np.argmax(err))
    assert err[worst] <= RTOL[dtype], (ce[worst], ce_ref[worst], _key(pair.p, worst, dtype))


@pytest.mark.parametrize(("backend", "dtype", "index"), _entropy_params())
def test_entropy_against_mpmath(backend, dtype, index):
    kind, d = entropy_cases()[index]
    lib = make_lib(backend)
    ref = refs_h(kind, d, dtype)
    got = lib.check_result(kl.entropy(build(kind, d, lib, dtype)), dtype=dtype)
    err = rel_err(got, ref, floor=1.0)
    worst = int(np.argmax(err))
    assert err[worst] <= RTOL[dtype], (got[worst], ref[worst], _key(d, worst, dtype))


@pytest.mark.parametrize(
    "backend", [Backend.ARRAY_API_STRICT, Backend.DASK], ids=["strict", "dask"]
)
@pytest.mark.parametrize(
    "kinds", [("Gamma", "Gamma"), ("Dirichlet", "Dirichlet"), ("Beta", "Normal")]
)
def test_other_backends_give_the_same_digits(backend, kinds):
    """array-api-strict and Dask (block by block) run the same formulas."""
    group = "near" if kinds[0] == kinds[1] else "random"
    pair = next(p for p in pairs() if (p.kp, p.kq) == kinds and p.group == group)
    lib = make_lib(backend)
    for dtype in ("float64", "float32"):
        p, q = build(pair.kp, pair.p, lib, dtype), build(pair.kq, pair.q, lib, dtype)
        got = lib.check_result(kl.kl_divergence(p, q), dtype=dtype)
        assert np.max(rel_err(got, _in_range(refs_kl(pair, dtype), dtype))) <= RTOL[dtype]


# --- multivariate normal --------------------------------------------------------------------


def _spd(k: int, spread: float) -> np.ndarray:
    q, _ = np.linalg.qr(RNG.normal(size=(k, k)))
    return (q * 10.0 ** RNG.uniform(-spread, spread, k)) @ q.T


@functools.cache
def mvn_cases() -> list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(group, form, loc1, mat1, loc2, mat2): covariances or Cholesky factors, k = 3."""
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


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.TORCH], ids=["numpy", "torch"])
@pytest.mark.parametrize(
    "index", range(len(mvn_cases())), ids=[f"{c[0]}-{c[1]}" for c in mvn_cases()]
)
def test_multivariate_normal_against_mpmath(backend, dtype, index):
    group, form, m1, c1, m2, c2 = mvn_cases()[index]
    lib = make_lib(backend)
    arr = lambda x: lib.asarray(np.asarray(x, dtype=dtype))  # noqa: E731
    p = kl.MultivariateNormal(arr(m1), **{form: arr(c1)})
    q = kl.MultivariateNormal(arr(m2), **{form: arr(c2)})
    ref, h = _mvn_ref(index, dtype)
    got = lib.check_result(kl.kl_divergence(p, q), dtype=dtype)
    assert np.max(rel_err(got, ref)) <= RTOL[dtype], (got, ref)
    if group == "self":
        assert np.all(got == 0)
    got_h = lib.check_result(kl.entropy(p), dtype=dtype)
    assert np.max(rel_err(got_h, h, floor=1.0)) <= RTOL[dtype]


# --- gradients ------------------------------------------------------------------------------

SMOOTH = {"random", "near", "ratio"}


def _grad_cases() -> list[tuple[int, int]]:
    """(pair index, draw) with a finite KL away from kinks, three draws per pair."""
    out = []
    for i, pair in enumerate(pairs()):
        if pair.group not in SMOOTH or pair.kp in ("Binomial", "Uniform") or pair.kq == "Uniform":
            continue
        if "total_count" in pair.p or (pair.kp, pair.kq) == ("Bernoulli", "Poisson"):
            continue
        finite = np.isfinite(refs_kl(pair, "float64"))
        draws = [j for j in range(_size(pair.p)) if finite[j]][:3]
        out += [(i, j) for j in draws]
    return out


def _mp_grad(pair: Pair, j: int) -> dict[str, list[float]]:
    """d KL / d parameter by mpmath.diff of the reference, per parameter (and component)."""
    kp, kq = pair.kp, pair.kq
    base = {"p": dict(_key(pair.p, j, "float64")), "q": dict(_key(pair.q, j, "float64"))}
    out: dict[str, list[float]] = {}
    with mpmath.workdps(50):
        for side in ("p", "q"):
            for name, value in base[side].items():
                comps = list(value) if isinstance(value, tuple) else [value]
                grads = []
                for c in range(len(comps)):

                    def f(t: Any, side: str = side, name: str = name, c: int = c) -> Any:
                        d = {s: {n: _mp(v) for n, v in base[s].items()} for s in ("p", "q")}
                        if isinstance(d[side][name], list):
                            d[side][name][c] = t
                        else:
                            d[side][name] = t
                        return ref_kl(kp, d["p"], kq, d["q"])

                    grads.append(float(mp.diff(f, _m(comps[c]))))
                out[f"{side}.{name}"] = grads
    return out


def _check_grads(got: dict[str, np.ndarray], ref: dict[str, list[float]], where: Any) -> None:
    # relative, except for partial derivatives 1e-12 below the largest one (absolute)
    floor = 1e-12 * max(float(np.max(np.abs(v))) for v in ref.values()) + 1e-300
    for name, r in ref.items():
        g, want = np.ravel(got[name]), np.asarray(r)
        err = np.abs(g - want) / np.maximum(np.abs(want), floor)
        assert np.max(err) <= GRAD_RTOL, (name, g, want, where)


@pytest.mark.parametrize(
    ("index", "draw"),
    _grad_cases(),
    ids=[f"{_id(pairs()[i])}-{j}" for i, j in _grad_cases()],
)
def test_gradients_torch_against_mpmath_diff(index, draw):
    torch = make_lib(Backend.TORCH).module
    pair = pairs()[index]
    leaves: dict[str, Any] = {}

    def side(prefix: str, kind: str, d: dict[str, np.ndarray]) -> kl.Family:
        args = {}
        for n, v in d.items():
            t = torch.asarray(np.asarray(v[draw], dtype=np.float64)).requires_grad_()
            leaves[f"{prefix}.{n}"] = t
            args[n] = t
        return getattr(kl, kind)(**args)

    value = kl.kl_divergence(side("p", pair.kp, pair.p), side("q", pair.kq, pair.q))
    value.backward()
    got = {n: t.grad.numpy() for n, t in leaves.items()}
    _check_grads(
        got, _mp_grad(pair, draw), (_key(pair.p, draw, "float64"), _key(pair.q, draw, "float64"))
    )


JAX_GRADS = {("Gamma", "Gamma"), ("Normal", "Normal")}  # (compiles are slow; torch has all)


@pytest.mark.parametrize(
    ("index", "draw"),
    [(i, j) for i, j in _grad_cases() if (pairs()[i].kp, pairs()[i].kq) in JAX_GRADS and j == 0],
)
def test_gradients_jax_against_mpmath_diff(index, draw):
    jnp = make_lib(Backend.JAX).module
    import jax

    pair = pairs()[index]
    names = [f"p.{n}" for n in pair.p] + [f"q.{n}" for n in pair.q]
    values = [
        jnp.asarray(np.asarray(v[draw], dtype=np.float64))
        for v in (*pair.p.values(), *pair.q.values())
    ]

    def loss(*xs: Any) -> Any:
        k = len(pair.p)
        p = getattr(kl, pair.kp)(**dict(zip(pair.p, xs[:k], strict=True)))
        q = getattr(kl, pair.kq)(**dict(zip(pair.q, xs[k:], strict=True)))
        return kl.kl_divergence(p, q)

    grads = jax.grad(loss, argnums=tuple(range(len(values))))(*values)
    got = {n: np.asarray(g) for n, g in zip(names, grads, strict=True)}
    _check_grads(got, _mp_grad(pair, draw), _key(pair.p, draw, "float64"))


# --- the examples ---------------------------------------------------------------------


def _torch() -> Any:
    return make_lib(Backend.TORCH).module


@pytest.mark.parametrize(
    ("s1", "expected"),
    [
        # mpmath: log(1/s1) + s1^2/2 - 1/2 at 50 digits
        (1e-8, 17.920680743952365),
        (1e-12, 27.131021115928547),
    ],
)
def test_normal_against_a_much_wider_normal(s1, expected):
    with mpmath.workdps(50):
        ref = float(-mp.log(_m(s1)) + _m(s1) ** 2 / 2 - mp.mpf(1) / 2)
    assert ref == pytest.approx(expected, rel=1e-15)
    got = float(kl.kl_divergence(kl.Normal(0.0, s1), kl.Normal(0.0, 1.0)))
    assert got == pytest.approx(ref, rel=1e-14)  # was 17.5218, and inf at 1e-12
    got = float(kl.kl_divergence(kl.LogNormal(0.0, s1), kl.LogNormal(0.0, 1.0)))
    assert got == pytest.approx(ref, rel=1e-14)


def test_float32_normal_at_1e_minus_4_has_a_value_and_gradient():
    torch = _torch()
    s = torch.tensor(1e-4, dtype=torch.float32, requires_grad=True)
    value = kl.kl_divergence(kl.Normal(0.0, s), kl.Normal(0.0, 1.0))
    value.backward()
    s32 = float(np.float32(1e-4))
    with mpmath.workdps(50):  # KL = -log s + s^2/2 - 1/2, d/ds = s - 1/s
        ref = float(-mp.log(_m(s32)) + _m(s32) ** 2 / 2 - mp.mpf(1) / 2)
        ref_grad = float(_m(s32) - 1 / _m(s32))
    assert float(value.detach()) == pytest.approx(ref, rel=1e-6)  # was inf
    assert float(s.grad) == pytest.approx(ref_grad, rel=1e-6)  # was NaN


def test_float32_gamma_against_a_concentrated_gamma():
    torch = _torch()
    p = kl.Gamma(torch.tensor(2.0), torch.tensor(1.0))
    with mpmath.workdps(50):
        ref = float(
            ref_kl(
                "Gamma",
                {"concentration": _m(2), "rate": _m(1)},
                "Gamma",
                {"concentration": _m(1e6), "rate": _m(1e6)},
            )
        )
    assert ref == pytest.approx(577208.5, rel=1e-6)
    got = float(kl.kl_divergence(p, kl.Gamma(1e6, 1e6)))
    assert got == pytest.approx(ref, rel=1e-6)  # was 589824


def test_float32_laplace_with_a_tiny_scale():
    torch = _torch()
    p = kl.Laplace(torch.tensor(0.0), torch.tensor(1e-6))
    s32 = float(np.float32(1e-6))
    with mpmath.workdps(50):
        ref = float(
            ref_kl(
                "Laplace",
                {"loc": _m(0), "scale": _m(s32)},
                "Laplace",
                {"loc": _m(0.5), "scale": _m(2)},
            )
        )
    assert ref == pytest.approx(13.7587, abs=1e-4)
    assert float(kl.kl_divergence(p, kl.Laplace(0.5, 2.0))) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("backend", EAGER, ids=[b.value for b in EAGER])
def test_float32_entropies_of_concentrated_laws(backend):
    lib = make_lib(backend)
    c = lib.asarray(np.array([1e6, 3e5], dtype=np.float32))
    cases = [
        ("Beta", {"concentration1": c, "concentration0": c}),
        ("Gamma", {"concentration": c, "rate": lib.asarray(np.ones(2, np.float32))}),
        ("Dirichlet", {"concentration": lib.asarray(np.full((2, 3), 1e6, np.float32))}),
    ]
    for kind, args in cases:
        got = lib.check_result(kl.entropy(getattr(kl, kind)(**args)), dtype="float32")
        host = {n: lib.to_numpy(v) for n, v in args.items()}
        ref = refs_h(kind, host, "float32")
        assert np.max(rel_err(got, ref, floor=1.0)) <= 1e-5, (kind, got, ref)  # was >100% off


@pytest.mark.parametrize("backend", EAGER, ids=[b.value for b in EAGER])
def test_nearly_equal_pairs_keep_their_digits(backend):
    """KL ~1e-18..1e-19: torch's own formulas lose all of it (relative error up to 1e4)."""
    lib = make_lib(backend)
    arr = lambda x: lib.asarray(np.array(x, dtype=np.float64))  # noqa: E731
    cases = [
        (
            "Beta",
            {"concentration1": arr(2.0), "concentration0": arr(3.0)},
            {"concentration1": arr(2.0 * (1 + 1e-9)), "concentration0": arr(3.0)},
        ),
        (
            "Gamma",
            {"concentration": arr(7.5), "rate": arr(0.3)},
            {"concentration": arr(7.5 * (1 + 1e-9)), "rate": arr(0.3 * (1 - 1e-9))},
        ),
        (
            "Dirichlet",
            {"concentration": arr([1.0, 2.0, 3.0])},
            {"concentration": arr([1.0, 2.0 * (1 + 1e-9), 3.0])},
        ),
    ]
    for kind, a, b in cases:
        got = float(lib.to_numpy(kl.kl_divergence(getattr(kl, kind)(**a), getattr(kl, kind)(**b))))
        host = lambda d: {n: lib.to_numpy(v)[None] for n, v in d.items()}  # noqa: E731
        ref = float(refs_kl(Pair("near", kind, host(a), kind, host(b)), "float64")[0])
        assert 1e-20 < ref < 1e-16
        assert got == pytest.approx(ref, rel=1e-9), kind


@pytest.mark.parametrize("backend", EAGER, ids=[b.value for b in EAGER])
def test_a_law_against_itself_is_exactly_zero(backend):
    lib = make_lib(backend)
    d = kl.Dirichlet(lib.asarray(np.array([1.0, 2.0, 3.0])))
    assert float(lib.to_numpy(kl.kl_divergence(d, d))) == 0.0  # was -1.1e-16
    b = kl.Beta(lib.asarray(np.array([0.3, 1e6])), lib.asarray(np.array([1e-6, 2.0])))
    assert np.all(lib.to_numpy(kl.kl_divergence(b, b)) == 0.0)


def test_binomial_pairs_ruled_out_by_support_are_inf_not_nan():
    # P puts mass on 2..200 (Bernoulli has 0 and 1 only), and on 501..1000
    assert float(kl.kl_divergence(kl.Binomial(200, 0.01), kl.Bernoulli(0.5))) == math.inf
    assert float(kl.kl_divergence(kl.Binomial(1000, 0.3), kl.Binomial(500, 0.5))) == math.inf
    got = kl.kl_divergence(kl.Binomial(np.array([3.0, 1000.0]), 0.3), kl.Binomial(500, 0.5))
    assert got[1] == math.inf
    assert np.isfinite(got[0])


DISCRETE = [kl.Bernoulli(0.3), kl.Binomial(5, 0.4), kl.Poisson(2.0), kl.Geometric(0.3)]
CONTINUOUS = [
    kl.Normal(0.0, 1.0),
    kl.LogNormal(0.0, 1.0),
    kl.Laplace(0.0, 1.0),
    kl.Exponential(1.0),
    kl.Uniform(0.0, 1.0),
    kl.Gamma(2.0, 1.0),
    kl.Beta(2.0, 2.0),
    kl.StudentT(3.0),
]


@pytest.mark.parametrize("d", DISCRETE, ids=lambda d: type(d).__name__)
@pytest.mark.parametrize("c", CONTINUOUS, ids=lambda c: type(c).__name__)
def test_discrete_against_continuous_is_inf_both_ways(d, c):
    assert float(kl.kl_divergence(d, c)) == math.inf
    assert float(kl.kl_divergence(c, d)) == math.inf
    assert float(kl.cross_entropy(d, c)) == math.inf


def test_binomial_entropy_at_ten_billion_trials_allocates_nothing():
    import tracemalloc

    import scipy.stats as ss

    with mpmath.workdps(50):
        ref = float(ref_entropy("Binomial", {"total_count": _m(1e10), "probs": _m(0.5)}))
    tracemalloc.start()
    got = float(kl.entropy(ss.binom(10_000_000_000, 0.5)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == pytest.approx(ref, rel=1e-13)
    assert peak < 2**20  # was 74 GiB


def test_sums_over_a_support_fail_fast_above_max_support(monkeypatch):
    monkeypatch.delenv("KLKIT_MAX_SUPPORT", raising=False)
    p, q = kl.Binomial(1e14, 0.5), kl.Binomial(1e14 + 1, 0.5)
    with pytest.raises(
        kl.DistributionError, match=r"above the limit KLKIT_MAX_SUPPORT = 10000000\. Raise it"
    ):
        kl.kl_divergence(p, q)
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "100")
    with pytest.raises(kl.DistributionError, match=r"environment variable KLKIT_MAX_SUPPORT=\d+\)"):
        kl.kl_divergence(kl.Binomial(10_000, 0.5), kl.Binomial(10_001, 0.5))
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "many")
    with pytest.raises(ValueError, match="KLKIT_MAX_SUPPORT is 'many', not a limit"):
        kl.kl_divergence(kl.Binomial(10_000, 0.5), kl.Binomial(10_001, 0.5))
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", str(10**7))
    got = float(kl.kl_divergence(kl.Binomial(10_000, 0.5), kl.Binomial(10_001, 0.5)))
    with mpmath.workdps(30):  # E_P[log((n + 1 - K) / ((n + 1) q))], P = Binomial(n, 1/2)
        n = 10_000
        terms = (
            mp.exp(_log_binom_pmf(mp.mpf(k), mp.mpf(n), mp.mpf(0.5)))
            * mp.log((n + 1 - k) / ((n + 1) * mp.mpf(0.5)))
            for k in range(n + 1)
        )
        ref = float(mp.fsum(terms))
    assert got == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.DASK], ids=["numpy", "dask"])
def test_extreme_parameters_warn_nothing_and_stay_right(backend):
    """pytest turns any RuntimeWarning into an error; the values are checked too."""
    lib = make_lib(backend)
    a = lambda *x: lib.asarray(np.array(x, dtype=np.float64))  # noqa: E731
    tiny, huge = a(1e-320), a(1e300)
    v = lib.to_numpy
    assert v(kl.entropy(kl.Normal(a(0.0), tiny))) == pytest.approx(
        0.5 * math.log(2 * math.pi * math.e) + math.log(1e-320), rel=1e-12
    )
    assert v(kl.kl_divergence(kl.Normal(a(0.0), tiny), kl.Normal(a(0.0), a(1.0)))) == pytest.approx(
        -math.log(1e-320) - 0.5, rel=1e-12
    )
    assert v(kl.kl_divergence(kl.Normal(a(0.0), a(1.0)), kl.Normal(a(0.0), tiny))) == math.inf
    assert (
        v(kl.kl_divergence(kl.Normal(a(1e300), a(1.0)), kl.Normal(a(-1e300), a(1e-300))))
        == math.inf
    )
    assert v(kl.kl_divergence(kl.Laplace(a(0.0), tiny), kl.Laplace(huge, a(1e-300)))) == math.inf
    assert v(kl.kl_divergence(kl.Exponential(tiny), kl.Exponential(huge))) == math.inf
    # l1 log(l1/l2) - l1 + l2 = 1e300 (log 1e600 - 1) + 1e-300
    assert v(kl.kl_divergence(kl.Poisson(huge), kl.Poisson(a(1e-300)))) == pytest.approx(
        1e300 * (600 * math.log(10) - 1), rel=1e-12
    )
    # (c1 - 1) psi(c1) - lgamma(c1) + log r1 - 1 + c1/r1 ~ 1/c1: 1e30 (mpmath: 1.000...e30)
    got = v(kl.kl_divergence(kl.Gamma(a(1e-30), huge), kl.Gamma(a(1.0), a(1.0))))
    assert got == pytest.approx(1e30, rel=1e-12)
    assert v(kl.kl_divergence(kl.Gamma(tiny, huge), kl.Gamma(a(1.0), a(1.0)))) == math.inf
    assert v(kl.entropy(kl.Uniform(a(-1e308), a(1e308)))) == pytest.approx(
        math.log(2.0) + math.log(1e308), rel=1e-12
    )
    assert (
        v(kl.kl_divergence(kl.LogNormal(a(700.0), a(30.0)), kl.Normal(a(0.0), a(1.0)))) == math.inf
    )
    assert (
        v(kl.kl_divergence(kl.StudentT(a(1.5), a(0.0), a(1.0)), kl.Normal(a(0.0), a(1.0))))
        == math.inf
    )
    assert v(
        kl.kl_divergence(kl.Bernoulli(logits=a(1000.0)), kl.Bernoulli(logits=a(-1000.0)))
    ) == pytest.approx(1000.0, rel=1e-12)  # log sigmoid(1000) - log sigmoid(-1000)


def test_parameters_far_beyond_1e6_stay_finite_and_right():
    """Products of parameters would overflow: quotients and shares are used instead."""
    # mpmath at 200 (700) digits of the textbook KL: 1.95e239 (5.0000000000000002e269)
    got = float(kl.kl_divergence(kl.Beta(1e30, 0.3), kl.Gamma(1e300, 1e300)))
    assert got == pytest.approx(1.95e239, rel=1e-12)  # was -274
    got = float(kl.kl_divergence(kl.Beta(1e30, 1e30), kl.Beta(1e300, 1e300)))
    assert got == pytest.approx(5.0000000000000002e269, rel=1e-12)  # was -2.3e287
    # LogNormal(0, 1e-300): sigma^2 underflows; mpmath: 690.77552789821370518
    got = float(kl.kl_divergence(kl.LogNormal(0.0, 1e-300), kl.Normal(0.0, 1.0)))
    assert got == pytest.approx(690.7755278982137, rel=1e-14)  # was inf
    # Gamma(1e-320, 1) against Exponential: F'(c1) is -inf, times c2 - 1 = 0
    assert np.isfinite(float(kl.cross_entropy(kl.Gamma(1e-320, 1.0), kl.Exponential(1.0))))
    # an entropy of -inf and a KL of +inf: the cross-entropy is +inf, not NaN
    assert float(kl.cross_entropy(kl.Gamma(1e-320, 1.0), kl.Poisson(1.0))) == math.inf


def test_scipy_laws_at_the_edge_of_the_range_warn_nothing():
    import scipy.stats as ss

    assert float(kl.entropy(ss.expon(loc=1e308))) == 1.0
    assert float(kl.kl_divergence(ss.expon(loc=1e308), ss.expon(loc=1e308))) == 0.0
    assert float(kl.kl_divergence(ss.norm(0, 1e-320), ss.norm(0, 1))) == pytest.approx(
        -math.log(1e-320) - 0.5, rel=1e-12
    )
    assert float(kl.kl_divergence(ss.expon(loc=1e308), ss.norm(0, 1))) == math.inf


def test_jax_without_x64_meets_the_float32_target():
    """The formulas, not an upcast, carry float32: JAX with x64 off has no float64."""
    make_lib(Backend.JAX)  # a missing JAX fails here when CI names it
    script = textwrap.dedent(
        """
        import json
        import jax, jax.numpy as jnp, klkit as kl
        assert not jax.config.jax_enable_x64
        f = lambda *x: jnp.asarray(x, dtype=jnp.float32)
        out = [
            kl.kl_divergence(kl.Gamma(f(2.0), f(1.0)), kl.Gamma(1e6, 1e6)),
            kl.kl_divergence(kl.Laplace(f(0.0), f(1e-6)), kl.Laplace(0.5, 2.0)),
            kl.kl_divergence(kl.Normal(f(0.0), f(1e-4)), kl.Normal(0.0, 1.0)),
            kl.entropy(kl.Beta(f(1e6), f(1e6))),
            kl.entropy(kl.Gamma(f(1e6), f(1.0))),
            kl.kl_divergence(kl.Beta(f(2.0), f(3.0)), kl.Beta(f(2.002), f(3.0))),
            kl.kl_divergence(kl.Gamma(f(1e-6), f(1.0)), kl.Gamma(f(1.1e-6), f(1.0))),
        ]
        values, dtypes = [float(v[0]) for v in out], [str(v.dtype) for v in out]
        print(json.dumps({"values": values, "dtypes": dtypes}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    out = json.loads(done.stdout)
    assert set(out["dtypes"]) == {"float32"}
    got = out["values"]
    f32 = lambda x: _m(float(np.float32(x)))  # noqa: E731
    with mpmath.workdps(50):
        refs = [
            ref_kl(
                "Gamma",
                {"concentration": f32(2), "rate": f32(1)},
                "Gamma",
                {"concentration": _m(1e6), "rate": _m(1e6)},
            ),
            ref_kl(
                "Laplace",
                {"loc": f32(0), "scale": f32(1e-6)},
                "Laplace",
                {"loc": _m(0.5), "scale": _m(2)},
            ),
            ref_kl(
                "Normal",
                {"loc": f32(0), "scale": f32(1e-4)},
                "Normal",
                {"loc": _m(0), "scale": _m(1)},
            ),
            ref_entropy("Beta", {"concentration1": f32(1e6), "concentration0": f32(1e6)}),
            ref_entropy("Gamma", {"concentration": f32(1e6), "rate": f32(1)}),
            ref_kl(
                "Beta",
                {"concentration1": f32(2), "concentration0": f32(3)},
                "Beta",
                {"concentration1": f32(2.002), "concentration0": f32(3)},
            ),
            ref_kl(
                "Gamma",
                {"concentration": f32(1e-6), "rate": f32(1)},
                "Gamma",
                {"concentration": f32(1.1e-6), "rate": f32(1)},
            ),
        ]
    for g, r in zip(got, refs, strict=True):
        assert g == pytest.approx(float(r), rel=1e-3), (got, refs)


def test_binomial_entropy_gradient_in_traced_probs():
    """Under jax.grad the window is sized from the counts (variance <= n/4)."""
    jnp = make_lib(Backend.JAX).module
    import jax

    grad = jax.grad(lambda p: kl.entropy(kl.Binomial(40.0, p)))(jnp.asarray(0.3))
    with mpmath.workdps(30):
        ref = mp.diff(
            lambda p: ref_entropy("Binomial", {"total_count": mp.mpf(40), "probs": p}), mp.mpf(0.3)
        )
    assert float(grad) == pytest.approx(float(ref), rel=1e-9)
    with pytest.raises(TypeError, match="`total_count` must be concrete"):
        jax.jit(lambda n: kl.entropy(kl.Binomial(n, 0.3)))(jnp.asarray(40.0))
