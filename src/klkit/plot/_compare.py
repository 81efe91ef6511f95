"""compare(): P and Q side by side, and below them the terms P log(P/Q) that sum to the KL."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from klkit._api._explain import Breakdown, explain
from klkit._core._errors import DistributionError
from klkit._numerics import resolve_base
from klkit.plot._shared import (
    COLORS,
    Float,
    kind,
    legend_label,
    outcome_ticks,
    pmf_arrays,
    pyplot,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["compare"]


def compare(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    ax: Any = None,
    outcomes: Any = None,
    normalize: bool = False,
    labels: tuple[str, str] = ("target", "prediction"),
    support: tuple[float, float] | None = None,
    num: int = 2001,
) -> Figure:
    r"""Draw P and Q, and below them the KL terms P log(P/Q) whose sum is D(P||Q).

    For discrete distributions: P and Q as side-by-side bars per outcome, then the
    terms :math:`P(x)\log_b(P(x)/Q(x))` as bars, positive ones (P above Q, they add to
    the KL) and negative ones (P below Q) in different colours; the KL with its unit
    is in the title. Two discrete ``scipy.stats`` frozen distributions (``binom``,
    ``poisson``) are drawn the same way, on the integers where either holds all but
    1e-12 of its mass at each end. For densities (two callables, or two continuous
    ``scipy.stats`` frozen distributions): both curves, then the integrand
    :math:`p(x)\log_b(p(x)/q(x))` shaded, and the KL as the trapezoid-rule area
    under it.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs, Labels; or callables / frozen distributions
        The target and the prediction: anything :func:`klkit.explain` takes, two
        discrete distributions, or two densities. A callable must map an array of x
        to an array of densities.
    base : float, optional
        Logarithm base; None means e (nats), 2 bits.
    ax : matplotlib Axes or pair of Axes, optional
        Draw into these instead of a new figure. With one Axes, the KL panel is
        appended below it (``make_axes_locatable``); with two, the first gets P and Q
        and the second the KL terms.
    outcomes : sequence of str, optional
        Names of the outcomes (a pandas Series' index by default, else 1..K).
        Crowded labels are thinned to at most 25.
    normalize : bool, default False
        Rescale counts or weights to sum to 1 first.
    labels : (str, str), default ("target", "prediction")
        What P and Q are, for the legend: "P (target)".
    support : (float, float), optional
        The range of x for densities. Frozen distributions default to the union of
        their 0.01% and 99.99% quantiles; plain callables need it.
    num : int, default 2001
        Number of grid points for densities.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on. Its Axes hold the bars as ``BarContainer``s labelled
        ``"P"``, ``"Q"`` and ``"P log(P/Q)"`` (lines and fills for densities).

    Raises
    ------
    DistributionError
        As :func:`klkit.explain`; for densities, a negative or NaN density value.
    TypeError
        ``p`` and ``q`` are of different kinds (a density and an array, say).
    ValueError
        ``support`` is missing for a callable, or is not two finite increasing numbers;
        two discrete distributions span more than 1000 integers, or come with
        ``outcomes``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from klkit.plot import compare
    >>> fig = compare(np.full(6, 1 / 6), [0.1, 0.1, 0.1, 0.1, 0.1, 0.5], base=2)
    >>> fig.axes[0].get_title()
    'P vs Q:  D(P‖Q) = 0.35 bits'
    >>> terms = fig.axes[1].containers[0].datavalues
    >>> bool(np.isclose(terms.sum(), 0.349978, atol=1e-6))
    True
    """
    pyplot()  # without matplotlib: one line naming the extra, before any work
    what = kind(p, q)
    if what == "density":
        return _compare_densities(p, q, base=base, ax=ax, labels=labels, support=support, num=num)
    if what == "pmf":
        p, q, outcomes = pmf_arrays(p, q, outcomes)
    breakdown = explain(p, q, base=base, normalize=normalize, outcomes=outcomes)
    return _draw_breakdown(breakdown, ax=ax, labels=labels)


def _axes(ax: Any, width: float) -> tuple[Figure, Axes, Axes]:
    if ax is None:
        fig, (top, bottom) = pyplot().subplots(
            2,
            1,
            sharex=True,
            figsize=(width, 6.5),
            layout="constrained",
            height_ratios=[3, 2],
        )
        fig.get_layout_engine().set(h_pad=0.15)  # room between the panels' tick labels
    elif hasattr(ax, "bar"):
        from mpl_toolkits.axes_grid1 import (  # type: ignore[import-untyped]  # noqa: PLC0415
            make_axes_locatable,
        )

        top = ax
        bottom = make_axes_locatable(ax).append_axes("bottom", size="70%", pad=0.6, sharex=ax)
    else:
        try:
            top, bottom = ax
        except (TypeError, ValueError):
            msg = f"`ax` must be a matplotlib Axes or a pair of Axes, got {type(ax).__name__}"
            raise TypeError(msg) from None
    top.tick_params(labelbottom=False)
    return top.get_figure(root=True), top, bottom


def _title(kl: float, unit: str, *, approx: bool = False) -> str:
    value = "∞" if math.isinf(kl) else f"{kl:.3g}"
    return f"P vs Q:  D(P‖Q) {'≈' if approx else '='} {value} {unit}"


def _draw_breakdown(b: Breakdown, *, ax: Any, labels: tuple[str, str]) -> Figure:
    from matplotlib.patches import Patch  # noqa: PLC0415

    k = len(b.p)
    x = np.arange(k)
    fig, top, bottom = _axes(ax, min(max(6.0, 0.28 * k + 3.0), 16.0))
    width = 0.4
    top.bar(x - width / 2, b.p, width, color=COLORS["p"], label="P")
    top.bar(x + width / 2, b.q, width, color=COLORS["q"], label="Q")
    top.set_ylabel("probability")
    top.set_ylim(0, max(float(np.max(b.p)), float(np.max(b.q))) * 1.15)
    top.set_title(_title(b.kl_divergence, b.unit))
    top.legend(
        [Patch(color=COLORS["p"]), Patch(color=COLORS["q"])],
        [legend_label("P", labels[0]), legend_label("Q", labels[1])],
        loc="best",
    )

    terms = b.kl_terms
    finite = np.isfinite(terms)
    heights = np.where(finite, terms, 0.0)
    colours = [COLORS["above"] if t > 0 else COLORS["below"] for t in terms]
    bottom.bar(x, heights, 0.8, color=colours, label="P log(P/Q)")
    bottom.axhline(0, color="black", linewidth=0.8)
    handles, names = [], []
    if np.any(finite & (terms > 0)):
        handles.append(Patch(color=COLORS["above"]))
        names.append("P > Q: adds to D(P‖Q)")
    if np.any(terms < 0):
        handles.append(Patch(color=COLORS["below"]))
        names.append("P < Q: takes away")
    low = min(0.0, float(np.min(heights)))
    high = max(0.0, float(np.max(heights)))
    span = (high - low) or 1.0
    if not finite.all():
        tall = high + 0.35 * span
        bottom.bar(x[~finite], tall, 0.8, color="white", edgecolor=COLORS["above"], hatch="//")
        handles.append(Patch(facecolor="white", edgecolor=COLORS["above"], hatch="//"))
        names.append("+∞: Q = 0 where P > 0")
        high = tall
    bottom.set_ylim(low - 0.1 * span, high + 0.1 * span)
    if handles:
        bottom.legend(handles, names, loc="best")
    bottom.set_title("per-outcome terms P log(P/Q); their sum is D(P‖Q)")
    bottom.set_ylabel(f"P log(P/Q) [{b.unit}]")
    bottom.set_xlabel("outcome")
    outcome_ticks(bottom, b.outcomes, inches=fig.get_figwidth() * 0.8)
    return fig


def _evaluate(d: Any, x: Float, name: str) -> tuple[Float, Float]:
    """Return (density, log-density) of ``d`` on ``x``; log-density via logpdf if it has one."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if hasattr(d, "logpdf"):
            log = np.asarray(d.logpdf(x), dtype=np.float64)
            dens = np.exp(log)
        else:
            call: Callable[[Float], Any] = d
            dens = np.asarray(call(x), dtype=np.float64)
            log = np.log(dens)
    if dens.shape != x.shape:
        msg = (
            f"`{name}` returned shape {dens.shape} for {x.size} points; it must map an array "
            "of x to an array of densities (wrap a scalar function with numpy.vectorize)."
        )
        raise TypeError(msg)
    bad = np.isnan(dens) | (dens < 0)
    if bad.any():
        i = int(np.argmax(bad))
        msg = (
            f"`{name}` gives density {dens[i]:g} at x = {x[i]:g}; a density must be a "
            "non-negative number everywhere. Check the function."
        )
        raise DistributionError(msg)
    return dens, log


def _support(p: Any, q: Any, support: tuple[float, float] | None) -> tuple[float, float]:
    if support is None:
        if not (hasattr(p, "ppf") and hasattr(q, "ppf")):
            msg = (
                "`support=(low, high)` is needed to draw densities given as functions; "
                "klkit cannot guess where they live. Pass e.g. support=(-5, 5)."
            )
            raise ValueError(msg)
        lows = [float(d.ppf(1e-4)) for d in (p, q)]
        highs = [float(d.ppf(1 - 1e-4)) for d in (p, q)]
        support = (min(lows), max(highs))
    try:
        low, high = (float(v) for v in support)
    except (TypeError, ValueError):
        msg = f"`support` must be two numbers (low, high), got {support!r}"
        raise ValueError(msg) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        msg = f"`support` must be two finite numbers with low < high, got {support!r}"
        raise ValueError(msg)
    return low, high


def _compare_densities(
    p: Any,
    q: Any,
    *,
    base: float | None,
    ax: Any,
    labels: tuple[str, str],
    support: tuple[float, float] | None,
    num: int,
) -> Figure:
    log_base = resolve_base(base)
    scale = log_base.log or 1.0
    low, high = _support(p, q, support)
    x = np.linspace(low, high, num)
    dens_p, log_p = _evaluate(p, x, "p")
    dens_q, log_q = _evaluate(q, x, "q")
    with np.errstate(invalid="ignore"):
        integrand = np.where(dens_p > 0, dens_p * (log_p - log_q), 0.0) / scale
    kl = float(np.sum((integrand[1:] + integrand[:-1]) * np.diff(x)) / 2)
    unit = log_base.unit

    fig, top, bottom = _axes(ax, 8.0)
    top.plot(x, dens_p, color=COLORS["p"], label=legend_label("p", labels[0]))
    top.plot(x, dens_q, color=COLORS["q"], linestyle="--", label=legend_label("q", labels[1]))
    top.fill_between(x, dens_p, color=COLORS["p"], alpha=0.15, linewidth=0)
    top.set_ylabel("density")
    top.set_title(_title(kl, unit, approx=True))
    top.legend(loc="best")

    finite = np.isfinite(integrand)
    shown = np.where(finite, integrand, np.nan)
    bottom.fill_between(
        x,
        shown,
        0,
        where=finite & (integrand >= 0),
        interpolate=True,
        color=COLORS["above"],
        label="p > q: adds to D(P‖Q)",
    )
    if np.any(integrand < 0):
        bottom.fill_between(
            x,
            shown,
            0,
            where=finite & (integrand <= 0),
            interpolate=True,
            color=COLORS["below"],
            label="p < q: takes away",
        )
    if not finite.all():
        bottom.fill_between(
            x,
            0,
            1,
            where=~finite,
            transform=bottom.get_xaxis_transform(),
            facecolor="none",
            edgecolor=COLORS["above"],
            hatch="//",
            label="+∞: q = 0 where p > 0",
        )
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_title(f"integrand p log(p/q) on [{low:.3g}, {high:.3g}]; its area is D(P‖Q)")
    bottom.set_ylabel(f"p log(p/q) [{unit}]")
    bottom.set_xlabel("x")
    bottom.legend(loc="best")
    return fig
