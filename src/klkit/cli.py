"""klkit's command line: ``klkit entropy | cross-entropy | kl | js | bce | explain | plot | demo``.

A Typer app: it reads arguments (:mod:`klkit._io`), calls the public API and renders
the results with Rich. ``import klkit`` never imports it. User mistakes print one line
to stderr and exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, ParamSpec

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

import klkit as kl
from klkit._explain import COLUMNS
from klkit._inputs import Named, align_named
from klkit._io import (
    InputError,
    Table,
    file_status,
    parse_names,
    parse_number,
    quote,
    read_argument,
)
from klkit._units import Base as LogBase
from klkit._units import resolve_base

__all__ = ["app", "main"]

USER_ERROR = 2
"""Exit status for bad input: a malformed number, a missing file, an invalid distribution."""

app = typer.Typer(
    name="klkit",
    help=(
        "Entropy, cross-entropy, KL and Jensen-Shannon divergence from the shell. "
        "P is the target (y_true), Q the prediction (y_pred). Distributions are given "
        "inline (0.2,0.8 or 1/6,5/6), as files (.csv[:column], .npy, .json, .txt) or "
        "as - for standard input. Outcomes that both sides name (CSV text column or "
        "header, JSON keys) are matched by name.\n\n"
        "Limits, raised with environment variables: KLKIT_MAX_BYTES (256M: the largest "
        "file or standard input read), KLKIT_MAX_VALUES (10000000 values in one "
        "argument), KLKIT_MAX_SUPPORT (10000000 points summed for a discrete "
        "distribution)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console(highlight=False, markup=False, emoji=False)  # names are text, never markup

_P = ParamSpec("_P")

# --- options shared by the commands -------------------------------------------------

PArg = Annotated[
    str,
    typer.Argument(help="The target distribution P (y_true).", metavar="P", show_default=False),
]
QArg = Annotated[
    str,
    typer.Argument(
        help="The prediction Q (y_pred), compared with P.", metavar="Q", show_default=False
    ),
]
Base = Annotated[
    str,
    typer.Option(
        "--base",
        help="Logarithm base: a number > 1 (2, 10, 1.5), e, or a unit: bits (2), nats (e), "
        "bans (10).",
    ),
]
Axis = Annotated[
    int | None,
    typer.Option(
        help="For a 2-D input (a batch): the axis of the outcomes. 1: one distribution "
        "per row; 0: one per column."
    ),
]
Normalize = Annotated[
    bool, typer.Option("--normalize", help="Rescale counts or weights to sum to 1.")
]
LogitsFlag = Annotated[
    bool,
    typer.Option(
        "--logits",
        help="The inputs are logits (or log-probabilities), read through a softmax.",
    ),
]
QLogits = Annotated[
    bool,
    typer.Option(
        "--q-logits",
        help="Only Q holds logits; P stays probabilities (the classifier-loss setup).",
    ),
]
Json = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON object, keyed as in the Python API, plus unit."),
]
Precision = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=17,
        help="Significant digits (default: 6 in tables, all in --json).",
        show_default=False,
    ),
]
Outcomes = Annotated[
    str | None,
    typer.Option(
        help="Names of the outcomes, comma-separated: a,b,c; they name P and Q where their "
        "files do not (a CSV text column and JSON keys name them). Named outcomes are "
        "matched by name.",
        show_default=False,
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show the Python traceback of an error.")]
SamplesFlag = Annotated[
    bool,
    typer.Option(
        "--samples",
        help="The arguments are samples, one draw per line or row (e.g. x.csv:a): "
        "estimate the measure with a 95% interval. Whole numbers are labels (plug-in); "
        "other numbers are continuous (k nearest neighbours).",
    ),
]
Method = Annotated[
    str,
    typer.Option(
        "--method",
        help="Estimator for samples or distributions: auto, knn, plugin, quad, mc, exact.",
    ),
]
Neighbours = Annotated[int, typer.Option("--k", min=1, help="Neighbours for the kNN estimators.")]
Smoothing = Annotated[
    float | None,
    typer.Option(
        "--smoothing",
        min=0.0,
        help="Pseudo-count added to every outcome seen (plug-in): 1 Laplace, 0.5 Jeffreys.",
        show_default=False,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed", help="Random seed: interval groups and Monte Carlo draws.", show_default=False
    ),
]

_MEASURE_SETTINGS = {"ignore_unknown_options": True}  # let -1.5,2 through as numbers


class _UserError(Exception):
    """A mistake in the command line; the message is the whole explanation."""


# --- error handling -------------------------------------------------------------------

# The core's messages name Python arguments and keywords; on the command line the same
# fixes are flags.
_API_TO_CLI: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"pass `klkit\.Logits\(\w+\)`; if log-probabilities, `klkit\.LogProbs\(\w+\)`"),
        "pass --logits (log-probabilities work too)",
    ),
    (re.compile(r"`klkit\.(?:Logits|LogProbs)\(\w+\)`"), "--logits"),
    (re.compile(r"[Pp]ass normalize=True"), "Pass --normalize"),
    (re.compile(r"normalize=True"), "--normalize"),
    (re.compile(r" along axis=-?\d+"), ""),
    (re.compile(r"`(p|q|y|y_hat)`"), r"\1"),
    (re.compile(r"`outcomes`"), "--outcomes"),
    (re.compile(r"\bmethod='(\w+)'"), r"--method \1"),
    (re.compile(r"\bsmoothing=(\d[\d.]*)"), r"--smoothing \1"),
    (re.compile(r"`([^`]*)`"), r"\1"),  # family and parameter names: plain words
]
_CLI_NAMES = {"p": "P", "q": "Q", "y": "Y", "y_hat": "Y_HAT"}


def _cli_words(message: str) -> str:
    """Rewrite a core error message in command-line terms (flags, argument names)."""
    for pattern, replacement in _API_TO_CLI:
        message = pattern.sub(replacement, message)
    message = re.sub(
        r"(?<![\w-])(p|q|y|y_hat)(?= (?:has|is|sums|and|gives|\(labels\)))",
        lambda m: _CLI_NAMES[m.group(1)],
        message,
    )
    return " ".join(message.split())


def _fail(command: str, message: str, status: int = USER_ERROR) -> typer.Exit:
    typer.echo(f"klkit {command}: error: {' '.join(message.split())}", err=True)
    return typer.Exit(status)


def _command(
    name: str, *, examples: list[str], **settings: Any
) -> Callable[[Callable[_P, None]], Callable[_P, None]]:
    """Register a command whose user errors print one line and exit with status 2."""
    epilog = "Examples:\n\n" + "\n\n".join(f"  {e}" for e in examples)

    def register(fn: Callable[_P, None]) -> Callable[_P, None]:
        @functools.wraps(fn)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> None:
            try:
                fn(*args, **kwargs)
            except typer.Exit:
                raise
            except Exception as e:
                if kwargs.get("debug"):
                    raise
                if isinstance(e, _UserError | InputError):
                    raise _fail(name, str(e)) from None
                if isinstance(e, kl.DistributionError):
                    raise _fail(name, _cli_words(str(e))) from None
                if isinstance(e, ModuleNotFoundError) and "klkit[" in str(e):
                    raise _fail(name, str(e), status=1) from None
                if isinstance(e, MemoryError):
                    raise _fail(name, _out_of_memory(e)) from None
                raise _fail(
                    name,
                    f"internal error ({type(e).__name__}: {e}); please report it, with the "
                    "output of the same command run with --debug",
                    status=1,
                ) from None

        app.command(name, epilog=epilog, context_settings=settings)(run)
        return run

    return register


def _out_of_memory(e: MemoryError) -> str:
    detail = f" ({quote(str(e), 100)})" if str(e) else ""
    return (
        f"out of memory{detail}: these inputs need more memory than this machine has; "
        "give fewer outcomes, smaller batches or a distribution with a smaller support."
    )


def _unknown_option(token: str, ctx: typer.Context | None) -> str | None:
    """Say 'no such option' for a stray ``--flag`` (None for numbers like -1.5 or -inf)."""
    if not re.match(r"--?[A-Za-z]", token) or file_status(token) is not None:
        return None
    try:  # -inf,0 is a list of numbers
        [parse_number(item) for item in token.split(",")]
    except ValueError:
        pass
    else:
        return None
    known = sorted({o for prm in ctx.command.params for o in prm.opts}) if ctx else []
    flag = token.split("=", maxsplit=1)[0]
    if flag in known:
        return None
    close = difflib.get_close_matches(flag, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    command = ctx.command_path if ctx else "klkit"
    return f"no such option {quote(flag, 40)}{hint}; run '{command} --help' for the options."


# --- reading and shaping the inputs ---------------------------------------------------


def _base(text: str) -> LogBase:
    """Read --base: a number (2, 1/2, 1e1) or a unit name, by the one rule of the API."""
    stripped = text.strip()
    try:
        value: object = parse_number(stripped)
    except ValueError:
        value = stripped
    try:
        return resolve_base(value, name="--base")
    except ValueError:
        pass
    if not isinstance(value, float):
        reason = "not a number or a unit klkit knows"
    elif not math.isfinite(value):
        reason = "a base must be finite"
    else:
        reason = (
            "a base must be greater than 1: log 1 = 0 measures nothing, and below 1 every "
            "measure turns negative"
        )
    msg = (
        f"--base: {quote(text, 40)} is not a valid base ({reason}); use a number > 1 "
        "(2, 10, 1.5), e, or a unit: bits, nats, bans."
    )
    raise _UserError(msg)


class _Stdin:
    """Standard input, read when an argument is ``-`` (at most ``size`` characters)."""

    def read(self, size: int = -1, /) -> str:
        return sys.stdin.read(size)


class _Reader:
    """Read positional arguments; only one of them may be standard input."""

    def __init__(self, ctx: typer.Context) -> None:
        self.ctx = ctx
        self.stdin_taken_by: str | None = None
        self.stdin = _Stdin()

    def __call__(self, arg: str, name: str, *, samples: bool = False) -> Table:
        unknown = _unknown_option(arg, self.ctx)
        if unknown:
            raise _UserError(unknown)
        if arg == "-":
            if self.stdin_taken_by:
                msg = (
                    f"{name}: standard input ('-') is already read for {self.stdin_taken_by}; "
                    f"give {name} inline or as a file."
                )
                raise _UserError(msg)
            self.stdin_taken_by = name
        return read_argument(arg, name=name, stdin=self.stdin, samples=samples)


def _logit_names(*, normalize: bool, logits: bool, q_logits: bool = False) -> frozenset[str]:
    """Name the arguments read as logits: all with --logits, Q alone with --q-logits."""
    if normalize and logits:
        msg = (
            "--normalize and --logits do not go together: logits are normalised by the "
            "softmax. Drop one of them (--q-logits with --normalize reads counts for P)."
        )
        raise _UserError(msg)
    return frozenset({"P", "Q"}) if logits else frozenset({"Q"}) if q_logits else frozenset()


def _outcome_axis(tables: dict[str, Table], axis: int | None) -> int | None:
    """Check --axis against the inputs; None when every input is one distribution."""
    ndim = max(t.values.ndim for t in tables.values())
    if ndim > 2:
        name = next(n for n, t in tables.items() if t.values.ndim > 2)
        msg = (
            f"{name} has {tables[name].values.ndim} dimensions; the command line reads one "
            "distribution (1-D) or a batch (2-D, with --axis)."
        )
        raise _UserError(msg)
    if ndim == 2 and axis is None:
        name = next(n for n, t in tables.items() if t.values.ndim == 2)
        rows, cols = tables[name].values.shape
        msg = (
            f"{name} is a batch: a table of {rows} rows and {cols} columns. Pass --axis 1 "
            "for one distribution per row or --axis 0 for one per column (or pick one CSV "
            "column with FILE.csv:NAME)."
        )
        raise _UserError(msg)
    if axis is not None and not -ndim <= axis < ndim:
        allowed = "0 (or leave it out)" if ndim == 1 else "0 or 1"
        msg = f"--axis: {axis} is out of range for {ndim}-D input; use {allowed}."
        raise _UserError(msg)
    return None if axis is None else axis % ndim


def _arrays(tables: dict[str, Table], axis: int | None) -> list[Any]:
    """Return the values, a 1-D distribution laid along the outcome axis of a batch."""
    arrays = []
    for t in tables.values():
        values = t.values
        if axis == 0 and values.ndim == 1 and any(o.values.ndim == 2 for o in tables.values()):
            values = values[:, None]
        arrays.append(values)
    return arrays


def _alignment_words(message: str) -> str:
    """Say a core alignment error in command-line terms, with a fix for files."""
    head, sep, _ = message.partition(" klkit aligns")
    if sep and "different outcomes" in head:
        head += (
            " Outcomes named on both sides are matched by name, not by position; list an "
            "outcome that cannot happen with probability 0 where it is missing (a row "
            'name,0 in a CSV file, "name": 0 in a JSON object), or give one side without '
            "names to match by position."
        )
    elif sep:
        head = head.replace("name different rows", "name different distributions")
        head += (
            " The distributions of two named batches are matched by name (CSV header or "
            "text column); give both the same names, or one side without names."
        )
    return _cli_words(head if sep else message)


def _align(
    tables: dict[str, Table],
    arrays: list[Any],
    axis: int | None,
    *,
    outcomes: tuple[str, ...] | None = None,
) -> tuple[list[Any], tuple[Any, ...] | None]:
    """Align the arguments' named outcomes (and named batch entries) by name.

    ``axis`` is the outcome axis of a batch (None: every argument is 1-D); the values
    in ``arrays`` are already shaped by :func:`_arrays`. ``outcomes`` (--outcomes)
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
    try:
        aligned, names = align_named(named, axis=0 if axis == 0 else -1)
    except kl.DistributionError as e:
        raise _UserError(_alignment_words(str(e))) from None
    return [v for _, v in aligned], names


def _entry_names(tables: dict[str, Table], axis: int) -> tuple[str, ...] | None:
    """Names of the distributions in a batch: the names along the other axis."""
    for t in tables.values():
        if t.values.ndim == 2 and t.names(1 - axis):
            return t.names(1 - axis)
    return None


# --- rendering --------------------------------------------------------------------------


def _fmt(value: float, precision: int | None) -> str:
    return f"{value:.{precision or 6}g}"


def _rounded(value: Any, precision: int | None) -> Any:
    """Floats for JSON (lists stay nested), rounded only when --precision was given."""
    if isinstance(value, list):
        return [_rounded(v, precision) for v in value]
    value = float(value)
    return (
        value if precision is None or not math.isfinite(value) else float(f"{value:.{precision}g}")
    )


def _print_json(data: dict[str, Any], precision: int | None) -> None:
    typer.echo(
        json.dumps(
            {k: _rounded(v, precision) if k not in _TEXT_KEYS else v for k, v in data.items()}
        )
    )


_TEXT_KEYS = {"unit", "outcomes", "names", "summary", "base", "measure", "method", "note", "n"}


def _run_measure(
    ctx: typer.Context,
    measure: Callable[..., Any],
    key: str,
    label: str,
    args: dict[str, str],
    *,
    base: str,
    axis: int | None,
    normalize: bool,
    logit_names: frozenset[str],
    as_json: bool,
    precision: int | None,
) -> None:
    log_base = _base(base)
    read = _Reader(ctx)
    tables = {name: read(arg, name) for name, arg in args.items()}
    outcome_axis = _outcome_axis(tables, axis)
    arrays, _ = _align(tables, _arrays(tables, outcome_axis), outcome_axis)
    dists = [
        kl.Logits(a) if name in logit_names else a for name, a in zip(tables, arrays, strict=True)
    ]
    value = np.asarray(
        measure(
            *dists,
            base=log_base.value,
            axis=-1 if outcome_axis is None else outcome_axis,
            normalize=normalize,
        )
    )
    unit = log_base.unit
    names = _entry_names(tables, outcome_axis) if outcome_axis is not None else None
    if as_json:
        data: dict[str, Any] = {key: value.tolist(), "unit": unit}
        if names:
            data["names"] = list(names)
        _print_json(data, precision)
        return
    if value.ndim == 0:
        _out.print(f"{label} = {_fmt(float(value), precision)} {unit}")
        return
    _out.print(f"{label} in {unit}, one value per distribution:")
    table = RichTable()
    table.add_column("column" if outcome_axis == 0 else "row")
    table.add_column(label, justify="right")
    for i, v in enumerate(value.tolist()):
        table.add_row(names[i] if names else str(i), _fmt(v, precision))
    _out.print(table)


# --- distributions written as text, and samples ------------------------------------------

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


def _distribution(text: str, name: str) -> Any | None:
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
        raise _UserError(msg)
    try:
        args, kwargs = _CallParser(text, match.end()).parse()
    except _CallSyntaxError as e:
        msg = (
            f"{name}: cannot read {quote(text, 50)} as a distribution: {e}; write one "
            f"distribution with numbers in SciPy's order, e.g. {_DIST_EXAMPLES}."
        )
        raise _UserError(msg) from None
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
        raise _UserError(msg) from None
    if batch != ():
        msg = (
            f"{name}: {quote(text, 50)} is {math.prod(batch)} distributions; give one (lists "
            "are for dirichlet and multivariate_normal)."
        )
        raise _UserError(msg)
    return frozen


def _count(value: Any) -> Any:
    """Return a whole number read as a float as an int; leave other values to SciPy."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2.0**63:
        return int(value)
    return value


def _read_samples(read: _Reader, arg: str, name: str) -> Any:
    """Numbers (a float array), or text labels (a str array) when they are not numbers."""
    return read(arg, name, samples=True).values


def _as_samples(columns: list[Any], *, method: str) -> list[Any]:
    """Decide for all samples at once: labels (plug-in) or continuous (kNN).

    Text, or whole numbers everywhere (unless --method knn), are labels; numbers are
    labels' text then, so 2 in one file and 2.0 in the other are one outcome.
    """
    if any(c.dtype.kind == "U" for c in columns):
        return [c if c.dtype.kind == "U" else _label_text(c) for c in columns]
    whole = all(c.ndim == 1 and c.size and _whole(c) for c in columns)
    if method != "knn" and whole:
        return [c.astype(np.int64) for c in columns]
    return columns


_EXACT_INTEGERS = 2.0**53
"""Beyond this, a float64 no longer tells neighbouring integers apart."""


def _whole(values: Any) -> bool:
    """Tell whether every value is an integer that float64 holds exactly."""
    return bool(np.all((np.abs(values) <= _EXACT_INTEGERS) & (values == np.trunc(values))))


def _label_text(values: Any) -> Any:
    whole = _whole(values)
    return np.asarray([str(int(v)) if whole else repr(float(v)) for v in values.reshape(-1)])


@dataclass(frozen=True)
class _Estimating:
    """The options of ``--samples`` and of distributions written as text."""

    samples: bool
    method: str
    k: int
    smoothing: float | None
    seed: int | None


def _measure_or_estimate(
    ctx: typer.Context,
    measure: Callable[..., Any],
    key: str,
    label: str,
    args: dict[str, str],
    *,
    estimating: _Estimating,
    base: str,
    axis: int | None,
    normalize: bool,
    logit_names: frozenset[str],
    as_json: bool,
    precision: int | None,
) -> None:
    """Estimate (samples, or a distribution written as text), else compute exactly."""
    dists = {name: _distribution(arg, name) for name, arg in args.items()}
    if estimating.samples or any(d is not None for d in dists.values()):
        _run_estimate(
            ctx,
            key,
            label,
            args,
            dists,
            estimating,
            base=base,
            as_json=as_json,
            precision=precision,
        )
        return
    _run_measure(
        ctx,
        measure,
        key,
        label,
        args,
        base=base,
        axis=axis,
        normalize=normalize,
        logit_names=logit_names,
        as_json=as_json,
        precision=precision,
    )


def _run_estimate(
    ctx: typer.Context,
    key: str,
    label: str,
    args: dict[str, str],
    dists: dict[str, Any],
    estimating: _Estimating,
    *,
    base: str,
    as_json: bool,
    precision: int | None,
) -> None:
    """Estimate ``key`` from samples or distributions and print it with its interval."""
    import klkit.estimate as ke  # noqa: PLC0415  (needs SciPy: the cli extra has it)

    log_base = _base(base)
    samples, method = estimating.samples, estimating.method
    read = _Reader(ctx)
    inputs: list[Any] = []
    for name, arg in args.items():
        dist = dists[name]
        if dist is None and not samples:
            msg = (
                f"{name}: {arg!r} is not a distribution like normal(0, 1), and the other "
                "argument is one; give both as distributions, or pass --samples."
            )
            raise _UserError(msg)
        inputs.append(dist if dist is not None else _read_samples(read, arg, name))
    read_in = [i for i, v in enumerate(inputs) if isinstance(v, np.ndarray)]
    columns = _as_samples([inputs[i] for i in read_in], method=method)
    for i, column in zip(read_in, columns, strict=True):
        inputs[i] = column
    if key == "cross_entropy":
        if samples:
            msg = (
                "cross-entropy has no estimator from samples; use kl and entropy "
                "(H(P,Q) = H(P) + D(P||Q))."
            )
            raise _UserError(msg)
        value = float(kl.cross_entropy(*inputs, base=log_base.value))
        est = ke.Estimate(value, 0.0, value, value, "exact", None, log_base.unit)
    else:
        estimator: Callable[..., ke.Estimate] = getattr(ke, key)  # same names
        options: dict[str, Any] = {
            "base": log_base.value,
            "method": method,
            "k": estimating.k,
            "rng": estimating.seed,
            "smoothing": estimating.smoothing,
        }
        try:
            est = estimator(*inputs, **options)
        except ValueError as e:  # the estimator's own precise message (shapes, kinds, k)
            raise _UserError(_cli_words(str(e))) from None
    if as_json:
        data = asdict(est)
        data["n"] = list(est.n) if isinstance(est.n, tuple) else est.n
        _print_json({"measure": key, **data}, precision)
        return
    if est.method == "exact":
        _out.print(f"{label} = {_fmt(est.value, precision)} {est.unit} (exact)")
        return
    _out.print(f"{label} = {est}")


# --- the measures -----------------------------------------------------------------------


@_command(
    "entropy",
    examples=[
        "klkit entropy 1/6,1/6,1/6,1/6,1/6,1/6 --base bits",
        "klkit entropy 3,1,0 --normalize",
        'klkit entropy "gamma(2, scale=3)"',
        "klkit entropy --samples rolls.txt --smoothing 0.5",
    ],
    **_MEASURE_SETTINGS,
)
def entropy(
    ctx: typer.Context,
    p: PArg,
    base: Base = "e",
    axis: Axis = None,
    normalize: Normalize = False,
    logits: LogitsFlag = False,
    as_json: Json = False,
    precision: Precision = None,
    samples: SamplesFlag = False,
    method: Method = "auto",
    k: Neighbours = 1,
    smoothing: Smoothing = None,
    seed: Seed = None,
    debug: Debug = False,
) -> None:
    """Entropy H(P) = -sum P log P: the information in P itself."""
    _measure_or_estimate(
        ctx,
        kl.entropy,
        "entropy",
        "H(P)",
        {"P": p},
        estimating=_Estimating(samples, method, k, smoothing, seed),
        base=base,
        axis=axis,
        normalize=normalize,
        logit_names=_logit_names(normalize=normalize, logits=logits),
        as_json=as_json,
        precision=precision,
    )


def _two_distribution_command(
    name: str, key: str, label: str, measure: Callable[..., Any], doc: str, examples: list[str]
) -> None:
    """Register ``klkit NAME P Q``: the measure of P against Q, with every option."""

    def command(
        ctx: typer.Context,
        p: PArg,
        q: QArg,
        base: Base = "e",
        axis: Axis = None,
        normalize: Normalize = False,
        logits: LogitsFlag = False,
        q_logits: QLogits = False,
        as_json: Json = False,
        precision: Precision = None,
        samples: SamplesFlag = False,
        method: Method = "auto",
        k: Neighbours = 1,
        smoothing: Smoothing = None,
        seed: Seed = None,
        debug: Debug = False,
    ) -> None:
        _measure_or_estimate(
            ctx,
            measure,
            key,
            label,
            {"P": p, "Q": q},
            estimating=_Estimating(samples, method, k, smoothing, seed),
            base=base,
            axis=axis,
            normalize=normalize,
            logit_names=_logit_names(normalize=normalize, logits=logits, q_logits=q_logits),
            as_json=as_json,
            precision=precision,
        )

    command.__doc__ = doc
    _command(name, examples=examples, **_MEASURE_SETTINGS)(command)


_two_distribution_command(
    "cross-entropy",
    "cross_entropy",
    "H(P,Q)",
    kl.cross_entropy,
    "Cross-entropy H(P,Q) = -sum P log Q: the cost of predicting P with Q.",
    [
        "klkit cross-entropy 1/6,1/6,1/6,1/6,1/6,1/6 0.1,0.1,0.1,0.1,0.1,0.5 --base bits",
        "klkit cross-entropy 0,0,1 2.0,0.5,-1 --q-logits",
    ],
)
_two_distribution_command(
    "kl",
    "kl_divergence",
    "D(P||Q)",
    kl.kl_divergence,
    "KL divergence D(P||Q) = sum P log(P/Q) = H(P,Q) - H(P): the extra cost of Q.\n\n"
    "Never negative; 0 only when Q = P; infinite when Q = 0 where P > 0.",
    [
        "klkit kl 1/6,1/6,1/6,1/6,1/6,1/6 0.1,0.1,0.1,0.1,0.1,0.5 --base bits",
        "klkit kl 0.2,0.8 0.5,0.5 --json",
        'klkit kl "normal(0, 1)" "normal(1, 2)"',
        "klkit kl --samples x.csv:a y.csv:b --seed 0",
    ],
)
_two_distribution_command(
    "js",
    "js_divergence",
    "JS(P,Q)",
    kl.js_divergence,
    "Jensen-Shannon divergence: symmetric, always finite, between 0 and log 2 (1 bit).",
    ["klkit js 0.2,0.8 0.5,0.5 --base bits", "klkit js 1,0 0,1 --base bits"],
)


@_command(
    "bce",
    examples=["klkit bce 1,0,1 0.9,0.2,0.6", "klkit bce 1,0 2.5,-1 --logits --json"],
    **_MEASURE_SETTINGS,
)
def bce(
    ctx: typer.Context,
    y: Annotated[str, typer.Argument(help="Targets in [0, 1] (labels 0/1 or soft).")],
    y_hat: Annotated[
        str, typer.Argument(help="Predicted probabilities of 1 (or log-odds with --logits).")
    ],
    base: Base = "e",
    logits: Annotated[
        bool, typer.Option("--logits", help="Y_HAT holds logits (log-odds), read via a sigmoid.")
    ] = False,
    as_json: Json = False,
    precision: Precision = None,
    debug: Debug = False,
) -> None:
    """Binary cross-entropy -y log y_hat - (1-y) log(1-y_hat), per element, and its mean.

    0 when the prediction matches a 0/1 target, infinite when it is certainly wrong.
    """
    log_base = _base(base)
    read = _Reader(ctx)
    tables = {"Y": read(y, "Y"), "Y_HAT": read(y_hat, "Y_HAT")}
    for name, t in tables.items():
        if t.values.size == 0:
            msg = f"{name} holds no values; give at least one target and one prediction."
            raise _UserError(msg)
    names = None
    if all(t.values.ndim == 1 for t in tables.values()):  # element-wise: named elements align
        (ty, th), names = _align(tables, [t.values for t in tables.values()], None)
    else:
        ty, th = tables["Y"].values, tables["Y_HAT"].values
    value = np.asarray(
        kl.binary_cross_entropy(ty, kl.Logits(th) if logits else th, base=log_base.value)
    )
    mean = float(np.mean(value))
    unit = log_base.unit
    if as_json:
        data: dict[str, Any] = {"binary_cross_entropy": value.tolist(), "mean": mean, "unit": unit}
        if names is not None:
            data["names"] = [str(n) for n in names]
        _print_json(data, precision)
        return
    ty, th = np.broadcast_arrays(ty, th)
    _out.print(f"Binary cross-entropy in {unit}, per element:")
    table = RichTable()
    for heading in ("index", "Y", "logit" if logits else "Y_HAT", "BCE"):
        table.add_column(heading, justify="left" if heading == "index" else "right")
    for index in np.ndindex(value.shape):
        where = str(names[index[0]]) if names else ", ".join(str(i) for i in index)
        table.add_row(where, *(_fmt(float(a[index]), precision) for a in (ty, th, value)))
    _out.print(table)
    _out.print(f"mean = {_fmt(mean, precision)} {unit}")


# --- explain, plot, demo ------------------------------------------------------------------


def _breakdown(
    ctx: typer.Context,
    p: str,
    q: str,
    *,
    base: str,
    normalize: bool,
    logit_names: frozenset[str],
    outcomes: str | None,
) -> kl.Breakdown:
    log_base = _base(base)
    read = _Reader(ctx)
    tables = {"P": read(p, "P"), "Q": read(q, "Q")}
    for name, t in tables.items():
        if t.values.ndim != 1:
            msg = (
                f"{name} is a {t.values.ndim}-D table of shape {t.values.shape}, but this "
                "compares one pair of distributions; pick one CSV column with FILE.csv:NAME, "
                "or one row."
            )
            raise _UserError(msg)
    names = parse_names(outcomes, option="--outcomes") if outcomes else None
    if names is not None and all(t.row_names for t in tables.values()):
        msg = (
            "--outcomes: P and Q name their outcomes already (a CSV text column or JSON "
            "keys), and names are matched by name; drop --outcomes."
        )
        raise _UserError(msg)
    (p_val, q_val), index = _align(
        tables, [t.values for t in tables.values()], None, outcomes=names
    )
    p_arg, q_arg = (
        kl.Logits(v) if name in logit_names else v
        for name, v in zip(tables, (p_val, q_val), strict=True)
    )
    return kl.explain(
        p_arg,
        q_arg,
        base=log_base.value,
        normalize=normalize,
        outcomes=None if index is None else tuple(str(n) for n in index),
    )


def _print_breakdown(b: kl.Breakdown, precision: int | None) -> None:
    _out.print(f"Breakdown of H(P), H(P,Q) and D(P||Q) in {b.unit}:")
    table = RichTable()
    for i, heading in enumerate(COLUMNS):
        table.add_column(heading, justify="left" if i == 0 else "right")
    for row in b.rows():
        table.add_row(row[0], *(_fmt(v, precision) for v in row[1:]))
    _out.print(table)
    for line in b._totals(precision or 6):
        _out.print(line)
    _out.print(b.summary())


def _breakdown_json(b: kl.Breakdown) -> dict[str, Any]:
    return {
        "entropy": b.entropy,
        "cross_entropy": b.cross_entropy,
        "kl_divergence": b.kl_divergence,
        "entropy_terms": b.entropy_terms.tolist(),
        "cross_entropy_terms": b.cross_entropy_terms.tolist(),
        "kl_terms": b.kl_terms.tolist(),
        "surprisal": b.surprisal.tolist(),
        "p": b.p.tolist(),
        "q": b.q.tolist(),
        "base": b.base,
        "unit": b.unit,
        "outcomes": list(b.outcomes),
        "summary": b.summary(),
    }


@_command(
    "explain",
    examples=[
        "klkit explain 1/6,1/6,1/6,1/6,1/6,1/6 0.1,0.1,0.1,0.1,0.1,0.5 --base bits",
        "klkit explain 0.2,0.3,0.5 0.3,0.3,0.4 --outcomes rain,cloud,sun --json",
    ],
    **_MEASURE_SETTINGS,
)
def explain(
    ctx: typer.Context,
    p: PArg,
    q: QArg,
    base: Base = "e",
    normalize: Normalize = False,
    logits: LogitsFlag = False,
    q_logits: QLogits = False,
    outcomes: Outcomes = None,
    as_json: Json = False,
    precision: Precision = None,
    debug: Debug = False,
) -> None:
    """Per outcome: P, Q, -log Q, -P log Q and P log(P/Q); then H(P), H(P,Q), D(P||Q).

    Shows H(P,Q) = H(P) + D(P||Q) with the numbers, and says which outcomes make the KL
    (and what to do when it is infinite). Outcomes are named by --outcomes or by a
    CSV's text column.
    """
    b = _breakdown(
        ctx,
        p,
        q,
        base=base,
        normalize=normalize,
        logit_names=_logit_names(normalize=normalize, logits=logits, q_logits=q_logits),
        outcomes=outcomes,
    )
    if as_json:
        _print_json(_breakdown_json(b), precision)
    else:
        _print_breakdown(b, precision)


_PICTURE_FORMATS = (".png", ".svg", ".pdf")


def _check_output(path: Path) -> None:
    if path.suffix.lower() not in _PICTURE_FORMATS:
        msg = (
            f"-o: {quote(str(path))} is not a picture format klkit writes; end the name with "
            f"{', '.join(_PICTURE_FORMATS)}."
        )
        raise _UserError(msg)
    parent = file_status(str(path.parent))
    if parent is None or not stat.S_ISDIR(parent.st_mode):
        msg = (
            f"-o: the directory {quote(str(path.parent))} does not exist; create it or pick "
            "another path."
        )
        raise _UserError(msg)
    target = file_status(str(path))
    if target is not None and stat.S_ISDIR(target.st_mode):
        msg = (
            f"-o: {quote(str(path))} is a directory; give a file name ending in .png, .svg or .pdf."
        )
        raise _UserError(msg)


def _write_picture(draw: Callable[[Any], Any], path: Path) -> None:
    """Draw with ``klkit.plot`` on the Agg backend and save atomically."""
    try:
        import matplotlib as mpl  # noqa: PLC0415  (the plot extra, loaded only to draw)
    except ModuleNotFoundError:
        msg = "drawing needs matplotlib; install it with: pip install 'klkit[plot]'"
        raise ModuleNotFoundError(msg) from None
    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from klkit import plot  # noqa: PLC0415

    fig = draw(plot)
    try:
        plot.save(fig, path)
    except OSError as e:
        msg = (
            f"-o: cannot write {quote(str(path))} ({e.strerror or e}); check the directory's "
            "permissions."
        )
        raise _UserError(msg) from None
    finally:
        plt.close(fig)


Output = Annotated[Path, typer.Option("--output", "-o", help="Picture file: .png, .svg or .pdf.")]


@_command(
    "plot",
    examples=[
        "klkit plot 1/6,1/6,1/6,1/6,1/6,1/6 0.1,0.1,0.1,0.1,0.1,0.5 --base bits -o die.png",
        "klkit plot 0.2,0.3,0.5 0.3,0.3,0.4 --outcomes rain,cloud,sun -o weather.svg",
    ],
    **_MEASURE_SETTINGS,
)
def plot(
    ctx: typer.Context,
    p: PArg,
    q: QArg,
    output: Output = Path("klkit-plot.png"),
    base: Base = "e",
    normalize: Normalize = False,
    logits: LogitsFlag = False,
    q_logits: QLogits = False,
    outcomes: Outcomes = None,
    debug: Debug = False,
) -> None:
    """Draw P and Q side by side and, below, the KL terms P log(P/Q) whose sum is D(P||Q)."""
    _check_output(output)
    b = _breakdown(
        ctx,
        p,
        q,
        base=base,
        normalize=normalize,
        logit_names=_logit_names(normalize=normalize, logits=logits, q_logits=q_logits),
        outcomes=outcomes,
    )
    _write_picture(lambda plot: plot.compare(b.p, b.q, base=b.base, outcomes=b.outcomes), output)
    _out.print(f"wrote {output}: D(P||Q) = {_fmt(b.kl_divergence, None)} {b.unit}")


@_command("demo", examples=["klkit demo", "klkit demo -o die.svg --base nats"])
def demo(
    output: Output = Path("klkit-demo.png"),
    base: Base = "bits",
    debug: Debug = False,
) -> None:
    """Show the founding post's example: a fair die (P) against a loaded die (Q)."""
    _check_output(output)
    log_base = _base(base).value
    fair = np.full(6, 1 / 6)
    loaded = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
    faces = ("1", "2", "3", "4", "5", "6")
    b = kl.explain(fair, loaded, base=log_base, outcomes=faces)
    same = kl.explain(loaded, loaded, base=log_base, outcomes=faces)
    _write_picture(  # first: a file that cannot be written is an error before any output
        lambda plot: plot.compare(
            fair, loaded, base=log_base, outcomes=faces, labels=("fair die", "loaded die")
        ),
        output,
    )
    _out.print(
        "The world rolls a fair die (P); we predict it with a loaded die (Q) that shows 6 "
        "half the time.\n"
    )
    _print_breakdown(b, None)
    _out.print("\nThe loaded die against itself (P = Q = the loaded die):\n")
    _print_breakdown(same, None)
    u = b.unit
    higher = "loaded" if b.cross_entropy > b.entropy else "fair"
    _out.print(
        f"\nThe {higher} die has the higher cross-entropy: coding fair rolls with the loaded "
        f"die's code costs H(P,Q) = {b.cross_entropy:.4g} {u} per roll, against "
        f"H(P) = {b.entropy:.4g} {u} with the fair die's own, because it bets half its "
        f"probability on a 6 that comes up only one roll in six; the excess, "
        f"D(P||Q) = {b.kl_divergence:.4g} {u}, is the KL divergence. "
        f"Against itself the loaded die costs only its entropy, {same.entropy:.4g} {u}, "
        f"less than the fair die's: it is less random, and the extra cost comes from the "
        f"mismatch, not from randomness."
    )
    _out.print(f"\nwrote {output}: P and Q per face, and the KL terms whose sum is D(P||Q).")


# --- entry point ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Run the command line; usage errors also print one line and exit with status 2."""
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    try:
        status = command.main(args=args, prog_name="klkit", standalone_mode=False)
    except typer.Abort:
        typer.echo("klkit: interrupted", err=True)
        sys.exit(130)
    except typer.TyperException as e:  # Typer's usage errors: missing or bad arguments
        ctx = getattr(e, "ctx", None)
        path = ctx.command_path if ctx else "klkit"
        param = getattr(e, "param", None)
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        if param is not None and param.param_type_name == "argument" and "issing" in message:
            message = f"the argument {param.name.upper()} is missing"
        elif param is not None and param.opts and param.opts[0] not in message:
            message = f"{param.opts[0]}: {message}"
        known = getattr(command, "commands", {})
        if path == "klkit" and args and args[0] in known:  # failed before the command ran
            path = f"klkit {args[0]}"
        stray = None
        if "requires an argument" not in message:
            stray = next((m for a in args if (m := _unknown_option(a, ctx))), None)
        if not message.strip():
            message = "give a command, e.g. 'klkit demo'"
        message = stray or f"{message.rstrip('.')}; run '{path} --help' for usage."
        typer.echo(f"{path}: error: {' '.join(message.split())}", err=True)
        sys.exit(getattr(e, "exit_code", USER_ERROR))
    sys.exit(status if isinstance(status, int) else 0)
