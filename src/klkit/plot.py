"""Pictures of P, Q and the KL terms between them (matplotlib, the ``plot`` extra).

:func:`compare` draws P and Q side by side and, below them, the per-outcome terms
P log(P/Q) whose sum is D(P||Q): the "area between the two distributions" of the
founding post. :func:`save` writes a figure atomically.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from klkit._api._explain import Breakdown, explain
from klkit._core._errors import DistributionError
from klkit._numerics import resolve_base

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["COLORS", "compare", "save"]

COLORS = {
    "p": "#0072b2",  # blue
    "q": "#e69f00",  # orange
    "above": "#d55e00",  # vermillion: P above Q, the term adds to D(P||Q)
    "below": "#009e73",  # bluish green: P below Q, the term takes away
}
"""The Okabe-Ito colours :func:`compare` uses, distinguishable with colour-blindness."""

_MAX_LABELS = 25
_Float = np.ndarray[Any, np.dtype[np.float64]]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt  # noqa: PLC0415  (optional, heavy)
    except ModuleNotFoundError as e:
        msg = "klkit.plot needs matplotlib; install it with: pip install 'klkit[plot]'"
        raise ModuleNotFoundError(msg, name=e.name) from e
    return plt


def _is_density(x: object) -> bool:
    return callable(x) or (hasattr(x, "pdf") and hasattr(x, "ppf"))


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
    is in the title. For densities (two callables, or two ``scipy.stats`` frozen
    distributions): both curves, then the integrand :math:`p(x)\log_b(p(x)/q(x))`
    shaded, and the KL as the trapezoid-rule area under it.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs, Labels; or callables / frozen distributions
        The target and the prediction: anything :func:`klkit.explain` takes, or two
        densities. A callable must map an array of x to an array of densities.
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
    ValueError
        ``support`` is missing for a callable, or is not two finite increasing numbers.

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
    _pyplot()  # without matplotlib: one line naming the extra, before any work
    densities = [_is_density(p), _is_density(q)]
    if any(densities) and not all(densities):
        which, other = ("p", "q") if densities[0] else ("q", "p")
        msg = (
            f"`{which}` is a density (a callable or a distribution object) but `{other}` is "
            f"not; pass two densities, or two arrays of probabilities."
        )
        raise TypeError(msg)
    if all(densities):
        return _compare_densities(p, q, base=base, ax=ax, labels=labels, support=support, num=num)
    breakdown = explain(p, q, base=base, normalize=normalize, outcomes=outcomes)
    return _draw_breakdown(breakdown, ax=ax, labels=labels)


def _axes(ax: Any, width: float) -> tuple[Figure, Axes, Axes]:
    if ax is None:
        fig, (top, bottom) = _pyplot().subplots(
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


def _legend_label(letter: str, what: str) -> str:
    return f"{letter} ({what})" if what else letter


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
        [_legend_label("P", labels[0]), _legend_label("Q", labels[1])],
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
    step = max(1, math.ceil(k / _MAX_LABELS))
    shown = x[::step]
    names_shown = [_literal(b.outcomes[i]) for i in shown]
    bottom.set_xticks(shown, names_shown)
    slot = fig.get_figwidth() * 72 * 0.8 / max(len(shown), 1)  # points per label
    if max(len(n) for n in names_shown) * 6.5 > slot:
        bottom.tick_params(axis="x", labelrotation=90)
    return fig


def _literal(name: str) -> str:
    """Show a name as written: matplotlib reads text between two $ signs as maths."""
    return name.replace("$", r"\$")


def _evaluate(d: Any, x: _Float, name: str) -> tuple[_Float, _Float]:
    """Return (density, log-density) of ``d`` on ``x``; log-density via logpdf if it has one."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if hasattr(d, "logpdf"):
            log = np.asarray(d.logpdf(x), dtype=np.float64)
            dens = np.exp(log)
        else:
            call: Callable[[_Float], Any] = d
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
    top.plot(x, dens_p, color=COLORS["p"], label=_legend_label("p", labels[0]))
    top.plot(x, dens_q, color=COLORS["q"], linestyle="--", label=_legend_label("q", labels[1]))
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(fig: Figure, path: str | os.PathLike[str], *, dpi: float = 150) -> Path:
    """Write ``fig`` to ``path`` atomically, in the format its extension names.

    The picture is written to a temporary file in the same directory and renamed
    over ``path`` only when complete, so an interrupted run never leaves a
    half-written file (and an existing file stays intact until then). A file that
    is replaced keeps its permission bits; a new one gets the default (0o666 less
    the umask).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, e.g. from :func:`compare`.
    path : str or path
        Where to write; ``.png``, ``.svg``, ``.pdf`` or any format matplotlib writes.
    dpi : float, default 150
        Resolution of raster formats.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        The extension is not a format matplotlib writes, or the directory is missing.
    OSError
        The file cannot be written (permissions, disk full).
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    formats = fig.canvas.get_supported_filetypes()
    if fmt not in formats:
        msg = (
            f"cannot write {str(target)!r}: {target.suffix or 'no extension'} is not a "
            f"picture format; use .png, .svg or .pdf (or .{', .'.join(sorted(formats))})"
        )
        raise ValueError(msg)
    directory = target.parent
    if not directory.is_dir():
        msg = f"cannot write {str(target)!r}: the directory {str(directory)!r} does not exist"
        raise ValueError(msg)
    try:  # replacing a file keeps its permissions (mkstemp's own are 0o600)
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name[:100]}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target
