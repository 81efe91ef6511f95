"""How an argument is given (probabilities, logits, log-probabilities, labels).

``prepare`` turns the public arguments into arrays of one library and one floating
dtype, checks shapes, runs the value checks, and says how each argument must be read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from array_api_compat import is_array_api_obj

from klkit._backends import _namespace
from klkit._core import _terms
from klkit._core._checks import (
    Checks,
    check_axis,
    check_labels,
    check_log_probs,
    check_logits,
    check_probabilities,
)
from klkit._core._errors import DistributionError
from klkit._typing import Array, DType, Namespace

__all__ = [
    "Dist",
    "Labels",
    "LinearLogits",
    "LogProbs",
    "Logits",
    "Prepared",
    "as_array",
    "broadcast_shape",
    "convert",
    "dense",
    "float_dtype",
    "prepare",
    "unwrap",
    "wide_labels",
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

    ``temperature=T`` reads the logits as ``z / T`` (knowledge distillation), in every
    measure, :func:`klkit.binary_cross_entropy` included (``sigmoid(z / T)``):

    >>> t = np.array([1.0, 0.0, -1.0])
    >>> loss = kl.kl_divergence(kl.Logits(t, temperature=2.0), kl.Logits(z, temperature=2.0))
    >>> bool(np.isclose(loss, kl.kl_divergence(kl.Logits(t / 2), kl.Logits(z / 2))))
    True
    """

    array: Any
    temperature: float = field(default=1.0, kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperature", _temperature(self.temperature))


def _temperature(t: object) -> float:
    """Return a temperature as a float, or raise a ValueError naming it."""
    ok = isinstance(t, int | float | np.integer | np.floating) and not isinstance(t, bool)
    if not ok or not (math.isfinite(float(t)) and float(t) > 0):  # type: ignore[arg-type]
        msg = (
            f"`temperature` must be a finite number > 0 (the logits are read as z / T); got {t!r}."
        )
        raise ValueError(msg)
    return float(t)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LinearLogits:
    """Logits given as ``h @ weight.T + bias``, never materialised whole.

    ``h`` has shape ``(..., d)``, ``weight`` ``(K, d)`` as in ``torch.nn.Linear``,
    ``bias`` ``(K,)``; the logits are ``(h @ weight.T + bias) / temperature`` along a
    last axis of K classes. Accepted as Q by :func:`klkit.cross_entropy` and
    :func:`klkit.kl_divergence`, with any P (``Labels`` with every option,
    probabilities, ``Logits``, ``LogProbs``) and every loss option. The rows are
    computed a chunk at a time, so memory beyond the inputs is one chunk of logits
    (:data:`klkit._api._linear.CHUNK_BYTES`), not ``N x K``: on torch with
    ``F.linear_cross_entropy`` (chunked) where it covers the call, else klkit's chunks,
    recomputed one at a time in the backward pass; on JAX chunks under
    ``jax.checkpoint``; NumPy and Dask forward only. Values and gradients (to ``h``,
    ``weight`` and ``bias``) equal the materialised computation.

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> g = np.random.default_rng(0)
    >>> h, w, b = g.normal(size=(4, 3)), g.normal(size=(10, 3)), g.normal(size=10)
    >>> y = np.array([1, 0, 9, 3])
    >>> loss = kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w, b), reduction="mean")
    >>> bool(np.isclose(loss, kl.cross_entropy(kl.Labels(y), kl.Logits(h @ w.T + b),
    ...                                         reduction="mean")))
    True
    """

    h: Any
    weight: Any
    bias: Any = None
    temperature: float = field(default=1.0, kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperature", _temperature(self.temperature))


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

    ``ignore_index=i``: entries equal to ``i`` are ignored (padding): their row is 0
    with ``reduction="none"``, left out of ``"sum"`` and ``"mean"``, and gets zero
    gradient. There is no default: -100 without ``ignore_index=-100`` is an
    out-of-range label. ``smoothing=eps`` in [0, 1) makes the target
    ``(1 - eps) * onehot(y) + eps / K`` (torch's ``label_smoothing``).

    >>> y = np.array([0, -100])
    >>> kl.cross_entropy(kl.Labels(y, ignore_index=-100), kl.Logits(z)).round(4)
    array([0.2413, 0.    ])
    >>> float(kl.cross_entropy(kl.Labels(y, ignore_index=-100, smoothing=0.1),
    ...                        kl.Logits(z), reduction="mean").round(4))
    0.3913
    """

    array: Any
    ignore_index: int | None = field(default=None, kw_only=True)
    smoothing: float = field(default=0.0, kw_only=True)

    def __post_init__(self) -> None:
        i = self.ignore_index
        if i is not None:
            if isinstance(i, bool) or not isinstance(i, int | np.integer):
                msg = f"`ignore_index` must be an integer label (or None); got {i!r}."
                raise ValueError(msg)
            object.__setattr__(self, "ignore_index", int(i))
        e = self.smoothing
        number = isinstance(e, int | float | np.integer | np.floating) and not isinstance(e, bool)
        if not number or not 0.0 <= float(e) < 1.0:
            msg = (
                "`smoothing` must be a number in [0, 1) (the target becomes "
                f"(1 - smoothing) * onehot(y) + smoothing / K); got {e!r}."
            )
            raise ValueError(msg)
        object.__setattr__(self, "smoothing", float(e))


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


def unwrap(value: object) -> tuple[Kind, object]:
    kind = _KINDS.get(type(value), "probs")
    return kind, (value.array if kind != "probs" else value)  # type: ignore[attr-defined]


def as_array(raw: object, name: str, xp: Namespace, device: Any) -> Array:
    """Turn an array, list, scalar or pandas object into an array of ``xp``."""
    if is_array_api_obj(raw) and not (isinstance(raw, np.ndarray) and raw.dtype == object):
        return raw
    try:
        host = np.asarray(raw)
    except (ValueError, TypeError):
        raise DistributionError(
            problem="could not be read as a numeric array (ragged nested lists?);",
            argument=name,
            fix="pass a rectangular list or an array.",
        ) from None
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
                raise DistributionError(
                    problem=f"has an integer of {len(str(abs(item)))} digits{{where}}, beyond "
                    "float64's range (about 1.8e308);",
                    argument=name,
                    where=where,
                    fix="rescale the counts (with {normalize} only their ratios matter) or "
                    "pass floats.",
                ) from None
        elif not isinstance(item, float | int):
            return host
    return host.astype(np.float64)


def _raise_dtype(name: str, dtype: str, *, complex_: bool) -> None:
    problem = "is complex" if complex_ else "is not numeric"
    raise DistributionError(
        problem=f"{problem} (dtype {dtype}); probabilities must be real numbers.",
        argument=name,
        fix="Pass a float or integer array.",
    )


def _check_dtype(xp: Namespace, a: Array, name: str, kind: Kind) -> None:
    try:
        integral = xp.isdtype(a.dtype, "integral")
        real = xp.isdtype(a.dtype, ("real floating", "bool")) or integral
        complex_ = xp.isdtype(a.dtype, "complex floating")
    except (TypeError, ValueError):
        real = integral = complex_ = False
    if kind == "labels":
        if not integral:
            raise DistributionError(
                problem=f"has dtype {a.dtype}; labels must be integer class indices.",
                argument=name,
                kind="labels",
                fix="Cast them to an integer dtype, or pass the probabilities themselves "
                "without `klkit.Labels(...)`.",
            )
        return
    if not real:
        _raise_dtype(name, str(a.dtype), complex_=complex_)


def float_dtype(xp: Namespace, arrays: Sequence[Array], device: Any) -> DType:
    """Return the floating dtype of a result: the arrays' own, else the library's default."""
    floats = [a.dtype for a in arrays if xp.isdtype(a.dtype, "real floating")]
    if floats:
        return xp.result_type(*floats)
    return _namespace.default_float(xp, device)


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
        kind, raw = unwrap(value)
        kinds.append(kind)
        raws.append(raw)
    given = [(n, r) for n, r in zip(names, raws, strict=True) if is_array_api_obj(r)]
    if given:
        xp = _namespace.namespace(*(r for _, r in given), names=[n for n, _ in given])
        device = _namespace.device_of(given[0][1])
    else:
        xp, device = _namespace.numpy_namespace(), None
    arrays = [as_array(r, n, xp, device) for n, r in zip(names, raws, strict=True)]
    for a, n, k in zip(arrays, names, kinds, strict=True):
        _check_dtype(xp, a, n, k)
    dense_idx = [i for i, k in enumerate(kinds) if k != "labels"]
    dtype = float_dtype(xp, [arrays[i] for i in dense_idx], device)
    for i, k in enumerate(kinds):
        if k == "labels":
            arrays[i] = wide_labels(xp, arrays[i], device)
        elif arrays[i].dtype != dtype:
            arrays[i] = xp.astype(arrays[i], dtype)
    return xp, kinds, arrays, dtype


def wide_labels(xp: Namespace, y: Array, device: Any) -> Array:
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
    ndim = max([0, *(len(s) for s in shapes)])  # plain lists: torch.compile traces them
    out: list[int] = []
    for k in range(ndim):
        sizes = {s[k - ndim + len(s)] for s in shapes if k - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            parts = " and ".join(
                f"{{name:{n}}} has shape {s}" for n, s in zip(names, shapes, strict=True)
            )
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
    checks = Checks(*arrays, xp=xp, enabled=validate)
    if all(k == "labels" for k in kinds):  # labels only: nothing has a class axis
        return _labels_only(xp, names, arrays, dtype, normalize, checks)
    keep_shape: tuple[int, ...] | None = None
    if axis is None:  # the whole array is one distribution
        keep_shape = _flatten(xp, names, kinds, arrays)
        axis = 0
    ndim = max(a.ndim if k != "labels" else a.ndim + 1 for a, k in zip(arrays, kinds, strict=True))
    ax = check_axis(axis, ndim)
    n_outcomes = _outcome_count(names, kinds, arrays, ndim, ax, axis)
    dists = [
        _checked(
            xp,
            n,
            k,
            a,
            ndim=ndim,
            ax=ax,
            axis=axis,
            k=n_outcomes,
            normalize=normalize,
            checks=checks,
        )
        for n, k, a in zip(names, kinds, arrays, strict=True)
    ]
    shapes = [
        tuple(d.array.shape) if d.kind != "labels" else _with(d.array.shape, ax, n_outcomes)
        for d in dists
    ]
    broadcast_shape(shapes, names)
    return Prepared(xp, tuple(dists), ax, n_outcomes, dtype, normalize, checks, keep_shape)


def _labels_only(
    xp: Namespace,
    names: list[str],
    arrays: list[Array],
    dtype: DType,
    normalize: bool,
    checks: Checks,
) -> Prepared:
    shape = broadcast_shape([tuple(a.shape) for a in arrays], names)
    only = tuple(
        Dist(n, "labels", _pad(xp, a, len(shape))) for n, a in zip(names, arrays, strict=True)
    )
    for d in only:
        check_labels(d.array, d.name, n_classes=None, axis=None, checks=checks)
    return Prepared(xp, only, -1, None, dtype, normalize, checks, None)


def _flatten(
    xp: Namespace, names: list[str], kinds: list[Kind], arrays: list[Array]
) -> tuple[int, ...]:
    """``axis=None``: flatten the dense arguments (in place); return the keepdims shape."""
    dense_idx = [i for i, k in enumerate(kinds) if k != "labels"]
    full = broadcast_shape(
        [tuple(arrays[i].shape) for i in dense_idx], [names[i] for i in dense_idx]
    )
    for i in dense_idx:
        arrays[i] = xp.reshape(xp.broadcast_to(arrays[i], full), (-1,))
    for i, k in enumerate(kinds):
        if k == "labels" and arrays[i].ndim != 0:
            raise DistributionError(
                problem=f"has shape {tuple(arrays[i].shape)}; with axis=None the other argument is "
                "one distribution, so the labels must be a single class index.",
                argument=names[i],
                kind="labels",
                fix="Pass an integer axis.",
            )
    return (1,) * len(full)


def _outcome_count(
    names: list[str], kinds: list[Kind], arrays: list[Array], ndim: int, ax: int, axis: int
) -> int:
    """Return the number of outcomes, the same for every dense argument (or raise)."""
    lengths = {
        n: _length_along(tuple(a.shape), ndim, ax)
        for n, k, a in zip(names, kinds, arrays, strict=True)
        if k != "labels"
    }
    n_outcomes = max(lengths.values())
    if n_outcomes == 0:
        empty = next(n for n, k in lengths.items() if k == 0)
        raise DistributionError(
            problem="is empty: it has no outcomes{along}.",
            argument=empty,
            along=f" along axis={axis}",
            fix="A distribution needs at least one outcome.",
        )
    if len(set(lengths.values())) > 1:
        parts = ", ".join(f"{{name:{n}}} has {k}" for n, k in lengths.items())
        raise DistributionError(
            problem=f"{parts} outcomes along axis={axis}; the number of outcomes must match "
            "(a length of 1 does not broadcast along the axis). Check the axis or "
            "the inputs."
        )
    return n_outcomes


def _checked(
    xp: Namespace,
    name: str,
    kind: Kind,
    a: Array,
    *,
    ndim: int,
    ax: int,
    axis: int,
    k: int,
    normalize: bool,
    checks: Checks,
) -> Dist:
    """One argument padded to ``ndim`` dimensions (labels: a size-1 outcome axis), checked."""
    if kind == "labels":
        pad = ndim - 1 - a.ndim
        a = _pad(xp, a, ndim - 1)
        check_labels(a, name, n_classes=k, axis=axis, checks=checks, strip=pad)
        return Dist(name, kind, xp.expand_dims(a, axis=ax))
    pad = ndim - a.ndim
    a = _pad(xp, a, ndim)
    strips = {"strip": pad, "row_strip": pad - 1 if ax < pad else pad}
    if kind == "probs":
        check_probabilities(a, name, axis=ax, normalize=normalize, checks=checks, **strips)
    elif kind == "logits" or (kind == "logprobs" and normalize):
        check_logits(a, name, axis=ax, checks=checks, **strips)
    else:
        check_log_probs(a, name, axis=ax, checks=checks, **strips)
    return Dist(name, kind, a)


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
        prob = _namespace.divide_by_total(a, total, xp=xp)
        if not log_of_weights:
            return prob, None
        pos = a > 0
        log = xp.where(pos, xp.log(xp.where(pos, a, 1.0)) - xp.log(total), -xp.inf)
        return prob, log
    if d.kind == "labels":
        shape = [1] * a.ndim
        shape[ax] = int(prep.n_outcomes or 0)
        classes = xp.arange(shape[ax], dtype=a.dtype, device=_namespace.device_of(a))
        classes = xp.reshape(classes, tuple(shape))
        return xp.astype(a == classes, prep.dtype), None
    log = _terms.log_softmax(a, axis=ax, xp=xp) if d.kind == "logits" or prep.normalize else a
    return xp.exp(log), log
