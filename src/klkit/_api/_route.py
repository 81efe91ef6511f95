"""The one router: which engine computes a measure for the arguments at hand.

In order: parametric families and SciPy distributions (closed forms); named outcomes
(aligned by name first); short Python lists (pure Python); torch tensors (torch's own
kernels); NumPy arrays (cache-sized blocks, or the Numba kernels); Dask arrays (block
by block); anything else, and anything a fast engine declines, takes the generic
array-API path of :mod:`klkit._core._rows`. Every fast engine returns None rather
than a number it cannot promise, and the generic path then computes it or raises the
precise error, so every engine gives the same answer.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np

from klkit._backends import _dask, _namespace, _numpy, _torch, _torch_losses
from klkit._core import _rows
from klkit._core._checks import as_axis, check_base
from klkit._core._inputs import Labels, LinearLogits, Logits, LogProbs, Prepared, prepare
from klkit._core._named import align_outcomes, is_named
from klkit._typing import Array
from klkit.distributions._measure import family_measure, is_distribution

_P = ParamSpec("_P")
_R = TypeVar("_R")

__all__ = ["bce_logits_sum", "binary_cross_entropy", "check_bce_wrappers", "measure", "quiet"]


def quiet(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` with NumPy's floating-point warnings off.

    Every overflow, 0/0 or log 0 in an intermediate step is either masked (the result
    says +inf, 0 or NaN by the documented conventions) or turned into a
    DistributionError by the checks, so the warnings would only be noise on the
    caller's stderr. Under ``torch.compile`` NumPy's context manager is left out (Dynamo
    does not trace it, and NumPy computes nothing there).
    """

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if _namespace.is_compiling():
            return function(*args, **kwargs)
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    return wrapper


_ROWS: dict[str, Callable[[Prepared], Array]] = {
    "entropy": _rows.entropy_rows,
    "cross_entropy": _rows.cross_entropy_rows,
    "kl_divergence": _rows.kl_rows,
    "js_divergence": _rows.js_rows,
    "js_distance": _rows.js_rows,
}
_FAST_NAMES = {
    "entropy": "entropy",
    "cross_entropy": "cross_entropy",
    "kl_divergence": "kl",
    "js_divergence": "js",
    "js_distance": "js",
}


def measure(
    public: Callable[..., Any],
    args: dict[str, Any],
    base: object,
    axis: object,
    keepdims: bool,
    normalize: bool,
    validate: bool,
) -> Any:
    """Compute the public measure ``public`` of ``args`` on the engine that applies.

    ``public`` is the public function itself: Dask blocks run it once per block. The
    options come in the order of the public signatures.
    """
    name = public.__name__
    if any(is_distribution(v) for v in args.values()):
        return family_measure(name, list(args.values()), base=base)
    log_base = check_base(base)
    ax = as_axis(axis)
    if any(is_named(v) for v in args.values()):
        aligned, _ = align_outcomes(list(args.items()), axis=ax)
        args = dict(aligned)
    root = name == "js_distance"
    fast = _fast_rows(name, args, axis=ax, normalize=normalize, validate=validate)
    if fast is not None:
        return _finish_fast(fast, keepdims=keepdims, log_base=log_base, root=root)
    options = {"base": base, "normalize": normalize, "validate": validate}
    blocks = _blockwise(public, tuple(args.values()), axis=ax, keepdims=keepdims, **options)
    if blocks is not None:
        return blocks
    prep = prepare(list(args.items()), axis=ax, normalize=normalize, validate=validate)
    out = _ROWS[name](prep)
    if root:  # sqrt(JS / log b), as scipy's jensenshannon; gradient 0 where JS = 0
        xp = prep.xp
        if log_base is not None:
            out = out / log_base
        pos = out > 0
        out = xp.where(pos, xp.sqrt(xp.where(pos, out, 1.0)), 0.0) + (out - out)
        log_base = None
    return _finish(out, prep, keepdims=keepdims, log_base=log_base)


def _fast_rows(
    name: str, args: dict[str, Any], *, axis: int | None, normalize: bool, validate: bool
) -> Any | None:
    """Per-row nats from a fast engine, or None when none applies."""
    kind = _FAST_NAMES[name]
    values = list(args.values())
    if normalize or axis is None:
        return None
    if all(type(v) in (list, tuple) for v in values) and axis in (-1, 0):
        small = _numpy.small_lists(kind, values)  # checked as the generic path checks
        return None if small is None else _namespace.numpy_namespace().asarray(small)
    # only torch tensors can reach the torch kernels; their checks read values, which
    # torch.compile cannot trace (the generic path compiles)
    if "torch" in sys.modules and not _namespace.is_compiling():
        out = _torch_rows(kind, values, axis=axis, validate=validate)
        if out is not None:
            return out
    first = values[0]
    if getattr(first, "ndim", None) and axis in (-1, first.ndim - 1):
        return _numpy.numpy_rows(kind, values, validate=validate)
    return None


def generic_kl_rows(p_rows: Any, z_rows: Any, *, p_logits: bool) -> Any:
    """KL rows of P (probabilities, or logits) against ``Logits(z_rows)``, unchecked.

    The generic path: the torch fast path's rows that need every digit.
    """
    given = [("p", Logits(p_rows) if p_logits else p_rows), ("q", Logits(z_rows))]
    return _rows.kl_rows(prepare(given, axis=-1, normalize=False, validate=False))


def _torch_rows(kind: str, values: list[Any], *, axis: int, validate: bool) -> Any | None:
    """KL of probabilities, or labels/logits cross-entropy, on torch's own kernels."""
    last = values[-1].array if isinstance(values[-1], Logits) else values[-1]
    if getattr(last, "ndim", None) is None or axis not in (-1, last.ndim - 1):
        return None
    if kind == "kl":
        p, q = values
        if isinstance(q, Logits) and not isinstance(p, Labels | LogProbs):
            p_logits = isinstance(p, Logits)
            raw = p.array if p_logits else p
            exact = functools.partial(generic_kl_rows, p_logits=p_logits)
            out = _torch_losses.torch_kl_logits(
                raw, q.array, p_logits=p_logits, validate=validate, exact=exact
            )
            if out is not None:
                return out
        return _torch.torch_kl_rows(*values, validate=validate)
    first = values[0]
    if kind == "cross_entropy" and isinstance(first, Labels) and isinstance(values[1], Logits):
        return _torch.torch_ce_labels_logits(first.array, values[1].array, validate=validate)
    return None


def _finish(result: Array, prep: Prepared, *, keepdims: bool, log_base: float | None) -> Array:
    """Attach deferred checks, change the unit and shape the result as asked."""
    xp = prep.xp
    result = prep.checks.attach(result)  # before keepdims: flags are shaped like rows
    if log_base is not None:
        result = result / log_base
    if keepdims:
        if prep.keep_shape is not None:
            result = xp.reshape(result, prep.keep_shape)
        else:
            result = xp.expand_dims(result, axis=prep.axis)
    return _namespace.numpy_scalar(result, xp)


def _finish_fast(out: Any, *, keepdims: bool, log_base: float | None, root: bool) -> Any:
    """Scale, root and shape a result of the fast paths as :func:`_finish` does."""
    xp = _namespace.namespace(out, names=["result"])
    if log_base is not None:
        out = out / log_base
    if root:
        out = xp.sqrt(out)
    if keepdims:
        out = xp.expand_dims(out, axis=-1)
    return _namespace.numpy_scalar(out, xp)


def _blockwise(
    public: Callable[..., Any],
    args: tuple[Any, ...],
    *,
    axis: int | None,
    keepdims: bool,
    **options: Any,
) -> Any | None:
    """On Dask input, run ``public`` once per block (see ``dask_blockwise``)."""
    parts = [
        (type(a), a.array, isinstance(a, Labels))
        if isinstance(a, Logits | LogProbs | Labels)
        else (None, a, False)
        for a in args
    ]
    out = _dask.dask_blockwise(public, parts, axis=axis, **options)
    if out is not None and keepdims and axis is not None:
        xp = _namespace.namespace(out, names=["result"])
        out = xp.expand_dims(out, axis=axis % (out.ndim + 1))
    return out


def binary_cross_entropy(
    public: Callable[..., Any], y: Any, y_hat: Any, *, base: object, validate: bool
) -> Any:
    """Route a binary cross-entropy: Dask blocks, torch's kernels, or the generic path."""
    log_base = check_base(base)
    check_bce_wrappers(y, y_hat)
    blocks = _blockwise(
        public,
        (y, y_hat),
        axis=None,
        keepdims=False,
        elementwise=True,
        base=base,
        validate=validate,
    )
    if blocks is not None:
        return blocks
    logits = isinstance(y_hat, Logits)
    raw_hat = y_hat.array if logits else y_hat
    if logits and "torch" in sys.modules and not _namespace.is_compiling():
        fast = _torch.torch_bce_logits(y, raw_hat, validate=validate)
        if fast is not None and (y.requires_grad or raw_hat.requires_grad):
            fast = _torch_losses.torch_bce_logits_grad(y, raw_hat, fast)
        if fast is not None:
            return fast if log_base is None else fast / log_base
    out, checks, xp = _rows.bce_elements(y, raw_hat, logits=logits, validate=validate)
    if log_base is not None:
        out = out / log_base
    return _namespace.numpy_scalar(checks.attach(out), xp)


def bce_logits_sum(y: Any, z: Any, *, validate: bool) -> Any | None:
    """Return the sum of ``binary_cross_entropy(y, Logits(z))`` by torch's kernels, or None.

    For the "sum" and "mean" reductions: no full-size output is written, and the
    backward pass is the closed form. None for anything but torch tensors of one
    shape, or where the generic path must compute or raise.
    """
    if "torch" not in sys.modules or _namespace.is_compiling():
        return None
    total = _torch.torch_bce_logits(y, z, validate=validate, summed=True)
    if total is not None and (y.requires_grad or z.requires_grad):
        total = _torch_losses.torch_bce_logits_grad(y, z, total)
    return total


def check_bce_wrappers(y: Any, y_hat: Any) -> None:
    if isinstance(y, Labels | Logits | LogProbs):
        msg = (
            f"`y` was given as `klkit.{type(y).__name__}(...)`; binary_cross_entropy "
            "takes plain targets in [0, 1] (0/1 labels or soft targets). Pass the "
            "array itself."
        )
        raise TypeError(msg)
    if isinstance(y_hat, LinearLogits):
        msg = (
            "`y_hat` was given as `klkit.LinearLogits(...)`, a prediction of "
            "cross_entropy and kl_divergence; binary_cross_entropy takes probabilities or "
            "`klkit.Logits(z)` (compute `h @ weight.T + bias` for one output)."
        )
        raise TypeError(msg)
    if isinstance(y_hat, Labels | LogProbs):
        msg = (
            f"`y_hat` was given as `klkit.{type(y_hat).__name__}(...)`; "
            "binary_cross_entropy takes probabilities in [0, 1] or `klkit.Logits(z)` "
            "(log-odds). For class indices use plain 0/1 targets as `y`."
        )
        raise TypeError(msg)
