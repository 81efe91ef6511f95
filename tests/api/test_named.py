"""Outcomes named by pandas objects and dicts are aligned by name, never by position.

Expected values are computed by hand from the formulas on pairs put in the same order
first (``sum p log(p/q)`` of the reordered NumPy arrays), never by klkit on the named
inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import klkit as kl

WEATHER_P = {"rain": 0.2, "cloud": 0.3, "sun": 0.5}
WEATHER_Q = {"sun": 0.4, "rain": 0.3, "cloud": 0.3}
# the issue's pair: sum p log(p/q) in P's order
KL_WEATHER = 0.2 * math.log(0.2 / 0.3) + 0.3 * math.log(0.3 / 0.3) + 0.5 * math.log(0.5 / 0.4)


def test_the_issues_pair_in_every_spelling():
    assert abs(KL_WEATHER - 0.0304788) < 1e-7  # the issue's number
    p, q = pd.Series(WEATHER_P), pd.Series(WEATHER_Q)
    for a, b in [(p, q), (WEATHER_P, WEATHER_Q), (p, WEATHER_Q), (kl.LogProbs(np.log(p)), q)]:
        assert kl.kl_divergence(a, b) == pytest.approx(KL_WEATHER, rel=1e-14)
    assert kl.explain(p, q).kl_divergence == pytest.approx(KL_WEATHER, rel=1e-14)
    assert kl.explain(p, q).outcomes == ("rain", "cloud", "sun")


@pytest.mark.parametrize("measure", [kl.cross_entropy, kl.kl_divergence, kl.js_divergence])
def test_every_measure_aligns(measure):
    p, q = pd.Series(WEATHER_P), pd.Series(WEATHER_Q)
    same_order = q[p.index].to_numpy()
    assert measure(p, q) == pytest.approx(float(measure(p.to_numpy(), same_order)), rel=1e-15)


def test_different_names_list_what_is_missing_on_each_side():
    p = pd.Series({"rain": 0.5, "sun": 0.5})
    q = pd.Series({"sun": 0.5, "fog": 0.5})
    with pytest.raises(kl.DistributionError) as e:
        kl.kl_divergence(p, q)
    text = str(e.value)
    assert "'rain' in `p` but not in `q`" in text
    assert "'fog' in `q` but not in `p`" in text
    assert "probability 0" in text
    with pytest.raises(kl.DistributionError, match="'fog' in `q` but not in `p`"):
        kl.explain(p, q)


def test_duplicate_names_are_an_error():
    p = pd.Series([0.5, 0.5], index=["a", "a"])
    with pytest.raises(kl.DistributionError, match="names the outcome 'a' twice"):
        kl.kl_divergence(p, pd.Series({"a": 0.5, "b": 0.5}))


def test_one_named_side_is_used_by_position_and_keeps_its_names():
    p = pd.Series(WEATHER_P)
    q = np.array([0.3, 0.3, 0.4])  # rain, cloud, sun by position
    want = 0.2 * math.log(0.2 / 0.3) + 0.5 * math.log(0.5 / 0.4)
    assert kl.kl_divergence(p, q) == pytest.approx(want, rel=1e-14)
    assert kl.explain(q, p).outcomes == ("rain", "cloud", "sun")
    with pytest.raises(kl.DistributionError, match=r"names 3 outcomes .* `q` has 2 unnamed"):
        kl.kl_divergence(p, np.array([0.5, 0.5]))


def test_dataframes_align_columns_and_rows():
    p = pd.DataFrame({"a": [0.2, 0.6], "b": [0.8, 0.4]}, index=["x", "y"])
    q = pd.DataFrame({"b": [0.5, 0.1], "a": [0.5, 0.9]}, index=["y", "x"])
    # row x: p = (0.2, 0.8) against q = (0.9, 0.1); row y: (0.6, 0.4) against (0.5, 0.5)
    want = [
        0.2 * math.log(0.2 / 0.9) + 0.8 * math.log(0.8 / 0.1),
        0.6 * math.log(0.6 / 0.5) + 0.4 * math.log(0.4 / 0.5),
    ]
    np.testing.assert_allclose(kl.kl_divergence(p, q), want, rtol=1e-14)
    # outcomes along axis 0: the index names them
    np.testing.assert_allclose(kl.kl_divergence(p.T, q.T, axis=0), want, rtol=1e-14)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8).flatmap(lambda k: st.tuples(st.permutations(range(k)), st.just(k))))
def test_any_order_gives_the_same_answer(perm_k):
    perm, k = perm_k
    g = np.random.default_rng(k)
    p, q = g.dirichlet(np.ones(k)), g.dirichlet(np.ones(k))
    names = [f"o{i}" for i in range(k)]
    ps = pd.Series(p, index=names)
    qs = pd.Series(q, index=names).iloc[list(perm)]
    for measure in (kl.kl_divergence, kl.cross_entropy, kl.js_divergence):
        assert measure(ps, qs) == pytest.approx(float(measure(p, q)), rel=1e-14)
