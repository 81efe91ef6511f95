"""The options the commands share, and reading the ones that need more than Typer."""

from __future__ import annotations

import difflib
import math
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from klkit._api._i18n import LANGUAGES, language_from_environment
from klkit._numerics import Base as LogBase
from klkit._numerics import resolve_base
from klkit.cli._read import file_status
from klkit.cli._values import UserError, parse_number, quote

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
        "-b",
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

MEASURE_SETTINGS = {"ignore_unknown_options": True}  # let -1.5,2 through as numbers

Lang = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Language of the sentences: en (English) or ko (Korean, 한국어). Default: "
        "from LANGUAGE, LC_ALL, LC_MESSAGES or LANG (ko_KR.UTF-8 is Korean), else English.",
        show_default=False,
    ),
]

Output = Annotated[Path, typer.Option("--output", "-o", help="Picture file: .png, .svg or .pdf.")]


def unknown_option(token: str, ctx: typer.Context | None) -> str | None:
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


def parse_base(text: str) -> LogBase:
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
    raise UserError(msg)


def logit_names(*, normalize: bool, logits: bool, q_logits: bool = False) -> frozenset[str]:
    """Name the arguments read as logits: all with --logits, Q alone with --q-logits."""
    if normalize and logits:
        msg = (
            "--normalize and --logits do not go together: logits are normalised by the "
            "softmax. Drop one of them (--q-logits with --normalize reads counts for P)."
        )
        raise UserError(msg)
    return frozenset({"P", "Q"}) if logits else frozenset({"Q"}) if q_logits else frozenset()


def parse_lang(text: str | None) -> str:
    """Read --lang (en, ko); without it, the language the environment names."""
    if text is None:
        return language_from_environment(os.environ)
    code = text.strip().lower()
    if code in LANGUAGES:
        return code
    msg = (
        f"--lang: {quote(text, 40)} is not a language klkit speaks; use en (English) or "
        "ko (Korean)."
    )
    raise UserError(msg)
