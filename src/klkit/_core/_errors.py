"""The error klkit raises for bad input, carrying its message in parts.

Every message has four parts: the argument, the problem, where it is (index or row,
with the offending value) and the fix. They are kept apart so that each interface can
say them in its own words: the Python API writes an argument as ```p``` and an option
as ``normalize=True`` or ```klkit.Logits(p)```; the command line writes ``P``,
``--normalize`` and ``--logits`` (:meth:`DistributionError.render`).

The problem and the fix are templates whose fields name options, never spell them:
``{normalize}``, ``{logits}``, ``{logprobs}`` (wrappers of the argument itself),
``{reindex}`` (how to list a missing outcome), ``{rows}`` (what the entries of a
batch are: rows in Python, distributions on the command line), ``{along}`` (which
axis holds the outcomes), ``{where}`` (the place) and ``{name:q}`` (another argument,
by its Python name).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["PYTHON", "DistributionError", "Spelling"]


@dataclass(frozen=True)
class Spelling:
    """How one interface writes arguments and options in a message.

    ``argument`` turns an argument's Python name into text (the command line's ``P``
    for ``p``); ``options`` maps each option field (``normalize``, ``logits``,
    ``logprobs``, ``reindex``, ``rows``) to a format string that may use ``{arg}``, the
    argument's Python name; ``along`` says whether to mention the outcome axis (the
    command line has no axis once a file is read).
    """

    argument: Callable[[str], str]
    options: Mapping[str, str]
    along: bool = True


PYTHON = Spelling(
    argument=lambda name: f"`{name}`",
    options={
        "normalize": "normalize=True",
        "logits": "`klkit.Logits({arg})`",
        "logprobs": "`klkit.LogProbs({arg})`",
        "reindex": " (with pandas: `.reindex(index, fill_value=0)`)",
        "rows": "rows",
    },
)
"""The Python API's words: backticked arguments, keyword options, wrapper calls."""


class _Fields(string.Formatter):
    """Fill a template's fields; unknown fields stay visible instead of raising."""

    def __init__(self, values: Mapping[str, str], spelling: Spelling) -> None:
        self.values = values
        self.spelling = spelling

    def get_value(self, key: int | str, args: object, kwargs: object) -> object:
        if key == "name":
            return _Name(self.spelling)
        return self.values.get(str(key), "{" + str(key) + "}")


class _Name:
    """``{name:q}``: the argument ``q`` as the interface writes it."""

    def __init__(self, spelling: Spelling) -> None:
        self.spelling = spelling

    def __format__(self, spec: str) -> str:
        return self.spelling.argument(spec)


@dataclass(frozen=False, eq=False)
class _Parts:
    argument: str | None
    owner: str | None
    kind: str | None
    problem: str
    where: str
    along: str
    fix: str


class DistributionError(ValueError):
    """An argument is not a valid probability distribution (or labels, or logits).

    A subclass of :class:`ValueError`, so existing ``except ValueError`` clauses
    keep working. The message names the argument, the problem, where it is and the
    fix; those parts are also attributes (``argument``, ``problem``, ``where``,
    ``fix``), and :meth:`render` says them in another interface's words.

    Parameters
    ----------
    problem : str
        What is wrong, as a template (see the module docstring); when no other part
        is given, the whole message.
    argument : str, optional
        The argument's name (``"p"``), or what stands for it (``"`Normal` parameter
        `scale`"`` is written out by the caller and given as ``problem``).
    owner : str, optional
        What the argument is a parameter of (a family's name): the subject is then
        "`Normal` parameter `scale`".
    kind : str, optional
        How the argument was given, shown after its name: ``"labels"``, ``"logits"``.
    where : str
        The place, e.g. ``" at index (1, 2)"`` or ``" in row 3"``.
    along : str
        The outcome axis, e.g. ``" along axis=-1"``.
    fix : str
        How to fix it, as a template.
    """

    def __init__(
        self,
        problem: str = "",
        *,
        argument: str | None = None,
        owner: str | None = None,
        kind: str | None = None,
        where: str = "",
        along: str = "",
        fix: str = "",
    ) -> None:
        self._parts = _Parts(argument, owner, kind, problem, where, along, fix)
        super().__init__(self.render(PYTHON))

    @property
    def argument(self) -> str | None:
        """The argument's name, e.g. ``"q"`` (None when the message names no argument)."""
        return self._parts.argument

    @property
    def owner(self) -> str | None:
        """What the argument is a parameter of (a family's name), if anything."""
        return self._parts.owner

    @property
    def problem(self) -> str:
        """What is wrong, in the Python API's words."""
        return self._fill(self._parts.problem, PYTHON)

    @property
    def where(self) -> str:
        """Where: ``" at index (1, 2)"``, ``" in row 3"``, or ``""``."""
        return self._parts.where

    @property
    def fix(self) -> str:
        """How to fix it, in the Python API's words."""
        return self._fill(self._parts.fix, PYTHON)

    def _fill(self, template: str, spelling: Spelling) -> str:
        arg = self._parts.argument or ""
        values = {name: text.format(arg=arg) for name, text in spelling.options.items()}
        values["where"] = self._parts.where
        values["along"] = self._parts.along if spelling.along else ""
        return _Fields(values, spelling).format(template)

    def render(self, spelling: Spelling) -> str:
        """Say the message in an interface's words (its spelling of names and options)."""
        parts = self._parts
        text = self._fill(parts.problem, spelling)
        if parts.argument is not None:
            subject = spelling.argument(parts.argument)
            if parts.owner:
                subject = f"{spelling.argument(parts.owner)} parameter {subject}"
            if parts.kind:
                subject = f"{subject} ({parts.kind})"
            text = f"{subject} {text}"
        fix = self._fill(parts.fix, spelling)
        return f"{text} {fix}" if fix else text
