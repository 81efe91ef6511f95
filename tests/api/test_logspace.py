"""Log-space inputs (Logits, LogProbs, Labels) against mpmath: exact infinities and digits.

References are written from the definitions at 700 digits: log_softmax(z)_k =
z_k - log sum_j exp(z_j), H = -sum p log p, CE = -sum p log q, KL = sum p (r - 1 - log r)
with r = q/p (the normalised KL), never from klkit.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from backends import Backend, requires
from hypothesis import given, settings
from hypothesis import strategies as st

import klkit as kl

mpmath.mp.dps = 700  # a KL of 1e-600 from logits differing by 1e-300 keeps ~80 digits


def _lsm(z):
    z = [mpmath.mpf(float(v)) if math.isfinite(v) else mpmath.mpf(v) for v in np.ravel(z)]
    finite = [v for v in z if mpmath.isfinite(v)]
    m = max(finite)
    s = mpmath.fsum(mpmath.exp(v - m) for v in finite)
    return [v - m - mpmath.log(s) if mpmath.isfinite(v) else -mpmath.inf for v in z]


def mp_entropy(z):
    return float(-mpmath.fsum(mpmath.exp(a) * a for a in _lsm(z) if mpmath.isfinite(a)))


def mp_kl(zp, zq):
    total = mpmath.mpf(0)
    for a, b in zip(_lsm(zp), _lsm(zq), strict=True):
        if a == -mpmath.inf:
            continue
        if b == -mpmath.inf:
            return math.inf
        total += mpmath.exp(a) * (mpmath.expm1(b - a) - (b - a))
    return float(total)


def mp_ce_label(z, y):
    return float(-_lsm(z)[y])


def rel(got, want):
    return abs(float(got) - want) / abs(want)


# --- the examples ---------------------------------------------------------------


def test_positive_mass_that_underflows_still_counts():
    # softmax([-800, 0]) puts e^-800 > 0 on outcome 0, where Q has none: H(P, Q) = inf,
    # as KL already said (so H(P,Q) = H(P) + D holds)
    p = kl.Logits(np.array([-800.0, 0.0]))
    q = np.array([0.0, 1.0])
    assert kl.cross_entropy(p, q) == math.inf
    assert kl.kl_divergence(p, q) == math.inf
    assert kl.cross_entropy(p, kl.Logits(np.array([-np.inf, 0.0]))) == math.inf
    assert kl.cross_entropy(kl.Logits(np.array([0.0, 0.0])), kl.Logits([-np.inf, 0.0])) == math.inf


@pytest.mark.parametrize("gap", [5.0, 20.0, 40.0, 300.0, 700.0])
@pytest.mark.parametrize("shift", [0.0, 1e3, -1e4])
def test_confident_logits_keep_relative_accuracy(gap, shift):
    z = np.array([0.0, -gap]) + shift
    want = mp_ce_label(z, 0)  # log1p(e^-gap): 2.061153620314381e-09 at gap 20
    assert rel(kl.cross_entropy(kl.Labels(0), kl.Logits(z)), want) <= 4e-16
    assert rel(kl.kl_divergence(kl.Labels(0), kl.Logits(z)), want) <= 4e-16
    assert rel(kl.entropy(kl.Logits(z)), mp_entropy(z)) <= 1e-14


def test_confident_logits_torch_fast_path():
    torch = requires(Backend.TORCH, "torch")
    z = torch.tensor([[0.0, -20.0], [0.0, -40.0], [100.0, 80.0], [1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 1])
    got = kl.cross_entropy(kl.Labels(y), kl.Logits(z)).numpy()
    want = [mp_ce_label(z[i].numpy(), int(y[i])) for i in range(4)]
    np.testing.assert_allclose(got, want, rtol=4e-16)
    z32 = z.float()
    got32 = kl.cross_entropy(kl.Labels(y), kl.Logits(z32)).numpy()
    want32 = [mp_ce_label(z32[i].numpy(), int(y[i])) for i in range(4)]
    np.testing.assert_allclose(got32, want32, rtol=4e-7)


def test_labels_against_log_probs_agree_with_probabilities_and_explain():
    q = np.array([0.5, 0.500000001])  # sums to 1 + 1e-9, inside the tolerance
    lq = np.log(q)
    direct = kl.kl_divergence(kl.Labels(0), q)
    assert kl.kl_divergence(kl.Labels(0), kl.LogProbs(lq)) == pytest.approx(direct, rel=1e-15)
    assert kl.kl_divergence(np.array([1.0, 0.0]), q) == pytest.approx(direct, rel=1e-15)
    assert kl.explain(kl.Labels(0), kl.LogProbs(lq)).kl_divergence == pytest.approx(direct, 1e-15)
    # sum p log(p/q) - p + q with p the one-hot: -log q0 - 1 + (q0 + q1)
    want = -math.log(0.5) - 1 + mpmath.fsum([mpmath.mpf(0.5), mpmath.mpf(0.500000001)])
    assert direct == pytest.approx(float(want), rel=1e-15)


def test_cross_entropy_from_labels_is_never_negative():
    assert kl.cross_entropy(kl.Labels(0), [1.000000001, 0.0]) == 0.0
    assert kl.cross_entropy(kl.Labels(0), kl.LogProbs(np.log([1.000000001, 1e-300]))) == 0.0


# --- properties against mpmath -----------------------------------------------------------

logit_rows = st.integers(2, 12).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-60, 60), min_size=k, max_size=k),
        st.lists(st.floats(-1, 1), min_size=k, max_size=k),
        st.sampled_from([1e-9, 1e-6, 1e-3, 0.1, 10.0]),
    )
)


@settings(max_examples=150, deadline=None)
@given(logit_rows, st.sampled_from([np.float64, np.float32]))
def test_entropy_and_kl_of_logits_against_mpmath(row, dtype):
    z, direction, size = row
    zp = np.asarray(z, dtype)
    zq = (zp + size * np.asarray(direction)).astype(dtype)
    eps = float(np.finfo(dtype).eps)
    h_want = mp_entropy(zp)
    if h_want > np.finfo(dtype).tiny * 1e3:
        assert rel(kl.entropy(kl.Logits(zp)), h_want) <= 64 * eps
    d_want = mp_kl(zp, zq)
    got = float(kl.kl_divergence(kl.Logits(zp), kl.Logits(zq)))
    if d_want > np.finfo(dtype).tiny * 1e6:
        # nearly equal logits: the KL is ~ difference^2 and still keeps its digits
        assert rel(got, d_want) <= (1e-12 if dtype == np.float64 else 2e-5), (got, d_want)
    assert got >= 0.0


@settings(max_examples=100, deadline=None)
@given(logit_rows, st.integers(0, 11))
def test_cross_entropy_of_labels_and_logits_against_mpmath(row, y):
    z = np.asarray(row[0])
    y = y % z.size
    want = mp_ce_label(z, y)
    assert rel(kl.cross_entropy(kl.Labels(y), kl.Logits(z)), want) <= 1e-14
    if want > 0:
        assert rel(kl.kl_divergence(kl.Labels(y), kl.Logits(z)), want) <= 1e-14


def test_near_one_hot_logits_with_far_outcomes_keep_the_kl_digits_in_float32():
    # P's top outcome carries all but ~1e-14 of its mass; two outcomes sit 42 below it
    # (their logit difference e = -7.5 once disqualified the whole row from the exact
    # log-ratio path), and the KL, ~2e-16, comes from the outcome 32 below the top. The
    # rounded difference of two float32 log-softmaxes was 2.03e-5 off (Hypothesis).
    zp = np.array([-10.0, 32.0, -10.0, 0.0], np.float32)
    zq = (zp + 10 * np.array([0.0, 0.75, 0.0, 0.7324895785142154])).astype(np.float32)
    want = mp_kl(zp, zq)
    got = float(kl.kl_divergence(kl.Logits(zp), kl.Logits(zq)))
    assert rel(got, want) <= 1e-6
