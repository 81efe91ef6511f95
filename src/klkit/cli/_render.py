"""Print results: numbers at a precision, JSON objects, the breakdown table."""

from __future__ import annotations

import json
import math
from typing import Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

import klkit as kl
from klkit._api._explain import columns

out = Console(highlight=False, markup=False, emoji=False)  # names are text, never markup


def fmt(value: float, precision: int | None) -> str:
    return f"{value + 0.0:.{precision or 6}g}"  # + 0.0: -0.0 (-log 1) prints as 0


def _rounded(value: Any, precision: int | None) -> Any:
    """Floats for JSON (lists stay nested), rounded only when --precision was given."""
    if isinstance(value, list):
        return [_rounded(v, precision) for v in value]
    value = float(value)
    return (
        value if precision is None or not math.isfinite(value) else float(f"{value:.{precision}g}")
    )


def print_json(data: dict[str, Any], precision: int | None) -> None:
    typer.echo(
        json.dumps(
            {k: _rounded(v, precision) if k not in _TEXT_KEYS else v for k, v in data.items()}
        )
    )


_TEXT_KEYS = {"unit", "outcomes", "names", "summary", "base", "measure", "method", "note", "n"}


def print_breakdown(b: kl.Breakdown, precision: int | None) -> None:
    out.print(f"{b.title()}:")
    table = RichTable()
    for i, heading in enumerate(columns(b.lang)):
        table.add_column(heading, justify="left" if i == 0 else "right")
    for row in b.rows():
        table.add_row(row[0], *(fmt(v, precision) for v in row[1:]))
    out.print(table)
    for line in b._totals(precision or 6):
        out.print(line)
    out.print(b.summary())


def breakdown_json(b: kl.Breakdown) -> dict[str, Any]:
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
