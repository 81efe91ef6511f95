"""The measures: ``entropy``, ``cross-entropy``, ``kl``, ``js`` and ``bce``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table as RichTable

import klkit as kl
from klkit.cli._app import command
from klkit.cli._estimating import Estimating, run_estimate
from klkit.cli._options import (
    MEASURE_SETTINGS,
    Axis,
    Base,
    Debug,
    Json,
    LogitsFlag,
    Method,
    Neighbours,
    Normalize,
    PArg,
    Precision,
    QArg,
    QLogits,
    SamplesFlag,
    Seed,
    Smoothing,
    logit_names,
    parse_base,
)
from klkit.cli._render import fmt, out, print_json
from klkit.cli._shape import Reader, align, axis_of_outcomes, entry_names, outcome_arrays
from klkit.cli._text import distribution
from klkit.cli._values import UserError


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
    log_base = parse_base(base)
    read = Reader(ctx)
    tables = {name: read(arg, name) for name, arg in args.items()}
    outcome_axis = axis_of_outcomes(tables, axis)
    arrays, _ = align(tables, outcome_arrays(tables, outcome_axis), outcome_axis)
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
    names = entry_names(tables, outcome_axis) if outcome_axis is not None else None
    if as_json:
        data: dict[str, Any] = {key: value.tolist(), "unit": unit}
        if names:
            data["names"] = list(names)
        print_json(data, precision)
        return
    if value.ndim == 0:
        out.print(f"{label} = {fmt(float(value), precision)} {unit}")
        return
    out.print(f"{label} in {unit}, one value per distribution:")
    table = RichTable()
    table.add_column("column" if outcome_axis == 0 else "row")
    table.add_column(label, justify="right")
    for i, v in enumerate(value.tolist()):
        table.add_row(names[i] if names else str(i), fmt(v, precision))
    out.print(table)


def _measure_or_estimate(
    ctx: typer.Context,
    measure: Callable[..., Any],
    key: str,
    label: str,
    args: dict[str, str],
    *,
    estimating: Estimating,
    base: str,
    axis: int | None,
    normalize: bool,
    logit_names: frozenset[str],
    as_json: bool,
    precision: int | None,
) -> None:
    """Estimate (samples, or a distribution written as text), else compute exactly."""
    dists = {name: distribution(arg, name) for name, arg in args.items()}
    if estimating.samples or any(d is not None for d in dists.values()):
        run_estimate(
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


# --- the measures -----------------------------------------------------------------------


@command(
    "entropy",
    examples=[
        "klkit entropy 1/6,1/6,1/6,1/6,1/6,1/6 --base bits",
        "klkit entropy 3,1,0 --normalize",
        'klkit entropy "gamma(2, scale=3)"',
        "klkit entropy --samples rolls.txt --smoothing 0.5",
    ],
    **MEASURE_SETTINGS,
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
        estimating=Estimating(samples, method, k, smoothing, seed),
        base=base,
        axis=axis,
        normalize=normalize,
        logit_names=logit_names(normalize=normalize, logits=logits),
        as_json=as_json,
        precision=precision,
    )


def _two_distribution_command(
    name: str, key: str, label: str, measure: Callable[..., Any], doc: str, examples: list[str]
) -> None:
    """Register ``klkit NAME P Q``: the measure of P against Q, with every option."""

    def pair(
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
            estimating=Estimating(samples, method, k, smoothing, seed),
            base=base,
            axis=axis,
            normalize=normalize,
            logit_names=logit_names(normalize=normalize, logits=logits, q_logits=q_logits),
            as_json=as_json,
            precision=precision,
        )

    pair.__doc__ = doc
    command(name, examples=examples, **MEASURE_SETTINGS)(pair)


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


@command(
    "bce",
    examples=["klkit bce 1,0,1 0.9,0.2,0.6", "klkit bce 1,0 2.5,-1 --logits --json"],
    **MEASURE_SETTINGS,
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
    log_base = parse_base(base)
    read = Reader(ctx)
    tables = {"Y": read(y, "Y"), "Y_HAT": read(y_hat, "Y_HAT")}
    for name, t in tables.items():
        if t.values.size == 0:
            msg = f"{name} holds no values; give at least one target and one prediction."
            raise UserError(msg)
    names = None
    if all(t.values.ndim == 1 for t in tables.values()):  # element-wise: named elements align
        (ty, th), names = align(tables, [t.values for t in tables.values()], None)
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
        print_json(data, precision)
        return
    ty, th = np.broadcast_arrays(ty, th)
    out.print(f"Binary cross-entropy in {unit}, per element:")
    table = RichTable()
    for heading in ("index", "Y", "logit" if logits else "Y_HAT", "BCE"):
        table.add_column(heading, justify="left" if heading == "index" else "right")
    for index in np.ndindex(value.shape):
        where = str(names[index[0]]) if names else ", ".join(str(i) for i in index)
        table.add_row(where, *(fmt(float(a[index]), precision) for a in (ty, th, value)))
    out.print(table)
    out.print(f"mean = {fmt(mean, precision)} {unit}")
