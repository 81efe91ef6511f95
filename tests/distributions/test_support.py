"""Pairs ruled out by their supports: exactly +inf, read from the parameters.

Each expected value is by hand from the supports (P puts mass where Q has none), or
``-log Q(x)`` where all of P's mass sits at one point x.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss

import klkit as kl


def test_support_rules_give_exact_infinities():
    assert kl.kl_divergence(kl.Uniform(0.0, 2.0), kl.Uniform(0.0, 1.0)) == math.inf
    assert kl.kl_divergence(kl.Normal(0.0, 1.0), kl.Uniform(-5.0, 5.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(-1.0, 1.0), kl.Exponential(1.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(0.0, 1.0), kl.Uniform(0.0, 1.0)) == 0.0
    assert kl.kl_divergence(kl.Gamma(2.0, 1.0), kl.Beta(2.0, 2.0)) == math.inf
    assert kl.kl_divergence(kl.Normal(0.0, 1.0), kl.Gamma(2.0, 1.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(-0.5, 0.5), kl.Gamma(2.0, 1.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(0.5, 1.5), kl.Beta(2.0, 2.0)) == math.inf
    assert kl.kl_divergence(kl.Beta(2.0, 2.0), kl.Uniform(0.0, 0.5)) == math.inf
    assert kl.kl_divergence(kl.Exponential(1.0), kl.Uniform(0.0, 5.0)) == math.inf
    assert kl.kl_divergence(kl.StudentT(2.0), kl.Normal(0.0, 1.0)) == math.inf  # no variance


def test_poisson_against_bounded_counts_is_infinite_unless_all_mass_is_at_zero():
    rates = np.array([0.0, 2.0])
    got = kl.kl_divergence(kl.Poisson(rates), kl.Binomial(3, 0.4))
    np.testing.assert_allclose(got, [-ss.binom(3, 0.4).logpmf(0), math.inf])
    assert float(kl.kl_divergence(kl.Poisson(0.0), kl.Bernoulli(0.25))) == pytest.approx(
        -math.log(0.75), rel=1e-15
    )
    assert kl.kl_divergence(kl.Poisson(0.0), kl.Binomial(0, 1.0)) == 0.0
    assert kl.kl_divergence(kl.Poisson(1.0), kl.Bernoulli(0.5)) == math.inf


def test_binomial_support_is_where_the_mass_is():
    # Binomial(7, 0) is all at 0, inside Binomial(5, .)'s support: -log Q(0) = 5 log 2
    got = float(kl.kl_divergence(kl.Binomial(7, 0.0), kl.Binomial(5, 0.5)))
    assert got == pytest.approx(5 * math.log(2), rel=1e-14)
    assert kl.kl_divergence(kl.Binomial(7, 1.0), kl.Binomial(5, 0.5)) == math.inf


def test_binomial_pairs_ruled_out_by_support_are_inf_not_nan():
    # P puts mass on 2..200 (Bernoulli has 0 and 1 only), and on 501..1000
    assert float(kl.kl_divergence(kl.Binomial(200, 0.01), kl.Bernoulli(0.5))) == math.inf
    assert float(kl.kl_divergence(kl.Binomial(1000, 0.3), kl.Binomial(500, 0.5))) == math.inf
    got = kl.kl_divergence(kl.Binomial(np.array([3.0, 1000.0]), 0.3), kl.Binomial(500, 0.5))
    assert got[1] == math.inf
    assert np.isfinite(got[0])


DISCRETE = [kl.Bernoulli(0.3), kl.Binomial(5, 0.4), kl.Poisson(2.0), kl.Geometric(0.3)]
CONTINUOUS = [
    kl.Normal(0.0, 1.0),
    kl.LogNormal(0.0, 1.0),
    kl.Laplace(0.0, 1.0),
    kl.Exponential(1.0),
    kl.Uniform(0.0, 1.0),
    kl.Gamma(2.0, 1.0),
    kl.Beta(2.0, 2.0),
    kl.StudentT(3.0),
]


@pytest.mark.parametrize("d", DISCRETE, ids=lambda d: type(d).__name__)
@pytest.mark.parametrize("c", CONTINUOUS, ids=lambda c: type(c).__name__)
def test_discrete_against_continuous_is_inf_both_ways(d, c):
    assert float(kl.kl_divergence(d, c)) == math.inf
    assert float(kl.kl_divergence(c, d)) == math.inf
    assert float(kl.cross_entropy(d, c)) == math.inf
