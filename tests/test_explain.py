from __future__ import annotations

import math

import numpy as np
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
    pd = pytest.importorskip("pandas")
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
