"""Special functions that a library has of its own: torch's and JAX's lgamma, digamma, erf.

The array API standard has no ``lgamma``, ``digamma`` or ``erf``; klkit's families
compute them in ``xp.*`` (:mod:`klkit.distributions._special`) on every other library.
Reached only with a torch tensor or a JAX array, so the library is already imported.
"""

from __future__ import annotations

import sys

from klkit._backends._namespace import library_of
from klkit._typing import Array

__all__ = ["NATIVE", "native"]

NATIVE = {
    "lgamma": ("lgamma", "gammaln"),
    "digamma": ("digamma", "digamma"),
    "erf": ("erf", "erf"),
}
"""klkit's name -> (torch's name, the name in ``jax.scipy.special``)."""


def native(x: Array, name: str) -> Array | None:
    """Compute ``name`` (``"lgamma"``, ``"digamma"``, ``"erf"``) by the library's own kernel.

    None when the array's library has none (NumPy, array-api-strict, Dask, CuPy).

    Speed and gradient reason: the generic forms are a recurrence of ten shifts and a
    series (or 160 terms for ``erf``), several hundred elementwise steps, each a node
    of torch's autograd graph or of a JAX trace; torch and JAX have one fused,
    differentiable kernel each, on the array's device, accurate to a few ulp in
    float32 and float64 alike (the unit tests compare both paths with mpmath).
    """
    torch_name, jax_name = NATIVE[name]
    library = library_of(x)
    if library == "torch":
        # torch.lgamma / torch.digamma / torch.erf: native autograd, any device
        return getattr(sys.modules["torch"], torch_name)(x)
    if library == "jax":
        # jax.scipy.special: one XLA op, differentiable under jit, grad and vmap
        return getattr(sys.modules["jax"].scipy.special, jax_name)(x)
    return None
