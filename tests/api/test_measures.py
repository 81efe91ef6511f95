"""Each measure against independent references, on every backend.

Expected values come from SciPy (stats.entropy, special.rel_entr/entr,
spatial.distance.jensenshannon), PyTorch (F.kl_div, F.cross_entropy,
F.binary_cross_entropy_with_logits) or closed forms, never from klkit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sc
import scipy.stats as ss
from backends import Backend, requires
from scipy.spatial.distance import jensenshannon

import klkit as kl

RNG = np.random.default_rng(20261125)


def _rand(shape: tuple[int, ...], zeros: bool = False) -> np.ndarray:
    x = RNG.random(shape)
    if zeros:
        x[..., 0] = 0.0
    return x / x.sum(-1, keepdims=True)


P = _rand((4, 7), zeros=True)
Q = _rand((4, 7))
FAIR = np.full(6, 1 / 6)
LOADED = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])


# --- the post's example and closed forms -------------------------------------------------


def test_fair_die_entropy_is_log2_6_bits(lib):
    h = kl.entropy(lib.asarray(FAIR), base=2)
    assert lib.check_result(h, dtype="float64") == pytest.approx(math.log2(6), rel=1e-15)


def test_loaded_die_gives_higher_cross_entropy(lib):
    # The world follows the fair die; predicting it with the loaded die costs more
    # than predicting it with the fair die itself (whose cross-entropy is H = log2 6).
    fair, loaded = lib.asarray(FAIR), lib.asarray(LOADED)
    h_loaded = lib.to_numpy(kl.cross_entropy(fair, loaded, base=2))
    h_fair = lib.to_numpy(kl.cross_entropy(fair, fair, base=2))
    assert h_fair == pytest.approx(math.log2(6), rel=1e-15)
    # closed form: -(5/6) log2 0.1 - (1/6) log2 0.5
    assert h_loaded == pytest.approx(-(5 / 6) * math.log2(0.1) - (1 / 6) * math.log2(0.5))
    assert h_loaded > h_fair


def test_bce_zero_when_right_infinite_when_certainly_wrong(lib):
    y = lib.asarray([1.0, 0.0, 1.0, 0.0])
    y_hat = lib.asarray([1.0, 0.0, 0.0, 1.0])
    out = lib.check_result(kl.binary_cross_entropy(y, y_hat), dtype="float64")
    np.testing.assert_array_equal(out, [0.0, 0.0, np.inf, np.inf])


def test_inf_is_exact_where_q_is_zero(lib):
    out = kl.kl_divergence(lib.asarray([0.5, 0.5]), lib.asarray([1.0, 0.0]))
    assert lib.to_numpy(out) == np.inf
    out = kl.cross_entropy(lib.asarray([0.5, 0.5]), lib.asarray([1.0, 0.0]))
    assert lib.to_numpy(out) == np.inf


def test_zero_p_contributes_nothing(lib):
    # 0 log 0 = 0 and 0 log(0/q) = 0: p = (0, 1) against q = (0, 1) is exactly 0
    p, q = lib.asarray([0.0, 1.0]), lib.asarray([0.0, 1.0])
    assert lib.to_numpy(kl.kl_divergence(p, q)) == 0.0
    assert lib.to_numpy(kl.entropy(p)) == 0.0
    assert lib.to_numpy(kl.cross_entropy(p, q)) == 0.0


# --- SciPy references ----------------------------------------------------------------------


@pytest.mark.parametrize("base", [None, 2, 10, 3.5])
def test_entropy_matches_scipy(lib, base):
    out = lib.check_result(kl.entropy(lib.asarray(P), base=base), dtype="float64")
    np.testing.assert_allclose(out, ss.entropy(P, base=base, axis=-1), rtol=1e-13)


@pytest.mark.parametrize("base", [None, 2, 10])
def test_kl_matches_scipy(lib, base):
    out = lib.check_result(
        kl.kl_divergence(lib.asarray(P), lib.asarray(Q), base=base), dtype="float64"
    )
    np.testing.assert_allclose(out, ss.entropy(P, Q, base=base, axis=-1), rtol=1e-12)
    ref = sc.rel_entr(P, Q).sum(-1) / (math.log(base) if base else 1.0)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_cross_entropy_matches_scipy(lib):
    out = lib.check_result(kl.cross_entropy(lib.asarray(P), lib.asarray(Q)), dtype="float64")
    # H(P, Q) = H(P) + D(P||Q), both from scipy.stats.entropy
    ref = ss.entropy(P, axis=-1) + ss.entropy(P, Q, axis=-1)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


@pytest.mark.parametrize("base", [None, 2])
def test_js_matches_scipy(lib, base):
    dist = kl.js_distance(lib.asarray(P), lib.asarray(Q), base=base)
    ref = jensenshannon(P, Q, base=base, axis=-1)
    np.testing.assert_allclose(lib.check_result(dist, dtype="float64"), ref, rtol=1e-12)
    div = kl.js_divergence(lib.asarray(P), lib.asarray(Q), base=base)
    np.testing.assert_allclose(lib.to_numpy(div), ref**2, rtol=1e-12)


def test_normalize_matches_scipy_on_counts(lib):
    counts = np.array([[3, 0, 1, 6], [1, 1, 1, 1]])
    other = np.array([[1, 2, 3, 4], [4, 3, 2, 1]])
    h = kl.entropy(lib.asarray(counts), normalize=True)
    # integer counts give the library's default float
    default = "float32" if lib.name in ("torch", "jax") and not _jax_x64(lib) else "float64"
    out = lib.check_result(h, dtype=default)
    np.testing.assert_allclose(out, ss.entropy(counts, axis=-1), rtol=1e-6)
    d = kl.kl_divergence(lib.asarray(counts), lib.asarray(other), normalize=True)
    np.testing.assert_allclose(lib.to_numpy(d), ss.entropy(counts, other, axis=-1), rtol=1e-6)


def _jax_x64(lib) -> bool:
    if lib.name != "jax":
        return False
    import jax

    return bool(jax.config.jax_enable_x64)


def test_axis_none_is_one_distribution(lib):
    grid = RNG.random((3, 4))
    grid /= grid.sum()
    out = kl.entropy(lib.asarray(grid), axis=None)
    assert lib.to_numpy(out) == pytest.approx(ss.entropy(grid.ravel()), rel=1e-13)
    kept = kl.entropy(lib.asarray(grid), axis=None, keepdims=True)
    assert tuple(kept.shape) == (1, 1)


def test_axis_and_keepdims(lib):
    out = kl.kl_divergence(lib.asarray(P.T), lib.asarray(Q.T), axis=0, keepdims=True)
    assert tuple(out.shape) == (1, 4)
    np.testing.assert_allclose(lib.to_numpy(out)[0], ss.entropy(P, Q, axis=-1), rtol=1e-12)


def test_one_p_against_a_batch_of_q(lib):
    p = P[1]
    out = kl.kl_divergence(lib.asarray(p), lib.asarray(Q))
    np.testing.assert_allclose(lib.to_numpy(out), [ss.entropy(p, q) for q in Q], rtol=1e-12)


def test_float32_in_float32_out(lib):
    p32, q32 = P.astype(np.float32), Q.astype(np.float32)
    for fn in (kl.kl_divergence, kl.cross_entropy, kl.js_divergence, kl.js_distance):
        out = lib.check_result(fn(lib.asarray(p32), lib.asarray(q32)), dtype="float32")
        # the same numbers in float64; they sum to 1 only within float32 rounding,
        # beyond float64's tolerance, so the reference skips validation
        p64, q64 = lib.asarray(p32.astype(np.float64)), lib.asarray(q32.astype(np.float64))
        ref = lib.to_numpy(fn(p64, q64, validate=False))
        np.testing.assert_allclose(out, ref, rtol=1e-4)


def test_numpy_scalar_result_like_scipy():
    out = kl.kl_divergence([0.2, 0.8], [0.5, 0.5])
    assert isinstance(out, np.float64)
    assert out == pytest.approx(ss.entropy([0.2, 0.8], [0.5, 0.5]), rel=1e-14)


# --- log-space inputs and labels against PyTorch ------------------------------------------


def _torch():
    return requires(Backend.TORCH, "torch")


def test_logits_labels_cross_entropy_matches_torch(lib):
    torch = _torch()
    z = RNG.normal(size=(5, 9)) * 4
    y = RNG.integers(0, 9, size=5)
    ref = torch.nn.functional.cross_entropy(
        torch.asarray(z), torch.asarray(y), reduction="none"
    ).numpy()
    out = kl.cross_entropy(kl.Labels(lib.asarray(y)), kl.Logits(lib.asarray(z)))
    np.testing.assert_allclose(lib.check_result(out, dtype="float64"), ref, rtol=1e-12)
    # KL from a one-hot target equals the cross-entropy (H of one-hot is 0)
    d = kl.kl_divergence(kl.Labels(lib.asarray(y)), kl.Logits(lib.asarray(z)))
    np.testing.assert_allclose(lib.to_numpy(d), ref, rtol=1e-12)


def test_labels_with_class_axis_1_matches_torch(lib):
    torch = _torch()
    z = RNG.normal(size=(2, 4, 3, 5))  # (N, C, H, W), like segmentation
    y = RNG.integers(0, 4, size=(2, 3, 5))
    ref = torch.nn.functional.cross_entropy(
        torch.asarray(z), torch.asarray(y), reduction="none"
    ).numpy()
    out = kl.cross_entropy(kl.Labels(lib.asarray(y)), kl.Logits(lib.asarray(z)), axis=1)
    np.testing.assert_allclose(lib.to_numpy(out), ref, rtol=1e-12)


def test_labels_against_probabilities(lib):
    y = np.array([0, 3, 6, 2])
    onehot = np.eye(7)[y]
    out = kl.cross_entropy(kl.Labels(lib.asarray(y)), lib.asarray(Q))
    np.testing.assert_allclose(lib.to_numpy(out), -np.log(Q[np.arange(4), y]), rtol=1e-13)
    d = kl.kl_divergence(kl.Labels(lib.asarray(y)), lib.asarray(Q))
    np.testing.assert_allclose(lib.to_numpy(d), ss.entropy(onehot, Q, axis=-1), rtol=1e-12)
    js = kl.js_divergence(kl.Labels(lib.asarray(y)), lib.asarray(Q))
    np.testing.assert_allclose(lib.to_numpy(js), jensenshannon(onehot, Q, axis=-1) ** 2, rtol=1e-12)


def test_labels_against_labels(lib):
    a, b = lib.asarray(np.array([0, 1, 2])), lib.asarray(np.array([0, 2, 2]))
    np.testing.assert_array_equal(
        lib.to_numpy(kl.kl_divergence(kl.Labels(a), kl.Labels(b))), [0, np.inf, 0]
    )
    np.testing.assert_allclose(
        lib.to_numpy(kl.js_divergence(kl.Labels(a), kl.Labels(b))), [0, math.log(2), 0]
    )


def test_kl_of_logits_matches_torch_kl_div(lib):
    torch = _torch()
    zp, zq = RNG.normal(size=(3, 6)), RNG.normal(size=(3, 6))
    lp = torch.log_softmax(torch.asarray(zp), -1)
    lq = torch.log_softmax(torch.asarray(zq), -1)
    ref = torch.nn.functional.kl_div(lq, lp, reduction="none", log_target=True).sum(-1).numpy()
    out = kl.kl_divergence(kl.Logits(lib.asarray(zp)), kl.Logits(lib.asarray(zq)))
    np.testing.assert_allclose(lib.to_numpy(out), ref, rtol=1e-12)
    out = kl.kl_divergence(
        kl.LogProbs(lib.asarray(lp.numpy())), kl.LogProbs(lib.asarray(lq.numpy()))
    )
    np.testing.assert_allclose(lib.to_numpy(out), ref, rtol=1e-12)


def test_neg_inf_logits_mean_probability_zero(lib):
    z = np.array([[0.0, -np.inf, 1.0]])
    p = sc.softmax(np.array([[0.0, -700.0, 1.0]]), -1)
    p[0, 1] = 0.0
    out = kl.entropy(kl.Logits(lib.asarray(z)))
    np.testing.assert_allclose(lib.to_numpy(out), ss.entropy(p, axis=-1), rtol=1e-13)


def test_bce_matches_torch(lib):
    torch = _torch()
    y = RNG.random(20)
    y[:5] = np.round(y[:5])
    z = RNG.normal(size=20) * 5
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.asarray(z), torch.asarray(y), reduction="none"
    ).numpy()
    out = kl.binary_cross_entropy(lib.asarray(y), kl.Logits(lib.asarray(z)))
    # torch's max(z, 0) - z y + log1p(exp(-|z|)) cancels a few ulps for tiny losses;
    # test_accuracy.py checks klkit's logit path against mpmath to rounding.
    np.testing.assert_allclose(lib.check_result(out, dtype="float64"), ref, rtol=1e-11)
    probs = sc.expit(z)
    ref_p = torch.nn.functional.binary_cross_entropy(
        torch.asarray(probs), torch.asarray(y), reduction="none"
    ).numpy()
    out = kl.binary_cross_entropy(lib.asarray(y), lib.asarray(probs))
    np.testing.assert_allclose(lib.to_numpy(out), ref_p, rtol=1e-10)


def test_bce_broadcasts(lib):
    out = kl.binary_cross_entropy(lib.asarray([[1.0], [0.0]]), lib.asarray([0.2, 0.9, 0.5]))
    assert tuple(out.shape) == (2, 3)
    expected = np.array([-np.log([0.2, 0.9, 0.5]), -np.log1p(-np.array([0.2, 0.9, 0.5]))])
    np.testing.assert_allclose(lib.to_numpy(out), expected, rtol=1e-14)


@pytest.mark.parametrize("base", [2, 10])
def test_bce_base(base):
    assert kl.binary_cross_entropy(1.0, 0.5, base=base) == pytest.approx(
        math.log(2) / math.log(base), rel=1e-15
    )


def test_zero_is_positive_zero_on_short_lists():
    # max(-0.0, 0.0) is -0.0: a certain outcome printed "-0.0" (found writing the docs)
    for value in (kl.entropy([0.0, 1.0]), kl.cross_entropy([0.0, 1.0], [0.0, 1.0])):
        assert value == 0.0
        assert math.copysign(1.0, value) == 1.0
