"""Array namespaces, devices and the one helper that tells which library an array is from.

Everything klkit does with a library by name starts here (:func:`library_of`); the
measures themselves call nothing but ``xp.*``. Every backend-specific branch carries a
comment saying why it exists.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import array_api_compat
import numpy as np
from array_api_compat import array_namespace, is_dask_array

from klkit._typing import Array, Device, DType, Namespace

__all__ = [
    "ARRAY_LIBRARIES",
    "can_defer_checks",
    "default_float",
    "device_of",
    "divide_by_total",
    "is_array",
    "is_jax_tracer",
    "is_numpy",
    "is_traced",
    "library_name",
    "library_of",
    "namespace",
    "numpy_namespace",
    "numpy_scalar",
    "to_numpy",
]


def library_of(x: object) -> str:
    """Return the library an object comes from: the root of its type's module.

    The one backend detection helper: ``"numpy"``, ``"torch"``, ``"jax"`` (jaxlib
    arrays too), ``"dask"``, ``"array_api_strict"``, ``"cupy"``, ``"pandas"``,
    ``"scipy"``, ``"builtins"``, ... It never imports the library.
    """
    module = type(x).__module__.split(".")[0]
    return "jax" if module == "jaxlib" else module


ARRAY_LIBRARIES = frozenset({"numpy", "torch", "jax", "dask", "array_api_strict", "cupy"})
"""Libraries whose arrays klkit takes (any other object with ``__array_namespace__`` too)."""


def is_array(x: object) -> bool:
    """Tell whether ``x`` is an array of a library klkit takes (not a list or a scalar)."""
    return library_of(x) in ARRAY_LIBRARIES or hasattr(x, "__array_namespace__")


def library_name(x: object) -> str:
    """Name the array library an object comes from, for error messages."""
    module = library_of(x)
    return {"builtins": "Python", "array_api_strict": "array-api-strict"}.get(module, module)


def namespace(*arrays: Array, names: Sequence[str]) -> Namespace:
    """Return the array-API namespace shared by ``arrays``.

    ``names`` are the argument names, used to say which two arguments disagree when
    the arrays come from two libraries.
    """
    try:
        return array_namespace(*arrays)
    except TypeError:
        pass
    # Find the first pair that disagrees and name both, instead of array_api_compat's
    # "Multiple namespaces" message that names neither argument.
    first_name, first = names[0], arrays[0]
    for name, arr in zip(names[1:], arrays[1:], strict=True):
        try:
            array_namespace(first, arr)
        except TypeError:
            msg = (
                f"`{first_name}` is a {library_name(first)} array and `{name}` is a "
                f"{library_name(arr)} array; klkit needs both from one array library. "
                f"Convert one of them, e.g. with `{library_name(first)}.asarray({name})`."
            )
            raise TypeError(msg) from None
    msg = f"the arguments {', '.join(f'`{n}`' for n in names)} mix array libraries"
    raise TypeError(msg)


def numpy_namespace() -> Namespace:
    """Return the array-API-compatible NumPy namespace (for lists and scalars)."""
    return array_namespace(np.empty(0))


def is_numpy(xp: Namespace) -> bool:
    """Tell whether ``xp`` is NumPy's namespace."""
    return bool(array_api_compat.is_numpy_namespace(xp))


def numpy_scalar(x: Array, xp: Namespace) -> Array:
    """Turn a NumPy 0-d result into a NumPy scalar, like SciPy's; leave the rest."""
    return x[()] if is_numpy(xp) and x.ndim == 0 else x


def device_of(x: Array) -> Device:
    """Return the device an array lives on."""
    return array_api_compat.device(x)


def default_float(xp: Namespace, device: Device) -> DType:
    """Return the library's default real floating dtype (float32 for torch and JAX)."""
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


def is_compiling() -> bool:
    """Tell whether ``torch.compile`` is tracing the call (Dynamo reads it as a constant).

    Reading a value (a check that needs data) or a NumPy context manager would break
    the graph, so both are left out while compiling, as under ``jax.jit``.
    """
    torch = sys.modules.get("torch")
    return torch is not None and bool(torch.compiler.is_compiling())


def finfo(xp: Namespace, dtype: DType) -> Any:
    """Return ``xp.finfo(dtype)``, torch's own for torch dtypes.

    array_api_compat's wrapper calls ``result_type``, which ``torch.compile`` cannot
    trace.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(dtype, torch.dtype):
        return torch.finfo(dtype)
    return xp.finfo(dtype)


def is_traced(x: Array) -> bool:
    """Tell whether ``x``'s values cannot be read now.

    True for a JAX tracer, a Dask array, or any tensor inside ``torch.compile``.
    """
    if is_dask_array(x) or is_compiling():
        return True
    # array_api_compat.is_lazy_array calls every JAX array lazy, which would skip
    # validation of ordinary eager JAX arrays; only tracers (inside jit/grad/vmap)
    # are really unreadable.
    if "jax" in sys.modules and array_api_compat.is_jax_array(x):
        import jax  # noqa: PLC0415  (already imported by the caller's code)

        return isinstance(x, jax.core.Tracer)
    return False


def is_jax_tracer(*arrays: Array) -> bool:
    """Tell whether any of ``arrays`` is a JAX tracer (inside ``jit``, ``grad``, ``vmap``)."""
    if "jax" not in sys.modules:
        return False
    import jax  # noqa: PLC0415  (already imported by the caller's code)

    return any(isinstance(a, jax.core.Tracer) for a in arrays)


def can_defer_checks(x: Array) -> bool:
    """Tell whether checks on ``x`` can be built into its lazy graph (Dask)."""
    return bool(is_dask_array(x))


def to_numpy(x: Array) -> np.ndarray[Any, Any]:
    """Copy an eager array to a NumPy array (moving it to the host if needed)."""
    if array_api_compat.is_torch_array(x):
        # torch refuses np.asarray on tensors that require grad or live on a GPU.
        return np.asarray(x.detach().cpu())
    if array_api_compat.is_array_api_strict_namespace(array_namespace(x)):
        # array-api-strict deliberately has no __array__; go through a buffer copy.
        return np.from_dlpack(x)
    return np.asarray(x)


def divide_by_total(x: Array, total: Array, /, *, xp: Namespace) -> Array:
    """``x / total`` for a row total (kept dims), exact to rounding on every backend.

    XLA on CPU divides by a broadcast value as a multiplication by its reciprocal,
    which is subnormal, hence flushed to 0, for totals above 2^1022: in JAX
    ``x / sum(x)`` of ``[1e308, 0.3]`` was ``[0, 0]``. There the division goes by
    the square root twice (an extra rounding); other libraries divide once.
    """
    if library_of(x) == "jax" or is_jax_tracer(x, total):
        root = xp.sqrt(total)
        return (x / root) / root
    return x / total
