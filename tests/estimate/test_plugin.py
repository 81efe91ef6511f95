"""klkit.estimate, discrete samples: plug-in frequencies, smoothing, Miller-Madow."""

from __future__ import annotations

import math

import numpy as np
import pytest
from estimate_reference import FAIR, LOADED

import klkit as kl
import klkit.estimate as ke


def test_fair_and_loaded_die_from_ten_thousand_rolls():
    g = np.random.default_rng(4)
    fair = g.choice(np.arange(1, 7), 10_000, p=FAIR)
    loaded = g.choice(np.arange(1, 7), 10_000, p=LOADED)
    truth = float(np.sum(FAIR * np.log(FAIR / LOADED)))
    est = ke.kl_divergence(fair, loaded, rng=0)
    assert est.method == "plugin"
    assert est.ci_low < truth < est.ci_high
    h = ke.entropy(fair, rng=0)
    assert h.ci_low < math.log(6) < h.ci_high + 1e-3  # plug-in entropy is biased low


def test_unseen_outcome_is_infinite_with_a_note_and_smoothing_fixes_it():
    x, y = np.array(["a", "a", "b", "c"]), np.array(["b", "b", "c", "c"])
    est = ke.kl_divergence(x, y)
    assert est.value == math.inf
    assert "outcome 'a' appears in p's samples but never in q's" in str(est)
    assert "smoothing=" in str(est)
    smooth = ke.kl_divergence(x, y, smoothing=1)
    # Laplace: (3, 2, 2) / 7 against (1, 3, 3) / 7
    fp, fq = np.array([3, 2, 2]) / 7, np.array([1, 3, 3]) / 7
    assert smooth.value == pytest.approx(float(np.sum(fp * np.log(fp / fq))), rel=1e-12)


def test_miller_madow_reduces_the_entropy_bias():
    g = np.random.default_rng(9)
    plain, corrected = [], []
    for _ in range(300):
        s = g.integers(0, 6, 30)
        plain.append(ke.entropy(s, groups=None).value)
        corrected.append(ke.entropy(s, groups=None, miller_madow=True).value)
    assert abs(np.mean(corrected) - math.log(6)) < abs(np.mean(plain) - math.log(6)) / 3


def test_plugin_interval_survives_rare_outcomes():
    g = np.random.default_rng(0)
    x, y = g.poisson(3, 2000), g.poisson(3, 2000)
    est = ke.kl_divergence(x, y, rng=0)
    assert math.isfinite(est.stderr)
    assert est.ci_low <= 0.0 <= est.ci_high  # same law: KL 0
    against = ke.kl_divergence(kl.Poisson(3.0), g.poisson(3, 2000), rng=0)
    assert math.isfinite(against.stderr)


@pytest.mark.parametrize("smoothing", [math.inf, math.nan, -1.0, "1"])
def test_smoothing_must_be_a_finite_pseudo_count(smoothing):
    with pytest.raises(ValueError, match=r"`smoothing` must be a finite pseudo-count >= 0"):
        ke.entropy(np.array([1, 2, 2, 3]), smoothing=smoothing)
