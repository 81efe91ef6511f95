"""Discrete families: Bernoulli, Poisson, Geometric and Binomial, and sums over a support.

References: torch.distributions, SciPy's pmfs summed over the support, mpmath sums at
30 digits, and SciPy's ``jensenshannon`` for the Bernoulli JS.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.stats as ss
from backends import Backend, requires
from family_cases import A1, B1, PROB1, PROB2, t
from family_reference import _log_binom_pmf, _m, ref_entropy
from mpmath import mp

import klkit as kl
from klkit._numerics import max_support


def test_poisson_kl_matches_torch():
    D = requires(Backend.TORCH).distributions
    got = kl.kl_divergence(kl.Poisson(A1), kl.Poisson(B1))
    ref = D.kl_divergence(D.Poisson(t(A1)), D.Poisson(t(B1))).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert kl.kl_divergence(kl.Poisson(0.0), kl.Poisson(2.5)) == 2.5  # -log P2(0)
    assert kl.kl_divergence(kl.Poisson(1.0), kl.Poisson(0.0)) == math.inf
    assert kl.kl_divergence(kl.Poisson(3.0), kl.Poisson(3.0)) == 0.0


@pytest.mark.parametrize("rate", [0.0, 1e-3, 0.7, 12.0, 850.0, 9999.0, 1.5e4, 3e6])
def test_poisson_entropy_against_mpmath(rate):
    with mp.workdps(30):
        lam = mp.mpf(rate)
        ref = mp.mpf(0)
        if rate > 0:  # the sum over mean +- 60 standard deviations (and 200 terms)
            lo = int(max(0, rate - 60 * rate**0.5 - 200))
            hi = int(rate + 60 * rate**0.5 + 200)
            for k in range(lo, hi):
                lp = k * mp.log(lam) - lam - mp.loggamma(k + 1)
                ref -= mp.exp(lp) * lp
    assert float(kl.entropy(kl.Poisson(rate))) == pytest.approx(float(ref), rel=1e-13, abs=1e-15)


def test_binomial_pairs_with_different_counts_are_exact_sums():
    for n1, n2 in [(5, 7), (1, 30), (0, 4), (7, 7)]:
        k = np.arange(n1 + 1)
        p1, p2 = ss.binom.pmf(k, n1, 0.3), ss.binom.pmf(k, n2, 0.45)
        ref = float(np.sum(p1 * np.log(p1 / p2)))
        got = float(kl.kl_divergence(kl.Binomial(n1, 0.3), kl.Binomial(n2, 0.45)))
        assert got == pytest.approx(ref, rel=1e-12, abs=1e-15)
        cross = float(kl.cross_entropy(kl.Binomial(n1, 0.3), kl.Binomial(n2, 0.45)))
        assert cross == pytest.approx(float(-np.sum(p1 * np.log(p2))), rel=1e-12)
    assert kl.kl_divergence(kl.Binomial(7, 0.3), kl.Binomial(5, 0.3)) == math.inf
    assert kl.kl_divergence(kl.Binomial(3, 0.3), kl.Binomial(5, 0.0)) == math.inf
    assert kl.kl_divergence(kl.Binomial(3, 0.0), kl.Binomial(5, 0.0)) == 0.0


def test_scipy_style_geometric_is_shifted_and_follows_the_support_rule():
    trials = kl.Geometric._shifted(0.3, 1)  # SciPy's geom: support 1, 2, ...
    failures = kl.Geometric(0.5)  # torch's: support 0, 1, ...
    k = np.arange(1, 400)
    p = ss.geom.pmf(k, 0.3)
    ref = float(np.sum(p * np.log(p / ss.geom.pmf(k, 0.5, loc=-1))))
    assert float(kl.kl_divergence(trials, failures)) == pytest.approx(ref, rel=1e-12)
    assert kl.kl_divergence(failures, trials) == math.inf
    assert float(kl.entropy(trials)) == pytest.approx(ss.geom(0.3).entropy(), rel=1e-12)


def test_bounded_against_unbounded_discrete_families():
    # by hand: D(Bernoulli(p) || Geometric(q)) = (1-p) log((1-p)/q) + p log(p/(q(1-q))),
    # whose derivative in p is log(p / ((1-p)(1-q)))
    p, q = 0.4, 0.3
    want = (1 - p) * math.log((1 - p) / q) + p * math.log(p / (q * (1 - q)))
    assert float(kl.kl_divergence(kl.Bernoulli(p), kl.Geometric(q))) == pytest.approx(want)
    jax = requires(Backend.JAX, "jax")
    grad = jax.grad(lambda x: kl.kl_divergence(kl.Bernoulli(x), kl.Geometric(q)))(p)
    assert float(grad) == pytest.approx(math.log(p / ((1 - p) * (1 - q))), rel=1e-6)
    # Geometric against a bounded law: +inf, unless it is all at 0 (probs 1): -log Q(0)
    got = kl.kl_divergence(kl.Geometric(np.array([1.0, 0.5])), kl.Binomial(4, 0.3))
    np.testing.assert_allclose(got, [-4 * math.log(0.7), math.inf])


def test_bernoulli_js_is_the_two_outcome_js():
    got = kl.js_divergence(
        kl.Bernoulli(PROB1), kl.Bernoulli(logits=np.log(PROB2 / (1 - PROB2))), base=2
    )
    ref = kl.js_divergence(
        np.stack([1 - PROB1, PROB1], -1), np.stack([1 - PROB2, PROB2], -1), base=2
    )
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_binomial_entropy_at_ten_billion_trials_allocates_nothing():
    import tracemalloc

    import scipy.stats as ss

    with mpmath.workdps(50):
        ref = float(ref_entropy("Binomial", {"total_count": _m(1e10), "probs": _m(0.5)}))
    tracemalloc.start()
    got = float(kl.entropy(ss.binom(10_000_000_000, 0.5)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == pytest.approx(ref, rel=1e-13)
    assert peak < 2**20  # was 74 GiB


def test_sums_over_a_support_fail_fast_above_max_support(monkeypatch):
    monkeypatch.delenv("KLKIT_MAX_SUPPORT", raising=False)
    p, q = kl.Binomial(1e14, 0.5), kl.Binomial(1e14 + 1, 0.5)
    with pytest.raises(
        kl.DistributionError, match=r"above the limit KLKIT_MAX_SUPPORT = 10000000\. Raise it"
    ):
        kl.kl_divergence(p, q)
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "100")
    with pytest.raises(kl.DistributionError, match=r"environment variable KLKIT_MAX_SUPPORT=\d+\)"):
        kl.kl_divergence(kl.Binomial(10_000, 0.5), kl.Binomial(10_001, 0.5))
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "many")
    with pytest.raises(ValueError, match="KLKIT_MAX_SUPPORT is 'many', not a limit"):
        kl.kl_divergence(kl.Binomial(10_000, 0.5), kl.Binomial(10_001, 0.5))
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", str(10**7))
    got = float(kl.kl_divergence(kl.Binomial(10_000, 0.5), kl.Binomial(10_001, 0.5)))
    with mpmath.workdps(30):  # E_P[log((n + 1 - K) / ((n + 1) q))], P = Binomial(n, 1/2)
        n = 10_000
        terms = (
            mp.exp(_log_binom_pmf(mp.mpf(k), mp.mpf(n), mp.mpf(0.5)))
            * mp.log((n + 1 - k) / ((n + 1) * mp.mpf(0.5)))
            for k in range(n + 1)
        )
        ref = float(mp.fsum(terms))
    assert got == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize(
    ("setting", "limit"), [(None, 10_000_000), ("", 10_000_000), ("250", 250), (" 7 ", 7)]
)
def test_the_support_limit_is_one_environment_variable(monkeypatch, setting, limit):
    if setting is None:
        monkeypatch.delenv("KLKIT_MAX_SUPPORT", raising=False)
    else:
        monkeypatch.setenv("KLKIT_MAX_SUPPORT", setting)
    assert max_support() == limit


@pytest.mark.parametrize("setting", ["0", "-5", "1e6", "ten", "3.5", "9" * 19])
def test_a_support_limit_that_is_not_a_positive_integer_is_named(monkeypatch, setting):
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", setting)
    with pytest.raises(
        ValueError, match=r"environment variable KLKIT_MAX_SUPPORT is .*, not a limit"
    ):
        max_support()


def test_bernoulli_js_matches_scipy_jensenshannon():
    from scipy.spatial.distance import jensenshannon

    # scipy's jensenshannon of the two-outcome rows is the distance; squared, the JS
    p, q = PROB1, PROB2
    rows_p, rows_q = np.stack([1 - p, p], -1), np.stack([1 - q, q], -1)
    ref = jensenshannon(rows_p, rows_q, base=2, axis=-1)
    got = kl.js_distance(kl.Bernoulli(p), kl.Bernoulli(q), base=2)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    np.testing.assert_allclose(
        kl.js_divergence(kl.Bernoulli(p), kl.Bernoulli(q)), (ref**2) * math.log(2), rtol=1e-12
    )
    assert kl.js_distance(kl.Bernoulli(0.3), kl.Bernoulli(0.3)) == 0.0
    assert float(kl.js_divergence(kl.Bernoulli(0.0), kl.Bernoulli(1.0), base=2)) == 1.0
