from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss

import klkit as kl

FAIR = np.full(6, 1 / 6)
LOADED = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])


def test_breakdown_totals_match_scipy_and_terms_sum():
    b = kl.explain(FAIR, LOADED, base=2)
    assert b.entropy == pytest.approx(math.log2(6), rel=1e-15)
    assert b.kl_divergence == pytest.approx(ss.entropy(FAIR, LOADED, base=2), rel=1e-14)
    assert b.cross_entropy == pytest.approx(b.entropy + b.kl_divergence, rel=1e-14)
    # per-outcome terms from their definitions, computed here with NumPy
    np.testing.assert_allclose(b.entropy_terms, -FAIR * np.log2(FAIR), rtol=1e-14)
    np.testing.assert_allclose(b.cross_entropy_terms, -FAIR * np.log2(LOADED), rtol=1e-14)
    np.testing.assert_allclose(b.kl_terms, FAIR * np.log2(FAIR / LOADED), rtol=1e-12)
    assert b.kl_terms.sum() == pytest.approx(b.kl_divergence, rel=1e-14)
    assert b.kl_terms[-1] < 0  # terms can be negative; their sum is not
    assert b.unit == "bits"
    assert b.outcomes == ("1", "2", "3", "4", "5", "6")


def test_breakdown_str_shows_table_unit_and_identity():
    text = str(kl.explain(FAIR, LOADED, base=2, outcomes=list("abcdef")))
    assert "in bits" in text
    assert "H(P,Q) = H(P) + D(P||Q):  2.93494 = 2.58496 + 0.349978" in text
    assert text.splitlines()[2].startswith("a ")
    assert "nats" in str(kl.explain(FAIR, LOADED))
    assert "log-base-3 units" in str(kl.explain(FAIR, LOADED, base=3))


def test_breakdown_is_frozen():
    b = kl.explain([0.5, 0.5], [0.9, 0.1])
    with pytest.raises(AttributeError):
        b.entropy = 0.0


def test_infinite_kl_is_visible_per_outcome():
    b = kl.explain([0.5, 0.5], [1.0, 0.0])
    assert b.kl_divergence == math.inf
    assert b.kl_terms[1] == math.inf
    assert b.kl_terms[0] == pytest.approx(0.5 * math.log(0.5))


def test_series_index_names_outcomes():
    p = pd.Series([0.2, 0.8], index=["rain", "sun"])
    q = pd.Series([0.5, 0.5], index=["rain", "sun"])
    b = kl.explain(p, q)
    assert b.outcomes == ("rain", "sun")
    assert b.kl_divergence == pytest.approx(ss.entropy([0.2, 0.8], [0.5, 0.5]), rel=1e-14)


def test_explain_accepts_logits_labels_and_counts(eager_lib):
    z = np.array([1.0, 2.0, 0.5])
    b = kl.explain(kl.Labels(eager_lib.asarray(np.array(1))), kl.Logits(eager_lib.asarray(z)))
    softmax = np.exp(z) / np.exp(z).sum()
    assert b.kl_divergence == pytest.approx(-math.log(softmax[1]), rel=1e-6)
    np.testing.assert_array_equal(b.p, [0.0, 1.0, 0.0])
    b = kl.explain(
        eager_lib.asarray(np.array([3, 1])), eager_lib.asarray(np.array([1, 1])), normalize=True
    )
    assert b.kl_divergence == pytest.approx(ss.entropy([3, 1], [1, 1]), rel=1e-6)


def test_summary_names_the_largest_terms_and_the_negative_ones():
    p = np.array([0.05, 0.6, 0.05, 0.3])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    names = ["a", "b", "c", "d"]
    text = kl.explain(p, q, outcomes=names).summary()
    terms = p * np.log(p / q)  # the definition, computed here
    biggest = names[int(np.argmax(terms))]
    assert f"outcome {biggest} (+{terms.max():.3g} nats)" in text
    negative = [n for n, t in zip(names, terms, strict=True) if t < 0]
    assert f"Outcomes {negative[0]} and {negative[1]} have negative terms" in text
    assert f"{terms[terms < 0].sum():.3g} nats in all" in text


def test_summary_groups_equal_terms_of_the_die():
    text = kl.explain(FAIR, LOADED, base=2).summary()
    each = (1 / 6) * math.log2((1 / 6) / 0.1)
    assert f"outcomes 1, 2, 3, 4 and 5 (+{each:.3g} bits each)" in text
    assert "Outcome 6 has a negative term" in text


def test_summary_of_an_infinite_kl_names_the_culprit_and_the_fix():
    text = kl.explain([0.5, 0.3, 0.2], [0.5, 0.5, 0.0], outcomes=["x", "y", "z"]).summary()
    assert "infinite" in text
    assert "outcome z (where P = 0.2)" in text
    assert "pseudo-count" in text
    assert "JS divergence" in text


def test_summary_of_equal_distributions_says_so():
    text = kl.explain(LOADED, LOADED).summary()
    assert text.startswith("P and Q are the same distribution")


def test_str_ends_with_the_summary():
    b = kl.explain(FAIR, LOADED, base=2)
    assert " ".join(str(b).split()).endswith(b.summary())


def test_repr_html_is_a_table_with_the_same_numbers():
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.in_cell = False

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            self.in_cell = tag in {"td", "th"}

        def handle_endtag(self, tag):
            self.in_cell = False

        def handle_data(self, data):
            if self.in_cell:
                self.rows[-1].append(data)

    names = ["<b>", "two", "3", "4", "5", "6"]
    b = kl.explain(FAIR, LOADED, base=2, outcomes=names)
    markup = b._repr_html_()
    assert "&lt;b&gt;" in markup  # names are escaped
    assert "in bits" in markup
    assert "2.93494 = 2.58496 + 0.349978" in markup
    parser = Cells()
    parser.feed(markup)
    header, *rows = parser.rows
    assert header == ["outcome", "P", "Q", "-log Q", "-P log Q", "P log(P/Q)"]
    assert [r[0] for r in rows] == names
    kl_column = np.array([float(r[-1]) for r in rows])
    np.testing.assert_allclose(kl_column, FAIR * np.log2(FAIR / LOADED), rtol=1e-5)


def test_infinite_kl_from_an_underflowing_softmax_names_its_outcome():
    # softmax([0, -2000, 1]) puts e^-2001 > 0 on outcome 2, where Q has none: D = inf,
    # and the summary names outcome 2 although P rounds to 0.0 there (found by the fuzz)
    b = kl.explain(kl.Logits(np.array([0.0, -2000.0, 1.0])), kl.Logits([0.0, -np.inf, 1.0]))
    assert b.kl_divergence == np.inf
    assert "outcome 2 (where P > 0, below float64's smallest number)" in b.summary()
    assert "outcome 2" in str(b)
