"""The measures against the Python API and SciPy, and bce."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss
from cli_support import FAIR, FAIR_A, LOADED, LOADED_A, as_json, ok

import klkit as kl
import klkit.cli._read

# --- the measures, against the Python API and SciPy -------------------------------------


@pytest.mark.parametrize(
    ("command", "key", "function"),
    [
        ("cross-entropy", "cross_entropy", kl.cross_entropy),
        ("kl", "kl_divergence", kl.kl_divergence),
        ("js", "js_divergence", kl.js_divergence),
    ],
)
def test_two_argument_measures_match_the_python_api(command, key, function):
    data = as_json(command, FAIR, LOADED, "--base", "bits")
    assert data == {key: float(function(FAIR_A, LOADED_A, base=2)), "unit": "bits"}


def test_entropy_and_kl_match_scipy():
    assert as_json("entropy", FAIR)["entropy"] == pytest.approx(math.log(6), rel=1e-15)
    kl_bits = as_json("kl", FAIR, LOADED, "--base", "2")["kl_divergence"]
    assert kl_bits == pytest.approx(ss.entropy(FAIR_A, LOADED_A, base=2), rel=1e-14)


def test_text_output_names_the_measure_and_unit():
    assert ok("kl", FAIR, LOADED, "--base", "bits").strip() == "D(P||Q) = 0.349978 bits"
    assert ok("entropy", "0.5,0.5", "--base", "bits").strip() == "H(P) = 1 bits"
    assert ok("cross-entropy", "0.5,0.5", "0.5,0.5").strip() == "H(P,Q) = 0.693147 nats"
    assert ok("js", "1,0", "0,1", "--base", "bits").strip() == "JS(P,Q) = 1 bits"


@pytest.mark.parametrize(
    ("base", "unit", "scale"),
    [
        ("bits", "bits", math.log(2)),
        ("2", "bits", math.log(2)),
        ("e", "nats", 1.0),
        ("nats", "nats", 1.0),
        ("bans", "bans", math.log(10)),
        ("10", "bans", math.log(10)),
        ("3", "log-base-3 units", math.log(3)),
        ("1.5", "log-base-1.5 units", math.log(1.5)),
    ],
)
def test_base_accepts_numbers_e_and_unit_names(base, unit, scale):
    data = as_json("kl", FAIR, LOADED, "--base", base)
    assert data["unit"] == unit
    assert data["kl_divergence"] == pytest.approx(ss.entropy(FAIR_A, LOADED_A) / scale, rel=1e-14)


def test_normalize_and_logits():
    counts = as_json("entropy", "3,1,0", "--normalize")["entropy"]
    assert counts == pytest.approx(ss.entropy([3, 1, 0]), rel=1e-15)
    z = np.array([2.0, 0.5, -1.0])
    softmax = np.exp(z) / np.exp(z).sum()
    data = as_json("cross-entropy", "0,0,1", "2.0,0.5,-1", "--q-logits")
    assert data["cross_entropy"] == pytest.approx(-math.log(softmax[2]), rel=1e-14)
    # --logits reads both: P's softmax against Q's
    data = as_json("kl", "2.0,0.5,-1", "0,0,0", "--logits")
    assert data["kl_divergence"] == pytest.approx(ss.entropy(softmax, np.full(3, 1 / 3)))
    # counts for P, logits for Q
    data = as_json("cross-entropy", "0,0,4", "2.0,0.5,-1", "--q-logits", "--normalize")
    assert data["cross_entropy"] == pytest.approx(-math.log(softmax[2]), rel=1e-14)


def test_precision_sets_significant_digits():
    assert ok("kl", FAIR, LOADED, "--base", "bits", "--precision", "3").strip() == (
        "D(P||Q) = 0.35 bits"
    )
    data = as_json("kl", FAIR, LOADED, "--base", "bits", "--precision", "3")
    assert data["kl_divergence"] == 0.35
    full = as_json("kl", FAIR, LOADED, "--base", "bits")["kl_divergence"]
    assert full == float(kl.kl_divergence(FAIR_A, LOADED_A, base=2))  # all digits


def test_infinite_kl_is_reported_not_clipped():
    assert ok("kl", "0.5,0.5", "1,0").strip() == "D(P||Q) = inf nats"
    assert as_json("kl", "0.5,0.5", "1,0")["kl_divergence"] == math.inf


def test_negative_numbers_and_infinities_are_values_not_options():
    z = np.array([-1.5, 2.0, -math.inf])
    softmax = np.exp(z) / np.exp(z).sum()
    data = as_json("entropy", "-1.5,2,-inf", "--logits")
    assert data["entropy"] == pytest.approx(float(ss.entropy(softmax)), rel=1e-14)


# --- bce -------------------------------------------------------------------------------------


def test_bce_prints_each_element_and_the_mean():
    y, y_hat = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.6])
    expected = -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))  # the definition
    data = as_json("bce", "1,0,1", "0.9,0.2,0.6")
    np.testing.assert_allclose(data["binary_cross_entropy"], expected, rtol=1e-14)
    assert data["mean"] == pytest.approx(expected.mean(), rel=1e-14)
    assert data["unit"] == "nats"
    text = ok("bce", "1,0,1", "0.9,0.2,0.6")
    for value in expected:
        assert f"{value:.6g}" in text
    assert f"mean = {expected.mean():.6g} nats" in text


def test_bce_with_logits_matches_torch():
    torch = pytest.importorskip("torch")
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    z = torch.tensor([2.5, -1.0], dtype=torch.float64)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")
    data = as_json("bce", "1,0", "2.5,-1", "--logits", "--base", "bits")
    np.testing.assert_allclose(data["binary_cross_entropy"], expected.numpy() / math.log(2))
    assert ok("bce", "1,0", "2.5,-1", "--logits").count("logit") == 1


def test_bce_certainly_wrong_is_infinite():
    assert as_json("bce", "1", "0")["binary_cross_entropy"] == [math.inf]
