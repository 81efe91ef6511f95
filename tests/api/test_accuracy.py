"""Accuracy against mpmath at 50 significant digits.

Every reference is computed by mpmath (or is a closed form) from the exact values of
the float inputs: ``mpmath.mpf(float)`` is exact, so the reference is the true value
of the measure at the numbers klkit was given, and the comparison measures klkit's
own rounding error only. No expected value comes from klkit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import array_api_strict as xps
import mpmath
import numpy as np
import pytest
from mpmath import mp

import klkit as kl

#: Smallest positive float64. A reference below float64's range rounds to 0 (or to
#: this), so it is the absolute floor of every comparison.
TINY = mp.mpf(2.0**-1074)


@pytest.fixture(autouse=True)
def _fifty_digits() -> Iterator[None]:
    with mpmath.workdps(50):  # mp.dps = 50 for the test, restored afterwards
        yield


# --- exact references -----------------------------------------------------------------


def exact(xs: Iterable[float]) -> list[mpmath.mpf]:
    """The exact values of float inputs (float32 values are exact float64 values)."""
    return [mp.mpf(float(x)) for x in np.ravel(np.asarray(xs, dtype=np.float64))]


def ref_kl_general(p, q) -> mpmath.mpf:
    """sum p log(p/q) - p + q on the given floats: what klkit defines as the KL.

    For exactly normalised inputs the ``- p + q`` terms sum to 0 and this is
    sum p log(p/q).
    """
    total = mp.mpf(0)
    for a, b in zip(exact(p), exact(q), strict=True):
        if a == 0:
            total += b
        elif b == 0:
            return mp.inf
        else:
            total += a * mp.log(a / b) - a + b
    return total


def ref_kl_renormalised(p, q) -> mpmath.mpf:
    """sum p' log(p'/q') of p' = p/sum(p), q' = q/sum(q), in exact arithmetic."""
    a_s, b_s = exact(p), exact(q)
    sa, sb = mp.fsum(a_s), mp.fsum(b_s)
    pairs = zip(a_s, b_s, strict=True)
    return mp.fsum((a / sa) * mp.log((a / sa) / (b / sb)) for a, b in pairs if a > 0)


def ref_entropy(p) -> mpmath.mpf:
    return -mp.fsum(a * mp.log(a) for a in exact(p) if a > 0)


def ref_cross_entropy(p, q) -> mpmath.mpf:
    total = mp.mpf(0)
    for a, b in zip(exact(p), exact(q), strict=True):
        if a > 0:
            if b == 0:
                return mp.inf
            total -= a * mp.log(b)
    return total


def ref_js(p, q) -> mpmath.mpf:
    """1/2 sum [p log(p/m) + q log(q/m)] with the exact m = (p + q)/2."""
    total = mp.mpf(0)
    for a, b in zip(exact(p), exact(q), strict=True):
        m = (a + b) / 2
        if a > 0:
            total += a * mp.log(a / m)
        if b > 0:
            total += b * mp.log(b / m)
    return total / 2


def ref_log_softmax(z) -> list[mpmath.mpf]:
    """log softmax(z) at 50 digits (mpmath's exp does not overflow at 1e4)."""
    zs = exact(z)
    lse = mp.log(mp.fsum(mp.exp(x) for x in zs))
    return [x - lse for x in zs]


def rel_error(value: float, ref: mpmath.mpf) -> mpmath.mpf:
    return abs(mp.mpf(float(value)) - ref) / abs(ref)


def assert_close(value: float, ref: mpmath.mpf, *, rtol: float, atol: float = 0.0) -> None:
    """|value - ref| <= rtol*|ref| + atol (+ the float64 floor); +inf only if ref is."""
    if mp.isinf(ref):
        assert np.isposinf(value), (value, ref)
        return
    assert np.isfinite(value), (value, ref)
    err = abs(mp.mpf(float(value)) - ref)
    bound = rtol * abs(ref) + atol + TINY
    assert err <= bound, (
        f"klkit {float(value)!r}, mpmath {mp.nstr(ref, 20)}, rel {mp.nstr(err / abs(ref), 3)}"
    )


def near_pair(k: int, rel: float, seed: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """P, and Q = P*exp(rel*N(0,1)) (about ``rel`` relative apart), both normalised in dtype."""
    rng = np.random.default_rng(seed)
    p = (rng.random(k) + 0.05).astype(dtype)
    p = p / np.sum(p)
    q = (p * np.exp(rel * rng.standard_normal(k))).astype(dtype)
    q = q / np.sum(q)
    assert p.dtype == q.dtype == dtype
    assert np.any(p != q)
    return p, q


# --- KL of nearly equal distributions, float64 --------------------------------------------

# 1e-4..1e-8 stay in the series branch (|log(q/p)| <= 0.1); 0.3 and 3 reach the
# middle (log1p) and far (difference of logs) branches too.
RELS = [1e-8, 1e-6, 1e-4, 0.3, 3.0]


@pytest.mark.parametrize("k", [2, 10, 1000])
@pytest.mark.parametrize("rel", RELS)
def test_kl_float64_of_nearly_equal_pair_has_ten_correct_digits(k, rel):
    p, q = near_pair(k, rel, seed=k + int(1e9 * rel))
    d = kl.kl_divergence(p, q)
    assert d.dtype == np.float64
    # Reference: mpmath's sum[p log(p/q) - p + q] on the exact floats (klkit's
    # definition). >= 10 significant digits: relative error <= 1e-10.
    assert rel_error(d, ref_kl_general(p, q)) <= 1e-10
    # First-order agreement with the KL of the renormalised pair (mpmath): with
    # sum p = 1 + a, sum q = 1 + b (a, b ~ 1e-16 here) the two differ by
    # a*D + (a - b)^2/2, at most ~2e-12 relative for the smallest D (~3e-21) here.
    assert rel_error(d, ref_kl_renormalised(p, q)) <= 1e-6


# --- float32 ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 10, 1000])
@pytest.mark.parametrize("rel", [1e-6, 1e-4, 1e-2, 0.3, 3.0])
def test_kl_float32_within_1e3_of_float64_on_the_same_numbers(k, rel):
    p32, q32 = near_pair(k, rel, seed=7 * k + int(1e7 * rel), dtype=np.float32)
    d32 = kl.kl_divergence(p32, q32)
    assert d32.dtype == np.float32
    assert d32 >= 0.0
    # The same float32 values, exactly, in float64. They sum to 1 only within
    # float32 rounding (~K*6e-8), which can exceed float64's 1.5e-8 check, so the
    # float64 run skips validation; its accuracy is checked against mpmath too.
    p64, q64 = p32.astype(np.float64), q32.astype(np.float64)
    d64 = kl.kl_divergence(p64, q64, validate=False)
    ref = ref_kl_general(p32, q32)  # mpmath, on the exact float32 values
    assert rel_error(d64, ref) <= 1e-10
    # float32 carries ~7 digits; 1e-3 relative is the requested bound.
    assert abs(float(d32) - float(d64)) <= 1e-3 * float(d64)
    assert rel_error(d32, ref) <= 1e-3


# --- extreme probabilities ----------------------------------------------------------------


def test_half_half_against_1e_320_and_one():
    p, q = np.array([0.5, 0.5]), np.array([1e-320, 1.0])
    ref = ref_kl_general(p, q)  # mpmath, on the exact (subnormal) float 1e-320
    # The documented value is mpmath's, rounded to 16 digits.
    assert abs(ref - mp.mpf("367.7204732649270")) <= mp.mpf("1e-12")
    d = kl.kl_divergence(p, q)
    # A few roundings of terms of size ~368: ~1e-15 relative at most.
    assert_close(d, ref, rtol=1e-15)
    assert_close(kl.kl_divergence(p, q, base=2), ref / mp.log(2), rtol=1e-15)


TINY_CASES = {
    "tiny and subnormal p vs uniform q": ([1e-300, 5e-324, 0.4, 0.6], [0.25] * 4),
    "uniform p vs tiny and subnormal q": ([0.25] * 4, [1e-300, 5e-324, 0.5, 0.5]),
    "tiny p vs subnormal q and back": ([5e-324, 1e-300, 0.5, 0.5], [1e-300, 5e-324, 0.3, 0.7]),
    "whole KL near 1e-301": ([1e-300, 1.0], [2e-300, 1.0]),
    "subnormal pair, subnormal KL": ([1e-310, 1.0], [3e-310, 1.0]),
    # Tiny pairs whose ratio is just outside [1/2, 2] (the difference-of-logs branch).
    "tiny pair, q/p = 2.01": ([1e-300, 1.0], [2.01e-300, 1.0]),
    "tiny pair, q/p = 0.49": ([1e-300, 1.0], [0.49e-300, 1.0]),
    "smallest normal p, subnormal q ~ p/3": ([2.2250738585072014e-308, 1.0], [7.4e-309, 1.0]),
    "p one-hot against q subnormal there": ([1.0, 0.0], [5e-324, 1.0]),
}


@pytest.mark.parametrize(("p", "q"), TINY_CASES.values(), ids=TINY_CASES.keys())
def test_tiny_and_subnormal_probabilities(p, q):
    p, q = np.array(p), np.array(q)
    assert np.sum(p) == np.sum(q) == 1.0
    # Each reference is mpmath on the exact floats. 1e-12 relative: the results are
    # sums of a few terms, each within a few ulp, or within ~|log p|*eps/0.19 (<= 5e-13)
    # where klkit takes log(q/p) as a difference of two logs of tiny numbers; plus
    # the float64 floor, TINY, for subnormal results.
    d = kl.kl_divergence(p, q)
    assert np.isfinite(d)
    assert_close(d, ref_kl_general(p, q), rtol=1e-12)
    assert_close(kl.kl_divergence(q, p), ref_kl_general(q, p), rtol=1e-12)
    assert_close(kl.cross_entropy(p, q), ref_cross_entropy(p, q), rtol=1e-12)
    assert_close(kl.entropy(p), ref_entropy(p), rtol=1e-12)
    assert_close(kl.js_divergence(p, q), ref_js(p, q), rtol=1e-12)


# Found by review of the NumPy fast path: a 0/0 pair hid a subnormal ratio from its
# check; a subnormal P passed an overflow bound of the generic path; (P + Q)/2 rounded
# a subnormal sum to 0, which made JS log 2. (p, q, validate)
SUBNORMAL_EDGES = {
    "0/0 beside a subnormal ratio": ([0.0, 0.3, 0.7], [0.0, 1.0, 3e-323], True),
    "0/0, unvalidated P > 1 over 5e-324": ([0.0, 2.0], [0.0, 5e-324], False),
    "subnormal p, q 1.2e-15": ([1 - 1e-16, 5e-324], [1 - 1e-16 - 1.2e-15, 1.2e-15], True),
    "one subnormal p, unvalidated": ([5e-324], [1.3e-15], False),
}


@pytest.mark.parametrize(("p", "q", "validate"), SUBNORMAL_EDGES.values(), ids=SUBNORMAL_EDGES)
def test_subnormal_edges_on_the_fast_and_the_generic_path(p, q, validate, engine):
    # The fast path (NumPy arrays) and the generic path (array-api-strict) against
    # mpmath on the exact floats; 1e-12 relative as for the tiny cases above.
    p, q = np.array(p), np.array(q)
    ref = ref_kl_general(p, q)
    assert_close(kl.kl_divergence(p, q, validate=validate), ref, rtol=1e-12)
    generic = kl.kl_divergence(xps.asarray(p), xps.asarray(q), validate=validate)
    assert_close(float(generic), ref, rtol=1e-12)


def test_subnormal_edges_in_float32_and_js(engine):
    p, q = np.array([0.999999, 1e-45], np.float32), np.array([0.9999984, 6e-7], np.float32)
    ref = ref_kl_general(p, q)
    assert_close(kl.kl_divergence(p, q), ref, rtol=1e-5)
    assert_close(float(kl.kl_divergence(xps.asarray(p), xps.asarray(q))), ref, rtol=1e-5)
    for q in (np.array([0.9, 0.1, 0.0]), np.array([0.5, 0.5, 0.0])):
        p = np.array([0.5, 0.5, 5e-324])
        ref = ref_js(p, q)
        assert_close(kl.js_divergence(p, q), ref, rtol=1e-12)
        assert_close(float(kl.js_divergence(xps.asarray(p), xps.asarray(q))), ref, rtol=1e-12)
        # Short lists too (found by review: their halved sum rounded to 0 as well).
        assert_close(kl.js_divergence(p.tolist(), q.tolist()), ref, rtol=1e-12)
        assert_close(kl.js_divergence(q.tolist(), p.tolist()), ref, rtol=1e-12)


def _near_half() -> tuple[np.ndarray, np.ndarray]:
    p = np.array([0.3, 0.7])
    q = np.array([0.3 + 1e-9, 0.7 - 1e-9])
    return p, q


HARD_ENTROPY = {
    "1e-300 and 1": [1e-300, 1.0],
    "1e-10 and 1 - 1e-10": [1e-10, 1 - 1e-10],
    "subnormal and 1": [5e-324, 1.0],
    "near uniform, K = 1000": list(near_pair(1000, 1e-6, seed=1)[0]),
}


@pytest.mark.parametrize("p", HARD_ENTROPY.values(), ids=HARD_ENTROPY.keys())
def test_entropy_hard_cases(p):
    # mpmath -sum p log p on the exact floats; sums of non-negative terms, each
    # within a few ulp: 1e-13 relative. (For the subnormal case the entropy, 3.7e-321,
    # is itself subnormal: exact only to the float64 floor TINY, which assert_close
    # allows.)
    assert_close(kl.entropy(np.array(p)), ref_entropy(p), rtol=1e-13)


HARD_PAIRS = {
    "tiny p": ([1e-300, 1.0], [0.5, 0.5]),
    "p one-hot, q = 1 - 1e-12": ([1.0, 0.0], [1 - 1e-12, 1e-12]),
    "p ~ q, 1e-9 apart": _near_half(),
    "p ~ q, K = 1000, 1e-6 relative": near_pair(1000, 1e-6, seed=2),
    "p ~ q, K = 10, 1e-8 relative": near_pair(10, 1e-8, seed=3),
    "tiny p, zero q": ([1e-300, 1.0], [0.0, 1.0]),
    "disjoint": ([1.0, 0.0], [0.0, 1.0]),
}


@pytest.mark.parametrize(("p", "q"), HARD_PAIRS.values(), ids=HARD_PAIRS.keys())
def test_cross_entropy_and_js_hard_cases(p, q):
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    # References: mpmath on the exact floats. 1e-13 relative (a sum of K non-negative
    # terms, each within a few ulp).
    assert_close(kl.cross_entropy(p, q), ref_cross_entropy(p, q), rtol=1e-13)
    assert_close(kl.js_divergence(p, q), ref_js(p, q), rtol=1e-13)
    assert_close(kl.js_divergence(q, p), ref_js(q, p), rtol=1e-13)


def test_js_divergence_tiny_p_against_a_third_of_it():
    # m = (p + q)/2 makes q/m = 1/2 exactly in the first outcome. Reference: mpmath
    # on the exact floats; 1e-13 relative as for the other hard cases above.
    p, q = np.array([1e-300, 1.0]), np.array([1e-300 / 3, 1.0])
    assert_close(kl.js_divergence(p, q), ref_js(p, q), rtol=1e-13)


# --- logits of +-1e4 -----------------------------------------------------------------------

#: Logits of size 1e4 carry ulp(1e4) = 1.8e-12 of absolute resolution: logsumexp is
#: rounded to that, so log-probabilities z - logsumexp are off by up to that
#: absolutely and probabilities exp(z - logsumexp) by up to that relatively. (The
#: problem itself is that sensitive: one ulp of change in a logit of 1e4 moves the
#: probabilities by 1.8e-12 relative.) 4 ulp(1e4) = 7.3e-12 is the allowance, as an
#: absolute error on log-probabilities and a relative one on probabilities.
LOGIT_TOL = 4 * float(np.spacing(1e4))

Z_ROWS = np.array(
    [
        [1e4, -1e4, 0.0],
        [-1e4, 1e4, 0.0],
        [0.0, -1e4, 1e4],
        [1e4, 1e4 - 0.5, -1e4],
        [-1e4, 1e4 - 3.0, 1e4],
    ]
)


def _probs(z) -> list[mpmath.mpf]:
    return [mp.exp(lp) for lp in ref_log_softmax(z)]


@pytest.mark.parametrize("row", range(len(Z_ROWS)))
def test_entropy_of_logits_of_1e4(row):
    z = Z_ROWS[row]
    lp = ref_log_softmax(z)  # mpmath softmax at 50 digits
    ref = -mp.fsum(mp.exp(a) * a for a in lp)
    assert_close(kl.entropy(kl.Logits(z)), ref, rtol=1e-15, atol=LOGIT_TOL)


def test_cross_entropy_of_labels_and_logits_of_1e4():
    for y in range(3):
        labels = np.full(len(Z_ROWS), y)
        got = kl.cross_entropy(kl.Labels(labels), kl.Logits(Z_ROWS))
        kl_got = kl.kl_divergence(kl.Labels(labels), kl.Logits(Z_ROWS))
        assert got.shape == kl_got.shape == (len(Z_ROWS),)
        for i, z in enumerate(Z_ROWS):
            ref = -ref_log_softmax(z)[y]  # mpmath: -log softmax(z)[y]
            assert_close(got[i], ref, rtol=1e-15, atol=LOGIT_TOL)
            assert_close(kl_got[i], ref, rtol=1e-15, atol=LOGIT_TOL)


@pytest.mark.parametrize("i", range(len(Z_ROWS)))
@pytest.mark.parametrize("j", range(len(Z_ROWS)))
def test_kl_and_cross_entropy_of_logits_of_1e4(i, j):
    z1, z2 = Z_ROWS[i], Z_ROWS[j]
    lp, lq = ref_log_softmax(z1), ref_log_softmax(z2)  # mpmath at 50 digits
    ref_kl = mp.fsum(mp.exp(a) * (a - b) for a, b in zip(lp, lq, strict=True))
    ref_h = -mp.fsum(mp.exp(a) * b for a, b in zip(lp, lq, strict=True))
    d = kl.kl_divergence(kl.Logits(z1), kl.Logits(z2))
    h = kl.cross_entropy(kl.Logits(z1), kl.Logits(z2))
    # sum p * (log-probability difference): relative LOGIT_TOL from p, absolute
    # LOGIT_TOL from the log-probabilities.
    assert_close(d, ref_kl, rtol=LOGIT_TOL, atol=LOGIT_TOL)
    assert_close(h, ref_h, rtol=LOGIT_TOL, atol=LOGIT_TOL)
    if i == j:
        assert d == 0.0


# --- binary cross-entropy from logits -----------------------------------------------------


@pytest.mark.parametrize("z", [1e4, -1e4, 30.0, -30.0, 0.0])
@pytest.mark.parametrize("y", [0.0, 0.3, 1.0])
def test_binary_cross_entropy_of_logits(y, z):
    got = kl.binary_cross_entropy(np.array(y), kl.Logits(np.array(z)))
    ym, zm = mp.mpf(y), mp.mpf(z)
    # mpmath: y log(1 + e^-z) + (1 - y) log(1 + e^z), with 1 - y exact.
    ref = ym * mp.log1p(mp.exp(-zm)) + (1 - ym) * mp.log1p(mp.exp(zm))
    # A few roundings (1 - y, two softplus, two products, a sum): 1e-15 relative.
    assert_close(got, ref, rtol=1e-15)


# --- JS of nearly equal distributions -----------------------------------------------------


@pytest.mark.parametrize("k", [2, 10, 1000])
@pytest.mark.parametrize("rel", [1e-15, 1e-12, 1e-8, 1e-4, 0.3])
def test_js_float64_of_nearly_equal_pair_has_ten_correct_digits(k, rel, engine):
    # At rel ~ 1e-15, P and Q are a few ulp apart: M = (P + Q)/2 rounded carries an
    # error as large as M - P itself, so the terms must come from Q - P, exactly.
    p, q = near_pair(k, rel, seed=3 * k + int(1e15 * rel))
    ref = ref_js(p, q)
    assert_close(kl.js_divergence(p, q), ref, rtol=1e-10)
    assert_close(kl.js_divergence(q, p), ref, rtol=1e-10)
    assert_close(float(kl.js_divergence(xps.asarray(p), xps.asarray(q))), ref, rtol=1e-10)
    assert_close(kl.js_divergence(p.tolist(), q.tolist()), ref, rtol=1e-10)  # short lists
