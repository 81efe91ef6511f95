"""The base of every family: parameters, their rules and checks, and batch broadcasting.

A family is a small frozen object whose parameters are arrays (or Python numbers)
that broadcast against each other, as in ``torch.distributions``. Each parameter
follows a rule (real, positive, a count, a probability, ...) checked when the family
is made: now on eager arrays, when the result is computed on Dask, not under
``jax.jit``. A message names the family and the parameter as parts of its
:class:`~klkit._core._errors.DistributionError` (``owner`` and ``argument``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from klkit._backends._namespace import is_array, namespace
from klkit._core._checks import Checks, Message
from klkit._core._errors import DistributionError
from klkit._typing import Array, Namespace

__all__ = ["Family", "broadcast_batch"]

_NEED = {
    "real": "a finite number",
    "positive": "> 0 and finite",
    "nonnegative": ">= 0 and finite",
    "count": "a whole number >= 0",
    "unit": "a probability in [0, 1]",
    "success": "a probability in (0, 1]",
}
"""Each rule a parameter can follow, as its message says it."""


def _ok_number(v: float, rule: str) -> bool:
    return {
        "real": math.isfinite(v),
        "positive": 0 < v < math.inf,
        "nonnegative": 0 <= v < math.inf,
        "count": 0 <= v < math.inf and v == math.floor(v),
        "unit": 0 <= v <= 1,
        "success": 0 < v <= 1,
    }[rule]


def _bad_entries(x: Array, rule: str, xp: Namespace) -> Array:
    if rule == "real":
        return ~xp.isfinite(x)
    if rule == "positive":
        return ~((x > 0) & xp.isfinite(x))
    if rule == "nonnegative":
        return ~((x >= 0) & xp.isfinite(x))
    if rule == "count":
        return ~((x >= 0) & xp.isfinite(x) & (xp.floor(x) == x))
    if rule == "unit":
        return ~((x >= 0) & (x <= 1))
    return ~((x > 0) & (x <= 1))  # "success"


def broadcast_batch(
    family: str, shapes: dict[str, tuple[int, ...]], *, lead: str = ""
) -> tuple[int, ...]:
    """Broadcast ``shapes``, or raise a DistributionError naming the two that clash.

    ``lead`` replaces the default start of the message, "`Family` parameters".
    """
    out: tuple[int, ...] = ()
    first = ""
    for name, shape in shapes.items():
        n = max(len(out), len(shape))
        a, b = (1,) * (n - len(out)) + out, (1,) * (n - len(shape)) + shape
        if any(x != y and 1 not in (x, y) for x, y in zip(a, b, strict=True)):
            start = lead or f"`{family}` parameters `{first}`"
            end = f"`{name}`" if not lead else name
            problem = (
                f"{start} (batch shape {out}) and {end} (batch shape {shape}) do not broadcast;"
            )
            raise DistributionError(problem, fix="give them equal shapes or size-1 axes.")
        out = tuple(max(x, y) for x, y in zip(a, b, strict=True))
        first = first or name
    return out


@dataclass(frozen=True, eq=False)
class Family:
    """A batch of distributions of one parametric family (see the subclasses)."""

    _rules: ClassVar[dict[str, str]] = {}
    """Parameter name -> rule: a key of ``_NEED``."""
    _event: ClassVar[dict[str, int]] = {}
    """Parameter name -> number of trailing event dimensions (default 0)."""
    _ordered: ClassVar[tuple[str, str] | None] = None
    """Two parameters that must be strictly increasing (Uniform's low < high)."""

    params: dict[str, Any] = field(init=False, repr=False)
    _checks: Checks | None = field(init=False, repr=False, default=None)
    """The parameter checks; on Dask they raise when a result is computed."""

    def _store(self, **params: Any) -> None:
        for name, value in params.items():
            if not is_array(value) and not isinstance(value, int | float):
                msg = (
                    f"`{type(self).__name__}` parameter `{name}` is a "
                    f"{type(value).__name__}; pass a number or an array."
                )
                raise TypeError(msg)
        object.__setattr__(self, "params", params)
        self._check()

    def _check(self) -> None:
        family = type(self).__name__
        arrays = {n: v for n, v in self.params.items() if is_array(v)}
        checks = None
        if arrays:
            xp = namespace(*arrays.values(), names=list(arrays))
            checks = Checks(*arrays.values(), xp=xp, enabled=True)
            self._check_shapes(arrays)
        for name, value in self.params.items():
            need = _NEED[self._rules[name]]
            if not is_array(value):
                if not _ok_number(float(value), self._rules[name]):
                    problem = f"has {float(value)}; it must be {need}."
                    raise DistributionError(problem, argument=name, owner=family)
                continue
            assert checks is not None
            self._check_array(name, value, checks)
        if self._ordered is not None:
            self._check_ordered(checks)
        object.__setattr__(self, "_checks", checks)

    def _check_array(self, name: str, x: Array, checks: Checks) -> None:
        """Check one array parameter against its rule (now, or on Dask when computed)."""
        family, xp = type(self).__name__, checks.xp
        if not xp.isdtype(x.dtype, ("real floating", "integral")):
            msg = f"`{family}` parameter `{name}` has dtype {x.dtype}; pass real numbers."
            raise TypeError(msg)
        rule = self._rules[name]
        bad = _bad_entries(x, rule, xp)
        event = self._event.get(name, 0)
        if checks.mode == "defer" and event:
            # Deferred (Dask) checks line up with the result, which has no event
            # axes: check per distribution, showing its smallest entry.
            axes = tuple(range(-event, 0))
            bad, x = xp.any(bad, axis=axes), xp.min(x, axis=axes)
        problem = f"has {{value}}{{where}}; it must be {_NEED[rule]}."
        checks.fail_where(bad, x, Message(name, problem, owner=family))

    def _check_ordered(self, checks: Checks | None) -> None:
        """``_ordered = (low, high)``: each ``low`` must be below its ``high``."""
        assert self._ordered is not None
        family, (lo_name, hi_name) = type(self).__name__, self._ordered
        lo, hi = self.params[lo_name], self.params[hi_name]
        if checks is None:  # two Python numbers
            if not float(lo) < float(hi):
                problem = (
                    f"`{family}` needs {lo_name} < {hi_name}; got {lo_name}={lo}, {hi_name}={hi}."
                )
                raise DistributionError(problem)
            return
        xp = checks.xp
        lo = lo if is_array(lo) else xp.asarray(float(lo))
        hi = hi if is_array(hi) else xp.asarray(float(hi))
        checks.fail_where(
            ~(lo < hi),
            lo + 0.0 * hi,
            f"`{family}` needs {lo_name} < {hi_name}; `{lo_name}` is {{value}}{{where}}, not "
            f"below `{hi_name}`.",
        )

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The broadcast batch shape of the parameters (event axes dropped)."""
        shapes = {
            n: tuple(v.shape[: len(v.shape) - self._event.get(n, 0)])
            for n, v in self.params.items()
            if is_array(v)
        }
        return broadcast_batch(type(self).__name__, shapes)

    def _check_shapes(self, arrays: dict[str, Any]) -> None:
        """Batch shapes (event dimensions dropped) must broadcast against each other."""
        family = type(self).__name__
        batch: dict[str, tuple[int, ...]] = {}
        for name, x in arrays.items():
            event = self._event.get(name, 0)
            shape = tuple(x.shape)
            if len(shape) < event:
                what = "a vector" if event == 1 else "a matrix"
                problem = (
                    f"has shape {shape}; it must be {what} (or a batch of them, with the last "
                    f"{event} axes the event)."
                )
                raise DistributionError(problem, argument=name, owner=family)
            batch[name] = shape[: len(shape) - event]
        broadcast_batch(family, batch)

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{n}={v!r}" if not is_array(v) else f"{n}=<{getattr(v, 'shape', '?')}>"
            for n, v in self.params.items()
        )
        return f"{type(self).__name__}({inner})"

    def arrays(self, xp: Namespace, dtype: Any, device: Any) -> dict[str, Array]:
        """Return the parameters as arrays of ``xp``, cast to ``dtype``."""
        return {
            n: xp.astype(v, dtype) if is_array(v) else xp.asarray(v, dtype=dtype, device=device)
            for n, v in self.params.items()
        }

    def batch_of(self, name: str, x: Array) -> tuple[int, ...]:
        """Return the batch part of parameter ``name``'s shape (its event axes dropped)."""
        event = self._event.get(name, 0)
        return tuple(x.shape[: len(x.shape) - event])
