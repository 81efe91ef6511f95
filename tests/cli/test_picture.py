"""klkit plot and klkit demo."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as ss
from cli_support import FAIR, LOADED, fails, ok
from matplotlib.image import imread

# --- plot and demo ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "magic"), [("out.png", b"\x89PNG"), ("out.svg", b"<?xml")])
def test_plot_writes_the_picture(files, name, magic):
    text = ok("plot", FAIR, LOADED, "--base", "bits", "-o", name)
    assert f"wrote {name}" in text
    assert Path(name).read_bytes().startswith(magic)
    ok("plot", "weather.csv:p", "weather.csv:q", "--output", "weather.pdf")
    assert Path("weather.pdf").read_bytes().startswith(b"%PDF")


def test_demo_prints_the_die_example_and_writes_the_picture(files):
    text = " ".join(ok("demo").split())
    assert "2.93494 = 2.58496 + 0.349978" in text  # fair vs loaded
    assert "2.16096 = 2.16096 + 0" in text  # the loaded die against itself
    assert "The loaded die has the higher cross-entropy" in text
    assert "wrote klkit-demo.png: P and Q per face" in text
    assert "H(P,Q) = H(P) + D(P||Q) as a stacked bar" in text
    height, width, _ = imread("klkit-demo.png").shape
    assert width > 1.8 * height  # the two panels side by side
    assert [p.name for p in Path().glob(".klkit-demo*")] == []  # no temporary file left
    ok("demo", "-o", "die.svg", "--base", "nats")
    assert Path("die.svg").read_bytes().startswith(b"<?xml")


def _printed_kl(text: str) -> float:
    match = re.search(r"D\(P\|\|Q\) = (\S+) (\w+)", text)
    assert match is not None, text
    return float(match.group(1))


def test_plot_draws_distributions_written_as_text(files):
    text = ok("plot", "binomial(10, 0.5)", "binomial(10,0.3)", "-o", "b.png")
    assert text.startswith("wrote b.png: D(P||Q) = ")
    k = np.arange(11)  # the whole support: SciPy's KL is exact
    exact = ss.entropy(ss.binom(10, 0.5).pmf(k), ss.binom(10, 0.3).pmf(k))
    assert _printed_kl(text) == pytest.approx(exact, rel=1e-5)
    assert "nats (exact)" in text
    assert Path("b.png").read_bytes().startswith(b"\x89PNG")
    text = ok("plot", "normal(0,1)", "normal(1,2)", "--base", "bits", "-o", "n.svg")
    # closed form for two normals, in bits: (log 2 + (1 + 1) / 8 - 1/2) / log 2
    assert _printed_kl(text) == pytest.approx((math.log(2) - 0.25) / math.log(2), rel=1e-5)
    assert "bits" in text
    assert Path("n.svg").read_bytes().startswith(b"<?xml")
    text = ok("plot", "poisson(3)", "binomial(10, 0.3)", "-o", "inf.png")
    assert "D(P||Q) = inf nats" in text  # the Poisson reaches past 10


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["binomial(4,0.5)", "0.2,0.8"], "Q: '0.2,0.8' is not a distribution"),
        (["normal(0,1)", "poisson(2)"], "is continuous and Q"),
        (["dirichlet([1,2])", "dirichlet([2,2])"], "distribution of vectors"),
        (["poisson(1e6)", "poisson(1e6)"], "more than the 1000 outcomes"),
        (["binomial(4,0.5)", "binomial(4,0.3)", "--normalize"], "Drop --normalize."),
        (["binomial(4,0.5)", "binomial(4,0.3)", "--outcomes", "a,b,c,d,e"], "Drop --outcomes."),
    ],
)
def test_plot_refuses_what_it_cannot_draw(files, args, words):
    assert words in fails("plot", *args, "-o", "x.png")
    assert not Path("x.png").exists()
