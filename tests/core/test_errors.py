"""DistributionError keeps its message in parts, and says them in another interface's words."""

from __future__ import annotations

import numpy as np
import pytest

import klkit as kl
from klkit._core._errors import PYTHON, DistributionError, Spelling

CLI = Spelling(
    argument=lambda name: {"p": "P", "q": "Q"}.get(name, name),
    options={"normalize": "--normalize", "logits": "--logits", "logprobs": "--logits"},
    along=False,
)


def test_parts_and_message():
    e = DistributionError(
        "sums to 1.1{where}, not 1.",
        argument="p",
        where=" in row 2",
        fix="Pass {normalize}, or {logits}.",
    )
    assert str(e) == "`p` sums to 1.1 in row 2, not 1. Pass normalize=True, or `klkit.Logits(p)`."
    assert (e.argument, e.where) == ("p", " in row 2")
    assert e.problem == "sums to 1.1 in row 2, not 1."
    assert e.fix == "Pass normalize=True, or `klkit.Logits(p)`."
    assert e.render(PYTHON) == str(e)
    assert e.render(CLI) == "P sums to 1.1 in row 2, not 1. Pass --normalize, or --logits."
    assert isinstance(e, ValueError)


def test_kind_and_axis_are_parts():
    e = DistributionError(
        "has class index 3{where}, outside 0..2{along}.",
        argument="q",
        kind="labels",
        where=" at index 1",
        along=" along axis=-1",
    )
    assert str(e) == "`q` (labels) has class index 3 at index 1, outside 0..2 along axis=-1."
    assert e.render(CLI) == "Q (labels) has class index 3 at index 1, outside 0..2."


def test_a_parameter_of_a_family():
    e = DistributionError(
        "has -1.0{where}; it must be > 0 and finite.",
        argument="scale",
        owner="Normal",
        where=" at index 1",
    )
    assert str(e) == "`Normal` parameter `scale` has -1.0 at index 1; it must be > 0 and finite."
    assert e.render(CLI) == "Normal parameter scale has -1.0 at index 1; it must be > 0 and finite."


def test_other_arguments_are_named_by_field():
    e = DistributionError("{name:p} has shape (2,) and {name:q} has shape (3,).")
    assert str(e) == "`p` has shape (2,) and `q` has shape (3,)."
    assert e.render(CLI) == "P has shape (2,) and Q has shape (3,)."


def test_a_whole_message_is_kept_as_it_is():
    e = DistributionError("`Normal` parameter `scale` has -1.0; it must be > 0.")
    assert e.argument is None
    assert str(e) == "`Normal` parameter `scale` has -1.0; it must be > 0."


@pytest.mark.parametrize(
    ("call", "argument", "cli"),
    [
        (
            lambda: kl.kl_divergence(np.array([0.2, 0.9]), np.array([0.5, 0.5])),
            "p",
            "P sums to 1.1, not 1 (tolerance 1.5e-08 for float64 with 2 outcomes). Pass "
            "--normalize to rescale counts or weights, or --logits if these are scores.",
        ),
        (
            lambda: kl.cross_entropy(kl.Labels(np.array([3])), np.array([0.5, 0.5])),
            "p",
            "P (labels) has class index 3 at index 0, outside 0..1 for the 2 classes of the "
            "other argument. Check the number of classes or the axis.",
        ),
    ],
)
def test_the_checks_raise_errors_in_parts(call, argument, cli):
    with pytest.raises(DistributionError) as e:
        call()
    assert e.value.argument == argument
    assert e.value.render(CLI) == cli


def test_rows_of_a_batch_are_a_field():
    # a batch's entries are rows to pandas users and distributions on the command line
    e = DistributionError("{name:p} and {name:q} name different {rows}.")
    assert str(e) == "`p` and `q` name different rows."
    words = Spelling(argument=str.upper, options={"rows": "distributions"})
    assert e.render(words) == "P and Q name different distributions."
