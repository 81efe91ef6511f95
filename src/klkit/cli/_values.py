"""What every reader of the command line's arguments shares: errors, numbers, limits.

Every message names the argument, the offending token or file, and the fix, on one
line, quoting at most a few dozen characters of what it was given.

Limits, each read from the environment when an argument is read:

``KLKIT_MAX_BYTES`` (default 256 MiB)
    The largest file, or standard input, that is read. ``K``, ``M`` and ``G`` (powers
    of 1024) may follow the number: ``KLKIT_MAX_BYTES=2G``.
``KLKIT_MAX_VALUES`` (default 10 000 000)
    The most numbers (or labels) one argument may hold: inline, in a file, or on
    standard input. A ``.npy`` header is checked before any data is read.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_MAX_BYTES = 256 * 2**20
"""Largest file or standard input read, unless ``KLKIT_MAX_BYTES`` says otherwise."""

DEFAULT_MAX_VALUES = 10_000_000
"""Most values in one argument, unless ``KLKIT_MAX_VALUES`` says otherwise."""

HOW = "write numbers like 0.2,0.8 or 1/6,5/6"
_SEPARATORS = re.compile(r"[,\s]+")
_INF_WORDS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
Array = np.ndarray[Any, Any]


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

    values: Array
    row_names: tuple[str, ...] | None = None
    column_names: tuple[str, ...] | None = None

    def names(self, axis: int) -> tuple[str, ...] | None:
        """Return the names along ``axis`` (0 or 1), if the source gave any."""
        return self.row_names if axis == 0 else self.column_names


class UserError(Exception):
    """A mistake in the command line; the message is the whole explanation."""


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


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def too_many(name: str, source: str, count: str) -> InputError:
    limit = max_values()
    return InputError(
        f"{name}: {source} holds {count} values, more than the limit of {limit:,} for one "
        f"argument; raise it with the environment variable KLKIT_MAX_VALUES (e.g. "
        f"KLKIT_MAX_VALUES={limit * 10}) if the machine has the memory."
    )


def check_count(n: int, *, name: str, source: str) -> None:
    if n > max_values():
        raise too_many(name, source, f"{n:,}")


def too_big(name: str, source: str, size: str) -> InputError:
    limit = max_bytes()
    return InputError(
        f"{name}: {source} is {size}, more than the {size_text(limit)} klkit reads from one "
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


def read_number(token: str, *, name: str, where: str) -> float:
    try:
        return parse_number(token)
    except ValueError as e:
        msg = f"{name}: {where} {_problem(token, e)}; {HOW}."
        raise InputError(msg) from None


def is_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def read_numbers(tokens: list[str], *, name: str, where: Any) -> list[float]:
    """Parse every token; on the first bad one, ``where(i)`` says where it is."""
    out = []
    for i, token in enumerate(tokens):
        try:
            out.append(parse_number(token))
        except ValueError as e:
            msg = f"{name}: {where(i)} {_problem(token, e)}; {HOW}."
            raise InputError(msg) from None
    return out


def labels_or_numbers(tokens: list[str]) -> Array:
    """Return the tokens as numbers if every one is a number, else as text labels."""
    try:
        return np.array([parse_number(t) for t in tokens], dtype=np.float64)
    except ValueError:
        return np.array(tokens, dtype=str)
