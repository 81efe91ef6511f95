"""explain(): the per-outcome terms of H(P), H(P, Q) and D(P||Q) as plain data."""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from klkit._api import _losses
from klkit._api._measures import cross_entropy, entropy, kl_divergence
from klkit._api._route import quiet
from klkit._backends import _namespace
from klkit._core._errors import DistributionError
from klkit._core._inputs import dense, prepare
from klkit._core._named import align_outcomes
from klkit._core._terms import cross_entropy_terms, entropy_terms, kl_terms
from klkit._numerics import resolve_base, unit_name

__all__ = ["COLUMNS", "Breakdown", "explain", "unit_name"]

_Float = np.ndarray[Any, np.dtype[np.float64]]


def _fmt(x: float, digits: int = 6) -> str:
    return f"{x:.{digits}g}"


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
        unit = self.unit
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
                    f"{name} (where P = {p:.3g})"
                    if p > 0
                    else f"{name} (where P > 0, below float64's smallest number)"
                    for name, p in culprits
                ]
            )
            return (
                f"D(P||Q) is infinite because Q gives probability 0 to "
                f"{_outcomes_word(len(culprits))} {which}, which P says can happen: a "
                "prediction that rules out what happens pays infinite information. Give "
                "Q some probability there (smooth it: add a pseudo-count before "
                "normalizing, or mix in a little of the uniform distribution), or compare "
                "with the JS divergence, which is always finite."
            )
        if self.kl_divergence == 0:
            return (
                "P and Q are the same distribution: every term is 0, so D(P||Q) = 0 and "
                "H(P,Q) = H(P)."
            )
        terms = self.kl_terms
        order = np.argsort(-terms, kind="stable")
        positive = [int(i) for i in order if terms[i] > 0]
        if not positive:  # equal to rounding: every rounded term is <= 0
            return (
                f"P and Q agree to rounding: D(P||Q) = {self.kl_divergence:.3g} {unit}, and no "
                "outcome's term is above 0."
            )
        negative = [int(i) for i in np.argsort(terms, kind="stable") if terms[i] < 0]
        top = [i for i in positive if terms[i] >= terms[positive[min(2, len(positive) - 1)]]]
        sentences = [
            f"The largest contributions to D(P||Q) = {self.kl_divergence:.3g} {unit} come "
            f"from {self._groups(top)}, where P is above Q: the prediction underrates "
            f"{'it' if len(top) == 1 else 'them'}."
        ]
        if negative:
            total = float(terms[negative].sum())
            names = [self.outcomes[i] for i in negative[:3]]
            if len(negative) > 3:
                names.append(f"{len(negative) - 3} more")
            one = len(negative) == 1
            sentences.append(
                f"{_outcomes_word(len(negative)).capitalize()} {_join(names)} "
                f"{'has a negative term' if one else 'have negative terms'}, "
                f"{total:.3g} {unit}{'' if one else ' in all'}: Q overrates "
                f"{'it' if one else 'them'}. Positive terms always outweigh negative ones, "
                "so D(P||Q) stays >= 0."
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
        parts = []
        for group in groups:
            shown = [self.outcomes[i] for i in group[:6]]
            names = _join(shown + ([f"{len(group) - 6} more"] if len(group) > 6 else []))
            each = " each" if len(group) > 1 else ""
            value = f"{self.kl_terms[group[0]]:+.3g} {self.unit}{each}"
            parts.append(f"{_outcomes_word(len(group))} {names} ({value})")
        return _join(parts)

    def _totals(self, digits: int = 6) -> list[str]:
        """Return the H(P), H(P,Q), D(P||Q) lines and the identity, to ``digits`` digits."""
        h, ce, kl = (
            _fmt(v, digits) for v in (self.entropy, self.cross_entropy, self.kl_divergence)
        )
        return [
            f"H(P)    = {h} {self.unit}  (entropy of the target P)",
            f"H(P,Q)  = {ce} {self.unit}  (cross-entropy: coding P with Q's code)",
            f"D(P||Q) = {kl} {self.unit}  (KL divergence: sum of the last column)",
            f"H(P,Q) = H(P) + D(P||Q):  {ce} = {h} + {kl}",
        ]

    def __str__(self) -> str:
        body = [(r[0], *(_fmt(v) for v in r[1:])) for r in self.rows()]
        widths = [max(len(row[i]) for row in [COLUMNS, *body]) for i in range(len(COLUMNS))]
        lines = [f"Breakdown of H(P), H(P,Q) and D(P||Q) in {self.unit}"]
        for row in [COLUMNS, *body]:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells))
        lines += self._totals()
        lines += textwrap.wrap(self.summary(), width=88)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Render the table of ``str()`` as HTML, for Jupyter."""
        esc = html.escape
        head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
        body = "".join(
            f"<tr><th>{esc(r[0])}</th>"
            + "".join(f'<td style="text-align:right">{_fmt(v)}</td>' for v in r[1:])
            + "</tr>"
            for r in self.rows()
        )
        totals = "<br>".join(esc(line) for line in self._totals())
        return (
            '<div class="klkit-breakdown"><table>'
            f"<caption>Breakdown of H(P), H(P,Q) and D(P||Q) in {esc(self.unit)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p><code>{totals}</code></p><p>{esc(self.summary())}</p></div>"
        )


COLUMNS = ("outcome", "P", "Q", "-log Q", "-P log Q", "P log(P/Q)")
"""Column headings of :meth:`Breakdown.rows`."""


def _join(items: list[str]) -> str:
    """Join names as 'a', 'a and b' or 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _outcomes_word(n: int) -> str:
    return "outcome" if n == 1 else "outcomes"


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
    """
    unit = resolve_base(base)
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
    )
