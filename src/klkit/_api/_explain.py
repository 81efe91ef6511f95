"""explain(): the per-outcome terms of H(P), H(P, Q) and D(P||Q) as plain data."""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from klkit._api import _losses
from klkit._api._i18n import check_lang, ntr, tr, unit_words
from klkit._api._measures import cross_entropy, entropy, kl_divergence
from klkit._api._route import quiet
from klkit._backends import _namespace
from klkit._core._errors import DistributionError
from klkit._core._inputs import dense, prepare
from klkit._core._named import align_outcomes
from klkit._core._terms import cross_entropy_terms, entropy_terms, kl_terms
from klkit._numerics import resolve_base, unit_name

__all__ = ["COLUMNS", "Breakdown", "columns", "explain", "unit_name"]

_Float = np.ndarray[Any, np.dtype[np.float64]]


def _fmt(x: float, digits: int = 6) -> str:
    return f"{x + 0.0:.{digits}g}"  # + 0.0: -0.0 (the -log of a Q of 1) prints as 0


@dataclass(frozen=True, eq=False)
class Breakdown:
    """Per-outcome contributions to entropy, cross-entropy and KL for one pair P, Q.

    All values are in the unit of ``base`` (see :attr:`unit`); arrays are NumPy
    float64 arrays with one entry per outcome.

    Attributes
    ----------
    entropy, cross_entropy, kl_divergence : float
        H(P), H(P, Q) and D(P||Q), as :func:`klkit.entropy` and friends return them.
    entropy_terms : ndarray
        -P(x) log P(x).
    cross_entropy_terms : ndarray
        -P(x) log Q(x).
    kl_terms : ndarray
        P(x) log(P(x)/Q(x)): the "area" between the two distributions. Terms can be
        negative; they sum to ``kl_divergence`` (to rounding, for normalised inputs).
    p, q : ndarray
        The two distributions (after ``normalize``, softmax or one-hot expansion).
    base : float or None
        The logarithm base; None is e.
    outcomes : tuple of str
        Names of the outcomes (``1..K`` unless given).
    lang : str
        The language of the words of ``str()`` and :meth:`summary`: ``"en"`` or
        ``"ko"``; the numbers are the same in every language.
    """

    entropy: float
    cross_entropy: float
    kl_divergence: float
    entropy_terms: _Float = field(repr=False)
    cross_entropy_terms: _Float = field(repr=False)
    kl_terms: _Float = field(repr=False)
    p: _Float = field(repr=False)
    q: _Float = field(repr=False)
    base: float | None
    outcomes: tuple[str, ...] = field(repr=False)
    lang: str = field(default="en", repr=False)

    @property
    def unit(self) -> str:
        """Name of the unit: nats, bits, bans or log-base-b units."""
        return unit_name(self.base)

    @property
    def surprisal(self) -> _Float:
        """-log Q(x): the information of each outcome under the prediction Q."""
        with np.errstate(divide="ignore"):
            out: _Float = -np.log(self.q) / (math.log(self.base) if self.base else 1.0)
        return out

    def rows(self) -> list[tuple[str, float, float, float, float, float]]:
        """(outcome, P, Q, -log Q, -P log Q, P log P/Q) for each outcome."""
        return [
            (name, float(p), float(q), float(s), float(c), float(k))
            for name, p, q, s, c, k in zip(
                self.outcomes,
                self.p,
                self.q,
                self.surprisal,
                self.cross_entropy_terms,
                self.kl_terms,
                strict=True,
            )
        ]

    def summary(self) -> str:
        """Say in words where D(P||Q) comes from.

        Names the outcomes with the largest positive terms (P above Q) and those with
        negative terms (Q above P); when the KL is infinite, names the outcomes that
        make it so (P > 0 where Q = 0) and what to do about it.
        """
        lang, unit = self.lang, unit_words(self.base, self.lang)
        if math.isinf(self.kl_divergence):
            # an infinite term marks them: P > 0 there even when P underflows to 0.0
            # in float64 (a softmax of logits far apart)
            culprits = [
                (name, p)
                for name, p, term in zip(self.outcomes, self.p, self.kl_terms, strict=True)
                if math.isinf(term)
            ]
            which = _join(
                [
                    tr(lang, "{name} (where P = {p})", name=name, p=format(p, ".3g"))
                    if p > 0
                    else tr(
                        lang, "{name} (where P > 0, below float64's smallest number)", name=name
                    )
                    for name, p in culprits[:6]
                ]
                + ([tr(lang, "{n} more", n=len(culprits) - 6)] if len(culprits) > 6 else []),
                lang,
            )
            return ntr(
                lang,
                "D(P||Q) is infinite because Q gives probability 0 to outcome {which}, which P "
                "says can happen: a prediction that rules out what happens pays infinite "
                "information. Give Q some probability there (smooth it: add a pseudo-count "
                "before normalizing, or mix in a little of the uniform distribution), or "
                "compare with the JS divergence, which is always finite.",
                "D(P||Q) is infinite because Q gives probability 0 to outcomes {which}, which P "
                "says can happen: a prediction that rules out what happens pays infinite "
                "information. Give Q some probability there (smooth it: add a pseudo-count "
                "before normalizing, or mix in a little of the uniform distribution), or "
                "compare with the JS divergence, which is always finite.",
                len(culprits),
                which=which,
            )
        if self.kl_divergence == 0:
            return tr(
                lang,
                "P and Q are the same distribution: every term is 0, so D(P||Q) = 0 and "
                "H(P,Q) = H(P).",
            )
        terms = self.kl_terms
        order = np.argsort(-terms, kind="stable")
        positive = [int(i) for i in order if terms[i] > 0]
        if not positive:  # equal to rounding: every rounded term is <= 0
            return tr(
                lang,
                "P and Q agree to rounding: D(P||Q) = {kl} {unit}, and no outcome's term is "
                "above 0.",
                kl=format(self.kl_divergence, ".3g"),
                unit=unit,
            )
        negative = [int(i) for i in np.argsort(terms, kind="stable") if terms[i] < 0]
        top = [i for i in positive if terms[i] >= terms[positive[min(2, len(positive) - 1)]]]
        sentences = [
            ntr(
                lang,
                "The largest contributions to D(P||Q) = {kl} {unit} come from {groups}, where "
                "P is above Q: the prediction underrates it.",
                "The largest contributions to D(P||Q) = {kl} {unit} come from {groups}, where "
                "P is above Q: the prediction underrates them.",
                len(top),
                kl=format(self.kl_divergence, ".3g"),
                unit=unit,
                groups=self._groups(top),
            )
        ]
        if negative:
            names = [self.outcomes[i] for i in negative[:3]]
            if len(negative) > 3:
                names.append(tr(lang, "{n} more", n=len(negative) - 3))
            sentences.append(
                ntr(
                    lang,
                    "Outcome {names} has a negative term, {total} {unit}: Q overrates it. "
                    "Positive terms always outweigh negative ones, so D(P||Q) stays >= 0.",
                    "Outcomes {names} have negative terms, {total} {unit} in all: Q overrates "
                    "them. Positive terms always outweigh negative ones, so D(P||Q) stays >= 0.",
                    len(negative),
                    names=_join(names, lang),
                    total=format(float(terms[negative].sum()), ".3g"),
                    unit=unit,
                )
            )
        return " ".join(sentences)

    def _groups(self, indices: list[int]) -> str:
        """'outcomes 1, 2 and 3 (+0.123 bits each) and outcome 6 (+0.05 bits)'."""
        groups: list[list[int]] = []
        for i in indices:
            if groups and math.isclose(self.kl_terms[i], self.kl_terms[groups[-1][0]]):
                groups[-1].append(i)
            else:
                groups.append([i])
        lang, unit = self.lang, unit_words(self.base, self.lang)
        parts = []
        for group in groups:
            shown = [self.outcomes[i] for i in group[:6]]
            more = [tr(lang, "{n} more", n=len(group) - 6)] if len(group) > 6 else []
            names, value = _join(shown + more, lang), f"{self.kl_terms[group[0]]:+.3g}"
            parts.append(
                tr(lang, "outcome {names} ({value} {unit})", names=names, value=value, unit=unit)
                if len(group) == 1
                else tr(
                    lang,
                    "outcomes {names} ({value} {unit} each)",
                    names=names,
                    value=value,
                    unit=unit,
                )
            )
        return _join(parts, lang)

    def _totals(self, digits: int = 6) -> list[str]:
        """Return the H(P), H(P,Q), D(P||Q) lines and the identity, to ``digits`` digits."""
        return totals(
            self.entropy,
            self.cross_entropy,
            self.kl_divergence,
            unit=unit_words(self.base, self.lang),
            digits=digits,
            lang=self.lang,
        )

    def title(self) -> str:
        """Return the table's heading: what it breaks down, in which unit."""
        return tr(
            self.lang,
            "Breakdown of H(P), H(P,Q) and D(P||Q) in {unit}",
            unit=unit_words(self.base, self.lang),
        )

    def __str__(self) -> str:
        body = [(r[0], *(_fmt(v) for v in r[1:])) for r in self.rows()]
        heads = columns(self.lang)
        widths = [max(_width(row[i]) for row in [heads, *body]) for i in range(len(heads))]
        lines = [self.title()]
        for row in [heads, *body]:
            cells = [row[0] + " " * (widths[0] - _width(row[0]))]
            cells += [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells))
        lines += self._totals()
        lines += _wrap(self.summary(), 88)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Render the table of ``str()`` as HTML, for Jupyter."""
        esc = html.escape
        head = "".join(f"<th>{esc(c)}</th>" for c in columns(self.lang))
        body = "".join(
            f"<tr><th>{esc(r[0])}</th>"
            + "".join(f'<td style="text-align:right">{_fmt(v)}</td>' for v in r[1:])
            + "</tr>"
            for r in self.rows()
        )
        totals = "<br>".join(esc(line) for line in self._totals())
        return (
            '<div class="klkit-breakdown"><table>'
            f"<caption>{esc(self.title())}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p><code>{totals}</code></p><p>{esc(self.summary())}</p></div>"
        )


COLUMNS = ("outcome", "P", "Q", "-log Q", "-P log Q", "P log(P/Q)")
"""Column headings of :meth:`Breakdown.rows` (in English; :func:`columns` in others)."""


def columns(lang: str) -> tuple[str, ...]:
    """Return the column headings in ``lang``: only the word 'outcome' changes."""
    return (tr(lang, "outcome"), *COLUMNS[1:])


def totals(
    h: float, ce: float, kl: float, *, unit: str, digits: int, lang: str, density: bool = False
) -> list[str]:
    """Return the H(P), H(P,Q), D(P||Q) lines and the identity, to ``digits`` digits.

    ``density``: P and Q are densities, so H(P) is a differential entropy and D(P||Q)
    an integral, not the sum of a column.
    """
    h_text, ce_text, kl_text = (_fmt(v, digits) for v in (h, ce, kl))
    if density:
        words = (
            tr(lang, "(differential entropy of the target P)"),
            tr(lang, "(cross-entropy: coding P with Q's code)"),
            tr(lang, "(KL divergence: the integral of p log(p/q))"),
        )
    else:
        words = (
            tr(lang, "(entropy of the target P)"),
            tr(lang, "(cross-entropy: coding P with Q's code)"),
            tr(lang, "(KL divergence: sum of the last column)"),
        )
    return [
        f"H(P)    = {h_text} {unit}  {words[0]}",
        f"H(P,Q)  = {ce_text} {unit}  {words[1]}",
        f"D(P||Q) = {kl_text} {unit}  {words[2]}",
        f"H(P,Q) = H(P) + D(P||Q):  {ce_text} = {h_text} + {kl_text}",
    ]


def _join(items: list[str], lang: str) -> str:
    """Join names as 'a', 'a and b' or 'a, b and c' (in ``lang``'s words)."""
    if len(items) == 1:
        return items[0]
    return tr(lang, "{items} and {last}", items=", ".join(items[:-1]), last=items[-1])


def _width(text: str) -> int:
    """Return the columns ``text`` takes in a terminal: East Asian wide letters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` terminal columns, at spaces."""
    lines: list[str] = []
    for word in text.split():
        if lines and _width(lines[-1]) + 1 + _width(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _outcome_names(outcomes: Any, index: Any, k: int) -> tuple[str, ...]:
    """Names for the K outcomes: ``outcomes``, else the inputs' own names, else 1..K."""
    if outcomes is None:
        return tuple(str(o) for o in (index if index is not None else range(1, k + 1)))
    if isinstance(outcomes, str | bytes) or not isinstance(outcomes, Iterable):
        msg = (
            f"`outcomes` is {outcomes!r} (of type {type(outcomes).__name__}); give one name "
            "per outcome as a list, e.g. outcomes=['rain', 'cloud', 'sun'] for 3 outcomes."
        )
        raise DistributionError(msg)
    names = tuple(str(o) for o in outcomes)
    if len(names) != k:
        raise DistributionError(
            problem=f"has {len(names)} names for {k} outcomes; give one name per outcome.",
            argument="outcomes",
        )
    return names


@quiet
def explain(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    normalize: bool = False,
    outcomes: Any = None,
    lang: str = "en",
) -> Breakdown:
    r"""Break H(P), H(P, Q) and D(P||Q) of one pair into per-outcome terms.

    Parameters
    ----------
    p, q : array_like, pandas Series, Logits, LogProbs or Labels, shape ``(K,)``
        One target and one prediction (they broadcast to one dimension).
    base : float or str, optional
        Logarithm base; None means e (nats); as in :func:`klkit.entropy`.
    normalize : bool, default False
        Rescale counts or weights to sum to 1 first.
    outcomes : sequence, optional
        Names of the K outcomes. By default a pandas Series' index, else 1..K.
    lang : {"en", "ko"}, default "en"
        The language of the Breakdown's words (:meth:`Breakdown.summary`, ``str()``):
        English or Korean. The environment (``LANG``) is not read: Python code gets
        the language it asks for.

    Returns
    -------
    Breakdown
        Totals, per-outcome terms and the inputs, as NumPy data; ``str()`` of it is
        a table that shows :math:`H(P, Q) = H(P) + D(P \| Q)` with numbers.

    Raises
    ------
    DistributionError
        As :func:`klkit.kl_divergence`; also when the pair is not one-dimensional,
        when two Series have different indexes, or when ``outcomes`` has the wrong
        length.
    ValueError
        When ``lang`` is not a language klkit speaks (``"en"``, ``"ko"``).

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> b = kl.explain(np.full(6, 1 / 6), [0.1, 0.1, 0.1, 0.1, 0.1, 0.5], base=2)
    >>> bool(np.isclose(b.cross_entropy, b.entropy + b.kl_divergence))
    True
    >>> bool(np.isclose(b.kl_terms.sum(), b.kl_divergence))
    True
    >>> print(b)  # doctest: +ELLIPSIS
    Breakdown of H(P), H(P,Q) and D(P||Q) in bits
    outcome         P    Q   -log Q  -P log Q  P log(P/Q)
    1        0.166667  0.1  3.32193  0.553655    0.122828
    ...
    H(P,Q) = H(P) + D(P||Q):  2.93494 = 2.58496 + 0.349978
    The largest contributions to D(P||Q) = 0.35 bits come from outcomes 1, 2, 3, 4 and 5
    (+0.123 bits each), where P is above Q: the prediction underrates them. Outcome 6 has a
    negative term, -0.264 bits: Q overrates it. Positive terms always outweigh negative
    ones, so D(P||Q) stays >= 0.

    The same words in Korean (the numbers do not change):

    >>> print(kl.explain([0.5, 0.5], [0.5, 0.5], lang="ko").summary())
    P와 Q는 같은 분포입니다. 모든 항이 0이므로 D(P||Q) = 0이고 H(P,Q) = H(P)입니다.
    """
    unit = resolve_base(base)
    lang = check_lang(lang)
    _losses.check_order(explain, {"p": p, "q": q})
    p, q = _losses.resolved(p, "p"), _losses.resolved(q, "q")
    aligned, index = align_outcomes([("p", p), ("q", q)], axis=-1)
    (_, p), (_, q) = aligned
    prep = prepare(aligned, axis=-1, normalize=normalize, validate=True)
    xp = prep.xp
    dp, dq = prep.dists
    if prep.n_outcomes is None:
        msg = (
            "`p` and `q` are both `klkit.Labels`, so neither says how many outcomes there "
            "are; explain needs one of them as probabilities, logits or log-probabilities "
            "over the K outcomes."
        )
        raise DistributionError(msg)
    prob_p, log_p = dense(dp, prep)
    prob_q, log_q = dense(dq, prep)
    shape = tuple(prep.xp.broadcast_arrays(prob_p, prob_q)[0].shape)
    if len(shape) != 1:
        msg = (
            f"explain compares one pair of distributions, but `p` and `q` broadcast to "
            f"shape {shape}. Pass one row, e.g. `p[i]` and `q[i]`."
        )
        raise DistributionError(msg)
    prob_p, prob_q = xp.broadcast_arrays(prob_p, prob_q)
    if log_p is not None:
        log_p = xp.broadcast_to(log_p, shape)
    if log_q is not None:
        log_q = xp.broadcast_to(log_q, shape)
    names = _outcome_names(outcomes, index, shape[0])

    scale = unit.log or 1.0
    h_terms = entropy_terms(prob_p, log_p, xp=xp)
    ce_terms = cross_entropy_terms(prob_p, prob_q, log_q, xp=xp)
    nonneg = kl_terms(prob_p, prob_q, log_p, log_q, xp=xp)

    def host(x: Any) -> _Float:
        return np.asarray(_namespace.to_numpy(x), dtype=np.float64)

    # The totals are the public measures' own numbers (on Dask input their deferred
    # checks run when computed), so explain never disagrees with kl_divergence.
    totals = [
        float(np.asarray(_namespace.to_numpy(measure(*args, base=base, normalize=normalize))))
        for measure, args in ((entropy, (p,)), (cross_entropy, (p, q)), (kl_divergence, (p, q)))
    ]
    with np.errstate(invalid="ignore"):
        raw_kl = host(nonneg) + host(prob_p) - host(prob_q)  # p log(p/q), inf stays inf
    return Breakdown(
        entropy=totals[0],
        cross_entropy=totals[1],
        kl_divergence=totals[2],
        entropy_terms=host(h_terms) / scale,
        cross_entropy_terms=host(ce_terms) / scale,
        kl_terms=raw_kl / scale,
        p=host(prob_p),
        q=host(prob_q),
        base=unit.value,
        outcomes=names,
        lang=lang,
    )
