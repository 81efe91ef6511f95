"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._backends._dask import dask_cholesky, dask_solve
from klkit._backends._namespace import (
    can_defer_checks,
    device_of,
    is_jax_tracer,
    is_traced,
    namespace,
    numpy_namespace,
    numpy_scalar,
    to_numpy,
)

__all__ = [
    "can_defer_checks",
    "dask_cholesky",
    "dask_solve",
    "device_of",
    "is_jax_tracer",
    "is_traced",
    "namespace",
    "numpy_namespace",
    "numpy_scalar",
    "to_numpy",
]
