from __future__ import annotations

import itertools
import math
import os
import stat
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.stats as ss
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Text
from plot_support import FAIR, LOADED, bars, close_figures  # noqa: F401 (autouse)

import klkit as kl
from klkit import plot

# Okabe & Ito (2008), "Color Universal Design": the colour-blind-safe palette
OKABE_ITO = {"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}


def visible_texts(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [
        (t.get_text(), t.get_window_extent(renderer))
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    ]


def test_bars_show_p_q_and_the_kl_terms():
    fig = plot.compare(FAIR, LOADED, base=2)
    assert isinstance(fig, Figure)
    top, bottom = fig.axes
    np.testing.assert_allclose(bars(top, "P").datavalues, FAIR)
    np.testing.assert_allclose(bars(top, "Q").datavalues, LOADED)
    terms = bars(bottom, "P log(P/Q)")
    # the per-outcome KL terms from their definition; their sum from SciPy
    np.testing.assert_allclose(terms.datavalues, FAIR * np.log2(FAIR / LOADED), rtol=1e-12)
    assert terms.datavalues.sum() == pytest.approx(ss.entropy(FAIR, LOADED, base=2))
    assert f"{ss.entropy(FAIR, LOADED, base=2):.3g} bits" in top.get_title()
    # positive and negative terms in different colours
    colours = [to_hex(patch.get_facecolor()) for patch in terms.patches]
    assert colours[0] == colours[4] != colours[5]
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["1", "2", "3", "4", "5", "6"]
    assert bottom.get_ylabel() == "P log(P/Q) [bits]"
    assert top.get_legend() is not None
    assert bottom.get_legend() is not None


def test_colours_are_colour_blind_safe_and_distinct():
    assert {c.lower() for c in plot.COLORS.values()} <= OKABE_ITO
    assert len(set(plot.COLORS.values())) == len(plot.COLORS)
    fig = plot.compare(FAIR, LOADED)
    top, _ = fig.axes
    assert to_hex(bars(top, "P").patches[0].get_facecolor()) == plot.COLORS["p"]
    assert to_hex(bars(top, "Q").patches[0].get_facecolor()) == plot.COLORS["q"]


@pytest.mark.parametrize("k", [2, 6, 20, 50])
def test_no_text_overlaps_for_2_to_50_outcomes(k):
    rng = np.random.default_rng(k)
    names = [f"class_{i:02d}_label" for i in range(k)]
    fig = plot.compare(rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k)), outcomes=names)
    texts = visible_texts(fig)
    for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert len(ticks) <= 25  # thinned when crowded
    assert ticks[0] == names[0]
    width, height = fig.get_size_inches()
    assert 6 <= width <= 16
    assert height == 6.5


def test_infinite_kl_is_marked_not_dropped():
    fig = plot.compare([0.5, 0.3, 0.2], [0.5, 0.5, 0.0])
    top, bottom = fig.axes
    assert "∞" in top.get_title()
    hatched = [p for p in bottom.patches if p.get_hatch()]
    assert len(hatched) == 1
    assert hatched[0].get_x() + hatched[0].get_width() / 2 == pytest.approx(2)
    labels = [t.get_text() for t in bottom.get_legend().get_texts()]
    assert any("Q = 0 where P > 0" in t for t in labels)


def test_equal_distributions_draw_zero_terms():
    fig = plot.compare(LOADED, LOADED)
    np.testing.assert_array_equal(bars(fig.axes[1], "P log(P/Q)").datavalues, 0)
    assert "= 0 nats" in fig.axes[0].get_title()


def test_draws_into_given_axes():
    fig, ax = plt.subplots()
    assert plot.compare(FAIR, LOADED, ax=ax) is fig
    assert len(fig.axes) == 2  # the KL panel appended below the given Axes
    fig, axes = plt.subplots(1, 2)
    assert plot.compare(FAIR, LOADED, ax=axes) is fig
    np.testing.assert_allclose(bars(axes[0], "P").datavalues, FAIR)
    with pytest.raises(TypeError, match="pair of Axes"):
        plot.compare(FAIR, LOADED, ax="left")


def test_accepts_what_explain_accepts():
    z = np.array([2.0, 0.5, -1.0])
    fig = plot.compare(kl.Labels(np.array(0)), kl.Logits(z), outcomes=["a", "b", "c"])
    softmax = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(bars(fig.axes[0], "Q").datavalues, softmax)
    fig = plot.compare([3, 1], [1, 1], normalize=True)
    np.testing.assert_allclose(bars(fig.axes[0], "P").datavalues, [0.75, 0.25])
    with pytest.raises(kl.DistributionError, match="sums to"):
        plot.compare([0.5, 0.6], [0.5, 0.5])


def test_densities_from_scipy_show_the_integrand_and_its_area():
    p, q = ss.norm(0, 1), ss.norm(1, 2)
    # closed form for two normals: log(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2
    exact = math.log(2) + (1 + 1) / (2 * 4) - 0.5
    fig = plot.compare(p, q)
    top, bottom = fig.axes
    assert f"≈ {exact:.3g} nats" in top.get_title()
    x, y = top.lines[0].get_data()
    np.testing.assert_allclose(y, p.pdf(x), rtol=1e-12)
    assert len(bottom.collections) >= 2  # positive and negative parts shaded


def test_densities_as_callables_need_a_support():
    def p(x):
        return np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)

    def q(x):
        return np.exp(-((x - 1) ** 2) / 2) / math.sqrt(2 * math.pi)

    fig = plot.compare(p, q, support=(-10, 10), base=2)
    assert f"≈ {0.5 / math.log(2):.3g} bits" in fig.axes[0].get_title()  # KL = 1/2 nat
    with pytest.raises(ValueError, match=r"support=\(low, high\)"):
        plot.compare(p, q)
    with pytest.raises(ValueError, match="low < high"):
        plot.compare(p, q, support=(1, -1))
    with pytest.raises(TypeError, match="two densities"):
        plot.compare(p, FAIR)
    with pytest.raises(kl.DistributionError, match="x = -10"):
        plot.compare(lambda x: -p(x), q, support=(-10, 10))
    with pytest.raises(TypeError, match=r"numpy\.vectorize"):
        plot.compare(lambda x: 0.5, q, support=(-1, 1))


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")]
)
def test_save_writes_each_format(tmp_path, suffix, magic):
    path = plot.save(plot.compare(FAIR, LOADED), tmp_path / f"die{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [f.name for f in tmp_path.iterdir()] == [f"die{suffix}"]


def test_png_has_the_figure_size_and_several_colours(tmp_path):
    fig = plot.compare(FAIR, LOADED)
    path = plot.save(fig, tmp_path / "die.png", dpi=100)
    pixels = imread(path)
    width, height = fig.get_size_inches() * 100
    assert pixels.shape[:2] == (round(height), round(width))
    colours = {to_hex(px) for px in pixels[:, :, :3].reshape(-1, 3)[::7]}
    assert len(colours) > 10
    for name in ("p", "q", "above", "below"):
        assert plot.COLORS[name] in colours


def test_save_is_atomic_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "picture.png"
    target.write_bytes(b"the old picture")
    fig = plot.compare(FAIR, LOADED)

    def interrupted(self, fh, **kwargs):
        fh.write(b"\x89PNG half a pict")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        plot.save(fig, target)
    assert target.read_bytes() == b"the old picture"
    assert [f.name for f in tmp_path.iterdir()] == ["picture.png"]


def test_saved_file_permissions_follow_the_umask(tmp_path):
    mask = os.umask(0o022)
    try:
        path = plot.save(plot.compare(FAIR, LOADED), tmp_path / "die.png")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_save_refuses_unknown_formats_and_missing_directories(tmp_path):
    fig = plot.compare(FAIR, LOADED)
    with pytest.raises(ValueError, match=r"\.docx is not a picture format"):
        plot.save(fig, tmp_path / "die.docx")
    with pytest.raises(ValueError, match="does not exist"):
        plot.save(fig, tmp_path / "missing" / "die.png")


def test_overwriting_a_file_keeps_its_permission_bits(tmp_path):
    target = tmp_path / "die.png"
    target.write_bytes(b"the old picture")
    target.chmod(0o640)  # not what the umask would give (0o644 under 022)
    mask = os.umask(0o022)
    try:
        plot.save(plot.compare(FAIR, LOADED), target)
    finally:
        os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes().startswith(b"\x89PNG")


def test_outcome_names_are_drawn_as_written_never_as_maths(tmp_path):
    names = ["$x^", "a$b$", "[/]"]  # "$x^" alone fails to parse as mathtext
    fig = plot.compare([0.2, 0.3, 0.5], [0.3, 0.3, 0.4], outcomes=names)
    plot.save(fig, tmp_path / "names.png")  # drawing parses every label
    labels = fig.axes[1].get_xticklabels()
    assert [label._preprocess_math(label.get_text()) for label in labels] == [
        (name, False) for name in names
    ]


def test_densities_take_unit_names_like_explain():
    fig = plot.compare(ss.norm(0, 1), ss.norm(1, 2), base="bits")
    assert fig.axes[0].get_title().endswith("bits")
    fig = plot.compare(ss.norm(0, 1), ss.norm(1, 2), base=10)
    assert fig.axes[0].get_title().endswith("bans")


def test_missing_matplotlib_is_one_line_naming_the_extra():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from klkit.plot import compare\n"
        "try:\n"
        "    compare([0.5, 0.5], [0.3, 0.7])\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "klkit.plot needs matplotlib; install it with: pip install 'klkit[plot]'"
    )
