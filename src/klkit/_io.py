"""Read the distributions given to the command line: inline numbers, files, standard input.

Used by :mod:`klkit.cli`; the core never imports it. Every message names the argument,
the offending token or file, and the fix, on one line, quoting at most a few dozen
characters of what it was given.

Limits, each read from the environment when an argument is read:

``KLKIT_MAX_BYTES`` (default 256 MiB)
    The largest file, or standard input, that is read. ``K``, ``M`` and ``G`` (powers
    of 1024) may follow the number: ``KLKIT_MAX_BYTES=2G``.
``KLKIT_MAX_VALUES`` (default 10 000 000)
    The most numbers (or labels) one argument may hold: inline, in a file, or on
    standard input. A ``.npy`` header is checked before any data is read.

Devices, sockets and directories are refused before anything is read; a regular file
larger than the limit is refused from its size alone.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_VALUES",
    "FORMATS",
    "InputError",
    "Table",
    "file_status",
    "max_bytes",
    "max_values",
    "parse_names",
    "parse_number",
    "quote",
    "read_argument",
]

FORMATS = (".csv", ".npy", ".json", ".txt")
"""File extensions :func:`read_argument` reads."""

DEFAULT_MAX_BYTES = 256 * 2**20
"""Largest file or standard input read, unless ``KLKIT_MAX_BYTES`` says otherwise."""

DEFAULT_MAX_VALUES = 10_000_000
"""Most values in one argument, unless ``KLKIT_MAX_VALUES`` says otherwise."""

_HOW = "write numbers like 0.2,0.8 or 1/6,5/6"
_SEPARATORS = re.compile(r"[,\s]+")
_INF_WORDS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_Array = np.ndarray[Any, Any]


class InputError(ValueError):
    """A command-line argument could not be read; the message says why and how to fix it."""


@dataclass(frozen=True)
class Table:
    """Values read from one argument, with the names a CSV or JSON file gave them.

    ``values`` is 1-D (one distribution) or 2-D (a batch) of float64; when samples
    are read, it may instead be 1-D text labels. ``row_names`` names the entries along
    axis 0 (a CSV's text column, a JSON object's keys) and ``column_names`` those along
    axis 1 (a CSV's header).
    """

    values: _Array
    row_names: tuple[str, ...] | None = None
    column_names: tuple[str, ...] | None = None

    def names(self, axis: int) -> tuple[str, ...] | None:
        """Return the names along ``axis`` (0 or 1), if the source gave any."""
        return self.row_names if axis == 0 else self.column_names


# --- limits -------------------------------------------------------------------------------


def _limit(var: str, default: int, *, sizes: bool) -> int:
    text = os.environ.get(var, "").strip()
    if not text:
        return default
    pattern = r"(\d{1,18})([KMGT]?)(?:i?B)?" if sizes else r"(\d{1,18})()"
    match = re.fullmatch(pattern, text, flags=re.IGNORECASE)
    value = (
        int(match.group(1)) * 1024 ** "_KMGT".index(match.group(2).upper() or "_") if match else 0
    )
    if value < 1:
        example = "1G" if sizes else "50000000"
        unit = ", optionally followed by K, M or G" if sizes else ""
        msg = (
            f"the environment variable {var} is {quote(text)}, not a limit; set it to a "
            f"whole number above 0{unit} (e.g. {var}={example}), or unset it for the "
            f"default {default:,}."
        )
        raise InputError(msg)
    return value


def max_bytes() -> int:
    """Return the largest number of bytes read from one file or standard input."""
    return _limit("KLKIT_MAX_BYTES", DEFAULT_MAX_BYTES, sizes=True)


def max_values() -> int:
    """Return the most values one argument may hold."""
    return _limit("KLKIT_MAX_VALUES", DEFAULT_MAX_VALUES, sizes=False)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _too_many(name: str, source: str, count: str) -> InputError:
    limit = max_values()
    return InputError(
        f"{name}: {source} holds {count} values, more than the limit of {limit:,} for one "
        f"argument; raise it with the environment variable KLKIT_MAX_VALUES (e.g. "
        f"KLKIT_MAX_VALUES={limit * 10}) if the machine has the memory."
    )


def _check_count(n: int, *, name: str, source: str) -> None:
    if n > max_values():
        raise _too_many(name, source, f"{n:,}")


def _too_big(name: str, source: str, size: str) -> InputError:
    limit = max_bytes()
    return InputError(
        f"{name}: {source} is {size}, more than the {_size(limit)} klkit reads from one "
        "file or standard input; raise the limit with the environment variable "
        f"KLKIT_MAX_BYTES (e.g. KLKIT_MAX_BYTES={max(1, 4 * limit // 2**30)}G)."
    )


# --- quoting what the user gave -----------------------------------------------------------


def quote(text: str, limit: int = 60) -> str:
    """``repr(text)``, shortened to about ``limit`` characters with its length said."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 20]!r}... ({len(text):,} characters)"


# --- numbers ------------------------------------------------------------------------------


def parse_number(token: str) -> float:
    """Read a decimal (``0.25``, ``1e-3``, ``inf``) or a fraction (``1/4``).

    Raises a ValueError with the reason (not a number, a zero denominator, or a
    finite number too large for a 64-bit float).
    """
    text = token.strip()
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        top, bottom = parse_number(numerator), parse_number(denominator)
        if bottom == 0:
            msg = "its denominator is 0"
            raise ValueError(msg)
        with np.errstate(all="ignore"):  # inf/inf is NaN, as in Python; checked below
            value = float(np.float64(top) / np.float64(bottom))
        if math.isinf(value) and not (math.isinf(top) or math.isinf(bottom)):
            msg = "the fraction is too large for a 64-bit float (largest about 1.8e308)"
            raise ValueError(msg)
        return value
    if not text or "_" in text:
        msg = "not a number"
        raise ValueError(msg)
    value = float(text)
    if math.isinf(value) and text.lower() not in _INF_WORDS:
        msg = "too large for a 64-bit float (largest about 1.8e308)"
        raise ValueError(msg)
    return value


def _problem(token: str, error: ValueError) -> str:
    stripped = token.strip()
    if not stripped:
        return "is empty"
    if "denominator" in str(error):
        return f"is {quote(stripped)}, whose denominator is 0"
    if "too large" in str(error):
        return f"is {quote(stripped)}, {error}"
    return f"is {quote(stripped)}, not a number"


def _number(token: str, *, name: str, where: str) -> float:
    try:
        return parse_number(token)
    except ValueError as e:
        msg = f"{name}: {where} {_problem(token, e)}; {_HOW}."
        raise InputError(msg) from None


def _is_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def _numbers(tokens: list[str], *, name: str, where: Any) -> list[float]:
    """Parse every token; on the first bad one, ``where(i)`` says where it is."""
    out = []
    for i, token in enumerate(tokens):
        try:
            out.append(parse_number(token))
        except ValueError as e:
            msg = f"{name}: {where(i)} {_problem(token, e)}; {_HOW}."
            raise InputError(msg) from None
    return out


def _labels_or_numbers(tokens: list[str]) -> _Array:
    """Return the tokens as numbers if every one is a number, else as text labels."""
    try:
        return np.array([parse_number(t) for t in tokens], dtype=np.float64)
    except ValueError:
        return np.array(tokens, dtype=str)


# --- inline text and lines of numbers -----------------------------------------------------


def _inline(text: str, *, name: str, samples: bool) -> Table:
    if samples:
        tokens = [t for t in _SEPARATORS.split(text) if t]
        _check_count(len(tokens), name=name, source=quote(text))
        return Table(_labels_or_numbers(tokens))
    _check_count(text.count(",") + 1, name=name, source=quote(text))
    items = text.split(",")
    values = _numbers(items, name=name, where=lambda i: f"item {i + 1} of {quote(text)}")
    return Table(np.array(values, dtype=np.float64))


def _lines_of_numbers(text: str, *, name: str, source: str, samples: bool) -> Table:
    """Numbers separated by commas or white space; several per line on several lines is 2-D."""
    rows: list[tuple[int, list[str]]] = []
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            tokens = [t for t in _SEPARATORS.split(content.strip(", ")) if t]
            count += len(tokens)
            if count > max_values():
                raise _too_many(name, source, "more than that")
            rows.append((number, tokens))
    if not rows:
        msg = f"{name}: {source} holds no numbers; {_HOW}, one distribution per line."
        raise InputError(msg)
    if samples and not all(_is_number(t) for _, r in rows for t in r):
        return Table(np.array([t for _, r in rows for t in r], dtype=str))
    parsed = [
        _numbers(r, name=name, where=lambda i, n=n: f"line {n}, item {i + 1} of {source},")
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


# --- JSON -------------------------------------------------------------------------------------


class _OutOfRange(float):
    """A JSON number too large for a float64 (kept as text for the message)."""

    text: str

    def __new__(cls, text: str) -> _OutOfRange:
        value = super().__new__(cls, math.inf)
        value.text = text
        return value


def _json_float(text: str) -> float:
    value = float(text)  # never int(): 4,300 digits would raise, fewer be slow
    return _OutOfRange(text) if math.isinf(value) else value


def _json_pairs(name: str, source: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                msg = (
                    f"{name}: {source} names the outcome {quote(key)} twice; each key "
                    "must be unique (JSON keeps only the last). Sum or drop the duplicates."
                )
                raise InputError(msg)
            out[key] = value
        return out

    return pairs


def _json(text: str, *, name: str, source: str, samples: bool = False) -> Table:
    commas = text.count(",")  # one fewer than the values (a little more with text keys)
    if commas >= max_values():
        raise _too_many(name, source, f"about {commas + 1:,}")
    try:
        data = json.loads(
            text,
            parse_int=_json_float,
            parse_float=_json_float,
            object_pairs_hook=_json_pairs(name, source),
        )
    except json.JSONDecodeError as e:
        msg = (
            f"{name}: {source} is not valid JSON ({e.msg} at line {e.lineno}, column "
            f"{e.colno}); write a list such as [0.2, 0.8]."
        )
        raise InputError(msg) from None
    except RecursionError:
        msg = (
            f"{name}: {source} nests lists or objects too deeply for klkit to read; it "
            "reads a list of numbers, a list of such lists, or an object of numbers."
        )
        raise InputError(msg) from None
    if isinstance(data, dict):
        keys = tuple(data)
        values = [
            _json_number(v, name=name, where=f"key {quote(k)}", source=source)
            for k, v in data.items()
        ]
        return Table(np.array(values, dtype=np.float64), row_names=keys)
    if not isinstance(data, list) or not data:
        found = "an empty list" if data == [] else f"a JSON {_json_type(data)}"
        msg = (
            f"{name}: {source} holds {found}; klkit reads a list of numbers such as "
            '[0.2, 0.8], a list of such lists (a batch), or an object {"outcome": number}.'
        )
        raise InputError(msg)
    if all(isinstance(row, list) for row in data):
        widths = {len(row) for row in data}
        if len(widths) != 1:
            shown = ", ".join(str(len(r)) for r in data[:8]) + (", ..." if len(data) > 8 else "")
            msg = (
                f"{name}: the rows of {source} have different lengths ({shown}); give every "
                "distribution the same number of outcomes."
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
    if samples and all(isinstance(v, str) for v in data):
        return Table(_labels_or_numbers(data))
    values = [
        _json_number(v, name=name, where=f"item [{i}]", source=source) for i, v in enumerate(data)
    ]
    return Table(np.array(values, dtype=np.float64))


def _json_type(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )


def _json_number(value: object, *, name: str, where: str, source: str) -> float:
    if isinstance(value, str):
        return _number(value, name=name, where=f"{where} of {source}")
    if isinstance(value, _OutOfRange):
        msg = (
            f"{name}: {where} of {source} is {quote(value.text, 30)}, too large for a "
            "64-bit float (largest about 1.8e308); rescale the numbers."
        )
        raise InputError(msg)
    if isinstance(value, float):
        return value
    shown = "null" if value is None else f"a JSON {_json_type(value)}"
    msg = (
        f"{name}: {where} of {source} is {shown}, not a number; {_HOW} (JSON numbers, or "
        'strings such as "1/6").'
    )
    raise InputError(msg)


# --- .npy -----------------------------------------------------------------------------------


def _npy(data: bytes, *, name: str, source: str, samples: bool) -> Table:
    fh = io.BytesIO(data)
    if data[:6] != b"\x93NUMPY":  # np.load would take anything else for a pickle
        msg = (
            f"{name}: {source} is not a valid .npy file (it lacks the .npy header); write it "
            "with np.save."
        )
        raise InputError(msg)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, SyntaxError, TypeError, KeyError) as e:
        msg = (
            f"{name}: {source} is not a valid .npy file (its header: {quote(str(e))}); write "
            "it with np.save."
        )
        raise InputError(msg) from None
    if dtype.hasobject:
        msg = (
            f"{name}: {source} holds pickled Python objects, which klkit never loads "
            "(unpickling can run code); save a numeric array instead, e.g. "
            "np.save(path, np.asarray(values, dtype=float))."
        )
        raise InputError(msg)
    count = math.prod(shape)
    _check_count(count, name=name, source=source)
    if count * dtype.itemsize > len(data) - fh.tell():
        msg = (
            f"{name}: {source} is not a valid .npy file: its header promises {count:,} values "
            f"of {dtype.itemsize} bytes, but the file is only {len(data):,} bytes; write it "
            "again with np.save."
        )
        raise InputError(msg)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        msg = f"{name}: {source} is not a valid .npy file ({quote(str(e))}); write it with np.save."
        raise InputError(msg) from None
    kind = array.dtype.kind
    if samples and kind in "US" and array.ndim == 1:
        return Table(_text_labels(array, name=name, source=source))
    if kind not in "biuf":
        what = {"c": "complex numbers", "U": "text", "S": "bytes"}.get(kind, "non-numbers")
        hint = " (text labels are read with --samples, one per entry of a 1-D array)"
        msg = (
            f"{name}: {source} holds {what} (dtype {array.dtype}); probabilities must be real "
            f"numbers. Save a float or integer array{hint if kind in 'US' else ''}."
        )
        raise InputError(msg)
    if array.ndim == 0:
        msg = f"{name}: {source} holds a single number, not a distribution; save a 1-D array."
        raise InputError(msg)
    return Table(np.asarray(array, dtype=np.float64))


def _text_labels(array: _Array, *, name: str, source: str) -> _Array:
    if array.dtype.kind == "U":
        return array
    try:
        return np.array([b.decode("utf-8") for b in array.tolist()], dtype=str)
    except UnicodeDecodeError:
        msg = f"{name}: {source} holds bytes that are not UTF-8 text; save the labels as str."
        raise InputError(msg) from None


# --- CSV ------------------------------------------------------------------------------------


def _csv_rows(text: str, *, name: str, source: str) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    count = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if any(c.strip() for c in row):
                count += len(row)
                if count > max_values():
                    raise _too_many(name, source, "more than that")
                rows.append((reader.line_num, row))
    except csv.Error as e:
        msg = (
            f"{name}: line {reader.line_num} of {source} is not valid CSV ({quote(str(e))}); "
            "write numbers separated by commas, one row per line."
        )
        raise InputError(msg) from None
    return rows


def _csv(text: str, *, name: str, source: str, column: str | None, samples: bool) -> Table:
    lines = _csv_rows(text, name=name, source=source)
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
            _number(row[j], name=name, where=f"line {n}, column {quote(labels[j])} of {source},")
            for n, row in body
        ]

    if column is not None:
        if header is None:
            msg = (
                f"{name}: {source} has no header line, so it has no column {quote(column)}; "
                "add a first line naming the columns."
            )
            raise InputError(msg)
        if column not in header:
            shown = ", ".join(quote(h, 30) for h in header[:12])
            more = f" and {len(header) - 12} more" if len(header) > 12 else ""
            msg = f"{name}: {source} has no column {quote(column)}; its columns are {shown}{more}."
            raise InputError(msg)
        j = header.index(column)
        if j in text_columns:
            if samples:
                return Table(np.array([row[j].strip() for _, row in body if row[j].strip()]))
            bad = next(row[j] for _, row in body if row[j].strip() and not _is_number(row[j]))
            msg = (
                f"{name}: column {quote(column)} of {source} holds text ({quote(bad.strip())}), "
                "not numbers; pick a numeric column (text is read as labels with --samples)."
            )
            raise InputError(msg)
        others = [t for t in text_columns if t != j]
        names = tuple(row[others[0]].strip() for _, row in body) if others else None
        return Table(np.array(read_column(j), dtype=np.float64), row_names=names)
    if samples and width == 1 and text_columns:
        return Table(np.array([row[0].strip() for _, row in body if row[0].strip()]))
    if not numbers:
        hint = "; name the column of labels, as in FILE.csv:column" if samples else ""
        msg = f"{name}: {source} has no numeric column; its columns hold text only{hint}."
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


# --- files ------------------------------------------------------------------------------------


def file_status(path: str, *, name: str = "") -> os.stat_result | None:
    """``os.stat(path)``, or None when no file has that name (or it cannot be a name).

    Text too long to be a file name, or holding a NUL character, is no file; a path
    that exists but cannot be examined (permissions, a loop of symbolic links) is an
    :class:`InputError` when ``name`` is given.
    """
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG or not name:
            return None
        msg = (
            f"{name}: cannot read {quote(path)} ({e.strerror or e}); check the path and its "
            "permissions."
        )
        raise InputError(msg) from None


def _split_column(arg: str) -> tuple[str, str | None]:
    """'data.csv:p' -> ('data.csv', 'p'), unless a file is literally named so."""
    if file_status(arg) is not None:
        return arg, None
    head, sep, tail = arg.rpartition(":")
    if sep and head.lower().endswith(".csv") and tail:
        return head, tail
    return arg, None


def _read_file(path: str, st: os.stat_result, *, name: str, source: str) -> bytes:
    """Read a regular file or a pipe, at most ``max_bytes()`` of it."""
    limit = max_bytes()
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        kind = "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not"
        what = "a device, not a regular file" if kind == "a device" else "not a regular file"
        msg = f"{name}: {source} is {what}; give a {', '.join(FORMATS)} file."
        raise InputError(msg)
    if st.st_size > limit:
        raise _too_big(name, source, _size(st.st_size))
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as e:
        msg = (
            f"{name}: cannot read {source} ({e.strerror or e}); check the path and its permissions."
        )
        raise InputError(msg) from None
    if len(data) > limit:
        raise _too_big(name, source, f"over {_size(limit)}")
    return data


def _decode(data: bytes, *, name: str, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        msg = (
            f"{name}: {source} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
            f"{e.start:,}); save it as UTF-8 text."
        )
        raise InputError(msg) from None


class Readable(Protocol):
    """What ``-`` reads from: ``sys.stdin``, or anything with its ``read(size)``."""

    def read(self, size: int = -1, /) -> str: ...


def _read_stdin(stdin: Readable, *, name: str) -> str:
    limit = max_bytes()
    try:
        text = stdin.read(limit + 1)
    except UnicodeDecodeError:
        msg = f"{name}: standard input is not UTF-8 text; send numbers as UTF-8 text."
        raise InputError(msg) from None
    if len(text) > limit:
        raise _too_big(name, "standard input", f"over {_size(limit)}")
    return text.lstrip("\ufeff")


def read_argument(arg: str, *, name: str, stdin: Readable, samples: bool = False) -> Table:
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
    samples : bool
        Read samples: text that is not numbers comes back as labels (a 1-D array of
        str) instead of an error.

    Raises
    ------
    InputError
        With one line naming ``name``, the offending token or file, and the fix; also
        when a limit (``KLKIT_MAX_BYTES``, ``KLKIT_MAX_VALUES``) is passed.
    """
    if arg == "-":
        text = _read_stdin(stdin, name=name)
        if text.lstrip().startswith(("[", "{")):
            return _json(text, name=name, source="standard input", samples=samples)
        return _lines_of_numbers(text, name=name, source="standard input", samples=samples)
    file, column = _split_column(arg)
    st = file_status(file, name=name)
    if st is None:
        if file.lower().endswith(FORMATS):
            msg = f"{name}: no such file {quote(file)}; check the path, or {_HOW}."
            raise InputError(msg)
        if "," not in arg and not samples and not _is_number(arg):
            msg = (
                f"{name}: {quote(arg)} is not a number and no file has that name; {_HOW}, "
                f"or give a {', '.join(FORMATS)} file."
            )
            raise InputError(msg)
        return _inline(arg, name=name, samples=samples)
    source = quote(file)
    if stat.S_ISDIR(st.st_mode):
        msg = f"{name}: {source} is a directory; give a {', '.join(FORMATS)} file."
        raise InputError(msg)
    suffix = os.path.splitext(file)[1].lower()
    if suffix not in FORMATS:
        msg = (
            f"{name}: {source} has an extension klkit does not read; use one of "
            f"{', '.join(FORMATS)}, or '-' with the numbers on standard input."
        )
        raise InputError(msg)
    if column is not None and suffix != ".csv":
        msg = f"{name}: only .csv files have columns; drop ':{column}' from {quote(arg)}."
        raise InputError(msg)
    data = _read_file(file, st, name=name, source=source)
    if suffix == ".npy":
        return _npy(data, name=name, source=source, samples=samples)
    text = _decode(data, name=name, source=source)
    if suffix == ".json":
        return _json(text, name=name, source=source, samples=samples)
    if suffix == ".txt":
        return _lines_of_numbers(text, name=name, source=source, samples=samples)
    return _csv(text, name=name, source=source, column=column, samples=samples)


def parse_names(text: str, *, option: str) -> tuple[str, ...]:
    """Split ``a,b,c`` into outcome names; an empty name is an error."""
    names = tuple(part.strip() for part in text.split(","))
    if any(not n for n in names):
        msg = (
            f"{option}: {quote(text)} has an empty name; write names separated by commas, "
            "e.g. a,b,c."
        )
        raise InputError(msg)
    return names
