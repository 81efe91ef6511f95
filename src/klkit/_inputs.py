"""How an argument is given (probabilities, logits, log-probabilities, labels).

``prepare`` turns the public arguments into arrays of one library and one floating
dtype, checks shapes, runs the value checks, and says how each argument must be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from array_api_compat import is_array_api_obj

from klkit import _compat
from klkit._typing import Array, DType, Namespace
from klkit._validation import (
    Checks,
    DistributionError,
    check_axis,
    check_labels,
    check_log_probs,
    check_logits,
    check_probabilities,
)

__all__ = [
    "Dist",
    "Labels",
    "LogProbs",
    "Logits",
    "Prepared",
    "as_array",
    "broadcast_shape",
    "convert",
    "dense",
    "prepare",
]


@dataclass(frozen=True)
class Logits:
    """Unnormalised log-probabilities (scores), read through a softmax along ``axis``.

    In :func:`klkit.binary_cross_entropy` they are log-odds, read through a sigmoid.
    Computations stay in log space (logsumexp / log-sigmoid identities), so logits
    of +-1e4 give finite, exact results. ``-inf`` means probability 0.

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> z = np.array([2.0, 0.5, -1.0])
    >>> p = np.exp(z) / np.exp(z).sum()
    >>> bool(np.isclose(kl.entropy(kl.Logits(z)), kl.entropy(p)))
    True
    """

    array: Any


@dataclass(frozen=True)
class LogProbs:
    """Normalised log-probabilities along ``axis`` (``exp`` sums to 1; -inf is 0).

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> float(kl.entropy(kl.LogProbs(np.log([0.5, 0.5]))))
    0.6931471805599453
    """

    array: Any


@dataclass(frozen=True)
class Labels:
    """Integer class indices standing for one-hot distributions.

    The class axis is the other argument's ``axis``; ``Labels`` has that axis
    removed (shape ``(N,)`` against probabilities or logits of shape ``(N, K)``).
    ``cross_entropy(Labels(y), Logits(z))`` is the usual classifier loss and never
    builds a one-hot array.

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> z = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    >>> kl.cross_entropy(kl.Labels(np.array([0, 2])), kl.Logits(z)).round(4)
    array([0.2413, 0.0949])
    """

    array: Any


Kind = Literal["probs", "logits", "logprobs", "labels"]
_KINDS: dict[type, Kind] = {Logits: "logits", LogProbs: "logprobs", Labels: "labels"}


@dataclass(frozen=True)
class Dist:
    """One prepared argument.

    ``array`` has ``ndim`` dimensions (padded on the left); for labels the class axis
    has length 1 (the number of outcomes is ``Prepared.n_outcomes``).
    """

    name: str
    kind: Kind
    array: Array


@dataclass(frozen=True)
class Prepared:
    """Arguments ready for a measure, plus what is needed to shape its result."""

    xp: Namespace
    dists: tuple[Dist, ...]
    axis: int
    n_outcomes: int | None
    dtype: DType
    normalize: bool
    checks: Checks
    keep_shape: tuple[int, ...] | None  # result shape for keepdims with axis=None


def _unwrap(value: object) -> tuple[Kind, object]:
    kind = _KINDS.get(type(value), "probs")
    return kind, (value.array if kind != "probs" else value)  # type: ignore[attr-defined]


def as_array(raw: object, name: str, xp: Namespace, device: Any) -> Array:
    """Turn an array, list, scalar or pandas object into an array of ``xp``."""
    if is_array_api_obj(raw):
        return raw
    try:
        host = np.asarray(raw)
    except (ValueError, TypeError):
        msg = (
            f"`{name}` could not be read as a numeric array (ragged nested lists?); "
            "pass a rectangular list or an array."
        )
        raise DistributionError(msg) from None
    if host.dtype.kind not in "biuf":
        _raise_dtype(name, str(host.dtype), complex_=host.dtype.kind == "c")
    if device is None:
        return xp.asarray(host)
    return xp.asarray(host, device=device)


def _raise_dtype(name: str, dtype: str, *, complex_: bool) -> None:
    problem = "is complex" if complex_ else "is not numeric"
    msg = (
        f"`{name}` {problem} (dtype {dtype}); probabilities must be real numbers. "
        "Pass a float or integer array."
    )
    raise DistributionError(msg)


def _check_dtype(xp: Namespace, a: Array, name: str, kind: Kind) -> None:
    try:
        integral = xp.isdtype(a.dtype, "integral")
        real = xp.isdtype(a.dtype, ("real floating", "bool")) or integral
        complex_ = xp.isdtype(a.dtype, "complex floating")
    except (TypeError, ValueError):
        real = integral = complex_ = False
    if kind == "labels":
        if not integral:
            msg = (
                f"`{name}` (labels) has dtype {a.dtype}; labels must be integer class "
                "indices. Cast them to an integer dtype, or pass the probabilities "
                "themselves without `klkit.Labels(...)`."
            )
            raise DistributionError(msg)
        return
    if not real:
        _raise_dtype(name, str(a.dtype), complex_=complex_)


def _float_dtype(xp: Namespace, arrays: Sequence[Array], device: Any) -> DType:
    floats = [a.dtype for a in arrays if xp.isdtype(a.dtype, "real floating")]
    if floats:
        return xp.result_type(*floats)
    return _compat.default_float(xp, device)


def _pad(xp: Namespace, a: Array, ndim: int) -> Array:
    if a.ndim == ndim:
        return a
    return xp.reshape(a, (1,) * (ndim - a.ndim) + tuple(a.shape))


def _length_along(shape: tuple[int, ...], ndim: int, axis: int) -> int:
    pos = axis - (ndim - len(shape))
    return shape[pos] if pos >= 0 else 1


def convert(
    args: Sequence[tuple[str, object]],
) -> tuple[Namespace, list[Kind], list[Array], DType]:
    """Unwrap the arguments into arrays of one library; non-labels get one float dtype."""
    names = [n for n, _ in args]
    kinds: list[Kind] = []
    raws: list[object] = []
    for _, value in args:
        kind, raw = _unwrap(value)
        kinds.append(kind)
        raws.append(raw)
    given = [(n, r) for n, r in zip(names, raws, strict=True) if is_array_api_obj(r)]
    if given:
        xp = _compat.namespace(*(r for _, r in given), names=[n for n, _ in given])
        device = _compat.device_of(given[0][1])
    else:
        xp, device = _compat.numpy_namespace(), None
    arrays = [as_array(r, n, xp, device) for n, r in zip(names, raws, strict=True)]
    for a, n, k in zip(arrays, names, kinds, strict=True):
        _check_dtype(xp, a, n, k)
    dense_idx = [i for i, k in enumerate(kinds) if k != "labels"]
    dtype = _float_dtype(xp, [arrays[i] for i in dense_idx], device)
    for i in dense_idx:
        if arrays[i].dtype != dtype:
            arrays[i] = xp.astype(arrays[i], dtype)
    return xp, kinds, arrays, dtype


def broadcast_shape(shapes: Sequence[tuple[int, ...]], names: Sequence[str]) -> tuple[int, ...]:
    """Broadcast ``shapes`` (NumPy rules), or raise a DistributionError naming them."""
    ndim = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    for k in range(ndim):
        sizes = {s[k - ndim + len(s)] for s in shapes if k - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            parts = " and ".join(f"`{n}` has shape {s}" for n, s in zip(names, shapes, strict=True))
            msg = f"{parts}; these do not broadcast against each other (NumPy rules)."
            raise DistributionError(msg)
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def prepare(
    args: Sequence[tuple[str, object]],
    *,
    axis: int | None,
    normalize: bool,
    validate: bool,
) -> Prepared:
    """Convert, shape-check and value-check the arguments of a measure."""
    names = [n for n, _ in args]
    xp, kinds, arrays, dtype = convert(args)
    dense_idx = [i for i, k in enumerate(kinds) if k != "labels"]
    checks = Checks(*arrays, xp=xp, enabled=validate)

    if not dense_idx:  # labels only: nothing has a class axis
        shape = broadcast_shape([tuple(a.shape) for a in arrays], names)
        only = tuple(
            Dist(n, "labels", _pad(xp, a, len(shape))) for n, a in zip(names, arrays, strict=True)
        )
        for d in only:
            check_labels(d.array, d.name, n_classes=None, axis=None, checks=checks)
        return Prepared(xp, only, -1, None, dtype, normalize, checks, None)

    keep_shape: tuple[int, ...] | None = None
    if axis is None:
        dense_shapes = [tuple(arrays[i].shape) for i in dense_idx]
        full = broadcast_shape(dense_shapes, [names[i] for i in dense_idx])
        keep_shape = (1,) * len(full)
        for i in dense_idx:
            arrays[i] = xp.reshape(xp.broadcast_to(arrays[i], full), (-1,))
        for i, k in enumerate(kinds):
            if k == "labels":
                if arrays[i].ndim != 0:
                    msg = (
                        f"`{names[i]}` (labels) has shape {tuple(arrays[i].shape)}; with "
                        "axis=None the other argument is one distribution, so the "
                        "labels must be a single class index. Pass an integer axis."
                    )
                    raise DistributionError(msg)
                arrays[i] = xp.reshape(arrays[i], (1,))
        axis = 0

    ndim = max(arrays[i].ndim if k != "labels" else arrays[i].ndim + 1 for i, k in enumerate(kinds))
    ax = check_axis(axis, ndim)
    lengths = {names[i]: _length_along(tuple(arrays[i].shape), ndim, ax) for i in dense_idx}
    n_outcomes = max(lengths.values())
    if len(set(lengths.values())) > 1 or n_outcomes == 0:
        if n_outcomes == 0:
            empty = next(n for n, k in lengths.items() if k == 0)
            msg = (
                f"`{empty}` is empty: it has no outcomes along axis={axis}. A "
                "distribution needs at least one outcome."
            )
        else:
            parts = ", ".join(f"`{n}` has {k}" for n, k in lengths.items())
            msg = (
                f"{parts} outcomes along axis={axis}; the number of outcomes must match "
                "(a length of 1 does not broadcast along the axis). Check the axis or "
                "the inputs."
            )
        raise DistributionError(msg)

    dists: list[Dist] = []
    for i, (n, k) in enumerate(zip(names, kinds, strict=True)):
        a = arrays[i]
        if k == "labels":
            pad = ndim - 1 - a.ndim
            a = _pad(xp, a, ndim - 1)
            check_labels(a, n, n_classes=n_outcomes, axis=axis, checks=checks, strip=pad)
            a = xp.expand_dims(a, axis=ax)
        else:
            pad = ndim - a.ndim
            a = _pad(xp, a, ndim)
            strips = {"strip": pad, "row_strip": pad - 1 if ax < pad else pad}
            if k == "probs":
                check_probabilities(a, n, axis=ax, normalize=normalize, checks=checks, **strips)
            elif k == "logits" or (k == "logprobs" and normalize):
                check_logits(a, n, axis=ax, checks=checks, **strips)
            else:
                check_log_probs(a, n, axis=ax, checks=checks, **strips)
        dists.append(Dist(n, k, a))
    shapes = [
        tuple(d.array.shape) if d.kind != "labels" else _with(d.array.shape, ax, n_outcomes)
        for d in dists
    ]
    broadcast_shape(shapes, names)
    return Prepared(xp, tuple(dists), ax, n_outcomes, dtype, normalize, checks, keep_shape)


def _with(shape: tuple[int, ...], axis: int, n: int) -> tuple[int, ...]:
    out = list(shape)
    out[axis] = n
    return tuple(out)


def dense(d: Dist, prep: Prepared) -> tuple[Array, Array | None]:
    """Probabilities of ``d`` along the axis, and exact log-probabilities if known.

    Labels become a one-hot array here; the measures that matter most
    (cross-entropy and KL from labels) read labels without this.
    """
    xp, ax, a = prep.xp, prep.axis, d.array
    if d.kind == "probs":
        if prep.normalize:
            a = a / xp.sum(a, axis=ax, keepdims=True)
        return a, None
    if d.kind == "labels":
        shape = [1] * a.ndim
        shape[ax] = int(prep.n_outcomes or 0)
        classes = xp.arange(shape[ax], dtype=a.dtype, device=_compat.device_of(a))
        classes = xp.reshape(classes, tuple(shape))
        return xp.astype(a == classes, prep.dtype), None
    if d.kind == "logits" or prep.normalize:
        log = a - _compat.logsumexp(a, axis=ax, keepdims=True, xp=xp)
    else:
        log = a
    return xp.exp(log), log
