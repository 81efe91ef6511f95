"""``klkit explain``: the per-outcome breakdown of H(P), H(P,Q) and D(P||Q).

P and Q are numbers (inline, files, standard input), or distributions written as
text as ``klkit kl`` reads them (:mod:`klkit.cli._text`). Discrete ones (binomial,
Bernoulli, Poisson, geometric) get a table over the outcomes where P or Q has mass:
all but ``_TAIL`` of each one's mass on either side, and the outcome just past an end
of Q's support where P is still > 0 (however little), so an infinite KL is shown where
it comes from.
Continuous ones get H(P), H(P,Q) and D(P||Q) from klkit's closed forms: a density has
no table of outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import typer

import klkit as kl
from klkit._api._explain import totals
from klkit._api._i18n import tr, unit_words
from klkit._numerics import max_support, unit_name
from klkit.cli._app import command
from klkit.cli._options import (
    MEASURE_SETTINGS,
    Base,
    Debug,
    Json,
    Lang,
    LogitsFlag,
    Normalize,
    Outcomes,
    PArg,
    Precision,
    QArg,
    QLogits,
    logit_names,
    parse_base,
    parse_lang,
)
from klkit.cli._read import parse_names
from klkit.cli._render import breakdown_json, out, print_breakdown, print_json
from klkit.cli._shape import Reader, align
from klkit.cli._text import distribution
from klkit.cli._values import UserError, quote


def breakdown(
    ctx: typer.Context,
    p: str,
    q: str,
    *,
    base: str,
    normalize: bool,
    logit_names: frozenset[str],
    outcomes: str | None,
    lang: str = "en",
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
        lang=lang,
    )


# --- distributions written as text -----------------------------------------------------------

_TAIL = 1e-18
"""Mass a discrete distribution's table may leave out on each side: far below float64's
rounding of a sum of 1, so the table's sums are the distribution's to rounding."""


def _reach(
    origin: int, sign: int, end: float, done: Callable[[int], bool], *, name: str, text: str
) -> int:
    """Return the outcome nearest ``origin`` in the direction ``sign`` at which ``done`` holds.

    ``done`` holds from there on outwards, and at ``end``, the support's end. Doubling
    steps from ``origin``, then halving. Searching from the median keeps the cost to the
    width of the distribution, wherever it lies: binomial(10**8, 0.5) has its mass within
    10**5 outcomes of 5·10**7. Going more than ``KLKIT_MAX_SUPPORT`` outcomes from the
    median is an error.
    """
    limit = max_support()
    far = abs(end - origin)  # inf for an unbounded support
    below, at, step = -1, 0, 1
    while not done(origin + sign * at):
        if at >= far:
            return origin + sign * at
        if at > limit:
            msg = (
                f"{name}: {quote(text, 50)} has mass over more than {limit:,} outcomes, "
                "the limit KLKIT_MAX_SUPPORT; raise it (e.g. KLKIT_MAX_SUPPORT="
                f"{limit * 10}) or use klkit kl, which needs no table."
            )
            raise UserError(msg)
        below, at, step = at, int(min(at + step, far)), step * 2
    while at - below > 1:
        middle = (below + at) // 2
        below, at = (below, middle) if done(origin + sign * middle) else (middle, at)
    return origin + sign * at


def _window(d: Any, *, name: str, text: str) -> tuple[int, int]:
    """Return the outcomes [lo, hi] leaving out at most ``_TAIL`` of ``d``'s mass each side."""
    start, stop = d.support()
    median = int(min(max(d.median(), start), stop))
    hi = _reach(median, 1, stop, lambda k: bool(d.sf(k) <= _TAIL), name=name, text=text)
    lo = _reach(median, -1, start, lambda k: bool(d.cdf(k - 1) <= _TAIL), name=name, text=text)
    return lo, hi


def discrete_breakdown(
    dists: dict[str, Any], texts: dict[str, str], *, base: float | None, lang: str
) -> kl.Breakdown:
    """Break down two discrete distributions (SciPy's, frozen) over their outcomes."""
    p, q = dists["P"], dists["Q"]
    for d in dists.values():
        kl.entropy(d)  # checks the parameters: a DistributionError names the bad one
    (p_lo, p_hi), (q_lo, q_hi) = (_window(d, name=n, text=texts[n]) for n, d in dists.items())
    size = (p_hi - p_lo + 1) + (q_hi - q_lo + 1)
    if size > max_support():
        msg = (
            f"P and Q have mass over {size:,} outcomes, above the limit KLKIT_MAX_SUPPORT "
            f"({max_support():,}); raise it, or use klkit kl, which needs no table."
        )
        raise UserError(msg)
    parts = [np.arange(p_lo, p_hi + 1), np.arange(q_lo, q_hi + 1)]
    # Q's support is a run of outcomes: its ends are SciPy's support() or, when Q puts
    # all its mass on one outcome (binomial(n, 0)), its window. If P's support reaches
    # past them (below rounding, say), it holds the outcome next to one: show it.
    q_start, q_stop = q.support()
    edges = {q_lo - 1, q_hi + 1, int(q_start) - 1}
    if math.isfinite(q_stop):
        edges.add(int(q_stop) + 1)
    for edge in sorted(edges):
        if q.logpmf(edge) == -math.inf and p.logpmf(edge) > -math.inf:
            parts.append(np.array([edge]))
    grid = np.unique(np.concatenate(parts))
    # Read through a softmax, which renormalises over the window: SciPy's pmf drifts
    # with the count (binomial(10**8, 0.5) sums to 1 - 2.6e-8), which a check for
    # log-probabilities refuses; renormalised, the KL is the closed form's to 1e-9.
    return kl.explain(
        kl.Logits(np.asarray(p.logpmf(grid), dtype=np.float64)),
        kl.Logits(np.asarray(q.logpmf(grid), dtype=np.float64)),
        base=base,
        outcomes=[str(int(k)) for k in grid],
        lang=lang,
    )


def _density_summary(h: float, kl_value: float, unit: str, lang: str) -> str:
    if kl_value == 0:
        return tr(
            lang,
            "P and Q are the same distribution: every term is 0, so D(P||Q) = 0 and H(P,Q) = H(P).",
        )
    if math.isinf(kl_value):
        return tr(
            lang,
            "D(P||Q) is infinite: where P has mass, Q's density is 0 or falls off so much "
            "faster than P's (lighter tails) that log(p/q) grows without bound. Give Q a "
            "support that covers P's and tails at least as heavy, or compare with the JS "
            "divergence, which is always finite.",
        )
    return tr(
        lang,
        "P and Q are densities, so there is no table of outcomes: D(P||Q) = {kl} {unit} is "
        "the integral of p(x) log(p(x)/q(x)) over x, and H(P) = {h} {unit} is a "
        "differential entropy, which can be negative. H(P,Q) = H(P) + D(P||Q) holds as for "
        "a table.",
        kl=format(kl_value, ".3g"),
        h=format(h, ".3g"),
        unit=unit,
    )


def _explain_densities(
    dists: dict[str, Any],
    *,
    base: float | None,
    lang: str,
    as_json: bool,
    precision: int | None,
) -> None:
    """H(P), H(P,Q) and D(P||Q) of two continuous distributions, from closed forms."""
    p, q = dists["P"], dists["Q"]
    h, ce, kl_value = (
        float(measure(*args, base=base))
        for measure, args in (
            (kl.entropy, (p,)),
            (kl.cross_entropy, (p, q)),
            (kl.kl_divergence, (p, q)),
        )
    )
    unit = unit_words(base, lang)
    summary = _density_summary(h, kl_value, unit, lang)
    if as_json:
        data = {"entropy": h, "cross_entropy": ce, "kl_divergence": kl_value}
        print_json(
            {
                **data,
                "base": base,
                "unit": unit_name(base),
                "summary": summary,
            },
            precision,
        )
        return
    out.print(tr(lang, "H(P), H(P,Q) and D(P||Q) of two densities, in {unit}:", unit=unit))
    for line in totals(h, ce, kl_value, unit=unit, digits=precision or 6, lang=lang, density=True):
        out.print(line)
    out.print(summary)


def text_pair(
    p: str, q: str, *, normalize: bool, logits: bool, q_logits: bool, outcomes: object
) -> tuple[dict[str, Any], bool] | None:
    """Read P and Q as distributions written as text; None when neither is one.

    Returns the two (SciPy's, frozen) and whether they are discrete. Both must be
    distributions, none of the options for numbers given, and both discrete or both
    continuous (``klkit explain`` and ``klkit plot`` share this).
    """
    args = {"P": p, "Q": q}
    dists = {name: distribution(arg, name) for name, arg in args.items()}
    if all(d is None for d in dists.values()):
        return None
    for name, arg in args.items():
        if dists[name] is None:
            msg = (
                f"{name}: {quote(arg, 50)} is not a distribution like binomial(4, 0.5), and "
                "the other argument is one; give both as distributions, or both as "
                "probabilities."
            )
            raise UserError(msg)
    flags = {
        "--normalize": normalize,
        "--logits": logits,
        "--q-logits": q_logits,
        "--outcomes": outcomes is not None,
    }
    given = [flag for flag, on in flags.items() if on]
    if given:
        msg = (
            f"{given[0]} is for distributions given as numbers; P and Q are written as "
            f"distributions here, which name their own outcomes. Drop {given[0]}."
        )
        raise UserError(msg)
    discrete = {name: hasattr(d, "logpmf") for name, d in dists.items()}
    if discrete["P"] != discrete["Q"]:
        kinds = {True: "discrete", False: "continuous"}
        msg = (
            f"P ({quote(p, 40)}) is {kinds[discrete['P']]} and Q "
            f"({quote(q, 40)}) is {kinds[discrete['Q']]}: a probability and a "
            "density do not compare outcome by outcome (D(P||Q) is infinite, as klkit kl "
            "says); give two discrete or two continuous distributions."
        )
        raise UserError(msg)
    return dists, discrete["P"]


@command(
    "explain",
    examples=[
        "klkit explain 1/6,1/6,1/6,1/6,1/6,1/6 0.1,0.1,0.1,0.1,0.1,0.5 --base bits",
        "klkit explain 0.2,0.3,0.5 0.3,0.3,0.4 --outcomes rain,cloud,sun --json",
        'klkit explain "binomial(4, 0.5)" "binomial(4, 0.3)"',
        'klkit explain "normal(0, 1)" "normal(1, 2)" --lang ko',
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
    lang: Lang = None,
    debug: Debug = False,
) -> None:
    """Per outcome: P, Q, -log Q, -P log Q and P log(P/Q); then H(P), H(P,Q), D(P||Q).

    Shows H(P,Q) = H(P) + D(P||Q) with the numbers, and says which outcomes make the KL
    (and what to do when it is infinite). Outcomes are named by --outcomes or by a
    CSV's text column. P and Q may be distributions written as text, as for klkit kl:
    discrete ones (binomial, bernoulli, poisson, geometric) are tabled over the
    outcomes where they have mass; continuous ones get H(P), H(P,Q) and D(P||Q) alone.
    """
    language = parse_lang(lang)
    pair = text_pair(p, q, normalize=normalize, logits=logits, q_logits=q_logits, outcomes=outcomes)
    if pair is not None:
        dists, discrete = pair
        log_base = parse_base(base).value
        if not discrete:
            _explain_densities(
                dists, base=log_base, lang=language, as_json=as_json, precision=precision
            )
            return
        b = discrete_breakdown(dists, {"P": p, "Q": q}, base=log_base, lang=language)
    else:
        b = breakdown(
            ctx,
            p,
            q,
            base=base,
            normalize=normalize,
            logit_names=logit_names(normalize=normalize, logits=logits, q_logits=q_logits),
            outcomes=outcomes,
            lang=language,
        )
    if as_json:
        print_json(breakdown_json(b), precision)
    else:
        print_breakdown(b, precision)
