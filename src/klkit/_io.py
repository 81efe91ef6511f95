"""Read the distributions given to the command line: inline numbers, files, standard input.

Used by :mod:`klkit.cli`; the core never imports it. Every message names the argument,
the offending token or file, and the fix.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

__all__ = ["FORMATS", "InputError", "Table", "parse_names", "parse_number", "read_argument"]

FORMATS = (".csv", ".npy", ".json", ".txt")
"""File extensions :func:`read_argument` reads."""

_HOW = "write numbers like 0.2,0.8 or 1/6,5/6"
_SEPARATORS = re.compile(r"[,\s]+")
_Float = np.ndarray[Any, np.dtype[np.float64]]


class InputError(ValueError):
    """A command-line argument could not be read; the message says why and how to fix it."""


@dataclass(frozen=True)
class Table:
    """Numbers read from one argument, with the names a CSV or JSON file gave them.

    ``values`` is 1-D (one distribution) or 2-D (a batch). ``row_names`` names the
    entries along axis 0 (a CSV's text column, a JSON object's keys) and
    ``column_names`` those along axis 1 (a CSV's header).
    """

    values: _Float
    row_names: tuple[str, ...] | None = None
    column_names: tuple[str, ...] | None = None

    def names(self, axis: int) -> tuple[str, ...] | None:
        """Return the names along ``axis`` (0 or 1), if the source gave any."""
        return self.row_names if axis == 0 else self.column_names


def parse_number(token: str) -> float:
    """Read a decimal (``0.25``, ``1e-3``, ``inf``) or a fraction (``1/4``).

    Raises a ValueError with the reason (not a number, or a zero denominator).
    """
    text = token.strip()
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        top, bottom = float(numerator), float(denominator)
        if bottom == 0:
            msg = "its denominator is 0"
            raise ValueError(msg)
        return top / bottom
    if not text or "_" in text:
        msg = "not a number"
        raise ValueError(msg)
    return float(text)


def _number(token: str, *, name: str, where: str) -> float:
    try:
        return parse_number(token)
    except ValueError as e:
        stripped = token.strip()
        if not stripped:
            problem = "is empty"
        elif "denominator" in str(e):
            problem = f"is {stripped!r}, whose denominator is 0"
        else:
            problem = f"is {stripped!r}, not a number"
        msg = f"{name}: {where} {problem}; {_HOW}."
        raise InputError(msg) from None


def _is_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def _inline(text: str, *, name: str) -> Table:
    items = text.split(",")
    values = [
        _number(item, name=name, where=f"item {i + 1} of {text!r}") for i, item in enumerate(items)
    ]
    return Table(np.array(values, dtype=np.float64))


def _lines_of_numbers(text: str, *, name: str, source: str) -> Table:
    """Numbers separated by commas or white space; several per line on several lines is 2-D."""
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            rows.append((number, [t for t in _SEPARATORS.split(content.strip(", ")) if t]))
    if not rows:
        msg = f"{name}: {source} holds no numbers; {_HOW}, one distribution per line."
        raise InputError(msg)
    parsed = [
        [
            _number(t, name=name, where=f"line {n}, item {i + 1} of {source},")
            for i, t in enumerate(r)
        ]
        for n, r in rows
    ]
    if len(parsed) == 1 or all(len(r) == 1 for r in parsed):
        return Table(np.array([v for r in parsed for v in r], dtype=np.float64))
    width = len(parsed[0])
    for (n, _), r in zip(rows, parsed, strict=True):
        if len(r) != width:
            msg = (
                f"{name}: line {n} of {source} has {len(r)} numbers but line {rows[0][0]} has "
                f"{width}; give every distribution (line) the same number of outcomes."
            )
            raise InputError(msg)
    return Table(np.array(parsed, dtype=np.float64))


def _json(text: str, *, name: str, source: str) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        msg = (
            f"{name}: {source} is not valid JSON ({e.msg} at line {e.lineno}, column "
            f"{e.colno}); write a list such as [0.2, 0.8]."
        )
        raise InputError(msg) from None
    if isinstance(data, dict):
        keys = tuple(str(k) for k in data)
        values = [
            _json_number(v, name=name, where=f"key {k!r}", source=source) for k, v in data.items()
        ]
        return Table(np.array(values, dtype=np.float64), row_names=keys)
    if not isinstance(data, list) or not data:
        found = "an empty list" if data == [] else f"a JSON {type(data).__name__}"
        msg = (
            f"{name}: {source} holds {found}; klkit reads a list of numbers such as "
            '[0.2, 0.8], a list of such lists (a batch), or an object {"outcome": number}.'
        )
        raise InputError(msg)
    if all(isinstance(row, list) for row in data):
        widths = {len(row) for row in data}
        if len(widths) != 1:
            msg = (
                f"{name}: the rows of {source} have different lengths "
                f"({', '.join(str(len(r)) for r in data)}); give every distribution the "
                "same number of outcomes."
            )
            raise InputError(msg)
        rows = [
            [
                _json_number(v, name=name, where=f"item [{i}][{j}]", source=source)
                for j, v in enumerate(row)
            ]
            for i, row in enumerate(data)
        ]
        return Table(np.array(rows, dtype=np.float64))
    values = [
        _json_number(v, name=name, where=f"item [{i}]", source=source) for i, v in enumerate(data)
    ]
    return Table(np.array(values, dtype=np.float64))


def _json_number(value: object, *, name: str, where: str, source: str) -> float:
    if isinstance(value, str):
        return _number(value, name=name, where=f"{where} of {source}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    msg = (
        f"{name}: {where} of {source} is {json.dumps(value)}, not a number; {_HOW} "
        '(JSON numbers, or strings such as "1/6").'
    )
    raise InputError(msg)


def _npy(path: Path, *, name: str) -> Table:
    with path.open("rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY":  # np.load would take anything else for a pickle
        msg = (
            f"{name}: '{path}' is not a valid .npy file (it lacks the .npy header); write "
            "it with np.save."
        )
        raise InputError(msg)
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e):
            msg = (
                f"{name}: '{path}' holds pickled Python objects, which klkit never loads "
                "(unpickling can run code); save a numeric array instead, e.g. "
                "np.save(path, np.asarray(values, dtype=float))."
            )
        else:
            msg = f"{name}: '{path}' is not a valid .npy file ({e}); write it with np.save."
        raise InputError(msg) from None
    if data.dtype.kind not in "biuf":
        what = {"c": "complex numbers", "U": "text", "S": "bytes"}.get(
            data.dtype.kind, "non-numbers"
        )
        msg = (
            f"{name}: '{path}' holds {what} (dtype {data.dtype}); probabilities must be real "
            "numbers. Save a float or integer array."
        )
        raise InputError(msg)
    if data.ndim == 0:
        msg = f"{name}: '{path}' holds a single number, not a distribution; save a 1-D array."
        raise InputError(msg)
    return Table(np.asarray(data, dtype=np.float64))


def _csv(text: str, *, name: str, source: str, column: str | None) -> Table:
    lines = [
        (n, row)
        for n, row in enumerate(csv.reader(text.splitlines()), start=1)
        if any(c.strip() for c in row)
    ]
    if not lines:
        msg = f"{name}: {source} is empty; write one number per line, or a header and columns."
        raise InputError(msg)

    first_line, first = lines[0]
    has_header = not all(_is_number(c) for c in first if c.strip())
    header = [c.strip() for c in first] if has_header else None
    body = lines[1:] if has_header else lines
    width = len(header) if header is not None else len(body[0][1])
    for n, row in body:
        if len(row) != width:
            msg = (
                f"{name}: line {n} of {source} has {len(row)} cells but line "
                f"{first_line if header else body[0][0]} has {width}; give every row the "
                "same columns."
            )
            raise InputError(msg)
    if not body:
        msg = f"{name}: {source} has a header but no rows of numbers."
        raise InputError(msg)
    labels = header or [f"column {j + 1}" for j in range(width)]
    text_columns = [
        j for j in range(width) if not all(_is_number(row[j]) for _, row in body if row[j].strip())
    ]
    numbers = [j for j in range(width) if j not in text_columns]
    row_names = tuple(row[text_columns[0]].strip() for _, row in body) if text_columns else None

    def read_column(j: int) -> list[float]:
        return [
            _number(row[j], name=name, where=f"line {n}, column {labels[j]!r} of {source},")
            for n, row in body
        ]

    if column is not None:
        if header is None:
            msg = (
                f"{name}: {source} has no header line, so it has no column {column!r}; add a "
                "first line naming the columns."
            )
            raise InputError(msg)
        if column not in header:
            msg = (
                f"{name}: {source} has no column {column!r}; its columns are "
                f"{', '.join(repr(h) for h in header)}."
            )
            raise InputError(msg)
        j = header.index(column)
        if j in text_columns:
            bad = next(row[j] for _, row in body if row[j].strip() and not _is_number(row[j]))
            msg = (
                f"{name}: column {column!r} of {source} holds text ({bad.strip()!r}), not "
                "numbers; pick a numeric column."
            )
            raise InputError(msg)
        others = [t for t in text_columns if t != j]
        names = tuple(row[others[0]].strip() for _, row in body) if others else None
        return Table(np.array(read_column(j), dtype=np.float64), row_names=names)
    if not numbers:
        msg = f"{name}: {source} has no numeric column; its columns hold text only."
        raise InputError(msg)
    columns = [read_column(j) for j in numbers]
    if len(numbers) == 1:
        return Table(np.array(columns[0], dtype=np.float64), row_names=row_names)
    if len(body) == 1:  # one row of numbers: one distribution across the columns
        names = tuple(labels[j] for j in numbers) if header else None
        return Table(np.array([c[0] for c in columns], dtype=np.float64), row_names=names)
    return Table(
        np.array(columns, dtype=np.float64).T,
        row_names=row_names,
        column_names=tuple(labels[j] for j in numbers) if header else None,
    )


def _split_column(arg: str) -> tuple[str, str | None]:
    """'data.csv:p' -> ('data.csv', 'p'), unless a file is literally named so."""
    if os.path.exists(arg):
        return arg, None
    head, sep, tail = arg.rpartition(":")
    if sep and head.lower().endswith(".csv") and tail:
        return head, tail
    return arg, None


def _read_text(path: Path, *, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        msg = f"{name}: '{path}' is not UTF-8 text; save it as UTF-8 text."
        raise InputError(msg) from None


class Readable(Protocol):
    """What ``-`` reads from: ``sys.stdin``, or anything with its ``read()``."""

    def read(self) -> str: ...


def read_argument(arg: str, *, name: str, stdin: Readable) -> Table:
    """Read one command-line argument: inline numbers, a file, or ``-`` for stdin.

    Parameters
    ----------
    arg : str
        ``0.2,0.8``; ``1/6,5/6``; ``data.csv`` or ``data.csv:column``; ``x.npy``;
        ``x.json``; ``x.txt``; ``-``.
    name : str
        The argument's name in messages (``P``, ``Q``, ...).
    stdin : file
        Where ``-`` reads from.

    Raises
    ------
    InputError
        With one line naming ``name``, the offending token or file, and the fix.
    """
    if arg == "-":
        try:
            text = stdin.read().lstrip("\ufeff")
        except UnicodeDecodeError:
            msg = f"{name}: standard input is not UTF-8 text; send numbers as UTF-8 text."
            raise InputError(msg) from None
        if text.lstrip().startswith(("[", "{")):
            return _json(text, name=name, source="standard input")
        return _lines_of_numbers(text, name=name, source="standard input")
    file, column = _split_column(arg)
    path = Path(file)
    if not path.exists():
        if file.lower().endswith(FORMATS):
            msg = f"{name}: no such file '{file}'; check the path, or {_HOW}."
            raise InputError(msg)
        if "," not in arg and not _is_number(arg):
            msg = (
                f"{name}: {arg!r} is not a number and no file has that name; {_HOW}, or "
                f"give a {', '.join(FORMATS)} file."
            )
            raise InputError(msg)
        return _inline(arg, name=name)
    if path.is_dir():
        msg = f"{name}: '{file}' is a directory; give a {', '.join(FORMATS)} file."
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        msg = (
            f"{name}: '{file}' has an extension klkit does not read; use one of "
            f"{', '.join(FORMATS)}, or '-' with the numbers on standard input."
        )
        raise InputError(msg)
    if column is not None and suffix != ".csv":
        msg = f"{name}: only .csv files have columns; drop ':{column}' from '{arg}'."
        raise InputError(msg)
    source = f"'{file}'"
    try:
        if suffix == ".npy":
            return _npy(path, name=name)
        text = _read_text(path, name=name)
    except OSError as e:
        msg = (
            f"{name}: cannot read '{file}' ({e.strerror or e}); check the path and its permissions."
        )
        raise InputError(msg) from None
    if suffix == ".json":
        return _json(text, name=name, source=source)
    if suffix == ".txt":
        return _lines_of_numbers(text, name=name, source=source)
    return _csv(text, name=name, source=source, column=column)


def parse_names(text: str, *, option: str) -> tuple[str, ...]:
    """Split ``a,b,c`` into outcome names; an empty name is an error."""
    names = tuple(part.strip() for part in text.split(","))
    if any(not n for n in names):
        msg = f"{option}: {text!r} has an empty name; write names separated by commas, e.g. a,b,c."
        raise InputError(msg)
    return names
