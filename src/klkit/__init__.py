"""klkit: entropy, cross-entropy, KL and Jensen-Shannon divergence on any array library.

``p`` is always the target (``y_true``) and ``q`` the prediction (``y_pred``).
Every measure works on NumPy, PyTorch, JAX, CuPy, Dask and array-api-strict arrays,
returns its result in the input's library, device and floating dtype, and checks its
input unless ``validate=False``.
"""

from klkit._api._explain import Breakdown, explain
from klkit._api._measures import (
    binary_cross_entropy,
    cross_entropy,
    entropy,
    js_distance,
    js_divergence,
    kl_divergence,
)
from klkit._core._errors import DistributionError
from klkit._core._inputs import Labels, LinearLogits, Logits, LogProbs
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

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # klkit.estimate needs SciPy: import it on first use so `import klkit` stays light.
    if name == "estimate":
        import importlib  # noqa: PLC0415

        return importlib.import_module("klkit.estimate")
    msg = f"module 'klkit' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Breakdown",
    "Dirichlet",
    "DistributionError",
    "Exponential",
    "Family",
    "Gamma",
    "Geometric",
    "Labels",
    "Laplace",
    "LinearLogits",
    "LogNormal",
    "LogProbs",
    "Logits",
    "MultivariateNormal",
    "Normal",
    "Poisson",
    "StudentT",
    "Uniform",
    "__version__",
    "binary_cross_entropy",
    "cross_entropy",
    "entropy",
    "explain",
    "js_distance",
    "js_divergence",
    "kl_divergence",
]
