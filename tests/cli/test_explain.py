"""klkit explain: the breakdown table, JSON and the words."""

from __future__ import annotations

import re

import numpy as np
from cli_support import FAIR, LOADED, as_json, ok

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
