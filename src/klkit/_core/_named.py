"""Outcomes named by pandas objects, dicts and the command line's files: aligned by name.

The rule, for every measure, ``explain``, ``plot`` and the command line: when two
arguments name their outcomes they are matched by name; different sets of names are
an error listing what each side lacks; one named side against an unnamed one is
matched by position, when the lengths agree, and keeps its names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from klkit._backends._namespace import library_of
from klkit._core._errors import DistributionError
from klkit._core._inputs import Labels, Logits, LogProbs, unwrap

__all__ = ["Named", "align_named", "align_outcomes", "is_named", "split_names"]


def is_named(value: object) -> bool:
    """Tell whether ``value`` (possibly wrapped) carries names: pandas objects or dicts."""
    _, raw = unwrap(value)
    return isinstance(raw, Mapping) or (library_of(raw) == "pandas" and hasattr(raw, "index"))


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
    kind, raw_value = unwrap(value)
    raw: Any = raw_value
    # the same wrapper with its options (temperature, ignore_index, smoothing)
    wrapper: Any = value
    rewrap: Any = (lambda a: dataclasses.replace(wrapper, array=a)) if kind != "probs" else None
    outcomes: tuple[Any, ...] | None = None
    rows: tuple[Any, ...] | None = None
    if isinstance(raw, Mapping):
        outcomes = tuple(raw.keys())
        raw = list(raw.values())
    elif library_of(raw) == "pandas" and hasattr(raw, "index") and hasattr(raw, "to_numpy"):
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
    """Up to ``limit`` names, as literal text of a message template (braces doubled)."""
    parts = [_literal(repr(n)) for n in names[:limit]]
    if len(names) > limit:
        parts.append(f"and {len(names) - limit} more")
    return ", ".join(parts)


def _literal(text: str) -> str:
    """``text`` inside a message template, where braces would be fields."""
    return text.replace("{", "{{").replace("}", "}}")


def _length(values: Any, axis: int) -> int | None:
    shape = np.shape(values.array if isinstance(values, Logits | LogProbs) else values)
    return shape[axis] if shape and -len(shape) <= axis < len(shape) else None


def _take(value: Any, order: list[int], axis: int) -> Any:
    kind, raw = unwrap(value)
    moved = np.take(np.asarray(raw), order, axis=axis)
    return dataclasses.replace(value, array=moved) if kind != "probs" else moved  # options kept


def _check_names(name: str, names: Sequence[Any], what: str) -> None:
    dup = _duplicate(names)
    if dup is not None:
        raise DistributionError(
            problem=f"names the {what} {_literal(repr(dup))} twice; each name must be unique.",
            argument=name,
            fix="Sum or drop the duplicates first.",
        )


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
            p, q = f"{{name:{first_arg}}}", f"{{name:{a}}}"
            if only_first:
                parts.append(f"{_shown(only_first)} in {p} but not in {q}")
            if only_here:
                parts.append(f"{_shown(only_here)} in {q} but not in {p}")
            if what == "outcome":
                fix = (
                    "klkit aligns named outcomes by name, so both sides need the same names; "
                    "list an outcome that cannot happen on one side with probability 0 "
                    "there{reindex}."
                )
            else:
                fix = (
                    "klkit aligns the {rows} of two named batches by name; give both the same "
                    "names, or one side without names."
                )
            plural = "outcomes" if what == "outcome" else "{rows}"
            raise DistributionError(
                problem=f"{p} and {q} name different {plural}: {'; '.join(parts)}.", fix=fix
            )
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
                raise DistributionError(
                    problem=f"{{name:{named_arg}}} names {len(outcome_names)} outcomes "
                    f"({_shown(outcome_names)}) but {{name:{arg}}} has {k} unnamed "
                    "outcomes{along};",
                    along=f" along axis={out_axis}",
                    fix="an unnamed side is matched by position, so it needs one value "
                    "per named outcome, in the same order.",
                )
        result.append((arg, value))
    return result, outcome_names
