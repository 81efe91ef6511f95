"""Named outcomes (and named batches) are matched by name."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as ss
from cli_support import as_json, fails, ok

# --- named outcomes are matched by name (the trust issue, item 1) ----------------------------

# P and Q of the issue; the reference aligns them by hand, in P's order: rain, cloud, sun
WEATHER_P = {"rain": 0.2, "cloud": 0.3, "sun": 0.5}
WEATHER_Q = {"sun": 0.4, "rain": 0.3, "cloud": 0.3}
P_ALIGNED, Q_ALIGNED = np.array([0.2, 0.3, 0.5]), np.array([0.3, 0.3, 0.4])


@pytest.fixture
def weather(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.json").write_text(json.dumps(WEATHER_P))
    Path("q.json").write_text(json.dumps(WEATHER_Q))
    Path("p.csv").write_text("outcome,p\nrain,0.2\ncloud,0.3\nsun,0.5\n")
    Path("q.csv").write_text("outcome,q\nsun,0.4\nrain,0.3\ncloud,0.3\n")
    return tmp_path


def js_reference(p, q):
    m = (p + q) / 2
    return (ss.entropy(p, m) + ss.entropy(q, m)) / 2


@pytest.mark.parametrize(("p", "q"), [("p.json", "q.json"), ("p.csv:p", "q.csv:q")])
@pytest.mark.parametrize(
    ("command", "key", "reference"),
    [
        ("kl", "kl_divergence", ss.entropy),  # 0.0304788, not 0.116783
        ("cross-entropy", "cross_entropy", lambda p, q: -np.sum(p * np.log(q))),
        ("js", "js_divergence", js_reference),
    ],
)
def test_named_outcomes_are_matched_by_name_in_every_measure(
    weather, p, q, command, key, reference
):
    value = as_json(command, p, q)[key]
    assert value == pytest.approx(reference(P_ALIGNED, Q_ALIGNED), rel=1e-13)


def test_the_issue_example_prints_the_aligned_kl(weather):
    assert ok("kl", "p.json", "q.json").strip() == "D(P||Q) = 0.0304788 nats"


@pytest.mark.parametrize("command", ["explain", "plot"])
def test_explain_and_plot_align_by_name_instead_of_refusing(weather, command):
    extra = ["-o", "w.png"] if command == "plot" else ["--json"]
    out = ok(command, "p.json", "q.csv:q", *extra)
    if command == "plot":
        assert f"D(P||Q) = {ss.entropy(P_ALIGNED, Q_ALIGNED):.6g} nats" in out
        return
    data = json.loads(out)
    assert data["outcomes"] == ["rain", "cloud", "sun"]
    np.testing.assert_allclose(data["q"], Q_ALIGNED, rtol=0)
    assert data["kl_divergence"] == pytest.approx(ss.entropy(P_ALIGNED, Q_ALIGNED), rel=1e-13)


def test_explain_table_rows_keep_the_names(weather):
    text = ok("explain", "p.json", "q.json")
    assert re.search(r"sun\s+[│|]\s+0\.5\s+[│|]\s+0\.4\s", text)
    assert re.search(r"rain\s+[│|]\s+0\.2\s+[│|]\s+0\.3\s", text)


def test_different_name_sets_list_what_is_missing_on_each_side(weather):
    Path("q2.json").write_text('{"sun": 0.4, "rain": 0.3, "hail": 0.3}')
    message = fails("kl", "p.json", "q2.json")
    assert "P and Q name different outcomes: 'cloud' in P but not in Q; 'hail' in Q" in message
    assert "with probability 0" in message
    assert '"name": 0 in a JSON object' in message


def test_one_named_side_is_matched_by_position_and_names_are_kept(weather):
    data = as_json("explain", "p.json", "0.3,0.3,0.4")
    assert data["outcomes"] == ["rain", "cloud", "sun"]
    assert data["kl_divergence"] == pytest.approx(ss.entropy(P_ALIGNED, Q_ALIGNED), rel=1e-13)
    assert "P names 3 outcomes" in fails("kl", "p.json", "0.5,0.5")


def test_outcomes_option_names_the_unnamed_side_for_matching(weather):
    data = as_json("explain", "p.json", "0.4,0.3,0.3", "--outcomes", "sun,rain,cloud")
    np.testing.assert_allclose(data["q"], Q_ALIGNED, rtol=0)
    assert "drop --outcomes" in fails("explain", "p.json", "q.json", "--outcomes", "a,b,c")


def test_batches_match_outcomes_and_distributions_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text("outcome,m1,m2\nrain,0.2,0.1\ncloud,0.3,0.4\nsun,0.5,0.5\n")
    Path("b.csv").write_text("outcome,m2,m1\nsun,0.4,0.3\nrain,0.3,0.3\ncloud,0.3,0.4\n")
    data = as_json("kl", "a.csv", "b.csv", "--axis", "0")
    assert data["names"] == ["m1", "m2"]
    # by hand, in a.csv's order: m1 of b.csv is (rain, cloud, sun) = (0.3, 0.4, 0.3)
    expected = [
        ss.entropy([0.2, 0.3, 0.5], [0.3, 0.4, 0.3]),
        ss.entropy([0.1, 0.4, 0.5], Q_ALIGNED),
    ]
    np.testing.assert_allclose(data["kl_divergence"], expected, rtol=1e-13)
    # one distribution per row (--axis 1): outcomes are the header, rows the text column
    Path("r1.csv").write_text("name,x,y\nfirst,0.2,0.8\nsecond,0.5,0.5\n")
    Path("r2.csv").write_text("name,y,x\nsecond,0.5,0.5\nfirst,0.6,0.4\n")
    data = as_json("kl", "r1.csv", "r2.csv", "--axis", "1")
    assert data["names"] == ["first", "second"]
    np.testing.assert_allclose(
        data["kl_divergence"], [ss.entropy([0.2, 0.8], [0.4, 0.6]), 0.0], rtol=1e-13, atol=1e-16
    )
    Path("c.csv").write_text("outcome,x,y\nrain,0.2,0.1\ncloud,0.3,0.4\nsun,0.5,0.5\n")
    assert "P and Q name different distributions" in fails("kl", "a.csv", "c.csv", "--axis", "0")


def test_bce_matches_named_elements_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("y.json").write_text('{"a": 1, "b": 0}')
    Path("y_hat.json").write_text('{"b": 0.2, "a": 0.9}')
    data = as_json("bce", "y.json", "y_hat.json")
    np.testing.assert_allclose(data["binary_cross_entropy"], [-math.log(0.9), -math.log(0.8)])
    assert data["names"] == ["a", "b"]
