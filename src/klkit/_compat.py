"""The one place klkit talks to ``array_api_compat`` and to individual backends.

Measures call nothing but ``xp.*`` plus the helpers below. Every backend-specific
branch carries a comment saying why it exists.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat
import numpy as np
from array_api_compat import array_namespace, is_dask_array

from klkit._typing import Array, Device, DType, Namespace

__all__ = [
    "LN2",
    "DeferredCheck",
    "attach_deferred_checks",
    "can_defer_checks",
    "default_float",
    "deferred_check",
    "device_of",
    "is_numpy",
    "is_traced",
    "library_name",
    "logsumexp",
    "namespace",
    "numpy_namespace",
    "take_along_axis",
    "to_numpy",
]

LN2 = math.log(2.0)


def library_name(x: object) -> str:
    """Name the array library an object comes from, for error messages."""
    module = type(x).__module__.split(".")[0]
    return {"builtins": "Python", "jaxlib": "jax", "array_api_strict": "array-api-strict"}.get(
        module, module
    )


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


def device_of(x: Array) -> Device:
    """Return the device an array lives on."""
    return array_api_compat.device(x)


def default_float(xp: Namespace, device: Device) -> DType:
    """Return the library's default real floating dtype (float32 for torch and JAX)."""
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


def is_traced(x: Array) -> bool:
    """Tell whether ``x``'s values cannot be read now (JAX tracer or Dask array)."""
    if is_dask_array(x):
        return True
    # array_api_compat.is_lazy_array calls every JAX array lazy, which would skip
    # validation of ordinary eager JAX arrays; only tracers (inside jit/grad/vmap)
    # are really unreadable.
    if "jax" in sys.modules and array_api_compat.is_jax_array(x):
        import jax  # noqa: PLC0415  (already imported by the caller's code)

        return isinstance(x, jax.core.Tracer)
    return False


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


def logsumexp(x: Array, /, *, axis: int, keepdims: bool, xp: Namespace) -> Array:
    """``log(sum(exp(x), axis))``, shifted by the maximum so it never overflows.

    Rows whose maximum is -inf (all probabilities zero) give -inf; the shift uses 0
    there so that neither the value nor the gradient becomes NaN.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    # Gradients do not flow through the shift: it cancels exactly in the result.
    s = xp.sum(xp.exp(x - m), axis=axis, keepdims=True)
    out = xp.log(s) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def take_along_axis(x: Array, indices: Array, /, *, axis: int, xp: Namespace) -> Array:
    """Pick ``x[..., indices, ...]`` along ``axis``; ``indices`` has size 1 there.

    Dask has no ``take_along_axis``: there a masked sum picks the entry, chunk by
    chunk, so memory stays bounded by the chunk size and no one-hot array is stored.
    """
    if hasattr(xp, "take_along_axis"):
        shape = list(x.shape)
        shape[axis] = 1
        idx = xp.broadcast_to(indices, tuple(shape))
        return xp.take_along_axis(x, idx, axis=axis)
    k = x.shape[axis]
    ar_shape = [1] * x.ndim
    ar_shape[axis] = k
    ar = xp.reshape(xp.arange(k, dtype=indices.dtype), tuple(ar_shape))
    hit = ar == indices
    return xp.sum(xp.where(hit, x, xp.zeros_like(x)), axis=axis, keepdims=True)


# --- deferred validation for Dask --------------------------------------------------

#: A deferred check: (any_bad, first_bad_flat_index, value_there, shape, message).
DeferredCheck = tuple[Array, Array, Array, tuple[int, ...], Any]


def deferred_check(bad: Array, values: Array, message: Any, *, xp: Namespace) -> DeferredCheck:
    """Describe a check on a Dask array as lazy scalars (nothing is computed)."""
    flat_bad = xp.reshape(bad, (-1,))
    flat_values = xp.reshape(values, (-1,))
    index = xp.argmax(xp.astype(flat_bad, xp.int8))
    # Dask cannot index with a lazy scalar; a masked sum picks the value lazily.
    pick = xp.arange(flat_values.shape[0], dtype=index.dtype) == index
    value = xp.sum(xp.where(pick, flat_values, xp.zeros_like(flat_values)))
    return (xp.any(flat_bad), index, value, tuple(int(n) for n in bad.shape), message)


def _raise_deferred(block: Any, *flags: Any, shapes: Any, messages: Any, format_error: Any) -> Any:
    for k, message in enumerate(messages):
        any_bad, index, value = flags[3 * k : 3 * k + 3]
        if bool(any_bad):
            where = np.unravel_index(int(index), shapes[k]) if shapes[k] else ()
            raise format_error(message, tuple(int(i) for i in where), float(value))
    return block


def attach_deferred_checks(
    result: Array, checks: Sequence[DeferredCheck], *, format_error: Callable[..., Exception]
) -> Array:
    """Make computing the Dask array ``result`` raise if any deferred check failed.

    The checks become dependencies of every block of the result, so they are evaluated
    in the same ``compute()`` (chunk by chunk, as tree reductions) and raise
    ``format_error(message, index, value)`` there instead of at call time.
    """
    if not checks:
        return result
    import dask.array as da  # noqa: PLC0415  (only reached with Dask input)

    flags = [a for c in checks for a in c[:3]]
    return da.map_blocks(  # type: ignore[no-untyped-call]
        _raise_deferred,
        result,
        *flags,
        shapes=[c[3] for c in checks],
        messages=[c[4] for c in checks],
        format_error=format_error,
        dtype=result.dtype,
        meta=getattr(result, "_meta", None),
    )
