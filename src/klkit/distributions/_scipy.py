"""SciPy's frozen distributions and klkit's families, converted both ways.

:func:`from_scipy` needs no SciPy import: a frozen object (``scipy.stats.beta(2, 5)``)
is recognised by its class's module and read through its public attributes
(``dist.name``, ``args``, ``kwds``, ``mean``, ``cov``, ``alpha``) and
``dist._parse_args``, which applies SciPy's own defaults for ``loc`` and ``scale``.
SciPy's ``loc``/``scale`` conventions are honoured: ``gamma``'s ``scale`` is
``1/rate``, ``lognorm(s, scale=e^mu)`` is ``LogNormal(mu, s)``, ``uniform`` covers
``[loc, loc + scale]``, and ``geom`` counts trials, so it is a Geometric shifted by one
(plus any whole ``loc``). A ``loc`` (or Beta's ``scale``) that moves a law off its
family's standard support gives an :class:`~klkit.distributions._families.Affine` of
the family (``expon(loc=1)`` is ``1 + X`` for ``X ~ Exponential(1)``).

:func:`to_scipy` goes the other way, for ``klkit.estimate`` (which has SciPy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from klkit._backends._namespace import to_numpy
from klkit._core._errors import DistributionError
from klkit.distributions import _families as fam
from klkit.distributions._base import Family

__all__ = ["NoFamilyError", "from_scipy", "is_scipy_frozen", "to_scipy"]


class NoFamilyError(DistributionError):
    """A valid SciPy distribution with no klkit family (klkit.estimate still takes it)."""


def is_scipy_frozen(x: object) -> bool:
    """Tell whether ``x`` is a frozen ``scipy.stats`` distribution (without importing SciPy)."""
    cls = type(x)
    return cls.__module__.startswith("scipy.stats") and cls.__name__.endswith("frozen")


def _param(v: Any) -> Any:
    """Return a SciPy parameter as a float or a float64 NumPy array."""
    a = np.asarray(v, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def _unsupported(name: str, what: str) -> DistributionError:
    return NoFamilyError(
        f"scipy.stats.{name} with {what} has no klkit family.",
        fix=(
            "Use a whole-number loc, or klkit.estimate.kl_divergence, which takes any "
            "SciPy distribution."
        ),
    )


def _moved(family: Family, loc: Any, scale: Any = 1.0) -> Family:
    """``family`` itself, or ``loc + scale * X`` when SciPy moves it off its standard support."""
    if np.ndim(loc) == 0 and np.ndim(scale) == 0 and loc == 0.0 and scale == 1.0:
        return family  # (an array loc of zeros still sets the batch shape)
    return fam.Affine(family, _param(loc), _param(scale))


def _expon(shapes: tuple[Any, ...], loc: Any, scale: Any) -> Family:
    return _moved(fam.Exponential(_param(1.0 / np.asarray(scale, dtype=np.float64))), loc)


def _gamma(shapes: tuple[Any, ...], loc: Any, scale: Any) -> Family:
    rate = _param(1.0 / np.asarray(scale, dtype=np.float64))
    return _moved(fam.Gamma(_param(shapes[0]), rate), loc)


def _lognorm(shapes: tuple[Any, ...], loc: Any, scale: Any) -> Family:
    mu = _param(np.log(np.asarray(scale, dtype=np.float64)))
    return _moved(fam.LogNormal(mu, _param(shapes[0])), loc)


def _beta(shapes: tuple[Any, ...], loc: Any, scale: Any) -> Family:
    return _moved(fam.Beta(_param(shapes[0]), _param(shapes[1])), loc, scale)


def _whole(name: str, loc: Any) -> Any:
    shift = np.asarray(loc, dtype=np.float64)
    if not np.all(shift == np.floor(shift)):
        raise _unsupported(name, f"loc={loc} (not whole numbers)")
    return shift


def _geom(shapes: tuple[Any, ...], loc: Any, scale: Any) -> Family:
    shift = _whole("geom", loc)
    if shift.ndim:
        return fam.Affine(fam.Geometric._shifted(_param(shapes[0]), 1), _param(shift))
    return fam.Geometric._shifted(_param(shapes[0]), 1 + int(shift))


def _counting(
    name: str, make: Callable[[tuple[Any, ...]], Family]
) -> Callable[[tuple[Any, ...], Any, Any], Family]:
    def convert(shapes: tuple[Any, ...], loc: Any, scale: Any) -> Family:
        return _moved(make(shapes), _whole(name, loc))

    return convert


_UNIVARIATE: dict[str, Callable[[tuple[Any, ...], Any, Any], Family]] = {
    "norm": lambda s, loc, scale: fam.Normal(_param(loc), _param(scale)),
    "laplace": lambda s, loc, scale: fam.Laplace(_param(loc), _param(scale)),
    "uniform": lambda s, loc, scale: fam.Uniform(
        _param(loc), _param(np.asarray(loc, dtype=np.float64) + scale)
    ),
    "t": lambda s, loc, scale: fam.StudentT(_param(s[0]), _param(loc), _param(scale)),
    "expon": _expon,
    "gamma": _gamma,
    "lognorm": _lognorm,
    "beta": _beta,
    "geom": _geom,
    "bernoulli": _counting("bernoulli", lambda s: fam.Bernoulli(_param(s[0]))),
    "binom": _counting("binom", lambda s: fam.Binomial(_param(s[0]), _param(s[1]))),
    "poisson": _counting("poisson", lambda s: fam.Poisson(_param(s[0]))),
}


def from_scipy(x: Any) -> Family:
    """Convert a frozen ``scipy.stats`` distribution to the matching klkit family."""
    cls = type(x).__name__
    if cls == "multivariate_normal_frozen":
        return fam.MultivariateNormal(
            np.asarray(x.mean, dtype=np.float64),
            covariance_matrix=np.asarray(x.cov, dtype=np.float64),
        )
    if cls == "dirichlet_frozen":
        return fam.Dirichlet(np.asarray(x.alpha, dtype=np.float64))
    name = getattr(getattr(x, "dist", None), "name", cls)
    convert = _UNIVARIATE.get(name)
    if convert is None:
        have = ", ".join([*_UNIVARIATE, "multivariate_normal", "dirichlet"])
        problem = f"scipy.stats.{name} has no klkit family; these convert: {have}."
        raise NoFamilyError(
            problem,
            fix=(
                "For others, use klkit.estimate.kl_divergence, which takes any SciPy distribution."
            ),
        )
    parsed = x.dist._parse_args(*x.args, **x.kwds)
    shapes, loc = parsed[0], parsed[1]
    scale = parsed[2] if len(parsed) > 2 else 1.0
    return convert(tuple(shapes), loc, scale)


# --- families to SciPy (klkit.estimate) ----------------------------------------------


def _scalar(v: Any, family: str, name: str) -> float:
    """One parameter as a float; a batch is refused."""
    a = to_numpy(v) if hasattr(v, "shape") else np.asarray(v)
    if a.size != 1:
        msg = (
            f"klkit.estimate takes single distributions; `{family}` parameter `{name}` has "
            f"shape {a.shape}. Estimate each member of the batch separately."
        )
        raise ValueError(msg)
    return float(a.reshape(()))


def to_scipy(d: Family, name: str) -> Any:
    """Return the frozen SciPy distribution equal to a (non-batched) family.

    ``name`` is the argument's name in messages (a batch is refused). For
    ``klkit.estimate``, which needs SciPy's densities and draws.
    """
    # SciPy is optional (the estimate extra): only klkit.estimate gets here
    import scipy.special as sp  # noqa: PLC0415
    import scipy.stats as ss  # noqa: PLC0415

    kind = type(d).__name__
    if isinstance(d, fam.MultivariateNormal | fam.Dirichlet):
        arrays = {k: to_numpy(v).astype(np.float64) for k, v in d.params.items()}
        if isinstance(d, fam.Dirichlet):
            if arrays["concentration"].ndim != 1:
                msg = f"klkit.estimate takes a single `{kind}` for `{name}`, not a batch."
                raise ValueError(msg)
            return ss.dirichlet(arrays["concentration"])
        loc, tril = arrays["loc"], arrays["scale_tril"]
        if loc.ndim != 1 or tril.ndim != 2:
            msg = f"klkit.estimate takes a single `{kind}` for `{name}`, not a batch."
            raise ValueError(msg)
        return ss.multivariate_normal(loc, tril @ tril.T)
    p = {k: _scalar(v, kind, k) for k, v in d.params.items()}
    makers: dict[type, Callable[[], Any]] = {
        fam.Normal: lambda: ss.norm(p["loc"], p["scale"]),
        fam.LogNormal: lambda: ss.lognorm(p["scale"], scale=math.exp(p["loc"])),
        fam.Laplace: lambda: ss.laplace(p["loc"], p["scale"]),
        fam.Exponential: lambda: ss.expon(scale=1 / p["rate"]),
        fam.Uniform: lambda: ss.uniform(p["low"], p["high"] - p["low"]),
        fam.Gamma: lambda: ss.gamma(p["concentration"], scale=1 / p["rate"]),
        fam.Beta: lambda: ss.beta(p["concentration1"], p["concentration0"]),
        fam.Bernoulli: lambda: ss.bernoulli(
            p["probs"] if "probs" in p else float(sp.expit(p["logits"]))
        ),
        fam.Binomial: lambda: ss.binom(int(p["total_count"]), p["probs"]),
        fam.Poisson: lambda: ss.poisson(p["rate"]),
        fam.Geometric: lambda: ss.geom(p["probs"], loc=getattr(d, "shift", 0) - 1),
        fam.StudentT: lambda: ss.t(p["df"], p["loc"], p["scale"]),
    }
    return makers[type(d)]()
