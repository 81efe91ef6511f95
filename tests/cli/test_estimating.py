"""Estimates from samples and from distributions without a closed form."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from cli_support import as_json, fails, ok, run


def test_a_pair_without_a_closed_form_is_integrated_and_says_so():
    out = ok("kl", "normal(0,1)", "t(3)")
    assert re.search(r"D\(P\|\|Q\) = 0\.0692 nats ± .* \(95% CI .*, quad\)", out), out


def test_samples_give_an_estimate_with_its_interval(tmp_path):
    g = np.random.default_rng(0)
    csv = tmp_path / "xy.csv"
    x, y = g.normal(0, 1, 3000), g.normal(1, 1, 3000)
    csv.write_text("a,b\n" + "".join(f"{u},{v}\n" for u, v in zip(x, y, strict=True)))
    data = as_json("kl", "--samples", f"{csv}:a", f"{csv}:b", "--seed", "0")
    assert set(data) == {
        "measure",
        "value",
        "stderr",
        "ci_low",
        "ci_high",
        "method",
        "n",
        "unit",
        "confidence",
        "note",
    }
    import klkit.estimate as ke

    ref = ke.kl_divergence(x, y, rng=0)
    assert data["value"] == pytest.approx(ref.value, rel=1e-12)
    assert (data["method"], data["n"]) == ("knn", [3000, 3000])
    assert data["ci_low"] < 0.5 < data["ci_high"]
    text = ok("kl", "--samples", f"{csv}:a", f"{csv}:b", "--seed", "0")
    assert text.strip() == f"D(P||Q) = {ref}"


def test_whole_number_samples_are_labels(tmp_path):
    g = np.random.default_rng(1)
    rolls = tmp_path / "rolls.txt"
    rolls.write_text("\n".join(str(v) for v in g.integers(1, 7, 3000)))
    data = as_json("entropy", "--samples", str(rolls), "--smoothing", "0.5")
    assert data["method"] == "plugin"
    assert abs(data["value"] - math.log(6)) < 0.01
    unseen = run("kl", "--samples", "1,1,2,3", "2,2,3,3")
    assert unseen.exit_code == 0
    assert "inf nats" in unseen.stdout
    assert "smoothing=" in unseen.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kl", "normal(0,1)", "0.2,0.8"], "give both as distributions, or pass --samples"),
        (["kl", "foo(1)", "normal(0,1)"], "'foo' is not a distribution klkit knows"),
        (["kl", "normal(0,-1)", "normal(0,1)"], "Normal parameter scale has -1.0"),
        (["kl", "normal(0, x)", "normal(0,1)"], "cannot read 'normal(0, x)' as a distribution"),
        (["cross-entropy", "--samples", "1,2", "1,2"], "no estimator from samples"),
        (["kl", "dirichlet([1, 2])", "dirichlet([1, 1, 1])"], "P has 2 outcomes and Q has 3"),
        (["kl", "mvn([0, 0], [[1, 0], [0, 1]])", "normal(0, 1)"], "P has 2 dimension(s)"),
        (["kl", "normal([0, 1], 1)", "normal(0, 1)"], "is 2 distributions; give one"),
    ],
)
def test_estimate_mistakes_are_one_line(args, message):
    assert message in fails(*args)


def test_samples_may_be_text_labels(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("c\na\nb\na\nc\nc\n")
    table = tmp_path / "grades.csv"
    table.write_text("name,grade\nx,a\ny,b\nz,a\nw,c\n")
    data = as_json("entropy", "--samples", str(labels))
    freq = np.array([2, 1, 3]) / 6
    assert data["value"] == pytest.approx(float(-np.sum(freq * np.log(freq))), rel=1e-12)
    both = as_json("kl", "--samples", str(labels), f"{table}:grade", "--smoothing", "1")
    fp, fq = np.array([3, 2, 4]) / 9, np.array([3, 2, 2]) / 7  # a, b, c, each plus 1
    assert both["value"] == pytest.approx(float(np.sum(fp * np.log(fp / fq))), rel=1e-12)
    assert "name the column of labels" in fails("entropy", "--samples", str(table))
    piped = as_json("entropy", "--samples", "-", stdin="c\na\nb\na\nc\nc\n")
    assert piped["value"] == pytest.approx(data["value"], rel=1e-12)


def test_labels_or_continuous_is_decided_for_both_samples(tmp_path):
    ints, floats = tmp_path / "ints.txt", tmp_path / "floats.txt"
    ints.write_text("1\n2\n3\n2\n4\n1\n")
    floats.write_text("1.5\n2.25\n3.1\n2.7\n0.4\n1.9\n")
    assert as_json("kl", "--samples", str(ints), str(floats))["method"] == "knn"
    message = fails("kl", "--samples", str(ints), str(floats), "--k", "9")
    assert "k must be a whole number of neighbours from 1 to n - 1 = 5; got 9" in message
