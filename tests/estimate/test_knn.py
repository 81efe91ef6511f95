"""klkit.estimate, continuous samples: the kNN estimators, ties, rounding, odd inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from estimate_reference import H_STD_NORMAL

import klkit as kl
import klkit.estimate as ke


def test_knn_kl_of_two_normals_is_one_half():
    g = np.random.default_rng(1)
    est = ke.kl_divergence(g.normal(0, 1, 8000), g.normal(1, 1, 8000), rng=0)
    assert est.method == "knn"
    assert est.n == (8000, 8000)
    assert abs(est.value - 0.5) < 4 * est.stderr
    assert est.ci_low < 0.5 < est.ci_high


def test_knn_kl_of_5d_gaussians_matches_the_closed_form():
    g = np.random.default_rng(2)
    d = 5
    mu, cov = np.full(d, 0.4), np.diag(np.linspace(0.6, 1.8, d))
    truth = float(
        kl.kl_divergence(
            kl.MultivariateNormal(np.zeros(d), covariance_matrix=np.eye(d)),
            kl.MultivariateNormal(mu, covariance_matrix=cov),
        )
    )
    x = g.multivariate_normal(np.zeros(d), np.eye(d), 6000)
    y = g.multivariate_normal(mu, cov, 6000)
    est = ke.kl_divergence(x, y, rng=0)
    assert abs(est.value - truth) < 4 * est.stderr, (est, truth)


def test_kozachenko_leonenko_entropy_and_bias_shrinking_with_n():
    g = np.random.default_rng(3)
    errors = {}
    for n in (60, 3000):
        values = [ke.entropy(g.normal(0, 1, n), groups=None).value for _ in range(30)]
        errors[n] = abs(float(np.mean(values)) - H_STD_NORMAL)
    assert errors[3000] < errors[60] / 2, errors
    assert errors[3000] < 0.02


def test_duplicates_are_handled_not_log_zero():
    g = np.random.default_rng(8)
    x = np.round(g.normal(0, 1, 4000), 1)  # every value repeated many times
    y = np.round(g.normal(1, 1, 4000), 1)
    est = ke.kl_divergence(x, y, rng=0)
    assert math.isfinite(est.value)
    assert abs(est.value - 0.5) < 0.15
    assert math.isfinite(ke.entropy(x, rng=0).value)
    # two values, three copies each: the 3rd neighbour is the first at a positive distance
    assert math.isfinite(ke.entropy(np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0]), groups=None).value)
    with pytest.raises(ValueError, match=r"look discrete.*method='plugin'"):
        ke.entropy(np.ones(6))


def test_rounded_measurements_estimate_the_underlying_density():
    g = np.random.default_rng(14)
    for decimals in (2, 1):
        x = np.round(g.normal(0, 1, 5000), decimals)
        est = ke.entropy(x, rng=0)
        assert abs(est.value - H_STD_NORMAL) < 4 * est.stderr, (decimals, est)
        assert "resolution" in est.note
    a, b = np.round(g.normal(0, 1, 5000), 1), np.round(g.normal(1, 1, 5000), 1)
    est = ke.kl_divergence(a, b, rng=0)
    assert abs(est.value - 0.5) < 4 * est.stderr


def test_two_points_give_an_estimate_without_an_interval():
    # each jackknife replicate would keep 1 point, too few for a nearest neighbour
    est = ke.entropy(np.array([0.0, 1.5]), rng=0)
    assert est.method == "knn"
    assert math.isnan(est.stderr)
    assert "no interval" in str(est)
    # kNN with k = 1 on two points: psi(2) - psi(1) + log 2 + log 1.5 (d = 1, V_1 = 2)
    assert est.value == pytest.approx(1.0 + math.log(2) + math.log(1.5), rel=1e-12)


def test_samples_whose_squared_distances_overflow_are_refused():
    with pytest.raises(ValueError, match=r"`p` has values up to 1e\+308 in size; .* Rescale"):
        ke.entropy(np.array([0.5, 1e308, 2.5]))


def test_torch_samples_are_accepted():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(2000, generator=g), torch.randn(2000, generator=g) + 1
    est = ke.kl_divergence(x, y, rng=0)
    ref = ke.kl_divergence(x.numpy(), y.numpy(), rng=0)
    assert est == ref


def test_samples_that_need_a_gradient_are_read():
    torch = pytest.importorskip("torch")
    x = torch.randn(500, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert ke.entropy(x, rng=0) == ke.entropy(x.detach().numpy(), rng=0)
