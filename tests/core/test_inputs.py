"""Input preparation and named alignment as units: what each argument becomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from klkit._core._errors import DistributionError
from klkit._core._inputs import Labels, Logits, LogProbs, convert, dense, prepare
from klkit._core._named import Named, align_named, align_outcomes


def test_convert_gives_one_library_and_float_dtype():
    _, kinds, arrays, dtype = convert(
        [("p", [1, 0]), ("q", np.array([0.5, 0.5], np.float32)), ("y", Labels(np.uint8(1)))]
    )
    assert kinds == ["probs", "probs", "labels"]
    assert dtype == np.float32
    assert arrays[0].dtype == np.float32
    assert arrays[2].dtype == np.int64  # narrow labels widened


def test_prepare_pads_checks_and_places_the_outcome_axis():
    prep = prepare(
        [("p", np.full((2, 3), 1 / 3)), ("q", np.full(3, 1 / 3))],
        axis=-1,
        normalize=False,
        validate=True,
    )
    assert prep.axis == 1
    assert prep.n_outcomes == 3
    assert [tuple(d.array.shape) for d in prep.dists] == [(2, 3), (1, 3)]
    prep = prepare(
        [("y", Labels(np.array([0, 2]))), ("q", Logits(np.zeros((2, 3))))],
        axis=-1,
        normalize=False,
        validate=True,
    )
    assert tuple(prep.dists[0].array.shape) == (2, 1)  # labels keep a size-1 class axis


def test_prepare_axis_none_flattens_and_keeps_a_shape_for_keepdims():
    prep = prepare([("p", np.full((2, 2), 0.25))], axis=None, normalize=False, validate=True)
    assert tuple(prep.dists[0].array.shape) == (4,)
    assert prep.keep_shape == (1, 1)


def test_dense_reads_every_kind():
    prep = prepare(
        [("p", LogProbs(np.log([0.25, 0.75]))), ("q", Labels(np.array(1)))],
        axis=-1,
        normalize=False,
        validate=True,
    )
    prob, log = dense(prep.dists[0], prep)
    np.testing.assert_allclose(prob, [0.25, 0.75])
    np.testing.assert_allclose(log, np.log([0.25, 0.75]))
    onehot, none = dense(prep.dists[1], prep)
    np.testing.assert_array_equal(onehot, [0.0, 1.0])
    assert none is None


def test_prepare_refuses_what_is_not_a_distribution():
    with pytest.raises(DistributionError, match="`p` is empty"):
        prepare([("p", np.zeros((2, 0)))], axis=-1, normalize=False, validate=True)
    with pytest.raises(DistributionError, match="`p` has 2, `q` has 3 outcomes"):
        prepare(
            [("p", [0.5, 0.5]), ("q", [0.2, 0.3, 0.5])], axis=-1, normalize=False, validate=True
        )


def test_align_named_reorders_by_name_and_keeps_position_for_the_unnamed():
    values, names = align_named(
        [
            ("p", Named(np.array([0.2, 0.8]), ("a", "b"))),
            ("q", Named(np.array([0.9, 0.1]), ("b", "a"))),
            ("r", Named(np.array([0.5, 0.5]), None)),
        ],
        axis=-1,
    )
    assert names == ("a", "b")
    np.testing.assert_array_equal(values[1][1], [0.1, 0.9])
    np.testing.assert_array_equal(values[2][1], [0.5, 0.5])


def test_align_outcomes_reads_series_dataframes_and_dicts():
    aligned, names = align_outcomes(
        [("p", pd.Series({"x": 0.3, "y": 0.7})), ("q", {"y": 0.4, "x": 0.6})], axis=-1
    )
    assert names == ("x", "y")
    np.testing.assert_array_equal(aligned[1][1], [0.6, 0.4])
    frame = pd.DataFrame({"x": [0.3], "y": [0.7]})
    aligned, names = align_outcomes(
        [("p", frame), ("q", Logits(pd.Series({"y": 1.0, "x": 0.0})))], axis=-1
    )
    assert names == ("x", "y")
    assert isinstance(aligned[1][1], Logits)
    np.testing.assert_array_equal(aligned[1][1].array, [0.0, 1.0])
