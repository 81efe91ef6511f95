"""SciPy frozen distributions (``scipy.stats.beta(2, 5)``) as klkit families.

Nothing here imports SciPy: a frozen object is recognised by its class's module and
read through its public attributes (``dist.name``, ``args``, ``kwds``, ``mean``,
``cov``, ``alpha``) and ``dist._parse_args``, which applies SciPy's own defaults for
``loc`` and ``scale``. SciPy's ``loc``/``scale`` conventions are honoured: ``gamma``'s
``scale`` is ``1/rate``, ``lognorm(s, scale=e^mu)`` is ``LogNormal(mu, s)``, ``uniform``
covers ``[loc, loc + scale]``, and ``geom`` counts trials, so it is a Geometric
shifted by one (plus any integer ``loc``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from klkit import _families as fam
from klkit._families import is_scipy_frozen
from klkit._validation import DistributionError

__all__ = ["NoFamilyError", "from_scipy", "is_scipy_frozen"]


class NoFamilyError(DistributionError):
    """A valid SciPy distribution with no klkit family (klkit.estimate still takes it)."""


def _param(v: Any) -> Any:
    """Return a SciPy parameter as a float or a float64 NumPy array."""
    a = np.asarray(v, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def _unsupported(name: str, what: str) -> DistributionError:
    return NoFamilyError(
        f"scipy.stats.{name} with {what} has no klkit family: the families have SciPy's "
        "standard support. Drop the shift/scale, or use klkit.estimate.kl_divergence, "
        "which takes any SciPy distribution."
    )


def _fixed(name: str, value: Any, want: float, what: str) -> None:
    if not np.all(np.asarray(value) == want):
        raise _unsupported(name, f"{what}={value}")


def _expon(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    _fixed("expon", loc, 0.0, "loc")
    return fam.Exponential(_param(1.0 / np.asarray(scale, dtype=np.float64)))


def _gamma(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    _fixed("gamma", loc, 0.0, "loc")
    return fam.Gamma(_param(shapes[0]), _param(1.0 / np.asarray(scale, dtype=np.float64)))


def _lognorm(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    _fixed("lognorm", loc, 0.0, "loc")
    return fam.LogNormal(_param(np.log(np.asarray(scale, dtype=np.float64))), _param(shapes[0]))


def _beta(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    _fixed("beta", loc, 0.0, "loc")
    _fixed("beta", scale, 1.0, "scale")
    return fam.Beta(_param(shapes[0]), _param(shapes[1]))


def _geom(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    shift = np.asarray(loc)
    if shift.ndim or shift != math.floor(shift):
        error = _unsupported("geom", f"loc={loc} (not one whole number)")
        raise error
    return fam.Geometric._shifted(_param(shapes[0]), 1 + int(shift))


def _with_loc_zero(
    name: str, make: Callable[[tuple[Any, ...]], fam.Family]
) -> Callable[[tuple[Any, ...], Any, Any], fam.Family]:
    def convert(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
        _fixed(name, loc, 0.0, "loc")
        return make(shapes)

    return convert


_UNIVARIATE: dict[str, Callable[[tuple[Any, ...], Any, Any], fam.Family]] = {
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
    "bernoulli": _with_loc_zero("bernoulli", lambda s: fam.Bernoulli(_param(s[0]))),
    "binom": _with_loc_zero("binom", lambda s: fam.Binomial(_param(s[0]), _param(s[1]))),
    "poisson": _with_loc_zero("poisson", lambda s: fam.Poisson(_param(s[0]))),
}


def from_scipy(x: Any) -> fam.Family:
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
        msg = (
            f"scipy.stats.{name} has no klkit family; these convert: {have}. For others, "
            "use klkit.estimate.kl_divergence, which takes any SciPy distribution."
        )
        raise NoFamilyError(msg)
    parsed = x.dist._parse_args(*x.args, **x.kwds)
    shapes, loc = parsed[0], parsed[1]
    scale = parsed[2] if len(parsed) > 2 else 1.0
    return convert(tuple(shapes), loc, scale)
