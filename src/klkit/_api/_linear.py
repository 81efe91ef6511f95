"""``LinearLogits``: cross-entropy and KL from a linear head, a chunk of rows at a time.

The logits ``h @ W.T + b`` of a large vocabulary are the biggest tensor of a language
model's loss (N x K, e.g. 4096 x 128,256 floats = 2 GiB in float32). Here they exist
only a chunk of rows at a time: each chunk's logits are computed, turned into per-row
values by the same code as ``Logits`` (every option included), and dropped. For
gradients each chunk is recomputed in the backward pass (torch's
``torch.utils.checkpoint``, ``jax.checkpoint``), so memory beyond the inputs is one
chunk's logits and their gradient. On torch, when P is ``Labels`` and no row mask is
given, ``F.linear_cross_entropy`` (torch >= 2.13, chunked) computes the rows instead.

The inputs are checked once, before chunking, so that an error names the row of the
whole input: P against a stand-in prediction of K outcomes, and ``h``, ``weight``
and ``bias`` for non-finite entries.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from klkit._api._options import Frame, as_xp, mask, rewrap, rows_with_options, weight_array
from klkit._backends import _jax, _namespace, _torch
from klkit._core._checks import Checks, check_labels
from klkit._core._errors import DistributionError
from klkit._core._inputs import Labels, LinearLogits, Logits, LogProbs, prepare, wide_labels
from klkit._typing import Array, Namespace

__all__ = ["CHUNK_BYTES", "linear_rows"]

CHUNK_BYTES = 16 * 2**20
"""Bytes of logits computed at once (a chunk of rows of ``h @ W.T + b``).

A chunk's forward and backward hold about ten arrays of its size (logits, their
softmax, the smoothed target, gradients), so 16 MiB chunks peak near 150-250 MB at
(2048 x 64) against (50,000 x 64), where the materialised loss takes 1.2 GB."""


def linear_rows(
    public: Callable[..., Any],
    p: Any,
    q: LinearLogits,
    *,
    normalize: bool,
    validate: bool,
    where: Any,
    weight: Any,
    reduced: bool = False,
) -> tuple[Array, Array | None]:
    """Per-row values of ``public(p, q)`` and what "mean" divides by, chunk by chunk.

    ``reduced``: the caller only sums the rows ("sum" or "mean"), so torch's path may
    return their sum and the divisor as 0-d arrays instead.
    """
    name = public.__name__
    if name not in ("cross_entropy", "kl_divergence"):
        msg = (
            "`klkit.LinearLogits` is a prediction (Q) of cross_entropy and kl_divergence, "
            f"not of {name}."
        )
        raise TypeError(msg)
    xp, h, w, b = _head(q)
    k, d = int(w.shape[0]), int(w.shape[1])
    rows_shape = tuple(int(s) for s in h.shape[:-1])
    n = math.prod(rows_shape)
    h2 = xp.reshape(h, (n, d))
    p2 = _flat_target(p, xp, rows_shape, n, k, h)
    m2 = None
    if where is not None:
        m = xp.broadcast_to(mask(where, xp, [h], rows_shape), rows_shape)
        m2 = xp.reshape(m, (n,))
    attach = _checked(xp, h2, w, b, p2, m2, k, normalize, weight) if validate else []
    fast = None
    if name == "cross_entropy" and m2 is None and isinstance(p2, Labels):
        fast = _torch.torch_linear_cross_entropy(
            h2,
            w,
            b,
            p2.array,
            ignore_index=p2.ignore_index,
            smoothing=p2.smoothing,
            temperature=q.temperature,
            weight=weight,
            reduced=reduced,
        )
    if fast is not None:
        rows, counts = fast
        if rows.ndim == 0:  # already summed (``reduced``)
            for checks in attach:
                rows = checks.attach(rows)
            return rows, counts
    else:
        rows, counts = _chunks(public, xp, h2, w, b, p2, m2, q.temperature, normalize, weight)
    for checks in attach:  # Dask: the checks run with the result's graph
        rows = checks.attach(rows)
    rows = xp.reshape(rows, rows_shape)
    return rows, None if counts is None else xp.reshape(counts, rows_shape)


def _checked(
    xp: Namespace,
    h: Array,
    w: Array,
    b: Array | None,
    p: Any,
    m: Array | None,
    k: int,
    normalize: bool,
    weight: Any,
) -> list[Checks]:
    """Check every input once, over the whole batch, so that errors name global rows.

    Rows left out (``where=False``, ignored labels) are not checked, as with
    ``Logits``. Only O(N d + K d) for the head and O(N) for labels: no (N, K) array
    is built (probabilities as P are checked as they are, an input of that size).
    """
    device = _namespace.device_of(h)
    keep = m
    if isinstance(p, Labels) and p.ignore_index is not None:
        kept = p.array != p.ignore_index
        keep = kept if keep is None else keep & kept
    h_kept = (
        h
        if keep is None
        else xp.where(keep[:, None], h, xp.zeros((), dtype=h.dtype, device=device))
    )
    _check_head(xp, h_kept, w, b)
    if weight is not None:
        weight_array(weight, xp, k, h, h.dtype, enabled=True)
    if isinstance(p, Labels):
        y = (
            p.array
            if keep is None
            else xp.where(keep, p.array, xp.zeros((), dtype=p.array.dtype, device=device))
        )
        y = wide_labels(xp, y, device)
        checks = Checks(y, xp=xp, enabled=True)
        check_labels(y, "p", n_classes=k, axis=-1, checks=checks)
        return [checks]
    dense = p
    if keep is not None:
        stand = Frame(xp, (int(h.shape[0]),), 1, 2)  # rows (N,), outcomes on axis 1
        kind = (
            "logits"
            if isinstance(p, Logits)
            else "logprobs"
            if isinstance(p, LogProbs)
            else "probs"
        )
        raw = p.array if isinstance(p, Logits | LogProbs) else p
        dense = rewrap(p, stand.stand_in(raw, kind, keep, raw.dtype, normalize))
    return [prepare([("p", dense)], axis=-1, normalize=normalize, validate=True).checks]


def _head(q: LinearLogits) -> tuple[Namespace, Array, Array, Array | None]:
    """``h``, ``weight`` and ``bias`` as arrays of one library, their shapes checked."""
    parts = [("h", q.h), ("weight", q.weight)] + ([] if q.bias is None else [("bias", q.bias)])
    given = [(n, v) for n, v in parts if _namespace.is_array(v)]
    if given:
        xp = _namespace.namespace(*(v for _, v in given), names=[n for n, _ in given])
        like = given[0][1]
    else:
        xp = _namespace.numpy_namespace()
        like = xp.asarray(0.0)
    device = _namespace.device_of(like)
    h, w = (as_xp(v, xp, device, like) for v in (q.h, q.weight))
    b = None if q.bias is None else as_xp(q.bias, xp, device, like)
    if w.ndim != 2 or h.ndim < 1 or int(h.shape[-1]) != int(w.shape[1]):
        msg = (
            f"`LinearLogits`: `h` has shape {tuple(h.shape)} and `weight` {tuple(w.shape)}; "
            "`weight` must be (K, d) as in torch.nn.Linear, with d the last axis of `h`."
        )
        raise ValueError(msg)
    if b is not None and tuple(b.shape) != (int(w.shape[0]),):
        msg = f"`LinearLogits`: `bias` has shape {tuple(b.shape)}; it must be ({w.shape[0]},)."
        raise ValueError(msg)
    floats = [a for a in (h, w, b) if a is not None]
    for a in floats:
        if not xp.isdtype(a.dtype, "real floating"):
            msg = f"`LinearLogits` takes floating arrays; got dtype {a.dtype}."
            raise ValueError(msg)
    dtype = xp.result_type(*(a.dtype for a in floats))
    h, w = xp.astype(h, dtype), xp.astype(w, dtype)
    return xp, h, w, None if b is None else xp.astype(b, dtype)


def _check_head(xp: Namespace, h: Array, w: Array, b: Array | None) -> None:
    """Non-finite entries of ``h``, ``weight`` or ``bias``: a DistributionError naming them."""
    for name, a in (("h", h), ("weight", w), ("bias", b)):
        if a is None or _namespace.is_compiling() or _namespace.is_jax_tracer(a):
            continue  # nothing can be read (a Dask head is computed for the check)
        bad = ~xp.isfinite(a)
        if bool(xp.any(bad)):
            flat = xp.reshape(xp.astype(bad, xp.int8), (-1,))
            index = int(xp.argmax(flat))
            row, col = divmod(index, int(a.shape[-1])) if a.ndim > 1 else (index, None)
            where = f"row {row}, column {col}" if col is not None else f"index {row}"
            raise DistributionError(
                problem=f"has a non-finite entry at {where} "
                f"({float(xp.reshape(a, (-1,))[index])!r}); the logits would be NaN.",
                argument=name,
                fix="Check the model's activations and parameters for overflow.",
            )


def _flat_target(
    p: Any, xp: Namespace, rows_shape: tuple[int, ...], n: int, k: int, h: Array
) -> Any:
    """P broadcast to the rows of ``h`` and flattened to ``(n,)`` labels or ``(n, K)``."""
    device = _namespace.device_of(h)
    if isinstance(p, Labels):
        y = xp.reshape(xp.broadcast_to(as_xp(p.array, xp, device, h), rows_shape), (n,))
        return Labels(y, ignore_index=p.ignore_index, smoothing=p.smoothing)
    raw = p.array if isinstance(p, Logits | LogProbs) else p
    a = as_xp(raw, xp, device, h)
    if a.ndim == 0 or int(a.shape[-1]) != k:
        msg = (
            f"`p` has shape {tuple(a.shape)}; against `LinearLogits` of {k} classes it must "
            f"end in {k} outcomes (or be `klkit.Labels`)."
        )
        raise DistributionError(msg)
    a = xp.reshape(xp.broadcast_to(a, (*rows_shape, k)), (n, k))
    if isinstance(p, Logits):
        return Logits(a, temperature=p.temperature)
    return LogProbs(a) if isinstance(p, LogProbs) else a


def _chunks(
    public: Callable[..., Any],
    xp: Namespace,
    h: Array,
    w: Array,
    b: Array | None,
    p: Any,
    m: Array | None,
    temperature: float,
    normalize: bool,
    weight: Any,
) -> tuple[Array, Array | None]:
    """Rows chunk by chunk; each chunk recomputed in the backward pass."""
    n, k = int(h.shape[0]), int(w.shape[0])
    step = max(1, CHUNK_BYTES // max(1, k * _itemsize(h)))
    bounds = [(start, min(n, start + step)) for start in range(0, n, step)]

    def block(start: int, stop: int, h_c: Array, w_: Array, b_: Array | None) -> Any:
        z = h_c @ w_.T
        if b_ is not None:
            z = z + b_
        if temperature != 1.0:
            z = z / temperature
        p_c = _slice(p, start, stop)
        m_c = None if m is None else m[start:stop]
        return rows_with_options(
            public, {"p": p_c, "q": Logits(z)}, -1, normalize, False, m_c, weight
        )

    library = _namespace.library_of(h)
    if library == "torch" and not _needs_grad(p):
        return _torch.chunked_rows(block, h, w, b, bounds)
    outs = []
    for start, stop in bounds:
        if library in ("torch", "jax"):  # recomputed in the backward pass
            check = _torch.checkpoint if library == "torch" else _jax.checkpoint
            outs.append(check(functools.partial(block, start, stop), h[start:stop, ...], w, b))
        else:
            outs.append(block(start, stop, h[start:stop, ...], w, b))
    rows = xp.concat([r for r, _ in outs]) if len(outs) > 1 else outs[0][0]
    counts = [c for _, c in outs if c is not None]
    if not counts:
        return rows, None
    return rows, xp.concat(counts) if len(counts) > 1 else counts[0]


def _needs_grad(p: Any) -> bool:
    """Whether P is a torch tensor that needs a gradient (then each chunk is checkpointed)."""
    raw = p.array if isinstance(p, Logits | LogProbs | Labels) else p
    return bool(getattr(raw, "requires_grad", False))


def _itemsize(a: Array) -> int:
    name = str(a.dtype)
    return 8 if "64" in name else 2 if "16" in name else 4


def _slice(p: Any, start: int, stop: int) -> Any:
    if isinstance(p, Labels):
        return Labels(p.array[start:stop], ignore_index=p.ignore_index, smoothing=p.smoothing)
    if isinstance(p, Logits):
        return Logits(p.array[start:stop, ...], temperature=p.temperature)
    if isinstance(p, LogProbs):
        return LogProbs(p.array[start:stop, ...])
    return p[start:stop, ...]
