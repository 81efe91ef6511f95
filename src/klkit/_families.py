"""Parametric families in closed form: entropy, cross-entropy and KL divergence.

Each family is a small frozen object whose parameters are arrays (or Python numbers)
that broadcast against each other, as in ``torch.distributions``, with torch's
parameter names and order. The measures are written once against the array API, so
results come back in the parameters' library, dtype and device, and are
differentiable with respect to every parameter. A family whose parameters are all
Python numbers takes the library of the other argument: ``Normal(mu, sigma)`` against
``Normal(0.0, 1.0)`` stays in torch when ``mu`` is a tensor.

Formulas are arranged so that nothing cancels: ``g(x) = x - log1p(x)`` (the KL of two
scales) and ``h(t) = exp(-t) - 1 + t`` use series for small arguments.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from klkit import _compat
from klkit._fast import NEAR, series
from klkit._inputs import LogProbs, _float_dtype
from klkit._typing import Array, Namespace
from klkit._validation import Checks, DistributionError, check_base

__all__ = [
    "Bernoulli",
    "Exponential",
    "Family",
    "Laplace",
    "LogNormal",
    "Normal",
    "Uniform",
    "family_measure",
]

_HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def _is_array(x: object) -> bool:
    return hasattr(x, "__array_namespace__") or type(x).__module__.split(".")[0] in (
        "numpy",
        "torch",
        "jax",
        "jaxlib",
        "dask",
    )


@dataclass(frozen=True, eq=False)
class Family:
    """A batch of distributions of one parametric family (see the subclasses)."""

    _rules: ClassVar[dict[str, str]] = {}
    """Parameter name -> rule: "real", "positive" or "unit" (a probability)."""

    params: dict[str, Any] = field(init=False, repr=False)

    def _store(self, **params: Any) -> None:
        for name, value in params.items():
            if not _is_array(value) and not isinstance(value, int | float):
                msg = (
                    f"`{type(self).__name__}` parameter `{name}` is a "
                    f"{type(value).__name__}; pass a number or an array."
                )
                raise TypeError(msg)
        object.__setattr__(self, "params", params)
        self._check()

    def _check(self) -> None:
        family = type(self).__name__
        arrays = {n: v for n, v in self.params.items() if _is_array(v)}
        checks = None
        if arrays:
            xp = _compat.namespace(*arrays.values(), names=list(arrays))
            checks = Checks(*arrays.values(), xp=xp, enabled=True)
        for name, value in self.params.items():
            rule = self._rules[name]
            need = {
                "real": "a finite number",
                "positive": "> 0 and finite",
                "unit": "a probability in [0, 1]",
            }[rule]
            template = f"`{family}` parameter `{name}` has {{value}}{{where}}; it must be {need}."
            if not _is_array(value):
                v = float(value)
                ok = {
                    "real": math.isfinite(v),
                    "positive": 0 < v < math.inf,
                    "unit": 0 <= v <= 1,
                }[rule]
                if not ok:
                    raise DistributionError(template.format(value=v, where=""))
                continue
            assert checks is not None
            xp = checks.xp
            x = value
            if not xp.isdtype(x.dtype, ("real floating", "integral")):
                msg = f"`{family}` parameter `{name}` has dtype {x.dtype}; pass real numbers."
                raise TypeError(msg)
            bad = {
                "real": ~xp.isfinite(x),
                "positive": ~((x > 0) & xp.isfinite(x)),
                "unit": ~((x >= 0) & (x <= 1)),
            }[rule]
            checks.fail_where(bad, x, template)
        object.__setattr__(self, "_checks", checks)

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{n}={v!r}" if not _is_array(v) else f"{n}=<{getattr(v, 'shape', '?')}>"
            for n, v in self.params.items()
        )
        return f"{type(self).__name__}({inner})"

    def arrays(self, xp: Namespace, dtype: Any, device: Any) -> dict[str, Array]:
        """Return the parameters as arrays of ``xp``, cast to ``dtype``."""
        return {
            n: xp.astype(v, dtype) if _is_array(v) else xp.asarray(v, dtype=dtype, device=device)
            for n, v in self.params.items()
        }


class Normal(Family):
    """Normal distribution ``N(loc, scale**2)`` (``torch.distributions.Normal``).

    Entropy ``log(scale sqrt(2 pi e))``; ``D(N1 || N2) = g(s1^2/s2^2 - 1)/2 +
    (loc1 - loc2)^2 / (2 s2^2)`` with ``g(x) = x - log1p(x)``, in nats (or ``base=``).

    Examples
    --------
    The VAE term against N(0, 1), batched:

    >>> import numpy as np, klkit as kl
    >>> kl.kl_divergence(kl.Normal(np.array([0.0, 1.0]), np.array([1.0, 2.0])), kl.Normal(0.0, 1.0))
    array([0.        , 1.30685282])
    >>> float(kl.entropy(kl.Normal(0.0, 1.0), base=2))
    2.047095585180641
    """

    _rules: ClassVar[dict[str, str]] = {"loc": "real", "scale": "positive"}

    def __init__(self, loc: Any, scale: Any) -> None:
        self._store(loc=loc, scale=scale)


class LogNormal(Family):
    """Log-normal: ``exp(X)`` for ``X ~ N(loc, scale**2)`` (``torch.distributions``)."""

    _rules: ClassVar[dict[str, str]] = {"loc": "real", "scale": "positive"}

    def __init__(self, loc: Any, scale: Any) -> None:
        self._store(loc=loc, scale=scale)


class Laplace(Family):
    """Laplace distribution with density ``exp(-|x - loc| / scale) / (2 scale)``."""

    _rules: ClassVar[dict[str, str]] = {"loc": "real", "scale": "positive"}

    def __init__(self, loc: Any, scale: Any) -> None:
        self._store(loc=loc, scale=scale)


class Exponential(Family):
    """Exponential distribution with density ``rate * exp(-rate * x)`` on ``x >= 0``."""

    _rules: ClassVar[dict[str, str]] = {"rate": "positive"}

    def __init__(self, rate: Any) -> None:
        self._store(rate=rate)


class Uniform(Family):
    """Uniform distribution on ``[low, high)`` (``low < high``)."""

    _rules: ClassVar[dict[str, str]] = {"low": "real", "high": "real"}

    def __init__(self, low: Any, high: Any) -> None:
        self._store(low=low, high=high)
        if not any(_is_array(v) for v in (low, high)):
            if not float(low) < float(high):
                msg = f"`Uniform` needs low < high; got low={low}, high={high}."
                raise DistributionError(msg)
            return
        xp = _compat.namespace(
            *(v for v in (low, high) if _is_array(v)),
            names=[n for n, v in (("low", low), ("high", high)) if _is_array(v)],
        )
        lo = low if _is_array(low) else xp.asarray(float(low))
        hi = high if _is_array(high) else xp.asarray(float(high))
        Checks(lo, hi, xp=xp, enabled=True).fail_where(
            ~(lo < hi),
            lo + 0.0 * hi,
            "`Uniform` needs low < high; `low` is {value}{where}, not below `high`.",
        )


class Bernoulli(Family):
    """Bernoulli distribution from ``probs`` (of 1) or ``logits`` (log-odds), not both."""

    _rules: ClassVar[dict[str, str]] = {"probs": "unit", "logits": "real"}

    def __init__(self, probs: Any = None, logits: Any = None) -> None:
        if (probs is None) == (logits is None):
            msg = "`Bernoulli` takes exactly one of `probs` and `logits`."
            raise TypeError(msg)
        if probs is not None:
            self._store(probs=probs)
        else:
            self._store(logits=logits)


# --- helpers ----------------------------------------------------------------------------


def _g(x: Array, xp: Namespace) -> Array:
    """``x - log1p(x)`` for ``x > -1``: >= 0, by the series where it would cancel."""
    small = xp.abs(x) < NEAR
    xs = xp.where(small, x, 0.0)
    xf = xp.where(small, 1.0, x)
    return xp.where(small, series(xs), xf - xp.log1p(xf))


def _h(t: Array, xp: Namespace) -> Array:
    """``exp(-t) - 1 + t`` for ``t >= 0``, by its Taylor series below 0.1."""
    small = t < 0.1
    ts = xp.where(small, t, 0.0)
    acc = 1.0 / 3628800
    for k in (9, 8, 7, 6, 5, 4, 3, 2):
        acc = 1.0 / math.factorial(k) - ts * acc
    taylor = ts * ts * acc
    tf = xp.where(small, 1.0, t)
    return xp.where(small, taylor, xp.expm1(-tf) + tf)


def _scale_ratio_minus_one(s1: Array, s2: Array) -> Array:
    """``(s1 / s2)**2 - 1`` without cancellation when s1 ~ s2."""
    return (s1 - s2) * (s1 + s2) / (s2 * s2)


def _bernoulli_logs(a: dict[str, Array], xp: Namespace) -> Array:
    """``[log(1 - p), log p]`` stacked on a last axis of length 2."""
    if "logits" in a:
        z = a["logits"]
        zero = xp.zeros_like(z)
        return xp.stack([-xp.logaddexp(zero, z), -xp.logaddexp(zero, -z)], axis=-1)
    p = a["probs"]
    pos, below = p > 0, p < 1
    log_p = xp.where(pos, xp.log(xp.where(pos, p, 1.0)), -xp.inf)
    log_1mp = xp.where(below, xp.log1p(-xp.where(below, p, 0.0)), -xp.inf)
    return xp.stack([log_1mp, log_p], axis=-1)


# --- the measures ---------------------------------------------------------------------


def _entropy(d: Family, a: dict[str, Array], xp: Namespace) -> Array:
    from klkit._measures import entropy  # noqa: PLC0415  (_measures imports this module)

    if isinstance(d, Normal):
        return _HALF_LOG_2PI_E + xp.log(a["scale"]) + 0.0 * a["loc"]
    if isinstance(d, LogNormal):
        return _HALF_LOG_2PI_E + xp.log(a["scale"]) + a["loc"]
    if isinstance(d, Laplace):
        return 1.0 + math.log(2.0) + xp.log(a["scale"]) + 0.0 * a["loc"]
    if isinstance(d, Exponential):
        return 1.0 - xp.log(a["rate"])
    if isinstance(d, Uniform):
        return xp.log(a["high"] - a["low"])
    if isinstance(d, Bernoulli):
        return entropy(LogProbs(_bernoulli_logs(a, xp)), validate=False)
    raise AssertionError(type(d))  # every family is listed above


_KL = Callable[[dict[str, Array], dict[str, Array], Namespace], Array]


def _kl_normal(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    x = _scale_ratio_minus_one(a["scale"], b["scale"])
    d = (a["loc"] - b["loc"]) / b["scale"]
    return 0.5 * _g(x, xp) + 0.5 * d * d


def _kl_laplace(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    x = (a["scale"] - b["scale"]) / b["scale"]
    t = xp.abs(a["loc"] - b["loc"]) / a["scale"]
    return _g(x, xp) + (a["scale"] / b["scale"]) * _h(t, xp)


def _kl_exponential(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    return _g((b["rate"] - a["rate"]) / a["rate"], xp)


def _kl_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    inside = (b["low"] <= a["low"]) & (a["high"] <= b["high"])
    width_a = a["high"] - a["low"]
    ratio = xp.where(inside, (b["high"] - b["low"]) / width_a, 1.0)
    return xp.where(inside, xp.log(ratio), xp.inf)


def _kl_uniform_normal(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    width = a["high"] - a["low"]
    mid = (a["high"] + a["low"]) / 2
    s = b["scale"]
    second = (width * width / 12 + (mid - b["loc"]) ** 2) / (s * s)
    # -H(U) - E_U[log N(x)] = -log w + log(s sqrt(2 pi)) + E_U[(x - loc)^2] / (2 s^2)
    return -xp.log(width / s) + (_HALF_LOG_2PI_E - 0.5) + 0.5 * second


def _kl_uniform_exponential(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    inside = a["low"] >= 0
    rate = b["rate"]
    value = rate * (a["high"] + a["low"]) / 2 - xp.log((a["high"] - a["low"]) * rate)
    return xp.where(inside, value, xp.inf)


def _kl_infinite(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """P puts mass where Q has none (a support on the whole line against a bounded one)."""
    first = next(iter(a.values()))
    return xp.zeros_like(first) + xp.inf


_PAIRS: dict[tuple[type, type], _KL] = {
    (Normal, Normal): _kl_normal,
    (LogNormal, LogNormal): _kl_normal,
    (Laplace, Laplace): _kl_laplace,
    (Exponential, Exponential): _kl_exponential,
    (Uniform, Uniform): _kl_uniform,
    (Uniform, Normal): _kl_uniform_normal,
    (Uniform, Exponential): _kl_uniform_exponential,
    (Normal, Uniform): _kl_infinite,
    (Laplace, Uniform): _kl_infinite,
    (Normal, Exponential): _kl_infinite,
    (Laplace, Exponential): _kl_infinite,
    (Exponential, Uniform): _kl_infinite,
}


def _kl(p: Family, q: Family, a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    from klkit._measures import kl_divergence  # noqa: PLC0415  (as above)

    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        lp, lq = _bernoulli_logs(a, xp), _bernoulli_logs(b, xp)
        return kl_divergence(LogProbs(lp), LogProbs(lq), validate=False)
    rule = _PAIRS.get((type(p), type(q)))
    if rule is None:
        have = ", ".join(f"{x.__name__}-{y.__name__}" for x, y in _PAIRS if x is not y)
        msg = (
            f"kl_divergence({type(p).__name__}, {type(q).__name__}) has no closed form in "
            f"klkit. Same-family pairs have one, and so do {have}. For other pairs, "
            "draw samples and compare them."
        )
        raise DistributionError(msg)
    return rule(a, b, xp)


def family_measure(name: str, values: list[Any], *, base: float | None) -> Any:
    """``entropy``, ``cross_entropy`` or ``kl_divergence`` of families, in closed form."""
    log_base = check_base(base)
    if not all(isinstance(v, Family) for v in values):
        kinds = ", ".join(type(v).__name__ for v in values)
        msg = (
            f"{name} got {kinds}: a distribution family can only be compared with another "
            "family (e.g. `kl.Normal(0.0, 1.0)`), not with an array of probabilities."
        )
        raise TypeError(msg)
    if name in ("js_divergence", "js_distance"):
        if all(isinstance(v, Bernoulli) for v in values):  # two outcomes: exact
            from klkit import _measures  # noqa: PLC0415  (_measures imports this module)

            xp0, arrays0 = _resolve(values)
            probs = [xp0.exp(_bernoulli_logs(a, xp0)) for a in arrays0]
            return getattr(_measures, name)(*probs, base=base, validate=False)
        msg = (
            f"{name} of two continuous distribution families has no closed form. "
            "Draw samples from both and compare them."
        )
        raise DistributionError(msg)
    xp, arrays = _resolve(values)
    if name == "entropy":
        out = _entropy(values[0], arrays[0], xp)
    elif name == "kl_divergence":
        out = _kl(values[0], values[1], arrays[0], arrays[1], xp)
    else:  # cross_entropy: H(P, Q) = H(P) + D(P || Q)
        out = _entropy(values[0], arrays[0], xp) + _kl(
            values[0], values[1], arrays[0], arrays[1], xp
        )
    for v in values:
        checks = getattr(v, "_checks", None)
        if checks is not None:
            out = checks.attach(out)
    if log_base is not None:
        out = out / log_base
    return _compat.numpy_scalar(out, xp)


def _resolve(values: list[Family]) -> tuple[Namespace, list[dict[str, Array]]]:
    """One namespace, dtype and device for every parameter of every family."""
    names: list[str] = []
    raw: list[Any] = []
    for i, v in enumerate(values):
        for n, x in v.params.items():
            if _is_array(x):
                names.append(f"{'pq'[i]}.{n}")
                raw.append(x)
    if raw:
        xp = _compat.namespace(*raw, names=names)
        device = _compat.device_of(raw[0])
        dtype = _float_dtype(xp, raw, device)
    else:
        xp = _compat.numpy_namespace()
        device = None
        dtype = xp.float64
    return xp, [v.arrays(xp, dtype, device) for v in values]
