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
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from klkit import _compat, _special
from klkit._fast import NEAR, series
from klkit._inputs import LogProbs, _float_dtype
from klkit._typing import Array, Namespace
from klkit._validation import Checks, DistributionError, check_base

__all__ = [
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

_HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


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
    ``a - log(rate) + lgamma(a) + (1 - a) psi(a)``.

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

    Entropy and pairs with different ``total_count`` are exact finite sums; equal
    counts use ``n * KL(Bernoulli)``. ``total_count`` must be concrete (not traced
    under ``jax.jit``): the sums have ``max(total_count) + 1`` terms.
    """

    _rules: ClassVar[dict[str, str]] = {"total_count": "count", "probs": "unit"}

    def __init__(self, total_count: Any, probs: Any) -> None:
        self._store(total_count=total_count, probs=probs)


class StudentT(Family):
    """Student's t with ``df`` degrees of freedom, ``loc`` and ``scale``.

    Entropy ``(df+1)/2 [psi((df+1)/2) - psi(df/2)] + log(sqrt(df) B(df/2, 1/2) scale)``.
    KL and cross-entropy have no closed form: use :mod:`klkit.estimate`.
    """

    _rules: ClassVar[dict[str, str]] = {"df": "positive", "loc": "real", "scale": "positive"}

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> None:
        self._store(df=df, loc=loc, scale=scale)


class MultivariateNormal(Family):
    """``N(loc, covariance_matrix)`` in k dimensions, batched like torch's.

    Give exactly one of ``covariance_matrix`` (symmetric positive definite) and
    ``scale_tril`` (its lower Cholesky factor, positive diagonal). Everything goes
    through the Cholesky factor and triangular solves, never an explicit inverse:
    ``D = (||L2^-1 L1||_F^2 + ||L2^-1 (loc2 - loc1)||^2 - k) / 2 + log det L2 - log det L1``.

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


def _xlogy(x: Array, y: Array, xp: Namespace) -> Array:
    """``x log y`` for ``x, y >= 0`` with ``0 log y = 0`` (also for y = 0), gradient-safe."""
    pos = y > 0
    log_y = xp.log(xp.where(pos, y, 1.0))
    return xp.where(x == 0, 0.0, xp.where(pos, x * log_y, -xp.inf))


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
    if "logits" in a:
        z = a["logits"]
        zero = xp.zeros_like(z)
        return xp.stack([-xp.logaddexp(zero, z), -xp.logaddexp(zero, -z)], axis=-1)
    p = a["probs"]
    pos = p > 0
    log_p = xp.where(pos, xp.log(xp.where(pos, p, 1.0)), -xp.inf)
    log_1mp = _log1m(p, xp)
    return xp.stack([log_1mp, log_p], axis=-1)


# --- the measures ---------------------------------------------------------------------

_E = Callable[[dict[str, Array], Namespace], Array]
_KL = Callable[[dict[str, Array], dict[str, Array], Namespace], Array]

_ASYMPTOTIC_FROM = 1e4
"""Poisson rates above this use the asymptotic expansion of the entropy."""


def _zeros_like_batch(a: dict[str, Array], xp: Namespace) -> Array:
    """Zeros with the broadcast batch shape of scalar parameters (for ``+ 0 * loc``)."""
    out = None
    for v in a.values():
        out = 0.0 * v if out is None else out + 0.0 * v
    assert out is not None
    return out


def _entropy_gamma(a: dict[str, Array], xp: Namespace) -> Array:
    c, r = a["concentration"], a["rate"]
    return c - xp.log(r) + _special.lgamma(c, xp) + (1.0 - c) * _special.digamma(c, xp)


def _entropy_beta(a: dict[str, Array], xp: Namespace) -> Array:
    x, y = a["concentration1"], a["concentration0"]
    dg = _special.digamma
    return (
        _special.lbeta(x, y, xp)
        - (x - 1.0) * dg(x, xp)
        - (y - 1.0) * dg(y, xp)
        + (x + y - 2.0) * dg(x + y, xp)
    )


def _entropy_dirichlet(a: dict[str, Array], xp: Namespace) -> Array:
    c = a["concentration"]
    total = xp.sum(c, axis=-1)
    k = c.shape[-1]
    return (
        xp.sum(_special.lgamma(c, xp), axis=-1)
        - _special.lgamma(total, xp)
        + (total - k) * _special.digamma(total, xp)
        - xp.sum((c - 1.0) * _special.digamma(c, xp), axis=-1)
    )


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
        1 / 12 + inv * (1 / 24 + inv * 19 / 360)
    )
    return xp.where(lam > _ASYMPTOTIC_FROM, asymptotic, series_sum)


def _poisson_log_pmf(k: Array, lam: Array, xp: Namespace) -> Array:
    """``k log lam - lam - lgamma(k + 1)`` without its large terms cancelling.

    Near the mean of a large rate the three terms are ~1e5 and the result ~-5, so the
    direct formula keeps only ~11 digits. With ``z = k + 1 >= 10`` and Stirling,
    ``-(k + 1/2) log1p(v) + lam v - log(2 pi lam)/2 - c(z)`` with ``v = (z - lam)/lam``
    and ``c`` the series part of ``lgamma(z)``: every term stays small.
    """
    direct = _xlogy(k, lam, xp) - lam - _special.lgamma(k + 1.0, xp)
    big = (k + 1.0 >= _special.SERIES_FROM) & (lam > 0)
    z = xp.where(big, k + 1.0, _special.SERIES_FROM)
    m = xp.where(big, lam, 1.0)
    v = (z - m) / m
    stirling = (
        -(z - 0.5) * xp.log1p(v) + m * v - 0.5 * xp.log(2 * math.pi * m)
    ) - _special.lgamma_series(z, xp)
    return xp.where(big, stirling, direct)


def _bernoulli_entropy_terms(p: Array, xp: Namespace) -> Array:
    return -(_xlogy(p, p, xp) + _xlogy(1.0 - p, 1.0 - p, xp))


def _entropy_geometric(a: dict[str, Array], xp: Namespace) -> Array:
    p = a["probs"]
    return _bernoulli_entropy_terms(p, xp) / p


def _log1m(p: Array, xp: Namespace) -> Array:
    """``log(1 - p)`` for ``p`` in [0, 1]: -inf at ``p = 1`` with no NaN gradient."""
    below = p < 1
    return xp.where(below, xp.log1p(-xp.where(below, p, 0.0)), -xp.inf)


def _binomial_log_pmf(k: Array, n: Array, p: Array, xp: Namespace) -> Array:
    """``log C(n, k) + k log p + (n - k) log(1 - p)`` for ``0 <= k <= n`` (else unused)."""
    rest = xp.where(k <= n, n - k, 0.0)
    log_1mp = _log1m(p, xp)
    tail = rest * xp.where(rest == 0, 0.0, log_1mp)  # 0 log 0 = 0; else -inf at p = 1
    return (
        _special.lgamma(n + 1.0, xp)
        - _special.lgamma(k + 1.0, xp)
        - _special.lgamma(rest + 1.0, xp)
        + _xlogy(k, p, xp)
        + tail
    )


def _count_grid(n: Array, xp: Namespace) -> Array:
    """``0, 1, ..., max(n)`` on a new last axis (needs concrete counts)."""
    if _compat.is_jax_tracer(n):
        msg = (
            "Binomial sums have max(total_count) + 1 terms, so `total_count` must be "
            "concrete: pass it as a Python number or a non-traced array, outside jax.jit."
        )
        raise TypeError(msg)
    top = int(float(xp.max(n))) if math.prod(n.shape) else 0
    return xp.arange(top + 1, dtype=n.dtype, device=_compat.device_of(n))


def _entropy_binomial(a: dict[str, Array], xp: Namespace) -> Array:
    n, p = a["total_count"], a["probs"]
    k = _count_grid(n, xp)
    n_, p_ = n[..., None], p[..., None]
    log_pmf = _binomial_log_pmf(k, n_, p_, xp)
    keep = (k <= n_) & (log_pmf > -xp.inf)
    safe = xp.where(keep, log_pmf, 0.0)
    return 0.0 - xp.sum(xp.where(keep, xp.exp(safe) * safe, 0.0), axis=-1)


def _entropy_student(a: dict[str, Array], xp: Namespace) -> Array:
    df = a["df"]
    dg = _special.digamma
    return (
        0.5 * (df + 1.0) * (dg(0.5 * (df + 1.0), xp) - dg(0.5 * df, xp))
        + 0.5 * xp.log(df)
        + _special.lbeta(0.5 * df, 0.5 + 0.0 * df, xp)
        + xp.log(a["scale"])
        + 0.0 * a["loc"]
    )


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
    Uniform: lambda a, xp: xp.log(a["high"] - a["low"]),
    Gamma: _entropy_gamma,
    Beta: _entropy_beta,
    Dirichlet: _entropy_dirichlet,
    Poisson: _entropy_poisson,
    Geometric: _entropy_geometric,
    Binomial: _entropy_binomial,
    StudentT: _entropy_student,
    MultivariateNormal: _entropy_mvn,
}


def _entropy(d: Family, a: dict[str, Array], xp: Namespace) -> Array:
    if isinstance(d, Bernoulli):
        return _entropy_bernoulli(a, xp)
    return _ENTROPY[type(d)](a, xp)


def _entropy_bernoulli(a: dict[str, Array], xp: Namespace) -> Array:
    from klkit._measures import entropy  # noqa: PLC0415  (_measures imports this module)

    return entropy(LogProbs(_bernoulli_logs(a, xp)), validate=False)


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


def _kl_infinite(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """P puts mass where Q has none (a support on the whole line against a bounded one)."""
    return _zeros_like_batch(a, xp) + xp.inf


def _kl_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``(c1 - c2) psi(c1) - lgamma(c1) + lgamma(c2) + c2 g(x) + (c1 - c2) x``.

    With ``x = (r2 - r1)/r1`` this is torch's formula, with the rate terms
    ``c2 log(r1/r2) + c1 (r2 - r1)/r1`` regrouped so they do not cancel.
    """
    c1, c2 = a["concentration"], b["concentration"]
    x = (b["rate"] - a["rate"]) / a["rate"]
    return (
        (c1 - c2) * _special.digamma(c1, xp)
        - _special.lgamma(c1, xp)
        + _special.lgamma(c2, xp)
        + c2 * _g(x, xp)
        + (c1 - c2) * x
    )


def _kl_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    a1, b1 = a["concentration1"], a["concentration0"]
    a2, b2 = b["concentration1"], b["concentration0"]
    dg = _special.digamma
    return (
        _special.lbeta(a2, b2, xp)
        - _special.lbeta(a1, b1, xp)
        + (a1 - a2) * dg(a1, xp)
        + (b1 - b2) * dg(b1, xp)
        + (a2 - a1 + b2 - b1) * dg(a1 + b1, xp)
    )


def _kl_dirichlet(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    c1, c2 = a["concentration"], b["concentration"]
    if c1.shape[-1] != c2.shape[-1]:
        msg = (
            f"kl_divergence(Dirichlet, Dirichlet) needs the same number of outcomes; got "
            f"{c1.shape[-1]} and {c2.shape[-1]} (the last axis of `concentration`)."
        )
        raise DistributionError(msg)
    t1, t2 = xp.sum(c1, axis=-1), xp.sum(c2, axis=-1)
    lg, dg = _special.lgamma, _special.digamma
    return (
        lg(t1, xp)
        - xp.sum(lg(c1, xp), axis=-1)
        - lg(t2, xp)
        + xp.sum(lg(c2, xp), axis=-1)
        + xp.sum((c1 - c2) * (dg(c1, xp) - dg(t1, xp)[..., None]), axis=-1)
    )


def _kl_poisson(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``l1 g((l2 - l1)/l1)`` = ``l1 log(l1/l2) - l1 + l2``; ``l2`` when ``l1 = 0``."""
    l1, l2 = a["rate"], b["rate"]
    ok = (l1 > 0) & (l2 > 0)
    s1 = xp.where(ok, l1, 1.0)
    value = s1 * _g((xp.where(ok, l2, 1.0) - s1) / s1, xp)
    return xp.where(ok, value, xp.where(l1 == 0, l2, xp.inf))


def _kl_bernoulli_probs(p: Array, q: Array, xp: Namespace) -> Array:
    from klkit._measures import kl_divergence  # noqa: PLC0415  (as above)

    pair = [_bernoulli_logs({"probs": v}, xp) for v in (p, q)]
    return kl_divergence(LogProbs(pair[0]), LogProbs(pair[1]), validate=False)


def _kl_binomial(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``n KL(Bernoulli)`` for equal counts, else the finite sum over P's support.

    The sum is +inf when P has mass above ``n2`` (or where Q's probability is 0 or 1).
    """
    n1, n2 = a["total_count"], b["total_count"]
    same = n1 * _kl_bernoulli_probs(a["probs"], b["probs"], xp)
    k = _count_grid(n1, xp)
    summed = _sum_over(_log_pmf(Binomial, a, k, xp), _log_pmf(Binomial, b, k, xp), xp)
    return xp.where(n1 == n2, same, summed)


def _finite_grid(d: Family, a: dict[str, Array], xp: Namespace) -> Array:
    """Every value a Bernoulli or Binomial can take: 0, 1, ..., max(total_count)."""
    if isinstance(d, Binomial):
        return _count_grid(a["total_count"], xp)
    x = next(iter(a.values()))
    return xp.arange(2, dtype=x.dtype, device=_compat.device_of(x))


def _sum_over(log_p: Array, log_q: Array, xp: Namespace) -> Array:
    """``sum_k P(k) (log P(k) - log Q(k))`` over the last axis; terms with P(k) = 0 are 0."""
    keep = log_p > -xp.inf
    safe = xp.where(keep, log_p, 0.0)
    return xp.sum(xp.where(keep, xp.exp(safe) * (safe - log_q), 0.0), axis=-1)


def _log_pmf(d: Family | type, a: dict[str, Array], k: Array, xp: Namespace) -> Array:
    """``log P(X = k)`` of a discrete family, ``k`` on a new last axis; -inf off the support."""
    kind = d if isinstance(d, type) else type(d)
    if kind is Bernoulli:
        logs = _bernoulli_logs(a, xp)
        return xp.where(k == 0, logs[..., :1], xp.where(k == 1, logs[..., 1:], -xp.inf))
    start = float(d.shift) if isinstance(d, Geometric) else 0.0
    top = a["total_count"][..., None] if "total_count" in a else math.inf
    ok = (k >= start) & (k <= top)
    j = xp.where(ok, k - start, 0.0)
    if kind is Poisson:
        out = _poisson_log_pmf(j, a["rate"][..., None], xp)
    elif kind is Geometric:
        p = a["probs"][..., None]
        log_1mp = _log1m(p, xp)
        out = xp.log(p) + xp.where(j == 0, 0.0, j * log_1mp)
    else:
        out = _binomial_log_pmf(j, a["total_count"][..., None], a["probs"][..., None], xp)
    return xp.where(ok, out, -xp.inf)


def _kl_mvn(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    l1, l2 = a["scale_tril"], b["scale_tril"]
    k = l1.shape[-1]
    if l2.shape[-1] != k:
        msg = (
            f"kl_divergence(MultivariateNormal, MultivariateNormal) needs one dimension; "
            f"got {k} and {l2.shape[-1]}."
        )
        raise DistributionError(msg)
    m = _solve_tril(l2, l1, xp)
    z = _solve_tril(l2, (b["loc"] - a["loc"])[..., None], xp)
    log_det = xp.sum(xp.log(xp.linalg.diagonal(l2)), axis=-1) - xp.sum(
        xp.log(xp.linalg.diagonal(l1)), axis=-1
    )
    return 0.5 * (xp.sum(m * m, axis=(-2, -1)) + xp.sum(z * z, axis=(-2, -1)) - k) + log_det


def _as_gamma(a: dict[str, Array]) -> dict[str, Array]:
    """Exponential(rate) is Gamma(1, rate)."""
    rate = a["rate"]
    return {"concentration": 0.0 * rate + 1.0, "rate": rate}


def _cross_minus_entropy(cross: _KL, entropy_p: _E) -> _KL:
    """KL of a cross-family pair from its closed-form cross-entropy: H(P, Q) - H(P)."""
    return lambda a, b, xp: cross(a, b, xp) - entropy_p(a, xp)


def _mean_log_uniform(lo: Array, hi: Array, xp: Namespace) -> Array:
    """``E[log X]`` for X uniform on ``[lo, hi]``, ``lo >= 0``: ``[x log x - x]`` over width."""
    return (_xlogy(hi, hi, xp) - _xlogy(lo, lo, xp)) / (hi - lo) - 1.0


def _cross_gamma(mean_log: Array, mean: Array, b: dict[str, Array], xp: Namespace) -> Array:
    """``-E[log Gamma(x; c, r)]`` from ``E[log X]`` and ``E[X]``."""
    c, r = b["concentration"], b["rate"]
    return -c * xp.log(r) + _special.lgamma(c, xp) - (c - 1.0) * mean_log + r * mean


def _cross_uniform_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    lo, hi = a["low"], a["high"]
    inside = lo >= 0
    lo_s = xp.where(inside, lo, 0.0)
    hi_s = xp.where(inside, hi, 1.0)
    value = _cross_gamma(_mean_log_uniform(lo_s, hi_s, xp), (lo_s + hi_s) / 2, b, xp)
    return xp.where(inside, value, xp.inf)


def _cross_uniform_beta(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    lo, hi = a["low"], a["high"]
    inside = (lo >= 0) & (hi <= 1)
    lo_s = xp.where(inside, lo, 0.0)
    hi_s = xp.where(inside, hi, 1.0)
    x, y = b["concentration1"], b["concentration0"]
    value = (
        _special.lbeta(x, y, xp)
        - (x - 1.0) * _mean_log_uniform(lo_s, hi_s, xp)
        - (y - 1.0) * _mean_log_uniform(1.0 - hi_s, 1.0 - lo_s, xp)
    )
    return xp.where(inside, value, xp.inf)


def _cross_beta_uniform(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    inside = (b["low"] <= 0) & (b["high"] >= 1)
    width = xp.where(inside, b["high"] - b["low"], 1.0)
    return xp.where(inside, xp.log(width), xp.inf) + _zeros_like_batch(a, xp)


def _cross_beta_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    x, y = a["concentration1"], a["concentration0"]
    dg = _special.digamma
    return _cross_gamma(dg(x, xp) - dg(x + y, xp), x / (x + y), b, xp)


def _cross_lognormal_gamma(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    mu, s = a["loc"], a["scale"]
    return _cross_gamma(mu, xp.exp(mu + 0.5 * s * s), b, xp)


def _moments(d: type, a: dict[str, Array], xp: Namespace) -> tuple[Array, Array]:
    """Mean and variance of a continuous family (variance +inf where it has none)."""
    if d is Beta:
        x, y = a["concentration1"], a["concentration0"]
        total = x + y
        return x / total, x * y / (total * total * (total + 1.0))
    if d is Exponential:
        rate = a["rate"]
        return 1.0 / rate, 1.0 / (rate * rate)
    if d is Gamma:
        c, rate = a["concentration"], a["rate"]
        return c / rate, c / (rate * rate)
    if d is Laplace:
        return a["loc"], 2.0 * a["scale"] * a["scale"]
    if d is LogNormal:
        s2 = a["scale"] * a["scale"]
        return xp.exp(a["loc"] + s2 / 2), xp.expm1(s2) * xp.exp(2.0 * a["loc"] + s2)
    assert d is StudentT
    df, scale = a["df"], a["scale"]
    finite = df > 2
    var = xp.where(finite, scale * scale * df / xp.where(finite, df - 2.0, 1.0), xp.inf)
    return a["loc"] + 0.0 * df, var


def _cross_normal(d: type) -> _KL:
    """``-E_P[log N(x; loc, scale)] = log(scale sqrt(2 pi)) + E_P[(x - loc)^2] / (2 scale^2)``."""

    def cross(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        mean, var = _moments(d, a, xp)
        s = b["scale"]
        return (_HALF_LOG_2PI_E - 0.5) + xp.log(s) + (var + (mean - b["loc"]) ** 2) / (2 * s * s)

    return cross


def _cross_normal_laplace(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``log(2 b) + E|X - m| / b`` with ``E|X - m|`` the folded normal's mean."""
    s, d = a["scale"], a["loc"] - b["loc"]
    mean_abs = s * math.sqrt(2 / math.pi) * xp.exp(-0.5 * (d / s) ** 2) + d * _special.erf(
        d / (s * math.sqrt(2.0)), xp
    )
    return math.log(2.0) + xp.log(b["scale"]) + mean_abs / b["scale"]


def _cross_bernoulli_poisson(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    """``-E[log Poisson(x; rate)]`` for x in {0, 1}: ``rate - p log(rate)``."""
    p = xp.exp(_bernoulli_logs(a, xp)[..., 1])
    return b["rate"] - _xlogy(p, b["rate"], xp)


def _kl_poisson_bounded(count: Callable[[dict[str, Array]], Array]) -> _KL:
    """Poisson against Bernoulli/Binomial: +inf unless the rate is 0 (all mass at 0)."""

    def kl(a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
        n = count(b) + 0.0 * a["rate"]
        log_1mp = _bernoulli_logs(b, xp)[..., 0]
        log_q0 = n * xp.where(n == 0, 0.0, log_1mp)  # log P_Q(0) = n log(1 - p)
        return xp.where(a["rate"] == 0, 0.0 - log_q0, xp.inf)

    return kl


def _gamma_q(cross: _KL) -> _KL:
    return lambda a, b, xp: cross(a, _as_gamma(b), xp)


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
    (MultivariateNormal, MultivariateNormal): _kl_mvn,
    (Exponential, Gamma): lambda a, b, xp: _kl_gamma(_as_gamma(a), b, xp),
    (Gamma, Exponential): lambda a, b, xp: _kl_gamma(a, _as_gamma(b), xp),
    (Uniform, Normal): _kl_uniform_normal,
    (Uniform, Exponential): _cross_minus_entropy(_gamma_q(_cross_uniform_gamma), _ENTROPY[Uniform]),
    (Uniform, Gamma): _cross_minus_entropy(_cross_uniform_gamma, _ENTROPY[Uniform]),
    (Uniform, Beta): _cross_minus_entropy(_cross_uniform_beta, _ENTROPY[Uniform]),
    (Beta, Uniform): _cross_minus_entropy(_cross_beta_uniform, _entropy_beta),
    (Beta, Gamma): _cross_minus_entropy(_cross_beta_gamma, _entropy_beta),
    (Beta, Exponential): _cross_minus_entropy(_gamma_q(_cross_beta_gamma), _entropy_beta),
    (LogNormal, Gamma): _cross_minus_entropy(_cross_lognormal_gamma, _ENTROPY[LogNormal]),
    (LogNormal, Exponential): _cross_minus_entropy(
        _gamma_q(_cross_lognormal_gamma), _ENTROPY[LogNormal]
    ),
}
_PAIRS[Normal, Laplace] = _cross_minus_entropy(_cross_normal_laplace, _ENTROPY[Normal])
_PAIRS[Bernoulli, Poisson] = _cross_minus_entropy(_cross_bernoulli_poisson, _entropy_bernoulli)
_PAIRS[Poisson, Bernoulli] = _kl_poisson_bounded(lambda b: 1.0)
_PAIRS[Poisson, Binomial] = _kl_poisson_bounded(lambda b: b["total_count"])
for _m in (Beta, Exponential, Gamma, Laplace, LogNormal, StudentT):  # moments against a Normal
    _PAIRS[_m, Normal] = _cross_minus_entropy(_cross_normal(_m), _ENTROPY[_m])
# Whole-line supports against half-line or bounded ones, half-line against bounded.
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
]:
    _PAIRS[_p, _q] = _kl_infinite


def _kl(p: Family, q: Family, a: dict[str, Array], b: dict[str, Array], xp: Namespace) -> Array:
    from klkit._measures import kl_divergence  # noqa: PLC0415  (as above)

    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        lp, lq = _bernoulli_logs(a, xp), _bernoulli_logs(b, xp)
        return kl_divergence(LogProbs(lp), LogProbs(lq), validate=False)
    if isinstance(p, Geometric) and isinstance(q, Geometric):
        return _kl_geometric(p.shift - q.shift, a["probs"], b["probs"], xp)
    rule = _PAIRS.get((type(p), type(q)))
    if rule is None and isinstance(p, Bernoulli | Binomial) and isinstance(q, _DISCRETE):
        k = _finite_grid(p, a, xp)
        return _sum_over(_log_pmf(p, a, k, xp), _log_pmf(q, b, k, xp), xp)
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
        return _kl_bernoulli_probs(p, q, xp) / p
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


def _support(d: Family, a: dict[str, Array], xp: Namespace) -> tuple[Any, Any]:
    """Return the lowest and highest points where ``d`` puts mass (density or probability > 0)."""
    if isinstance(d, Normal | Laplace | StudentT):
        return -math.inf, math.inf
    if isinstance(d, Exponential | Gamma | LogNormal):
        return 0.0, math.inf
    if isinstance(d, Beta):
        return 0.0, 1.0
    if isinstance(d, Uniform):
        return a["low"], a["high"]
    if isinstance(d, Poisson):
        return 0.0, xp.where(a["rate"] == 0, 0.0, math.inf)
    if isinstance(d, Geometric):
        return float(d.shift), xp.where(a["probs"] == 1, float(d.shift), math.inf)
    if "logits" in a:  # finite log-odds put mass on both 0 and 1
        return 0.0, 1.0
    n = a.get("total_count", 1.0)
    return xp.where(a["probs"] == 1, n, 0.0), xp.where(a["probs"] == 0, 0.0, n)


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
    if isinstance(bp, _DISCRETE) == isinstance(bq, _DISCRETE):
        xp, (a, b) = _resolve([bp, bq])
        zeros = _zeros_like_batch(a, xp) + _zeros_like_batch(b, xp) + 0.0 * xp.asarray(c)
        lo_p, hi_p = _support(bp, a, xp)
        lo_q, hi_q = _support(bq, b, xp)
        outside = (zeros + lo_p < c + r * lo_q) | (zeros + hi_p > c + r * hi_q)
        if not _compat.is_traced(outside) and bool(xp.all(outside)):  # the support rule
            return _compat.numpy_scalar(zeros + math.inf, xp)
        if isinstance(bp, Bernoulli | Binomial):  # P's support is finite: sum over it
            k = _finite_grid(bp, a, xp)
            log_q = _log_pmf(bq, b, k - xp.asarray(c)[..., None], xp)
            return _compat.numpy_scalar(_sum_over(_log_pmf(bp, a, k, xp), log_q, xp) + zeros, xp)
        if isinstance(bq, Exponential) and not isinstance(bp, _DISCRETE):
            # -E_P[log f_Q] for Q's density (rate/r) exp(-(rate/r)(x - c)) on x >= c
            mean, _ = _moments(type(bp), a, xp)
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


def family_measure(name: str, values: list[Any], *, base: float | None) -> Any:
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
    if name == "entropy":
        out = _entropy(values[0], arrays[0], xp)
    elif name == "kl_divergence":
        out = _kl(values[0], values[1], arrays[0], arrays[1], xp)
    else:  # cross_entropy: H(P, Q) = H(P) + D(P || Q)
        out = _entropy(values[0], arrays[0], xp) + _kl(
            values[0], values[1], arrays[0], arrays[1], xp
        )
    for v in values:
        checks = v._checks
        if checks is not None:
            out = checks.attach(out)
    if log_base is not None:
        out = out / log_base
    return _compat.numpy_scalar(out, xp)


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
