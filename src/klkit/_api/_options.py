"""Per-row values with the training-loss options (masks, weights, labels' options).

The arguments are rewritten so that the router computes plain per-row values:

* ``Logits(z, temperature=T)`` becomes ``Logits(z / T)``.
* Rows to leave out (``where=False`` or a label equal to ``ignore_index``) get safe
  stand-in inputs (label 0, uniform probabilities, zero logits) before anything is
  computed, and a zero afterwards. Their gradient is therefore exactly 0, never NaN,
  even where the real inputs would give an infinite value; their values are not
  checked (padding may hold anything).
* ``Labels(y, smoothing=eps)`` is checked as labels, then read as the probabilities
  ``(1 - eps) onehot(y) + eps / K``.
* ``weight`` (cross-entropy) multiplies each class's term, as torch's ``weight``.
* Half-precision inputs (float16, bfloat16) are computed in float32.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any

from klkit._api import _route
from klkit._backends import _jax, _namespace, _torch_losses
from klkit._core import _rows
from klkit._core._checks import as_axis, check_axis, tolerance_of
from klkit._core._inputs import (
    Labels,
    Logits,
    LogProbs,
    broadcast_shape,
    convert,
    dense,
    prepare,
)
from klkit._typing import Array, Namespace

__all__ = [
    "HALF",
    "Frame",
    "as_xp",
    "check_nonnegative",
    "is_half",
    "mask",
    "rewrap",
    "rows_with_options",
    "weight_array",
]

HALF = ("float16", "bfloat16")
"""Floating dtypes computed in float32 and returned in their own dtype."""


def is_half(dtype: object) -> bool:
    """Tell whether ``dtype`` (of any library) is float16 or bfloat16."""
    return any(h in str(dtype) for h in HALF)


def rows_with_options(
    public: Callable[..., Any],
    args: dict[str, Any],
    axis: object,
    normalize: bool,
    validate: bool,
    where: Any,
    weight: Any,
) -> tuple[Array, Array | None]:
    """Per-row nats with every option but the reduction, and what "mean" divides by."""
    name = public.__name__
    if weight is not None and name != "cross_entropy":
        msg = f"`weight` (per-class weights) applies to cross_entropy, not to {name}."
        raise ValueError(msg)
    fast = None
    if name == "cross_entropy":
        fast = _torch_labels(args, axis, validate, where, weight)
        fast = _jax_labels(args, axis, validate, where, weight) if fast is None else fast
    if fast is not None:
        return fast
    items = list(args.items())
    xp, kinds, arrays, dtype = convert(items)
    tolerance: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if is_half(dtype):  # half precision: computed in float32, returned in the input's dtype
        # and checked with the tolerance of the dtype the numbers were given in
        tolerance = tolerance_of(dtype, float(_namespace.finfo(xp, dtype).eps))
        dtype = xp.float32
        arrays = [
            a if k == "labels" else xp.astype(a, dtype) for a, k in zip(arrays, kinds, strict=True)
        ]
    with tolerance:
        originals = [v for _, v in items]
        for i, v in enumerate(originals):
            if isinstance(v, Logits) and v.temperature != 1.0:
                arrays[i] = arrays[i] / v.temperature
        ax_given = as_axis(axis)
        frame = Frame.of(xp, kinds, arrays, [n for n, _ in items], ax_given)
        keep = frame.keep(where, originals, arrays)
        if keep is not None:
            arrays = [
                frame.stand_in(a, k, keep, dtype, normalize)
                for a, k in zip(arrays, kinds, strict=True)
            ]
        plain_args = {n: rewrap(v, a) for (n, v), a in zip(items, arrays, strict=True)}
        smoothed = [i for i, v in enumerate(originals) if isinstance(v, Labels) and v.smoothing]
        counts: Array | None = keep
        if weight is not None or smoothed:
            prep = prepare(
                list(plain_args.items()), axis=ax_given, normalize=normalize, validate=validate
            )
            eps = {i: originals[i].smoothing for i in smoothed}
            if weight is not None:
                w = _weights(weight, prep)
                rows, label_weight = _rows.weighted_cross_entropy_rows(
                    prep, w, smoothing=eps.get(0, 0.0)
                )
                if label_weight is not None:  # torch: "mean" divides by the labels' weights
                    counts = label_weight if keep is None else xp.where(keep, label_weight, 0.0)
            else:
                rows = _smoothed(public, prep, smoothed, eps, normalize)
            rows = prep.checks.attach(rows)
        else:
            rows = _route.measure(public, plain_args, None, axis, False, normalize, validate)
            rows = xp.asarray(rows) if not hasattr(rows, "shape") else rows
        if keep is not None:
            rows = xp.where(keep, rows, 0.0)
            counts = counts if counts is not keep else xp.astype(keep, rows.dtype)
        return rows, counts


def _torch_labels(
    args: dict[str, Any], axis: object, validate: bool, where: Any, weight: Any
) -> tuple[Array, Array | None] | None:
    """Labels against logits on torch: ``F.cross_entropy`` with torch's options, or None."""
    p, q = args.get("p"), args.get("q")
    if where is not None or not (isinstance(p, Labels) and isinstance(q, Logits)):
        return None
    z = q.array
    if _namespace.library_of(z) != "torch" or _namespace.is_compiling():
        return None
    if as_axis(axis) not in (-1, z.ndim - 1) or is_half(z.dtype):
        return None
    if weight is not None and not _namespace.is_array(weight):
        try:
            weight = _namespace.namespace(z, names=["q"]).asarray(weight, device=z.device)
        except (TypeError, ValueError):
            return None  # the generic path names the problem
    return _torch_losses.torch_ce_options(
        p.array,
        z / q.temperature if q.temperature != 1.0 else z,
        ignore_index=p.ignore_index,
        smoothing=p.smoothing,
        weight=weight,
        validate=validate,
    )


def _jax_labels(
    args: dict[str, Any], axis: object, validate: bool, where: Any, weight: Any
) -> tuple[Array, Array | None] | None:
    """Labels against logits on JAX when no value is checked: closed-form rows, or None.

    Under ``jit`` (a tracer among the arrays) or with ``validate=False``; eager
    validated calls, and anything the generic path must convert or refuse (other
    shapes, dtypes, a weight that is not a (K,) array), take the generic path.
    """
    p, q = args.get("p"), args.get("q")
    if where is not None or not (isinstance(p, Labels) and isinstance(q, Logits)):
        return None
    y, z = p.array, q.array
    if _namespace.library_of(z) != "jax" or _namespace.library_of(y) not in ("jax", "numpy"):
        return None
    arrays = (y, z) if weight is None else (y, z, weight)
    if validate and not _namespace.is_jax_tracer(*arrays):
        return None
    if z.ndim < 1 or as_axis(axis) not in (-1, z.ndim - 1) or z.shape[-1] == 0:
        return None
    if str(z.dtype) not in ("float32", "float64") or tuple(y.shape) != tuple(z.shape[:-1]):
        return None
    if "int" not in str(y.dtype):  # signed or unsigned integers; not bool or floats
        return None
    if weight is not None and (
        _namespace.library_of(weight) not in ("jax", "numpy")
        or tuple(weight.shape) != (z.shape[-1],)
        or "float" not in str(weight.dtype)
    ):
        return None
    return _jax.jax_ce_labels(
        y,
        z / q.temperature if q.temperature != 1.0 else z,
        ignore_index=p.ignore_index,
        smoothing=p.smoothing,
        weight=weight,
    )


def rewrap(original: Any, array: Array) -> Any:
    if isinstance(original, Logits):
        return Logits(array)
    if isinstance(original, LogProbs):
        return LogProbs(array)
    if isinstance(original, Labels):
        return Labels(array)
    return array


def _smoothed(
    public: Callable[..., Any],
    prep: Any,
    smoothed: list[int],
    eps: dict[int, float],
    normalize: bool,
) -> Array:
    """Rows of ``public`` with the smoothed labels read as probabilities."""
    xp = prep.xp
    if prep.n_outcomes is None:
        msg = (
            "`Labels(..., smoothing=...)` needs the number of classes K, but no argument "
            "has a class axis (labels only). Pass the other side as probabilities or "
            "logits, or the smoothed probabilities themselves."
        )
        raise ValueError(msg)
    k = int(prep.n_outcomes)
    new: dict[str, Any] = {}
    for i, d in enumerate(prep.dists):
        if i in smoothed:
            onehot, _ = dense(d, prep)
            new[d.name] = (1.0 - eps[i]) * onehot + eps[i] / k
        elif d.kind == "labels":
            new[d.name] = Labels(xp.squeeze(d.array, axis=prep.axis))
        elif d.kind == "logits":
            new[d.name] = Logits(d.array)
        elif d.kind == "logprobs":
            new[d.name] = LogProbs(d.array)
        else:
            new[d.name] = d.array
    out = _route.measure(public, new, None, prep.axis, False, normalize, False)
    out = out if hasattr(out, "shape") else xp.asarray(out)
    for i in smoothed:  # validate=False: a label outside 0..K-1 is a NaN row
        out = xp.where(_rows.labels_in_range(prep.dists[i], prep), out, xp.nan)
    return out


def _weights(weight: Any, prep: Any) -> Array:
    """``weight`` as a (K,) array of the inputs' library and dtype, checked."""
    like = prep.dists[-1].array
    k = int(prep.n_outcomes or 0)
    return weight_array(weight, prep.xp, k, like, prep.dtype, enabled=prep.checks.active)


def weight_array(
    weight: Any, xp: Namespace, k: int, like: Array, dtype: Any, *, enabled: bool
) -> Array:
    """Per-class ``weight`` as a (K,) array of ``like``'s library in ``dtype``, checked."""
    try:
        w = as_xp(weight, xp, _namespace.device_of(like), like)
    except (TypeError, ValueError):
        msg = f"`weight` must be an array of {k} per-class weights; got {type(weight).__name__}."
        raise ValueError(msg) from None
    if tuple(w.shape) != (k,):
        msg = f"`weight` has shape {tuple(w.shape)}; it must be ({k},), one weight per class."
        raise ValueError(msg)
    w = xp.astype(w, dtype)
    check_nonnegative("weight", w, xp, enabled=enabled, what="class weights")
    return w


def check_nonnegative(name: str, w: Array, xp: Namespace, *, enabled: bool, what: str) -> None:
    """Raise a ValueError naming ``name`` unless every entry is finite and >= 0.

    Checked at call time on every library: a Dask option array (class weights,
    ``pos_weight``) is computed for it, as options are small next to the data. Inside
    ``jax.jit`` or ``torch.compile`` nothing can be read, so nothing is checked.
    """
    if not enabled or _namespace.is_compiling() or _namespace.is_jax_tracer(w):
        return
    flat = xp.reshape(~(xp.isfinite(w) & (w >= 0)), (-1,))
    if bool(xp.any(flat)):
        index = int(xp.argmax(xp.astype(flat, xp.int8)))
        value = float(xp.reshape(w, (-1,))[index])
        msg = f"`{name}` has {value!r} at flat index {index}; {what} must be finite and >= 0."
        raise ValueError(msg)


class Frame:
    """Where the rows are: the row shape and the outcome axis of the padded arrays."""

    def __init__(self, xp: Namespace, rows: tuple[int, ...], ax: int | None, ndim: int) -> None:
        self.xp, self.rows, self.ax, self.ndim = xp, rows, ax, ndim

    @classmethod
    def of(
        cls,
        xp: Namespace,
        kinds: Sequence[str],
        arrays: list[Array],
        names: list[str],
        axis: int | None,
    ) -> Frame:
        if axis is None or all(k == "labels" for k in kinds):
            shapes = [tuple(a.shape) for a, k in zip(arrays, kinds, strict=True) if k == "labels"]
            rows = () if axis is None else broadcast_shape(shapes, names)
            return cls(xp, rows, None, 0)
        ndim = max(
            a.ndim if k != "labels" else a.ndim + 1 for a, k in zip(arrays, kinds, strict=True)
        )
        ax = check_axis(axis, ndim)
        shapes = []
        for a, k in zip(arrays, kinds, strict=True):
            if k == "labels":
                shapes.append(tuple(a.shape))
            else:
                padded = (1,) * (ndim - a.ndim) + tuple(a.shape)
                shapes.append(padded[:ax] + padded[ax + 1 :])
        return cls(xp, broadcast_shape(shapes, names), ax, ndim)

    def keep(self, where: Any, originals: list[Any], arrays: list[Array]) -> Array | None:
        """Return the rows that count, shaped like the rows, or None when all do."""
        xp = self.xp
        keep = None
        for v, a in zip(originals, arrays, strict=True):
            if isinstance(v, Labels) and v.ignore_index is not None:
                k = a != v.ignore_index
                keep = k if keep is None else keep & k
        if where is not None:
            m = mask(where, xp, arrays, self.rows)
            keep = m if keep is None else keep & m
        if keep is None:
            return None
        return xp.broadcast_to(keep, self.rows)

    def stand_in(self, a: Array, kind: str, keep: Array, dtype: Any, normalize: bool) -> Array:
        """Return ``a`` with safe values in the rows left out (see the module docstring)."""
        xp = self.xp
        device = _namespace.device_of(a)
        if kind == "labels":
            return xp.where(keep, a, xp.zeros((), dtype=a.dtype, device=device))
        if self.ax is None:
            k, mask = math.prod(a.shape), keep
        else:
            k = a.shape[self.ax - (self.ndim - a.ndim)] if a.ndim else 1
            mask = xp.expand_dims(keep, axis=self.ax)
        safe = {"probs": 1.0 if normalize else 1.0 / k, "logits": 0.0}.get(kind)
        if safe is None:  # log-probabilities: log(1/K)
            safe = -math.log(k)
        return xp.where(mask, a, xp.asarray(safe, dtype=a.dtype, device=device))


def mask(where: Any, xp: Namespace, arrays: list[Array], rows: tuple[int, ...]) -> Array:
    """``where`` as a boolean array of ``xp`` that broadcasts to the row shape."""
    device = _namespace.device_of(arrays[0])
    m = where if _namespace.is_array(where) else xp.asarray(where, device=device)
    if _namespace.is_array(where) and _namespace.library_of(where) != _namespace.library_of(
        arrays[0]
    ):
        m = xp.asarray(_namespace.to_numpy(where), device=device)
    if m.dtype != xp.bool:
        msg = (
            f"`where` must be a boolean array (True for the rows that count); got dtype {m.dtype}."
        )
        raise ValueError(msg)
    shape = tuple(m.shape)
    pairs = zip(reversed(shape), reversed(rows), strict=False)
    if len(shape) > len(rows) or any(s not in (1, r) for s, r in pairs):
        msg = (
            f"`where` has shape {tuple(m.shape)}; it must broadcast to the shape of the "
            f"rows, {rows} (the inputs' broadcast shape without the outcome axis)."
        )
        raise ValueError(msg)
    return m


def as_xp(value: Any, xp: Namespace, device: Any, like: Array) -> Array:
    """Return an option's array in the inputs' library (as given when it is one)."""
    if _namespace.is_array(value):
        if _namespace.library_of(value) == _namespace.library_of(like):
            return value
        value = _namespace.to_numpy(value)
    return xp.asarray(value, device=device)
