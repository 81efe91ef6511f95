"""The cases the distribution tests draw, and their mpmath references evaluated.

Targets (issue "trust", section 2): relative error <= 1e-9 in float64 and <= 1e-3 in
float32, for parameters from 1e-6 to 1e6, scale ratios down to 1e-12, nearly equal
pairs (relative parameter differences 1e-9 to 1e-3, KL down to ~1e-20) and a law
against itself (exactly 0). Entropies and cross-entropies, which can cross 0, are
compared relative to ``max(|reference|, 1)``. ``KLKIT_FUZZ=long`` draws ten times as
many cases.

The cases come from one seeded generator, always in one order (:func:`pairs`, then
:func:`entropy_cases`, then :func:`mvn_cases`, whichever test asks first), so every
test file sees the same draws. The references are in ``family_reference.py``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from backends import Backend, Lib
from family_reference import _m, ref_entropy, ref_kl
from mpmath import mp

import klkit as kl

LONG = os.environ.get("KLKIT_FUZZ", "") == "long"
N = 40 if LONG else 8  # draws per kind of case
RTOL = {"float64": 1e-9, "float32": 1e-3}
BACKENDS = [Backend.NUMPY, Backend.TORCH, Backend.JAX]
# the regression examples: JAX runs them with x64 off, in a subprocess (and in KL tests)
EAGER = BACKENDS if LONG else BACKENDS[:2]

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
