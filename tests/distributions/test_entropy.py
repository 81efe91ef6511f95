"""Entropies of every family, against SciPy, torch.distributions and mpmath.

The mpmath references (50 digits, textbook formulas) are in
``tests/family_reference.py``, the drawn cases in ``tests/family_draws.py``. JAX compiles
every primitive for each new shape, seconds per family: by default it runs the families
whose special functions are JAX's own (lgamma, digamma) in float32 (where JAX cannot
upcast); ``KLKIT_FUZZ=long`` runs every case on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.stats as ss
from backends import Backend, make_lib, requires
from family_cases import (
    A1,
    A2,
    ALPHA1,
    B1,
    COV1,
    LOC1,
    MU1,
    PR1,
    PROB1,
    SC1,
    t,
)
from family_draws import BACKENDS, EAGER, LONG, RTOL, _key, build, entropy_cases, refs_h, rel_err

import klkit as kl


def test_entropies_match_scipy():
    np.testing.assert_allclose(kl.entropy(kl.Normal(LOC1, SC1)), ss.norm(LOC1, SC1).entropy())
    np.testing.assert_allclose(
        kl.entropy(kl.LogNormal(LOC1, SC1)), ss.lognorm(SC1, scale=np.exp(LOC1)).entropy()
    )
    np.testing.assert_allclose(kl.entropy(kl.Laplace(LOC1, SC1)), ss.laplace(LOC1, SC1).entropy())
    np.testing.assert_allclose(kl.entropy(kl.Exponential(SC1)), ss.expon(scale=1 / SC1).entropy())
    np.testing.assert_allclose(kl.entropy(kl.Bernoulli(PROB1)), ss.bernoulli(PROB1).entropy())
    counts = np.array([0, 1, 7, 40, 3, 9])
    cases = [
        (kl.Gamma(A1, B1), ss.gamma(A1, scale=1 / B1).entropy()),
        (kl.Beta(A1, B1), ss.beta(A1, B1).entropy()),
        (kl.Geometric(PR1), ss.geom(PR1).entropy()),  # a shift does not change entropy
        (kl.Binomial(counts, PR1), ss.binom(counts, PR1).entropy()),
        (kl.StudentT(A1, B1, A2), ss.t(A1, B1, A2).entropy()),
        (kl.Poisson(A1 * 3), ss.poisson(A1 * 3).entropy()),
    ]
    for family, ref in cases:
        np.testing.assert_allclose(kl.entropy(family), ref, rtol=1e-10, err_msg=repr(family))
    for a in ALPHA1:
        np.testing.assert_allclose(kl.entropy(kl.Dirichlet(a)), ss.dirichlet(a).entropy())
    for m, c in zip(MU1, COV1, strict=True):
        got = kl.entropy(kl.MultivariateNormal(m, covariance_matrix=c))
        np.testing.assert_allclose(got, ss.multivariate_normal(m, c).entropy())
    D = requires(Backend.TORCH).distributions
    np.testing.assert_allclose(
        kl.entropy(kl.StudentT(A1)), D.StudentT(t(A1)).entropy().numpy(), rtol=1e-12
    )


JAX_ENTROPY = {"Gamma", "Beta", "Dirichlet", "StudentT"}


def _entropy_params() -> list[Any]:
    out = []
    for backend in BACKENDS:
        for dtype in ("float64", "float32"):
            for i, (kind, d) in enumerate(entropy_cases()):
                if (
                    backend is Backend.JAX
                    and not LONG
                    and (dtype == "float64" or kind not in JAX_ENTROPY)
                ):
                    continue
                form = "-logits" if "logits" in d else ""
                out.append(
                    pytest.param(backend, dtype, i, id=f"{backend.value}-{dtype}-{kind}{form}")
                )
    return out


@pytest.mark.parametrize(("backend", "dtype", "index"), _entropy_params())
def test_entropy_against_mpmath(backend, dtype, index):
    kind, d = entropy_cases()[index]
    lib = make_lib(backend)
    ref = refs_h(kind, d, dtype)
    got = lib.check_result(kl.entropy(build(kind, d, lib, dtype)), dtype=dtype)
    err = rel_err(got, ref, floor=1.0)
    worst = int(np.argmax(err))
    assert err[worst] <= RTOL[dtype], (got[worst], ref[worst], _key(d, worst, dtype))


@pytest.mark.parametrize("backend", EAGER, ids=[b.value for b in EAGER])
def test_float32_entropies_of_concentrated_laws(backend):
    lib = make_lib(backend)
    c = lib.asarray(np.array([1e6, 3e5], dtype=np.float32))
    cases = [
        ("Beta", {"concentration1": c, "concentration0": c}),
        ("Gamma", {"concentration": c, "rate": lib.asarray(np.ones(2, np.float32))}),
        ("Dirichlet", {"concentration": lib.asarray(np.full((2, 3), 1e6, np.float32))}),
    ]
    for kind, args in cases:
        got = lib.check_result(kl.entropy(getattr(kl, kind)(**args)), dtype="float32")
        host = {n: lib.to_numpy(v) for n, v in args.items()}
        ref = refs_h(kind, host, "float32")
        assert np.max(rel_err(got, ref, floor=1.0)) <= 1e-5, (kind, got, ref)  # was >100% off
