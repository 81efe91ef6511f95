"""SciPy frozen distributions (``scipy.stats.beta(2, 5)``) as klkit families.

Nothing here imports SciPy: a frozen object is recognised by its class's module and
read through its public attributes (``dist.name``, ``args``, ``kwds``, ``mean``,
``cov``, ``alpha``) and ``dist._parse_args``, which applies SciPy's own defaults for
``loc`` and ``scale``. SciPy's ``loc``/``scale`` conventions are honoured: ``gamma``'s
``scale`` is ``1/rate``, ``lognorm(s, scale=e^mu)`` is ``LogNormal(mu, s)``, ``uniform``
covers ``[loc, loc + scale]``, and ``geom`` counts trials, so it is a Geometric
shifted by one (plus any whole ``loc``). A ``loc`` (or Beta's ``scale``) that moves a
law off its family's standard support gives an :class:`~klkit._families.Affine` of the
family (``expon(loc=1)`` is ``1 + X`` for ``X ~ Exponential(1)``).
"""

from __future__ import annotations

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
        f"scipy.stats.{name} with {what} has no klkit family. Use a whole-number loc, or "
        "klkit.estimate.kl_divergence, which takes any SciPy distribution."
    )


def _moved(family: fam.Family, loc: Any, scale: Any = 1.0) -> fam.Family:
    """``family`` itself, or ``loc + scale * X`` when SciPy moves it off its standard support."""
    if np.ndim(loc) == 0 and np.ndim(scale) == 0 and loc == 0.0 and scale == 1.0:
        return family  # (an array loc of zeros still sets the batch shape)
    return fam.Affine(family, _param(loc), _param(scale))


def _expon(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    return _moved(fam.Exponential(_param(1.0 / np.asarray(scale, dtype=np.float64))), loc)


def _gamma(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    rate = _param(1.0 / np.asarray(scale, dtype=np.float64))
    return _moved(fam.Gamma(_param(shapes[0]), rate), loc)


def _lognorm(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    mu = _param(np.log(np.asarray(scale, dtype=np.float64)))
    return _moved(fam.LogNormal(mu, _param(shapes[0])), loc)


def _beta(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    return _moved(fam.Beta(_param(shapes[0]), _param(shapes[1])), loc, scale)


def _whole(name: str, loc: Any) -> Any:
    shift = np.asarray(loc, dtype=np.float64)
    if not np.all(shift == np.floor(shift)):
        raise _unsupported(name, f"loc={loc} (not whole numbers)")
    return shift


def _geom(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
    shift = _whole("geom", loc)
    if shift.ndim:
        return fam.Affine(fam.Geometric._shifted(_param(shapes[0]), 1), _param(shift))
    return fam.Geometric._shifted(_param(shapes[0]), 1 + int(shift))


def _counting(
    name: str, make: Callable[[tuple[Any, ...]], fam.Family]
) -> Callable[[tuple[Any, ...], Any, Any], fam.Family]:
    def convert(shapes: tuple[Any, ...], loc: Any, scale: Any) -> fam.Family:
        return _moved(make(shapes), _whole(name, loc))

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
    "bernoulli": _counting("bernoulli", lambda s: fam.Bernoulli(_param(s[0]))),
    "binom": _counting("binom", lambda s: fam.Binomial(_param(s[0]), _param(s[1]))),
    "poisson": _counting("poisson", lambda s: fam.Poisson(_param(s[0]))),
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
