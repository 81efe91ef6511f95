"""Parametric families in closed form against torch.distributions, SciPy and mpmath."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as ss
from backends import Backend, requires

import klkit as kl

torch = requires(Backend.TORCH)
D = torch.distributions

RNG = np.random.default_rng(0)
LOC1, LOC2 = RNG.normal(size=5), RNG.normal(size=5)
SC1, SC2 = RNG.uniform(0.2, 3, size=5), RNG.uniform(0.2, 3, size=5)
PR1, PR2 = RNG.uniform(0.01, 0.99, size=5), RNG.uniform(0.01, 0.99, size=5)


def t(x):
    return torch.asarray(x, dtype=torch.float64)


PAIRS = [
    (
        kl.Normal(LOC1, SC1),
        kl.Normal(LOC2, SC2),
        D.Normal(t(LOC1), t(SC1)),
        D.Normal(t(LOC2), t(SC2)),
    ),
    (
        kl.LogNormal(LOC1, SC1),
        kl.LogNormal(LOC2, SC2),
        D.LogNormal(t(LOC1), t(SC1)),
        D.LogNormal(t(LOC2), t(SC2)),
    ),
    (
        kl.Laplace(LOC1, SC1),
        kl.Laplace(LOC2, SC2),
        D.Laplace(t(LOC1), t(SC1)),
        D.Laplace(t(LOC2), t(SC2)),
    ),
    (kl.Exponential(SC1), kl.Exponential(SC2), D.Exponential(t(SC1)), D.Exponential(t(SC2))),
    (
        kl.Uniform(LOC1, LOC1 + SC1),
        kl.Uniform(LOC1 - SC2, LOC1 + SC1 + 0.5),
        D.Uniform(t(LOC1), t(LOC1 + SC1)),
        D.Uniform(t(LOC1 - SC2), t(LOC1 + SC1 + 0.5)),
    ),
    (
        kl.Uniform(LOC1, LOC1 + SC1),
        kl.Normal(LOC2, SC2),
        D.Uniform(t(LOC1), t(LOC1 + SC1)),
        D.Normal(t(LOC2), t(SC2)),
    ),
    (
        kl.Uniform(SC1, SC1 + SC2),
        kl.Exponential(SC2),
        D.Uniform(t(SC1), t(SC1 + SC2)),
        D.Exponential(t(SC2)),
    ),
    (kl.Bernoulli(PR1), kl.Bernoulli(PR2), D.Bernoulli(t(PR1)), D.Bernoulli(t(PR2))),
    (
        kl.Bernoulli(logits=LOC1 * 5),
        kl.Bernoulli(logits=LOC2),
        D.Bernoulli(logits=t(LOC1 * 5)),
        D.Bernoulli(logits=t(LOC2)),
    ),
]
IDS = [f"{type(p).__name__}-{type(q).__name__}" for p, q, _, _ in PAIRS]


@pytest.mark.parametrize(("p", "q", "tp", "tq"), PAIRS, ids=IDS)
def test_closed_forms_match_torch_distributions(p, q, tp, tq):
    np.testing.assert_allclose(kl.kl_divergence(p, q), D.kl_divergence(tp, tq).numpy(), rtol=1e-12)
    np.testing.assert_allclose(kl.entropy(p), tp.entropy().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        kl.cross_entropy(p, q, base=2),
        (tp.entropy() + D.kl_divergence(tp, tq)).numpy() / math.log(2),
        rtol=1e-12,
        atol=1e-14,
    )


def test_entropies_match_scipy():
    np.testing.assert_allclose(kl.entropy(kl.Normal(LOC1, SC1)), ss.norm(LOC1, SC1).entropy())
    np.testing.assert_allclose(
        kl.entropy(kl.LogNormal(LOC1, SC1)), ss.lognorm(SC1, scale=np.exp(LOC1)).entropy()
    )
    np.testing.assert_allclose(kl.entropy(kl.Laplace(LOC1, SC1)), ss.laplace(LOC1, SC1).entropy())
    np.testing.assert_allclose(kl.entropy(kl.Exponential(SC1)), ss.expon(scale=1 / SC1).entropy())
    np.testing.assert_allclose(kl.entropy(kl.Bernoulli(PR1)), ss.bernoulli(PR1).entropy())


@pytest.mark.parametrize("rel", [1e-9, 1e-6, 1e-3, 0.5])
def test_nearly_equal_scales_keep_their_digits(rel):
    with mp.workdps(40):
        s1, s2 = 1.3, 1.3 * (1 + rel)
        x = (mp.mpf(s1) / mp.mpf(s2)) ** 2
        ref_normal = float((x - 1 - mp.log(x)) / 2)
        r = mp.mpf(s1) / mp.mpf(s2)
        ref_laplace = float(
            r - 1 - mp.log(r) + r * (mp.exp(-mp.mpf(1e-7) / s1) - 1 + mp.mpf(1e-7) / s1)
        )
        ref_exp = float(1 / r - 1 - mp.log(1 / r))
    assert float(kl.kl_divergence(kl.Normal(0.0, s1), kl.Normal(0.0, s2))) == pytest.approx(
        ref_normal, rel=1e-12
    )
    assert float(kl.kl_divergence(kl.Laplace(1e-7, s1), kl.Laplace(0.0, s2))) == pytest.approx(
        ref_laplace, rel=1e-12
    )
    assert float(kl.kl_divergence(kl.Exponential(s1), kl.Exponential(s2))) == pytest.approx(
        ref_exp, rel=1e-12
    )


def test_support_rules_give_exact_infinities():
    assert kl.kl_divergence(kl.Uniform(0.0, 2.0), kl.Uniform(0.0, 1.0)) == math.inf
    assert kl.kl_divergence(kl.Normal(0.0, 1.0), kl.Uniform(-5.0, 5.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(-1.0, 1.0), kl.Exponential(1.0)) == math.inf
    assert kl.kl_divergence(kl.Uniform(0.0, 1.0), kl.Uniform(0.0, 1.0)) == 0.0


def test_vae_gradient_matches_torch_and_stays_float32():
    mu = torch.randn(4, 3, generator=torch.Generator().manual_seed(1)).requires_grad_()
    log_sigma = (
        0.3 * torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    ).requires_grad_()
    ours = kl.kl_divergence(kl.Normal(mu, log_sigma.exp()), kl.Normal(0.0, 1.0))
    assert ours.dtype == torch.float32
    assert ours.shape == (4, 3)
    ours.sum().backward()
    g_ours = (mu.grad.clone(), log_sigma.grad.clone())
    mu.grad = log_sigma.grad = None
    D.kl_divergence(D.Normal(mu, log_sigma.exp()), D.Normal(0.0, 1.0)).sum().backward()
    torch.testing.assert_close(g_ours[0], mu.grad)
    torch.testing.assert_close(g_ours[1], log_sigma.grad)


def test_jax_gradient_of_the_vae_term():
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy

    def loss(mu, s):
        return kl.kl_divergence(kl.Normal(mu, s), kl.Normal(0.0, 1.0)).sum()

    mu, s = jnp.asarray([0.5, -1.0]), jnp.asarray([0.7, 1.2])
    g_mu, g_s = jax.jit(jax.grad(loss, argnums=(0, 1)))(mu, s)
    np.testing.assert_allclose(g_mu, mu, rtol=1e-6)  # d/dmu (mu^2/2) = mu
    np.testing.assert_allclose(g_s, s - 1 / s, rtol=1e-6)  # d/ds (s^2/2 - log s)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: kl.Normal(np.array([0.0, 1.0]), np.array([1.0, -1.0])),
            "`Normal` parameter `scale` has -1.0 at index 1",
        ),
        (lambda: kl.Exponential(0.0), "`Exponential` parameter `rate` has 0.0; it must be > 0"),
        (
            lambda: kl.Bernoulli(np.array([0.5, 1.5])),
            "`Bernoulli` parameter `probs` has 1.5 at index 1",
        ),
        (lambda: kl.Normal(np.nan, 1.0), "`Normal` parameter `loc` has nan"),
        (
            lambda: kl.Uniform(np.array([0.0, 2.0]), 1.0),
            "`Uniform` needs low < high; `low` is 2.0 at index 1",
        ),
    ],
)
def test_invalid_parameters_name_family_parameter_index_and_value(make, message):
    with pytest.raises(kl.DistributionError, match=message.replace("(", r"\(")):
        make()


def test_mixed_libraries_and_unsupported_pairs_are_clear_errors():
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


def test_bernoulli_js_is_the_two_outcome_js():
    got = kl.js_divergence(kl.Bernoulli(PR1), kl.Bernoulli(logits=np.log(PR2 / (1 - PR2))), base=2)
    ref = kl.js_divergence(np.stack([1 - PR1, PR1], -1), np.stack([1 - PR2, PR2], -1), base=2)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_nearly_equal_normals_beat_torchs_float64():
    s2 = 1.3 * (1 + 1e-9)
    with mp.workdps(40):
        x = (mp.mpf(1.3) / mp.mpf(s2)) ** 2
        ref = float((x - 1 - mp.log(x)) / 2)
    ours = float(kl.kl_divergence(kl.Normal(t(0.0), t(1.3)), kl.Normal(0.0, s2)))
    theirs = float(D.kl_divergence(D.Normal(t(0.0), t(1.3)), D.Normal(t(0.0), t(s2))))
    assert ours == pytest.approx(ref, rel=1e-12)
    assert abs(theirs - ref) > 1e-9 * ref  # torch: 1.5e-8 relative (8 digits)
