"""Distributions written as text: ``normal(0, 1)``, ``dirichlet([1, 2, 3])``, read by SciPy."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from klkit.cli._read import file_status
from klkit.cli._values import UserError, parse_number, quote

_DIST_START = re.compile(r"\s*([A-Za-z_]\w*)\s*\(")
_DIST_TOKEN = re.compile(r"\s*(?:([()\[\],=])|([^()\[\],=\s]+))")
_DIST_EXAMPLES = (
    "normal(0, 1), gamma(2, scale=3), beta(2, 5), binom(10, 0.3), dirichlet([1, 2, 3]), "
    "multivariate_normal([0, 0], [[1, 0], [0, 1]])"
)
_DIST_NAMES = {
    "norm": "norm",
    "normal": "norm",
    "gaussian": "norm",
    "lognorm": "lognorm",
    "lognormal": "lognorm",
    "laplace": "laplace",
    "expon": "expon",
    "exponential": "expon",
    "gamma": "gamma",
    "beta": "beta",
    "uniform": "uniform",
    "bernoulli": "bernoulli",
    "binom": "binom",
    "binomial": "binom",
    "poisson": "poisson",
    "geom": "geom",
    "geometric": "geom",
    "t": "t",
    "studentt": "t",
    "student_t": "t",
    "multivariate_normal": "multivariate_normal",
    "mvn": "multivariate_normal",
    "dirichlet": "dirichlet",
}


class _CallSyntaxError(Exception):
    """Text that starts like a distribution but is not one; the message says why."""


class _CallParser:
    """``family(1, [2, 3], name=4)``: numbers (fractions too), lists nested at most twice.

    The whole text must be consumed: anything after the closing parenthesis, or any
    token that is not a number, a list or ``name=``, is an error naming it.
    """

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, position)
        pos = start
        while pos < len(text):
            match = _DIST_TOKEN.match(text, pos)
            if match is None:  # only white space is left
                break
            punct, word = match.groups()
            at = match.start(1) if punct else match.start(2)
            self.tokens.append(("punct", punct, at) if punct else ("word", word, at))
            pos = match.end()
        self.i = 0

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _next(self, what: str) -> tuple[str, str, int]:
        token = self._peek()
        if token is None:
            msg = f"it ends where {what} should be (a parenthesis or bracket is not closed)"
            raise _CallSyntaxError(msg)
        self.i += 1
        return token

    def _rest(self, at: int) -> str:
        return quote(self.text[at:].strip(), 30)

    def _value(self, depth: int) -> Any:
        kind, text, at = self._next("a number or a list")
        if kind == "word":
            try:
                return parse_number(text)
            except ValueError as e:
                problem = str(e) if "large" in str(e) or "denominator" in str(e) else ""
                what = f"is not a number{': ' + problem if problem else ''}"
                msg = (
                    f"{quote(text, 30)} {what} (parameters are numbers, lists such as "
                    "[1, 2], or name=number)"
                )
                raise _CallSyntaxError(msg) from None
        if text not in "[(":
            msg = f"{self._rest(at)} is not a number or a list"
            raise _CallSyntaxError(msg)
        if depth >= 2:
            msg = f"lists nest at most two deep (a matrix); {self._rest(at)} nests deeper"
            raise _CallSyntaxError(msg)
        close = "]" if text == "[" else ")"
        items: list[Any] = []
        while True:
            token = self._peek()
            if token is not None and token[1] == close:
                self.i += 1
                return items
            items.append(self._value(depth + 1))
            _, sep, at = self._next(f"',' or '{close}'")
            if sep == close:
                return items
            if sep != ",":
                msg = f"{self._rest(at)} follows a list item where ',' or '{close}' should be"
                raise _CallSyntaxError(msg)

    def parse(self) -> tuple[list[Any], dict[str, Any]]:
        """Return the positional and keyword arguments, up to the closing parenthesis."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        while True:
            token = self._peek()
            if token is not None and token[1] == ")":
                self.i += 1
                break
            nxt = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
            if token is not None and token[0] == "word" and nxt is not None and nxt[1] == "=":
                key = token[1]
                if not key.isidentifier() or key in kwargs:
                    msg = (
                        f"the parameter {quote(key, 30)} is given twice"
                        if key in kwargs
                        else f"{quote(key, 30)} is not a parameter name"
                    )
                    raise _CallSyntaxError(msg)
                self.i += 2
                kwargs[key] = self._value(0)
            elif kwargs:
                at = token[2] if token is not None else len(self.text)
                msg = f"{self._rest(at)} is a positional parameter after a named one"
                raise _CallSyntaxError(msg)
            else:
                args.append(self._value(0))
            _, sep, at = self._next("',' or ')'")
            if sep == ")":
                break
            if sep != ",":
                msg = f"{self._rest(at)} follows a parameter where ',' or ')' should be"
                raise _CallSyntaxError(msg)
        leftover = self._peek()
        if leftover is not None:
            msg = f"{self._rest(leftover[2])} is left over after its closing parenthesis"
            raise _CallSyntaxError(msg)
        return args, kwargs


def _is_file(text: str) -> bool:
    head = text.rpartition(":")[0]
    return file_status(text) is not None or (bool(head) and file_status(head) is not None)


def distribution(text: str, name: str) -> Any | None:
    """'normal(0, 1)' -> scipy.stats.norm(0, 1) (SciPy's argument order); None if not one."""
    match = _DIST_START.match(text)
    if match is None or _is_file(text):
        return None
    family = match.group(1).lower()
    if family not in _DIST_NAMES:
        known = ", ".join(sorted(set(_DIST_NAMES)))
        msg = (
            f"{name}: {quote(match.group(1), 30)} is not a distribution klkit knows; use one "
            f"of {known}."
        )
        raise UserError(msg)
    try:
        args, kwargs = _CallParser(text, match.end()).parse()
    except _CallSyntaxError as e:
        msg = (
            f"{name}: cannot read {quote(text, 50)} as a distribution: {e}; write one "
            f"distribution with numbers in SciPy's order, e.g. {_DIST_EXAMPLES}."
        )
        raise UserError(msg) from None
    return _frozen(family, args, kwargs, text=text, name=name)


def _frozen(family: str, args: list[Any], kwargs: dict[str, Any], *, text: str, name: str) -> Any:
    """Freeze the SciPy distribution; one distribution only (lists for the vector laws)."""
    import scipy.stats  # noqa: PLC0415  (the cli extra installs it)

    vector = _DIST_NAMES[family] in ("dirichlet", "multivariate_normal")
    if _DIST_NAMES[family] == "binom":  # a count: NumPy draws binomials only for ints
        args = [_count(v) if i == 0 else v for i, v in enumerate(args)]
        kwargs = {k: _count(v) if k == "n" else v for k, v in kwargs.items()}
    values = [*args, *kwargs.values()]
    try:
        shapes = [np.shape(v) for v in values]  # a ragged matrix is a ValueError
        batch = () if vector else np.broadcast_shapes(*shapes)
        arrays = [np.asarray(v, dtype=np.float64) if isinstance(v, list) else v for v in args]
        named = {
            k: np.asarray(v, dtype=np.float64) if isinstance(v, list) else v
            for k, v in kwargs.items()
        }
        frozen = getattr(scipy.stats, _DIST_NAMES[family])(*arrays, **named)
    except (ValueError, TypeError) as e:
        msg = (
            f"{name}: cannot read {quote(text, 50)} as a distribution ({quote(str(e), 80)}); "
            f"write numbers in SciPy's order, e.g. {_DIST_EXAMPLES}."
        )
        raise UserError(msg) from None
    if batch != ():
        msg = (
            f"{name}: {quote(text, 50)} is {math.prod(batch)} distributions; give one (lists "
            "are for dirichlet and multivariate_normal)."
        )
        raise UserError(msg)
    return frozen


def _count(value: Any) -> Any:
    """Return a whole number read as a float as an int; leave other values to SciPy."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2.0**63:
        return int(value)
    return value
