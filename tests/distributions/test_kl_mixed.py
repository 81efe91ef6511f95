"""KL divergence and cross-entropy of two laws of different families.

References: torch.distributions (every mixed pair it has), SciPy quadrature of
``p log(p/q)`` for the pairs torch lacks, mpmath at 200-700 digits for parameters far
beyond 1e6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as ss
from backends import Backend, requires
from family_cases import (
    A1,
    A2,
    B1,
    B2,
    HIGH,
    LOC1,
    LOC2,
    LOW,
    PR1,
    SC1,
    SC2,
    assert_matches_torch,
    t,
    torch_case,
)

import klkit as kl
import klkit.distributions
from klkit.distributions import _pairs

_SCALES = {"rtol": 1e-12, "atol": 1e-14, "base": 2}
_CONCENTRATIONS = {"rtol": 1e-10, "atol": 1e-13, "base": None}
PAIRS = [
    torch_case(
        kl.Uniform(LOC1, LOC1 + SC1),
        kl.Normal(LOC2, SC2),
        lambda D: (D.Uniform(t(LOC1), t(LOC1 + SC1)), D.Normal(t(LOC2), t(SC2))),
        **_SCALES,
    ),
    torch_case(
        kl.Uniform(SC1, SC1 + SC2),
        kl.Exponential(SC2),
        lambda D: (D.Uniform(t(SC1), t(SC1 + SC2)), D.Exponential(t(SC2))),
        **_SCALES,
    ),
    torch_case(
        kl.Exponential(A1),
        kl.Gamma(A2, B2),
        lambda D: (D.Exponential(t(A1)), D.Gamma(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Gamma(A1, B1),
        kl.Exponential(B2),
        lambda D: (D.Gamma(t(A1), t(B1)), D.Exponential(t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Uniform(LOW, HIGH),
        kl.Gamma(A2, B2),
        lambda D: (D.Uniform(t(LOW), t(HIGH)), D.Gamma(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Uniform(LOW, HIGH),
        kl.Beta(A2, B2),
        lambda D: (D.Uniform(t(LOW), t(HIGH)), D.Beta(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Beta(A1, B1),
        kl.Uniform(-LOW, 1 + HIGH),
        lambda D: (D.Beta(t(A1), t(B1)), D.Uniform(t(-LOW), t(1 + HIGH))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Beta(A1, B1),
        kl.Gamma(A2, B2),
        lambda D: (D.Beta(t(A1), t(B1)), D.Gamma(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Beta(A1, B1),
        kl.Exponential(B2),
        lambda D: (D.Beta(t(A1), t(B1)), D.Exponential(t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Beta(A1, B1),
        kl.Normal(A2, B2),
        lambda D: (D.Beta(t(A1), t(B1)), D.Normal(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Exponential(A1),
        kl.Normal(A2, B2),
        lambda D: (D.Exponential(t(A1)), D.Normal(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Gamma(A1, B1),
        kl.Normal(A2, B2),
        lambda D: (D.Gamma(t(A1), t(B1)), D.Normal(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Laplace(A1, B1),
        kl.Normal(A2, B2),
        lambda D: (D.Laplace(t(A1), t(B1)), D.Normal(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Normal(A1 - 3, B1),
        kl.Laplace(A2, B2),
        lambda D: (D.Normal(t(A1 - 3), t(B1)), D.Laplace(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Bernoulli(PR1),
        kl.Poisson(A2),
        lambda D: (D.Bernoulli(t(PR1)), D.Poisson(t(A2))),
        **_CONCENTRATIONS,
    ),
]


@pytest.mark.parametrize(("p", "q", "make", "tol"), PAIRS)
def test_mixed_pairs_match_torch_distributions(p, q, make, tol):
    assert_matches_torch(p, q, make, tol)


@pytest.mark.parametrize(
    ("p", "q", "scipy_p", "scipy_q"),
    [
        (
            kl.LogNormal(0.3, 0.6),
            kl.Gamma(2.0, 1.5),
            ss.lognorm(0.6, scale=np.exp(0.3)),
            ss.gamma(2.0, scale=1 / 1.5),
        ),
        (
            kl.LogNormal(-0.2, 0.4),
            kl.Exponential(0.8),
            ss.lognorm(0.4, scale=np.exp(-0.2)),
            ss.expon(scale=1 / 0.8),
        ),
        (kl.Uniform(0.0, 0.5), kl.Beta(0.7, 2.0), ss.uniform(0.0, 0.5), ss.beta(0.7, 2.0)),
        (
            kl.LogNormal(0.1, 0.5),
            kl.Normal(1.0, 2.0),
            ss.lognorm(0.5, scale=np.exp(0.1)),
            ss.norm(1.0, 2.0),
        ),
        (kl.StudentT(5.0, 0.3, 1.2), kl.Normal(0.0, 2.0), ss.t(5.0, 0.3, 1.2), ss.norm(0.0, 2.0)),
        (kl.Uniform(0.0, 3.0), kl.Gamma(0.6, 2.0), ss.uniform(0.0, 3.0), ss.gamma(0.6, scale=0.5)),
    ],
)
def test_cross_family_pairs_against_quadrature(p, q, scipy_p, scipy_q):
    lo, hi = scipy_p.support()

    def integrand(x):
        return scipy_p.pdf(x) * (scipy_p.logpdf(x) - scipy_q.logpdf(x))

    ref, _ = si.quad(integrand, lo, hi, limit=200)
    assert float(kl.kl_divergence(p, q)) == pytest.approx(ref, rel=1e-8, abs=1e-10)


def test_every_pair_torch_has_in_closed_form_klkit_has_too():
    torch = requires(Backend.TORCH)
    ours = set(klkit.distributions.__all__)
    have = {(a.__name__, b.__name__) for a, b in _pairs.PAIRS}
    have |= {("Bernoulli", "Bernoulli"), ("Geometric", "Geometric")}  # handled before PAIRS
    torch_pairs = {
        (a.__name__, b.__name__)
        for a, b in torch.distributions.kl._KL_REGISTRY
        if a.__name__ in ours and b.__name__ in ours
    }
    assert torch_pairs - have == set()


def test_pairs_without_a_closed_form_point_to_klkit_estimate():
    with pytest.raises(
        kl.DistributionError,
        match=r"kl_divergence\(StudentT, StudentT\) has no closed form.*klkit.estimate",
    ):
        kl.kl_divergence(kl.StudentT(3.0), kl.StudentT(4.0))
    with pytest.raises(kl.DistributionError, match=r"same number of outcomes; got 3 and 4"):
        kl.kl_divergence(kl.Dirichlet(np.ones(3)), kl.Dirichlet(np.ones(4)))
    with pytest.raises(
        kl.DistributionError, match=r"js_divergence\(Gamma, Gamma\).*klkit.estimate.js_divergence"
    ):
        kl.js_divergence(kl.Gamma(1.0, 1.0), kl.Gamma(2.0, 1.0))


def test_mixed_libraries_and_unsupported_pairs_are_clear_errors():
    torch = requires(Backend.TORCH)
    with pytest.raises(TypeError, match=r"numpy array and .* torch array"):
        kl.kl_divergence(kl.Normal(np.zeros(2), 1.0), kl.Normal(torch.zeros(2), 1.0))
    with pytest.raises(
        kl.DistributionError, match=r"kl_divergence\(Gamma, LogNormal\) has no closed form"
    ):
        kl.kl_divergence(kl.Gamma(2.0, 1.0), kl.LogNormal(0.0, 1.0))
    with pytest.raises(
        kl.DistributionError,
        match=r"js_divergence\(Normal, Normal\) has no closed form.*klkit.estimate.js_divergence",
    ):
        kl.js_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0))
    with pytest.raises(TypeError, match="only be compared with another family"):
        kl.kl_divergence(kl.Normal(0.0, 1.0), np.array([0.5, 0.5]))


def test_parameters_far_beyond_1e6_stay_finite_and_right():
    """Products of parameters would overflow: quotients and shares are used instead."""
    # mpmath at 200 (700) digits of the textbook KL: 1.95e239 (5.0000000000000002e269)
    got = float(kl.kl_divergence(kl.Beta(1e30, 0.3), kl.Gamma(1e300, 1e300)))
    assert got == pytest.approx(1.95e239, rel=1e-12)  # was -274
    got = float(kl.kl_divergence(kl.Beta(1e30, 1e30), kl.Beta(1e300, 1e300)))
    assert got == pytest.approx(5.0000000000000002e269, rel=1e-12)  # was -2.3e287
    # LogNormal(0, 1e-300): sigma^2 underflows; mpmath: 690.77552789821370518
    got = float(kl.kl_divergence(kl.LogNormal(0.0, 1e-300), kl.Normal(0.0, 1.0)))
    assert got == pytest.approx(690.7755278982137, rel=1e-14)  # was inf
    # Gamma(1e-320, 1) against Exponential: F'(c1) is -inf, times c2 - 1 = 0
    assert np.isfinite(float(kl.cross_entropy(kl.Gamma(1e-320, 1.0), kl.Exponential(1.0))))
    # an entropy of -inf and a KL of +inf: the cross-entropy is +inf, not NaN
    assert float(kl.cross_entropy(kl.Gamma(1e-320, 1.0), kl.Poisson(1.0))) == math.inf
