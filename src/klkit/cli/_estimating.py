"""Estimates: ``--samples`` and distributions written as text, with their intervals."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import typer

import klkit as kl
from klkit._core._errors import DistributionError
from klkit.cli._options import parse_base
from klkit.cli._render import fmt, out, print_json
from klkit.cli._shape import Reader
from klkit.cli._values import UserError

# klkit.estimate still raises plain ValueErrors in the Python API's words (`p`,
# method='mc'); until they carry parts as DistributionError does, its few words are
# said as flags here. DistributionErrors are rendered by klkit.cli._app instead.
_ESTIMATE_TO_CLI: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bmethod='(\w+)'"), r"--method \1"),
    (re.compile(r"\bsmoothing=(\d[\d.]*)"), r"--smoothing \1"),
    (re.compile(r"`p`"), "P"),
    (re.compile(r"`q`"), "Q"),
    (re.compile(r"`([^`]*)`"), r"\1"),  # other names: plain words
]


def _estimate_words(message: str) -> str:
    """Say a :mod:`klkit.estimate` ValueError in command-line terms (flags, P and Q)."""
    for pattern, replacement in _ESTIMATE_TO_CLI:
        message = pattern.sub(replacement, message)
    return " ".join(message.split())


def _read_samples(read: Reader, arg: str, name: str) -> Any:
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
class Estimating:
    """The options of ``--samples`` and of distributions written as text."""

    samples: bool
    method: str
    k: int
    smoothing: float | None
    seed: int | None


def run_estimate(
    ctx: typer.Context,
    key: str,
    label: str,
    args: dict[str, str],
    dists: dict[str, Any],
    estimating: Estimating,
    *,
    base: str,
    as_json: bool,
    precision: int | None,
) -> None:
    """Estimate ``key`` from samples or distributions and print it with its interval."""
    import klkit.estimate as ke  # noqa: PLC0415  (needs SciPy: the cli extra has it)

    log_base = parse_base(base)
    samples, method = estimating.samples, estimating.method
    read = Reader(ctx)
    inputs: list[Any] = []
    for name, arg in args.items():
        dist = dists[name]
        if dist is None and not samples:
            msg = (
                f"{name}: {arg!r} is not a distribution like normal(0, 1), and the other "
                "argument is one; give both as distributions, or pass --samples."
            )
            raise UserError(msg)
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
            raise UserError(msg)
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
        except DistributionError:
            raise
        except ValueError as e:  # the estimator's own precise message (shapes, kinds, k)
            raise UserError(_estimate_words(str(e))) from None
    if as_json:
        data = asdict(est)
        data["n"] = list(est.n) if isinstance(est.n, tuple) else est.n
        print_json({"measure": key, **data}, precision)
        return
    if est.method == "exact":
        out.print(f"{label} = {fmt(est.value, precision)} {est.unit} (exact)")
        return
    out.print(f"{label} = {est}")
