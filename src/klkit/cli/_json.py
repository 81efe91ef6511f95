"""Read a JSON argument: a list of numbers, a list of such lists, or an object of numbers."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from klkit.cli._values import (
    HOW,
    InputError,
    Table,
    labels_or_numbers,
    max_values,
    quote,
    read_number,
    too_many,
)

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


def read_json(text: str, *, name: str, source: str, samples: bool = False) -> Table:
    commas = text.count(",")  # one fewer than the values (a little more with text keys)
    if commas >= max_values():
        raise too_many(name, source, f"about {commas + 1:,}")
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
        return Table(labels_or_numbers(data))
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
        return read_number(value, name=name, where=f"{where} of {source}")
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
        f"{name}: {where} of {source} is {shown}, not a number; {HOW} (JSON numbers, or "
        'strings such as "1/6").'
    )
    raise InputError(msg)
