"""How an argument is given (probabilities, logits, log-probabilities, labels).

``prepare`` turns the public arguments into arrays of one library and one floating
dtype, checks shapes, runs the value checks, and says how each argument must be read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    "Named",
    "Prepared",
    "align_named",
    "align_outcomes",
    "as_array",
    "broadcast_shape",
    "convert",
    "dense",
    "is_named",
    "prepare",
    "split_names",
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
    if is_array_api_obj(raw) and not (isinstance(raw, np.ndarray) and raw.dtype == object):
        return raw
    try:
        host = np.asarray(raw)
    except (ValueError, TypeError):
        msg = (
            f"`{name}` could not be read as a numeric array (ragged nested lists?); "
            "pass a rectangular list or an array."
        )
        raise DistributionError(msg) from None
    if host.dtype == object:
        host = _object_numbers(host, name)
    if host.dtype.kind not in "biuf":
        _raise_dtype(name, str(host.dtype), complex_=host.dtype.kind == "c")
    if device is None:
        return xp.asarray(host)
    return xp.asarray(host, device=device)


def _object_numbers(host: np.ndarray[Any, Any], name: str) -> np.ndarray[Any, Any]:
    """Read an object array of Python numbers (ints beyond int64) as float64, or say why not."""
    for index in np.ndindex(host.shape):
        item = host[index]
        if isinstance(item, int) and not isinstance(item, bool):
            try:
                float(item)
            except OverflowError:
                where = f" at index {index[0] if len(index) == 1 else index}" if index else ""
                digits = len(str(abs(item)))
                msg = (
                    f"`{name}` has an integer of {digits} digits{where}, beyond float64's "
                    "range (about 1.8e308); rescale the counts (with normalize=True only "
                    "their ratios matter) or pass floats."
                )
                raise DistributionError(msg) from None
        elif not isinstance(item, float | int):
            return host
    return host.astype(np.float64)


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
    for i, k in enumerate(kinds):
        if k == "labels":
            arrays[i] = _wide_labels(xp, arrays[i], device)
    return xp, kinds, arrays, dtype


def _wide_labels(xp: Namespace, y: Array, device: Any) -> Array:
    """Labels in the library's default integer dtype when theirs is narrower.

    Class indices are compared with ``0..K-1`` and used to index: in uint8, class
    300 would wrap to 44 (and torch indexes with int64 only).
    """
    wide = xp.__array_namespace_info__().default_dtypes(device=device)["integral"]
    if xp.iinfo(y.dtype).bits < xp.iinfo(wide).bits:
        return xp.astype(y, wide)
    return y


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
            if k == "labels" and arrays[i].ndim != 0:
                msg = (
                    f"`{names[i]}` (labels) has shape {tuple(arrays[i].shape)}; with "
                    "axis=None the other argument is one distribution, so the "
                    "labels must be a single class index. Pass an integer axis."
                )
                raise DistributionError(msg)
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


def dense(d: Dist, prep: Prepared, *, log_of_weights: bool = False) -> tuple[Array, Array | None]:
    """Probabilities of ``d`` along the axis, and exact log-probabilities if known.

    Labels become a one-hot array here; the measures that matter most
    (cross-entropy and KL from labels) read labels without this.
    ``log_of_weights``: with ``normalize``, also return ``log w - log sum w`` for
    weights w, which keeps its digits where ``w / sum w`` is subnormal (entropy and
    cross-entropy ask for it; KL and JS use ratios of the probabilities instead).
    """
    xp, ax, a = prep.xp, prep.axis, d.array
    if d.kind == "probs":
        if not prep.normalize:
            return a, None
        total = xp.sum(a, axis=ax, keepdims=True)
        prob = _compat.divide_by_total(a, total, xp=xp)
        if not log_of_weights:
            return prob, None
        pos = a > 0
        log = xp.where(pos, xp.log(xp.where(pos, a, 1.0)) - xp.log(total), -xp.inf)
        return prob, log
    if d.kind == "labels":
        shape = [1] * a.ndim
        shape[ax] = int(prep.n_outcomes or 0)
        classes = xp.arange(shape[ax], dtype=a.dtype, device=_compat.device_of(a))
        classes = xp.reshape(classes, tuple(shape))
        return xp.astype(a == classes, prep.dtype), None
    log = _compat.log_softmax(a, axis=ax, xp=xp) if d.kind == "logits" or prep.normalize else a
    return xp.exp(log), log


# --- outcomes named by pandas objects, dicts and the command line's files -----------------


def _is_pandas(x: object) -> bool:
    return type(x).__module__.split(".")[0] == "pandas"


def is_named(value: object) -> bool:
    """Tell whether ``value`` (possibly wrapped) carries names: pandas objects or dicts."""
    _, raw = _unwrap(value)
    return isinstance(raw, Mapping) or (_is_pandas(raw) and hasattr(raw, "index"))


@dataclass(frozen=True)
class Named:
    """One argument split into plain values and its labels.

    ``outcomes`` names the entries along the outcome axis, ``rows`` those along the
    other axis of a 2-D table (a DataFrame's index when the outcomes are its columns).
    """

    values: Any
    outcomes: tuple[Any, ...] | None
    rows: tuple[Any, ...] | None = None


def split_names(value: object, *, axis: int | None) -> Named:
    """Separate a pandas Series/DataFrame or a dict from its labels.

    A Series' index and a dict's keys name outcomes; a DataFrame's columns name them
    with ``axis=-1`` or ``1`` (its index with ``axis=0``). Labels (class indices) and
    ``axis=None`` keep no names: there is no outcome axis to align. Anything else
    comes back unchanged, with no names.
    """
    kind, raw_value = _unwrap(value)
    raw: Any = raw_value
    rewrap: Any = type(value) if kind != "probs" else None
    outcomes: tuple[Any, ...] | None = None
    rows: tuple[Any, ...] | None = None
    if isinstance(raw, Mapping):
        outcomes = tuple(raw.keys())
        raw = list(raw.values())
    elif _is_pandas(raw) and hasattr(raw, "index") and hasattr(raw, "to_numpy"):
        if getattr(raw, "ndim", 1) == 2:
            on_columns = axis is not None and axis % 2 == 1
            outcomes = tuple(raw.columns if on_columns else raw.index)
            rows = tuple(raw.index if on_columns else raw.columns)
        else:
            outcomes = tuple(raw.index)
        raw = raw.to_numpy()
    else:
        return Named(value, None)
    if kind == "labels" or axis is None:
        outcomes = rows = None
    return Named(rewrap(raw) if rewrap is not None else raw, outcomes, rows)


def _duplicate(names: Sequence[Any]) -> Any | None:
    seen: set[Any] = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return None


def _shown(names: Sequence[Any], limit: int = 8) -> str:
    parts = [repr(n) for n in names[:limit]]
    if len(names) > limit:
        parts.append(f"and {len(names) - limit} more")
    return ", ".join(parts)


def _length(values: Any, axis: int) -> int | None:
    shape = np.shape(values.array if isinstance(values, Logits | LogProbs) else values)
    return shape[axis] if shape and -len(shape) <= axis < len(shape) else None


def _take(value: Any, order: list[int], axis: int) -> Any:
    kind, raw = _unwrap(value)
    moved = np.take(np.asarray(raw), order, axis=axis)
    return type(value)(moved) if kind != "probs" else moved


def _check_names(name: str, names: Sequence[Any], what: str) -> None:
    dup = _duplicate(names)
    if dup is not None:
        msg = (
            f"`{name}` names the {what} {dup!r} twice; each name must be unique. Sum or "
            "drop the duplicates first."
        )
        raise DistributionError(msg)


def _order(
    args: list[str], names: list[tuple[Any, ...] | None], what: str
) -> tuple[list[list[int] | None], tuple[Any, ...] | None]:
    """How to reorder each argument onto the first named one's order, by name."""
    named = [(a, n) for a, n in zip(args, names, strict=True) if n is not None]
    if not named:
        return [None] * len(args), None
    for arg, given in named:
        _check_names(arg, given, what)
    first_arg, first = named[0]
    orders: list[list[int] | None] = []
    for a, n in zip(args, names, strict=True):
        if n is None or n == first:
            orders.append(None)
            continue
        if set(n) != set(first):
            only_first = [x for x in first if x not in set(n)]
            only_here = [x for x in n if x not in set(first)]
            parts = []
            if only_first:
                parts.append(f"{_shown(only_first)} in `{first_arg}` but not in `{a}`")
            if only_here:
                parts.append(f"{_shown(only_here)} in `{a}` but not in `{first_arg}`")
            msg = (
                f"`{first_arg}` and `{a}` name different {what}s: {'; '.join(parts)}. "
                f"klkit aligns named {what}s by name, so both sides need the same names; "
                f"list a {what} that cannot happen on one side with probability 0 there "
                f"(with pandas: `{a}.reindex({first_arg}.index, fill_value=0)`)."
            )
            raise DistributionError(msg)
        position = {x: i for i, x in enumerate(n)}
        orders.append([position[x] for x in first])
    return orders, first


def align_outcomes(
    args: Sequence[tuple[str, object]], *, axis: int | None
) -> tuple[list[tuple[str, object]], tuple[Any, ...] | None]:
    """Align named arguments by outcome name (see :func:`align_named`).

    Returns the arguments with named values (pandas objects, dicts) replaced by NumPy
    arrays (wrappers kept) and the outcome names (None when nothing was named).
    """
    if not any(is_named(v) for _, v in args):
        return list(args), None
    return align_named([(n, split_names(v, axis=axis)) for n, v in args], axis=axis)


def align_named(
    args: Sequence[tuple[str, Named]], *, axis: int | None
) -> tuple[list[tuple[str, object]], tuple[Any, ...] | None]:
    """Align arguments whose outcomes (and rows) may be named; return values and names.

    The rule, for every measure, ``explain``, ``plot`` and the command line:

    * when two arguments name their outcomes (pandas Series or DataFrames, dicts,
      files with named outcomes), they are aligned by name, in the order of the first;
      different sets of names are a :class:`DistributionError` that lists the names
      missing on each side;
    * when one is named and the other is not, position is used, and only when the
      numbers of outcomes match; the names are kept;
    * 2-D tables whose rows are named (two DataFrames) are aligned by row name too.

    ``axis`` is the outcome axis of the values (None: no outcome axis, nothing to
    align). Values are reordered with NumPy, so named values must be host data.
    """
    names = [n for n, _ in args]
    split = [s for _, s in args]
    out_axis = -1 if axis is None else axis
    orders, outcome_names = _order(names, [s.outcomes for s in split], "outcome")
    row_orders, _ = _order(names, [s.rows for s in split], "row")
    result: list[tuple[str, object]] = []
    for arg, s, order, row_order in zip(names, split, orders, row_orders, strict=True):
        value = s.values
        if order is not None:
            value = _take(value, order, out_axis)
        if row_order is not None:
            value = _take(value, row_order, 1 - (out_axis % 2))
        if outcome_names is not None and s.outcomes is None and not isinstance(value, Labels):
            k = _length(value, out_axis)
            if k is not None and k != len(outcome_names):
                named_arg = next(n for n, t in zip(names, split, strict=True) if t.outcomes)
                msg = (
                    f"`{named_arg}` names {len(outcome_names)} outcomes "
                    f"({_shown(outcome_names)}) but `{arg}` has {k} unnamed outcomes "
                    f"along axis={out_axis}; an unnamed side is matched by position, so "
                    "it needs one value per named outcome, in the same order."
                )
                raise DistributionError(msg)
        result.append((arg, value))
    return result, outcome_names
