"""Dask: checks deferred to ``compute()``, the block-by-block engine, and stacked linear algebra.

Speed and memory reason: Dask's scheduler keeps every input chunk alive when a graph
reads each chunk from several places (the masks and branches of a stable KL term do),
which defeats chunked evaluation; here each block of a result is computed by one task
from one block of each input, with the eager checks inside it, so peak memory is a
few chunks. Only reached with Dask input, so ``dask`` is already imported.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from array_api_compat import is_dask_array

from klkit._typing import Array, Namespace

__all__ = [
    "DASK_BLOCK",
    "DeferredCheck",
    "attach_deferred_checks",
    "dask_batchwise",
    "dask_blockwise",
    "dask_cholesky",
    "dask_solve",
    "deferred_check",
]

# --- deferred validation ----------------------------------------------------------------

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


#: While a measure runs on one Dask block: (offsets of the block in the full arrays,
#: the outcome axis or None). Checks add the offsets so errors name global indices.
DASK_BLOCK: contextvars.ContextVar[tuple[tuple[int, ...], int | None] | None] = (
    contextvars.ContextVar("klkit_dask_block", default=None)
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
    token = DASK_BLOCK.set((tuple(offsets), axis))
    try:
        extra = {} if axis is None else {"axis": axis}
        return np.asarray(measure(*args, **extra, **options))
    finally:
        DASK_BLOCK.reset(token)


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


def dask_batchwise(
    compute: Callable[..., Any],
    arrays: Sequence[Array],
    *,
    batch: tuple[int, ...],
    events: Sequence[int],
    dtype: Any,
) -> Any:
    """Run ``compute`` on Dask arrays one NumPy task per block of a batch, lazily.

    Speed reason: written in ``xp.*`` on Dask, a closed form's series and shifted
    recurrences (each a few hundred elementwise steps) become a graph of thousands of
    tasks per chunk, seconds to schedule for a handful of numbers. When the work is
    elementwise over a batch, each block of the result is computed from the matching
    blocks of the inputs by one task.

    ``arrays[i]`` broadcasts to ``batch`` followed by its last ``events[i]`` axes (an
    event, kept whole in every block); ``compute(*blocks)`` takes the NumPy blocks in
    that order and returns the result's block, of the batch's shape.
    """
    import dask.array as da  # noqa: PLC0415  (only reached with Dask input)

    out_ind = tuple(range(len(batch)))
    args: list[Any] = []
    for x, event in zip(arrays, events, strict=True):
        event_shape = tuple(x.shape[x.ndim - event :]) if event else ()
        args += [
            da.broadcast_to(x, batch + event_shape),  # type: ignore[no-untyped-call]
            out_ind + tuple(range(len(batch), len(batch) + event)),
        ]

    def block(*blocks: Any) -> Any:
        return np.asarray(compute(*blocks))

    return da.blockwise(  # type: ignore[no-untyped-call]
        block, out_ind, *args, dtype=dtype, concatenate=True
    )


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
