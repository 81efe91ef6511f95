"""Parametric families in closed form: entropy, cross-entropy and KL divergence.

Each family is a small frozen object whose parameters are arrays (or Python numbers)
that broadcast against each other, as in ``torch.distributions``, with torch's
parameter names and order. The measures are written once against the array API, so
results come back in the parameters' library, dtype and device, and are
differentiable with respect to every parameter. A family whose parameters are all
Python numbers takes the library of the other argument: ``Normal(mu, sigma)`` against
``Normal(0.0, 1.0)`` stays in torch when ``mu`` is a tensor.

Formulas are arranged so that nothing large cancels, so every entropy, cross-entropy
and KL keeps ~1e-13 relative precision in float64 and ~1e-5 in float32 (with no
upcasting: JAX without x64 has no float64) for parameters from 1e-6 to 1e6, scale
ratios down to 1e-12 and nearly equal pairs, and a law against itself is exactly 0:

* scales compare through ``g(x) = x - log1p(x)`` (series for small x) of their log
  ratio, never through ``1 + x`` (``N(0, 1e-12)`` against ``N(0, 1)`` is 27.131);
* Gamma, Beta and Dirichlet use the reduced log-gamma ``F(c) = lgamma(c) - c log c +
  c`` and its Bregman divergence (see :mod:`klkit._special`): a KL is a sum of terms
  that are each >= 0, with series in the parameter differences where they are small;
* a continuous law against a Normal is ``J(P) + KL(N(mean, var) || Q)``, ``J`` (P's
  distance to its moment-matched normal) written without the two cancelling entropies;
* Binomial log-probabilities use Loader's form, its entropy an asymptotic series for
  large variances (``binom(1e10, 0.5)`` allocates nothing), and finite sums over a
  support are capped by :data:`MAX_SUPPORT`;
* pairs ruled out by their supports (a discrete law against a continuous one, either
  way) are exactly +inf, read from the parameters, never a 0 * inf; overflowing steps
  are masked on both sides of each ``where``, so no NumPy warning escapes.

On Dask the elementwise closed forms run one NumPy task per block.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from klkit import _compat
from klkit._inputs import _float_dtype
from klkit._special import (
    _DIGAMMA_SERIES,
    _HALF_LOG_2PI_E,
    _LGAMMA_SERIES,
    NEAR,
    SERIES_FROM,
    bregman_f,
    bregman_f_shift,
    digamma_series,
    erf,
    g,
    g_parts,
    g_ratio,
    lgamma,
    lgamma_e,
    lgamma_f,
    lgamma_f1,
    lgamma_f1_diff,
    lgamma_series,
    log_ratio,
    phi_parts,
    ratio,
    stirling_e_tail,
    stirling_shift,
)
from klkit._typing import Array, Namespace
from klkit._validation import Checks, DistributionError, check_base

__all__ = [
    "MAX_SUPPORT",
    "Affine",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Dirichlet",
    "Exponential",
    "Family",
    "Gamma",
    "Geometric",
    "Laplace",
    "LogNormal",
    "MultivariateNormal",
    "Normal",
    "Poisson",
    "StudentT",
    "Uniform",
    "family_measure",
    "is_distribution",
    "is_scipy_frozen",
]


def _is_array(x: object) -> bool:
    return hasattr(x, "__array_namespace__") or type(x).__module__.split(".")[0] in (
        "numpy",
        "torch",
        "jax",
        "jaxlib",
        "dask",
    )


_NEED = {
    "real": "a finite number",
    "positive": "> 0 and finite",
    "nonnegative": ">= 0 and finite",
    "count": "a whole number >= 0",
    "unit": "a probability in [0, 1]",
    "success": "a probability in (0, 1]",
}


def _ok_number(v: float, rule: str) -> bool:
    return {
        "real": math.isfinite(v),
        "positive": 0 < v < math.inf,
        "nonnegative": 0 <= v < math.inf,
        "count": 0 <= v < math.inf and v == math.floor(v),
        "unit": 0 <= v <= 1,
        "success": 0 < v <= 1,
    }[rule]


def _bad_entries(x: Array, rule: str, xp: Namespace) -> Array:
    if rule == "real":
        return ~xp.isfinite(x)
    if rule == "positive":
        return ~((x > 0) & xp.isfinite(x))
    if rule == "nonnegative":
        return ~((x >= 0) & xp.isfinite(x))
    if rule == "count":
        return ~((x >= 0) & xp.isfinite(x) & (xp.floor(x) == x))
    if rule == "unit":
        return ~((x >= 0) & (x <= 1))
    return ~((x > 0) & (x <= 1))  # "success"


def _broadcast_batch(
    family: str, shapes: dict[str, tuple[int, ...]], *, lead: str = ""
) -> tuple[int, ...]:
    """Broadcast ``shapes``, or raise a DistributionError naming the two that clash.

    ``lead`` replaces the default start of the message, "`Family` parameters".
    """
    out: tuple[int, ...] = ()
    first = ""
    for name, shape in shapes.items():
        n = max(len(out), len(shape))
        a, b = (1,) * (n - len(out)) + out, (1,) * (n - len(shape)) + shape
        if any(x != y and 1 not in (x, y) for x, y in zip(a, b, strict=True)):
            start = lead or f"`{family}` parameters `{first}`"
            end = f"`{name}`" if not lead else name
            msg = (
                f"{start} (batch shape {out}) and {end} (batch shape {shape}) do not "
                "broadcast; give them equal shapes or size-1 axes."
            )
            raise DistributionError(msg)
        out = tuple(max(x, y) for x, y in zip(a, b, strict=True))
        first = first or name
    return out


@dataclass(frozen=True, eq=False)
class Family:
    """A batch of distributions of one parametric family (see the subclasses)."""

    _rules: ClassVar[dict[str, str]] = {}
    """Parameter name -> rule: a key of ``_NEED``."""
    _event: ClassVar[dict[str, int]] = {}
    """Parameter name -> number of trailing event dimensions (default 0)."""
    _ordered: ClassVar[tuple[str, str] | None] = None
    """Two parameters that must be strictly increasing (Uniform's low < high)."""

    params: dict[str, Any] = field(init=False, repr=False)
    _checks: Checks | None = field(init=False, repr=False, default=None)
    """The parameter checks; on Dask they raise when a result is computed."""

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
            self._check_shapes(arrays)
        for name, value in self.params.items():
            rule = self._rules[name]
            template = (
                f"`{family}` parameter `{name}` has {{value}}{{where}}; it must be {_NEED[rule]}."
            )
            if not _is_array(value):
                if not _ok_number(float(value), rule):
                    raise DistributionError(template.format(value=float(value), where=""))
                continue
            assert checks is not None
            xp = checks.xp
            x = value
            if not xp.isdtype(x.dtype, ("real floating", "integral")):
                msg = f"`{family}` parameter `{name}` has dtype {x.dtype}; pass real numbers."
                raise TypeError(msg)
            bad = _bad_entries(x, rule, xp)
            event = self._event.get(name, 0)
            if checks.mode == "defer" and event:
                # Deferred (Dask) checks line up with the result, which has no event
                # axes: check per distribution, showing its smallest entry.
                axes = tuple(range(-event, 0))
                bad, x = xp.any(bad, axis=axes), xp.min(x, axis=axes)
            checks.fail_where(bad, x, template)
        if self._ordered is not None:
            self._check_ordered(checks)
        object.__setattr__(self, "_checks", checks)

    def _check_ordered(self, checks: Checks | None) -> None:
        """``_ordered = (low, high)``: each ``low`` must be below its ``high``."""
        assert self._ordered is not None
        family, (lo_name, hi_name) = type(self).__name__, self._ordered
        lo, hi = self.params[lo_name], self.params[hi_name]
        if checks is None:  # two Python numbers
            if not float(lo) < float(hi):
                msg = f"`{family}` needs {lo_name} < {hi_name}; got {lo_name}={lo}, {hi_name}={hi}."
                raise DistributionError(msg)
            return
        xp = checks.xp
        lo = lo if _is_array(lo) else xp.asarray(float(lo))
        hi = hi if _is_array(hi) else xp.asarray(float(hi))
        checks.fail_where(
            ~(lo < hi),
            lo + 0.0 * hi,
            f"`{family}` needs {lo_name} < {hi_name}; `{lo_name}` is {{value}}{{where}}, not "
            f"below `{hi_name}`.",
        )

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The broadcast batch shape of the parameters (event axes dropped)."""
        shapes = {
            n: tuple(v.shape[: len(v.shape) - self._event.get(n, 0)])
            for n, v in self.params.items()
            if _is_array(v)
        }
        return _broadcast_batch(type(self).__name__, shapes)

    def _check_shapes(self, arrays: dict[str, Any]) -> None:
        """Batch shapes (event dimensions dropped) must broadcast against each other."""
        family = type(self).__name__
        batch: dict[str, tuple[int, ...]] = {}
        for name, x in arrays.items():
            event = self._event.get(name, 0)
            shape = tuple(x.shape)
            if len(shape) < event:
                what = "a vector" if event == 1 else "a matrix"
                msg = (
                    f"`{family}` parameter `{name}` has shape {shape}; it must be {what} "
                    f"(or a batch of them, with the last {event} axes the event)."
                )
                raise DistributionError(msg)
            batch[name] = shape[: len(shape) - event]
        _broadcast_batch(family, batch)

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
    (loc1 - loc2)^2 / (2 s2^2)`` with ``g(x) = x - log1p(x)``, in nats (or ``base=``),
    ``g`` taken from ``log(s1/s2)`` (a ratio of 1e-12 is 27.131 nats, not inf), and by
    its series when the scales are nearly equal.

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
    _ordered: ClassVar[tuple[str, str] | None] = ("low", "high")

    def __init__(self, low: Any, high: Any) -> None:
        self._store(low=low, high=high)


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


class Gamma(Family):
    """Gamma distribution with density ``rate^a x^(a-1) e^(-rate x) / Gamma(a)``, ``x > 0``.

    ``Gamma(concentration, rate)`` as in ``torch.distributions``; ``Exponential(rate)``
    is ``Gamma(1, rate)``, and the two compare in closed form. Entropy
    ``a - log(rate) + lgamma(a) + (1 - a) psi(a)``, computed as ``log(a/rate) + E(a)``
    with no term of size ``a``; KL as ``B_F(a2, a1) + a2 g(mean ratio - 1)``, two
    non-negative terms (see :mod:`klkit._special`).

    Examples
    --------
    >>> import klkit as kl
    >>> round(float(kl.kl_divergence(kl.Gamma(2.0, 1.0), kl.Exponential(1.0))), 6)
    0.422784
    """

    _rules: ClassVar[dict[str, str]] = {"concentration": "positive", "rate": "positive"}

    def __init__(self, concentration: Any, rate: Any) -> None:
        self._store(concentration=concentration, rate=rate)


class Beta(Family):
    """Beta distribution on ``[0, 1]``: ``Beta(concentration1, concentration0)`` (torch's order).

    ``concentration1`` is SciPy's ``a`` (the exponent of ``x``), ``concentration0`` its
    ``b`` (of ``1 - x``). ``Uniform(0, 1)`` is ``Beta(1, 1)``; Uniform and Beta pairs
    compare in closed form.

    Examples
    --------
    >>> import klkit as kl
    >>> round(float(kl.kl_divergence(kl.Beta(2.0, 5.0), kl.Beta(3.0, 3.0))), 6)
    0.716667
    """

    _rules: ClassVar[dict[str, str]] = {"concentration1": "positive", "concentration0": "positive"}

    def __init__(self, concentration1: Any, concentration0: Any) -> None:
        self._store(concentration1=concentration1, concentration0=concentration0)


class Dirichlet(Family):
    """Dirichlet distribution over the simplex; ``concentration`` has the K outcomes last.

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> round(float(kl.entropy(kl.Dirichlet(np.ones(3)))), 6)  # uniform on the simplex: -log 2
    -0.693147
    """

    _rules: ClassVar[dict[str, str]] = {"concentration": "positive"}
    _event: ClassVar[dict[str, int]] = {"concentration": 1}

    def __init__(self, concentration: Any) -> None:
        if not _is_array(concentration):
            msg = "`Dirichlet` parameter `concentration` must be an array of K > 0 numbers."
            raise TypeError(msg)
        self._store(concentration=concentration)


class Poisson(Family):
    """Poisson distribution with mean ``rate >= 0`` on ``0, 1, 2, ...``.

    KL is closed form; the entropy is its series, summed over a window around the mean
    that holds every term above the dtype's eps (an asymptotic expansion beyond
    ``rate = 10**4``, where it is exact to rounding).
    """

    _rules: ClassVar[dict[str, str]] = {"rate": "nonnegative"}

    def __init__(self, rate: Any) -> None:
        self._store(rate=rate)


class Geometric(Family):
    """Failures before the first success, each trial succeeding with ``probs`` in (0, 1].

    As ``torch.distributions.Geometric``: support ``0, 1, 2, ...``. SciPy's ``geom``
    counts trials (support ``1, 2, ...``): it converts to a Geometric shifted by one,
    and pairs on different supports follow the support rule.
    """

    _rules: ClassVar[dict[str, str]] = {"probs": "success"}

    shift: int = 0
    """First value of the support: 0 (torch's, failures) or 1 (SciPy's ``geom``, trials)."""

    def __init__(self, probs: Any) -> None:
        self._store(probs=probs)

    @classmethod
    def _shifted(cls, probs: Any, shift: int) -> Geometric:
        """Make a Geometric on ``shift, shift + 1, ...`` (SciPy's ``geom`` has shift 1)."""
        out = cls(probs)
        object.__setattr__(out, "shift", shift)
        return out

    def __repr__(self) -> str:
        base = super().__repr__()
        return base if self.shift == 0 else f"{base[:-1]}, shift={self.shift})"


class Binomial(Family):
    """Successes in ``total_count`` trials: ``Binomial(total_count, probs)`` (torch's order).

    Equal counts compare by ``n * KL(Bernoulli)`` (any ``n``). The entropy is a sum over
    the counts that hold all but eps of the mass, or, beyond a variance ``n p q`` of
    1e4, its asymptotic series (exact to rounding there; ``total_count = 1e10`` costs
    nothing). Pairs with different counts, and a Binomial against another discrete
    family, are sums over a window holding all but ~e^-70 of P's mass; beyond
    :data:`MAX_SUPPORT` terms they raise instead of allocating. A pair whose supports
    rule it out (P has mass above Q's count, or where Q's probability is 0 or 1) is
    +inf. ``total_count`` must be concrete (not traced under ``jax.jit``) for the sums.
    """

    _rules: ClassVar[dict[str, str]] = {"total_count": "count", "probs": "unit"}

    def __init__(self, total_count: Any, probs: Any) -> None:
        self._store(total_count=total_count, probs=probs)


class StudentT(Family):
    """Student's t with ``df`` degrees of freedom, ``loc`` and ``scale``.

    Entropy ``(df+1)/2 [psi((df+1)/2) - psi(df/2)] + log(sqrt(df) B(df/2, 1/2) scale)``,
    computed as the normal's plus two positive terms (no difference of digammas).
    KL and cross-entropy have no closed form, except against a Normal: use
    :mod:`klkit.estimate`.
    """

    _rules: ClassVar[dict[str, str]] = {"df": "positive", "loc": "real", "scale": "positive"}

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> None:
        self._store(df=df, loc=loc, scale=scale)


class MultivariateNormal(Family):
    """``N(loc, covariance_matrix)`` in k dimensions, batched like torch's.

    Give exactly one of ``covariance_matrix`` (symmetric positive definite) and
    ``scale_tril`` (its lower Cholesky factor, positive diagonal). Everything goes
    through the Cholesky factor and triangular solves, never an explicit inverse:
    ``D = (||L2^-1 L1||_F^2 + ||L2^-1 (loc2 - loc1)||^2 - k) / 2 + log det L2 - log det L1``,
    summed as ``g2(L1_ii/L2_ii)`` terms and squares (each >= 0); two nearly equal
    covariances compare through their exact difference (see ``_kl_mvn``).

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> p = kl.MultivariateNormal(np.zeros(2), covariance_matrix=np.eye(2))
    >>> q = kl.MultivariateNormal(np.ones(2), covariance_matrix=2 * np.eye(2))
    >>> round(float(kl.kl_divergence(p, q)), 6)
    0.693147
    """

    _rules: ClassVar[dict[str, str]] = {"loc": "real", "scale_tril": "real"}
    _event: ClassVar[dict[str, int]] = {"loc": 1, "scale_tril": 2}
    _covariance: Any = None

    def __init__(self, loc: Any, covariance_matrix: Any = None, scale_tril: Any = None) -> None:
        if (covariance_matrix is None) == (scale_tril is None):
            msg = "`MultivariateNormal` takes exactly one of `covariance_matrix` and `scale_tril`."
            raise TypeError(msg)
        given = "covariance_matrix" if scale_tril is None else "scale_tril"
        matrix = covariance_matrix if scale_tril is None else scale_tril
        for name, x in (("loc", loc), (given, matrix)):
            if not _is_array(x):
                msg = f"`MultivariateNormal` parameter `{name}` must be an array."
                raise TypeError(msg)
        if loc.shape[-1:] != matrix.shape[-1:] or matrix.shape[-2:-1] != matrix.shape[-1:]:
            msg = (
                f"`MultivariateNormal` needs `loc` of shape (..., k) and `{given}` of shape "
                f"(..., k, k); got {tuple(loc.shape)} and {tuple(matrix.shape)}."
            )
            raise DistributionError(msg)
        factor, checks = _mvn_factor(matrix, given, loc)
        self._store(loc=loc, scale_tril=factor)
        # kept for the KL of nearly equal covariances, which their factors' rounding hides
        object.__setattr__(self, "_covariance", covariance_matrix)
        # Dask: these raise at compute(), before the NaN of a failed factor is named
        assert self._checks is not None
        self._checks.deferred[:0] = checks.deferred


class Affine(Family):
    """``loc + scale * X`` for ``X ~ base``: SciPy's ``loc``/``scale`` where no family has them.

    :func:`klkit._scipy_dists.from_scipy` makes these for ``expon``, ``gamma`` and
    ``lognorm`` with a ``loc``, ``beta`` with a ``loc`` or ``scale`` (a Beta on
    ``[loc, loc + scale]``), and ``bernoulli``, ``binom`` and ``poisson`` with a whole
    ``loc``; their parameters are NumPy's. Entropy is ``H(base) + log(scale)``. KL does
    not change when both laws go through one affine map, so a pair is taken to the frame
    of one side, where the other is often a family again (``expon(loc=1)`` against
    ``norm(0, 1)`` is ``Exponential(1)`` against ``Normal(-1, 1)``); otherwise the
    support rule and the shifted-exponential cross-entropy apply, and any other pair is
    a clear error pointing to ``klkit.estimate``.
    """

    _rules: ClassVar[dict[str, str]] = {"loc": "real", "scale": "positive"}

    base: Family

    def __init__(self, base: Family, loc: Any = 0.0, scale: Any = 1.0) -> None:
        # base is univariate; a discrete one gets a whole loc and scale 1 (from_scipy's job)
        object.__setattr__(self, "base", base)
        self._store(loc=loc, scale=scale)
        _ = self.batch_shape  # the base's batch must broadcast with loc and scale

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return _broadcast_batch(
            "Affine",
            {"base": self.base.batch_shape, "loc/scale": super().batch_shape},
            lead=f"`Affine` of {type(self.base).__name__}: the base",
        )

    def __repr__(self) -> str:
        loc, scale = self.params["loc"], self.params["scale"]
        return f"Affine({self.base!r}, loc={loc!r}, scale={scale!r})"


_DISCRETE = (Bernoulli, Binomial, Geometric, Poisson)


# --- helpers ----------------------------------------------------------------------------

MAX_SUPPORT = 10_000_000
"""The most terms a finite sum over a discrete support may take (points x batch).

Binomial pairs with different ``total_count``, and a Bernoulli or Binomial against
another discrete family, are summed over the points where P has mass (a window around
its mean holding all but ~e^-70 of it). Beyond this many terms (about 80 bytes each of
working memory) the sum fails fast with a :class:`DistributionError` instead of
allocating; raise it with ``klkit._families.MAX_SUPPORT = ...`` when the memory is
there. Entropies (Binomial, Poisson) never need it: they switch to asymptotic forms.
"""

_LOG_2PI = math.log(2 * math.pi)


def _log_max(x: Array, xp: Namespace) -> float:
    return math.log(float(xp.finfo(x.dtype).max))


def _quot(a: Array, b: Array, xp: Namespace) -> Array:
    """Return ``a / b`` for ``b > 0``: +-inf where it overflows, without a warning."""
    root = math.sqrt(float(xp.finfo(b.dtype).max))
    over = xp.abs(a) * (2.0 / root) > xp.minimum(b, 1.0) * (root / 2.0)
    q = xp.where(over, 0.0, a) / xp.where(over, 1.0, b)
    return xp.where(over, xp.where(a < 0, -xp.inf, xp.zeros_like(q) + xp.inf), q)


def _square(x: Array, xp: Namespace) -> Array:
    """``x * x``: +inf where it overflows, without a warning."""
    fits = xp.abs(x) < 0.5 * math.sqrt(float(xp.finfo(x.dtype).max))
    xs = xp.where(fits, x, 0.0)
    return xp.where(fits, xs * xs, xp.inf)


def _exp(x: Array, xp: Namespace) -> Array:
    """``exp(x)``: +inf where it overflows, without a warning."""
    fits = x < _log_max(x, xp) - 1.0
    return xp.where(fits, xp.exp(xp.where(fits, x, 0.0)), xp.inf)


def _expm1(x: Array, xp: Namespace) -> Array:
    """``expm1(x)``: +inf where it overflows, without a warning."""
    fits = x < _log_max(x, xp) - 1.0
    return xp.where(fits, xp.expm1(xp.where(fits, x, 0.0)), xp.inf)


def _log(x: Array, xp: Namespace) -> Array:
    """``log(x)`` for ``x >= 0``: -inf at 0 with no warning and no NaN gradient."""
    pos = x > 0
    return xp.where(pos, xp.log(xp.where(pos, x, 1.0)), -xp.inf)


def _h(t: Array, xp: Namespace) -> Array:
    """``(exp(-t) - 1 + t) / t^2`` for ``0 <= t < 0.1``, by its Taylor series."""
    acc = 1.0 / 3628800
    for k in (9, 8, 7, 6, 5, 4, 3, 2):
        acc = 1.0 / math.factorial(k) - t * acc
    return acc


def _g_product(a: Array, b: Array, log_r: Array, xp: Namespace) -> Array:
    """``g(v) = v - log1p(v)`` for ``1 + v = (1 + a)(1 + b)``, with ``log_r = log(1 + v)``.

    ``a`` and ``b`` are relative differences, exact to a few ulp; where both are below
    1/2, ``v = a + b + a b`` keeps every digit when ``v`` is tiny (nearly equal
    pairs), elsewhere ``v = expm1(log_r)``.
    """
    close = (xp.abs(a) < 0.5) & (xp.abs(b) < 0.5)
    ac, bc = xp.where(close, a, 0.0), xp.where(close, b, 0.0)
    v = xp.where(close, ac + bc + ac * bc, _expm1(log_r, xp))
    return g_parts(v, log_r, xp)


def _wg(w: Array, x: Array, log_r: Array, wx: Array, xp: Namespace) -> Array:
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


def _g_square(s1: Array, s2: Array, xp: Namespace, log_r: Array | None = None) -> Array:
    """``r^2 - 1 - 2 log r >= 0`` for ``r = s1/s2`` (twice the KL of two centred normals).

    ``r^2 - 1 = u (2 + u)`` with ``u = (s1 - s2)/s2`` near 1 (no cancellation), else
    from the ratio, and ``log r`` of the quotient (or of each scale when the quotient
    would overflow or underflow): ``N(0, 1e-12)`` against ``N(0, 1)`` is 27.131.
    """
    if log_r is None:
        log_r = log_ratio(s1, s2, xp)
    near = xp.abs(log_r) < 0.04
    u = (xp.where(near, s1, 1.0) - xp.where(near, s2, 1.0)) / xp.where(near, s2, 1.0)
    fits = (~near) & (2.0 * log_r < _log_max(log_r, xp) - 1.0)
    r = _exp(xp.where(fits, log_r, 0.0), xp)
    x = xp.where(near, u * (2.0 + u), xp.where(fits, r * r - 1.0, xp.inf))
    return g_parts(x, 2.0 * log_r, xp)


def _xlogy(x: Array, y: Array, xp: Namespace) -> Array:
    """``x log y`` for ``x, y >= 0`` with ``0 log y = 0`` (also for y = 0), gradient-safe."""
    pos = y > 0
    log_y = xp.log(xp.where(pos, y, 1.0))
    return xp.where(x == 0, 0.0, xp.where(pos, x * log_y, -xp.inf))


def _log_width(lo: Array, hi: Array, xp: Namespace) -> Array:
    """``log(hi - lo)`` for ``lo < hi``, also where ``hi - lo`` overflows."""
    half = 0.25 * float(xp.finfo(lo.dtype).max)
    fits = (xp.abs(lo) < half) & (xp.abs(hi) < half)
    w = xp.where(fits, hi, 1.0) - xp.where(fits, lo, 0.0)
    wide = 0.5 * xp.where(fits, 1.0, hi) - 0.5 * xp.where(fits, 0.0, lo)
    return xp.where(fits, xp.log(w), xp.log(wide) + math.log(2.0))


def _mvn_factor(matrix: Array, given: str, loc: Array) -> tuple[Array, Checks]:
    """Return the lower Cholesky factor of a covariance (or check a ``scale_tril``).

    The checks raise now, or, on Dask, are returned to raise when the result is computed.
    """
    xp = _compat.namespace(loc, matrix, names=["loc", given])
    checks = Checks(matrix, xp=xp, enabled=True)  # skipped only for JAX tracers
    if given == "covariance_matrix":
        _check_symmetric(matrix, xp, checks)
        if checks.mode == "defer":
            factor = _compat.dask_cholesky(matrix)  # NaN where not positive definite
        else:
            try:
                factor = xp.linalg.cholesky(matrix)
            except Exception as exc:  # NumPy's LinAlgError, torch's, ...: find the matrix
                raise _not_positive_definite(matrix) from exc
    else:
        factor = matrix
    if not checks.active:
        return factor, checks
    diag = xp.linalg.diagonal(factor)
    k = matrix.shape[-1]
    upper = xp.arange(k)[:, None] < xp.arange(k)[None, :]
    if given == "scale_tril":
        bad, shown = ~((diag > 0) & xp.isfinite(diag)), diag
        if checks.mode == "defer":  # one flag per distribution, as the result has
            bad, shown = xp.any(bad, axis=-1), xp.min(diag, axis=-1)
        checks.fail_where(
            bad,
            shown,
            "`MultivariateNormal` parameter `scale_tril` has diagonal entry {value}{where}; "
            "it must be > 0 and finite (a lower Cholesky factor).",
        )
        bad_upper = xp.any(xp.where(upper, factor != 0, False), axis=(-2, -1))
        checks.fail_where(
            bad_upper,
            xp.sum(xp.where(upper, xp.abs(factor), 0.0), axis=(-2, -1)),
            "`MultivariateNormal` parameter `scale_tril` has nonzero entries above the "
            "diagonal (sum of their sizes {value}){where}; pass a lower-triangular matrix.",
        )
    elif checks.mode == "defer":
        checks.fail_where(
            ~xp.all(diag > 0, axis=-1),
            xp.min(diag, axis=-1),
            "`MultivariateNormal` parameter `covariance_matrix` is not positive "
            "definite{where}; pass a symmetric positive definite matrix (add a small "
            "multiple of the identity if it is singular).",
        )
    elif not bool(xp.all((diag > 0) & xp.isfinite(diag))):  # JAX returns NaN, no error
        raise _not_positive_definite(matrix)
    return factor, checks


def _check_symmetric(matrix: Array, xp: Namespace, checks: Checks) -> None:
    size = xp.max(xp.abs(matrix), axis=(-2, -1))
    gap = xp.max(xp.abs(matrix - xp.matrix_transpose(matrix)), axis=(-2, -1))
    tol = 1000 * xp.finfo(matrix.dtype).eps if xp.isdtype(matrix.dtype, "real floating") else 0
    checks.fail_where(
        ~(gap <= tol * size),
        gap,
        "`MultivariateNormal` parameter `covariance_matrix` is not symmetric{where}: "
        "entries differ from their transposes by up to {value}; pass a symmetric matrix, "
        "e.g. (S + S.T) / 2.",
    )


def _not_positive_definite(matrix: Array) -> DistributionError:
    """Name the first batch index whose matrix is not positive definite."""
    m = _compat.to_numpy(matrix).astype(np.float64)
    flat = m.reshape(-1, *m.shape[-2:])
    smallest = [float(np.linalg.eigvalsh(x)[0]) if np.isfinite(x).all() else math.nan for x in flat]
    first = next((i for i, v in enumerate(smallest) if not v > 0), 0)
    index = np.unravel_index(first, m.shape[:-2]) if m.ndim > 2 else ()
    where = f" at batch index {tuple(int(i) for i in index)}" if index else ""
    msg = (
        f"`MultivariateNormal` parameter `covariance_matrix` is not positive definite{where}: "
        f"its smallest eigenvalue is {smallest[first]:.3g}; pass a symmetric positive "
        "definite matrix (add a small multiple of the identity if it is singular)."
    )
    return DistributionError(msg)


def _solve_tril(factor: Array, b: Array, xp: Namespace) -> Array:
    """``factor^-1 b`` for a lower-triangular ``factor`` (batched, broadcasting).

    torch and JAX have triangular solves; the array API has only ``linalg.solve``,
    which is right for a triangular matrix too (just not the fastest).
    """
    shape = _broadcast_batch("MultivariateNormal", {"p": factor.shape[:-2], "q": b.shape[:-2]})
    factor = xp.broadcast_to(factor, (*shape, *factor.shape[-2:]))
    b = xp.broadcast_to(b, (*shape, *b.shape[-2:]))
    module = type(factor).__module__
    if module.startswith("torch"):
        return sys.modules["torch"].linalg.solve_triangular(factor, b, upper=False)
    if module.startswith(("jax", "jaxlib")):
        return sys.modules["jax"].scipy.linalg.solve_triangular(factor, b, lower=True)
    if _compat.can_defer_checks(factor):  # Dask
        return _compat.dask_solve(factor, b)
    return xp.linalg.solve(factor, b)


def _bernoulli_logs(a: dict[str, Array], xp: Namespace) -> Array:
    """``[log(1 - p), log p]`` stacked on a last axis of length 2."""
    log0, log1 = _bernoulli_parts(a, xp)[:2]
    return xp.stack([log0, log1], axis=-1)


def _bernoulli_parts(a: dict[str, Array], xp: Namespace) -> tuple[Array, Array, Array, Array]:
    """``(log P(0), log P(1), P(0), P(1))`` from ``probs`` or ``logits``, each accurate.

    From logits: ``log P(1) = -softplus(-z)``, ``log P(0) = -softplus(z)``, so a
    confident logit keeps its tiny probability's digits.
    """
    if "logits" in a:
        z = a["logits"]
        zero = xp.zeros_like(z)
        log0, log1 = -xp.logaddexp(zero, z), -xp.logaddexp(zero, -z)
        return log0, log1, xp.exp(log0), xp.exp(log1)
    p = a["probs"]
    return _log1m(p, xp), _log(p, xp), 1.0 - p, p


def _entropy_bernoulli(a: dict[str, Array], xp: Namespace) -> Array:
    """``-(1 - p) log(1 - p) - p log p``, terms with probability 0 being 0."""
    log0, log1, p0, p1 = _bernoulli_parts(a, xp)
    return -(_plogp(p0, log0, xp) + _plogp(p1, log1, xp))


def _plogp(p: Array, log_p: Array, xp: Namespace) -> Array:
    pos = p > 0
    return xp.where(pos, p * xp.where(pos, log_p, 0.0), 0.0)


def _kl_bernoulli(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``sum_i P_i g(Q_i/P_i - 1)`` over the outcomes 1 and 0: every term >= 0.

    ``Q_i/P_i - 1`` comes from differences, exact to a few ulp: ``(q - p)/p`` and
    ``(p - q)/(1 - p)`` from probabilities, ``sigmoid(-b) expm1(b - a)`` and
    ``sigmoid(b) expm1(a - b)`` from logits, so nearly equal laws keep every digit.
    Mixed forms compare as probabilities. +inf where Q_i = 0 < P_i.
    """
    lp0, lp1, p0, p1 = _bernoulli_parts(a, xp)
    lq0, lq1, q0, q1 = _bernoulli_parts(b, xp)
    if "logits" in a and "logits" in b:
        za, zb = a["logits"], b["logits"]
        close = xp.abs(zb - za) < 1.0
        dz = xp.where(close, zb - za, 0.0)
        x1 = xp.exp(lq0) * xp.expm1(dz)  # Q1/P1 - 1 = sigmoid(-b) expm1(b - a)
        x0 = xp.exp(lq1) * xp.expm1(-dz)  # Q0/P0 - 1 = sigmoid(b) expm1(a - b)
    else:
        pp1 = p1 if "probs" in a else xp.exp(lp1)
        qq1 = q1 if "probs" in b else xp.exp(lq1)
        close = (pp1 > 0) & (pp1 < 1)
        pp = xp.where(close, pp1, 0.5)
        x1 = _quot(qq1 - pp, pp, xp)
        x0 = (pp - qq1) / (1.0 - pp)
    return _kl_term(p1, lp1, q1, lq1, x1, close, xp) + _kl_term(p0, lp0, q0, lq0, x0, close, xp)


def _kl_term(
    p: Array, log_p: Array, q: Array, log_q: Array, x: Array, close: Array, xp: Namespace
) -> Array:
    """``p log(p/q) - p + q = p g(q/p - 1)``, ``x = q/p - 1`` (used where ``close``).

    Where ``p = 0`` the term is ``q``; summed over all outcomes this is the KL exactly.
    """
    pos = p > 0
    finite_q = log_q > -xp.inf
    log_r = xp.where(pos & finite_q, log_q - xp.where(pos, log_p, 0.0), 0.0)
    x = xp.where(close & pos & finite_q, x, _expm1(log_r, xp))
    x = xp.where(pos & finite_q, x, 0.0)
    term = xp.where(pos, _wg(p, x, log_r, q - p, xp), q)
    return xp.where(pos & ~finite_q, xp.inf, term)


def _log1m(p: Array, xp: Namespace) -> Array:
    """``log(1 - p)`` for ``p`` in [0, 1]: -inf at ``p = 1`` with no NaN gradient."""
    below = p < 1
    return xp.where(below, xp.log1p(-xp.where(below, p, 0.0)), -xp.inf)


# --- the measures ---------------------------------------------------------------------

_E = Callable[[dict[str, Array], Namespace], Array]
_KL = Callable[[dict[str, Array], dict[str, Array], Namespace], Array]

_ASYMPTOTIC_FROM = 1e4
"""Poisson rates (and Binomial variances) above this use the asymptotic entropy."""


def _zeros_like_batch(a: dict[str, Array], xp: Namespace) -> Array:
    """Zeros with the broadcast batch shape of scalar parameters (for ``+ 0 * loc``)."""
    out = None
    for v in a.values():
        out = 0.0 * v if out is None else out + 0.0 * v
    assert out is not None
    return out


def _stacked(a: dict[str, Array], xp: Namespace) -> Array:
    """Beta's two concentrations as a Dirichlet's, on a last axis of length 2."""
    c1, c0 = xp.broadcast_arrays(a["concentration1"], a["concentration0"])
    return xp.stack([c1, c0], axis=-1)


def _entropy_gamma(a: dict[str, Array], xp: Namespace) -> Array:
    """``log(c/r) + E(c)``, ``E(c) = F(c) - (c - 1) F'(c)`` (see :mod:`klkit._special`).

    The textbook ``c - log r + lgamma(c) + (1 - c) psi(c)`` cancels terms of ~1e7 at
    ``c = 1e6``; E is ``-log(c)/2 + log(2 pi e)/2 - 1/(3c) + ...`` there.
    """
    c, r = a["concentration"], a["rate"]
    return log_ratio(c, r, xp) + lgamma_e(c, xp)


def _entropy_dirichlet_c(c: Array, xp: Namespace) -> Array:
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


def _entropy_beta(a: dict[str, Array], xp: Namespace) -> Array:
    return _entropy_dirichlet_c(_stacked(a, xp), xp)


def _entropy_dirichlet(a: dict[str, Array], xp: Namespace) -> Array:
    return _entropy_dirichlet_c(a["concentration"], xp)


def _entropy_poisson(a: dict[str, Array], xp: Namespace) -> Array:
    """``-sum p log p`` over a window around the mean holding every term above eps."""
    lam = a["rate"]
    log_eps = -math.log(float(xp.finfo(lam.dtype).eps))
    top = _ASYMPTOTIC_FROM
    if not _compat.is_jax_tracer(lam) and math.prod(lam.shape) > 0:
        top = min(top, float(xp.max(lam)))
    # Tails beyond mean +- (sqrt(2.2 log(1/eps) mean) + log(1/eps)) are below eps.
    half = math.ceil(math.sqrt(2.2 * log_eps * top) + log_eps)
    capped = xp.where(lam > _ASYMPTOTIC_FROM, _ASYMPTOTIC_FROM, lam)
    start = xp.floor(xp.where(capped > half, capped - half, 0.0))
    k = start[..., None] + xp.arange(2 * half + 1, dtype=lam.dtype, device=_compat.device_of(lam))
    log_p = _poisson_log_pmf(k, capped[..., None], xp)
    keep = log_p > -xp.inf  # rate 0: only k = 0 has mass
    safe = xp.where(keep, log_p, 0.0)
    series_sum = 0.0 - xp.sum(xp.where(keep, xp.exp(safe) * safe, 0.0), axis=-1)
    big = xp.where(lam > _ASYMPTOTIC_FROM, lam, _ASYMPTOTIC_FROM)
    inv = 1.0 / big
    asymptotic = 0.5 * xp.log(2 * math.pi * math.e * big) - inv * (
        1 / 12 + inv * (1 / 24 + inv * (19 / 360 + inv * 9 / 80))
    )
    return xp.where(lam > _ASYMPTOTIC_FROM, asymptotic, series_sum)


def _poisson_log_pmf(k: Array, lam: Array, xp: Namespace) -> Array:
    """``k log lam - lam - lgamma(k + 1)`` without its large terms cancelling.

    Near the mean of a large rate the three terms are ~1e5 and the result ~-5, so the
    direct formula keeps only ~11 digits. With ``z = k + 1 >= 10`` and Stirling,
    ``-(k + 1/2) log1p(v) + lam v - log(2 pi lam)/2 - c(z)`` with ``v = (z - lam)/lam``
    and ``c`` the series part of ``lgamma(z)``: every term stays small.
    """
    direct = _xlogy(k, lam, xp) - lam - lgamma(k + 1.0, xp)
    big = (k + 1.0 >= SERIES_FROM) & (lam > 0)
    z = xp.where(big, k + 1.0, SERIES_FROM)
    m = xp.where(big, lam, 1.0)
    v = (z - m) / m
    stirling = (-(z - 0.5) * xp.log1p(v) + m * v - 0.5 * xp.log(2 * math.pi * m)) - lgamma_series(
        z, xp
    )
    return xp.where(big, stirling, direct)


def _entropy_geometric(a: dict[str, Array], xp: Namespace) -> Array:
    """``H(Bernoulli(p)) / p = -log p - (1 - p) log(1 - p) / p``."""
    p = a["probs"]
    below = p < 1
    ps = xp.where(below, p, 0.5)
    tail = xp.where(below, (1.0 - ps) / ps * xp.log1p(-ps), 0.0)
    return -xp.log(p) - tail


def _stirling_err(z: Array, xp: Namespace) -> Array:
    """``lambda(z) = lgamma(z + 1) - (z + 1/2) log z + z - log(2 pi)/2`` for ``z >= 1``."""
    big = z >= SERIES_FROM
    zb = xp.where(big, z, SERIES_FROM)
    zs = xp.where(big, 1.0, z)
    small = lgamma(zs + 1.0, xp) - (zs + 0.5) * xp.log(zs) + zs - 0.5 * _LOG_2PI
    return xp.where(big, lgamma_series(zb, xp), small)


def _binomial_log_pmf(k: Array, n: Array, p: Array, xp: Namespace) -> Array:
    """``log P(K = k)`` for ``0 <= k <= n`` (else unused), to a few ulp at any ``n``.

    Loader's form: ``lambda(n) - lambda(k) - lambda(n - k) - log(2 pi k (n - k)/n)/2
    - bd0(k, n p) - bd0(n - k, n q)``, with ``lambda`` the Stirling remainder and
    ``bd0(x, m) = m phi(x/m - 1) >= 0``: no term of size ``n`` (the textbook
    ``lgamma(n + 1) - ...`` is ~2e11 at n = 1e10 and keeps 5 digits). ``k = 0`` and
    ``k = n`` are ``n log(1 - p)`` and ``n log p``.
    """
    q = 1.0 - p
    inner = (k > 0) & (k < n) & (p > 0) & (p < 1)
    ki, ni = xp.where(inner, k, 1.0), xp.where(inner, n, 2.0)
    pi, qi = xp.where(inner, p, 0.5), xp.where(inner, q, 0.5)
    m1, m0 = ni * pi, ni * qi
    rest = ni - ki
    bd0 = m1 * phi_parts((ki - m1) / m1, log_ratio(ki, m1, xp), xp) + m0 * phi_parts(
        (rest - m0) / m0, log_ratio(rest, m0, xp), xp
    )
    lam = _stirling_err(ni, xp) - _stirling_err(ki, xp) - _stirling_err(rest, xp)
    inside = lam - bd0 - 0.5 * (_LOG_2PI + xp.log(ki) + xp.log1p(-ki / ni))
    log_q, log_p = _log1m(p, xp), _log(p, xp)
    at_0 = xp.where(n == 0, 0.0, n * xp.where(n == 0, 0.0, log_q))
    at_n = xp.where(n == 0, 0.0, n * xp.where(n == 0, 0.0, log_p))
    edge = xp.where(k == 0, at_0, xp.where(k == n, at_n, -xp.inf))
    return xp.where(inner, inside, edge)


def _window(
    n: Array,
    p: Array,
    tail: float,
    xp: Namespace,
    *,
    what: str,
    counts: Array | None = None,
    var_cap: float = math.inf,
) -> Array:
    """Return the counts around ``n p`` holding all but ``~e^-tail`` of a Binomial's mass.

    ``mean +- (sqrt(2.2 tail var) + tail)``, cut to ``[0, n]``, on a new last axis
    (one length for the whole batch: the largest variance's, at most ``var_cap``, or
    ``max(counts)/4`` when ``p`` is traced under jit). ``counts`` (default ``n``) are
    the concrete counts that size the window. Raises when the batch would need more
    than :data:`MAX_SUPPORT` terms.
    """
    counts = n if counts is None else counts
    if _compat.is_jax_tracer(counts):
        msg = (
            "Binomial sums run over the counts where P has mass, so `total_count` must "
            "be concrete, not traced: compute this entropy or divergence outside "
            "jax.jit (a traced `probs` is fine, e.g. under jax.grad alone)."
        )
        raise TypeError(msg)
    n, p = xp.broadcast_arrays(n, p)
    size = math.prod(n.shape)
    top = float(xp.max(counts)) if math.prod(counts.shape) else 0.0
    if _compat.is_jax_tracer(n, p):
        vmax = top / 4
    else:
        vmax = float(xp.max(n * p * (1.0 - p))) if size else 0.0
    vmax = min(vmax, var_cap)
    half = math.ceil(math.sqrt(2.2 * tail * vmax) + tail)
    width = int(min(2 * half + 1, top + 1))
    terms = width * max(size, 1)
    if terms > MAX_SUPPORT:
        msg = (
            f"{what} sums over the counts where P has mass: {width} per distribution "
            f"(total_count up to {top:.6g}) x {max(size, 1)} in the batch = {terms} terms, "
            f"above klkit._families.MAX_SUPPORT = {MAX_SUPPORT}. Raise the limit "
            f"(`klkit._families.MAX_SUPPORT = {terms}`) if ~{80 * terms / 2**30:.2g} GiB "
            "of memory is there, or use klkit.estimate.kl_divergence."
        )
        raise DistributionError(msg)
    start = xp.floor(n * p) - half
    start = xp.where(start > n - (width - 1), n - (width - 1), start)
    start = xp.where(start > 0, start, 0.0)
    return start[..., None] + xp.arange(width, dtype=n.dtype, device=_compat.device_of(n))


def _entropy_binomial(a: dict[str, Array], xp: Namespace) -> Array:
    """Binomial entropy: a sum over its mass, or an asymptotic series for large variance.

    The sum ``-sum p log p`` runs over a window holding all but eps of the mass. When
    the variance ``v = n p q`` is above 1e4, the asymptotic expansion ``log(2 pi e v)/2
    - (1 - 4s)/(12 v) - (1 - 4s + 2s^2)/(24 v^2) - ...`` (``s = p q``; exact to
    rounding there, derived from Stirling's series and the binomial moments), so
    ``total_count = 1e10`` allocates nothing large.
    """
    n, p = xp.broadcast_arrays(a["total_count"], a["probs"])
    p = xp.where(p > 0.5, 1.0 - p, p)  # symmetric; keeps the window where counts are exact
    q = 1.0 - p
    var = n * p * q
    asym = var > _ASYMPTOTIC_FROM
    ns, ps = xp.where(asym, 0.0, n), xp.where(asym, 0.0, p)
    log_eps = -math.log(float(xp.finfo(p.dtype).eps))
    k = _window(
        ns,
        ps,
        log_eps,
        xp,
        what="The Binomial entropy",
        counts=a["total_count"],
        var_cap=_ASYMPTOTIC_FROM,
    )
    log_pmf = _binomial_log_pmf(k, ns[..., None], ps[..., None], xp)
    keep = (k <= ns[..., None]) & (log_pmf > -xp.inf)
    safe = xp.where(keep, log_pmf, 0.0)
    summed = 0.0 - xp.sum(xp.where(keep, xp.exp(safe) * safe, 0.0), axis=-1)
    s = xp.where(asym, p * q, 0.25)
    v = xp.where(asym, var, _ASYMPTOTIC_FROM)
    inv = 1.0 / v
    tail = inv * (
        -(1.0 - 4.0 * s) / 12.0
        + inv
        * (
            -(1.0 + s * (-4.0 + 2.0 * s)) / 24.0
            + inv
            * (
                -(19.0 + s * (-102.0 + s * (120.0 - 4.0 * s))) / 360.0
                + inv * (-27.0 + s * (184.0 + s * (-352.0 + s * (160.0 + 2.0 * s)))) / 240.0
            )
        )
    )
    return xp.where(asym, 0.5 * xp.log(2 * math.pi * math.e * v) + tail, summed)


def _student_parts(df: Array, xp: Namespace) -> tuple[Array, Array]:
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
    dmu = stirling_shift(_DIGAMMA_SERIES, 2, ab, t, xp)
    dlam = stirling_shift(_LGAMMA_SERIES, 1, ab, t, xp)
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


def _entropy_student(a: dict[str, Array], xp: Namespace) -> Array:
    """``log(scale) + log(2 pi e)/2 + D(df)`` (see :func:`_student_parts`)."""
    d, _ = _student_parts(a["df"], xp)
    return _HALF_LOG_2PI_E + xp.log(a["scale"]) + d + 0.0 * a["loc"]


def _entropy_mvn(a: dict[str, Array], xp: Namespace) -> Array:
    factor = a["scale_tril"]
    k = factor.shape[-1]
    log_det = xp.sum(xp.log(xp.linalg.diagonal(factor)), axis=-1)
    return k * _HALF_LOG_2PI_E + log_det + xp.sum(0.0 * a["loc"], axis=-1)


_ENTROPY: dict[type, _E] = {
    Normal: lambda a, xp: _HALF_LOG_2PI_E + xp.log(a["scale"]) + 0.0 * a["loc"],
    LogNormal: lambda a, xp: _HALF_LOG_2PI_E + xp.log(a["scale"]) + a["loc"],
    Laplace: lambda a, xp: 1.0 + math.log(2.0) + xp.log(a["scale"]) + 0.0 * a["loc"],
    Exponential: lambda a, xp: 1.0 - xp.log(a["rate"]),
    Uniform: lambda a, xp: _log_width(a["low"], a["high"], xp),
    Gamma: _entropy_gamma,
    Beta: _entropy_beta,
    Dirichlet: _entropy_dirichlet,
    Poisson: _entropy_poisson,
    Geometric: _entropy_geometric,
    Binomial: _entropy_binomial,
    StudentT: _entropy_student,
    MultivariateNormal: _entropy_mvn,
    Bernoulli: _entropy_bernoulli,
}


def _entropy(d: Family, a: dict[str, Array], xp: Namespace) -> Array:
    return _ENTROPY[type(d)](a, xp)


def _kl_normal_parts(m1: Array, s1: Array, m2: Array, s2: Array, xp: Namespace) -> Array:
    """``g((s1/s2)^2 - 1)/2 + ((m1 - m2)/s2)^2/2`` (see :func:`_g_square`)."""
    return 0.5 * _g_square(s1, s2, xp) + 0.5 * _square(_quot(m1 - m2, s2, xp), xp)


def _kl_normal(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    return _kl_normal_parts(a["loc"], a["scale"], b["loc"], b["scale"], xp)


def _kl_laplace(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``g(r - 1) + r h(t)``: ``r = s1/s2``, ``t = |loc1 - loc2|/s1``, ``h(t) = e^-t - 1 + t``.

    ``g`` from the ratio (``Laplace(0, 1e-6)`` against ``Laplace(0.5, 2)`` is 13.7587 in
    float32 too) and ``r h(t)`` by its series below t = 0.1, else as
    ``|loc1 - loc2|/s2 - r (1 - e^-t)``.
    """
    s1, s2 = a["scale"], b["scale"]
    ad = xp.abs(a["loc"] - b["loc"])
    t = _quot(ad, s1, xp)
    r = _quot(s1, s2, xp)
    finite = r < xp.inf
    rf = xp.where(finite, r, 0.0)
    small = t < 0.1
    ts = xp.where(small, t, 0.0)
    near = rf * ts * ts * _h(ts, xp)
    far = _quot(ad, s2, xp) + rf * xp.expm1(-xp.where(small, 1.0, t))
    value = g_ratio(s1, s2, xp) + xp.where(small, near, far)
    return xp.where(finite, value, xp.inf)


def _kl_exponential(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``g(r2/r1 - 1) = r2/r1 - 1 - log(r2/r1)``, for every ratio."""
    return g_ratio(b["rate"], a["rate"], xp)


def _kl_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``log(w2/w1)`` where Q's interval holds P's, as ``log1p(extra/w1)`` when nearly equal."""
    inside = (b["low"] <= a["low"]) & (a["high"] <= b["high"])
    lo1, hi1 = xp.where(inside, a["low"], 0.0), xp.where(inside, a["high"], 1.0)
    lo2, hi2 = xp.where(inside, b["low"], 0.0), xp.where(inside, b["high"], 1.0)
    extra = (hi2 - hi1) + (lo1 - lo2)  # both >= 0: nothing cancels
    w1 = hi1 - lo1
    near = extra < w1
    log1p = xp.log1p(xp.where(near, extra, 0.0) / xp.where(near, w1, 1.0))
    far = _log_width(lo2, hi2, xp) - _log_width(lo1, hi1, xp)
    return xp.where(inside, xp.where(near, log1p, far), xp.inf)


def _kl_infinite(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """P puts mass where Q has none (a support on the whole line against a bounded one)."""
    return _zeros_like_batch(a, xp) + xp.inf


def _kl_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``B_F(c2, c1) + c2 g(v)``, ``1 + v = (c1 r2)/(c2 r1)`` (the ratio of the means).

    Textbook: ``(c1 - c2) psi(c1) - lgamma(c1) + lgamma(c2) + c2 log(r1/r2) +
    c1 (r2 - r1)/r1``. With ``lgamma = F + c log c - c`` it is the Bregman divergence of
    the reduced log-gamma F (>= 0, see :func:`klkit._special.bregman_f`) plus ``c2``
    times ``g`` of the mean ratio (>= 0): two non-negative terms, so nearly equal pairs
    (KL ~ 1e-18) and concentrations of 1e6 in float32 keep their digits.
    """
    c1, c2 = a["concentration"], b["concentration"]
    r1, r2 = a["rate"], b["rate"]
    dc = c2 - c1
    v = _cross(c1, c2, dc, r1, r2, r2 - r1, r1, xp)  # (c1 r2)/(c2 r1) - 1
    log_v = log_ratio(c1, c2, xp) + log_ratio(r2, r1, xp)
    return bregman_f(c2, c1, xp, dc) + _wg(c2, v, log_v, _rate_term(c1, c2, r1, r2, xp), xp)


def _rate_term(c1: Array, c2: Array, r1: Array, r2: Array, xp: Namespace) -> Array:
    """``c2 v = c1 r2 / r1 - c2`` (+inf where it overflows)."""
    return c1 * ratio(r2, r1, log_ratio(r2, r1, xp), xp) - c2


def _cross_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``H(P, Q) = F(c2) + c2 g(v) - (c2 - 1) F'(c1) + log(c1/r1)`` (v as in the KL).

    The textbook ``-c2 log r2 + lgamma(c2) - (c2 - 1)(psi(c1) - log r1) + r2 c1/r1``
    with ``lgamma = F + c log c - c``; computed as ``H(P) + KL`` it would lose
    ``H(P) ~ -1/c1`` (-1e6 at c1 = 1e-6) where Q is flat (``c2 = 1``).
    """
    c1, c2 = a["concentration"], b["concentration"]
    r1, r2 = a["rate"], b["rate"]
    v = _cross(c1, c2, c2 - c1, r1, r2, r2 - r1, r1, xp)
    log_v = log_ratio(c1, c2, xp) + log_ratio(r2, r1, xp)
    return (
        lgamma_f(c2, xp)
        + _wg(c2, v, log_v, _rate_term(c1, c2, r1, r2, xp), xp)
        - xp.where(c2 == 1.0, 0.0, (c2 - 1.0) * lgamma_f1(c1, xp))  # (F' is -inf at 1e-320)
        + log_ratio(c1, r1, xp)
    )


def _cross_dirichlet_c(c1: Array, c2: Array, xp: Namespace) -> Array:
    """``sum F(b_i) - F(t) + t KL(q || p) + sum log p_i - sum (b_i - 1)(F'(a_i) - F'(s))``.

    The textbook ``log B(b) - sum (b_i - 1)(psi(a_i) - psi(s))`` rearranged like the
    entropy (P = Dirichlet(a), Q = Dirichlet(b), p = a/s, q = b/t).
    """
    c1, c2 = xp.broadcast_arrays(c1, c2)
    d = c2 - c1
    s1, s2 = xp.sum(c1, axis=-1), xp.sum(c2, axis=-1)
    o1, o2, od = _others(c1, xp), _others(c2, xp), _others(d, xp)
    x = _cross(c1, c2, d, o1, o2, od, s1[..., None], xp)
    log_v = log_ratio(c1, c2, xp) + log_ratio(s2, s1, xp)[..., None]
    terms = (
        lgamma_f(c2, xp)
        + _wg(c2, x, log_v, _mean_term(c1, c2, s1, s2, xp), xp)
        + log_ratio(c1, s1[..., None], xp)
        - (c2 - 1.0) * (lgamma_f1(c1, xp) - lgamma_f1(s1, xp)[..., None])
    )
    return xp.sum(terms, axis=-1) - lgamma_f(s2, xp)


def _mean_term(c1: Array, c2: Array, s1: Array, s2: Array, xp: Namespace) -> Array:
    """``b_i x_i = a_i t / s - b_i`` for the mean part of the Dirichlet KL."""
    return c1 * ratio(s2, s1, log_ratio(s2, s1, xp), xp)[..., None] - c2


def _cross_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    return _cross_dirichlet_c(_stacked(a, xp), _stacked(b, xp), xp)


def _cross_dirichlet(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    _kl_dirichlet(a, b, xp)  # the same shape check
    return _cross_dirichlet_c(a["concentration"], b["concentration"], xp)


def _kl_dirichlet_c(c1: Array, c2: Array, xp: Namespace) -> Array:
    """``sum_i B_F(b_i, a_i) - B_F(t, s) + sum_i b_i g(p_i/q_i - 1)`` (P = a, Q = b).

    The KL of exponential families is the Bregman divergence of the log-partition
    ``sum lgamma(a_i) - lgamma(s)``; with ``lgamma = F + c log c - c`` its ``c log c``
    part is ``t KL(q || p)`` of the normalised means ``p = a/s``, ``q = b/t``, written
    as ``sum b_i g(p_i/q_i - 1)``, every term >= 0. ``p_i/q_i - 1`` comes from the
    relative differences ``(a_i - b_i)/b_i`` and ``sum(b - a)/s``, so nearly equal
    laws keep every digit and a law against itself is exactly 0.
    """
    c1, c2 = xp.broadcast_arrays(c1, c2)
    d = c2 - c1  # exact where nearly equal
    s1, s2 = xp.sum(c1, axis=-1), xp.sum(c2, axis=-1)
    # p_i/q_i - 1 = (a_i sum_k!=i d_k - d_i sum_k!=i a_k) / (b_i s): the sums leave out
    # a_i, so a dominant concentration's own change cancels exactly, not through s.
    o1, o2, od = _others(c1, xp), _others(c2, xp), _others(d, xp)
    x = _cross(c1, c2, d, o1, o2, od, s1[..., None], xp)
    log_v = log_ratio(c1, c2, xp) + log_ratio(s2, s1, xp)[..., None]
    mean_part = xp.sum(_wg(c2, x, log_v, _mean_term(c1, c2, s1, s2, xp), xp), axis=-1)
    # A concentration holding >= 4/5 of the total on both sides: its B_F and the sum's
    # agree to ~others/a; their difference comes from bregman_f_shift instead.
    dom = (o1 <= 0.25 * c1) & (o2 <= 0.25 * c2)
    any_dom = xp.any(dom, axis=-1)

    def pick(v: Array, default: float) -> Array:
        return xp.where(any_dom, xp.sum(xp.where(dom, v, 0.0), axis=-1), default)

    shift = bregman_f_shift(pick(c1, 1.0), pick(d, 0.0), pick(o1, 0.0), pick(od, 0.0), xp)
    rest = xp.sum(xp.where(dom, 0.0, bregman_f(c2, c1, xp, d)), axis=-1)
    total = bregman_f(
        xp.where(any_dom, 1.0, s2),
        xp.where(any_dom, 1.0, s1),
        xp,
        xp.where(any_dom, 0.0, xp.sum(d, axis=-1)),
    )
    f_part = rest + xp.where(any_dom, shift, -total)
    return f_part + mean_part


def _cross(
    a1: Array, a2: Array, da: Array, b1: Array, b2: Array, db: Array, den: Array, xp: Namespace
) -> Array:
    """``(a1 b2 - a2 b1) / (a2 den)`` given the exact changes ``da = a2 - a1``, ``db``.

    Where both changes are under half: ``(a1/a2)(db/den) - (da/a2)(b1/den)``, two small
    terms, so nearly equal pairs keep every digit; elsewhere ``(a1/a2)(b2/den) -
    b1/den`` (the first form would cancel its ``a1 b1`` terms). Only quotients, so
    parameters up to the float range do not overflow.
    """
    near = (xp.abs(da) <= 0.5 * a1) & (xp.abs(db) <= 0.5 * b1)
    ra = _quot(a1, a2, xp)
    close = ra * _quot(db, den, xp) - _quot(da, a2, xp) * _quot(b1, den, xp)
    return xp.where(near, close, ra * _quot(b2, den, xp) - _quot(b1, den, xp))


def _others(c: Array, xp: Namespace) -> Array:
    """``sum_k!=i c_k`` for each i (last axis), from prefix and suffix sums: no cancellation."""
    before = xp.cumulative_sum(c, axis=-1, include_initial=True)[..., :-1]
    flipped = xp.flip(c, axis=-1)
    after = xp.flip(xp.cumulative_sum(flipped, axis=-1, include_initial=True)[..., :-1], axis=-1)
    return before + after


def _kl_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    return _kl_dirichlet_c(_stacked(a, xp), _stacked(b, xp), xp)


def _kl_dirichlet(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    c1, c2 = a["concentration"], b["concentration"]
    if c1.shape[-1] != c2.shape[-1]:
        msg = (
            f"kl_divergence(Dirichlet, Dirichlet) needs the same number of outcomes; got "
            f"{c1.shape[-1]} and {c2.shape[-1]} (the last axis of `concentration`)."
        )
        raise DistributionError(msg)
    return _kl_dirichlet_c(c1, c2, xp)


def _kl_poisson(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``l1 g(l2/l1 - 1)`` = ``l1 log(l1/l2) - l1 + l2``; ``l2`` when ``l1 = 0``."""
    l1, l2 = a["rate"], b["rate"]
    ok = (l1 > 0) & (l2 > 0)
    s1 = xp.where(ok, l1, 1.0)
    t1 = xp.where(ok, l2, 1.0)
    log_r = log_ratio(t1, s1, xp)
    near = xp.abs(t1 - s1) < NEAR * s1
    x = xp.where(near, (t1 - s1) / s1, _expm1(xp.where(near, 0.0, log_r), xp))
    value = _wg(s1, x, log_r, t1 - s1, xp)
    return xp.where(ok, value, xp.where(l1 == 0, l2, xp.inf))


def _kl_binomial(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``n KL(Bernoulli)`` for equal counts, else the finite sum over P's support.

    +inf by the support rule when P has mass above ``n2`` (or where Q's probability is
    0 or 1 and P's mass is elsewhere), read from the parameters, not from underflowing
    probabilities.
    """
    n1, n2 = a["total_count"], b["total_count"]
    kl1 = _kl_bernoulli({"probs": a["probs"]}, {"probs": b["probs"]}, xp)
    same = xp.where(n1 == 0, 0.0, xp.where(n1 == 0, 1.0, n1) * kl1)
    if not _compat.is_traced(n1) and not _compat.is_traced(n2) and bool(xp.all(n1 == n2)):
        return same
    summed = _kl_discrete(Binomial, a, Binomial, b, xp)
    return xp.where(n1 == n2, same, summed)


def _kl_discrete(
    p: Family | type, a: dict[str, Array], q: Family | type, b: dict[str, Array], xp: Namespace
) -> Array:
    """``sum_k P(k) log(P(k)/Q(k))`` over P's finite support (Bernoulli or Binomial P).

    +inf where P's support reaches outside Q's (from the parameters); the sum runs over
    a window holding all but ~e^-70 of P's mass.
    """
    name = q.__name__ if isinstance(q, type) else type(q).__name__
    k = _finite_grid(p, a, xp, what=f"kl_divergence(Binomial, {name})")
    log_p = _log_pmf(p, a, k, xp)
    log_q = _log_pmf(q, b, k, xp)
    lo_p, hi_p = _support(p, a, xp)
    lo_q, hi_q = _support(q, b, xp)
    outside = (lo_p < lo_q) | (hi_p > hi_q)
    return xp.where(outside, xp.inf, _sum_over(log_p, log_q, xp))


def _finite_grid(p: Family | type, a: dict[str, Array], xp: Namespace, *, what: str) -> Array:
    """Return the points where a Bernoulli or Binomial has mass (all but ~e^-70 of it)."""
    x = next(iter(a.values()))
    if (p if isinstance(p, type) else type(p)) is Bernoulli:
        return xp.arange(2, dtype=x.dtype, device=_compat.device_of(x))
    tail = 2.0 * -math.log(float(xp.finfo(x.dtype).eps))
    return _window(a["total_count"], a["probs"], tail, xp, what=what)


def _mean(d: type, a: dict[str, Array], xp: Namespace) -> Array:
    """Return the mean of a continuous univariate family."""
    if d in (Normal, Laplace, StudentT):
        return a["loc"] + _zeros_like_batch(a, xp)
    return _normal_projection(d, a, xp)[0]


def _sum_over(log_p: Array, log_q: Array, xp: Namespace) -> Array:
    """``sum_k P(k) (log P(k) - log Q(k))`` over the last axis; terms with P(k) = 0 are 0.

    A term with ``P(k) > 0 = Q(k)`` is +inf, even when P(k) underflows to 0.
    """
    keep = log_p > -xp.inf
    missing = keep & (log_q == -xp.inf)
    safe = xp.where(keep, log_p, 0.0)
    safe_q = xp.where(missing | ~keep, 0.0, log_q)
    terms = xp.where(keep & ~missing, xp.exp(safe) * (safe - safe_q), 0.0)
    return xp.where(xp.any(missing, axis=-1), xp.inf, xp.sum(terms, axis=-1))


def _log_pmf(d: Family | type, a: dict[str, Array], k: Array, xp: Namespace) -> Array:
    """``log P(X = k)`` of a discrete family, ``k`` on a new last axis; -inf off the support."""
    kind = d if isinstance(d, type) else type(d)
    if kind is Bernoulli:
        log0, log1 = _bernoulli_parts(a, xp)[:2]
        log0, log1 = log0[..., None], log1[..., None]
        return xp.where(k == 0, log0, xp.where(k == 1, log1, -xp.inf))
    start = float(d.shift) if isinstance(d, Geometric) else 0.0
    top = a["total_count"][..., None] if "total_count" in a else math.inf
    ok = (k >= start) & (k <= top)
    j = xp.where(ok, k - start, 0.0)
    if kind is Poisson:
        rate = a["rate"][..., None]
        out = xp.where(rate == 0, xp.where(j == 0, 0.0, -xp.inf), _poisson_log_pmf(j, rate, xp))
    elif kind is Geometric:
        p = a["probs"][..., None]
        log_1mp = _log1m(p, xp)
        out = xp.log(p) + xp.where(j == 0, 0.0, j * xp.where(j == 0, 0.0, log_1mp))
    else:
        n = a["total_count"][..., None]
        out = _binomial_log_pmf(j, n + 0.0 * j, a["probs"][..., None] + 0.0 * j, xp)
    return xp.where(ok, out, -xp.inf)


def _kl_mvn(
    a: dict[str, Array],
    b: dict[str, Array],
    xp: Namespace,
    covariances: tuple[Array, Array] | None = None,
) -> Array:
    """``(sum_i g2(L1_ii/L2_ii) + sum_i>j N_ij^2 + |L2^-1 (loc2 - loc1)|^2) / 2``.

    ``M = L2^-1 L1`` is lower triangular with diagonal ``L1_ii/L2_ii``, so the textbook
    ``||M||_F^2 - k - 2 log det M`` is ``sum_i (m_ii^2 - 1 - 2 log m_ii)`` (each >= 0,
    by :func:`_g_square`) plus the squares below the diagonal, which are those of
    ``N = L2^-1 (L1 - L2)``: nothing cancels, and a law against itself is exactly 0.
    When both laws were given by covariances that are nearly equal (``||A||_F < 0.1``
    for ``A = L2^-1 (S1 - S2) L2^-T``), their Cholesky factors' rounding would swamp the
    KL; there ``(tr A - log det(I + A))/2 = sum_k>=2 (-1)^k tr(A^k) / (2k)`` from the
    exact difference ``S1 - S2``.
    """
    l1, l2 = a["scale_tril"], b["scale_tril"]
    k = l1.shape[-1]
    if l2.shape[-1] != k:
        msg = (
            f"kl_divergence(MultivariateNormal, MultivariateNormal) needs one dimension; "
            f"got {k} and {l2.shape[-1]}."
        )
        raise DistributionError(msg)
    d1, d2 = xp.linalg.diagonal(l1), xp.linalg.diagonal(l2)
    n = _solve_tril(l2, l1 - l2, xp)
    off = xp.arange(k)[:, None] != xp.arange(k)[None, :]  # (only the lower part is nonzero)
    shape_part = xp.sum(_g_square(d1, d2, xp), axis=-1) + xp.sum(
        xp.where(off, n * n, 0.0), axis=(-2, -1)
    )
    if covariances is not None:
        delta = covariances[0] - covariances[1]
        x = _solve_tril(l2, delta, xp)
        m = _solve_tril(l2, xp.matrix_transpose(x), xp)
        m = 0.5 * (m + xp.matrix_transpose(m))
        near = xp.sum(m * m, axis=(-2, -1)) < 0.01
        if _compat.is_traced(near) or bool(xp.any(near)):
            m = xp.where(near[..., None, None], m, 0.0)
            power, total = m, xp.zeros_like(near, dtype=m.dtype)
            for j in range(2, 20):  # ||A|| < 0.1: 0.1^18 / 18 of the first term is left
                trace = xp.sum(power * m, axis=(-2, -1))  # tr(A^j), A symmetric
                total = total + ((-1) ** j / j) * trace
                power = xp.matmul(power, m)
            shape_part = xp.where(near, total, shape_part)
    z = _solve_tril(l2, (b["loc"] - a["loc"])[..., None], xp)
    return 0.5 * (shape_part + xp.sum(z * z, axis=(-2, -1)))


def _as_gamma(a: dict[str, Array]) -> dict[str, Array]:
    """Exponential(rate) is Gamma(1, rate)."""
    rate = a["rate"]
    return {"concentration": 0.0 * rate + 1.0, "rate": rate}


def _cross_minus_entropy(cross: _KL, entropy_p: _E) -> _KL:
    """KL of a cross-family pair from its closed-form cross-entropy: H(P, Q) - H(P)."""
    return lambda a, b, xp: cross(a, b, xp) - entropy_p(a, xp)


def _jensen_uniform(h: Array, xp: Namespace) -> Array:
    """``log E[X] - E[log X]`` for X uniform on ``m (1 +- h)``, ``0 < h <= 1``.

    ``sum_j>=1 h^2j / ((2j + 1) 2j)`` (all terms > 0) below h = 1/2, else
    ``1 - [(1 + h) log1p(h) - (1 - h) log1p(-h)] / (2h)``.
    """
    small = h < 0.5
    hs = xp.where(small, h, 0.0)
    w = hs * hs
    acc = xp.zeros_like(hs)
    for j in range(30, 0, -1):
        acc = (acc + 1.0 / ((2 * j + 1) * (2 * j))) * w
    hb = xp.where(small, 1.0, h)
    below = hb < 1.0
    lower = xp.where(below, (1.0 - hb) * xp.log1p(-xp.where(below, hb, 0.0)), 0.0)
    closed = 1.0 - ((1.0 + hb) * xp.log1p(hb) - lower) / (2.0 * hb)
    return xp.where(small, acc, closed)


def _kl_to_gamma(
    log_mean: Array, jensen: Array, rest: Array, b: dict[str, Array], xp: Namespace
) -> Array:
    """``-E_P[log Gamma(x; c, r)] + rest - log E[X]`` for a law P on (0, inf).

    From P's ``log E[X]`` and Jensen gap ``J = log E[X] - E[log X] >= 0``:
    ``c g(rho - 1) + (c - 1) J + rest + F(c)``, ``rho = r E[X] / c``; ``rest`` is
    ``log E[X]`` for the cross-entropy and ``log E[X] - H(P)`` for the KL. The textbook
    ``-c log r + lgamma(c) - (c - 1) E log X + r E X`` has terms of size ``c log c``.
    """
    c, r = b["concentration"], b["rate"]
    log_rho = log_ratio(r, c, xp) + log_mean
    rm = _exp(xp.log(r) + log_mean, xp)  # r E[X] = c rho
    return (
        _wg(c, _expm1(log_rho, xp), log_rho, rm - c, xp)
        + (c - 1.0) * jensen
        + rest
        + lgamma_f(c, xp)
    )


def _cross_beta_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``c g(rho - 1) + (c - 1) J + log E[X] + F(c)`` (``E log X = log E[X] - J``)."""
    x, y = a["concentration1"], a["concentration0"]
    log_mean = _log_share(x, y, xp)
    jensen = lgamma_f1_diff(x, y, xp)  # F'(s) - F'(x) >= 0
    return _kl_to_gamma(log_mean, jensen, log_mean, b, xp)


def _cross_beta_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    inside = (b["low"] <= 0) & (b["high"] >= 1)
    lo, hi = xp.where(inside, b["low"], 0.0), xp.where(inside, b["high"], 1.0)
    return xp.where(inside, _log_width(lo, hi, xp), xp.inf) + _zeros_like_batch(a, xp)


def _kl_uniform_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """Uniform on ``m (1 +- h)``: ``E log X - H = log(m/w) - J = -log(2h) - J``."""
    lo, hi = a["low"], a["high"]
    inside = lo >= 0
    lo_s, hi_s = xp.where(inside, lo, 0.0), xp.where(inside, hi, 1.0)
    total = hi_s + lo_s  # 2m
    w = hi_s - lo_s
    jensen = _jensen_uniform(w / total, xp)
    value = _kl_to_gamma(
        xp.log(total) - math.log(2.0), jensen, log_ratio(total, 2.0 * w, xp), b, xp
    )
    return xp.where(inside, value, xp.inf)


def _kl_uniform_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """KL of a Uniform against a Beta, with no term of size ``x log x``.

    ``s KL(Bern(x/s) || Bern(mean)) + (x - 1) J_U + (y - 1) J_V + log(m_U m_V / w)
    + F(x) + F(y) - F(s)`` for Beta(x, y), ``s = x + y``, U uniform on [lo, hi] in [0, 1]
    and V = 1 - U (``J`` their Jensen gaps); the textbook ``log B(x, y) - (x - 1) E log U
    - (y - 1) E log V - log w`` has terms of size ``x log x``.
    """
    lo, hi = a["low"], a["high"]
    inside = (lo >= 0) & (hi <= 1)
    lo_s, hi_s = xp.where(inside, lo, 0.25), xp.where(inside, hi, 0.75)
    x, y = b["concentration1"], b["concentration0"]
    s = x + y
    w = hi_s - lo_s
    tot_u, tot_v = hi_s + lo_s, (1.0 - hi_s) + (1.0 - lo_s)  # 2 m_U, 2 m_V
    tot_v = xp.where(tot_v > 0, tot_v, w)  # hi = lo = 1 cannot happen (lo < hi)
    bern = x * g_ratio(0.5 * tot_u * s, x, xp) + y * g_ratio(0.5 * tot_v * s, y, xp)
    value = (
        bern
        + (x - 1.0) * _jensen_uniform(w / tot_u, xp)
        + (y - 1.0) * _jensen_uniform(w / tot_v, xp)
        + (xp.log(tot_u) + xp.log(tot_v) - 2.0 * math.log(2.0) - xp.log(w))
        + lgamma_f(x, xp)
        + lgamma_f(y, xp)
        - lgamma_f(s, xp)
    )
    return xp.where(inside, value, xp.inf)


def _kl_beta_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    inside = (b["low"] <= 0) & (b["high"] >= 1)
    lo, hi = xp.where(inside, b["low"], 0.0), xp.where(inside, b["high"], 1.0)
    value = _log_width(lo, hi, xp) - _entropy_beta(a, xp)
    return xp.where(inside, value, xp.inf)


def _log_share(x: Array, y: Array, xp: Namespace) -> Array:
    """``log(x / (x + y))`` as ``-log1p(y/x)``: ``x + y`` may round ``y`` away."""
    q = _quot(y, x, xp)
    big = q == xp.inf
    return xp.where(big, xp.log(x) - xp.log(x + y), -xp.log1p(xp.where(big, 0.0, q)))


def _kl_beta_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """Beta(x, y): ``E X = x/s``, Jensen gap ``F'(s) - F'(x)`` (>= 0, F' increasing)."""
    x, y = a["concentration1"], a["concentration0"]
    log_mean = _log_share(x, y, xp)
    jensen = lgamma_f1_diff(x, y, xp)
    return _kl_to_gamma(log_mean, jensen, log_mean - _entropy_beta(a, xp), b, xp)


def _kl_lognormal_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """KL of a LogNormal against a Gamma: ``c g(rho - 1) + c s^2/2 + F(c) - log(2 pi e s^2)/2``.

    From c = 10 the last three are ``g(c s^2 - 1)/2 + lambda(c)`` (both >= 0), with
    ``rho = r e^(mu + s^2/2) / c``.
    """
    mu, sigma = a["loc"], a["scale"]
    c, r = b["concentration"], b["rate"]
    u = sigma * sigma
    log_rho = log_ratio(r, c, xp) + mu + 0.5 * u
    rm = _exp(xp.log(r) + mu + 0.5 * u, xp)  # r E[X] = c rho
    rate_part = _wg(c, _expm1(log_rho, xp), log_rho, rm - c, xp)
    big = c >= SERIES_FROM
    cb = xp.where(big, c, SERIES_FROM)
    large = 0.5 * g_ratio(cb * u, xp.ones_like(cb * u), xp) + lgamma_series(cb, xp)
    cs = xp.where(big, 1.0, c)
    small = 0.5 * cs * u + lgamma_f(cs, xp) - _HALF_LOG_2PI_E - xp.log(sigma)
    return rate_part + xp.where(big, large, small)


def _log_expm1(u: Array, xp: Namespace) -> Array:
    """``log(expm1(u))`` for ``u > 0``, without overflow."""
    small = u < 1.0
    us = xp.where(small, u, 1.0)
    ub = xp.where(small, 1.0, u)
    return xp.where(small, xp.log(xp.expm1(us)), ub + xp.log(-xp.expm1(-ub)))


def _normal_projection(d: type, a: dict[str, Array], xp: Namespace) -> tuple[Array, Array, Array]:
    """``(mean, log sd, J)`` of a continuous law, ``J = log(2 pi e var)/2 - H(P) >= 0``.

    ``J`` is how far P is from the normal with its mean and variance; KL against any
    normal Q is ``J + KL(N(mean, var) || Q)`` (Q's log-density is quadratic, so only
    P's first two moments meet it). Each J is written without the cancellation of the
    two entropies, which are nearly equal for a Gamma, Beta or Student's t near normal.
    """
    if d is Exponential:
        log_sd = -xp.log(a["rate"])
        return _exp(log_sd, xp), log_sd, 0.0 * log_sd + (_HALF_LOG_2PI_E - 1.0)
    if d is Laplace:
        log_sd = xp.log(a["scale"]) + 0.5 * math.log(2.0)
        return a["loc"] + 0.0 * log_sd, log_sd, 0.0 * log_sd + 0.5 * (math.log(math.pi) - 1.0)
    if d is Uniform:
        lo, hi = a["low"], a["high"]
        log_sd = _log_width(lo, hi, xp) - 0.5 * math.log(12.0)
        return 0.5 * lo + 0.5 * hi, log_sd, 0.0 * log_sd + 0.5 * math.log(math.pi * math.e / 6)
    if d is Gamma:
        c, r = a["concentration"], a["rate"]
        big = c >= SERIES_FROM
        cb, cs = xp.where(big, c, SERIES_FROM), xp.where(big, 1.0, c)
        j_big = 1.0 / (3.0 * cb) - stirling_e_tail(cb, xp)
        j_small = _HALF_LOG_2PI_E - 0.5 * xp.log(cs) - lgamma_e(cs, xp)
        log_sd = 0.5 * xp.log(c) - xp.log(r)
        return _exp(log_ratio(c, r, xp), xp), log_sd, xp.where(big, j_big, j_small)
    if d is Beta:
        return _beta_projection(a, xp)
    if d is LogNormal:
        mu, sigma = a["loc"], a["scale"]
        u = _square(sigma, xp)
        wide = u == xp.inf  # scale > 1e154: moments beyond the float range
        u = xp.where(wide, 1.0, u)
        small = u < 1.0
        us = xp.where(small, u, 0.0)
        acc = xp.zeros_like(us)
        for k in range(20, 0, -1):
            acc = (acc + 1.0 / math.factorial(k + 1)) * us  # expm1(u)/u - 1
        log_ratio_u = xp.where(
            small,
            xp.log1p(acc),
            _log_expm1(xp.where(small, 1.0, u), xp) - xp.log(xp.where(small, 1.0, u)),
        )
        j = xp.where(wide, xp.inf, 0.5 * log_ratio_u + 0.5 * u)
        # log sd = mu + u/2 + log(expm1(u))/2, with log(expm1(u)) = 2 log s + log1p(acc)
        # below u = 1 (u = s^2 may underflow)
        half_log = xp.where(
            small,
            xp.log(sigma) + 0.5 * xp.log1p(acc),
            0.5 * _log_expm1(xp.where(small, 1.0, u), xp),
        )
        log_sd = xp.where(wide, xp.inf, mu + 0.5 * u + half_log)
        return xp.where(wide, xp.inf, _exp(mu + 0.5 * u, xp)), log_sd, j
    assert d is StudentT
    df = a["df"]
    _, j = _student_parts(df, xp)
    finite = df > 2.0
    dfs = xp.where(finite, df, 4.0)
    log_sd = xp.log(a["scale"]) + 0.5 * (xp.log(dfs) - xp.log(dfs - 2.0))
    return a["loc"] + 0.0 * df, xp.where(finite, log_sd, xp.inf), j


def _beta_projection(a: dict[str, Array], xp: Namespace) -> tuple[Array, Array, Array]:
    """Mean, log sd and distance J to its normal of a Beta(x, y).

    From ``min(x, y) = 10``, ``J = (x - y)^2 / (3 x y s) + g(1/s)/2 - mu(s) - e~(x)
    - e~(y) + e~(s)`` (``e~`` the O(c^-2) Stirling tail): the first-order terms
    ``1/(3x) + 1/(3y) - 4/(3s)``, which cancel for x = y, are combined exactly.
    """
    x, y = a["concentration1"], a["concentration0"]
    s = x + y
    log_sd = 0.5 * (xp.log(x) + xp.log(y) - xp.log1p(s)) - xp.log(s)
    big = xp.minimum(x, y) >= SERIES_FROM
    xb, yb = xp.where(big, x, SERIES_FROM), xp.where(big, y, SERIES_FROM)
    sb = xb + yb
    e = stirling_e_tail
    j_big = (
        (xb - yb) * (xb - yb) / (3.0 * xb * yb * sb)
        + 0.5 * g(1.0 / sb, xp)
        - digamma_series(sb, xp)
        - e(xb, xp)
        - e(yb, xp)
        + e(sb, xp)
    )
    xs, ys = xp.where(big, 1.0, x), xp.where(big, 1.0, y)
    ss = xs + ys
    log_sd_s = 0.5 * (xp.log(xs) + xp.log(ys) - xp.log1p(ss)) - xp.log(ss)
    j_small = _HALF_LOG_2PI_E + log_sd_s - _entropy_dirichlet_c(xp.stack([xs, ys], axis=-1), xp)
    x_, s_ = xp.broadcast_arrays(x, s)
    return x_ / s_, log_sd, xp.where(big, j_big, j_small)


def _kl_to_normal(d: type) -> _KL:
    """``J(P) + KL(N(mean_P, var_P) || Q)`` (see :func:`_normal_projection`)."""

    def kl(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        mean, log_sd, j = _normal_projection(d, a, xp)
        s = b["scale"]
        log_r = log_sd - xp.log(s)
        sd = _exp(log_sd, xp)
        return (
            j + 0.5 * _g_square(sd, s, xp, log_r) + 0.5 * _square(_quot(mean - b["loc"], s, xp), xp)
        )

    return kl


def _cross_to_normal(d: type) -> _KL:
    """``log(2 pi e var_P)/2 + KL(N(mean_P, var_P) || Q)``: ``H(P) + J`` without H(P)."""

    def cross(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        mean, log_sd, _ = _normal_projection(d, a, xp)
        s = b["scale"]
        log_r = log_sd - xp.log(s)
        sd = _exp(log_sd, xp)
        kl = 0.5 * _g_square(sd, s, xp, log_r) + 0.5 * _square(_quot(mean - b["loc"], s, xp), xp)
        return _HALF_LOG_2PI_E + log_sd + kl

    return cross


def _kl_normal_laplace(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``log(2 b / s) + E|X - m| / b - log(2 pi e)/2``, E|X - m| the folded normal's mean."""
    s, d, bs = a["scale"], a["loc"] - b["loc"], b["scale"]
    z = _quot(d, s, xp)
    inner = xp.abs(z) < 40.0
    zc = xp.where(inner, z, 0.0)
    spread = xp.where(
        inner, _quot(s, bs, xp) * math.sqrt(2 / math.pi) * xp.exp(-0.5 * zc * zc), 0.0
    )
    shift = _quot(d, bs, xp) * erf(xp.where(inner, zc, xp.sign(z) * 40.0) / math.sqrt(2.0), xp)
    return log_ratio(2.0 * bs, s, xp) + spread + shift - _HALF_LOG_2PI_E


def _kl_bernoulli_poisson(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``sum_k P(k) log(P(k)/Q(k))`` over k in {0, 1}: ``rate - p log(rate) - H(P)``."""
    p = _bernoulli_parts(a, xp)[3]
    return b["rate"] - _xlogy(p, b["rate"], xp) - _entropy_bernoulli(a, xp)


def _kl_poisson_bounded(count: Callable[[dict[str, Array]], Array]) -> _KL:
    """Poisson against Bernoulli/Binomial: +inf unless the rate is 0 (all mass at 0)."""

    def kl(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        n = count(b) + 0.0 * a["rate"]
        log_1mp = _bernoulli_logs(b, xp)[..., 0]
        log_q0 = n * xp.where(n == 0, 0.0, log_1mp)  # log P_Q(0) = n log(1 - p)
        return xp.where(a["rate"] == 0, 0.0 - log_q0, xp.inf)

    return kl


def _gamma_q(kl: _KL) -> _KL:
    return lambda a, b, xp: kl(a, _as_gamma(b), xp)


_PAIRS: dict[tuple[type, type], _KL] = {
    (Normal, Normal): _kl_normal,
    (LogNormal, LogNormal): _kl_normal,
    (Laplace, Laplace): _kl_laplace,
    (Exponential, Exponential): _kl_exponential,
    (Uniform, Uniform): _kl_uniform,
    (Gamma, Gamma): _kl_gamma,
    (Beta, Beta): _kl_beta,
    (Dirichlet, Dirichlet): _kl_dirichlet,
    (Poisson, Poisson): _kl_poisson,
    (Binomial, Binomial): _kl_binomial,
    (Bernoulli, Bernoulli): _kl_bernoulli,
    (MultivariateNormal, MultivariateNormal): _kl_mvn,
    (Exponential, Gamma): lambda a, b, xp: _kl_gamma(_as_gamma(a), b, xp),
    (Gamma, Exponential): lambda a, b, xp: _kl_gamma(a, _as_gamma(b), xp),
    (Uniform, Normal): _kl_to_normal(Uniform),
    (Uniform, Exponential): _gamma_q(_kl_uniform_gamma),
    (Uniform, Gamma): _kl_uniform_gamma,
    (Uniform, Beta): _kl_uniform_beta,
    (Beta, Uniform): _kl_beta_uniform,
    (Beta, Gamma): _kl_beta_gamma,
    (Beta, Exponential): _gamma_q(_kl_beta_gamma),
    (LogNormal, Gamma): _kl_lognormal_gamma,
    (LogNormal, Exponential): _gamma_q(_kl_lognormal_gamma),
    (Normal, Laplace): _kl_normal_laplace,
    (Bernoulli, Poisson): _kl_bernoulli_poisson,
    (Poisson, Bernoulli): _kl_poisson_bounded(lambda b: 1.0),
    (Poisson, Binomial): _kl_poisson_bounded(lambda b: b["total_count"]),
}
for _m in (Beta, Exponential, Gamma, Laplace, LogNormal, StudentT):  # moments against a Normal
    _PAIRS[_m, Normal] = _kl_to_normal(_m)
_CONTINUOUS = (
    Normal,
    LogNormal,
    Laplace,
    Exponential,
    Uniform,
    Gamma,
    Beta,
    StudentT,
)
# Whole-line supports against half-line or bounded ones, half-line against bounded,
# and (either way) a discrete law against a continuous one: P has mass where Q has none.
for _p, _q in [
    (Normal, Uniform),
    (Laplace, Uniform),
    (StudentT, Uniform),
    (Exponential, Uniform),
    (Gamma, Uniform),
    (LogNormal, Uniform),
    (Gamma, Beta),
    (Exponential, Beta),
    (LogNormal, Beta),
    *((w, h) for w in (Normal, Laplace, StudentT) for h in (Exponential, Gamma, LogNormal, Beta)),
    *((x, y) for x in _DISCRETE for y in _CONTINUOUS),
    *((y, x) for x in _DISCRETE for y in _CONTINUOUS),
]:
    _PAIRS[_p, _q] = _kl_infinite


# Cross-entropies written directly where H(P) + KL(P || Q) would cancel: H(P) of a
# Gamma, Beta or Dirichlet is ~ -1/c for small concentrations, against a flat Q.
_CROSS: dict[tuple[type, type], _KL] = {
    (Gamma, Gamma): _cross_gamma,
    (Exponential, Gamma): lambda a, b, xp: _cross_gamma(_as_gamma(a), b, xp),
    (Gamma, Exponential): lambda a, b, xp: _cross_gamma(a, _as_gamma(b), xp),
    (Beta, Beta): _cross_beta,
    (Dirichlet, Dirichlet): _cross_dirichlet,
    (Beta, Uniform): _cross_beta_uniform,
    (Beta, Gamma): _cross_beta_gamma,
    (Beta, Exponential): _gamma_q(_cross_beta_gamma),
}
for _m in (Beta, Exponential, Gamma, Laplace, LogNormal, StudentT):
    _CROSS[_m, Normal] = _cross_to_normal(_m)


def _cross_entropy(
    p: Family, q: Family, a: dict[str, Array], b: dict[str, Array], xp: Namespace
) -> Array:
    """``H(P, Q)``: a direct formula where one is listed, else ``H(P) + KL(P || Q)``."""
    rule = _CROSS.get((type(p), type(q)))
    if rule is not None:
        return rule(a, b, xp)
    kl = _kl(p, q, a, b, xp)
    return xp.where(kl == xp.inf, kl, _entropy(p, a, xp) + kl)  # Q misses P's mass: +inf


def _kl(p: Family, q: Family, a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
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
    if isinstance(p, Geometric) and isinstance(q, Geometric):
        return _kl_geometric(p.shift - q.shift, a["probs"], b["probs"], xp)
    if isinstance(p, MultivariateNormal) and isinstance(q, MultivariateNormal):
        covs = (p._covariance, q._covariance)
        if covs[0] is not None and covs[1] is not None:
            dtype = a["scale_tril"].dtype
            pair = tuple(
                xp.astype(c, dtype) if _is_array(c) else xp.asarray(c, dtype=dtype) for c in covs
            )
            return _kl_mvn(a, b, xp, pair)
    rule = _PAIRS.get((type(p), type(q)))
    if rule is None and isinstance(p, Bernoulli | Binomial) and isinstance(q, _DISCRETE):
        return _kl_discrete(p, a, q, b, xp)
    if rule is None and isinstance(p, Geometric) and isinstance(q, Bernoulli | Binomial):
        # the support rule, except that Geometric(1) is all at its first point
        at_start = -_log_pmf(q, b, xp.asarray(float(p.shift), dtype=a["probs"].dtype), xp)
        return xp.where(a["probs"] == 1, at_start[..., 0], math.inf)
    if rule is None:
        msg = (
            f"kl_divergence({type(p).__name__}, {type(q).__name__}) has no closed form. "
            "Every same-family pair has one except StudentT's, and so do these mixed "
            f"pairs: {_mixed_pairs()}. For this pair use klkit.estimate.kl_divergence, "
            "which integrates numerically or by Monte Carlo and reports its error."
        )
        raise DistributionError(msg)
    return rule(a, b, xp)


def _mixed_pairs() -> str:
    return ", ".join(
        f"{x.__name__}-{y.__name__}"
        for (x, y), f in _PAIRS.items()
        if x is not y and f is not _kl_infinite
    )


def _kl_geometric(shift: int, p: Array, q: Array, xp: Namespace) -> Array:
    """KL of geometric laws whose supports start at ``s1`` and ``s2``, ``shift = s1 - s2``.

    Equal supports: ``KL(Bernoulli(p) || Bernoulli(q)) / p``. ``s1 < s2``: P puts mass
    below Q's support, +inf. ``s1 > s2``: ``-(shift + (1-p)/p) log(1-q) - log q - H(P)``.
    """
    if shift == 0:
        return _kl_bernoulli({"probs": p}, {"probs": q}, xp) / p
    if shift < 0:
        return 0.0 * p + 0.0 * q + xp.inf
    trials = shift + (1.0 - p) / p
    cross = -trials * xp.log1p(-q) - xp.log(q)
    return cross - _entropy_geometric({"probs": p}, xp)


# --- shifted and scaled laws (SciPy's loc/scale) ---------------------------------------


def _kind(d: Family) -> str:
    """Name a family for messages; an Affine one says how it is moved."""
    if not isinstance(d, Affine):
        return type(d).__name__
    return _moved_name(d.base, d.params["loc"], d.params["scale"])


def _moved_name(base: Family, loc: Any, scale: Any) -> str:
    moves = [
        f"{n}={v}"
        for n, v, unmoved in (("loc", loc, 0.0), ("scale", scale, 1.0))
        if not np.all(np.asarray(v) == unmoved)
    ]
    return f"{type(base).__name__} moved by {', '.join(moves)}"


def _parts(d: Family) -> tuple[Family, Any, Any]:
    if isinstance(d, Affine):
        return d.base, d.params["loc"], d.params["scale"]
    return d, 0.0, 1.0


def _number(x: Any) -> Any:
    a = np.asarray(x, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def _absorb(d: Family, shift: Any, scale: Any) -> Family | None:
    """Return the member of ``d``'s family that is ``shift + scale * X``, ``X ~ d``, or None.

    ``shift`` and ``scale`` are Python floats or NumPy arrays (then every side is NumPy);
    ``d``'s own parameters are used as they are, so they keep their library and gradient.
    """
    c, r = _number(shift), _number(scale)
    unshifted = bool(np.all(np.asarray(c) == 0))
    if unshifted and np.all(np.asarray(r) == 1):
        return d
    a = d.params
    if isinstance(d, Normal | Laplace):
        return type(d)(c + r * a["loc"], r * a["scale"])
    if isinstance(d, StudentT):
        return StudentT(a["df"], c + r * a["loc"], r * a["scale"])
    if isinstance(d, Uniform):
        return Uniform(c + r * a["low"], c + r * a["high"])
    if unshifted and isinstance(d, Exponential):
        return Exponential(a["rate"] / r)
    if unshifted and isinstance(d, Gamma):
        return Gamma(a["concentration"], a["rate"] / r)
    if unshifted and isinstance(d, LogNormal):
        return LogNormal(a["loc"] + _number(np.log(r)), a["scale"])
    if isinstance(d, Geometric) and isinstance(c, float) and r == 1.0 and c == math.floor(c):
        return Geometric._shifted(a["probs"], d.shift + int(c))
    return None


def _support(d: Family | type, a: dict[str, Array], xp: Namespace) -> tuple[Any, Any]:
    """Return the lowest and highest points where ``d`` puts mass (density or probability > 0).

    ``d`` is a family or a family class (a class: a Geometric on 0, 1, 2, ...).
    """
    kind = d if isinstance(d, type) else type(d)
    zero = _zeros_like_batch(a, xp)
    if issubclass(kind, Normal | Laplace | StudentT):
        return -math.inf, math.inf
    if issubclass(kind, Exponential | Gamma | LogNormal):
        return 0.0, math.inf
    if issubclass(kind, Beta):
        return 0.0, 1.0
    if issubclass(kind, Uniform):
        return a["low"], a["high"]
    if issubclass(kind, Poisson):
        return 0.0, xp.where(a["rate"] == 0, zero, math.inf)
    if issubclass(kind, Geometric):
        start = float(d.shift) if isinstance(d, Geometric) else 0.0
        return start, xp.where(a["probs"] == 1, zero + start, math.inf)
    if "logits" in a:  # finite log-odds put mass on both 0 and 1
        return 0.0, 1.0
    n = a.get("total_count", 1.0) + zero
    return xp.where(a["probs"] == 1, n, zero), xp.where(a["probs"] == 0, zero, n)


def _affine_entropy(d: Family) -> Any:
    base, loc, scale = _parts(d)
    return family_measure("entropy", [base], base=None) + np.log(scale) + 0.0 * np.asarray(loc)


def _affine_kl(p: Family, q: Family) -> Any:
    """KL with a shifted or scaled side, in the frame of P (or of Q) where it is a family."""
    bp, lp, sp = _parts(p)
    bq, lq, sq = _parts(q)
    c, r = _number((np.asarray(lq) - lp) / sp), _number(np.asarray(sq) / sp)  # Q is c + r Y
    pair = [bp, _absorb(bq, c, r)]
    if pair[1] is None:
        pair = [_absorb(bp, (np.asarray(lp) - lq) / sq, np.asarray(sp) / sq), bq]
    if pair[0] is not None:
        try:
            return family_measure("kl_divergence", pair, base=None)
        except DistributionError as e:
            msg = f"kl_divergence({_kind(p)}, {_kind(q)}) is, in the frame of one side, {e}"
            raise DistributionError(msg) from None
    if isinstance(bp, _DISCRETE) != isinstance(bq, _DISCRETE):  # the support rule
        xp, (a, b) = _resolve([bp, bq])
        zeros = _zeros_like_batch(a, xp) + _zeros_like_batch(b, xp) + 0.0 * xp.asarray(c)
        return _compat.numpy_scalar(zeros + math.inf, xp)
    if isinstance(bp, _DISCRETE) == isinstance(bq, _DISCRETE):
        xp, (a, b) = _resolve([bp, bq])
        zeros = _zeros_like_batch(a, xp) + _zeros_like_batch(b, xp) + 0.0 * xp.asarray(c)
        lo_p, hi_p = _support(bp, a, xp)
        lo_q, hi_q = _support(bq, b, xp)
        outside = (zeros + lo_p < c + r * lo_q) | (zeros + hi_p > c + r * hi_q)
        if not _compat.is_traced(outside) and bool(xp.all(outside)):  # the support rule
            return _compat.numpy_scalar(zeros + math.inf, xp)
        if isinstance(bp, Bernoulli | Binomial):  # P's support is finite: sum over it
            k = _finite_grid(bp, a, xp, what=f"kl_divergence({_kind(p)}, {_kind(q)})")
            log_q = _log_pmf(bq, b, k - xp.asarray(c)[..., None], xp)
            return _compat.numpy_scalar(_sum_over(_log_pmf(bp, a, k, xp), log_q, xp) + zeros, xp)
        if isinstance(bq, Exponential) and not isinstance(bp, _DISCRETE):
            # -E_P[log f_Q] for Q's density (rate/r) exp(-(rate/r)(x - c)) on x >= c
            mean = _mean(type(bp), a, xp)
            rate = b["rate"] / r
            kl = -xp.log(rate) + rate * (mean - c) - _entropy(bp, a, xp)
            return _compat.numpy_scalar(xp.where(outside, math.inf, kl + zeros), xp)
    msg = (
        f"kl_divergence({_kind(p)}, {_kind(q)}) has no closed form: in P's frame Q is a "
        f"{_moved_name(bq, c, r)}, which no formula covers. Use "
        "klkit.estimate.kl_divergence, which takes SciPy distributions with their loc and "
        "scale and integrates numerically."
    )
    raise DistributionError(msg)


def is_scipy_frozen(x: object) -> bool:
    """Tell whether ``x`` is a frozen ``scipy.stats`` distribution (without importing SciPy)."""
    cls = type(x)
    return cls.__module__.startswith("scipy.stats") and cls.__name__.endswith("frozen")


def is_distribution(x: object) -> bool:
    """Tell whether ``x`` is a family or a frozen SciPy distribution (every measure asks)."""
    return isinstance(x, Family) or is_scipy_frozen(x)


def family_measure(name: str, values: list[Any], *, base: object) -> Any:
    """``entropy``, ``cross_entropy`` or ``kl_divergence`` of families, in closed form.

    Frozen SciPy distributions are converted to families first.
    """
    from klkit._scipy_dists import from_scipy  # noqa: PLC0415  (it imports this module)

    log_base = check_base(base)
    values = [from_scipy(v) if is_scipy_frozen(v) else v for v in values]
    if not all(isinstance(v, Family) for v in values):
        kinds = ", ".join(type(v).__name__ for v in values)
        msg = (
            f"{name} got {kinds}: a distribution family can only be compared with another "
            "family (e.g. `kl.Normal(0.0, 1.0)`), not with an array of probabilities."
        )
        raise TypeError(msg)
    if any(isinstance(v, Affine) for v in values) and name not in ("js_divergence", "js_distance"):
        # one array library for every side (or the core's TypeError naming them)
        _resolve(values)
        _resolve([_parts(v)[0] for v in values])
        _check_pair_batches(name, values)
        if name == "entropy":
            moved = _affine_entropy(values[0])
        else:
            moved = _affine_kl(values[0], values[1])
            if name == "cross_entropy":
                moved = moved + _affine_entropy(values[0])
        return moved if log_base is None else moved / log_base
    if name in ("js_divergence", "js_distance"):
        if all(isinstance(v, Bernoulli) for v in values):  # two outcomes: exact
            from klkit import _measures  # noqa: PLC0415  (_measures imports this module)

            xp0, arrays0 = _resolve(values)
            probs = [xp0.exp(_bernoulli_logs(a, xp0)) for a in arrays0]
            return getattr(_measures, name)(*probs, base=base, validate=False)
        kinds = ", ".join(_kind(v) for v in values)
        msg = (
            f"{name}({kinds}) has no closed form (only two Bernoullis have one). Use "
            f"klkit.estimate.js_divergence({kinds}), which integrates numerically or by "
            "Monte Carlo and reports its error."
        )
        raise DistributionError(msg)
    xp, arrays = _resolve(values)
    _check_pair_batches(name, values)
    out = _dask_blocks(name, values, arrays)
    if out is None:
        out = _closed_form(name, values, arrays, xp)
    for v in values:
        checks = v._checks
        if checks is not None:
            out = checks.attach(out)
    if log_base is not None:
        out = out / log_base
    return _compat.numpy_scalar(out, xp)


def _closed_form(
    name: str, values: list[Family], arrays: list[dict[str, Array]], xp: Namespace
) -> Array:
    if name == "entropy":
        return _entropy(values[0], arrays[0], xp)
    if name == "kl_divergence":
        return _kl(values[0], values[1], arrays[0], arrays[1], xp)
    # cross_entropy: H(P, Q) = H(P) + D(P || Q), or its direct formula
    return _cross_entropy(values[0], values[1], arrays[0], arrays[1], xp)


def _dask_blocks(name: str, values: list[Family], arrays: list[dict[str, Array]]) -> Any:
    """Run the closed form on Dask parameters, one NumPy task per block; None if not Dask.

    Speed reason: written in ``xp.*`` on Dask, the series and shifted recurrences (each
    a few hundred elementwise steps) become a graph of thousands of tasks per chunk,
    seconds to schedule for a handful of numbers. The formulas are elementwise over
    the batch, so each output block is computed from the matching parameter blocks
    (an event axis, Dirichlet's outcomes, whole within each block). The multivariate
    normal keeps its own lazy path (blocks of whole matrices, see ``_mvn_factor``).
    """
    raw = [v for a in arrays for v in a.values()]
    if not raw or not _compat.can_defer_checks(raw[0]):
        return None
    if any(isinstance(v, MultivariateNormal) for v in values):
        return None
    import dask.array as da  # noqa: PLC0415  (only reached with Dask input)

    if name != "entropy" and all(isinstance(v, Dirichlet) for v in values):
        _kl_dirichlet(arrays[0], arrays[1], _compat.numpy_namespace())  # same K, or raise
    shape = _broadcast_batch(
        "batch",
        {
            f"{i}.{n}": _batch_of(v, n, x)
            for i, (v, a) in enumerate(zip(values, arrays, strict=True))
            for n, x in a.items()
        },
    )
    out_ind = tuple(range(len(shape)))
    args: list[Any] = []
    names: list[tuple[int, str]] = []
    for i, (v, a) in enumerate(zip(values, arrays, strict=True)):
        for n, x in a.items():
            event = tuple(x.shape[len(_batch_of(v, n, x)) :])
            args += [
                da.broadcast_to(x, shape + event),  # type: ignore[no-untyped-call]
                out_ind + tuple(range(len(shape), len(shape) + len(event))),
            ]
            names.append((i, n))
    np_xp = _compat.numpy_namespace()

    def block(*blocks: Any) -> Any:
        parts: list[dict[str, Array]] = [{} for _ in values]
        for (i, n), b in zip(names, blocks, strict=True):
            parts[i][n] = np_xp.asarray(b)
        return np.asarray(_closed_form(name, values, parts, np_xp))

    dtype = raw[0].dtype
    return da.blockwise(  # type: ignore[no-untyped-call]
        block, out_ind, *args, dtype=dtype, concatenate=True
    )


def _batch_of(v: Family, name: str, x: Array) -> tuple[int, ...]:
    event = type(v)._event.get(name, 0)
    return tuple(x.shape[: len(x.shape) - event])


def _check_pair_batches(name: str, values: list[Family]) -> None:
    if len(values) == 2:
        first, second = (_kind(v) for v in values)
        _broadcast_batch(
            first,
            {"P": values[0].batch_shape, "Q": values[1].batch_shape},
            lead=f"{name}({first}, {second}): P",
        )


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
