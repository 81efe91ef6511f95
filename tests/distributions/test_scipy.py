"""SciPy's frozen distributions as families (SciPy's conventions), and families as SciPy's.

References: SciPy itself (its entropies, and KL by summing or integrating its own
pmf/pdf), by-hand closed forms where noted.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate as si
import scipy.special as sp
import scipy.stats as ss
from backends import Backend, requires
from hypothesis import given, settings
from hypothesis import strategies as st

import klkit as kl
from klkit.distributions._scipy import to_scipy

CASES = [
    (ss.norm(1.5, 2.0), ss.norm(-0.5, 0.7)),
    (ss.lognorm(0.6, scale=np.exp(0.3)), ss.lognorm(0.9, scale=np.exp(-0.2))),
    (ss.laplace(0.3, 1.2), ss.laplace(-1.0, 0.5)),
    (ss.expon(scale=0.5), ss.expon(scale=2.0)),
    (ss.gamma(2.5, scale=0.4), ss.gamma(1.5, scale=2.0)),
    (ss.beta(2, 5), ss.beta(3, 3)),
    (ss.uniform(0.2, 0.5), ss.uniform(0.0, 1.0)),
    (ss.bernoulli(0.3), ss.bernoulli(0.6)),
    (ss.binom(6, 0.3), ss.binom(6, 0.55)),
    (ss.poisson(2.5), ss.poisson(4.0)),
    (ss.geom(0.3), ss.geom(0.6)),
]


def _numeric_kl(p, q):
    """KL by SciPy alone: a sum over the support, or quadrature."""
    if hasattr(p.dist, "pmf"):
        lo, hi = p.support()
        k = np.arange(lo, min(hi, lo + 2000) + 1)
        pk = p.pmf(k)
        keep = pk > 0
        return float(np.sum(pk[keep] * (p.logpmf(k[keep]) - q.logpmf(k[keep]))))
    lo, hi = np.maximum(p.support()[0], p.ppf(1e-15)), np.minimum(p.support()[1], p.isf(1e-15))
    return si.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), lo, hi, limit=200)[0]


@pytest.mark.parametrize(("p", "q"), CASES, ids=[p.dist.name for p, _ in CASES])
def test_frozen_scipy_distributions_match_scipy_itself(p, q):
    assert float(kl.entropy(p)) == pytest.approx(float(p.entropy()), rel=1e-9, abs=1e-12)
    assert float(kl.kl_divergence(p, q)) == pytest.approx(_numeric_kl(p, q), rel=1e-7, abs=1e-10)
    assert float(kl.cross_entropy(p, q)) == pytest.approx(
        float(p.entropy()) + _numeric_kl(p, q), rel=1e-7
    )


def test_multivariate_normal_and_dirichlet():
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    p = ss.multivariate_normal([0.0, 1.0], cov)
    assert float(kl.entropy(p)) == pytest.approx(p.entropy(), rel=1e-12)
    q = kl.MultivariateNormal(np.zeros(2), covariance_matrix=np.eye(2))
    # closed form by hand: (tr(cov) + |mu|^2 - k - log det cov) / 2
    ref = 0.5 * (3.0 + 1.0 - 2 - math.log(np.linalg.det(cov)))
    assert float(kl.kl_divergence(p, q)) == pytest.approx(ref, rel=1e-12)
    d = ss.dirichlet([1.0, 2.0, 3.0])
    assert float(kl.entropy(d)) == pytest.approx(d.entropy(), rel=1e-12)


def test_geom_counts_trials_so_supports_differ_from_torchs_geometric():
    scipy_geom, torch_style = ss.geom(0.3), kl.Geometric(0.3)
    assert kl.kl_divergence(torch_style, scipy_geom) == math.inf  # mass at 0, none in geom
    shifted_back = ss.geom(0.3, loc=-1)  # support 0, 1, ...: the same law
    assert float(kl.kl_divergence(shifted_back, torch_style)) == pytest.approx(0.0, abs=1e-15)
    ref = _numeric_kl(ss.geom(0.3), ss.geom(0.5, loc=-1))
    assert float(kl.kl_divergence(scipy_geom, kl.Geometric(0.5))) == pytest.approx(ref, rel=1e-10)


def test_unsupported_conventions_and_mixed_libraries_are_clear_errors():
    with pytest.raises(kl.DistributionError, match=r"scipy.stats.poisson with loc=0.5 \(not whole"):
        kl.kl_divergence(ss.poisson(3.0, loc=0.5), ss.poisson(3.0))
    with pytest.raises(kl.DistributionError, match=r"scipy.stats.cauchy has no klkit family"):
        kl.entropy(ss.cauchy())
    torch = requires(Backend.TORCH)
    with pytest.raises(TypeError, match=r"numpy.*torch"):
        kl.kl_divergence(ss.norm(np.zeros(2), 1.0), kl.Normal(torch.zeros(2), 1.0))


# --- SciPy's loc and scale off a family's standard support ------------------------------

MOVED = [
    (ss.expon(loc=1.0), ss.norm(0.0, 1.0)),  # Q in P's frame: Normal(-1, 1)
    (ss.expon(loc=1.0, scale=2.0), ss.expon(loc=0.5, scale=3.0)),  # shifted exponential Q
    (ss.gamma(2.0, loc=1.0), ss.expon(loc=0.5)),
    (ss.gamma(2.0, loc=1.0), ss.gamma(3.0, loc=1.0, scale=2.0)),  # one frame: Gamma pair
    (ss.beta(2, 3, loc=-1.0, scale=2.0), ss.uniform(-2.0, 4.0)),
    (ss.beta(2, 3, loc=-1.0, scale=2.0), ss.norm(0.0, 1.0)),
    (ss.beta(2, 3, loc=-1.0, scale=2.0), ss.beta(3, 3, loc=-1.0, scale=2.0)),
    (ss.lognorm(0.5, loc=2.0), ss.expon(loc=1.0)),
    (ss.lognorm(0.5, loc=2.0, scale=3.0), ss.lognorm(0.7, loc=2.0)),
    (ss.uniform(1.0, 2.0), ss.expon(loc=0.5, scale=2.0)),
    (ss.poisson(3.0, loc=2), ss.poisson(4.0, loc=2)),
    (ss.binom(5, 0.3, loc=2), ss.binom(10, 0.4)),  # finite sums over P's support
    (ss.binom(5, 0.3, loc=2), ss.poisson(3.0, loc=1)),
    (ss.bernoulli(0.3, loc=4), ss.geom(0.2, loc=2)),
    (ss.binom(5, 1.0), ss.binom(5, 0.5, loc=3)),  # P all at 5: -log Q(5)
    (ss.binom(6, 0.3), ss.poisson(2.0)),  # unmoved families without a formula: sums too
    (ss.bernoulli(0.3), ss.binom(4, 0.2)),
    (ss.binom(6, 0.3), ss.geom(0.3, loc=-1)),
]


@pytest.mark.parametrize(
    ("p", "q"), MOVED, ids=[f"{p.dist.name}-{q.dist.name}-{i}" for i, (p, q) in enumerate(MOVED)]
)
def test_scipy_loc_and_scale_are_honoured_in_closed_form(p, q):
    assert float(kl.entropy(p)) == pytest.approx(float(p.entropy()), rel=1e-9, abs=1e-12)
    ref = _numeric_kl(p, q)
    assert float(kl.kl_divergence(p, q)) == pytest.approx(ref, rel=1e-7, abs=1e-10)
    assert float(kl.cross_entropy(p, q, base=2)) == pytest.approx(
        (float(p.entropy()) + ref) / math.log(2), rel=1e-7
    )


def test_moved_laws_follow_the_support_rule():
    assert kl.kl_divergence(ss.expon(), ss.expon(loc=1.0)) == math.inf
    assert kl.kl_divergence(ss.gamma(3.0), ss.gamma(2.0, loc=1.0)) == math.inf
    assert kl.kl_divergence(ss.poisson(3.0), ss.poisson(4.0, loc=1)) == math.inf
    assert kl.kl_divergence(ss.beta(2, 2, scale=3.0), ss.uniform(0.0, 2.0)) == math.inf
    # by hand: Exp(1) moved by d >= 0 against Exp(1) moved by 1 is d - 1 (log ratio x - 1)
    out = kl.kl_divergence(ss.expon(loc=[0.0, 1.0, 2.5]), ss.expon(loc=1.0))
    np.testing.assert_allclose(out, [math.inf, 0.0, 1.5], rtol=1e-14)


def test_a_moved_scipy_law_against_a_torch_family_backpropagates():
    torch = requires(Backend.TORCH)
    mu = torch.tensor([0.0, 1.5], dtype=torch.float64, requires_grad=True)
    out = kl.kl_divergence(ss.expon(loc=1.0), kl.Normal(mu, 1.0))
    # by hand: X = 1 + Exp(1) has mean 2, variance 1, entropy 1;
    # KL = log sqrt(2 pi) + (1 + (2 - mu)^2) / 2 - 1
    m = mu.detach().numpy()
    np.testing.assert_allclose(
        out.detach().numpy(), 0.5 * math.log(2 * math.pi) + (1 + (2 - m) ** 2) / 2 - 1, rtol=1e-14
    )
    out.sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), m - 2, rtol=1e-14)


def test_moved_pairs_without_a_formula_name_the_pair_and_point_to_estimate():
    with pytest.raises(kl.DistributionError, match=r"Gamma moved by loc=1.0, Gamma\).*estimate"):
        kl.kl_divergence(ss.gamma(2.0, loc=1.0), ss.gamma(3.0))
    with pytest.raises(kl.DistributionError, match=r"Q is a Poisson moved by loc=-1.0"):
        kl.kl_divergence(ss.poisson(3.0, loc=1), ss.poisson(3.0))


_positive = st.floats(0.2, 20.0)


@settings(max_examples=60, deadline=None)
@given(_positive, _positive, _positive, _positive, st.floats(-50.0, 50.0), st.floats(0.01, 100.0))
def test_one_affine_map_on_both_sides_leaves_kl_unchanged(a1, b1, a2, b2, loc, scale):
    # References independent of klkit's own Beta and affine code: the unmoved Beta KL
    # in closed form, and SciPy's entropies of the moved Gamma and Beta.
    unmoved = (
        sp.betaln(a2, b2)
        - sp.betaln(a1, b1)
        + (a1 - a2) * sp.digamma(a1)
        + (b1 - b2) * sp.digamma(b1)
        + (a2 - a1 + b2 - b1) * sp.digamma(a1 + b1)
    )
    moved = kl.kl_divergence(ss.beta(a1, b1, loc, scale), ss.beta(a2, b2, loc, scale))
    assert float(moved) == pytest.approx(unmoved, rel=1e-9, abs=1e-12)
    gained = float(kl.entropy(ss.gamma(a1, loc, scale))) - float(ss.gamma(a1).entropy())
    assert gained == pytest.approx(math.log(scale), abs=1e-9)
    # SciPy's gamma scale becomes a rate, so a scaled Beta is what reaches Affine's scale.
    gained = float(kl.entropy(ss.beta(a1, b1, loc, scale))) - float(ss.beta(a1, b1).entropy())
    assert gained == pytest.approx(math.log(scale), abs=1e-9)


def test_moved_laws_with_array_parameters_match_each_member():
    p = ss.expon(loc=1.0, scale=[1.0, 2.0])
    want = [_numeric_kl(ss.expon(loc=1.0, scale=s), ss.norm()) for s in (1.0, 2.0)]
    np.testing.assert_allclose(kl.kl_divergence(p, ss.norm()), want, rtol=1e-8)
    gam = ss.gamma([2.0, 3.0], loc=[1.0, -1.0])
    want = [_numeric_kl(ss.gamma(a, loc=c), ss.expon(loc=-1.5)) for a, c in ((2, 1), (3, -1))]
    np.testing.assert_allclose(kl.kl_divergence(gam, ss.expon(loc=-1.5)), want, rtol=1e-8)
    assert np.shape(kl.entropy(ss.expon(loc=[0.0, 0.0, 0.0]))) == (3,)  # the batch stays
    with pytest.raises(kl.DistributionError, match=r"P \(batch shape \(2,\)\) and Q \(batch"):
        kl.kl_divergence(ss.expon(loc=[1.0, 2.0]), ss.expon(loc=[1.0, 2.0, 3.0]))
    with pytest.raises(kl.DistributionError, match=r"\(Gamma moved by loc=1.0, Laplace\) is, in"):
        kl.kl_divergence(ss.gamma(2.0, loc=1.0), ss.laplace())


def test_a_traced_family_against_a_moved_law_under_jit():
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    # by hand: against Exp(1) moved to -1, CE = E[X] + 1 = 3; H(Gamma(2, 1)) =
    # 2 + lgamma(2) - psi(2) = 1 + euler_gamma
    got = jax.jit(lambda r: kl.kl_divergence(kl.Gamma(2.0, r), ss.expon(loc=-1.0)))(1.0)
    assert float(got) == pytest.approx(3.0 - (1.0 + np.euler_gamma), rel=1e-12)


def test_scipy_laws_at_the_edge_of_the_range_warn_nothing():
    import scipy.stats as ss

    assert float(kl.entropy(ss.expon(loc=1e308))) == 1.0
    assert float(kl.kl_divergence(ss.expon(loc=1e308), ss.expon(loc=1e308))) == 0.0
    assert float(kl.kl_divergence(ss.norm(0, 1e-320), ss.norm(0, 1))) == pytest.approx(
        -math.log(1e-320) - 0.5, rel=1e-12
    )
    assert float(kl.kl_divergence(ss.expon(loc=1e308), ss.norm(0, 1))) == math.inf


FAMILIES = [
    kl.Normal(0.5, 2.0),
    kl.LogNormal(0.2, 0.7),
    kl.Laplace(-1.0, 0.5),
    kl.Exponential(1.5),
    kl.Uniform(-1.0, 2.0),
    kl.Gamma(2.5, 0.4),
    kl.Beta(2.0, 5.0),
    kl.Bernoulli(0.3),
    kl.Bernoulli(logits=1.2),
    kl.Binomial(7, 0.35),
    kl.Poisson(3.5),
    kl.Geometric(0.3),
    kl.StudentT(4.0, 0.5, 2.0),
    kl.Dirichlet(np.array([1.0, 2.0, 3.0])),
    kl.MultivariateNormal(np.zeros(2), covariance_matrix=np.array([[2.0, 0.3], [0.3, 1.0]])),
]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda d: type(d).__name__)
def test_families_convert_to_scipy_and_back(family):
    frozen = to_scipy(family, "p")
    # SciPy's own entropy of the converted law (its formula, not klkit's)
    assert float(kl.entropy(family)) == pytest.approx(float(frozen.entropy()), rel=1e-9)
    if not isinstance(family, kl.StudentT):  # (no closed-form KL of two Student's t)
        assert float(kl.kl_divergence(family, frozen)) == pytest.approx(0.0, abs=1e-12)


def test_to_scipy_takes_single_distributions_only():
    with pytest.raises(ValueError, match=r"`Normal` parameter `loc` has shape \(2,\)"):
        to_scipy(kl.Normal(np.zeros(2), 1.0), "p")
    with pytest.raises(ValueError, match=r"a single `Dirichlet` for `q`, not a batch"):
        to_scipy(kl.Dirichlet(np.ones((2, 3))), "q")
