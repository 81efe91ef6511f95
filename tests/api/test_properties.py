"""Property tests (Hypothesis) of the measures' defining identities, on NumPy arrays.

Distributions are drawn as non-negative weights (positive floats between 1e-300 and
1e3, about a fifth of them replaced by exact zeros) divided by their sum in float64,
so each sums to 1 to rounding (within K*eps, far inside klkit's sqrt(eps) check).
Every expected value is an identity or a bound, never a number from klkit itself.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import log_softmax, softmax

import klkit as kl

EPS64 = float(np.finfo(np.float64).eps)
LN2 = math.log(2.0)
MAX_K = 12

SETTINGS = settings(max_examples=150, deadline=None)

PAIR_MEASURES = (kl.cross_entropy, kl.kl_divergence, kl.js_divergence, kl.js_distance)
ALL_MEASURES = (
    ("entropy", lambda p, q, **kw: kl.entropy(p, **kw)),  # q is ignored
    *((f.__name__, f) for f in PAIR_MEASURES),
)


# --- strategies -------------------------------------------------------------------------

POSITIVE = st.floats(min_value=1e-300, max_value=1e3)
# Hypothesis needs float32 bounds that are exactly float32 values.
F32_TINY, F32_1E_6, F32_1E_3 = (float(np.float32(x)) for x in (1e-30, 1e-6, 1e-3))


@st.composite
def weights(draw: st.DrawFn, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """Positive weights with some exact zeros (about 1 in 5)."""
    elements = POSITIVE if dtype is np.float64 else st.floats(F32_TINY, 1e3, width=32)
    w = draw(hnp.arrays(dtype, shape, elements=elements))
    keep = draw(hnp.arrays(np.int8, shape, elements=st.integers(0, 4)))
    return np.where(keep > 0, w, dtype(0.0))


def normalise(w: np.ndarray, axis: int = -1) -> np.ndarray:
    """Divide by the sum along ``axis`` (in w's dtype); all-zero rows become uniform."""
    w = np.where(np.sum(w, axis=axis, keepdims=True) > 0, w, w.dtype.type(1.0))
    return w / np.sum(w, axis=axis, keepdims=True)


@st.composite
def dists(draw: st.DrawFn, shape: tuple[int, ...], axis: int = -1) -> np.ndarray:
    return normalise(draw(weights(shape)), axis)


@st.composite
def pairs(draw: st.DrawFn, max_k: int = MAX_K) -> tuple[np.ndarray, np.ndarray]:
    """Two distributions over the same K outcomes."""
    k = draw(st.integers(1, max_k))
    return draw(dists((k,))), draw(dists((k,)))


def rounding_tol(k: int, scale: float) -> float:
    """A few roundings per term, accumulated over a sum of k non-negative terms.

    Each measure is a sum of k non-negative terms, each correct to a few ulp, so its
    error is at most about k*eps times its value; the inputs themselves sum to 1
    only within k*eps, which shifts the identities by up to k*eps absolutely. 4x
    that is the margin.
    """
    return 4 * (k + 2) * EPS64 * max(1.0, scale)


# --- Gibbs' inequality, zero self-divergence, the decomposition --------------------------


@SETTINGS
@given(pairs())
def test_gibbs_inequality_cross_entropy_at_least_entropy(pq):
    p, q = pq
    h, hpq = kl.entropy(p), kl.cross_entropy(p, q)
    # H(P,Q) - H(P) = sum p log(p/q) >= sum p - sum q, which is 0 only to rounding.
    assert hpq >= h - rounding_tol(p.size, hpq if np.isfinite(hpq) else 1.0)


@SETTINGS
@given(pairs())
def test_kl_divergence_is_never_negative(pq):
    p, q = pq
    # klkit sums p log(p/q) - p + q, each term >= 0: no tolerance at all.
    d = kl.kl_divergence(p, q)
    assert d >= 0.0
    assert kl.kl_divergence(p, q, base=2) >= 0.0
    assert kl.kl_divergence(q, p) >= 0.0


@SETTINGS
@given(st.integers(1, MAX_K).flatmap(lambda k: dists((k,))))
def test_divergence_of_a_distribution_from_itself_is_zero(p):
    # p == q makes every KL term's series argument exactly 0; 1e-15 leaves a few ulp.
    assert abs(kl.kl_divergence(p, p)) <= 1e-15
    # (p + p)/2 == p exactly, so JS(P, P) is exactly 0.
    assert kl.js_divergence(p, p) == 0.0
    assert kl.js_distance(p, p) == 0.0


@SETTINGS
@given(pairs())
def test_cross_entropy_is_entropy_plus_kl(pq):
    p, q = pq
    h, hpq, d = kl.entropy(p), kl.cross_entropy(p, q), kl.kl_divergence(p, q)
    if not np.isfinite(hpq):  # q = 0 < p somewhere: both sides are +inf
        assert np.isposinf(d)
        return
    # H(P,Q) = H(P) + D(P||Q) + (sum p - sum q); the last part is a rounding of the
    # inputs' sums (<= K*eps), and every side is a sum of non-negative terms, so
    # 1e-12 relative to H(P,Q) (absolute below 1) is ample.
    assert abs(hpq - (h + d)) <= 1e-12 * max(1.0, hpq)


# --- base change ------------------------------------------------------------------------


@SETTINGS
@given(pairs(), st.sampled_from([2.0, 10.0, 3.5, 1.5]))
def test_base_b_is_nats_divided_by_ln_b(pq, base):
    p, q = pq
    for name, f in ALL_MEASURES:
        if name == "js_distance":
            continue  # sqrt(JS / ln b) is not a rescaling of the nats; tested below
        nats, in_base = f(p, q), f(p, q, base=base)
        # One division by ln b: 2 ulp covers ln b rounded either way.
        np.testing.assert_allclose(in_base, nats / math.log(base), rtol=2 * EPS64, err_msg=name)
    js = kl.js_divergence(p, q)
    expected = math.sqrt(js / math.log(base))  # the same two roundings, then sqrt
    np.testing.assert_allclose(kl.js_distance(p, q, base=base), expected, rtol=2 * EPS64)


# --- invariances ------------------------------------------------------------------------


@st.composite
def permuted_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[int]]:
    p, q = draw(pairs())
    return p, q, draw(st.permutations(range(p.size)))


@SETTINGS
@given(permuted_pairs())
def test_permuting_outcomes_changes_nothing(pqperm):
    p, q, perm = pqperm
    for name, f in ALL_MEASURES:
        a, b = f(p, q), f(p[perm], q[perm])
        # The same non-negative terms summed in another order: within k*eps relative.
        np.testing.assert_allclose(b, a, rtol=rounding_tol(p.size, 1.0), atol=0, err_msg=name)


@st.composite
def batched_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=5))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return draw(dists(shape, axis)), draw(dists(shape, axis)), axis


@SETTINGS
@given(batched_pairs())
def test_axis_k_equals_moveaxis_then_last_axis(pqa):
    p, q, axis = pqa
    pm, qm = np.moveaxis(p, axis, -1), np.moveaxis(q, axis, -1)
    for name, f in ALL_MEASURES:
        got, ref = f(p, q, axis=axis), f(pm, qm)
        assert np.shape(got) == np.shape(ref), name
        # The strided input takes the generic path and the moved one the NumPy fast
        # path (klkit._backends._numpy): different formulas, each a few ulp per term, hence 4x.
        tol = 4 * rounding_tol(p.shape[axis], 1.0)
        np.testing.assert_allclose(got, ref, rtol=tol, err_msg=name)
        kept = f(p, q, axis=axis, keepdims=True)
        np.testing.assert_allclose(np.squeeze(kept, axis=axis), got, rtol=0, atol=0)


@st.composite
def one_and_batch(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(1, MAX_K))
    n = draw(st.integers(1, 6))
    return draw(dists((k,))), draw(dists((n, k)))


@SETTINGS
@given(one_and_batch())
def test_one_distribution_broadcasts_against_a_batch(pb):
    one, batch = pb
    for f in PAIR_MEASURES:
        name = f.__name__
        for got, rows in (
            (f(one, batch), [f(one, row) for row in batch]),
            (f(batch, one), [f(row, one) for row in batch]),
        ):
            assert np.shape(got) == (batch.shape[0],), name
            # A batch may take the NumPy fast path and a broadcast row the generic
            # one: different formulas, each a few ulp per term, hence 4x.
            np.testing.assert_allclose(
                got, np.array(rows), rtol=4 * rounding_tol(one.size, 1.0), err_msg=name
            )


# --- Jensen-Shannon ---------------------------------------------------------------------


@SETTINGS
@given(pairs())
def test_js_divergence_is_symmetric_and_bounded(pq):
    p, q = pq
    js = kl.js_divergence(p, q)
    # M = (p + q)/2 and the two halves' sum are exactly symmetric in floating point.
    assert kl.js_divergence(q, p) == js
    assert 0.0 <= js <= LN2
    bits = kl.js_divergence(p, q, base=2)
    assert 0.0 <= bits <= 1.0
    assert kl.js_divergence(q, p, base=2) == bits


@SETTINGS
@given(pairs(), st.sampled_from([None, 2.0, 10.0]))
def test_js_distance_is_sqrt_of_js_divergence(pq, base):
    p, q = pq
    d = kl.js_distance(p, q, base=base)
    # sqrt is correctly rounded and applied to the same value: bit-for-bit equal.
    assert d == np.sqrt(kl.js_divergence(p, q, base=base))
    assert kl.js_distance(q, p, base=base) == d


# --- float32: KL never negative for nearly equal P and Q --------------------------------


@st.composite
def float32_near_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(1, MAX_K))
    p = normalise(draw(weights((k,), np.float32)))
    size = draw(hnp.arrays(np.float32, (k,), elements=st.floats(F32_1E_6, F32_1E_3, width=32)))
    sign = draw(hnp.arrays(np.float32, (k,), elements=st.sampled_from([-1.0, 1.0])))
    q = normalise(p * (np.float32(1.0) + sign * size))
    assert p.dtype == q.dtype == np.float32
    return p, q


@SETTINGS
@given(float32_near_pairs())
def test_float32_kl_of_nearly_equal_distributions_is_never_negative(pq):
    p, q = pq
    for d in (kl.kl_divergence(p, q), kl.kl_divergence(q, p), kl.js_divergence(p, q)):
        assert d.dtype == np.float32
        assert d >= 0.0  # no tolerance: every term is >= 0


def _float32_batch(seed: int, rel: float, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    w = rng.random(shape, dtype=np.float32) + np.float32(1e-3)
    p = w / np.sum(w, axis=-1, keepdims=True)
    noise = rng.uniform(-rel, rel, shape).astype(np.float32)
    q = p * (np.float32(1.0) + noise)
    q = q / np.sum(q, axis=-1, keepdims=True)
    return p, q


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1e-6, 1e-5, 1e-4, 1e-3]))
def test_float32_kl_over_1000_outcomes_is_never_negative(seed, rel):
    p, q = _float32_batch(seed, rel, (8, 1000))
    for d in (kl.kl_divergence(p, q), kl.kl_divergence(q, p)):
        assert d.dtype == np.float32
        assert d.shape == (8,)
        assert np.all(d >= 0.0)  # no tolerance


def test_float32_case_is_real_naive_sum_goes_negative_where_klkit_does_not():
    # Sanity check for the test above: the float32 inputs' exact sums differ (by a
    # rounding), and the textbook sum p log(p/q) does go negative on such inputs.
    sums_differ = naive_negative = 0
    for seed in range(40):
        p, q = _float32_batch(seed, 1e-6, (1000,))
        sums_differ += math.fsum(p.tolist()) != math.fsum(q.tolist())  # exact sums
        naive_negative += bool(np.sum(p * np.log(p / q)) < 0)
        d = kl.kl_divergence(p, q)
        assert d.dtype == np.float32
        assert d >= 0.0
    assert sums_differ > 0
    assert naive_negative > 0


# --- Logits, LogProbs and Labels against explicit probabilities ------------------------

LOGIT = st.floats(min_value=-50.0, max_value=50.0)


@st.composite
def logit_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(1, MAX_K))
    return (
        draw(hnp.arrays(np.float64, (k,), elements=LOGIT)),
        draw(hnp.arrays(np.float64, (k,), elements=LOGIT)),
    )


def softmax_tol(value: float) -> float:
    """Tolerance between the log-space and the probability-space routes.

    Both routes perturb each probability by a relative delta <= ~1e-14 (the
    log-sum-exp of logits up to 50 is rounded to ulp(64) = 1.4e-14; the explicit
    softmax to a few eps). Entropy, cross-entropy and KL then move by at most
    2*delta*(1 + H(P,Q)); 1e-13*(1 + value) bounds that with a margin.
    """
    return 1e-13 * (1.0 + value)


def _check_against_probs(wrap, z1: np.ndarray, z2: np.ndarray) -> None:
    p, q = softmax(z1), softmax(z2)
    a, b = wrap(z1), wrap(z2)
    h_pq = float(kl.cross_entropy(p, q))
    cases = {
        "entropy": (kl.entropy(a), kl.entropy(p), float(kl.entropy(p))),
        "cross_entropy(w, p)": (kl.cross_entropy(a, q), kl.cross_entropy(p, q), h_pq),
        "cross_entropy(p, w)": (kl.cross_entropy(p, b), kl.cross_entropy(p, q), h_pq),
        "cross_entropy(w, w)": (kl.cross_entropy(a, b), kl.cross_entropy(p, q), h_pq),
        "kl(w, p)": (kl.kl_divergence(a, q), kl.kl_divergence(p, q), h_pq),
        "kl(p, w)": (kl.kl_divergence(p, b), kl.kl_divergence(p, q), h_pq),
        "kl(w, w)": (kl.kl_divergence(a, b), kl.kl_divergence(p, q), h_pq),
        "js(w, w)": (kl.js_divergence(a, b), kl.js_divergence(p, q), h_pq),
    }
    for name, (got, ref, scale) in cases.items():
        assert np.isfinite(got), name
        assert abs(got - ref) <= softmax_tol(scale), (name, got, ref)


@SETTINGS
@given(logit_pairs())
def test_logits_equal_their_softmax_as_probabilities(zz):
    z1, z2 = zz
    _check_against_probs(kl.Logits, z1, z2)


@SETTINGS
@given(logit_pairs())
def test_logprobs_of_log_softmax_equal_softmax_as_probabilities(zz):
    z1, z2 = zz
    _check_against_probs(lambda z: kl.LogProbs(log_softmax(z)), z1, z2)


@st.composite
def labelled_logits(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n, k = draw(st.integers(1, 6)), draw(st.integers(1, MAX_K))
    z = draw(hnp.arrays(np.float64, (n, k), elements=LOGIT))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return y, z


@SETTINGS
@given(labelled_logits())
def test_labels_with_logits_equal_one_hot_with_softmax(yz):
    y, z = yz
    one_hot = np.eye(z.shape[1])[y]
    got = kl.cross_entropy(kl.Labels(y), kl.Logits(z))
    ref = kl.cross_entropy(one_hot, softmax(z, axis=-1))
    assert got.shape == ref.shape == y.shape
    # logsumexp(z) - z[y] against -log(softmax(z)[y]): see softmax_tol.
    assert np.all(np.abs(got - ref) <= softmax_tol(ref))
    kl_got = kl.kl_divergence(kl.Labels(y), kl.Logits(z))  # H(one-hot) = 0: KL = H(P,Q)
    assert np.all(np.abs(kl_got - ref) <= softmax_tol(ref))
