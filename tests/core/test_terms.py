"""The elementwise terms and softmax pieces as units, against mpmath on the exact inputs."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from array_api_compat import array_namespace
from hypothesis import given, settings
from hypothesis import strategies as st

from klkit._core._terms import (
    cross_entropy_terms,
    entropy_terms,
    kl_terms,
    log_softmax,
    logsumexp,
    softmax_parts,
    take_along_axis,
)
from klkit._numerics import series, series_in_u

XP = array_namespace(np.empty(0))
mpmath.mp.dps = 800  # logits 700 apart: a log-probability of -1e-304 keeps its digits


def mp_kl_term(p: float, q: float) -> float:
    """p log(p/q) - p + q of the exact float values (klkit's term), 0 log 0 = 0."""
    a, b = mpmath.mpf(p), mpmath.mpf(q)
    if a == 0:
        return float(b)
    if b == 0:
        return math.inf
    return float(a * mpmath.log(a / b) - a + b)


positive = st.floats(min_value=5e-324, max_value=1e300)


@settings(max_examples=300, deadline=None)
@given(positive, st.one_of(positive, st.floats(-0.5, 0.5).map(lambda t: None)), st.floats(-12, -1))
def test_kl_term_against_mpmath(p, q, near):
    q = p * (1 + 10**near) if q is None else q  # nearly equal pairs too
    got = float(kl_terms(np.array([p]), np.array([q]), None, None, xp=XP)[0])
    want = mp_kl_term(p, q)
    assert got >= 0.0
    if math.isinf(want):
        assert got == want
    else:
        assert got == pytest.approx(want, rel=1e-13, abs=1e-300)


def test_kl_term_conventions():
    p = np.array([0.0, 0.5, 0.0, 0.3])
    q = np.array([0.2, 0.0, 0.0, 0.3])
    np.testing.assert_array_equal(kl_terms(p, q, None, None, xp=XP), [0.2, np.inf, 0.0, 0.0])
    np.testing.assert_array_equal(
        entropy_terms(p, None, xp=XP), [0.0, -0.5 * math.log(0.5), 0.0, -0.3 * math.log(0.3)]
    )
    np.testing.assert_array_equal(cross_entropy_terms(p, q, None, xp=XP)[:3], [0.0, np.inf, 0.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-700, 700), min_size=1, max_size=8))
def test_softmax_pieces_against_mpmath(z):
    x = np.array(z)
    _, shifted, log1p_rest = softmax_parts(x, axis=0, xp=XP)
    zz = [mpmath.mpf(v) for v in z]
    lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in zz))
    assert float(logsumexp(x, axis=0, keepdims=False, xp=XP)) == pytest.approx(
        float(lse), rel=1e-15
    )
    want = [float(v - lse) for v in zz]
    # z - max z rounds (up to 3e-14 of a gap of 700): a tiny log-probability keeps 13 digits
    np.testing.assert_allclose(log_softmax(x, axis=0, xp=XP), want, rtol=1e-13, atol=1e-300)
    # the largest entry's log-probability keeps its digits even when it is ~ -1e-300
    top = int(np.argmax(x))
    assert float(shifted[top] - log1p_rest[0]) == pytest.approx(want[top], rel=1e-13, abs=1e-320)


def test_take_along_axis_broadcasts_both_ways():
    q = np.array([[0.2, 0.3, 0.5]])
    y = np.array([[0], [2]])
    np.testing.assert_array_equal(take_along_axis(q, y, axis=1, xp=XP), [[0.2], [0.5]])


@pytest.mark.parametrize("x", [1e-8, -1e-5, 0.01, -0.1, 0.15])
def test_the_series_is_x_minus_log1p_x(x):
    want = float(mpmath.mpf(x) - mpmath.log1p(mpmath.mpf(x)))
    assert series(x) == pytest.approx(want, rel=2e-16)
    assert series_in_u(x, x / (2 + x)) == pytest.approx(want, rel=2e-16)
