"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._backends._namespace import is_array as _is_array
from klkit.distributions import (
    Bernoulli,
    Beta,
    Binomial,
    Dirichlet,
    Exponential,
    Family,
    Gamma,
    Geometric,
    Laplace,
    LogNormal,
    MultivariateNormal,
    Normal,
    Poisson,
    StudentT,
    Uniform,
)
from klkit.distributions._families import Affine

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
    "_is_array",
]
