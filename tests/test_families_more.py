"""Gamma, Beta, Dirichlet, Poisson, Geometric, Binomial, Student-t and multivariate normal.

References: torch.distributions (every pair it has), SciPy's entropies, mpmath sums
and SciPy quadrature for the cross-family pairs torch lacks, mpmath for lgamma/digamma.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as ss
from backends import Backend, requires

import klkit as kl
from klkit.distributions import _special

torch = requires(Backend.TORCH)
D = torch.distributions

RNG = np.random.default_rng(5)
A1, A2 = RNG.uniform(0.3, 6, size=6), RNG.uniform(0.3, 6, size=6)
B1, B2 = RNG.uniform(0.3, 6, size=6), RNG.uniform(0.3, 6, size=6)
PR1, PR2 = RNG.uniform(0.05, 0.95, size=6), RNG.uniform(0.05, 0.95, size=6)
ALPHA1, ALPHA2 = RNG.uniform(0.3, 5, size=(6, 4)), RNG.uniform(0.3, 5, size=(6, 4))
LOW = RNG.uniform(0.05, 0.4, size=6)
HIGH = LOW + RNG.uniform(0.1, 0.55, size=6)


def t(x):
    return torch.asarray(x, dtype=torch.float64)


def spd(rng, batch, k):
    m = rng.normal(size=(*batch, k, k))
    return m @ np.swapaxes(m, -1, -2) + 0.5 * np.eye(k)


COV1, COV2 = spd(RNG, (6,), 3), spd(RNG, (6,), 3)
MU1, MU2 = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))

PAIRS = [
    (kl.Gamma(A1, B1), kl.Gamma(A2, B2), D.Gamma(t(A1), t(B1)), D.Gamma(t(A2), t(B2))),
    (kl.Beta(A1, B1), kl.Beta(A2, B2), D.Beta(t(A1), t(B1)), D.Beta(t(A2), t(B2))),
    (kl.Dirichlet(ALPHA1), kl.Dirichlet(ALPHA2), D.Dirichlet(t(ALPHA1)), D.Dirichlet(t(ALPHA2))),
    (kl.Geometric(PR1), kl.Geometric(PR2), D.Geometric(t(PR1)), D.Geometric(t(PR2))),
    (kl.Binomial(12, PR1), kl.Binomial(12, PR2), D.Binomial(12, t(PR1)), D.Binomial(12, t(PR2))),
    (
        kl.MultivariateNormal(MU1, covariance_matrix=COV1),
        kl.MultivariateNormal(MU2, covariance_matrix=COV2),
        D.MultivariateNormal(t(MU1), covariance_matrix=t(COV1)),
        D.MultivariateNormal(t(MU2), covariance_matrix=t(COV2)),
    ),
    (kl.Exponential(A1), kl.Gamma(A2, B2), D.Exponential(t(A1)), D.Gamma(t(A2), t(B2))),
    (kl.Gamma(A1, B1), kl.Exponential(B2), D.Gamma(t(A1), t(B1)), D.Exponential(t(B2))),
    (kl.Uniform(LOW, HIGH), kl.Gamma(A2, B2), D.Uniform(t(LOW), t(HIGH)), D.Gamma(t(A2), t(B2))),
    (kl.Uniform(LOW, HIGH), kl.Beta(A2, B2), D.Uniform(t(LOW), t(HIGH)), D.Beta(t(A2), t(B2))),
    (
        kl.Beta(A1, B1),
        kl.Uniform(-LOW, 1 + HIGH),
        D.Beta(t(A1), t(B1)),
        D.Uniform(t(-LOW), t(1 + HIGH)),
    ),
    (kl.Beta(A1, B1), kl.Gamma(A2, B2), D.Beta(t(A1), t(B1)), D.Gamma(t(A2), t(B2))),
    (kl.Beta(A1, B1), kl.Exponential(B2), D.Beta(t(A1), t(B1)), D.Exponential(t(B2))),
    (kl.Beta(A1, B1), kl.Normal(A2, B2), D.Beta(t(A1), t(B1)), D.Normal(t(A2), t(B2))),
    (kl.Exponential(A1), kl.Normal(A2, B2), D.Exponential(t(A1)), D.Normal(t(A2), t(B2))),
    (kl.Gamma(A1, B1), kl.Normal(A2, B2), D.Gamma(t(A1), t(B1)), D.Normal(t(A2), t(B2))),
    (kl.Laplace(A1, B1), kl.Normal(A2, B2), D.Laplace(t(A1), t(B1)), D.Normal(t(A2), t(B2))),
    (
        kl.Normal(A1 - 3, B1),
        kl.Laplace(A2, B2),
        D.Normal(t(A1 - 3), t(B1)),
        D.Laplace(t(A2), t(B2)),
    ),
    (kl.Bernoulli(PR1), kl.Poisson(A2), D.Bernoulli(t(PR1)), D.Poisson(t(A2))),
]
IDS = [f"{type(p).__name__}-{type(q).__name__}" for p, q, _, _ in PAIRS]


@pytest.mark.parametrize(("p", "q", "tp", "tq"), PAIRS, ids=IDS)
def test_closed_forms_match_torch_distributions(p, q, tp, tq):
    np.testing.assert_allclose(kl.kl_divergence(p, q), D.kl_divergence(tp, tq).numpy(), rtol=1e-10)
    np.testing.assert_allclose(kl.entropy(p), tp.entropy().numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(
        kl.cross_entropy(p, q),
        (tp.entropy() + D.kl_divergence(tp, tq)).numpy(),
        rtol=1e-10,
        atol=1e-13,
    )


def test_poisson_kl_matches_torch():
    got = kl.kl_divergence(kl.Poisson(A1), kl.Poisson(B1))
    ref = D.kl_divergence(D.Poisson(t(A1)), D.Poisson(t(B1))).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert kl.kl_divergence(kl.Poisson(0.0), kl.Poisson(2.5)) == 2.5  # -log P2(0)
    assert kl.kl_divergence(kl.Poisson(1.0), kl.Poisson(0.0)) == math.inf
    assert kl.kl_divergence(kl.Poisson(3.0), kl.Poisson(3.0)) == 0.0


def test_entropies_match_scipy():
    counts = np.array([0, 1, 7, 40, 3, 9])
    cases = [
        (kl.Gamma(A1, B1), ss.gamma(A1, scale=1 / B1).entropy()),
        (kl.Beta(A1, B1), ss.beta(A1, B1).entropy()),
        (kl.Geometric(PR1), ss.geom(PR1).entropy()),  # a shift does not change entropy
        (kl.Binomial(counts, PR1), ss.binom(counts, PR1).entropy()),
        (kl.StudentT(A1, B1, A2), ss.t(A1, B1, A2).entropy()),
        (kl.Poisson(A1 * 3), ss.poisson(A1 * 3).entropy()),
    ]
    for family, ref in cases:
        np.testing.assert_allclose(kl.entropy(family), ref, rtol=1e-10, err_msg=repr(family))
    for a in ALPHA1:
        np.testing.assert_allclose(kl.entropy(kl.Dirichlet(a)), ss.dirichlet(a).entropy())
    for m, c in zip(MU1, COV1, strict=True):
        got = kl.entropy(kl.MultivariateNormal(m, covariance_matrix=c))
        np.testing.assert_allclose(got, ss.multivariate_normal(m, c).entropy())
    np.testing.assert_allclose(
        kl.entropy(kl.StudentT(A1)), D.StudentT(t(A1)).entropy().numpy(), rtol=1e-12
    )


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


def test_poisson_against_bounded_counts_is_infinite_unless_all_mass_is_at_zero():
    rates = np.array([0.0, 2.0])
    got = kl.kl_divergence(kl.Poisson(rates), kl.Binomial(3, 0.4))
    np.testing.assert_allclose(got, [-ss.binom(3, 0.4).logpmf(0), math.inf])
    assert float(kl.kl_divergence(kl.Poisson(0.0), kl.Bernoulli(0.25))) == pytest.approx(
        -math.log(0.75), rel=1e-15
    )
    assert kl.kl_divergence(kl.Poisson(0.0), kl.Binomial(0, 1.0)) == 0.0
    assert kl.kl_divergence(kl.Poisson(1.0), kl.Bernoulli(0.5)) == math.inf


def test_generic_erf_matches_scipy():
    import array_api_compat.numpy as xp
    import scipy.special as sc

    x = np.concatenate([np.linspace(-8, 8, 3201), [1e-300, -1e-12, 5.999, 6.0]])
    ref = sc.erf(x)
    rel = np.abs(_special.erf(x, xp) - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 4e-15


def test_support_rules_give_exact_infinities():
    assert kl.kl_divergence(kl.Gamma(2.0, 1.0), kl.Beta(2.0, 2.0)) == math.inf
    assert kl.kl_divergence(kl.Normal(0.0, 1.0), kl.Gamma(2.0, 1.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(-0.5, 0.5), kl.Gamma(2.0, 1.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(0.5, 1.5), kl.Beta(2.0, 2.0)) == math.inf
    assert kl.kl_divergence(kl.Beta(2.0, 2.0), kl.Uniform(0.0, 0.5)) == math.inf
    assert kl.kl_divergence(kl.Exponential(1.0), kl.Uniform(0.0, 5.0)) == math.inf
    assert kl.kl_divergence(kl.StudentT(2.0), kl.Normal(0.0, 1.0)) == math.inf  # no variance


def test_lgamma_digamma_generic_match_mpmath():
    import array_api_compat.numpy as xp
    import array_api_strict as strict

    x = np.concatenate(
        [np.logspace(-30, -1, 20), np.linspace(0.05, 25, 400), np.logspace(1.5, 200, 40)]
    )
    with mp.workdps(30):
        lg = np.array([float(mp.loggamma(mp.mpf(v))) for v in x])
        dg = np.array([float(mp.digamma(mp.mpf(v))) for v in x])
    scale_lg, scale_dg = np.maximum(1, np.abs(lg)), np.maximum(1, np.abs(dg))
    assert np.max(np.abs(_special.lgamma(x, xp) - lg) / scale_lg) < 2e-14
    assert np.max(np.abs(_special.digamma(x, xp) - dg) / scale_dg) < 2e-14
    got = np.from_dlpack(_special.lgamma(strict.asarray(x), strict))
    assert np.max(np.abs(got - lg) / scale_lg) < 2e-14
    small = x < 1e30  # representable in float32
    got32 = _special.digamma(x[small].astype(np.float32), xp)
    assert got32.dtype == np.float32
    assert np.max(np.abs(got32 - dg[small]) / scale_dg[small]) < 1e-5


def _families_for(asarray):
    a = asarray
    return [
        (kl.Gamma(a(A1), a(B1)), kl.Gamma(a(A2), 1.5)),
        (kl.Beta(a(A1), a(B1)), kl.Beta(a(A2), a(B2))),
        (kl.Dirichlet(a(ALPHA1)), kl.Dirichlet(a(ALPHA2))),
        (kl.Poisson(a(A1)), kl.Poisson(a(B1))),
        (kl.Geometric(a(PR1)), kl.Geometric(a(PR2))),
        (kl.Binomial(a(np.array([3.0, 5, 5, 0, 2, 9])), a(PR1)), kl.Binomial(9, a(PR2))),
        (kl.StudentT(a(A1), 0.0, a(B1)), None),
        (kl.Exponential(a(A1)), kl.Gamma(a(A2), a(B2))),
        (kl.Normal(a(A1), a(B1)), kl.Laplace(a(A2), a(B2))),  # erf, native or the series
    ]


def test_every_backend_gives_numpys_answer_in_its_own_library(lib):
    for (p, q), (p0, q0) in zip(_families_for(lib.asarray), _families_for(np.asarray), strict=True):
        got = lib.check_result(kl.entropy(p), dtype="float64")
        np.testing.assert_allclose(got, kl.entropy(p0), rtol=1e-12, atol=1e-14, err_msg=repr(p))
        if q is not None:
            got = lib.check_result(kl.kl_divergence(p, q), dtype="float64")
            np.testing.assert_allclose(got, kl.kl_divergence(p0, q0), rtol=1e-11, atol=1e-14)


def test_multivariate_normal_on_eager_backends(eager_lib):
    a = eager_lib.asarray
    p = kl.MultivariateNormal(a(MU1), scale_tril=a(np.linalg.cholesky(COV1)))
    q = kl.MultivariateNormal(a(MU2[0]), covariance_matrix=a(COV2[0]))  # batch broadcasts
    got = eager_lib.check_result(kl.kl_divergence(p, q), dtype="float64")
    ref = D.kl_divergence(
        D.MultivariateNormal(t(MU1), covariance_matrix=t(COV1)),
        D.MultivariateNormal(t(MU2[0]), covariance_matrix=t(COV2[0])),
    ).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_gradients_match_torch():
    a = t(A1).requires_grad_()
    b = t(B1).requires_grad_()
    ours = kl.kl_divergence(kl.Gamma(a, b), kl.Gamma(2.0, 1.0)) + kl.entropy(kl.Beta(a, b))
    ours.sum().backward()
    g_ours = (a.grad.clone(), b.grad.clone())
    a.grad = b.grad = None
    ref = D.kl_divergence(D.Gamma(a, b), D.Gamma(t(2.0), t(1.0))) + D.Beta(a, b).entropy()
    ref.sum().backward()
    torch.testing.assert_close(g_ours[0], a.grad)
    torch.testing.assert_close(g_ours[1], b.grad)
    lt = torch.linalg.cholesky(t(COV1[0])).requires_grad_()
    q_cov = t(COV2[0])
    kl.kl_divergence(
        kl.MultivariateNormal(t(MU1[0]), scale_tril=lt),
        kl.MultivariateNormal(t(MU2[0]), covariance_matrix=q_cov),
    ).backward()
    g = lt.grad.clone()
    lt.grad = None
    D.kl_divergence(
        D.MultivariateNormal(t(MU1[0]), scale_tril=lt),
        D.MultivariateNormal(t(MU2[0]), covariance_matrix=q_cov),
    ).backward()
    # Only the lower triangle is a parameter (validation rejects anything above the
    # diagonal); torch's formula also sends gradient to the structural zeros above it.
    torch.testing.assert_close(torch.tril(g), torch.tril(lt.grad))


def test_jax_grad_under_jit():
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def loss(c, r):
        return kl.kl_divergence(kl.Gamma(c, r), kl.Gamma(2.0, 1.0)).sum()

    got = jax.jit(jax.grad(loss, argnums=(0, 1)))(jnp.asarray(A1), jnp.asarray(B1))
    a, b = t(A1).requires_grad_(), t(B1).requires_grad_()
    D.kl_divergence(D.Gamma(a, b), D.Gamma(t(2.0), t(1.0))).sum().backward()
    # JAX's float64 digamma (and so its gradient of lgamma) keeps ~9 digits.
    np.testing.assert_allclose(got[0], a.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(got[1], b.grad.numpy(), rtol=1e-8)


BAD_PSD = np.stack([np.eye(2), np.eye(2), np.array([[1.0, 2.0], [2.0, 1.0]])])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: kl.Gamma(np.array([1.0, -2.0]), 1.0),
            r"`Gamma` parameter `concentration` has -2.0 at index 1",
        ),
        (
            lambda: kl.Binomial(np.array([3.0, 2.5]), 0.5),
            r"`Binomial` parameter `total_count` has 2.5 at index 1; it must be a whole number",
        ),
        (
            lambda: kl.Geometric(0.0),
            r"`Geometric` parameter `probs` has 0.0; it must be a probability in \(0, 1\]",
        ),
        (
            lambda: kl.Poisson(np.array([1.0, np.inf])),
            r"`Poisson` parameter `rate` has inf at index 1",
        ),
        (
            lambda: kl.Gamma(np.ones(3), np.ones(4)),
            r"`Gamma` parameters `concentration` \(batch shape \(3,\)\) and `rate` "
            r"\(batch shape \(4,\)\) do not broadcast",
        ),
        (
            lambda: kl.MultivariateNormal(np.zeros((3, 2)), covariance_matrix=BAD_PSD),
            r"`covariance_matrix` is not positive definite at batch index \(2,\): its "
            r"smallest eigenvalue is -1",
        ),
        (
            lambda: kl.MultivariateNormal(
                np.zeros(2), covariance_matrix=np.array([[1.0, 0.5], [0.0, 1.0]])
            ),
            r"`covariance_matrix` is not symmetric: entries differ from their transposes "
            r"by up to 0.5",
        ),
        (
            lambda: kl.MultivariateNormal(
                np.zeros(2), scale_tril=np.array([[1.0, 0.0], [0.3, -1.0]])
            ),
            r"`scale_tril` has diagonal entry -1.0 at index 1",
        ),
        (
            lambda: kl.MultivariateNormal(np.zeros(3), covariance_matrix=np.eye(2)),
            r"`loc` of shape \(..., k\) and `covariance_matrix` of shape \(..., k, k\); "
            r"got \(3,\) and \(2, 2\)",
        ),
    ],
)
def test_invalid_parameters_are_precise_errors(make, message):
    with pytest.raises(kl.DistributionError, match=message):
        make()


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


# The graph computes log(-3) next to the check (NumPy warns), then the check raises.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_dask_parameters_are_checked_when_computed():
    da = requires(Backend.DASK)
    c = np.ones((4, 3))
    c[2, 1] = -1.0
    lazy = kl.entropy(kl.Dirichlet(da.from_array(c, chunks=(2, 3))))
    with pytest.raises(kl.DistributionError, match=r"`concentration` has -1.0 at index 2"):
        lazy.compute()
    rate = da.from_array(np.array([1.0, 2.0, -3.0, 4.0]), chunks=2)
    with pytest.raises(kl.DistributionError, match=r"`rate` has -3.0 at index 2"):
        kl.entropy(kl.Gamma(2.0, rate)).compute()


def test_every_pair_torch_has_in_closed_form_klkit_has_too():
    from klkit.distributions import _families, _pairs

    ours = {c.__name__ for c in vars(_families).values() if isinstance(c, type)}
    have = {(a.__name__, b.__name__) for a, b in _pairs.PAIRS}
    have |= {("Bernoulli", "Bernoulli"), ("Geometric", "Geometric")}  # handled before _PAIRS
    torch_pairs = {
        (a.__name__, b.__name__)
        for a, b in torch.distributions.kl._KL_REGISTRY
        if a.__name__ in ours and b.__name__ in ours
    }
    assert torch_pairs - have == set()


def test_binomial_support_is_where_the_mass_is():
    # Binomial(7, 0) is all at 0, inside Binomial(5, .)'s support: -log Q(0) = 5 log 2
    got = float(kl.kl_divergence(kl.Binomial(7, 0.0), kl.Binomial(5, 0.5)))
    assert got == pytest.approx(5 * math.log(2), rel=1e-14)
    assert kl.kl_divergence(kl.Binomial(7, 1.0), kl.Binomial(5, 0.5)) == math.inf


def test_p_and_q_batches_that_do_not_broadcast_are_named():
    with pytest.raises(
        kl.DistributionError,
        match=r"kl_divergence\(Normal, Normal\): P \(batch shape \(3,\)\) and Q \(batch "
        r"shape \(4,\)\) do not broadcast",
    ):
        kl.kl_divergence(kl.Normal(np.zeros(3), 1.0), kl.Normal(np.zeros(4), 1.0))


def test_multivariate_normal_on_dask_is_lazy_and_checked_when_computed():
    da = requires(Backend.DASK)
    p = kl.MultivariateNormal(
        da.from_array(MU1, chunks=(2, 3)), covariance_matrix=da.from_array(COV1, chunks=2)
    )
    q = kl.MultivariateNormal(da.from_array(MU2[0]), covariance_matrix=da.from_array(COV2[0]))
    lazy = kl.kl_divergence(p, q)
    assert type(lazy).__module__.startswith("dask")
    ref = D.kl_divergence(
        D.MultivariateNormal(t(MU1), covariance_matrix=t(COV1)),
        D.MultivariateNormal(t(MU2[0]), covariance_matrix=t(COV2[0])),
    ).numpy()
    np.testing.assert_allclose(lazy.compute(), ref, rtol=1e-10)
    np.testing.assert_allclose(
        kl.entropy(p).compute(), D.MultivariateNormal(t(MU1), t(COV1)).entropy().numpy()
    )
    bad = COV1.copy()
    bad[1] = np.diag([1.0, -1.0, 1.0])[: bad.shape[1], : bad.shape[2]]
    lazy_bad = kl.entropy(
        kl.MultivariateNormal(da.from_array(MU1), covariance_matrix=da.from_array(bad, chunks=1))
    )
    with pytest.raises(
        kl.DistributionError, match=r"`covariance_matrix` is not positive definite at index 1"
    ):
        lazy_bad.compute()


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


def test_dask_checks_line_up_with_differently_chunked_parameters():
    da = requires(Backend.DASK)
    scale = np.ones(6)
    scale[4] = math.inf
    lazy = kl.entropy(
        kl.Normal(da.from_array(np.zeros(6), chunks=2), da.from_array(scale, chunks=3))
    )
    with pytest.raises(kl.DistributionError, match=r"`scale` has inf at index 4"):
        lazy.compute()
    cov = np.broadcast_to(np.eye(3), (6, 3, 3)).copy()
    ok = kl.MultivariateNormal(
        da.from_array(np.zeros((6, 3)), chunks=(2, 3)),
        covariance_matrix=da.from_array(cov, chunks=3),
    )
    np.testing.assert_allclose(kl.entropy(ok).compute(), 1.5 * math.log(2 * math.pi * math.e))
