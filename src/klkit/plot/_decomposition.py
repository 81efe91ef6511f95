"""decomposition(): P and Q with the gap per outcome, and H(P,Q) = H(P) + D(P||Q) as bars."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from klkit._api._explain import Breakdown, explain
from klkit.plot._shared import COLORS, kind, legend_label, outcome_ticks, pmf_arrays, pyplot

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

__all__ = ["decomposition"]

_MAX_TERMS = 12
"""Each outcome's term is written above it for at most this many outcomes."""
_GREY = "#555555"
_MINUS = "\N{MINUS SIGN}"
_FONT = 10.0
_STACK_WIDTH = 0.8
_STACK_GAP = 2.0
"""Bars' width, and the distance between their centres, in the stacked bars' x units."""


def decomposition(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    outcomes: Any = None,
    normalize: bool = False,
    labels: tuple[str, str] = ("target", "prediction"),
    q_itself: bool = True,
    ax: Any = None,
) -> Figure:
    r"""Draw P and Q per outcome with the gap between them, and H(P,Q) = H(P) + D(P||Q).

    Left: P and Q as side-by-side bars for each outcome; the gap from the shorter bar
    up to the taller one is shaded, in one colour where P is above Q (the outcome's
    term adds to the KL) and another where P is below Q (it takes away), and each
    outcome's term :math:`P(x)\log_b\frac{P(x)}{Q(x)}` is written above it (for up
    to 12 outcomes). The terms sum to the KL divergence.

    Right: the cross-entropy as a stacked bar, the entropy below and the KL on top,

    .. math::

        H(P, Q) = -\sum_x P(x)\log_b Q(x)
                = \underbrace{-\sum_x P(x)\log_b P(x)}_{H(P)}
                + \underbrace{\sum_x P(x)\log_b\frac{P(x)}{Q(x)}}_{D(P\|Q)},

    each part labelled with its value in the unit of ``base``; beside it, Q against
    itself, :math:`H(Q, Q) = H(Q)` with :math:`D(Q\|Q) = 0`: what the prediction
    costs when the world follows it, so the mismatch is what the first bar's top
    part measures. An infinite KL (Q = 0 where P > 0) is drawn hatched to the top.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs, Labels; or discrete frozen distributions
        The target and the prediction: anything :func:`klkit.explain` takes, or two
        discrete ``scipy.stats`` distributions (drawn on the integers where either
        holds all but 1e-12 of its mass at each end).
    base : float or str, optional
        Logarithm base; None means e (nats), 2 or "bits" bits, 10 bans.
    outcomes : sequence of str, optional
        Names of the outcomes (a pandas Series' index by default, else 1..K).
        Crowded names are thinned to at most 25.
    normalize : bool, default False
        Rescale counts or weights to sum to 1 first.
    labels : (str, str), default ("target", "prediction")
        What P and Q are, for the legend and the bars' names: "P (target)".
    q_itself : bool, default True
        Draw the second bar, Q against itself.
    ax : pair of matplotlib Axes, optional
        Draw into these (per-outcome bars, stacked bars) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on. The left Axes holds ``BarContainer``\ s labelled ``"P"``,
        ``"Q"`` and ``"gap"``; the right one ``"entropy"`` (H(P), then H(Q)) and
        ``"KL divergence"`` (D(P||Q), then 0), stacked, in the unit of ``base``.

    Raises
    ------
    DistributionError
        As :func:`klkit.explain`.
    TypeError
        ``p`` and ``q`` are densities (draw those with :func:`compare`), or of
        different kinds; ``ax`` is not a pair of Axes.
    ValueError
        Two discrete distributions span more than 1000 integers, or come with
        ``outcomes``.

    Examples
    --------
    The founding post's fair die P against a loaded die Q, in bits:
    H(P) + D(P||Q) = log2 6 + 0.350 = 2.935 = H(P,Q).

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from klkit.plot import decomposition
    >>> fair, loaded = np.full(6, 1 / 6), np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
    >>> fig = decomposition(fair, loaded, base=2, labels=("fair die", "loaded die"))
    >>> fig.axes[1].get_title()
    'H(P) + D(P‖Q) = H(P,Q)\n2.585 + 0.350 = 2.935 bits'
    >>> entropy, kl = fig.axes[1].containers
    >>> [round(float(h), 3) for h in entropy.datavalues], round(float(kl.datavalues[0]), 3)
    ([2.585, 2.161], 0.35)
    """
    pyplot()  # without matplotlib: one line naming the extra, before any work
    what = kind(p, q)
    if what == "density":
        msg = (
            "decomposition draws discrete distributions, one bar per outcome; draw "
            "densities with klkit.plot.compare(p, q), which shades p log(p/q)."
        )
        raise TypeError(msg)
    if what == "pmf":
        p, q, outcomes = pmf_arrays(p, q, outcomes)
    b = explain(p, q, base=base, normalize=normalize, outcomes=outcomes)
    itself = explain(b.q, b.q, base=b.base, outcomes=b.outcomes) if q_itself else None
    k = len(b.p)
    kl = f"D(P‖Q) = {_value(b.kl_divergence)} {b.unit}"
    titles = (
        f"P and Q per outcome, and each gap's term P log(P/Q)\nthe terms sum to {kl}"
        if k <= _MAX_TERMS
        else f"P and Q per outcome, and the gap between them\nthe terms P log(P/Q) sum to {kl}",
        f"H(P) + D(P‖Q) = H(P,Q)\n{_value(b.entropy)} + {_value(b.kl_divergence)} = "
        f"{_value(b.cross_entropy)} {b.unit}",
    )
    fig, left, right = _axes(ax, k, bars=2 if q_itself else 1, titles=titles)
    _draw_outcomes(fig, left, b, labels)
    _draw_stacks(fig, right, b, itself, labels)
    for panel, title in zip((left, right), titles, strict=True):
        panel.set_title(title, fontsize=_FONT + 1)
    return fig


def _axes(ax: Any, k: int, *, bars: int, titles: tuple[str, str]) -> tuple[Figure, Axes, Axes]:
    if ax is None:
        per_outcome = 0.55 if k <= _MAX_TERMS else 0.3  # room for each term's number
        # inches: at least the titles' width (0.09 a character) and the axis labels'
        left, right = (0.09 * max(len(line) for line in t.split("\n")) + 0.6 for t in titles)
        wide = max(min(max(4.8, per_outcome * k + 2.2), 12.0), left)
        narrow = max(1.5 + 1.4 * bars, right)
        fig, (left, right) = pyplot().subplots(
            1,
            2,
            figsize=(wide + narrow, 4.6),
            layout="constrained",
            width_ratios=[wide, narrow],
        )
        fig.get_layout_engine().set(w_pad=0.1, wspace=0.06)
        return fig, left, right
    try:
        left, right = ax
    except (TypeError, ValueError):
        msg = f"`ax` must be a pair of matplotlib Axes, got {type(ax).__name__}"
        raise TypeError(msg) from None
    return left.get_figure(root=True), left, right


def _value(x: float, *, short: bool = False) -> str:
    """Write a value as the picture shows it: 2.585, 0.350, 0.0144, 2.17e-08; 0; ∞.

    ``short`` (the terms over each outcome, side by side): always 3 decimals below
    10 000, so that -0.0004 is -0.000.
    """
    if math.isinf(x):
        return "∞" if x > 0 else _MINUS + "∞"
    if x == 0:
        return "0"
    low = 0.0 if short else 0.1
    text = f"{x:.3f}" if low <= abs(x) < 1e4 else f"{x:.3g}"
    return text.replace("-", _MINUS)


def _signed(x: float) -> str:
    text = _value(x, short=True)
    return text if x <= 0 else "+" + text


def _draw_outcomes(fig: Figure, ax: Axes, b: Breakdown, labels: tuple[str, str]) -> None:
    from matplotlib.colors import to_rgba  # noqa: PLC0415  (the plot extra, loaded to draw)
    from matplotlib.patches import Patch  # noqa: PLC0415

    k = len(b.p)
    x = np.arange(k)
    width = 0.38
    ax.bar(x - width / 2, b.p, width, color=COLORS["p"], label="P")
    ax.bar(x + width / 2, b.q, width, color=COLORS["q"], label="Q")
    above = b.p > b.q
    colours = [COLORS["above"] if a else COLORS["below"] for a in above]
    ax.bar(  # over the shorter bar, up to the taller one
        np.where(above, x + width / 2, x - width / 2),
        np.abs(b.p - b.q),
        width,
        bottom=np.minimum(b.p, b.q),
        facecolor=[to_rgba(c, 0.3) for c in colours],
        edgecolor=colours,
        linewidth=1.0,
        hatch="///",
        label="gap",
    )
    tallest = np.maximum(b.p, b.q)
    terms = b.kl_terms
    if k <= _MAX_TERMS:
        for i in range(k):
            t = float(terms[i])
            ax.annotate(
                _signed(t),
                (float(x[i]), float(tallest[i])),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=_FONT - 1 if k <= 8 else _FONT - 2,
                color=COLORS["above"] if t > 0 else COLORS["below"] if t < 0 else _GREY,
                fontweight="bold",
            )
    handles = [Patch(color=COLORS["p"]), Patch(color=COLORS["q"])]
    names = [legend_label("P", labels[0]), legend_label("Q", labels[1])]
    for sign, colour, words in (
        (above, COLORS["above"], "P > Q: its term adds to D"),
        (b.p < b.q, COLORS["below"], "P < Q: its term takes away"),
    ):
        if np.any(sign):
            handles.append(Patch(facecolor=to_rgba(colour, 0.3), edgecolor=colour, hatch="///"))
            names.append(words)
    ax.legend(handles, names, loc="upper left", fontsize=_FONT - 1, framealpha=0.95)
    ax.set_ylim(0, float(np.max(tallest)) * 1.6 or 1.0)  # room for the legend and terms
    ax.set_ylabel("probability")
    ax.set_xlabel("outcome")
    outcome_ticks(ax, b.outcomes, inches=ax.get_position().width * fig.get_figwidth())
    ax.set_title("\n", fontsize=_FONT + 1)  # the title's two lines, for the layout


def _draw_stacks(
    fig: Figure, ax: Axes, b: Breakdown, itself: Breakdown | None, labels: tuple[str, str]
) -> None:
    stacks = [(b, "P", "Q", COLORS["p"])]
    if itself is not None:
        stacks.append((itself, "Q", "Q", COLORS["q"]))
    entropies = np.array([s[0].entropy for s in stacks])
    kls = np.array([s[0].kl_divergence for s in stacks])
    finite = np.isfinite(kls)
    tallest = float(max(np.max(entropies), np.max(np.where(finite, entropies + kls, 0.0))))
    tallest = tallest or 1.0
    if not finite.all():  # an infinite KL is drawn a quarter above everything else
        tallest *= 1.25
    kls_drawn = np.where(finite, kls, tallest - entropies)
    ax.set_ylim(0, tallest / 0.8)  # room for the two lines of each total above its bar
    x = np.arange(len(stacks)) * _STACK_GAP
    ax.bar(x, entropies, _STACK_WIDTH, color=[s[3] for s in stacks], label="entropy")
    kl_bars = ax.bar(
        x, kls_drawn, _STACK_WIDTH, bottom=entropies, color=COLORS["above"], label="KL divergence"
    )
    for infinite in np.flatnonzero(~finite):
        kl_bars.patches[infinite].set(facecolor="white", edgecolor=COLORS["above"], hatch="//")
    ax.set_xlim(-0.9, (len(stacks) - 1) * _STACK_GAP + _STACK_WIDTH / 2 + 1.1)
    names = [f"P vs Q\n{_pair(labels[0], labels[1])}"]
    if itself is not None:
        names.append(f"Q vs itself\n{_pair(labels[1], 'itself')}")
    ax.set_xticks(x, names, fontsize=_FONT - 1)
    ax.set_ylabel(f"{b.unit} per outcome")
    ax.set_title("\n", fontsize=_FONT + 1)  # the title's two lines, for the layout
    fig.draw_without_rendering()  # lays the figure out: now points convert to data units
    two_lines = 2.6 * _FONT * fig.dpi / 72 * tallest / 0.8 / ax.bbox.height
    placed: list[tuple[list[Annotation], Annotation]] = []
    for i, (s, first, second, colour) in enumerate(stacks):
        h, d = float(entropies[i]), float(kls_drawn[i])
        beside = []
        if h >= 1.2 * two_lines:  # the entropy in its bar
            ax.text(
                x[i],
                h / 2,
                f"H({first})\n{_value(s.entropy)}",
                ha="center",
                va="center",
                fontsize=_FONT,
                fontweight="bold",
                color="black" if colour == COLORS["q"] else "white",
            )
        else:
            beside.append(_bracket(ax, x[i], 0.0, h, f"H({first})\n= {_value(s.entropy)}", "black"))
        kl_text = f"D({first}‖{second})\n= {_value(float(kls[i]))}"
        beside.append(_bracket(ax, x[i], h, h + d, kl_text, COLORS["above"]))
        total = ax.annotate(
            f"H({first},{second})\n= {_value(s.cross_entropy)}",
            (float(x[i]), h + d),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=_FONT,
            fontweight="bold",
        )
        placed.append((beside, total))
    _untangle(fig, ax, placed)


def _untangle(fig: Figure, ax: Axes, labels: list[tuple[list[Annotation], Annotation]]) -> None:
    """Stack each bar's side labels upwards from the x axis; lift totals clear of them all.

    ``labels`` holds, for each bar, the labels beside it (bottom to top) and its total.
    """
    from matplotlib.text import Text  # noqa: PLC0415  (the plot extra, loaded to draw)

    fig.draw_without_rendering()
    per_pixel = float(np.diff(ax.get_ylim())[0]) / ax.bbox.height
    pad = 2 * fig.dpi / 72
    boxes = []
    for beside, _ in labels:
        floor = ax.bbox.y0 + pad
        for label in beside:  # the text alone, not its leader line
            box = Text.get_window_extent(label)
            lift = max(0.0, floor - box.y0)
            x, y = label.xyann
            label.xyann = (x, y + lift * per_pixel)
            boxes.append(box.translated(0, lift))
            floor = box.y1 + lift + pad
    for _, total in labels:
        box = Text.get_window_extent(total)
        lift = max([0.0] + [o.y1 + pad - box.y0 for o in boxes if o.x1 > box.x0 and o.x0 < box.x1])
        dx, dy = total.xyann
        total.xyann = (dx, dy + lift * 72 / fig.dpi)


def _bracket(ax: Axes, x: float, start: float, end: float, text: str, colour: str) -> Annotation:
    """Mark ``start`` to ``end`` right of the bar at ``x``, and write ``text`` beside it."""
    edge = x + _STACK_WIDTH / 2 + 0.05
    tip = edge + 0.07
    middle = (start + end) / 2
    ax.plot([edge, tip, tip, edge], [start, start, end, end], color=colour, linewidth=1.2)
    return ax.annotate(
        text,
        (tip, middle),
        xytext=(tip + 0.1, middle),
        textcoords="data",
        ha="left",
        va="center",
        fontsize=_FONT,
        color=colour,
        arrowprops={
            "arrowstyle": "-",
            "color": colour,
            "linewidth": 0.8,
            "shrinkA": 2,
            "shrinkB": 0,
        },
    )


def _pair(first: str, second: str) -> str:
    """Name the pair in words, "(fair die vs loaded die)" on two lines; nothing unnamed."""
    if not first or not second:
        return ""
    return f"({first}\nvs {second})"
