"""Training-loss options around the router: reduction, and torch's BCE options.

The public measures hand every call to :func:`loss` (binary cross-entropy to
:func:`binary_loss`). Without options it goes straight to the router; with them,
:mod:`klkit._api._options` computes the per-row values (masks, weights, ignored and
smoothed labels, temperature), ``LinearLogits`` are computed chunk by chunk
(:mod:`klkit._api._linear`), and the reduction sums or averages the rows that count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from klkit._api import _route
from klkit._api._linear import linear_rows
from klkit._api._options import as_xp, check_nonnegative, is_half, mask, rows_with_options
from klkit._backends import _namespace
from klkit._core import _rows
from klkit._core._checks import as_axis, check_base
from klkit._core._errors import DistributionError
from klkit._core._inputs import Labels, LinearLogits, Logits, LogProbs, broadcast_shape, convert
from klkit._core._named import align_outcomes, is_named
from klkit._typing import Array, Namespace
from klkit.distributions._measure import is_distribution

__all__ = [
    "REDUCTIONS",
    "binary_loss",
    "check_order",
    "check_reduction",
    "js_distance",
    "loss",
    "resolved",
]

REDUCTIONS = ("none", "sum", "mean")


def check_reduction(reduction: object) -> str:
    """Return ``reduction`` if it is one of :data:`REDUCTIONS`, else raise a ValueError."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        msg = (
            f'`reduction` must be "none" (one value per row), "sum" or "mean" (over the '
            f"rows that count); got {reduction!r}."
        )
        raise ValueError(msg)
    return reduction


def check_order(public: Callable[..., Any], args: dict[str, Any]) -> None:
    """Refuse torch's (input, target) order: P as logits with Q as labels.

    ``cross_entropy(Logits(z), Labels(y))`` would read the prediction as the target
    and give +inf for every row; it is always a swapped call.
    """
    values = list(args.values())
    linear = [n for n, v in args.items() if isinstance(v, LinearLogits)]
    if linear and (linear != ["q"] or public.__name__ not in ("cross_entropy", "kl_divergence")):
        msg = (
            f"`{linear[0]}` is `klkit.LinearLogits`, which is a prediction (Q) of "
            f"cross_entropy and kl_divergence only, not an argument of {public.__name__}."
        )
        raise TypeError(msg)
    if len(values) != 2:
        return
    p, q = values
    if isinstance(p, Logits | LogProbs | LinearLogits) and isinstance(q, Labels):
        kind = type(p).__name__
        raise DistributionError(
            problem=f"is `klkit.{kind}(...)` and {{name:q}} is `klkit.Labels(...)`: this "
            "is torch's (input, target) order. klkit's order is (target, prediction): "
            "P is what happens, Q what you predicted.",
            argument="p",
            fix=f"Swap them: `{public.__name__}(Labels(y), {kind}(z))`.",
        )


def _has_options(args: dict[str, Any]) -> bool:
    for v in args.values():
        if isinstance(v, Logits) and v.temperature != 1.0:
            return True
        if isinstance(v, Labels) and (v.ignore_index is not None or v.smoothing):
            return True
        if isinstance(v, LinearLogits):
            return True
    return False


def _half(args: dict[str, Any]) -> Any | None:
    """Return the half-precision dtype of the arguments, or None if none is half."""
    for v in args.values():
        raw = v.array if isinstance(v, Logits | LogProbs | Labels) else v
        raw = v.h if isinstance(v, LinearLogits) else raw
        dtype = getattr(raw, "dtype", None)
        if dtype is not None and is_half(dtype):
            return dtype
    return None


def loss(
    public: Callable[..., Any],
    args: dict[str, Any],
    base: object,
    axis: object,
    keepdims: bool,
    normalize: bool,
    validate: bool,
    reduction: object = "none",
    where: Any = None,
    weight: Any = None,
) -> Any:
    """Compute ``public`` of ``args`` with the training-loss options applied."""
    reduction = check_reduction(reduction)
    check_order(public, args)
    plain = reduction == "none" and where is None and weight is None and not _has_options(args)
    if any(is_distribution(v) for v in args.values()):
        if not plain:
            msg = (
                "`reduction`, `where`, `weight` and the options of Labels and Logits "
                "apply to arrays, not to distributions (a distribution is one value)."
            )
            raise ValueError(msg)
        return _route.measure(public, args, base, axis, keepdims, normalize, validate)
    if keepdims and reduction != "none":
        msg = (
            f'`keepdims=True` keeps the outcome axis of each row; with reduction="{reduction}" '
            'there are no rows left. Use reduction="none".'
        )
        raise ValueError(msg)
    half = _half(args)
    if plain and half is None:
        return _route.measure(public, args, base, axis, keepdims, normalize, validate)
    log_base = check_base(base)
    if any(is_named(v) for v in args.values()):
        aligned, _ = _route_align(args, axis)
        args = aligned
    if isinstance(args.get("q"), LinearLogits):
        if axis not in (-1, getattr(args["q"].h, "ndim", 0) - 1):
            msg = "`LinearLogits` has its classes on the last axis: leave `axis` at -1."
            raise ValueError(msg)
        rows, counts = linear_rows(
            public,
            args["p"],
            args["q"],
            normalize=normalize,
            validate=validate,
            where=where,
            weight=weight,
            reduced=reduction != "none",
        )
    else:
        rows, counts = rows_with_options(public, args, axis, normalize, validate, where, weight)
    xp = _namespace.namespace(rows, names=["result"])
    rows = _reduce(rows, counts, reduction, xp)
    if log_base is not None:
        rows = rows / log_base
    if keepdims:
        rows = _keepdims(rows, args, axis, xp)
    if half is not None:
        rows = xp.astype(rows, half)
    return _namespace.numpy_scalar(rows, xp)


def _reduce(rows: Array, counts: Array | None, reduction: str, xp: Namespace) -> Array:
    """Sum the rows, or average them over ``counts`` (every row counts once if None).

    A mean with nothing left to average is 0, with zero gradients (torch gives NaN).
    """
    if reduction == "none":
        return rows
    total = xp.sum(rows)
    if reduction == "sum":
        return total
    n = xp.sum(counts) if counts is not None else xp.asarray(float(math.prod(rows.shape)))
    some = n > 0
    return xp.where(some, total / xp.where(some, n, 1.0), 0.0 * total)


def _route_align(args: dict[str, Any], axis: object) -> tuple[dict[str, Any], Any]:
    aligned, names = align_outcomes(list(args.items()), axis=as_axis(axis))
    return dict(aligned), names


def _keepdims(rows: Array, args: dict[str, Any], axis: object, xp: Namespace) -> Array:
    ax = as_axis(axis)
    if ax is None:
        return xp.reshape(rows, (1,) * max(getattr(_raw(v), "ndim", 1) for v in args.values()))
    return xp.expand_dims(rows, axis=ax)


def _raw(v: Any) -> Any:
    return v.array if isinstance(v, Logits | LogProbs | Labels) else v


def binary_loss(
    public: Callable[..., Any],
    y: Any,
    y_hat: Any,
    *,
    base: object,
    weight: Any,
    pos_weight: Any,
    reduction: object,
    where: Any,
    validate: bool,
) -> Any:
    """Binary cross-entropy with torch's options: weight, pos_weight, reduction, where."""
    reduction = check_reduction(reduction)
    logits = isinstance(y_hat, Logits)
    plain = reduction == "none" and where is None and weight is None and pos_weight is None
    half = _half({"y": y, "y_hat": y_hat})
    if plain and half is None and not (logits and y_hat.temperature != 1.0):
        return _route.binary_cross_entropy(public, y, y_hat, base=base, validate=validate)
    log_base = check_base(base)
    _route.check_bce_wrappers(y, y_hat)
    xp, _, (t, h), dtype = convert([("y", y), ("y_hat", _raw(y_hat))])
    if is_half(dtype):
        t, h = xp.astype(t, xp.float32), xp.astype(h, xp.float32)
    if logits and y_hat.temperature != 1.0:
        h = h / y_hat.temperature
    shape = broadcast_shape([tuple(t.shape), tuple(h.shape)], ["y", "y_hat"])
    keep = None
    if where is not None:
        keep = xp.broadcast_to(mask(where, xp, [t, h], shape), shape)
        device = _namespace.device_of(h)
        t = xp.where(keep, t, xp.zeros((), dtype=t.dtype, device=device))
        h = xp.where(keep, h, xp.asarray(0.0 if logits else 0.5, dtype=h.dtype, device=device))
    pw = (
        None
        if pos_weight is None
        else _elementwise("pos_weight", pos_weight, h, shape, xp, validate)
    )
    summed = None
    if logits and reduction != "none" and pw is None and keep is None and weight is None:
        summed = _route.bce_logits_sum(t, h, validate=validate)  # torch: no elements kept
    if summed is not None:
        out = summed if reduction == "sum" else summed / max(math.prod(shape), 1)
    else:
        if pw is None:  # the router: torch's kernels (closed-form backward), Dask blocks
            out = _route.binary_cross_entropy(
                public, t, Logits(h) if logits else h, base=None, validate=validate
            )
            out = out if hasattr(out, "shape") else xp.asarray(out)
        else:
            out, checks, _ = _rows.bce_elements(
                t, h, logits=logits, validate=validate, pos_weight=pw
            )
            out = checks.attach(out)
        if weight is not None:
            out = out * _elementwise("weight", weight, h, shape, xp, validate)
        counts = None
        if keep is not None:
            out = xp.where(keep, out, 0.0)
            counts = xp.astype(keep, out.dtype)
        out = _reduce(out, counts, reduction, xp)
    if log_base is not None:
        out = out / log_base
    if half is not None:
        out = xp.astype(out, half)
    return _namespace.numpy_scalar(out, xp)


def _elementwise(
    name: str, value: Any, like: Array, shape: tuple[int, ...], xp: Namespace, validate: bool
) -> Array:
    """``weight`` or ``pos_weight`` of binary_cross_entropy: finite, >= 0, broadcasting."""
    device = _namespace.device_of(like)
    try:
        w = xp.astype(as_xp(value, xp, device, like), like.dtype)
    except (TypeError, ValueError):
        msg = f"`{name}` must be a number or an array of numbers; got {type(value).__name__}."
        raise ValueError(msg) from None
    try:
        full = broadcast_shape([tuple(w.shape), shape], [name, "y"])
    except DistributionError:
        full = None
    if full != shape:
        msg = (
            f"`{name}` has shape {tuple(w.shape)}; it must broadcast to the loss's shape "
            f"{shape} (the broadcast shape of `y` and `y_hat`)."
        )
        raise ValueError(msg)
    check_nonnegative(name, w, xp, enabled=validate, what=f"`{name}` entries")
    return w


def js_distance(
    public: Callable[..., Any],
    divergence: Callable[..., Any],
    args: dict[str, Any],
    base: object,
    axis: object,
    keepdims: bool,
    normalize: bool,
    validate: bool,
) -> Any:
    """Return ``sqrt(JS / log b)``.

    With options (temperature, labels' options, half precision) JS comes from
    :func:`loss` of ``divergence``; otherwise from the router.
    """
    check_order(public, args)
    if not _has_options(args) and _half(args) is None:
        return _route.measure(public, args, base, axis, keepdims, normalize, validate)
    log_base = check_base(base)
    js = loss(divergence, args, None, axis, keepdims, normalize, validate)
    xp = _namespace.namespace(js, names=["result"]) if hasattr(js, "shape") else None
    if xp is None:
        js = _namespace.numpy_namespace().asarray(js)
        xp = _namespace.numpy_namespace()
    if log_base is not None:
        js = js / log_base
    pos = js > 0  # the root's derivative is infinite at 0: taken as 0
    return _namespace.numpy_scalar(xp.where(pos, xp.sqrt(xp.where(pos, js, 1.0)), 0.0), xp)


def resolved(value: Any, name: str) -> Any:
    """Return ``value`` for :func:`klkit.explain`: Logits' temperature applied.

    explain compares one pair of distributions, so ``Labels``' ignore_index and
    smoothing, and ``LinearLogits``, have no place there.
    """
    if isinstance(value, Logits) and value.temperature != 1.0:
        raw = value.array
        if isinstance(raw, list | tuple):
            raw = np.asarray(raw, dtype=float)
        return Logits(raw / value.temperature)
    if isinstance(value, Labels) and (value.ignore_index is not None or value.smoothing):
        msg = (
            f"explain compares one pair of distributions: `{name}` as `klkit.Labels` takes "
            "no ignore_index or smoothing. Pass the smoothed probabilities themselves."
        )
        raise ValueError(msg)
    if isinstance(value, LinearLogits):
        msg = (
            f"explain takes `{name}` as probabilities, Logits, LogProbs or Labels, "
            "not LinearLogits."
        )
        raise TypeError(msg)
    return value
