"""KL divergence and cross-entropy of two laws of one family.

References: torch.distributions (every same-family pair it has), mpmath at 40-50
digits for nearly equal and far apart scales (torch's own formulas lose digits there).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from backends import Backend, make_lib, requires
from family_cases import (
    A1,
    A2,
    ALPHA1,
    ALPHA2,
    B1,
    B2,
    COV1,
    COV2,
    LOC1,
    LOC2,
    MU1,
    MU2,
    PR1,
    PR2,
    PROB1,
    PROB2,
    SC1,
    SC2,
    assert_matches_torch,
    t,
    torch_case,
)
from family_draws import EAGER, Pair, refs_kl
from family_reference import _m, ref_kl
from mpmath import mp

import klkit as kl

# seed 0: scale families, to 1e-12 (cross-entropy in bits); seed 5: concentrations, 1e-10
_SCALES = {"rtol": 1e-12, "atol": 1e-14, "base": 2}
_CONCENTRATIONS = {"rtol": 1e-10, "atol": 1e-13, "base": None}
PAIRS = [
    torch_case(
        kl.Normal(LOC1, SC1),
        kl.Normal(LOC2, SC2),
        lambda D: (D.Normal(t(LOC1), t(SC1)), D.Normal(t(LOC2), t(SC2))),
        **_SCALES,
    ),
    torch_case(
        kl.LogNormal(LOC1, SC1),
        kl.LogNormal(LOC2, SC2),
        lambda D: (D.LogNormal(t(LOC1), t(SC1)), D.LogNormal(t(LOC2), t(SC2))),
        **_SCALES,
    ),
    torch_case(
        kl.Laplace(LOC1, SC1),
        kl.Laplace(LOC2, SC2),
        lambda D: (D.Laplace(t(LOC1), t(SC1)), D.Laplace(t(LOC2), t(SC2))),
        **_SCALES,
    ),
    torch_case(
        kl.Exponential(SC1),
        kl.Exponential(SC2),
        lambda D: (D.Exponential(t(SC1)), D.Exponential(t(SC2))),
        **_SCALES,
    ),
    torch_case(
        kl.Uniform(LOC1, LOC1 + SC1),
        kl.Uniform(LOC1 - SC2, LOC1 + SC1 + 0.5),
        lambda D: (
            D.Uniform(t(LOC1), t(LOC1 + SC1)),
            D.Uniform(t(LOC1 - SC2), t(LOC1 + SC1 + 0.5)),
        ),
        **_SCALES,
    ),
    torch_case(
        kl.Bernoulli(PROB1),
        kl.Bernoulli(PROB2),
        lambda D: (D.Bernoulli(t(PROB1)), D.Bernoulli(t(PROB2))),
        **_SCALES,
    ),
    torch_case(
        kl.Bernoulli(logits=LOC1 * 5),
        kl.Bernoulli(logits=LOC2),
        lambda D: (D.Bernoulli(logits=t(LOC1 * 5)), D.Bernoulli(logits=t(LOC2))),
        **_SCALES,
    ),
    torch_case(
        kl.Gamma(A1, B1),
        kl.Gamma(A2, B2),
        lambda D: (D.Gamma(t(A1), t(B1)), D.Gamma(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Beta(A1, B1),
        kl.Beta(A2, B2),
        lambda D: (D.Beta(t(A1), t(B1)), D.Beta(t(A2), t(B2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Dirichlet(ALPHA1),
        kl.Dirichlet(ALPHA2),
        lambda D: (D.Dirichlet(t(ALPHA1)), D.Dirichlet(t(ALPHA2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Geometric(PR1),
        kl.Geometric(PR2),
        lambda D: (D.Geometric(t(PR1)), D.Geometric(t(PR2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.Binomial(12, PR1),
        kl.Binomial(12, PR2),
        lambda D: (D.Binomial(12, t(PR1)), D.Binomial(12, t(PR2))),
        **_CONCENTRATIONS,
    ),
    torch_case(
        kl.MultivariateNormal(MU1, covariance_matrix=COV1),
        kl.MultivariateNormal(MU2, covariance_matrix=COV2),
        lambda D: (
            D.MultivariateNormal(t(MU1), covariance_matrix=t(COV1)),
            D.MultivariateNormal(t(MU2), covariance_matrix=t(COV2)),
        ),
        **_CONCENTRATIONS,
    ),
]


@pytest.mark.parametrize(("p", "q", "make", "tol"), PAIRS)
def test_closed_forms_match_torch_distributions(p, q, make, tol):
    assert_matches_torch(p, q, make, tol)


@pytest.mark.parametrize("rel", [1e-9, 1e-6, 1e-3, 0.5])
def test_nearly_equal_scales_keep_their_digits(rel):
    with mp.workdps(40):
        s1, s2 = 1.3, 1.3 * (1 + rel)
        x = (mp.mpf(s1) / mp.mpf(s2)) ** 2
        ref_normal = float((x - 1 - mp.log(x)) / 2)
        r = mp.mpf(s1) / mp.mpf(s2)
        ref_laplace = float(
            r - 1 - mp.log(r) + r * (mp.exp(-mp.mpf(1e-7) / s1) - 1 + mp.mpf(1e-7) / s1)
        )
        ref_exp = float(1 / r - 1 - mp.log(1 / r))
    assert float(kl.kl_divergence(kl.Normal(0.0, s1), kl.Normal(0.0, s2))) == pytest.approx(
        ref_normal, rel=1e-12
    )
    assert float(kl.kl_divergence(kl.Laplace(1e-7, s1), kl.Laplace(0.0, s2))) == pytest.approx(
        ref_laplace, rel=1e-12
    )
    assert float(kl.kl_divergence(kl.Exponential(s1), kl.Exponential(s2))) == pytest.approx(
        ref_exp, rel=1e-12
    )


def test_nearly_equal_normals_beat_torchs_float64():
    D = requires(Backend.TORCH).distributions
    s2 = 1.3 * (1 + 1e-9)
    with mp.workdps(40):
        x = (mp.mpf(1.3) / mp.mpf(s2)) ** 2
        ref = float((x - 1 - mp.log(x)) / 2)
    ours = float(kl.kl_divergence(kl.Normal(t(0.0), t(1.3)), kl.Normal(0.0, s2)))
    theirs = float(D.kl_divergence(D.Normal(t(0.0), t(1.3)), D.Normal(t(0.0), t(s2))))
    assert ours == pytest.approx(ref, rel=1e-12)
    assert abs(theirs - ref) > 1e-9 * ref  # torch: 1.5e-8 relative (8 digits)


@pytest.mark.parametrize(
    ("s1", "expected"),
    [
        # mpmath: log(1/s1) + s1^2/2 - 1/2 at 50 digits
        (1e-8, 17.920680743952365),
        (1e-12, 27.131021115928547),
    ],
)
def test_normal_against_a_much_wider_normal(s1, expected):
    with mpmath.workdps(50):
        ref = float(-mp.log(_m(s1)) + _m(s1) ** 2 / 2 - mp.mpf(1) / 2)
    assert ref == pytest.approx(expected, rel=1e-15)
    got = float(kl.kl_divergence(kl.Normal(0.0, s1), kl.Normal(0.0, 1.0)))
    assert got == pytest.approx(ref, rel=1e-14)  # was 17.5218, and inf at 1e-12
    got = float(kl.kl_divergence(kl.LogNormal(0.0, s1), kl.LogNormal(0.0, 1.0)))
    assert got == pytest.approx(ref, rel=1e-14)


def test_float32_gamma_against_a_concentrated_gamma():
    torch = requires(Backend.TORCH)
    p = kl.Gamma(torch.tensor(2.0), torch.tensor(1.0))
    with mpmath.workdps(50):
        ref = float(
            ref_kl(
                "Gamma",
                {"concentration": _m(2), "rate": _m(1)},
                "Gamma",
                {"concentration": _m(1e6), "rate": _m(1e6)},
            )
        )
    assert ref == pytest.approx(577208.5, rel=1e-6)
    got = float(kl.kl_divergence(p, kl.Gamma(1e6, 1e6)))
    assert got == pytest.approx(ref, rel=1e-6)  # was 589824


def test_float32_laplace_with_a_tiny_scale():
    torch = requires(Backend.TORCH)
    p = kl.Laplace(torch.tensor(0.0), torch.tensor(1e-6))
    s32 = float(np.float32(1e-6))
    with mpmath.workdps(50):
        ref = float(
            ref_kl(
                "Laplace",
                {"loc": _m(0), "scale": _m(s32)},
                "Laplace",
                {"loc": _m(0.5), "scale": _m(2)},
            )
        )
    assert ref == pytest.approx(13.7587, abs=1e-4)
    assert float(kl.kl_divergence(p, kl.Laplace(0.5, 2.0))) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("backend", EAGER, ids=[b.value for b in EAGER])
def test_nearly_equal_pairs_keep_their_digits(backend):
    """KL ~1e-18..1e-19: torch's own formulas lose all of it (relative error up to 1e4)."""
    lib = make_lib(backend)
    arr = lambda x: lib.asarray(np.array(x, dtype=np.float64))  # noqa: E731
    cases = [
        (
            "Beta",
            {"concentration1": arr(2.0), "concentration0": arr(3.0)},
            {"concentration1": arr(2.0 * (1 + 1e-9)), "concentration0": arr(3.0)},
        ),
        (
            "Gamma",
            {"concentration": arr(7.5), "rate": arr(0.3)},
            {"concentration": arr(7.5 * (1 + 1e-9)), "rate": arr(0.3 * (1 - 1e-9))},
        ),
        (
            "Dirichlet",
            {"concentration": arr([1.0, 2.0, 3.0])},
            {"concentration": arr([1.0, 2.0 * (1 + 1e-9), 3.0])},
        ),
    ]
    for kind, a, b in cases:
        got = float(lib.to_numpy(kl.kl_divergence(getattr(kl, kind)(**a), getattr(kl, kind)(**b))))
        host = lambda d: {n: lib.to_numpy(v)[None] for n, v in d.items()}  # noqa: E731
        ref = float(refs_kl(Pair("near", kind, host(a), kind, host(b)), "float64")[0])
        assert 1e-20 < ref < 1e-16
        assert got == pytest.approx(ref, rel=1e-9), kind


@pytest.mark.parametrize("backend", EAGER, ids=[b.value for b in EAGER])
def test_a_law_against_itself_is_exactly_zero(backend):
    lib = make_lib(backend)
    d = kl.Dirichlet(lib.asarray(np.array([1.0, 2.0, 3.0])))
    assert float(lib.to_numpy(kl.kl_divergence(d, d))) == 0.0  # was -1.1e-16
    b = kl.Beta(lib.asarray(np.array([0.3, 1e6])), lib.asarray(np.array([1e-6, 2.0])))
    assert np.all(lib.to_numpy(kl.kl_divergence(b, b)) == 0.0)
