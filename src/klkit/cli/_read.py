"""Read one argument of the command line: inline numbers, a file, or standard input.

Devices, sockets and directories are refused before anything is read; a regular file
larger than ``KLKIT_MAX_BYTES`` is refused from its size alone (:mod:`._values`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from typing import Protocol

import numpy as np

from klkit.cli._csv import read_csv
from klkit.cli._json import read_json
from klkit.cli._npy import read_npy
from klkit.cli._values import (
    HOW,
    InputError,
    Table,
    check_count,
    is_number,
    labels_or_numbers,
    max_bytes,
    max_values,
    quote,
    read_numbers,
    size_text,
    too_big,
    too_many,
)

FORMATS = (".csv", ".npy", ".json", ".txt")
"""File extensions :func:`read_argument` reads."""

_SEPARATORS = re.compile(r"[,\s]+")

# --- inline text and lines of numbers -----------------------------------------------------


def _inline(text: str, *, name: str, samples: bool) -> Table:
    if samples:
        tokens = [t for t in _SEPARATORS.split(text) if t]
        check_count(len(tokens), name=name, source=quote(text))
        return Table(labels_or_numbers(tokens))
    check_count(text.count(",") + 1, name=name, source=quote(text))
    items = text.split(",")
    values = read_numbers(items, name=name, where=lambda i: f"item {i + 1} of {quote(text)}")
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
                raise too_many(name, source, "more than that")
            rows.append((number, tokens))
    if not rows:
        msg = f"{name}: {source} holds no numbers; {HOW}, one distribution per line."
        raise InputError(msg)
    if samples and not all(is_number(t) for _, r in rows for t in r):
        return Table(np.array([t for _, r in rows for t in r], dtype=str))
    parsed = [
        read_numbers(r, name=name, where=lambda i, n=n: f"line {n}, item {i + 1} of {source},")
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
        raise too_big(name, source, size_text(st.st_size))
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as e:
        msg = (
            f"{name}: cannot read {source} ({e.strerror or e}); check the path and its permissions."
        )
        raise InputError(msg) from None
    if len(data) > limit:
        raise too_big(name, source, f"over {size_text(limit)}")
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
        raise too_big(name, "standard input", f"over {size_text(limit)}")
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
            return read_json(text, name=name, source="standard input", samples=samples)
        return _lines_of_numbers(text, name=name, source="standard input", samples=samples)
    file, column = _split_column(arg)
    st = file_status(file, name=name)
    if st is None:
        if file.lower().endswith(FORMATS):
            msg = f"{name}: no such file {quote(file)}; check the path, or {HOW}."
            raise InputError(msg)
        if "," not in arg and not samples and not is_number(arg):
            msg = (
                f"{name}: {quote(arg)} is not a number and no file has that name; {HOW}, "
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
        return read_npy(data, name=name, source=source, samples=samples)
    text = _decode(data, name=name, source=source)
    if suffix == ".json":
        return read_json(text, name=name, source=source, samples=samples)
    if suffix == ".txt":
        return _lines_of_numbers(text, name=name, source=source, samples=samples)
    return read_csv(text, name=name, source=source, column=column, samples=samples)


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
