"""Logarithm bases and unit names: the one parser for the Python API and the command line.

A base must be a real number > 1 (no unit is measured below 1: a base in (0, 1) would
make every information measure negative) or a unit name. NumPy scalar types are
accepted as numbers. ``None``, ``"e"`` and ``"nats"`` all mean natural logarithms.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

__all__ = ["UNIT_NAMES", "Base", "resolve_base", "unit_name"]

UNIT_NAMES: dict[str, float | None] = {
    "e": None,
    "nat": None,
    "nats": None,
    "bit": 2.0,
    "bits": 2.0,
    "shannon": 2.0,
    "shannons": 2.0,
    "ban": 10.0,
    "bans": 10.0,
    "dit": 10.0,
    "dits": 10.0,
    "hartley": 10.0,
    "hartleys": 10.0,
}
"""Unit names accepted for ``base`` (case-insensitive); None is e (nats)."""


@dataclass(frozen=True)
class Base:
    """A checked logarithm base.

    ``value`` is the base as a float (None for e), ``log`` its natural logarithm
    (None for e: results in nats need no division) and ``unit`` the unit's name.
    """

    value: float | None
    log: float | None
    unit: str


_NATS = Base(None, None, "nats")


def unit_name(base: float | None) -> str:
    """Name the unit of a result in ``base``: nats, bits, bans, or log-base-b units."""
    if base is None or base == math.e:
        return "nats"
    if base == 2:
        return "bits"
    if base == 10:
        return "bans"
    return f"log-base-{base:g} units"


def _number(base: object) -> float | None:
    """Return ``base`` as a float if it is a real number (Python or NumPy), else None."""
    if isinstance(base, numbers.Real) and not isinstance(base, bool):  # NumPy's bool_ is not Real
        return float(base)
    return None


def resolve_base(base: object, *, name: str = "base") -> Base:
    """Check ``base`` and return it with its log and unit name.

    Parameters
    ----------
    base : None, real number > 1, or str
        None, ``"e"`` or ``"nats"`` for nats; ``2`` or ``"bits"``; ``10`` or
        ``"bans"``; any real number > 1 (NumPy scalars included).
    name : str
        The argument's name in the error message.

    Raises
    ------
    ValueError
        For anything else: a number <= 1, NaN, infinity, an unknown unit, another type.
    """
    if base is None:
        return _NATS
    if isinstance(base, str):
        key = base.strip().lower()
        if key in UNIT_NAMES:
            value = UNIT_NAMES[key]
            return _NATS if value is None else Base(value, math.log(value), unit_name(value))
        detail = ", not a unit klkit knows"
    else:
        value = _number(base)
        if value is not None and math.isfinite(value) and value > 1:
            if value == math.e:
                return _NATS
            return Base(value, math.log(value), unit_name(value))
        if value is None:
            detail = f" (a {type(base).__name__}), not a number"
        elif value == 1:
            detail = ", which measures nothing (log 1 = 0)"
        elif 0 < value < 1:
            detail = (
                ", between 0 and 1, where every measure would come out negative (no unit "
                "is measured below 1)"
            )
        else:
            detail = ""
    msg = (
        f"`{name}` must be a finite number > 1 or a unit name ('bits', 'nats', 'bans', "
        f"'e'), got {base!r}{detail}. Use 2 for bits, 10 for bans, None or 'e' for nats."
    )
    raise ValueError(msg)
