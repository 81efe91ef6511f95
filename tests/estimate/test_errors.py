"""klkit.estimate's errors: precise messages for bad input, methods and missing SciPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
from estimate_reference import H_STD_NORMAL

import klkit as kl
import klkit.estimate as ke


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: ke.kl_divergence(kl.Normal(np.zeros(3), 1.0), kl.Normal(0.0, 2.0), method="mc"),
            ValueError,
            r"single distributions; `Normal` parameter `loc` has shape \(3,\)",
        ),
        (lambda: ke.entropy(np.ones(5), method="fast"), ValueError, r"`method` must be one of"),
        (lambda: ke.entropy(np.arange(5.0), k=5), ValueError, r"`k` must be .* 1 to n - 1 = 4"),
        (
            lambda: ke.entropy(np.array([0.0, 1.0, np.nan, 2.0])),
            ValueError,
            r"`p` has nan in row 2; samples must be finite",
        ),
        (
            lambda: ke.kl_divergence(np.array([1, 2, 3]), np.array([0.5, 1.5, 2.5])),
            ValueError,
            r"`p` is discrete and `q` is continuous",
        ),
        (
            lambda: ke.kl_divergence(np.zeros((10, 2)), np.zeros((10, 3))),
            ValueError,
            r"`p` samples have 2 dimension\(s\) and `q` samples 3",
        ),
        (
            lambda: ke.entropy(np.arange(5.0), method="plugin"),
            ValueError,
            r"method='plugin' does not apply to continuous \(floats\) samples",
        ),
        (lambda: ke.entropy(np.ones(1)), ValueError, r"n >= 2"),
    ],
)
def test_bad_input_is_a_precise_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_klkit_estimate_is_reachable_from_klkit():
    assert kl.estimate is ke


def test_explicit_methods_are_honoured_or_refused():
    quad = ke.entropy(kl.Normal(0.0, 1.0), method="quad")
    assert quad.method == "quad"
    assert quad.value == pytest.approx(H_STD_NORMAL, rel=1e-12)
    with pytest.raises(ValueError, match=r"method='knn' estimates from samples"):
        ke.kl_divergence(kl.Normal(0.0, 1.0), kl.StudentT(3.0), method="knn")
    with pytest.raises(ValueError, match=r"method='mc' does not apply to continuous"):
        ke.kl_divergence(np.arange(5.0), kl.Normal(0.0, 1.0), method="mc")


@pytest.mark.parametrize(
    ("p", "q", "message"),
    [
        (ss.norm([0.0, 1.0], 1.0), ss.norm(), r"`p` is a batch of shape \(2,\)"),
        (ss.norm(), ss.cauchy([0.0, 1.0]), r"`q` is a batch of shape \(2,\)"),
        (ss.dirichlet([1.0, 2.0]), ss.dirichlet([1.0, 1.0, 1.0]), "2 outcomes and `q` has 3"),
        (ss.multivariate_normal([0.0, 0.0]), ss.norm(), "2 dimension\\(s\\) and `q` has 1"),
    ],
)
def test_batches_and_mismatched_spaces_are_refused_not_sampled(p, q, message):
    with pytest.raises(ValueError, match=message):
        ke.kl_divergence(p, q)


def test_missing_scipy_is_one_line_naming_the_extra():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['scipy'] = None\n"
        "try:\n"
        "    import klkit.estimate\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "klkit.estimate needs SciPy; install it with: pip install 'klkit[estimate]'"
    )
