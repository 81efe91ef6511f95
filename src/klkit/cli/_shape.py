"""Read the positional arguments and lay them out: batches, the outcome axis, names."""

from __future__ import annotations

import sys
from typing import Any

import typer

from klkit._core._named import Named, align_named
from klkit.cli._options import unknown_option
from klkit.cli._read import read_argument
from klkit.cli._values import Table, UserError


class _Stdin:
    """Standard input, read when an argument is ``-`` (at most ``size`` characters)."""

    def read(self, size: int = -1, /) -> str:
        return sys.stdin.read(size)


class Reader:
    """Read positional arguments; only one of them may be standard input."""

    def __init__(self, ctx: typer.Context) -> None:
        self.ctx = ctx
        self.stdin_taken_by: str | None = None
        self.stdin = _Stdin()

    def __call__(self, arg: str, name: str, *, samples: bool = False) -> Table:
        unknown = unknown_option(arg, self.ctx)
        if unknown:
            raise UserError(unknown)
        if arg == "-":
            if self.stdin_taken_by:
                msg = (
                    f"{name}: standard input ('-') is already read for {self.stdin_taken_by}; "
                    f"give {name} inline or as a file."
                )
                raise UserError(msg)
            self.stdin_taken_by = name
        return read_argument(arg, name=name, stdin=self.stdin, samples=samples)


def axis_of_outcomes(tables: dict[str, Table], axis: int | None) -> int | None:
    """Check --axis against the inputs; None when every input is one distribution."""
    ndim = max(t.values.ndim for t in tables.values())
    if ndim > 2:
        name = next(n for n, t in tables.items() if t.values.ndim > 2)
        msg = (
            f"{name} has {tables[name].values.ndim} dimensions; the command line reads one "
            "distribution (1-D) or a batch (2-D, with --axis)."
        )
        raise UserError(msg)
    if ndim == 2 and axis is None:
        name = next(n for n, t in tables.items() if t.values.ndim == 2)
        rows, cols = tables[name].values.shape
        msg = (
            f"{name} is a batch: a table of {rows} rows and {cols} columns. Pass --axis 1 "
            "for one distribution per row or --axis 0 for one per column (or pick one CSV "
            "column with FILE.csv:NAME)."
        )
        raise UserError(msg)
    if axis is not None and not -ndim <= axis < ndim:
        allowed = "0 (or leave it out)" if ndim == 1 else "0 or 1"
        msg = f"--axis: {axis} is out of range for {ndim}-D input; use {allowed}."
        raise UserError(msg)
    return None if axis is None else axis % ndim


def outcome_arrays(tables: dict[str, Table], axis: int | None) -> list[Any]:
    """Return the values, a 1-D distribution laid along the outcome axis of a batch."""
    arrays = []
    for t in tables.values():
        values = t.values
        if axis == 0 and values.ndim == 1 and any(o.values.ndim == 2 for o in tables.values()):
            values = values[:, None]
        arrays.append(values)
    return arrays


def align(
    tables: dict[str, Table],
    arrays: list[Any],
    axis: int | None,
    *,
    outcomes: tuple[str, ...] | None = None,
) -> tuple[list[Any], tuple[Any, ...] | None]:
    """Align the arguments' named outcomes (and named batch entries) by name.

    ``axis`` is the outcome axis of a batch (None: every argument is 1-D); the values
    in ``arrays`` are already shaped by :func:`outcome_arrays`. ``outcomes`` (--outcomes)
    names the outcomes of every argument that does not name its own. Returns the
    values in the first named argument's order and the outcome names.
    """
    named = []
    for (name, t), values in zip(tables.items(), arrays, strict=True):
        if t.values.ndim == 2 and axis is not None:
            own, rows = t.names(axis), t.names(1 - axis)
        else:
            own, rows = t.row_names, None
        named.append((name, Named(values, outcomes=own or outcomes, rows=rows)))
    if len(named) < 2:
        return arrays, named[0][1].outcomes if named else None
    aligned, names = align_named(named, axis=0 if axis == 0 else -1)
    return [v for _, v in aligned], names


def entry_names(tables: dict[str, Table], axis: int) -> tuple[str, ...] | None:
    """Names of the distributions in a batch: the names along the other axis."""
    for t in tables.values():
        if t.values.ndim == 2 and t.names(1 - axis):
            return t.names(1 - axis)
    return None
