"""The family classes: torch's parameter names and order, SciPy's loc/scale as Affine.

Each class states its parameters' rules and, in its docstring, how its closed forms
avoid cancellation; the formulas themselves are in the modules by kind
(:mod:`klkit.distributions._entropy`, ``_kl_same``, ``_kl_mixed``, ``_discrete``,
``_mvn``, ``_affine``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from klkit._backends._namespace import is_array
from klkit._core._errors import DistributionError
from klkit.distributions._base import Family, broadcast_batch
from klkit.distributions._mvn import mvn_factor

__all__ = ["DISCRETE", "Affine", "describe", "frame", "moved_name"]
"""(The family classes are in the package's own ``__all__``.)"""


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
    non-negative terms (see :mod:`klkit.distributions._reduced`).

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
        if not is_array(concentration):
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
    ``KLKIT_MAX_SUPPORT`` terms (:func:`klkit._numerics.max_support`) they raise
    instead of allocating. A pair whose supports rule it out (P has mass above Q's
    count, or where Q's probability is 0 or 1) is +inf. ``total_count`` must be
    concrete (not traced under ``jax.jit``) for the sums.
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
    covariances compare through their exact difference (see
    :func:`klkit.distributions._mvn.kl_mvn`).

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
            if not is_array(x):
                msg = f"`MultivariateNormal` parameter `{name}` must be an array."
                raise TypeError(msg)
        if loc.shape[-1:] != matrix.shape[-1:] or matrix.shape[-2:-1] != matrix.shape[-1:]:
            problem = (
                f"`MultivariateNormal` needs `loc` of shape (..., k) and `{given}` of shape "
                f"(..., k, k); got {tuple(loc.shape)} and {tuple(matrix.shape)}."
            )
            raise DistributionError(problem)
        factor, checks = mvn_factor(matrix, given, loc)
        self._store(loc=loc, scale_tril=factor)
        # kept for the KL of nearly equal covariances, which their factors' rounding hides
        object.__setattr__(self, "_covariance", covariance_matrix)
        # Dask: these raise at compute(), before the NaN of a failed factor is named
        assert self._checks is not None
        self._checks.deferred[:0] = checks.deferred


class Affine(Family):
    """``loc + scale * X`` for ``X ~ base``: SciPy's ``loc``/``scale`` where no family has them.

    :func:`klkit.distributions._scipy.from_scipy` makes these for ``expon``, ``gamma`` and
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
        return broadcast_batch(
            "Affine",
            {"base": self.base.batch_shape, "loc/scale": super().batch_shape},
            lead=f"`Affine` of {type(self.base).__name__}: the base",
        )

    def __repr__(self) -> str:
        loc, scale = self.params["loc"], self.params["scale"]
        return f"Affine({self.base!r}, loc={loc!r}, scale={scale!r})"


DISCRETE = (Bernoulli, Binomial, Geometric, Poisson)
"""The families on whole numbers."""


def describe(d: Family) -> str:
    """Name a family for messages; an Affine one says how it is moved."""
    if not isinstance(d, Affine):
        return type(d).__name__
    return moved_name(d.base, d.params["loc"], d.params["scale"])


def moved_name(base: Family, loc: Any, scale: Any) -> str:
    """Name ``loc + scale * X`` for ``X ~ base``, giving only what moves it."""
    moves = [
        f"{n}={v}"
        for n, v, unmoved in (("loc", loc, 0.0), ("scale", scale, 1.0))
        if not np.all(np.asarray(v) == unmoved)
    ]
    return f"{type(base).__name__} moved by {', '.join(moves)}"


def frame(d: Family) -> tuple[Family, Any, Any]:
    """Return ``(base, loc, scale)``: an Affine's own, else ``(d, 0, 1)``."""
    if isinstance(d, Affine):
        return d.base, d.params["loc"], d.params["scale"]
    return d, 0.0, 1.0
