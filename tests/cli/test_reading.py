"""Every input format: files, columns, standard input, batches."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.stats as ss
from cli_support import FAIR, FAIR_A, LOADED, LOADED_A, as_json, ok

# --- every input format -------------------------------------------------------------------

EXPECTED_KL = float(ss.entropy(FAIR_A, LOADED_A))


@pytest.mark.parametrize(
    "q",
    [
        "die.csv:loaded",
        "single.csv",
        "loaded.txt",
        "loaded_row.txt",
        "loaded.json",
        "loaded.npy",
    ],
)
def test_each_file_format_reads_the_loaded_die(files, q):
    assert as_json("kl", FAIR, q)["kl_divergence"] == pytest.approx(EXPECTED_KL, rel=1e-14)


def test_json_strings_may_be_fractions(files):
    assert as_json("kl", "fair.json", LOADED)["kl_divergence"] == pytest.approx(EXPECTED_KL)


@pytest.mark.parametrize(
    "stdin",
    [
        "0.1,0.1,0.1,0.1,0.1,0.5\n",
        "0.1, 0.1, 0.1, 0.1, 0.1, 0.5\n",
        "0.1\n0.1\n0.1\n0.1\n0.1\n0.5",
        "[0.1, 0.1, 0.1, 0.1, 0.1, 0.5]",
    ],
)
def test_standard_input(stdin):
    result = as_json("kl", FAIR, "-", stdin=stdin)
    assert result["kl_divergence"] == pytest.approx(EXPECTED_KL, rel=1e-14)


def test_batch_from_a_2d_file_gives_one_value_per_row(files):
    data = as_json("entropy", "batch.npy", "--axis", "1", "--base", "bits")
    expected = ss.entropy(np.load("batch.npy"), base=2, axis=1)
    np.testing.assert_allclose(data["entropy"], expected, rtol=1e-14)
    text = ok("entropy", "batch.npy", "--axis", "1")
    assert "one value per distribution" in text
    assert len(re.findall(r"^\S*\s*[│|]\s*[012]\s", text, flags=re.MULTILINE)) == 3
    # a 1-D Q against a batch of P's, and two batches
    data = as_json("kl", "batch.npy", "0.5,0.5", "--axis", "1")
    np.testing.assert_allclose(
        data["kl_divergence"], ss.entropy(np.load("batch.npy"), [0.5, 0.5], axis=1), rtol=1e-14
    )
    data = as_json("kl", "batch.npy", "batch.json", "--axis", "-1")
    assert len(data["kl_divergence"]) == 3
    data = as_json("entropy", "batch.txt", "--axis", "1")
    np.testing.assert_allclose(data["entropy"], ss.entropy(np.load("batch.npy"), axis=1))


def test_csv_columns_are_a_batch_along_axis_0_named_by_the_header(files):
    data = as_json("kl", "columns.csv", "0.5,0.5", "--axis", "0")
    assert data["names"] == ["a", "b"]
    np.testing.assert_allclose(
        data["kl_divergence"], [ss.entropy([0.2, 0.8], [0.5, 0.5]), 0.0], atol=1e-16
    )
    text = ok("kl", "columns.csv", "0.5,0.5", "--axis", "0")
    assert re.search(r"column\b", text)
    assert re.search(r"\ba\s.*0\.192745", text)
    data = as_json("entropy", "columns.csv", "--axis", "1", "--normalize")
    assert data["names"] == ["x", "y"]  # one distribution per row, named by the text column
