"""Every bad input gets a DistributionError (a ValueError) naming argument, place and fix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from backends import Backend, requires

import klkit as kl

GOOD = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])


def _with(row: int, col: int, value: float) -> np.ndarray:
    bad = GOOD.copy()
    bad[row, col] = value
    return bad


def test_distribution_error_is_a_value_error():
    assert issubclass(kl.DistributionError, ValueError)


def test_negative_entry_names_argument_index_value_and_fix(eager_lib):
    q = eager_lib.asarray(_with(1, 2, -0.2))
    with pytest.raises(
        kl.DistributionError, match=r"`q` has a negative entry -0\.2 at index \(1, 2\)"
    ) as e:
        kl.kl_divergence(eager_lib.asarray(GOOD), q)
    assert "klkit.Logits(q)" in str(e.value)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_entry(eager_lib, value):
    p = eager_lib.asarray(_with(0, 1, value))
    with pytest.raises(
        kl.DistributionError, match=r"`p` has a non-finite entry .* at index \(0, 1\)"
    ):
        kl.entropy(p)


def test_row_not_summing_to_one_names_row_sum_tolerance_and_fix(eager_lib):
    p = eager_lib.asarray(_with(1, 0, 0.2))  # row 1 sums to 1.1
    with pytest.raises(kl.DistributionError, match=r"`p` sums to 1\.1 in row 1, not 1") as e:
        kl.cross_entropy(p, eager_lib.asarray(GOOD))
    assert "tolerance 1.5e-08 for float64 with 3 outcomes" in str(e.value)
    assert "normalize=True" in str(e.value)


def test_float32_tolerance_is_sqrt_eps(eager_lib):
    p = np.array([0.5, 0.5 + 1e-4], dtype=np.float32)  # within 3.5e-4: accepted
    kl.entropy(eager_lib.asarray(p))
    p = np.array([0.5, 0.5 + 1e-3], dtype=np.float32)
    with pytest.raises(kl.DistributionError, match=r"tolerance 0\.00035 for float32"):
        kl.entropy(eager_lib.asarray(p))


def test_one_dimensional_sum_message_has_no_row():
    with pytest.raises(kl.DistributionError, match=r"^`p` sums to 0\.5, not 1"):
        kl.entropy([0.2, 0.3])


def test_empty(eager_lib):
    with pytest.raises(kl.DistributionError, match=r"`p` is empty: it has no outcomes"):
        kl.entropy(eager_lib.asarray(np.zeros((2, 0))))


def test_mismatched_lengths_do_not_broadcast(eager_lib):
    with pytest.raises(kl.DistributionError, match=r"`p` has 3, `q` has 4 outcomes along axis=-1"):
        kl.kl_divergence(eager_lib.asarray(GOOD), eager_lib.asarray(np.full((2, 4), 0.25)))
    # a length of 1 along the axis is a mismatch too, not a broadcast
    with pytest.raises(kl.DistributionError, match=r"`p` has 3, `q` has 1 outcomes"):
        kl.kl_divergence(eager_lib.asarray(GOOD), eager_lib.asarray(np.ones((2, 1))))


def test_batch_shapes_that_do_not_broadcast():
    with pytest.raises(
        kl.DistributionError, match=r"`p` has shape \(2, 3\) and `q` has shape \(4, 3\)"
    ):
        kl.kl_divergence(GOOD, np.full((4, 3), 1 / 3))


def test_labels_out_of_range(eager_lib):
    y = eager_lib.asarray(np.array([0, 3]))
    with pytest.raises(
        kl.DistributionError, match=r"`p` \(labels\) has class index 3 at index 1, outside 0\.\.2"
    ):
        kl.cross_entropy(kl.Labels(y), kl.Logits(eager_lib.asarray(GOOD)))
    y = eager_lib.asarray(np.array([-1, 0]))
    with pytest.raises(kl.DistributionError, match=r"class index -1 at index 0"):
        kl.kl_divergence(kl.Labels(y), eager_lib.asarray(GOOD))


def test_labels_must_be_integers():
    with pytest.raises(
        kl.DistributionError, match=r"`p` \(labels\) has dtype float64; labels must be integer"
    ):
        kl.cross_entropy(kl.Labels(np.array([0.0, 1.0])), GOOD)


def test_non_numeric_and_complex():
    with pytest.raises(kl.DistributionError, match=r"`p` is not numeric \(dtype <U3\)"):
        kl.entropy(["0.5", "0.5"])
    with pytest.raises(kl.DistributionError, match=r"`q` is complex"):
        kl.kl_divergence([0.5, 0.5], np.array([0.5 + 0j, 0.5]))
    with pytest.raises(
        kl.DistributionError, match=r"`p` could not be read as a numeric array \(ragged"
    ):
        kl.entropy([[0.5, 0.5], [1.0]])


def test_logits_nan_and_all_minus_inf(eager_lib):
    z = eager_lib.asarray(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(
        kl.DistributionError, match=r"`q` \(logits\) has an entry nan at index \(0, 1\)"
    ):
        kl.cross_entropy(kl.Labels(eager_lib.asarray(np.array([0, 1]))), kl.Logits(z))
    z = eager_lib.asarray(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))
    with pytest.raises(kl.DistributionError, match=r"`p` \(logits\) is -inf everywhere in row 1"):
        kl.entropy(kl.Logits(z))


def test_log_probs_must_be_normalised(eager_lib):
    lp = eager_lib.asarray(np.log(np.array([0.5, 0.6])))
    with pytest.raises(
        kl.DistributionError, match=r"`p` \(log-probabilities\) has probabilities summing to 1\.1"
    ) as e:
        kl.entropy(kl.LogProbs(lp))
    assert "klkit.Logits(p)" in str(e.value)


def test_normalize_needs_a_positive_weight():
    with pytest.raises(
        kl.DistributionError, match=r"`p` sums to 0 in row 1, so it cannot be normalised"
    ):
        kl.entropy(np.array([[1, 2], [0, 0]]), normalize=True)


@pytest.mark.parametrize(
    "base", [0, 1, -2, 0.5, np.float32(0.1), float("inf"), float("nan"), "2", "bytes", True]
)
def test_bad_base_names_the_value(base):
    with pytest.raises(ValueError, match=r"`base` must be a finite number > 1 or a unit") as e:
        kl.entropy([0.5, 0.5], base=base)
    assert f"got {base!r}" in str(e.value)


def test_bad_axis():
    with pytest.raises(ValueError, match=r"`axis=2` is out of range for arrays with 2"):
        kl.entropy(GOOD, axis=2)
    with pytest.raises(TypeError, match=r"`axis` must be an int or None"):
        kl.entropy(GOOD, axis=1.0)


def test_two_array_libraries_name_both():
    torch = requires(Backend.TORCH, "torch")
    with pytest.raises(TypeError, match=r"`p` is a torch array and `q` is a numpy array"):
        kl.kl_divergence(torch.asarray(GOOD), GOOD)
    jnp = requires(Backend.JAX)
    with pytest.raises(TypeError, match=r"`y` is a jax array and `y_hat` is a torch array"):
        kl.binary_cross_entropy(jnp.asarray([1.0]), torch.asarray([0.5]))


def test_bce_targets_and_predictions_in_unit_interval(eager_lib):
    with pytest.raises(
        kl.DistributionError, match=r"`y` has an entry 1\.5 at index 1 outside \[0, 1\]"
    ):
        kl.binary_cross_entropy(eager_lib.asarray([0.0, 1.5]), eager_lib.asarray([0.5, 0.5]))
    with pytest.raises(
        kl.DistributionError, match=r"`y_hat` has an entry 3 at index 0 .*Logits\(y_hat\)"
    ):
        kl.binary_cross_entropy(eager_lib.asarray([0.0, 1.0]), eager_lib.asarray([3.0, 0.5]))
    with pytest.raises(
        kl.DistributionError, match=r"`y_hat` \(logits\) has a non-finite entry nan"
    ):
        kl.binary_cross_entropy(eager_lib.asarray([0.0]), kl.Logits(eager_lib.asarray([np.nan])))


def test_bce_refuses_labels_and_log_probs():
    with pytest.raises(
        TypeError, match=r"`y` was given as `klkit.Labels\(...\)`.*plain targets in \[0, 1\]"
    ):
        kl.binary_cross_entropy(kl.Labels(np.array([0, 1])), np.array([0.2, 0.7]))
    with pytest.raises(TypeError, match=r"`y_hat` was given as `klkit.Labels"):
        kl.binary_cross_entropy(np.array([0.0, 1.0]), kl.Labels(np.array([0, 1])))


def test_validate_false_skips_checks_but_nan_propagates():
    out = kl.kl_divergence([np.nan, 1.0], [0.5, 0.5], validate=False)
    assert np.isnan(out)
    out = kl.entropy([np.nan, 1.0], validate=False)
    assert np.isnan(out)


def test_explain_errors():
    with pytest.raises(kl.DistributionError, match=r"explain compares one pair .* shape \(2, 3\)"):
        kl.explain(GOOD, GOOD)
    with pytest.raises(kl.DistributionError, match=r"`outcomes` has 2 names for 3 outcomes"):
        kl.explain(GOOD[0], GOOD[1], outcomes=["a", "b"])
    with pytest.raises(
        kl.DistributionError, match=r"`outcomes` is 5 \(of type int\); give one name"
    ):
        kl.explain(GOOD[0], GOOD[1], outcomes=5)
    with pytest.raises(kl.DistributionError, match=r"both `klkit.Labels`, so neither says how"):
        kl.explain(kl.Labels(1), kl.Labels(0))


# --- labels: any integer dtype, any batch, axis=None ---------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64"])
def test_narrow_labels_do_not_wrap(dtype):
    # 300 equally likely classes: JS of a one-hot against the uniform is
    # (1/2)[log 2 + 299/300 log 2 + (1/300) log(2/301) ... ] -- computed in closed form here
    q = np.full((1, 300), 1 / 300)
    y = np.array([3]).astype(dtype)
    m_hit, m_rest = (1 + 1 / 300) / 2, (1 / 300) / 2
    want = 0.5 * math.log(1 / m_hit) + 0.5 * (
        (1 / 300) * math.log((1 / 300) / m_hit) + 299 * (1 / 300) * math.log((1 / 300) / m_rest)
    )
    assert kl.js_divergence(kl.Labels(y), q)[0] == pytest.approx(want, rel=1e-13)
    assert kl.cross_entropy(kl.Labels(y), q)[0] == pytest.approx(math.log(300), rel=1e-14)
    if dtype in ("uint8", "int8"):  # class 300 is out of range in any dtype that holds it
        with pytest.raises(kl.DistributionError, match="class index 300"):
            kl.cross_entropy(kl.Labels(np.array([300], dtype="int16")), q)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "int64"])
def test_torch_labels_of_any_integer_dtype(dtype):
    torch = requires(Backend.TORCH, "torch")
    z = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 2], dtype=getattr(torch, dtype))
    want = torch.nn.functional.cross_entropy(z, y.long(), reduction="none")
    for p in (kl.Labels(y),):
        got = kl.cross_entropy(p, kl.Logits(z))
        torch.testing.assert_close(got, want)
        got = kl.kl_divergence(p, torch.softmax(z, -1))
        torch.testing.assert_close(got, want)


def test_labels_with_axis_none_are_one_class_index():
    q = np.array([0.2, 0.8])
    assert kl.cross_entropy(kl.Labels(1), q, axis=None) == pytest.approx(-math.log(0.8))
    assert kl.kl_divergence(kl.Labels(np.int64(0)), q, axis=None) == pytest.approx(-math.log(0.2))
    with pytest.raises(kl.DistributionError, match=r"labels must be a single class index"):
        kl.cross_entropy(kl.Labels(np.array([0, 1])), q, axis=None)


def test_more_labels_than_rows_of_q_broadcast():
    q = np.array([0.2, 0.3, 0.5])
    want = -np.log(q)
    for measure in (kl.cross_entropy, kl.kl_divergence):
        np.testing.assert_allclose(measure(kl.Labels(np.array([0, 1, 2])), q), want, rtol=1e-15)
    np.testing.assert_allclose(
        kl.cross_entropy(kl.Labels(np.array([[0], [2]])), kl.Logits(np.log(q))),
        [[-math.log(0.2)], [-math.log(0.5)]],
        rtol=1e-15,
    )


def test_integers_beyond_float64_are_named():
    with pytest.raises(kl.DistributionError, match=r"`p` has an integer of 401 digits at index 0"):
        kl.entropy([10**400, 0])
    with pytest.raises(kl.DistributionError, match=r"`p` sums to inf"):
        kl.kl_divergence([1e308, 1e308], [0.5, 0.5])


def test_numpy_scalars_and_unit_names_for_base_and_axis():
    p, q = np.array([[0.2, 0.8], [0.5, 0.5]]), np.array([[0.5, 0.5], [0.1, 0.9]])
    bits = kl.kl_divergence(p, q) / math.log(2)
    for base in (2, 2.0, np.float32(2), np.int64(2), "bits", "BIT", " bits "):
        np.testing.assert_allclose(kl.kl_divergence(p, q, base=base), bits, rtol=1e-15)
    for base in (None, "e", "nats", math.e):
        np.testing.assert_allclose(kl.kl_divergence(p, q, base=base), bits * math.log(2))
    np.testing.assert_allclose(kl.kl_divergence(p, q, base="bans"), bits * math.log10(2))
    np.testing.assert_allclose(
        kl.kl_divergence(p.T, q.T, axis=np.int64(0)), kl.kl_divergence(p, q), rtol=1e-15
    )
    assert kl.explain(p[0], q[0], base="bits").unit == "bits"
    for axis in ("x", 1.0, True, (0,)):
        with pytest.raises(TypeError, match="`axis` must be an int or None"):
            kl.entropy(p, axis=axis)
