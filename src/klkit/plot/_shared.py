"""What the pictures share: the colours, matplotlib on demand, inputs, and saving."""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Float = np.ndarray[Any, np.dtype[np.float64]]

COLORS = {
    "p": "#0072b2",  # blue
    "q": "#e69f00",  # orange
    "above": "#d55e00",  # vermillion: P above Q, the term adds to D(P||Q)
    "below": "#009e73",  # bluish green: P below Q, the term takes away
}
"""The Okabe-Ito colours of the pictures, distinguishable with colour-blindness."""

MAX_LABELS = 25
"""At most this many outcome names along an axis; more are thinned."""
MAX_OUTCOMES = 1000
"""A discrete distribution drawn as bars shows at most this many outcomes."""
TAIL = 1e-12
"""A discrete distribution is drawn where it holds all but this much mass at each end."""


def pyplot() -> Any:
    """Return ``matplotlib.pyplot``, or raise one line naming the extra to install."""
    try:
        import matplotlib.pyplot as plt  # noqa: PLC0415  (optional, heavy)
    except ModuleNotFoundError as e:
        msg = "klkit.plot needs matplotlib; install it with: pip install 'klkit[plot]'"
        raise ModuleNotFoundError(msg, name=e.name) from e
    return plt


def kind(p: Any, q: Any) -> str:
    """Say what the pair is: "density", "pmf" (SciPy discrete distributions) or "array".

    A density is a callable or a distribution object with ``pdf``; a pmf an object
    with ``pmf``; a pair of different kinds is a TypeError saying which is which.
    """
    kinds = [_kind(p), _kind(q)]
    if kinds[0] != kinds[1]:
        words = {
            "density": "a density (a callable or a continuous distribution)",
            "pmf": "a discrete distribution object",
            "array": "probabilities",
        }
        msg = (
            f"`p` is {words[kinds[0]]} but `q` is {words[kinds[1]]}; pass two of the same "
            "kind: two densities, two discrete distributions, or two arrays of probabilities."
        )
        raise TypeError(msg)
    return kinds[0]


def _kind(x: object) -> str:
    if hasattr(x, "pmf") and hasattr(x, "ppf"):
        return "pmf"
    if callable(x) or (hasattr(x, "pdf") and hasattr(x, "ppf")):
        return "density"
    return "array"


def pmf_arrays(p: Any, q: Any, outcomes: Any) -> tuple[Float, Float, tuple[str, ...]]:
    """Tabulate two discrete distributions on the integers where either has mass.

    The range runs from the lower to the upper :data:`TAIL` quantile of either, so
    at most ``2 * TAIL`` of each one's mass is left out (all of it for a finite
    support such as the binomial's, whose ends are inside the range).
    """
    if outcomes is not None:
        msg = (
            "`outcomes` names the outcomes of arrays; discrete distributions name their "
            "own (the integers of their support). Drop outcomes=."
        )
        raise ValueError(msg)
    low = min(float(d.ppf(TAIL)) for d in (p, q))
    high = max(float(d.isf(TAIL)) for d in (p, q))
    if not (np.isfinite(low) and np.isfinite(high)) or high - low + 1 > MAX_OUTCOMES:
        msg = (
            f"the two discrete distributions span the integers {low:.0f} to {high:.0f}, more "
            f"than the {MAX_OUTCOMES} outcomes klkit draws as bars; draw the pmfs yourself "
            "or compare distributions with a narrower range."
        )
        raise ValueError(msg)
    k = np.arange(int(low), int(high) + 1)
    names = tuple(str(v) for v in k.tolist())
    return (
        np.asarray(p.pmf(k), dtype=np.float64),
        np.asarray(q.pmf(k), dtype=np.float64),
        names,
    )


def legend_label(letter: str, what: str) -> str:
    """Return "P (target)", or "P" alone when ``what`` is empty."""
    return f"{letter} ({what})" if what else letter


def outcome_ticks(ax: Any, outcomes: tuple[str, ...], *, inches: float) -> None:
    """Name the outcomes along ``ax``'s x axis: at most :data:`MAX_LABELS`, turned when long.

    ``inches`` is the width the names share; names that need more than their share
    (6.5 points a character) are turned upright.
    """
    step = max(1, math.ceil(len(outcomes) / MAX_LABELS))
    shown = np.arange(len(outcomes))[::step]
    names = [literal(outcomes[i]) for i in shown]
    ax.set_xticks(shown, names)
    slot = inches * 72 / max(len(shown), 1)  # points per name
    if max(len(n) for n in names) * 6.5 > slot:
        ax.tick_params(axis="x", labelrotation=90)


def literal(name: str) -> str:
    """Show a name as written: matplotlib reads text between two $ signs as maths."""
    return name.replace("$", r"\$")


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
        The figure, e.g. from :func:`compare` or :func:`decomposition`.
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
