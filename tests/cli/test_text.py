"""Distributions written as text: SciPy's argument order, the whole text read."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss
from cli_support import as_json, fails, ok

import klkit as kl
import klkit.cli._read

# --- distributions as text and samples (issue 5) -----------------------------------------


def test_distributions_written_as_text_use_scipys_argument_order():
    data = as_json("kl", "normal(0, 1)", "normal(1, 2)")
    truth = math.log(2) + (1 + 1) / (2 * 4) - 0.5  # log(s2/s1) + (s1^2 + dmu^2)/(2 s2^2) - 1/2
    assert data["method"] == "exact"
    assert data["value"] == pytest.approx(truth, rel=1e-12)
    out = ok("entropy", "gamma(2, scale=3)")
    assert out.startswith("H(P) = ")
    assert float(out.split()[2]) == pytest.approx(ss.gamma(2, scale=3).entropy(), rel=1e-5)
    beta = as_json("kl", "beta(2, 5)", "beta(3, 3)", "--base", "bits")
    ref = kl.kl_divergence(kl.Beta(2.0, 5.0), kl.Beta(3.0, 3.0), base=2)
    assert beta["value"] == pytest.approx(float(ref), rel=1e-12)
    assert beta["unit"] == "bits"


def test_dirichlet_multivariate_normal_and_moved_laws_as_text():
    # closed forms by hand: H(Dirichlet(1, 1, 1)) = -log 2 (uniform on a simplex of area 1/2)
    assert as_json("entropy", "dirichlet([1, 1, 1])")["value"] == pytest.approx(-math.log(2))
    mvn = as_json(
        "kl", "mvn([0, 0], [[2, 0.3], [0.3, 1]])", "multivariate_normal([1, 0], [[1, 0], [0, 1]])"
    )
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    truth = 0.5 * (np.trace(cov) + 1.0 - 2 - math.log(np.linalg.det(cov)))
    assert (mvn["method"], mvn["value"]) == ("exact", pytest.approx(truth, rel=1e-12))
    shifted = as_json("kl", "expon(loc=1)", "expon(loc=0.5)")  # log p/q = 0.5 on x >= 1
    assert (shifted["method"], shifted["value"]) == ("exact", pytest.approx(0.5, rel=1e-14))


# --- distributions written as text: the whole text is read (item 2) ----------------------


@pytest.mark.parametrize(
    ("text", "leftover"),
    [
        ("normal(0,1)(5)", "'(5)' is left over after its closing parenthesis"),
        ("normal(**{'loc': 5})", "\"**{'loc':\" is not a number"),
        ("normal(0, 1) x", "'x' is left over"),
        ("normal(loc=0, 1)", "'1)' is a positional parameter after a named one"),
        ("normal(0, 1", "it ends where ',' or ')' should be"),
        ("normal(0 1)", "'1)' follows a parameter where ',' or ')' should be"),
        ("dirichlet([[[1]]])", "lists nest at most two deep"),
        ("normal(loc=0, loc=1)", "the parameter 'loc' is given twice"),
        ("normal(0, '1')", "\"'1'\" is not a number"),
        ("normal(1" + "0" * 400 + ", 1)", "too large for a 64-bit float"),
    ],
)
def test_distribution_text_the_grammar_does_not_consume_is_an_error(text, leftover):
    message = fails("kl", text, "normal(0, 1)")
    assert "P: cannot read" in message
    assert leftover in message


def test_distribution_text_takes_fractions_and_lists():
    data = as_json("kl", "normal(0, 1/2)", "normal(loc=1, scale=1)")
    # closed form: log(s2/s1) + (s1^2 + dmu^2) / (2 s2^2) - 1/2
    assert data["value"] == pytest.approx(math.log(2) + (0.25 + 1) / 2 - 0.5, rel=1e-13)
    data = as_json("entropy", "dirichlet((1, 1, 1))")
    assert data["value"] == pytest.approx(-math.log(2))
