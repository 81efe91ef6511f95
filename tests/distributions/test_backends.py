"""Every backend gives NumPy's answer, in its own library and dtype."""

from __future__ import annotations

import numpy as np
from family_cases import A1, A2, ALPHA1, ALPHA2, B1, B2, PR1, PR2

import klkit as kl


def _families_for(asarray):
    a = asarray
    return [
        (kl.Gamma(a(A1), a(B1)), kl.Gamma(a(A2), 1.5)),
        (kl.Beta(a(A1), a(B1)), kl.Beta(a(A2), a(B2))),
        (kl.Dirichlet(a(ALPHA1)), kl.Dirichlet(a(ALPHA2))),
        (kl.Poisson(a(A1)), kl.Poisson(a(B1))),
        (kl.Geometric(a(PR1)), kl.Geometric(a(PR2))),
        (kl.Binomial(a(np.array([3.0, 5, 5, 0, 2, 9])), a(PR1)), kl.Binomial(9, a(PR2))),
        (kl.StudentT(a(A1), 0.0, a(B1)), None),
        (kl.Exponential(a(A1)), kl.Gamma(a(A2), a(B2))),
        (kl.Normal(a(A1), a(B1)), kl.Laplace(a(A2), a(B2))),  # erf, native or the series
    ]


def test_every_backend_gives_numpys_answer_in_its_own_library(lib):
    for (p, q), (p0, q0) in zip(_families_for(lib.asarray), _families_for(np.asarray), strict=True):
        got = lib.check_result(kl.entropy(p), dtype="float64")
        np.testing.assert_allclose(got, kl.entropy(p0), rtol=1e-12, atol=1e-14, err_msg=repr(p))
        if q is not None:
            got = lib.check_result(kl.kl_divergence(p, q), dtype="float64")
            np.testing.assert_allclose(got, kl.kl_divergence(p0, q0), rtol=1e-11, atol=1e-14)
