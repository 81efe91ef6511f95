"""JAX: under jit and vmap, value checks skipped and results as eager; XLA's CPU quirks."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.special
import scipy.stats as ss
from backends import Backend, requires
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


# --- labelled cross-entropy with torch's options under jit (klkit._backends._jax) --------


def _optax_style(jnp, jax, y, z, w, *, ignore_index, smoothing):
    """Rows and the mean's divisor, written out as optax/torch define them."""
    k = z.shape[-1]
    keep = y != ignore_index
    safe = jnp.where(keep, y, 0)
    lp = jax.nn.log_softmax(z, axis=-1)
    w = jnp.ones(k, z.dtype) if w is None else w
    nll = -jnp.take_along_axis(lp, safe[:, None], axis=-1)[:, 0] * w[safe]
    smooth = -jnp.sum(lp * w, axis=-1)
    rows = (1 - smoothing) * nll + smoothing / k * smooth
    return jnp.where(keep, rows, 0.0), jnp.where(keep, w[safe], 0.0)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_jax_jit_labels_with_options_match_the_optax_style_expression(smoothing, weighted):
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    g = np.random.default_rng(7)
    n, k = 40, 9
    z = jnp.asarray(3 * g.normal(size=(n, k)))
    y = jnp.asarray(np.where(g.random(n) < 0.2, -100, g.integers(0, k, n)))
    w = jnp.asarray(g.random(k) + 0.5) if weighted else None
    labels = kl.Labels(y, ignore_index=-100, smoothing=smoothing)

    def mine(z, w):
        return kl.cross_entropy(labels, kl.Logits(z), weight=w, reduction="mean")

    def ref(z, w):
        rows, counts = _optax_style(jnp, jax, y, z, w, ignore_index=-100, smoothing=smoothing)
        return jnp.sum(rows) / jnp.sum(counts)

    got = jax.jit(mine)(z, w)
    np.testing.assert_allclose(got, ref(z, w), rtol=1e-13)
    np.testing.assert_allclose(
        jax.jit(lambda z: kl.cross_entropy(labels, kl.Logits(z), weight=w))(z),
        _optax_style(jnp, jax, y, z, w, ignore_index=-100, smoothing=smoothing)[0],
        rtol=1e-13,
        atol=1e-15,
    )
    argnums = (0, 1) if weighted else 0
    got_g = jax.jit(jax.grad(mine, argnums=argnums))(z, w)
    ref_g = jax.grad(ref, argnums=argnums)(z, w)
    for a, b in zip(jax.tree.leaves(got_g), jax.tree.leaves(ref_g), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # the eager, validated call takes the generic path and agrees
    np.testing.assert_allclose(mine(z, w), got, rtol=1e-13)


@st.composite
def _hostile_ce_case(draw):
    """Rows XLA's fast path could get wrong: offsets, -inf, confident and far labels."""
    n, k = draw(st.integers(1, 5)), draw(st.integers(2, 40))
    g = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    offset = draw(st.sampled_from([0.0, -30.0, 1e4, -1e4]))
    z = offset + draw(st.sampled_from([0.5, 5.0, 40.0])) * g.normal(size=(n, k))
    y = g.integers(0, k, n)
    where = draw(st.sampled_from(["random", "argmax", "argmin"]))
    if where != "random":
        y = np.argmax(z, axis=1) if where == "argmax" else np.argmin(z, axis=1)
    if draw(st.booleans()):  # confident rows: the label 40 above the rest
        z[np.arange(n), y] = z.max(axis=1) + 40.0
    if draw(st.booleans()):  # -inf anywhere but at each row's maximum
        top = z.max(axis=1, keepdims=True)
        z[(g.random((n, k)) < 0.2) & (z < top)] = -np.inf
    w = None
    if draw(st.booleans()):
        w = g.random(k) + 0.5
        w[g.random(k) < 0.3] = 0.0
        if draw(st.booleans()):  # the labels' weights 0: the smoothing terms are the row
            w[y] = 0.0
        w = w.astype(dtype)
    return z.astype(dtype), y, w, draw(st.sampled_from([0.0, 0.1, 0.7]))


def _mp_ce_row(z, y, w, eps):
    """torch's row from exact arithmetic; a weight of 0 makes its term 0, even at -inf.

    ``-log q_k = log1p(sum of exp(z_j - z_max) off one maximum) - (z_k - z_max)``: the
    differences of floats are exact at 60 digits, and log1p keeps a tiny L's digits.
    """
    with mp.workdps(60):
        k = len(z)
        w = [mp.mpf(1)] * k if w is None else [mp.mpf(float(v)) for v in w]
        top = int(np.argmax(z))
        s = [mp.mpf(float(v)) - mp.mpf(float(z[top])) for v in z]
        big_l = mp.log1p(mp.fsum(mp.exp(s[i]) for i in range(k) if i != top and z[i] > -np.inf))

        def term(i):
            if w[i] == 0:
                return mp.mpf(0)
            return mp.inf if z[i] == -np.inf else w[i] * (big_l - s[i])

        row = (1 - mp.mpf(eps)) * term(y)
        return row + mp.mpf(eps) / k * mp.fsum(term(i) for i in range(k)) if eps else row


@settings(max_examples=200, deadline=None)
@given(_hostile_ce_case())
@example(  # the label's weight 0, a dominant maximum elsewhere: L's own digits are the row
    (
        np.array([[-46.865944, -7.981612], [9.36073, -26.98693]], dtype=np.float32),
        np.array([1, 1]),
        np.array([0.9433711, 0.0], dtype=np.float32),
        0.1,
    )
)
def test_jax_jit_labels_rows_against_mpmath(case):
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    z, y, w, eps = case
    labels = kl.Labels(jnp.asarray(y), smoothing=eps)
    rows = jax.jit(lambda z, w: kl.cross_entropy(labels, kl.Logits(z), weight=w))(
        jnp.asarray(z), None if w is None else jnp.asarray(w)
    )
    assert rows.dtype == z.dtype
    rtol = 1e-12 if z.dtype == np.float64 else 2e-5
    tiny = float(np.finfo(z.dtype).tiny)  # XLA on CPU flushes subnormal results to zero
    for i, got in enumerate(np.asarray(rows, dtype=np.float64)):
        want = _mp_ce_row(z[i], y[i], w, eps)
        if mp.isinf(want):
            assert got == np.inf, (i, got)
        else:
            assert got == pytest.approx(float(want), rel=rtol, abs=tiny), (i, got, want)


def test_jax_jit_labels_weight_gradient_keeps_a_dominant_class_digits():
    # d row / d w_k = eps/K (-log q_k): for a class off the label holding nearly all
    # the mass, -log q_k = log1p(e^-28) ~ 6.6e-13, which 1 + R would round to 0
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    z = np.array([[-9998.87109375, -9970.83203125], [-9998.279296875, -9913.6220703125]])
    z = z.astype(np.float32)
    y, w, eps = np.array([0, 0]), np.array([0.6469758, 0.9571988], np.float32), 0.1

    def loss(w):
        labels = kl.Labels(jnp.asarray(y), smoothing=eps)
        return kl.cross_entropy(labels, kl.Logits(jnp.asarray(z)), weight=w, reduction="sum")

    got = np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(w)), dtype=np.float64)
    with mp.workdps(40):
        s = [[mp.mpf(float(a)) - mp.mpf(float(row.max())) for a in row] for row in z]
        big_l = [mp.log1p(mp.exp(row[0])) for row in s]  # class 1 is each row's maximum
        want_1 = eps / 2 * mp.fsum(big_l[i] - s[i][1] for i in range(2))
        want_0 = mp.fsum(
            (1 - eps) * (big_l[i] - s[i][0]) + eps / 2 * (big_l[i] - s[i][0]) for i in range(2)
        )
    assert got[1] == pytest.approx(float(want_1), rel=1e-5, abs=0.0)
    assert got[0] == pytest.approx(float(want_0), rel=1e-5, abs=0.0)


@pytest.mark.parametrize(
    ("dtype", "k", "labels"),
    [("uint8", 256, [0, 7, 255]), ("int8", 200, [0, 7, 100]), ("int16", 50257, [3, 30000])],
)
def test_jax_jit_narrow_integer_labels_do_not_wrap(dtype, k, labels):
    # K (256, 200, 50257) and ignore_index (-100) do not fit these dtypes: no wrap-around
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    g = np.random.default_rng(0)
    z = g.normal(size=(len(labels), k)).astype(np.float32)
    y = np.array(labels, dtype=dtype)
    got = jax.jit(
        lambda z: kl.cross_entropy(kl.Labels(jnp.asarray(y), ignore_index=-100), kl.Logits(z))
    )(jnp.asarray(z))
    want = _logsumexp_ce(z.astype(np.float64), y.astype(np.int64))
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=2e-6)


def _logsumexp_ce(z, y):
    """-log softmax(z)[y] per row, from SciPy's logsumexp."""
    return scipy.special.logsumexp(z, axis=-1) - z[np.arange(len(y)), y]


@pytest.mark.parametrize("temperature", [3.0, 2.7, 0.7])
def test_jax_jit_generic_path_with_temperature_keeps_the_maximum(temperature):
    # XLA fuses z / T into z / T - max: the maximum's shifted logit was not exactly 0,
    # and a labelled cross-entropy of 6.34 came out as 2.9e-14 (where= takes the
    # generic path; bfloat16 logits do too)
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    g = np.random.default_rng(5)
    z = np.vstack([[20.0, 1.0, -3.0], g.normal(size=(6, 3)) * 5])
    y = np.array([1, 0, 1, 2, 0, 1, 2])
    keep = jnp.ones(len(y), bool)

    def rows(z):
        labels = kl.Labels(jnp.asarray(y))
        return kl.cross_entropy(labels, kl.Logits(z, temperature=temperature), where=keep)

    x = z / temperature
    want = scipy.special.logsumexp(x, axis=-1) - x[np.arange(len(y)), y]
    # z / T rounded or not (fused) moves a row of 1e-4 by an ulp of the logits: 1e-11
    np.testing.assert_allclose(jax.jit(rows)(jnp.asarray(z)), want, rtol=1e-10)


def test_jax_jit_labels_edge_rows_have_exact_values_and_finite_zero_gradients():
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    inf, nan = math.inf, math.nan
    z = jnp.asarray(
        [
            [0.0, -inf, 1.0],  # -inf off the label: finite
            [-inf, 0.0, 1.0],  # -inf at the label: +inf
            [nan, inf, 0.0],  # ignored: 0, gradient 0
            [40.0, 0.0, 0.0],  # confident: 2 e^-40, not 0
        ]
    )
    y = jnp.asarray([2, 0, -100, 0])
    rows = jax.jit(
        lambda z: kl.cross_entropy(kl.Labels(y, ignore_index=-100), kl.Logits(z), validate=False)
    )(z)
    assert float(rows[0]) == pytest.approx(math.log1p(math.exp(-1.0)), rel=1e-15)
    assert float(rows[1]) == math.inf
    assert float(rows[2]) == 0.0
    assert float(rows[3]) == pytest.approx(math.log1p(2 * math.exp(-40.0)), rel=1e-15, abs=0.0)

    def loss(z):
        labels = kl.Labels(y, ignore_index=-100, smoothing=0.1)
        return kl.cross_entropy(labels, kl.Logits(z), reduction="sum")

    grad = np.asarray(jax.jit(jax.grad(loss))(z.at[1, 0].set(0.0)))
    assert np.all(np.isfinite(grad))
    assert np.all(grad[2] == 0.0)
    soft = np.exp(np.asarray(z[0])) / np.exp(np.asarray(z[0])).sum()
    np.testing.assert_allclose(grad[0], soft - 0.9 * np.eye(3)[2] - 0.1 / 3, rtol=1e-14)


def test_jax_jit_all_ignored_mean_is_zero_with_zero_gradient_and_bad_labels_are_nan():
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    z = jnp.asarray([[1.0, 2.0], [jnp.inf, 0.0]])

    def loss(z, y):
        labels = kl.Labels(y, ignore_index=-100, smoothing=0.1)
        return kl.cross_entropy(labels, kl.Logits(z), weight=jnp.ones(2), reduction="mean")

    value, grad = jax.jit(jax.value_and_grad(loss))(z, jnp.asarray([-100, -100]))
    assert float(value) == 0.0
    assert np.all(np.asarray(grad) == 0.0)
    rows = jax.jit(
        lambda z: kl.cross_entropy(
            kl.Labels(jnp.asarray([5, 1]), ignore_index=-100), kl.Logits(z), validate=False
        )
    )(jnp.asarray([[1.0, 2.0], [0.0, 0.0]]))
    assert math.isnan(float(rows[0]))
    assert float(rows[1]) == pytest.approx(math.log(2), rel=1e-6)


def test_jax_labels_eager_validation_is_unchanged_and_vmap_works():
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    z = jnp.asarray([[1.0, 2.0], [0.0, 0.0]])
    with pytest.raises(kl.DistributionError, match="class index 5"):
        kl.cross_entropy(kl.Labels(jnp.asarray([5, 1]), ignore_index=-100), kl.Logits(z))
    with pytest.raises(ValueError, match=r"`weight` has -1\.0"):
        kl.cross_entropy(
            kl.Labels(jnp.asarray([0, 1]), smoothing=0.1),
            kl.Logits(z),
            weight=jnp.asarray([1, -1.0]),
        )
    y = jnp.asarray([[0, 1], [1, -100]])
    zz = jnp.stack([z, 2 * z])
    batched = jax.vmap(
        lambda y, z: kl.cross_entropy(
            kl.Labels(y, ignore_index=-100, smoothing=0.1), kl.Logits(z), reduction="mean"
        )
    )(y, zz)
    for i in range(2):
        labels = kl.Labels(np.asarray(y[i]), ignore_index=-100, smoothing=0.1)
        eager = kl.cross_entropy(labels, kl.Logits(np.asarray(zz[i])), reduction="mean")
        assert float(batched[i]) == pytest.approx(float(eager), rel=1e-6)
