"""Shared numerics: constants, the x - log1p(x) series, tolerances, limits and unit names.

The lowest layer of klkit: every other module takes these from here, and there is one
copy of each. Nothing here knows an array library (the series works on floats and on
arrays of any library alike).

A logarithm base must be a real number > 1 (no unit is measured below 1: a base in
(0, 1) would make every information measure negative) or a unit name. NumPy scalar
types are accepted as numbers. ``None``, ``"e"`` and ``"nats"`` all mean natural
logarithms: :func:`resolve_base` is the one parser for the Python API and the
command line.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_MAX_SUPPORT",
    "EXACT_BELOW",
    "HALF_LOG_2PI",
    "HALF_LOG_2PI_E",
    "LN2",
    "NEAR",
    "UNIT_NAMES",
    "Base",
    "max_support",
    "resolve_base",
    "series",
    "series_in_u",
    "sum_tolerance",
    "unit_name",
]

LN2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)

NEAR = 0.1
"""Below this |q/p - 1| a KL term is taken from :func:`series`.

Above it, ``(r - 1) - log r`` is off by at most about ``4 eps / |r - 1|`` relative:
a few ulp."""

EXACT_BELOW = 0.01
"""KL and JS rows at least this times sum(P) may skip the series near ``r = 1``.

There ``(r - 1) - log r`` is off by ``2 eps |x|`` (x = q/p - 1) from the rounding of
log r, against a term ~ p x^2/2. By Cauchy-Schwarz over the terms with |x| < NEAR
(where the term is >= 0.45 p x^2), a row's error is at most
``2 eps sqrt(2.2 D sum P)``, i.e. ``2 eps sqrt(2.2 / EXACT_BELOW)`` ~ 30 eps relative
when ``D >= EXACT_BELOW sum P``; JS likewise. (Sums of mixed-sign terms, e.g.
``sum(q) - sum(p) - sum(p log r)``, save two passes but are off by ~100 eps relative
near that threshold and break the few-ulp-per-term bound; measured and rejected.)

Rows below it (nearly equal P and Q) get every near term by the series, exact to a
few ulp."""


def series_in_u(x: Any, u: Any) -> Any:
    """``x - log1p(x)`` from x and ``u = x/(2 + x)``, without cancellation.

    ``1 + x = (1 + u)/(1 - u)``, so ``log1p(x) = 2 atanh(u)`` and
    ``x - log1p(x) = x u - 2 u^3 (1/3 + u^2/5 + u^4/7 + ...)``: the two parts are
    ~x^2/2 and ~x^3/12, so nothing cancels. Nine terms reach full float64 precision
    for |x| up to about 0.15. Callers that know u more accurately than by dividing
    (``(q - p)/(q + p)``, or ``tanh(L/2)`` for a log-ratio L) pass it.
    """
    u2 = u * u
    acc = 1.0 / 19
    for k in (17, 15, 13, 11, 9, 7, 5, 3):
        acc = acc * u2 + 1.0 / k
    return x * u - 2.0 * u * u2 * acc


def series(x: Any) -> Any:
    """``x - log1p(x)`` for ``|x|`` up to about 0.15 (see :func:`series_in_u`)."""
    return series_in_u(x, x / (2.0 + x))


def sum_tolerance(eps: float, n_outcomes: int) -> float:
    """Tolerance on ``|sum - 1|``: sqrt(eps), widened to n*eps for very many outcomes.

    sqrt(eps) is 1.5e-8 for float64 and 3.5e-4 for float32. Summing n numbers can
    be off by up to about n*eps, so with more than 1/sqrt(eps) outcomes (67 million
    in float64, 2,900 in float32) the tolerance grows to that bound.
    """
    return max(math.sqrt(eps), n_outcomes * eps)


# --- the support limit -----------------------------------------------------------------

DEFAULT_MAX_SUPPORT = 10_000_000
"""Most points a sum over a discrete support may take, unless ``KLKIT_MAX_SUPPORT`` says.

About 80 bytes of working memory each: 10^7 points is under 1 GiB."""


def max_support() -> int:
    """Return the most points one sum over a discrete support may take (``KLKIT_MAX_SUPPORT``).

    Read from the environment variable at each call (default
    :data:`DEFAULT_MAX_SUPPORT`); the one limit of the whole project, for the closed
    forms' finite sums (Binomial pairs, a Bernoulli or Binomial against another
    discrete law) and for ``klkit.estimate``'s exact sums.

    Raises
    ------
    ValueError
        When the variable is set to anything but a whole number above 0, naming it.
    """
    text = os.environ.get("KLKIT_MAX_SUPPORT", "").strip()
    if not text:
        return DEFAULT_MAX_SUPPORT
    if not text.isdecimal() or len(text) > 18 or int(text) < 1:
        msg = (
            f"the environment variable KLKIT_MAX_SUPPORT is {text[:30]!r}, not a limit; set "
            "it to a whole number above 0, or unset it for the default "
            f"{DEFAULT_MAX_SUPPORT:,}."
        )
        raise ValueError(msg)
    return int(text)


# --- units -------------------------------------------------------------------------------

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
