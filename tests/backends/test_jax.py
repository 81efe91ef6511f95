"""JAX: under jit and vmap, value checks skipped and results as eager; XLA's CPU quirks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss
from backends import Backend, requires

import klkit as kl


def test_jax_jit_skips_value_checks_and_matches_eager():
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    jax.config.update("jax_enable_x64", True)
    p = jnp.asarray([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    q = jnp.asarray([[0.3, 0.3, 0.4], [0.1, 0.2, 0.7]])
    for fn in (kl.kl_divergence, kl.cross_entropy, kl.js_divergence, kl.js_distance):
        jitted = jax.jit(lambda a, b, fn=fn: fn(a, b, base=2))
        np.testing.assert_allclose(jitted(p, q), fn(p, q, base=2), rtol=1e-14)
    y = jnp.asarray([2, 0])
    jitted = jax.jit(lambda y, z: kl.cross_entropy(kl.Labels(y), kl.Logits(z)))
    np.testing.assert_allclose(
        jitted(y, q), kl.cross_entropy(kl.Labels(y), kl.Logits(q)), rtol=1e-14
    )
    # value checks need concrete values: inside jit they are skipped, not failing
    out = jax.jit(kl.entropy)(jnp.asarray([0.5, 0.6]))
    assert math.isfinite(float(out))
    # outside jit the same input is refused
    with pytest.raises(kl.DistributionError, match=r"sums to 1\.1"):
        kl.entropy(jnp.asarray([0.5, 0.6]))


def test_jax_vmap():
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    p = jnp.asarray([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    q = jnp.asarray([[0.3, 0.3, 0.4], [0.1, 0.2, 0.7]])
    out = jax.vmap(kl.kl_divergence)(p, q)
    np.testing.assert_allclose(out, ss.entropy(np.asarray(p), np.asarray(q), axis=-1), rtol=1e-12)


def test_jax_normalizes_weights_near_float_max():
    # XLA divides by a row sum as a multiplication by its reciprocal, which flushed to
    # 0 for sums above 2^1022: x / sum(x) of [1e308, 0.7] was [0, 0] (found by the
    # hostile fuzz). Reference: the same call on NumPy, and -log(0.93) by hand.
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    p, q = np.array([1e308, 0.7]), np.array([0.93, 0.07])
    for f in (
        lambda a, b: kl.cross_entropy(a, b, normalize=True),
        jax.jit(lambda a, b: kl.cross_entropy(a, b, normalize=True)),
    ):
        assert float(f(jnp.asarray(p), jnp.asarray(q))) == pytest.approx(-math.log(0.93), 1e-15)
    got = kl.kl_divergence(jnp.asarray(p), jnp.asarray(q), normalize=True)
    assert float(got) == pytest.approx(float(kl.kl_divergence(p, q, normalize=True)), rel=1e-14)
    got = kl.cross_entropy(kl.Labels(jnp.asarray(0)), jnp.asarray(p), normalize=True)
    assert float(got) == 0.0  # -log(1e308 / (1e308 + 0.7)) underflows to 0
