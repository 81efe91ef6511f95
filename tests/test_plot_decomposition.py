"""klkit.plot.decomposition, and discrete SciPy distributions drawn as bars."""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.stats as ss
from matplotlib.colors import to_hex
from matplotlib.image import imread
from matplotlib.text import Text
from plot_support import FAIR, LOADED, bars, close_figures  # noqa: F401 (autouse)

import klkit as kl
from klkit import plot

MINUS = "\N{MINUS SIGN}"


def drawn_texts(fig):
    """(text, box) of every text drawn: tick labels only where a tick is in view."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ticks, in_view = set(), set()
    for ax in fig.axes:
        for axis, labels in ((ax.xaxis, ax.get_xticklabels()), (ax.yaxis, ax.get_yticklabels())):
            low, high = sorted(axis.get_view_interval())
            ticks |= {id(t) for t in labels}
            in_view |= {
                id(t)
                for t, at in zip(labels, axis.get_ticklocs(), strict=True)
                if low - 1e-9 <= at <= high + 1e-9
            }
    return [
        (t.get_text(), Text.get_window_extent(t, renderer))  # an Annotation's text alone
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (id(t) not in ticks or id(t) in in_view)
    ]


def texts_of(ax):
    return [t.get_text() for t in ax.texts]


def test_the_die_numbers_are_drawn_and_equal_independent_values():
    fig = plot.decomposition(FAIR, LOADED, base=2, labels=("fair die", "loaded die"))
    left, right = fig.axes
    h = math.log2(6)  # the fair die's entropy, closed form
    d = ss.entropy(FAIR, LOADED, base=2)  # SciPy's KL divergence
    h_loaded = ss.entropy(LOADED, base=2)
    cross = -np.sum(FAIR * np.log2(LOADED))  # H(P,Q) from its definition
    assert f"{h:.3f} {d:.3f} {cross:.3f} {h_loaded:.3f}" == "2.585 0.350 2.935 2.161"
    assert right.get_title() == "H(P) + D(P‖Q) = H(P,Q)\n2.585 + 0.350 = 2.935 bits"
    drawn = texts_of(right)
    assert "H(P)\n2.585" in drawn  # in the entropy's bar
    assert "H(Q)\n2.161" in drawn
    assert "D(P‖Q)\n= 0.350" in drawn  # beside the KL's part
    assert "D(Q‖Q)\n= 0" in drawn
    assert "H(P,Q)\n= 2.935" in drawn  # above the bar
    assert "H(Q,Q)\n= 2.161" in drawn
    assert "D(P‖Q) = 0.350 bits" in left.get_title()
    # each outcome's term, written over it: P log2(P/Q) from its definition
    terms = FAIR * np.log2(FAIR / LOADED)
    assert texts_of(left) == [f"{t:+.3f}".replace("-", MINUS) for t in terms]
    assert texts_of(left)[0] == "+0.123"
    assert texts_of(left)[5] == f"{MINUS}0.264"


def test_the_stacked_bars_heights_are_the_entropy_and_the_kl():
    fig = plot.decomposition(FAIR, LOADED, base=2)
    right = fig.axes[1]
    entropy = bars(right, "entropy")
    divergence = bars(right, "KL divergence")
    heights = [patch.get_height() for patch in entropy.patches]
    np.testing.assert_allclose(heights, [math.log2(6), ss.entropy(LOADED, base=2)], rtol=1e-12)
    assert [patch.get_y() for patch in entropy.patches] == [0, 0]
    top = divergence.patches
    assert top[0].get_height() == pytest.approx(ss.entropy(FAIR, LOADED, base=2), rel=1e-12)
    assert top[0].get_y() == pytest.approx(math.log2(6), rel=1e-12)  # stacked on H(P)
    assert top[0].get_y() + top[0].get_height() == pytest.approx(
        -np.sum(FAIR * np.log2(LOADED)), rel=1e-12
    )
    assert top[1].get_height() == 0  # the loaded die against itself
    assert to_hex(entropy.patches[0].get_facecolor()) == plot.COLORS["p"]
    assert to_hex(entropy.patches[1].get_facecolor()) == plot.COLORS["q"]
    assert to_hex(top[0].get_facecolor()) == plot.COLORS["above"]
    assert [t.get_text().split("\n")[0] for t in right.get_xticklabels()] == [
        "P vs Q",
        "Q vs itself",
    ]


def test_per_outcome_bars_and_the_gaps_between_them():
    fig = plot.decomposition(FAIR, LOADED, outcomes=list("123456"))
    left = fig.axes[0]
    p, q, gap = bars(left, "P"), bars(left, "Q"), bars(left, "gap")
    np.testing.assert_array_equal([r.get_height() for r in p.patches], FAIR)
    np.testing.assert_array_equal([r.get_height() for r in q.patches], LOADED)
    # each gap runs from the shorter bar to the taller one, over the shorter
    for i, rect in enumerate(gap.patches):
        low, high = sorted([FAIR[i], LOADED[i]])
        assert rect.get_y() == pytest.approx(low)
        assert rect.get_y() + rect.get_height() == pytest.approx(high)
        shorter = q if FAIR[i] > LOADED[i] else p
        assert rect.get_x() == pytest.approx(shorter.patches[i].get_x())
    colours = [to_hex(rect.get_edgecolor()) for rect in gap.patches]
    assert colours == [plot.COLORS["above"]] * 5 + [plot.COLORS["below"]]
    assert [t.get_text() for t in left.get_xticklabels()] == list("123456")
    legend = [t.get_text() for t in left.get_legend().get_texts()]
    assert legend[:2] == ["P (target)", "Q (prediction)"]
    assert any("P > Q" in t for t in legend)
    assert any("P < Q" in t for t in legend)


@pytest.mark.parametrize(
    ("p", "q", "options"),
    [
        (FAIR, LOADED, {"base": 2, "labels": ("fair die", "loaded die")}),
        ([0.5, 0.3, 0.2], [0.5, 0.5, 0.0], {}),  # infinite KL
        ([1, 0, 0], [0.999, 0.0005, 0.0005], {"base": 2}),  # tiny stacks
        ([1, 0, 0], [1 / 3, 1 / 3, 1 / 3], {}),  # H(P) = 0
        ([1e-9, 1 - 1e-9], [1 - 1e-9, 1e-9], {}),  # entropies far below the KL
        (LOADED, LOADED, {}),
        (FAIR, LOADED, {"q_itself": False, "base": 3}),
    ],
)
def test_no_text_overlaps_and_all_of_it_is_inside_the_picture(p, q, options):
    fig = plot.decomposition(p, q, **options)
    texts = drawn_texts(fig)
    for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    whole = fig.bbox
    for text, box in texts:
        assert whole.x0 <= box.x0, text
        assert box.x1 <= whole.x1, text
        assert whole.y0 <= box.y0, text
        assert box.y1 <= whole.y1, text


@pytest.mark.parametrize("k", [2, 5, 9, 12, 13, 30, 50])
def test_no_text_overlaps_for_2_to_50_outcomes(k):
    for seed in range(3):
        rng = np.random.default_rng(100 * k + seed)
        names = [f"class_{i:02d}" for i in range(k)]
        p, q = rng.dirichlet(np.full(k, 0.3)), rng.dirichlet(np.full(k, 0.3))
        fig = plot.decomposition(p, q, outcomes=names)
        texts = drawn_texts(fig)
        for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
            assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r} (k={k}, seed={seed})"
        terms = texts_of(fig.axes[0])
        assert len(terms) == (k if k <= 12 else 0)  # written over each outcome up to 12
        plt.close(fig)


def test_an_infinite_kl_is_hatched_to_the_top_and_written():
    fig = plot.decomposition([0.5, 0.3, 0.2], [0.5, 0.5, 0.0])
    left, right = fig.axes
    top = bars(right, "KL divergence").patches[0]
    assert top.get_hatch() == "//"
    assert top.get_y() + top.get_height() <= right.get_ylim()[1]
    assert "D(P‖Q)\n= ∞" in texts_of(right)
    assert "H(P,Q)\n= ∞" in texts_of(right)
    assert texts_of(left)[2] == "+∞"  # Q = 0 where P = 0.2
    assert "= ∞ nats" in left.get_title()


def test_numbers_follow_the_base():
    fig = plot.decomposition(FAIR, LOADED)  # nats
    assert (
        fig.axes[1]
        .get_title()
        .endswith(
            f"{math.log(6):.3f} + {ss.entropy(FAIR, LOADED):.3f} = "
            f"{-np.sum(FAIR * np.log(LOADED)):.3f} nats"
        )
    )
    assert fig.axes[1].get_ylabel() == "nats per outcome"
    fig = plot.decomposition(FAIR, LOADED, base=10)
    assert fig.axes[1].get_title().endswith(f"= {-np.sum(FAIR * np.log10(LOADED)):.3f} bans")


def test_accepts_what_explain_accepts_and_draws_into_given_axes():
    z = np.array([2.0, 0.5, -1.0])
    fig = plot.decomposition(kl.Labels(np.array(0)), kl.Logits(z))
    softmax = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(bars(fig.axes[0], "Q").datavalues, softmax)
    assert bars(fig.axes[1], "entropy").datavalues[0] == 0  # a one-hot P
    fig = plot.decomposition([3, 1], [1, 1], normalize=True)
    np.testing.assert_allclose(bars(fig.axes[0], "P").datavalues, [0.75, 0.25])
    fig, axes = plt.subplots(1, 2)
    assert plot.decomposition(FAIR, LOADED, ax=axes) is fig
    assert len(bars(axes[1], "entropy").patches) == 2
    with pytest.raises(TypeError, match="pair of matplotlib Axes"):
        plot.decomposition(FAIR, LOADED, ax=axes[0])
    with pytest.raises(kl.DistributionError, match="sums to"):
        plot.decomposition([0.5, 0.6], [0.5, 0.5])


def test_densities_are_refused_with_the_function_that_draws_them():
    with pytest.raises(TypeError, match=r"klkit\.plot\.compare"):
        plot.decomposition(ss.norm(0, 1), ss.norm(1, 2))
    with pytest.raises(TypeError, match="same kind"):
        plot.decomposition(ss.binom(4, 0.5), FAIR)


def test_the_png_shows_the_colours(tmp_path):
    fig = plot.decomposition(FAIR, LOADED, base=2)
    pixels = imread(plot.save(fig, tmp_path / "die.png", dpi=100))
    colours = {to_hex(px) for px in pixels[:, :, :3].reshape(-1, 3)[::5]}
    for name in ("p", "q", "above"):
        assert plot.COLORS[name] in colours


# --- discrete SciPy distributions ------------------------------------------------------------


def test_discrete_distributions_are_bars_on_their_support():
    p, q = ss.binom(10, 0.5), ss.binom(10, 0.3)
    k = np.arange(11)
    fig = plot.compare(p, q)
    top, bottom = fig.axes
    np.testing.assert_allclose(bars(top, "P").datavalues, p.pmf(k), rtol=1e-12)
    np.testing.assert_allclose(bars(top, "Q").datavalues, q.pmf(k), rtol=1e-12)
    exact = ss.entropy(p.pmf(k), q.pmf(k))  # the whole support: the exact KL
    assert bars(bottom, "P log(P/Q)").datavalues.sum() == pytest.approx(exact, rel=1e-12)
    assert [t.get_text() for t in bottom.get_xticklabels()] == [str(i) for i in k]
    fig = plot.decomposition(p, q, base=2)
    kl_part = bars(fig.axes[1], "KL divergence").patches[0].get_height()
    assert kl_part == pytest.approx(ss.entropy(p.pmf(k), q.pmf(k), base=2), rel=1e-12)


def test_an_infinite_support_is_cut_where_its_tails_are_negligible():
    p, q = ss.poisson(3), ss.poisson(4)
    fig = plot.compare(p, q)
    drawn = bars(fig.axes[0], "P").datavalues
    np.testing.assert_allclose(drawn, p.pmf(np.arange(len(drawn))), rtol=1e-12)  # from 0
    last = len(drawn) - 1
    assert p.sf(last) < 1e-12  # beyond the last outcome drawn: less than 1e-12 of each
    assert q.sf(last) < 1e-12
    assert q.sf(last - 1) >= 1e-12  # and no further than that
    # closed form for two Poissons: l1 log(l1/l2) + l2 - l1
    exact = 3 * math.log(3 / 4) + 4 - 3
    terms = bars(fig.axes[1], "P log(P/Q)").datavalues
    assert terms.sum() == pytest.approx(exact, rel=1e-9)


def test_discrete_distributions_out_of_range_or_named_are_refused():
    with pytest.raises(ValueError, match="more than the 1000 outcomes"):
        plot.compare(ss.poisson(1e6), ss.poisson(1e6))
    with pytest.raises(ValueError, match="Drop outcomes="):
        plot.compare(ss.binom(2, 0.5), ss.binom(2, 0.3), outcomes=["a", "b", "c"])
    with pytest.raises(TypeError, match="discrete distribution object"):
        plot.compare(ss.binom(2, 0.5), ss.norm(0, 1))
