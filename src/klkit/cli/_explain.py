"""``klkit explain``: the per-outcome breakdown of H(P), H(P,Q) and D(P||Q)."""

from __future__ import annotations

import typer

import klkit as kl
from klkit.cli._app import command
from klkit.cli._options import (
    MEASURE_SETTINGS,
    Base,
    Debug,
    Json,
    LogitsFlag,
    Normalize,
    Outcomes,
    PArg,
    Precision,
    QArg,
    QLogits,
    logit_names,
    parse_base,
)
from klkit.cli._read import parse_names
from klkit.cli._render import breakdown_json, print_breakdown, print_json
from klkit.cli._shape import Reader, align
from klkit.cli._values import UserError


def breakdown(
    ctx: typer.Context,
    p: str,
    q: str,
    *,
    base: str,
    normalize: bool,
    logit_names: frozenset[str],
    outcomes: str | None,
) -> kl.Breakdown:
    log_base = parse_base(base)
    read = Reader(ctx)
    tables = {"P": read(p, "P"), "Q": read(q, "Q")}
    for name, t in tables.items():
        if t.values.ndim != 1:
            msg = (
                f"{name} is a {t.values.ndim}-D table of shape {t.values.shape}, but this "
                "compares one pair of distributions; pick one CSV column with FILE.csv:NAME, "
                "or one row."
            )
            raise UserError(msg)
    names = parse_names(outcomes, option="--outcomes") if outcomes else None
    if names is not None and all(t.row_names for t in tables.values()):
        msg = (
            "--outcomes: P and Q name their outcomes already (a CSV text column or JSON "
            "keys), and names are matched by name; drop --outcomes."
        )
        raise UserError(msg)
    (p_val, q_val), index = align(tables, [t.values for t in tables.values()], None, outcomes=names)
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


@command(
    "explain",
    examples=[
        "klkit explain 1/6,1/6,1/6,1/6,1/6,1/6 0.1,0.1,0.1,0.1,0.1,0.5 --base bits",
        "klkit explain 0.2,0.3,0.5 0.3,0.3,0.4 --outcomes rain,cloud,sun --json",
    ],
    **MEASURE_SETTINGS,
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
    b = breakdown(
        ctx,
        p,
        q,
        base=base,
        normalize=normalize,
        logit_names=logit_names(normalize=normalize, logits=logits, q_logits=q_logits),
        outcomes=outcomes,
    )
    if as_json:
        print_json(breakdown_json(b), precision)
    else:
        print_breakdown(b, precision)
