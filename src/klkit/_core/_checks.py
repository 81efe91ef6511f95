"""Input checks, and the text of every message about the values of an input.

Every message has four parts, kept apart in the :class:`DistributionError` it raises:
the argument, the problem, where it is (index or row, with the offending value) and
the fix. Checks run now on eager arrays, inside the graph on Dask (raising at
``compute()``), or not at all under ``jax.jit`` and with ``validate=False``.
"""

from __future__ import annotations

import contextlib
import numbers
import string
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from klkit._backends import _dask, _namespace
from klkit._core._errors import DistributionError
from klkit._core._terms import logsumexp
from klkit._numerics import resolve_base, sum_tolerance
from klkit._typing import Array, Namespace

__all__ = [
    "Checks",
    "Message",
    "as_axis",
    "check_axis",
    "check_base",
    "check_finite_logits",
    "check_labels",
    "check_log_probs",
    "check_logits",
    "check_probabilities",
    "check_unit_interval",
    "tolerance_of",
]


def check_base(base: object) -> float | None:
    """Return ``log(base)`` (None for nats) or raise a ValueError (see ``resolve_base``)."""
    return resolve_base(base).log


def check_axis(axis: object, ndim: int) -> int:
    """Normalise ``axis`` (an int, NumPy integers included) against ``ndim`` dimensions."""
    axis = as_axis(axis)
    if axis is None:
        msg = "`axis` must be an int here, got None"
        raise TypeError(msg)
    if not -ndim <= axis < ndim:
        msg = (
            f"`axis={axis}` is out of range for arrays with {ndim} dimension(s); use an "
            f"axis in [{-ndim}, {ndim - 1}], or axis=None for one distribution over all "
            "entries"
        )
        raise ValueError(msg)
    return axis % ndim


def as_axis(axis: object) -> int | None:
    """Return ``axis`` as a Python int (or None), or raise a TypeError naming it.

    NumPy integer scalars are accepted; bools, floats, strings and tuples are not.
    """
    if axis is None:
        return None
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)  # NumPy's bool_ is not Integral
    msg = (
        f"`axis` must be an int or None, got {axis!r} ({type(axis).__name__}); pass the "
        "index of the outcome axis, e.g. axis=-1."
    )
    raise TypeError(msg)


# --- formatting -------------------------------------------------------------------

Kind = Literal["index", "row"]


@dataclass(frozen=True)
class Message:
    """The parts of a check's message, to be completed with the place and the value.

    ``problem`` and ``fix`` are templates (see :mod:`klkit._core._errors`); ``problem``
    may also format ``{value}`` (with a format spec) and place ``{where}``. ``place``
    says whether the place is an index or a row; ``strip`` drops leading index
    entries (dimensions added by broadcasting); ``owner`` names the family whose
    parameter ``argument`` is.
    """

    argument: str | None
    problem: str
    fix: str = ""
    kind: str | None = None
    owner: str | None = None
    along: str = ""
    place: Kind = "index"
    strip: int = 0


class _Value(string.Formatter):
    """Format ``{value...}`` now; leave every other field for the error to fill."""

    def __init__(self, value: float) -> None:
        self.value = value

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        return self.value if key == "value" else _Later(str(key))


class _Later:
    def __init__(self, name: str) -> None:
        self.name = name

    def __format__(self, spec: str) -> str:
        return "{" + self.name + "}"


def _where(index: Sequence[int], kind: Kind) -> str:
    if not index:  # a 0-d array: nothing to point at
        return ""
    if kind == "row":
        place = str(index[0]) if len(index) == 1 else str(tuple(index))
        return f" in row {place}"
    place = str(index[0]) if len(index) == 1 else str(tuple(index))
    return f" at index {place}"


def _global_index(index: list[int]) -> list[int]:
    """Add the offsets of the Dask block being checked (if any) to a block index."""
    block = _dask.DASK_BLOCK.get()
    if block is None:
        return index
    offsets, axis = block
    if len(index) == len(offsets) - 1 and axis is not None:  # a row: no outcome axis
        offsets = offsets[:axis] + offsets[axis + 1 :]
    if len(index) != len(offsets):
        return index
    return [i + o for i, o in zip(index, offsets, strict=True)]


def _format_error(message: Message, index: Sequence[int], value: float) -> DistributionError:
    return DistributionError(
        _Value(value).format(message.problem),
        argument=message.argument,
        owner=message.owner,
        kind=message.kind,
        where=_where(tuple(index)[message.strip :], message.place),
        along=message.along,
        fix=message.fix,
    )


class Checks:
    """Runs checks now (eager arrays), in the graph (Dask), or not at all (JAX jit).

    Parameters
    ----------
    arrays
        The arrays being checked; they decide the mode.
    xp
        Their namespace.
    enabled
        False when the caller passed ``validate=False``.
    """

    def __init__(self, *arrays: Array, xp: Namespace, enabled: bool) -> None:
        self.xp = xp
        self.deferred: list[_dask.DeferredCheck] = []
        if not enabled or any(
            _namespace.is_traced(a) and not _namespace.can_defer_checks(a) for a in arrays
        ):
            self.mode = "skip"
        elif any(_namespace.can_defer_checks(a) for a in arrays):
            self.mode = "defer"
        else:
            self.mode = "eager"

    @property
    def active(self) -> bool:
        """Whether checks run at all."""
        return self.mode != "skip"

    def fail_where(
        self, bad: Array, values: Array, message: Message | str, *, axis: int | None = None
    ) -> None:
        """Raise a DistributionError from ``message`` where ``bad`` is True.

        ``message`` may be a whole template (with ``{value}`` and ``{where}``) when it
        names no single argument. ``axis`` marks an elementwise check on distributions
        along that axis (used to align deferred Dask checks with the rows of the result).
        """
        if isinstance(message, str):
            message = Message(None, message)
        xp = self.xp
        if self.mode == "skip":
            return
        if self.mode == "defer":
            self.deferred.append(
                _dask.deferred_check(bad, xp.astype(values, xp.float64), message, axis=axis, xp=xp)
            )
            return
        flat = xp.reshape(bad, (-1,))
        if not bool(xp.any(flat)):
            return
        i = int(xp.argmax(xp.astype(flat, xp.int8)))
        index: list[int] = []
        for n in reversed(bad.shape):
            index.append(i % n)
            i //= n
        index.reverse()
        flat_i = 0
        for k, n in zip(index, bad.shape, strict=True):
            flat_i = flat_i * n + k
        value = float(xp.reshape(values, (-1,))[flat_i])
        raise _format_error(message, _global_index(index), value)

    def attach(self, result: Array) -> Array:
        """Tie deferred checks to ``result`` (Dask); a no-op otherwise."""
        if self.mode != "defer":
            return result
        return _dask.attach_deferred_checks(result, self.deferred, format_error=_format_error)


# --- checks of one argument ---------------------------------------------------------


def _dtype_name(x: Array) -> str:
    return str(x.dtype).removeprefix("torch.").removeprefix("array_api_strict.")


_CALLERS_DTYPE: ContextVar[tuple[str, float] | None] = ContextVar("klkit_dtype", default=None)
"""(name, eps) of the dtype the caller gave, where it differs from the one computed in."""


@contextlib.contextmanager
def tolerance_of(dtype: object, eps: float) -> Iterator[None]:
    """Check sums with the tolerance of ``dtype`` (with machine epsilon ``eps``).

    Half-precision inputs are computed in float32, but a bfloat16 softmax sums to 1 only
    to bfloat16's rounding (1.0009766 is one bfloat16 ulp above 1): the checks must
    allow for the precision the numbers were given in, and say so.
    """
    name = str(dtype).removeprefix("torch.").removeprefix("jax.numpy.")
    token = _CALLERS_DTYPE.set((name, eps))
    try:
        yield
    finally:
        _CALLERS_DTYPE.reset(token)


def _sum_tolerance(xp: Namespace, x: Array, n: int) -> tuple[float, str]:
    """Return the tolerance of a sum of ``n`` entries of ``x``, and the dtype it is for."""
    given = _CALLERS_DTYPE.get()
    if given is not None:
        return sum_tolerance(given[1], n), given[0]
    return sum_tolerance(float(_namespace.finfo(xp, x.dtype).eps), n), _dtype_name(x)


def check_probabilities(
    x: Array,
    name: str,
    *,
    axis: int,
    normalize: bool,
    checks: Checks,
    strip: int = 0,
    row_strip: int = 0,
) -> None:
    """Check that ``x`` holds probabilities (or, with normalize, weights) along ``axis``."""
    if not checks.active:
        return
    xp = checks.xp
    checks.fail_where(
        ~xp.isfinite(x),
        x,
        Message(
            name,
            "has a non-finite entry {value}{where}; probabilities must be finite numbers "
            "in [0, 1].",
            fix="Drop or replace it (a NaN often comes from a 0/0 upstream).",
            strip=strip,
        ),
        axis=axis,
    )
    scores = "scores or logits" if not normalize else "logits"
    checks.fail_where(
        x < 0,
        x,
        Message(
            name,
            "has a negative entry {value:.6g}{where}; probabilities and weights must be >= 0.",
            fix=f"If these are {scores}, pass {{logits}}; if log-probabilities, {{logprobs}}.",
            strip=strip,
        ),
        axis=axis,
    )
    total = xp.sum(x, axis=axis)
    if normalize:
        checks.fail_where(
            total <= 0,
            total,
            Message(
                name,
                "sums to {value:.6g}{where}, so it cannot be normalised: {normalize} needs "
                "at least one positive weight in each distribution.",
                place="row",
                strip=row_strip,
            ),
        )
        return
    n = x.shape[axis]
    tol, dtype_name = _sum_tolerance(xp, x, n)
    checks.fail_where(
        xp.abs(total - 1) > tol,
        total,
        Message(
            name,
            f"sums to {{value:.10g}}{{where}}, not 1 (tolerance {tol:.2g} for "
            f"{dtype_name} with {n} outcomes).",
            fix="Pass {normalize} to rescale counts or weights, or {logits} if these are scores.",
            place="row",
            strip=row_strip,
        ),
    )


def _check_log_entries(
    x: Array, name: str, what: str, checks: Checks, strip: int, axis: int
) -> None:
    xp = checks.xp
    checks.fail_where(
        xp.isnan(x) | (x == xp.inf),
        x,
        Message(
            name,
            f"has an entry {{value}}{{where}}; {what} must be finite numbers or -inf "
            "(probability 0).",
            kind=what,
            strip=strip,
        ),
        axis=axis,
    )


def check_logits(
    x: Array, name: str, *, axis: int, checks: Checks, strip: int = 0, row_strip: int = 0
) -> None:
    """Check logits: no NaN or +inf, and at least one finite entry per distribution."""
    if not checks.active:
        return
    xp = checks.xp
    _check_log_entries(x, name, "logits", checks, strip, axis)
    top = xp.max(x, axis=axis)
    checks.fail_where(
        top == -xp.inf,
        top,
        Message(
            name,
            "is -inf everywhere{where}; a softmax needs at least one finite logit per "
            "distribution.",
            kind="logits",
            place="row",
            strip=row_strip,
        ),
    )


def check_log_probs(
    x: Array, name: str, *, axis: int, checks: Checks, strip: int = 0, row_strip: int = 0
) -> None:
    """Check normalised log-probabilities: valid entries and exp(x) summing to 1."""
    if not checks.active:
        return
    xp = checks.xp
    _check_log_entries(x, name, "log-probabilities", checks, strip, axis)
    n = x.shape[axis]
    tol, _ = _sum_tolerance(xp, x, n)
    lse = logsumexp(x, axis=axis, keepdims=False, xp=xp)
    checks.fail_where(
        ~(xp.abs(lse) <= tol),
        xp.exp(lse),
        Message(
            name,
            f"has probabilities summing to {{value:.10g}}{{where}}, not 1 (tolerance {tol:.2g}).",
            fix="Pass {logits} to normalise them with a softmax.",
            kind="log-probabilities",
            place="row",
            strip=row_strip,
        ),
    )


def check_labels(
    y: Array,
    name: str,
    *,
    n_classes: int | None,
    axis: int | None,
    checks: Checks,
    strip: int = 0,
) -> None:
    """Check class indices: 0 <= y < n_classes."""
    if not checks.active:
        return
    if n_classes is None:
        checks.fail_where(
            y < 0,
            y,
            Message(
                name,
                "has a negative class index {value:.0f}{where}; labels must be integer "
                "class indices 0..K-1.",
                kind="labels",
                strip=strip,
            ),
        )
        return
    checks.fail_where(
        (y < 0) | (y >= n_classes),
        y,
        Message(
            name,
            f"has class index {{value:.0f}}{{where}}, outside 0..{n_classes - 1} for the "
            f"{n_classes} classes{{along}} of the other argument.",
            fix="Check the number of classes or the axis.",
            kind="labels",
            along=f" along axis={axis}",
            strip=strip,
        ),
    )


def check_unit_interval(x: Array, name: str, *, fix: str, checks: Checks) -> None:
    """Check binary probabilities or targets: finite and within [0, 1]."""
    if not checks.active:
        return
    xp = checks.xp
    checks.fail_where(
        ~xp.isfinite(x) | (x < 0) | (x > 1),
        x,
        Message(name, "has an entry {value:.6g}{where} outside [0, 1];", fix=fix),
    )


def check_finite_logits(x: Array, name: str, *, checks: Checks) -> None:
    """Check binary logits: finite."""
    if not checks.active:
        return
    xp = checks.xp
    checks.fail_where(
        ~xp.isfinite(x),
        x,
        Message(
            name,
            "has a non-finite entry {value}{where}; binary logits must be finite numbers "
            "(logits of +-1e4 are fine).",
            kind="logits",
        ),
    )
