"""``klkit plot`` and ``klkit demo``: pictures drawn with :mod:`klkit.plot`."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer

import klkit as kl
from klkit._api._i18n import tr, unit_words
from klkit.cli._app import command
from klkit.cli._explain import breakdown, text_pair
from klkit.cli._options import (
    MEASURE_SETTINGS,
    Base,
    Debug,
    Lang,
    LogitsFlag,
    Normalize,
    Outcomes,
    Output,
    PArg,
    QArg,
    QLogits,
    logit_names,
    parse_base,
    parse_lang,
)
from klkit.cli._read import file_status
from klkit.cli._render import fmt, out, print_breakdown
from klkit.cli._values import UserError, quote

_PICTURE_FORMATS = (".png", ".svg", ".pdf")


def _check_output(path: Path) -> None:
    if path.suffix.lower() not in _PICTURE_FORMATS:
        msg = (
            f"-o: {quote(str(path))} is not a picture format klkit writes; end the name with "
            f"{', '.join(_PICTURE_FORMATS)}."
        )
        raise UserError(msg)
    parent = file_status(str(path.parent))
    if parent is None or not stat.S_ISDIR(parent.st_mode):
        msg = (
            f"-o: the directory {quote(str(path.parent))} does not exist; create it or pick "
            "another path."
        )
        raise UserError(msg)
    target = file_status(str(path))
    if target is not None and stat.S_ISDIR(target.st_mode):
        msg = (
            f"-o: {quote(str(path))} is a directory; give a file name ending in .png, .svg or .pdf."
        )
        raise UserError(msg)


def _write_picture(draw: Callable[[Any], Any], path: Path) -> None:
    """Draw with ``klkit.plot`` on the Agg backend and save atomically."""
    try:
        import matplotlib as mpl  # noqa: PLC0415  (the plot extra, loaded only to draw)
    except ModuleNotFoundError:
        msg = "drawing needs matplotlib; install it with: pip install 'klkit[plot]'"
        raise ModuleNotFoundError(msg) from None
    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from klkit import plot  # noqa: PLC0415

    fig = draw(plot)
    try:
        plot.save(fig, path)
    except OSError as e:
        msg = (
            f"-o: cannot write {quote(str(path))} ({e.strerror or e}); check the directory's "
            "permissions."
        )
        raise UserError(msg) from None
    finally:
        plt.close(fig)


@command(
    "plot",
    examples=[
        "klkit plot 1/6,1/6,1/6,1/6,1/6,1/6 0.1,0.1,0.1,0.1,0.1,0.5 --base bits -o die.png",
        "klkit plot 0.2,0.3,0.5 0.3,0.3,0.4 --outcomes rain,cloud,sun -o weather.svg",
        'klkit plot "binomial(10, 0.5)" "binomial(10, 0.3)" -o binomials.png',
        'klkit plot "normal(0, 1)" "normal(1, 2)" -o normals.png',
    ],
    **MEASURE_SETTINGS,
)
def plot(
    ctx: typer.Context,
    p: PArg,
    q: QArg,
    output: Output = Path("klkit-plot.png"),
    base: Base = "e",
    normalize: Normalize = False,
    logits: LogitsFlag = False,
    q_logits: QLogits = False,
    outcomes: Outcomes = None,
    debug: Debug = False,
) -> None:
    """Draw P and Q side by side and, below, the KL terms P log(P/Q) whose sum is D(P||Q).

    P and Q may be distributions written as text, as for klkit kl:
    discrete ones (binomial, poisson) are drawn as bars, continuous ones
    (normal, gamma) as curves with the integrand p log(p/q) shaded.
    """
    _check_output(output)
    pair = text_pair(p, q, normalize=normalize, logits=logits, q_logits=q_logits, outcomes=outcomes)
    if pair is not None:
        _plot_distributions({"P": p, "Q": q}, pair[0], output, base=base)
        return
    b = breakdown(
        ctx,
        p,
        q,
        base=base,
        normalize=normalize,
        logit_names=logit_names(normalize=normalize, logits=logits, q_logits=q_logits),
        outcomes=outcomes,
    )
    _write_picture(lambda plot: plot.compare(b.p, b.q, base=b.base, outcomes=b.outcomes), output)
    out.print(f"wrote {output}: D(P||Q) = {fmt(b.kl_divergence, None)} {b.unit}")


def _plot_distributions(
    args: dict[str, str], dists: dict[str, Any], output: Path, *, base: str
) -> None:
    """Draw two distributions written as text; print their KL as ``klkit kl`` does."""
    import klkit.estimate as ke  # noqa: PLC0415  (needs SciPy: the cli extra has it)

    for name, d in dists.items():
        if not hasattr(d, "ppf"):
            msg = (
                f"{name}: {quote(args[name])} is a distribution of vectors; klkit plot draws "
                "distributions of one number, such as normal(0, 1) or binomial(10, 0.5)."
            )
            raise UserError(msg)
    log_base = parse_base(base)

    def draw(plot: Any) -> Any:
        try:
            return plot.compare(
                dists["P"], dists["Q"], base=log_base.value, labels=(args["P"], args["Q"])
            )
        except ValueError as e:  # a discrete range too wide to draw as bars
            raise UserError(str(e)) from None

    _write_picture(draw, output)
    try:
        est = ke.kl_divergence(dists["P"], dists["Q"], base=log_base.value)
    except ValueError as e:  # the estimator's own precise message
        raise UserError(str(e)) from None
    shown = f"{fmt(est.value, None)} {est.unit} (exact)" if est.method == "exact" else str(est)
    out.print(f"wrote {output}: D(P||Q) = {shown}")


@command(
    "demo", examples=["klkit demo", "klkit demo -o die.svg --base nats", "klkit demo --lang ko"]
)
def demo(
    output: Output = Path("klkit-demo.png"),
    base: Base = "bits",
    lang: Lang = None,
    debug: Debug = False,
) -> None:
    """Show the founding post's example: a fair die (P) against a loaded die (Q)."""
    _check_output(output)
    log_base, language = parse_base(base).value, parse_lang(lang)
    fair = np.full(6, 1 / 6)
    loaded = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
    faces = ("1", "2", "3", "4", "5", "6")
    b = kl.explain(fair, loaded, base=log_base, outcomes=faces, lang=language)
    same = kl.explain(loaded, loaded, base=log_base, outcomes=faces, lang=language)
    _write_picture(  # first: a file that cannot be written is an error before any output
        lambda plot: plot.decomposition(
            fair, loaded, base=log_base, outcomes=faces, labels=("fair die", "loaded die")
        ),
        output,
    )
    out.print(
        tr(
            language,
            "The world rolls a fair die (P); we predict it with a loaded die (Q) that shows "
            "6 half the time.",
        )
        + "\n"
    )
    print_breakdown(b, None)
    out.print("\n" + tr(language, "The loaded die against itself (P = Q = the loaded die):") + "\n")
    print_breakdown(same, None)
    # H(P,Q) > H(P) unless Q = P (Gibbs' inequality): the loaded die's code costs more
    out.print(
        "\n"
        + tr(
            language,
            "The loaded die has the higher cross-entropy: coding fair rolls with the loaded "
            "die's code costs H(P,Q) = {ce} {unit} per roll, against H(P) = {h} {unit} with "
            "the fair die's own, because it bets half its probability on a 6 that comes up "
            "only one roll in six; the excess, D(P||Q) = {kl} {unit}, is the KL divergence. "
            "Against itself the loaded die costs only its entropy, {same} {unit}, less than "
            "the fair die's: it is less random, and the extra cost comes from the mismatch, "
            "not from randomness.",
            ce=format(b.cross_entropy, ".4g"),
            h=format(b.entropy, ".4g"),
            kl=format(b.kl_divergence, ".4g"),
            same=format(same.entropy, ".4g"),
            unit=unit_words(b.base, language),
        )
    )
    out.print(
        "\n"
        + tr(
            language,
            "wrote {path}: P and Q per face with the gap each contributes, and "
            "H(P,Q) = H(P) + D(P||Q) as a stacked bar beside the loaded die against itself.",
            path=output,
        )
    )
