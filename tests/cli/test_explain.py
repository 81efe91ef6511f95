"""klkit explain: the breakdown table, JSON and the words."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.stats as ss
from cli_support import FAIR, LOADED, as_json, fails, ok

import klkit as kl
import klkit.cli._read

# --- explain ---------------------------------------------------------------------------------


def test_explain_prints_the_table_identity_and_the_words():
    text = ok("explain", FAIR, LOADED, "--base", "bits")
    for outcome in range(1, 6):
        assert re.search(rf"{outcome}\s+[│|]\s+0\.166667\s+[│|]\s+0\.1\s", text)
    assert "-log Q" in text
    assert "P log(P/Q)" in text
    assert "H(P,Q) = H(P) + D(P||Q):  2.93494 = 2.58496 + 0.349978" in text
    assert "outcomes 1, 2, 3, 4 and 5" in text
    assert "in bits" in text


def test_explain_json_has_the_breakdown_fields(files):
    data = as_json("explain", "weather.csv:p", "weather.csv:q", "--base", "2")
    b = kl.explain([0.2, 0.3, 0.5], [0.3, 0.3, 0.4], base=2)
    for key in ("entropy", "cross_entropy", "kl_divergence"):
        assert data[key] == getattr(b, key)
    for key in ("entropy_terms", "cross_entropy_terms", "kl_terms", "p", "q"):
        np.testing.assert_array_equal(data[key], getattr(b, key))
    np.testing.assert_allclose(data["kl_terms"], b.p * np.log2(b.p / b.q), rtol=1e-12)
    assert data["unit"] == "bits"
    assert data["outcomes"] == ["rain", "cloud", "sun"]  # the CSV's text column
    assert data["summary"].startswith("The largest contributions")


def test_explain_outcome_names(files):
    data = as_json("explain", "0.2,0.8", "0.5,0.5", "--outcomes", "heads,tails")
    assert data["outcomes"] == ["heads", "tails"]
    assert as_json("explain", "0.2,0.8", "0.5,0.5")["outcomes"] == ["1", "2"]
    assert as_json("explain", "0.2,0.3,0.5", "weather.json")["outcomes"] == [
        "rain",
        "cloud",
        "sun",
    ]
    text = ok("explain", "weather.csv:p", "weather.csv:q")
    assert re.search(r"rain\s+[│|]\s+0\.2\s", text)


def test_explain_says_why_a_kl_is_infinite():
    text = " ".join(ok("explain", "0.5,0.3,0.2", "0.5,0.5,0").split())
    assert "D(P||Q) is infinite because Q gives probability 0 to outcome 3 (where P = 0.2)" in (
        text
    )
    assert "pseudo-count" in text


# --- distributions written as text ----------------------------------------------------------


def test_explain_tables_two_binomials_over_their_outcomes():
    data = as_json("explain", "binomial(4, 0.5)", "binomial(4,0.3)", "--base", "bits")
    k = np.arange(5)
    p, q = ss.binom.pmf(k, 4, 0.5), ss.binom.pmf(k, 4, 0.3)
    assert data["outcomes"] == ["0", "1", "2", "3", "4"]
    np.testing.assert_allclose(data["p"], p, rtol=1e-13)
    np.testing.assert_allclose(data["q"], q, rtol=1e-13)
    assert data["kl_divergence"] == pytest.approx(ss.entropy(p, q, base=2), rel=1e-13)
    assert data["entropy"] == pytest.approx(ss.binom(4, 0.5).entropy() / math.log(2), rel=1e-13)
    assert data["cross_entropy"] == pytest.approx(-(p * np.log2(q)).sum(), rel=1e-13)
    np.testing.assert_allclose(data["kl_terms"], p * np.log2(p / q), rtol=1e-12)
    text = ok("explain", "binomial(4, 0.5)", "binomial(4,0.3)", "--base", "bits")
    assert re.search(r"3\s+[│|]\s+0\.25\s+[│|]\s+0\.0756\s", text)
    assert "come from outcome 3 (+0.431 bits)" in " ".join(text.split())


def test_explain_of_two_poissons_holds_all_their_mass():
    data = as_json("explain", "poisson(3)", "poisson(4.5)")
    k = np.array([int(o) for o in data["outcomes"]])
    assert k[0] == 0
    np.testing.assert_array_equal(k, np.arange(k[-1] + 1))  # one run of outcomes
    assert ss.poisson.sf(k[-1], 4.5) < 1e-17  # what is left out is below rounding
    np.testing.assert_allclose(data["p"], ss.poisson.pmf(k, 3), rtol=1e-13)
    closed = 3 * math.log(3 / 4.5) + 4.5 - 3  # D(Poisson(a) || Poisson(b)), a closed form
    assert data["kl_divergence"] == pytest.approx(closed, rel=1e-13)
    assert data["entropy"] == pytest.approx(ss.poisson(3).entropy(), rel=1e-13)


def test_explain_shows_where_a_discrete_kl_is_infinite():
    # a Poisson against a binomial: P > 0 beyond Q's last outcome 4
    data = as_json("explain", "poisson(3)", "binomial(4, 0.5)")
    assert data["kl_divergence"] == math.inf
    assert data["outcomes"][5] == "5"
    assert data["kl_terms"][5] == math.inf
    assert data["summary"].startswith(
        f"D(P||Q) is infinite because Q gives probability 0 to outcomes 5 (where P = "
        f"{ss.poisson.pmf(5, 3):.3g}), 6"
    )
    assert " more, which P says can happen" in data["summary"]
    # a geometric starts at 1: the binomial's 0 is what makes it infinite
    data = as_json("explain", "binomial(4, 0.5)", "geometric(0.3)")
    assert data["outcomes"][0] == "0"
    assert data["summary"].startswith(
        "D(P||Q) is infinite because Q gives probability 0 to outcome 0 (where P = 0.0625)"
    )


def test_explain_finds_an_infinite_kl_in_a_tail_below_rounding():
    # P reaches 51 and 1001 with probabilities ~1e-73 and ~1e-3000, where Q has none
    data = as_json("explain", "binomial(100, 0.01)", "binomial(50, 0.01)")
    assert data["kl_divergence"] == math.inf
    assert data["outcomes"][-1] == "51"
    assert data["p"][-1] == pytest.approx(ss.binom.pmf(51, 100, 0.01), rel=1e-10)
    assert "outcome 51 (where P = " in data["summary"]
    data = as_json("explain", "binomial(2000, 0.001)", "binomial(1000, 0.001)")
    assert data["kl_divergence"] == math.inf
    assert data["outcomes"][-1] == "1001"
    assert "outcome 1001 (where P > 0, below float64's smallest number)" in data["summary"]


def test_explain_of_two_densities_gives_the_closed_forms():
    data = as_json("explain", "normal(0, 1)", "normal(1, 2)")
    closed = math.log(2) + (1 + 1) / (2 * 4) - 0.5  # log(s2/s1) + (s1^2 + dm^2)/(2 s2^2) - 1/2
    assert data["kl_divergence"] == pytest.approx(closed, rel=1e-14)
    assert data["entropy"] == pytest.approx(ss.norm().entropy(), rel=1e-14)
    assert data["cross_entropy"] == pytest.approx(data["entropy"] + closed, rel=1e-14)
    assert data["unit"] == "nats"
    assert "no table of outcomes" in data["summary"]
    text = " ".join(ok("explain", "normal(0, 1)", "normal(1, 2)", "--base", "bits").split())
    assert text.startswith("H(P), H(P,Q) and D(P||Q) of two densities, in bits:")
    assert f"D(P||Q) = {closed / math.log(2):.6g} bits (KL divergence: the integral" in text
    assert "(differential entropy of the target P)" in text
    assert "┃" not in text
    heavy = " ".join(ok("explain", "t(1)", "normal(0, 1)").split())
    assert "D(P||Q) = inf nats" in heavy
    assert "D(P||Q) is infinite: where P has mass" in heavy
    same = as_json("explain", "gamma(2, scale=3)", "gamma(2, scale=3)")
    assert same["kl_divergence"] == 0
    assert same["summary"].startswith("P and Q are the same distribution")
    korean = " ".join(ok("explain", "normal(0, 1)", "normal(1, 2)", "--lang", "ko").split())
    assert korean.startswith("두 확률 밀도의 H(P), H(P,Q), D(P||Q) (단위: 내트):")
    assert "P와 Q는 확률 밀도이므로 결과별 표가 없습니다." in korean


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["binomial(4, 0.5)", "0.5,0.5"], "Q: '0.5,0.5' is not a distribution like"),
        (["0.5,0.5", "poisson(2)"], "P: '0.5,0.5' is not a distribution like"),
        (["normal(0, 1)", "poisson(2)"], "is continuous and Q ('poisson(2)') is discrete"),
        (["binomial(4, 0.5)", "binomial(4, 0.3)", "--outcomes", "a,b,c,d,e"], "Drop --outcomes"),
        (["binomial(4, 0.5)", "binomial(4, 0.3)", "--normalize"], "Drop --normalize"),
        (["binomial(4, 0.5)", "binomial(4, 0.3)", "--logits"], "Drop --logits"),
        (["binomial(4, 1.5)", "binomial(4, 0.3)"], "1.5"),
        (["binomial(4", "binomial(4, 0.3)"], "cannot read 'binomial(4' as a distribution"),
    ],
)
def test_explain_of_distributions_says_what_does_not_go(args, words):
    assert words in fails("explain", *args)


def test_explain_of_binomials_far_from_zero_tables_only_their_mass():
    # The mass of binomial(10**8, 0.5) lies within 10**5 outcomes of 5*10**7: the table
    # is that wide, not 5*10**7 outcomes from 0 (once refused as over KLKIT_MAX_SUPPORT),
    # and SciPy's pmf, which sums to 1 - 2.6e-8 there, is renormalised over it.
    n, a, b = 10**8, 0.5, 0.5001
    data = as_json("explain", f"binomial({n}, {a})", f"binomial({n}, {b})")
    assert 50_000 < len(data["outcomes"]) < 200_000
    closed = n * (a * math.log(a / b) + (1 - a) * math.log((1 - a) / (1 - b)))
    assert data["kl_divergence"] == pytest.approx(closed, rel=1e-8)


def test_explain_of_a_distribution_too_wide_to_table(monkeypatch):
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "1000")
    err = fails("explain", "poisson(1e6)", "poisson(1e6)")
    assert "KLKIT_MAX_SUPPORT" in err
    assert "klkit kl" in err


def test_explain_prints_no_negative_zero():
    # -log Q of Q = 1 is -0.0 in floating point; the table shows 0
    text = ok("explain", "0.5,0.5", "1,0")
    assert " -0 " not in text
    row = str(kl.explain([0.5, 0.5], [1.0, 0.0])).splitlines()[2].split()
    assert row[3] == "0"
