"""Type aliases shared by klkit's modules (no runtime imports of array libraries)."""

from __future__ import annotations

from typing import Any, TypeAlias

#: Any array-API array: NumPy, PyTorch, JAX, CuPy, Dask or array-api-strict.
Array: TypeAlias = Any
#: An array-API namespace, as returned by ``array_api_compat.array_namespace``.
Namespace: TypeAlias = Any
#: A device object of the array's library.
Device: TypeAlias = Any
#: A dtype object of the array's library.
DType: TypeAlias = Any
