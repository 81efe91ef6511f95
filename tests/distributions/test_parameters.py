"""Family parameters: rules, shapes and batches, and the parts of each message.

Every message names the family, the parameter, the place and the value; the parts are
attributes of the DistributionError (``argument``, ``owner``, ``where``, ``fix``) so
that the command line can say them in its own words.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from backends import Backend, requires

import klkit as kl


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: kl.Normal(np.array([0.0, 1.0]), np.array([1.0, -1.0])),
            "`Normal` parameter `scale` has -1.0 at index 1",
        ),
        (lambda: kl.Exponential(0.0), "`Exponential` parameter `rate` has 0.0; it must be > 0"),
        (
            lambda: kl.Bernoulli(np.array([0.5, 1.5])),
            "`Bernoulli` parameter `probs` has 1.5 at index 1",
        ),
        (lambda: kl.Normal(np.nan, 1.0), "`Normal` parameter `loc` has nan"),
        (
            lambda: kl.Uniform(np.array([0.0, 2.0]), 1.0),
            "`Uniform` needs low < high; `low` is 2.0 at index 1",
        ),
    ],
)
def test_invalid_parameters_name_family_parameter_index_and_value(make, message):
    with pytest.raises(kl.DistributionError, match=message.replace("(", r"\(")):
        make()


BAD_PSD = np.stack([np.eye(2), np.eye(2), np.array([[1.0, 2.0], [2.0, 1.0]])])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: kl.Gamma(np.array([1.0, -2.0]), 1.0),
            r"`Gamma` parameter `concentration` has -2.0 at index 1",
        ),
        (
            lambda: kl.Binomial(np.array([3.0, 2.5]), 0.5),
            r"`Binomial` parameter `total_count` has 2.5 at index 1; it must be a whole number",
        ),
        (
            lambda: kl.Geometric(0.0),
            r"`Geometric` parameter `probs` has 0.0; it must be a probability in \(0, 1\]",
        ),
        (
            lambda: kl.Poisson(np.array([1.0, np.inf])),
            r"`Poisson` parameter `rate` has inf at index 1",
        ),
        (
            lambda: kl.Gamma(np.ones(3), np.ones(4)),
            r"`Gamma` parameters `concentration` \(batch shape \(3,\)\) and `rate` "
            r"\(batch shape \(4,\)\) do not broadcast",
        ),
        (
            lambda: kl.MultivariateNormal(np.zeros((3, 2)), covariance_matrix=BAD_PSD),
            r"`covariance_matrix` is not positive definite at batch index \(2,\): its "
            r"smallest eigenvalue is -1",
        ),
        (
            lambda: kl.MultivariateNormal(
                np.zeros(2), covariance_matrix=np.array([[1.0, 0.5], [0.0, 1.0]])
            ),
            r"`covariance_matrix` is not symmetric: entries differ from their transposes "
            r"by up to 0.5",
        ),
        (
            lambda: kl.MultivariateNormal(
                np.zeros(2), scale_tril=np.array([[1.0, 0.0], [0.3, -1.0]])
            ),
            r"`scale_tril` has diagonal entry -1.0 at index 1",
        ),
        (
            lambda: kl.MultivariateNormal(np.zeros(3), covariance_matrix=np.eye(2)),
            r"`loc` of shape \(..., k\) and `covariance_matrix` of shape \(..., k, k\); "
            r"got \(3,\) and \(2, 2\)",
        ),
    ],
)
def test_invalid_parameters_are_precise_errors(make, message):
    with pytest.raises(kl.DistributionError, match=message):
        make()


def test_p_and_q_batches_that_do_not_broadcast_are_named():
    with pytest.raises(
        kl.DistributionError,
        match=r"kl_divergence\(Normal, Normal\): P \(batch shape \(3,\)\) and Q \(batch "
        r"shape \(4,\)\) do not broadcast",
    ):
        kl.kl_divergence(kl.Normal(np.zeros(3), 1.0), kl.Normal(np.zeros(4), 1.0))


# The graph computes log(-3) next to the check (NumPy warns), then the check raises.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_dask_parameters_are_checked_when_computed():
    da = requires(Backend.DASK)
    c = np.ones((4, 3))
    c[2, 1] = -1.0
    lazy = kl.entropy(kl.Dirichlet(da.from_array(c, chunks=(2, 3))))
    with pytest.raises(kl.DistributionError, match=r"`concentration` has -1.0 at index 2"):
        lazy.compute()
    rate = da.from_array(np.array([1.0, 2.0, -3.0, 4.0]), chunks=2)
    with pytest.raises(kl.DistributionError, match=r"`rate` has -3.0 at index 2"):
        kl.entropy(kl.Gamma(2.0, rate)).compute()


def test_dask_checks_line_up_with_differently_chunked_parameters():
    da = requires(Backend.DASK)
    scale = np.ones(6)
    scale[4] = math.inf
    lazy = kl.entropy(
        kl.Normal(da.from_array(np.zeros(6), chunks=2), da.from_array(scale, chunks=3))
    )
    with pytest.raises(kl.DistributionError, match=r"`scale` has inf at index 4"):
        lazy.compute()
    cov = np.broadcast_to(np.eye(3), (6, 3, 3)).copy()
    ok = kl.MultivariateNormal(
        da.from_array(np.zeros((6, 3)), chunks=(2, 3)),
        covariance_matrix=da.from_array(cov, chunks=3),
    )
    np.testing.assert_allclose(kl.entropy(ok).compute(), 1.5 * math.log(2 * math.pi * math.e))


@pytest.mark.parametrize(
    ("make", "argument", "owner", "where", "fix"),
    [
        (
            lambda: kl.Normal(np.array([0.0, 1.0]), np.array([1.0, -1.0])),
            "scale",
            "Normal",
            " at index 1",
            "",
        ),
        (lambda: kl.Exponential(0.0), "rate", "Exponential", "", ""),
        (
            lambda: kl.MultivariateNormal(
                np.zeros(2), scale_tril=np.array([[1.0, 0.2], [0.0, 1.0]])
            ),
            "scale_tril",
            "MultivariateNormal",
            "",
            "pass a lower-triangular matrix.",
        ),
        (
            lambda: kl.MultivariateNormal(np.zeros((3, 2)), covariance_matrix=BAD_PSD),
            "covariance_matrix",
            "MultivariateNormal",
            " at batch index (2,)",
            "pass a symmetric positive definite matrix (add a small multiple of the identity "
            "if it is singular).",
        ),
        (
            lambda: kl.Gamma(np.ones(3), np.ones(4)),
            None,
            None,
            "",
            "give them equal shapes or size-1 axes.",
        ),
    ],
)
def test_messages_carry_their_parts(make, argument, owner, where, fix):
    # the parts the command line renders in its own words; the text is the Python one
    with pytest.raises(kl.DistributionError) as info:
        make()
    err = info.value
    assert (err.argument, err.owner, err.where, err.fix) == (argument, owner, where, fix)
    if owner is not None:
        assert str(err).startswith(f"`{owner}` parameter `{argument}` ")
