"""The one place klkit talks to ``array_api_compat`` and to individual backends.

Measures call nothing but ``xp.*`` plus the helpers below. Every backend-specific
branch carries a comment saying why it exists.
"""

from __future__ import annotations

import contextvars
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat
import numpy as np
from array_api_compat import array_namespace, is_dask_array

from klkit._typing import Array, Device, DType, Namespace

__all__ = [
    "BLOCK",
    "LN2",
    "DeferredCheck",
    "attach_deferred_checks",
    "can_defer_checks",
    "dask_blockwise",
    "default_float",
    "deferred_check",
    "device_of",
    "divide_by_total",
    "is_jax_tracer",
    "is_numpy",
    "is_traced",
    "library_name",
    "log_softmax",
    "logsumexp",
    "namespace",
    "numpy_namespace",
    "numpy_scalar",
    "softmax_parts",
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


def numpy_scalar(x: Array, xp: Namespace) -> Array:
    """Turn a NumPy 0-d result into a NumPy scalar, like SciPy's; leave the rest."""
    return x[()] if is_numpy(xp) and x.ndim == 0 else x


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
    if is_jax_tracer(x, total) or ("jax" in sys.modules and array_api_compat.is_jax_array(x)):
        root = xp.sqrt(total)
        return (x / root) / root
    return x / total


def softmax_parts(x: Array, /, *, axis: int, xp: Namespace) -> tuple[Array, Array, Array]:
    """``(m, x - m, log1p(R))`` along ``axis`` (keepdims), the pieces of a log-softmax.

    ``m`` is the row maximum and ``R`` the mass of every entry but one maximum,
    relative to it: ``R = sum(exp(x - m) over x < m) + (number of maxima - 1)``, an
    exact count plus terms that are all below 1. Then

    * ``log_softmax(x) = (x - m) - log1p(R)``: for the largest entry that is
      ``-log1p(R)``, exact even when R is far below eps (``log(1 + R)`` would round
      ``1 + R`` to 1 and lose R entirely: a confident logit's cross-entropy, or the
      entropy of a near-certain softmax, would come out 0 or a few % off);
    * ``logsumexp(x) = m + log1p(R)``.

    Rows whose maximum is -inf (all probabilities zero) use 0 for ``m``, so neither
    the value nor the gradient becomes NaN there; a +inf or NaN maximum propagates.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(m == -xp.inf, xp.zeros_like(m), m)
    shifted = x - m
    below = shifted < 0
    rest = xp.sum(xp.exp(xp.where(below, shifted, -xp.inf)), axis=axis, keepdims=True)
    ties = xp.sum(xp.astype(shifted == 0, x.dtype), axis=axis, keepdims=True)
    return m, shifted, xp.log1p(rest + (ties - 1.0))


def log_softmax(x: Array, /, *, axis: int, xp: Namespace) -> Array:
    """``x - logsumexp(x)`` along ``axis``, accurate for confident rows (see softmax_parts)."""
    _, shifted, log1p_rest = softmax_parts(x, axis=axis, xp=xp)
    return shifted - log1p_rest


def logsumexp(x: Array, /, *, axis: int, keepdims: bool, xp: Namespace) -> Array:
    """``log(sum(exp(x), axis))`` without overflow; -inf for rows of all -inf."""
    m, _, log1p_rest = softmax_parts(x, axis=axis, xp=xp)
    out = m + log1p_rest
    return out if keepdims else xp.squeeze(out, axis=axis)


def take_along_axis(x: Array, indices: Array, /, *, axis: int, xp: Namespace) -> Array:
    """Pick ``x[..., indices, ...]`` along ``axis``; ``indices`` has size 1 there.

    Dask has no ``take_along_axis``: there a masked sum picks the entry, chunk by
    chunk, so memory stays bounded by the chunk size and no one-hot array is stored.
    """
    if hasattr(xp, "take_along_axis"):
        # the batch axes broadcast both ways: labels (3,) against one q (K,) pick 3 rows
        batch = [b if a == 1 else a for a, b in zip(x.shape, indices.shape, strict=True)]
        batch[axis] = 1
        idx = xp.broadcast_to(indices, tuple(batch))
        batch[axis] = x.shape[axis]
        return xp.take_along_axis(xp.broadcast_to(x, tuple(batch)), idx, axis=axis)
    k = x.shape[axis]
    ar_shape = [1] * x.ndim
    ar_shape[axis] = k
    ar = xp.reshape(xp.arange(k, dtype=indices.dtype), tuple(ar_shape))
    hit = ar == indices
    return xp.sum(xp.where(hit, x, xp.zeros_like(x)), axis=axis, keepdims=True)


# --- deferred validation for Dask --------------------------------------------------

#: A deferred check: lazy arrays aligned with the result's blocks, and how to report.
DeferredCheck = tuple[tuple[Array, ...], Any]


def deferred_check(
    bad: Array, values: Array, message: Any, *, axis: int | None, xp: Namespace
) -> DeferredCheck:
    """Describe a check on a Dask array lazily, one flag per row of the result.

    With ``axis`` (an elementwise check on distributions), ``bad`` is reduced along
    it to one flag per row, plus the first offending position in the row and the
    value there. The flags line up with the result's blocks, so each input chunk
    is read once, by the task that also computes that part of the result.
    """
    if axis is None:
        return (xp.asarray(bad), xp.asarray(values)), (message, None)
    hits = xp.astype(bad, xp.int8)
    col = xp.argmax(hits, axis=axis, keepdims=True)
    shape = [1] * bad.ndim
    shape[axis] = bad.shape[axis]
    ar = xp.reshape(xp.arange(bad.shape[axis], dtype=col.dtype), tuple(shape))
    pick = ar == col
    value = xp.sum(xp.where(pick, values, xp.zeros_like(values)), axis=axis)
    flag = xp.any(bad, axis=axis)
    return (flag, xp.squeeze(col, axis=axis), value), (message, axis)


def _raise_deferred(
    block: Any, *arrays: Any, specs: Any, format_error: Any, block_info: Any = None
) -> Any:
    pos = 1  # block_info is keyed by argument position; 0 is the result
    for message, axis in specs:
        n = 2 if axis is None else 3
        flag = np.asarray(arrays[pos - 1])
        if flag.any():
            local = np.unravel_index(int(np.argmax(flag)), flag.shape)
            starts = [lo for lo, _ in block_info[pos]["array-location"]] if block_info else []
            index = [int(i) + int(o) for i, o in zip(local, starts, strict=False)]
            if axis is not None:
                index.insert(axis, int(np.asarray(arrays[pos])[local]))
            value = float(np.asarray(arrays[pos + n - 2])[local])
            raise format_error(message, tuple(index), value)
        pos += n
    return block


def _chunked_like(a: Any, result: Any) -> Any:
    """Rechunk ``a`` along the axes it shares with ``result`` to ``result``'s chunks.

    Dask's ``map_blocks`` reports wrong block locations (or fails) for arguments
    chunked differently from the output, e.g. ``loc`` in chunks of 2 and ``scale`` in
    chunks of 3. Broadcast (size-1) axes stay as they are.
    """
    lead = result.ndim - a.ndim
    chunks = tuple(
        result.chunks[lead + i] if a.shape[i] == result.shape[lead + i] else a.chunks[i]
        for i in range(a.ndim)
    )
    return a.rechunk(chunks) if chunks != a.chunks else a


def attach_deferred_checks(
    result: Array, checks: Sequence[DeferredCheck], *, format_error: Callable[..., Exception]
) -> Array:
    """Make computing the Dask array ``result`` raise if any deferred check failed.

    Each block of the result depends on the flags of its own rows only, so checks
    run chunk by chunk in the same ``compute()`` and raise
    ``format_error(message, index, value)`` there instead of at call time.
    """
    if not checks:
        return result
    import dask.array as da  # noqa: PLC0415  (only reached with Dask input)

    arrays = [_chunked_like(da.asarray(a), result) for c in checks for a in c[0]]  # type: ignore[no-untyped-call]
    return da.map_blocks(  # type: ignore[no-untyped-call]
        _raise_deferred,
        result,
        *arrays,
        specs=[c[1] for c in checks],
        format_error=format_error,
        dtype=result.dtype,
        meta=getattr(result, "_meta", None),
    )


# --- Dask: run the eager measure once per block -----------------------------------

#: While a measure runs on one Dask block: (offsets of the block in the full arrays,
#: the outcome axis or None). Checks add the offsets so errors name global indices.
BLOCK: contextvars.ContextVar[tuple[tuple[int, ...], int | None] | None] = contextvars.ContextVar(
    "klkit_dask_block", default=None
)


def _run_block(
    *blocks: Any,
    measure: Any,
    wrappers: Any,
    axis: int | None,
    options: Any,
    block_info: Any = None,
) -> Any:
    out_loc = [lo for lo, _ in block_info[None]["array-location"]] if block_info else []
    offsets = list(out_loc)
    if axis is not None:
        offsets.insert(axis, 0)
    args = []
    for block, (wrapper, is_labels) in zip(blocks, wrappers, strict=True):
        # labels carry a size-1 outcome axis here
        arr = np.squeeze(block, axis=axis) if is_labels and axis is not None else block
        args.append(wrapper(arr) if wrapper is not None else arr)
    token = BLOCK.set((tuple(offsets), axis))
    try:
        extra = {} if axis is None else {"axis": axis}
        return np.asarray(measure(*args, **extra, **options))
    finally:
        BLOCK.reset(token)


def dask_blockwise(
    measure: Callable[..., Any],
    parts: Sequence[tuple[Any, Any, bool]],
    *,
    axis: int | None,
    elementwise: bool = False,
    **options: Any,
) -> Any | None:
    """Run ``measure`` block by block on Dask arrays; None if this path does not apply.

    ``parts`` holds (wrapper type or None, array, is-labels) per argument. Dask's
    scheduler keeps every input chunk alive when a graph reads each chunk from
    several places (the masks and branches of a stable KL term do), which defeats
    chunked evaluation. When the outcome axis lies within one chunk, each block of
    the result is computed by one task from one block of each input, with the eager
    checks inside it (errors carry global indices), so peak memory is a few chunks.
    Otherwise the caller uses the generic lazy graph.
    """
    wrappers = [(w, lab) for w, _, lab in parts]
    raws = [r for _, r, _ in parts]
    labels = [lab for _, _, lab in parts]
    if not raws or not all(is_dask_array(r) for r in raws):
        return None
    import dask.array as da  # noqa: PLC0415  (only reached with Dask input)

    floats = [
        r.dtype for r, lab in zip(raws, labels, strict=True) if r.dtype.kind == "f" and not lab
    ]
    dtype = np.result_type(*floats) if floats else np.dtype(np.float64)
    if elementwise:
        return _map(
            da,
            _common_grid(raws, outcome_axis=None),
            dtype=dtype,
            measure=measure,
            wrappers=wrappers,
            axis=None,
            options=options,
        )
    if axis is None:
        return None
    ndim = max(r.ndim + (1 if lab else 0) for r, lab in zip(raws, labels, strict=True))
    if not -ndim <= axis < ndim:
        return None
    ax = axis % ndim
    aligned = []
    for raw, lab in zip(raws, labels, strict=True):
        lead = ndim - (1 if lab else 0) - raw.ndim
        if lead < 0 or (lab and lead and ax < lead):
            return None
        r = raw[(None,) * lead] if lead else raw
        if lab:
            aligned.append(da.expand_dims(r, axis=ax))
        elif len(r.chunks[ax]) == 1:
            aligned.append(r)
        elif r.shape[ax] * r.dtype.itemsize <= _chunk_bytes():
            # Rows split across chunks would need the lazy graph, whose NumPy tasks run
            # outside klkit (and outside its error state); a row that fits in a chunk is
            # put in one, with the other axes sized by Dask's own chunk-size setting.
            aligned.append(r.rechunk({i: -1 if i == ax else "auto" for i in range(ndim)}))
        else:
            return None
    return _map(
        da,
        _common_grid(aligned, outcome_axis=ax),
        dtype=dtype,
        measure=measure,
        wrappers=wrappers,
        axis=ax,
        options=options,
    )


def _chunk_bytes() -> int:
    """Dask's target chunk size in bytes (``array.chunk-size``, 128 MiB by default)."""
    import dask  # noqa: PLC0415  (only reached with Dask input)
    from dask.utils import parse_bytes  # noqa: PLC0415

    return int(parse_bytes(dask.config.get("array.chunk-size")))


def _common_grid(arrays: list[Any], *, outcome_axis: int | None) -> list[Any]:
    """Rechunk Dask arrays that broadcast together onto one grid of blocks.

    ``map_blocks`` pairs blocks by their position, so arguments chunked differently
    (rows in 2s against rows in 1s, or labels in 1s against probabilities in 4s) gave
    an IndexError, a bogus broadcast error or a result of the wrong length. Along each
    axis, every array of the full length takes the common refinement of their chunk
    boundaries (only slicing, no data moves); length-1 axes broadcast as they are.
    Padded on the left to one number of dimensions, as broadcasting does.
    """
    ndim = max(a.ndim for a in arrays)
    arrays = [a[(None,) * (ndim - a.ndim)] if a.ndim < ndim else a for a in arrays]
    grid: list[tuple[int, ...] | None] = []
    for i in range(ndim):
        full = max(a.shape[i] for a in arrays)
        cuts = {
            int(c)
            for a in arrays
            if a.shape[i] == full and full > 1
            for c in np.cumsum((0, *a.chunks[i]))
        }
        grid.append(tuple(np.diff(sorted(cuts)).tolist()) if cuts and i != outcome_axis else None)
    out = []
    for a in arrays:
        chunks = tuple(
            g if g is not None and a.shape[i] != 1 else a.chunks[i] for i, g in enumerate(grid)
        )
        out.append(a.rechunk(chunks) if chunks != a.chunks else a)
    return out


def _map(da: Any, arrays: list[Any], *, dtype: Any, axis: int | None, **block: Any) -> Any:
    """``map_blocks`` of :func:`_run_block`; ``axis`` (the outcomes) is reduced away."""
    return da.map_blocks(
        _run_block,
        *arrays,
        axis=axis,
        **({} if axis is None else {"drop_axis": axis}),
        **block,
        dtype=dtype,
        meta=np.empty((), dtype=dtype),
    )


# --- Dask: linear algebra on stacks of small matrices ------------------------------


def _cholesky_or_nan(m: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Lower Cholesky factors of a stack of matrices; NaN for those not positive definite."""
    try:
        return np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        out = np.full_like(m, np.nan)
        for i in np.ndindex(m.shape[:-2]):
            try:
                out[i] = np.linalg.cholesky(m[i])
            except np.linalg.LinAlgError:
                continue  # left NaN: the deferred check names this matrix
        return out


def _whole_matrices(x: Any) -> Any:
    """Rechunk a Dask array so that each block holds whole matrices (last two axes)."""
    return x.rechunk({x.ndim - 2: -1, x.ndim - 1: -1})


def dask_cholesky(x: Any) -> Any:
    """Lower Cholesky factors of a (batched) Dask covariance, block by block, lazily.

    ``dask.array.linalg.cholesky`` takes one 2-D matrix only. Matrices that are not
    positive definite come back as NaN, for a deferred check to name.
    """
    return _whole_matrices(x).map_blocks(_cholesky_or_nan, dtype=x.dtype)


def dask_solve(a: Any, b: Any) -> Any:
    """``a^-1 b`` for Dask stacks of equal batch shape, block by block, lazily."""
    import dask.array as da  # noqa: PLC0415  (only reached with Dask input)

    a = _whole_matrices(a)
    b = b.rechunk((*a.chunks[:-2], (b.shape[-2],), (b.shape[-1],)))
    return da.map_blocks(  # type: ignore[no-untyped-call]
        np.linalg.solve, a, b, dtype=np.result_type(a.dtype, b.dtype), chunks=b.chunks
    )
