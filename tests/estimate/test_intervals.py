"""klkit.estimate's intervals: jackknife coverage, seeds, ranges, units, printing."""

from __future__ import annotations

import math
import re

import mpmath as mp
import numpy as np
import pytest
from estimate_reference import FAIR, H_STD_NORMAL, LOADED, mp_kl

import klkit as kl
import klkit.estimate as ke

NORMAL_LAPLACE = mp_kl(  # KL(N(0, 1) || Laplace(0, 1)), the Monte Carlo reference
    lambda x: -x * x / 2 - mp.log(mp.sqrt(2 * mp.pi)),
    lambda x: -abs(x) - mp.log(2),
    -mp.inf,
    mp.inf,
)


@pytest.mark.slow
def test_confidence_intervals_cover_the_truth_over_repeated_draws():
    g = np.random.default_rng(5)
    reps, n = 200, 200
    hit = {"knn kl": 0, "knn entropy": 0, "plugin kl": 0, "mc": 0}
    for r in range(reps):
        x, y = g.normal(0, 1, n), g.normal(1, 1, n)
        e = ke.kl_divergence(x, y, rng=r)
        hit["knn kl"] += e.ci_low <= 0.5 <= e.ci_high
        h = ke.entropy(x, rng=r)
        hit["knn entropy"] += h.ci_low <= H_STD_NORMAL <= h.ci_high
        a, b = g.choice(6, n, p=FAIR), g.choice(6, n, p=LOADED)
        p = ke.kl_divergence(a, b, rng=r)
        hit["plugin kl"] += p.ci_low <= 0.2425859731 <= p.ci_high
        m = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", n=500, rng=r)
        hit["mc"] += m.ci_low <= NORMAL_LAPLACE <= m.ci_high
    coverage = {k: v / reps for k, v in hit.items()}
    assert all(c >= 0.9 for c in coverage.values()), coverage


def test_the_same_seed_gives_the_same_estimate():
    g = np.random.default_rng(6)
    x, y = g.normal(0, 1, 500), g.normal(0.5, 1, 500)
    assert ke.kl_divergence(x, y, rng=7) == ke.kl_divergence(x, y, rng=7)
    a = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", rng=3, n=1000)
    b = ke.kl_divergence(
        kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", rng=np.random.default_rng(3), n=1000
    )
    assert a == b
    c = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", rng=4, n=1000)
    assert c.value != a.value


def test_estimate_reads_well_and_converts_to_float():
    g = np.random.default_rng(12)
    est = ke.kl_divergence(g.normal(0, 1, 1000), g.normal(1, 1, 1000), rng=0)
    number = r"-?[\d.e+-]+"
    pattern = rf"^{number} nats ± {number} \(95% CI {number}\u2013{number}, kNN, n=1000/1000\)$"
    assert re.match(pattern, str(est)), str(est)
    assert float(est) == est.value
    bits = ke.kl_divergence(g.normal(0, 1, 1000), g.normal(1, 1, 1000), rng=0, base=2)
    assert bits.unit == "bits"
    assert "bits" in str(bits)


def test_groups_none_skips_the_interval_and_small_groups_are_refused():
    x = np.random.default_rng(0).normal(size=200)
    est = ke.entropy(x, groups=None, rng=0)
    assert math.isnan(est.stderr)
    assert "no interval" in str(est)
    assert "nan" not in str(est)
    for groups in (0, 1, 2.5, True):
        with pytest.raises(ValueError, match=r"`groups` must be a whole number >= 2"):
            ke.entropy(x, groups=groups)
    with pytest.raises(ValueError, match=r"`confidence` must be a number between 0 and 1"):
        ke.entropy(x, confidence=95)


def test_kl_intervals_never_go_below_zero():
    # Two samples of one law: the kNN KL is 0 give or take noise, its interval at n = 40
    # is about +-0.8, so without the cut it would start below 0 (KL is never negative).
    for seed in range(3):
        g = np.random.default_rng(seed)
        est = ke.kl_divergence(g.normal(size=40), g.normal(size=40), rng=0)
        assert est.value - 2 * est.stderr < 0  # the uncut interval leaves [0, inf)
        assert 0 <= est.ci_low <= est.ci_high


def test_js_intervals_stay_below_log_2_and_discrete_entropy_above_0():
    x, y = np.array(["a"] * 39 + ["b"]), np.array(["b"] * 40)
    est = ke.js_divergence(x, y, rng=0)
    assert est.value + 2 * est.stderr > math.log(2)  # the uncut interval would pass log 2
    assert est.ci_high <= math.log(2)
    bits = ke.js_divergence(x, y, rng=0, base=2)
    assert bits.ci_high <= 1.0
    h = ke.entropy(np.array(["a"] * 39 + ["b"]), rng=0)
    assert h.value - 2 * h.stderr < 0
    assert h.ci_low >= 0


def test_units_are_named_as_explain_names_them():
    for base, unit in ((10, "bans"), (math.e, "nats"), (3, "log-base-3 units"), ("bits", "bits")):
        est = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0), base=base)
        assert est.unit == unit == kl.explain([0.5, 0.5], [0.5, 0.5], base=base).unit
    with pytest.raises(ValueError, match=r"`base` must be a finite number > 1"):
        ke.entropy(np.arange(10.0), base=0.5)
