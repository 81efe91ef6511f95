"""klkit.estimate on distributions: exact, quadrature, Monte Carlo, and samples against laws."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss
from estimate_reference import FAIR, LOADED, mp_kl

import klkit as kl
import klkit.estimate as ke


def test_distribution_pairs_exact_quad_and_monte_carlo():
    exact = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0))
    assert (exact.method, exact.value, exact.stderr) == ("exact", 0.5, 0.0)
    assert str(exact) == "0.5 nats ± 0 (95% CI 0.5–0.5, exact)"  # noqa: RUF001
    ref = mp_kl(
        lambda x: -x * x / 2 - mp.log(mp.sqrt(2 * mp.pi)),
        lambda x: (
            mp.log(mp.gamma(2) / (mp.sqrt(3 * mp.pi) * mp.gamma(1.5))) - 2 * mp.log(1 + x * x / 3)
        ),
        -mp.inf,
        mp.inf,
    )
    quad = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.StudentT(3.0))
    assert quad.method == "quad"
    assert quad.value == pytest.approx(ref, rel=1e-9)
    assert quad.ci_low <= ref <= quad.ci_high or abs(quad.value - ref) < 1e-12
    mc = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.StudentT(3.0), method="mc", n=50_000, rng=0)
    assert abs(mc.value - ref) < 4 * mc.stderr
    assert mc.n == 50_000


def test_discrete_pairs_without_a_closed_form_are_summed():
    k = np.arange(0, 200)
    p, q = ss.poisson(3.0).pmf(k), ss.geom(0.3, loc=-1).pmf(k)
    ref = float(np.sum(p * np.log(p / q)))
    est = ke.kl_divergence(kl.Poisson(3.0), kl.Geometric(0.3))
    assert est.method == "quad"
    assert est.value == pytest.approx(ref, rel=1e-12)
    assert ke.kl_divergence(kl.Poisson(3.0), ss.geom(0.3)).value == math.inf  # mass at 0


def test_js_of_distributions_and_of_samples():
    with mp.workdps(25):
        p = lambda x: mp.npdf(x, 0, 1)  # noqa: E731
        q = lambda x: mp.npdf(x, 1, 1)  # noqa: E731
        ref = float(
            mp.quad(
                lambda x: (
                    (
                        p(x) * mp.log(2 * p(x) / (p(x) + q(x)))
                        + q(x) * mp.log(2 * q(x) / (p(x) + q(x)))
                    )
                    / 2
                ),
                [-mp.inf, 0.5, mp.inf],
            )
        )
    est = ke.js_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0), base=2)
    assert est.unit == "bits"
    assert est.value == pytest.approx(ref / math.log(2), rel=1e-9)
    g = np.random.default_rng(10)
    s = ke.js_divergence(g.normal(0, 1, 4000), g.normal(1, 1, 3000), rng=0)
    assert s.method == "knn"
    assert abs(s.value - ref) < 4 * s.stderr
    d = ke.js_divergence(g.choice(6, 5000, p=FAIR), g.choice(6, 5000, p=LOADED), rng=0)
    assert d.ci_low < float(kl.js_divergence(FAIR, LOADED)) < d.ci_high


def test_samples_against_a_distribution_either_way():
    g = np.random.default_rng(11)
    x = g.normal(0, 1, 6000)
    est = ke.kl_divergence(x, kl.Normal(1.0, 1.0), rng=0)
    assert est.method == "knn"
    assert abs(est.value - 0.5) < 4 * est.stderr
    back = ke.kl_divergence(ss.norm(0, 1), g.normal(1, 1, 6000), rng=0)
    assert abs(back.value - 0.5) < 4 * back.stderr
    die = ke.kl_divergence(g.choice(np.arange(6), 10_000, p=FAIR), kl.Binomial(5, 0.5), rng=0)
    binom = ss.binom(5, 0.5).pmf(np.arange(6))
    assert die.ci_low < float(np.sum(FAIR * np.log(FAIR / binom))) < die.ci_high


def test_n_sets_the_draws_from_a_distribution_against_samples():
    g = np.random.default_rng(13)
    y = g.normal(1, 1, 3000)
    assert ke.kl_divergence(kl.Normal(0.0, 1.0), y, rng=0).n == (3000, 3000)
    assert ke.kl_divergence(kl.Normal(0.0, 1.0), y, n=5000, rng=0).n == (5000, 3000)
    with pytest.raises(ValueError, match=r"`n` \(draws\) must be a whole number >= 2; got 1"):
        ke.kl_divergence(kl.Normal(0.0, 1.0), y, n=1)


def test_quadrature_finds_mass_far_from_zero():
    with mp.workdps(25):
        ref = float(
            mp.quad(
                lambda x: (
                    mp.npdf(x, 50, 1)
                    * (
                        mp.log(mp.npdf(x, 50, 1))
                        - mp.log(mp.gamma(2) / (mp.sqrt(3 * mp.pi) * mp.gamma(1.5)))
                        + 2 * mp.log(1 + x * x / 3)
                    )
                ),
                [30, 45, 50, 55, 70],
            )
        )
    est = ke.kl_divergence(kl.Normal(50.0, 1.0), kl.StudentT(3.0))
    assert est.value == pytest.approx(ref, rel=1e-9)
    js = ke.js_divergence(kl.Normal(50.0, 1.0), kl.Normal(0.0, 1.0))
    assert js.value == pytest.approx(math.log(2), rel=1e-12)


def test_dirichlet_densities_are_read_the_right_way_round():
    p, q = kl.Dirichlet(np.array([1.0, 2.0, 3.0])), kl.Dirichlet(np.array([2.0, 2.0, 2.0]))
    truth = float(kl.kl_divergence(p, q))
    mc = ke.kl_divergence(p, q, method="mc", n=20_000, rng=0)
    assert abs(mc.value - truth) < 4 * mc.stderr
    draws = np.random.default_rng(1).dirichlet([1.0, 2.0, 3.0], 3000)
    assert math.isfinite(ke.kl_divergence(draws, q, rng=0).value)


def test_any_scipy_distribution_is_estimated_with_its_loc_and_scale():
    exact = ke.kl_divergence(ss.expon(loc=1.0), ss.expon())
    assert exact.method == "exact"
    assert exact.value == pytest.approx(1.0, rel=1e-14)  # log p/q = 1 on x >= 1
    shifted = ke.kl_divergence(ss.expon(loc=1.0), ss.gamma(2.0, loc=0.5))  # no closed form
    assert shifted.method == "quad"
    # by hand: log(p/q) = -(x - 1) + (x - 0.5) - log(x - 0.5) on x >= 1, so
    # KL = 0.5 - E[log(E + 0.5)] for E ~ Exp(1), which is log 0.5 + e^0.5 E1(0.5)
    assert shifted.value == pytest.approx(
        0.5 - (math.log(0.5) + math.exp(0.5) * float(mp.e1(0.5))), rel=1e-9
    )
    cauchy = ke.kl_divergence(ss.cauchy(), ss.norm())  # E[x^2] diverges: KL is +inf
    assert math.isinf(cauchy.stderr)
    assert "did not converge" in cauchy.note


def test_samples_against_a_distribution_name_an_impossible_outcome():
    est = ke.kl_divergence(np.array([0, 1, 2, 1, 0]), kl.Bernoulli(0.5))
    assert est.value == math.inf
    assert "outcome 2 appears in p's samples but has probability 0 under q" in str(est)


def test_a_dirichlet_is_only_compared_with_a_dirichlet_and_1d_mvn_is_sampled():
    with pytest.raises(ValueError, match="`p` is a Dirichlet, a law on the probability simplex"):
        ke.kl_divergence(ss.dirichlet([1.0, 2.0]), ss.multivariate_normal([0.0, 0.0]))
    est = ke.kl_divergence(ss.norm(), ss.multivariate_normal([0.0], [[2.0]]), rng=0)
    truth = 0.5 * (0.5 - 1 + math.log(2))  # N(0, 1) against N(0, 2)
    assert est.method == "mc"
    assert est.ci_low < truth < est.ci_high


def test_a_huge_discrete_support_is_summed_from_its_mass_or_refused(monkeypatch):
    # binom(1e10, 1/2) has no mass below 4.9e9: the sum starts at its 1e-17 quantile
    # (summing from 0 gave up after 1e8 points with 0 and no bound). Reference:
    # H = log(2 pi e n p q) / 2 + O(1/n); SciPy's own pmf is good to ~2e-5 at this n.
    est = ke.entropy(ss.binom(10**10, 0.5), method="quad")
    assert est.value == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 2.5e9), rel=1e-4)
    assert math.isfinite(est.stderr)
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "1000")
    with pytest.raises(ValueError, match=r"more than 1,000 points, the limit \(KLKIT_MAX"):
        ke.entropy(ss.poisson(1e6), method="quad")
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "many")
    with pytest.raises(ValueError, match="KLKIT_MAX_SUPPORT is 'many', not a limit"):
        ke.entropy(ss.poisson(4.0), method="quad")


def test_a_js_integral_that_fails_falls_back_to_monte_carlo():
    # N(0, 1e-320) is narrower than any grid: it and N(0, 1) are disjoint in effect,
    # so JS = log 2 (each half-KL against the mixture is log 2).
    est = ke.js_divergence(ss.norm(0, 1e-320), ss.norm(0, 1), rng=0)
    assert est.method == "mc"
    assert est.value == pytest.approx(math.log(2), rel=1e-12)
    # KL(N(0, s) || t(3)) with s = 1e-305: P is a spike at 0, so KL = -H(P) - log q(0)
    # to O(s^2), H(P) = log(2 pi e)/2 + log s. Quadrature cannot sum a density of 4e304;
    # Monte Carlo takes over.
    s = 1e-305
    est = ke.kl_divergence(ss.norm(0, s), ss.t(3), rng=0)
    truth = -(0.5 * math.log(2 * math.pi * math.e) + math.log(s)) - float(ss.t(3).logpdf(0))
    assert est.method == "mc"
    assert abs(est.value - truth) < 4 * est.stderr + 1e-9 * truth


def test_a_law_float64_cannot_hold_is_refused_not_estimated():
    # gamma(825.7, loc=1e308): every draw rounds to 1e308, where P's density is 0
    with pytest.raises(ValueError, match=r"draws from scipy\.stats\.gamma have a zero"):
        ke.kl_divergence(ss.gamma(825.7, 1e308), ss.gamma(1.5), rng=0)


def test_a_spike_below_float64_resolution_is_sampled_not_missed():
    # lognorm(1e-150) is a point mass at 1 (its quantiles all round to 1.0), where
    # lognorm(2) has density 0.2: disjoint in effect, so JS = log 2 (quadrature over the
    # collapsed quantiles found ~0 before)
    est = ke.js_divergence(ss.lognorm(1e-150), ss.lognorm(2.0), rng=0)
    assert est.method == "mc"
    assert est.value == pytest.approx(math.log(2), rel=1e-12)


def test_a_kl_beyond_float64_is_inf_without_nan_or_warning():
    # (mu_p - mu_q)^2 / (2 s_q^2) = (1e308)^2 / 1800 overflows: KL = +inf
    est = ke.kl_divergence(ss.norm(-887.58), ss.norm(1e308, 30.0), method="quad")
    assert est.value == math.inf


def test_monte_carlo_terms_near_float64_max_do_not_overflow_their_mean():
    # KL(expon(loc=a) || expon(loc=b, scale=s)) = log s - 1 + (a + 1 - b) / s, by hand
    a, b, s = 1e308, 1e-320, 457.7258985715919
    est = ke.kl_divergence(ss.expon(a), ss.expon(b, s), method="mc", rng=0)
    assert est.value == pytest.approx(math.log(s) - 1 + (a + 1 - b) / s, rel=1e-12)


def test_a_binomial_with_a_float_count_is_drawn_or_refused_in_words():
    est = ke.entropy(ss.binom(10**6, 0.5), method="mc", rng=0)  # SciPy's own n: int
    # H = log(2 pi e n p q) / 2 + O(1/n), the normal approximation
    assert abs(est.value - 0.5 * math.log(2 * math.pi * math.e * 2.5e5)) < 4 * est.stderr
    with pytest.raises(ValueError, match=r"cannot draw from Binomial \(Cannot cast"):
        ke.entropy(ss.binom(1e6, 0.5), method="mc", rng=0)  # NumPy refuses a float count


def test_quantiles_scipy_gives_up_on_still_split_the_integral():
    # beta(0.5, 2).ppf(1e-12) warns that its root finding gave up; the split is fine.
    # H(Beta(a, b)) = log B(a, b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b)
    a, b = 0.5, 2.0
    truth = (
        math.log(sp.beta(a, b))
        - (a - 1) * sp.digamma(a)
        - (b - 1) * sp.digamma(b)
        + (a + b - 2) * sp.digamma(a + b)
    )
    est = ke.entropy(ss.beta(a, b), method="quad")
    assert est.value == pytest.approx(truth, rel=1e-7)


def test_monte_carlo_of_huge_terms_warns_nothing():
    # terms near 1e300: the standard deviation's squares must not overflow (found by
    # the CLI fuzz: `klkit kl 'gamma(1e+300)' 'gamma(1.0, -1.0)'`)
    est = ke.kl_divergence(ss.gamma(1e300), ss.gamma(1.0, -1.0), rng=0)
    assert est.value == pytest.approx(1e300, rel=1e-6)
    assert math.isfinite(est.stderr)
