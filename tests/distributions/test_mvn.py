"""The multivariate normal: against torch.distributions and mpmath, eager and on Dask."""

from __future__ import annotations

import numpy as np
import pytest
from backends import Backend, make_lib, requires
from family_cases import COV1, COV2, MU1, MU2, t
from family_draws import RTOL, _mvn_ref, mvn_cases, rel_err

import klkit as kl


def test_multivariate_normal_on_eager_backends(eager_lib):
    D = requires(Backend.TORCH).distributions
    a = eager_lib.asarray
    p = kl.MultivariateNormal(a(MU1), scale_tril=a(np.linalg.cholesky(COV1)))
    q = kl.MultivariateNormal(a(MU2[0]), covariance_matrix=a(COV2[0]))  # batch broadcasts
    got = eager_lib.check_result(kl.kl_divergence(p, q), dtype="float64")
    ref = D.kl_divergence(
        D.MultivariateNormal(t(MU1), covariance_matrix=t(COV1)),
        D.MultivariateNormal(t(MU2[0]), covariance_matrix=t(COV2[0])),
    ).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_multivariate_normal_on_dask_is_lazy_and_checked_when_computed():
    da = requires(Backend.DASK)
    D = requires(Backend.TORCH).distributions
    p = kl.MultivariateNormal(
        da.from_array(MU1, chunks=(2, 3)), covariance_matrix=da.from_array(COV1, chunks=2)
    )
    q = kl.MultivariateNormal(da.from_array(MU2[0]), covariance_matrix=da.from_array(COV2[0]))
    lazy = kl.kl_divergence(p, q)
    assert type(lazy).__module__.startswith("dask")
    ref = D.kl_divergence(
        D.MultivariateNormal(t(MU1), covariance_matrix=t(COV1)),
        D.MultivariateNormal(t(MU2[0]), covariance_matrix=t(COV2[0])),
    ).numpy()
    np.testing.assert_allclose(lazy.compute(), ref, rtol=1e-10)
    np.testing.assert_allclose(
        kl.entropy(p).compute(), D.MultivariateNormal(t(MU1), t(COV1)).entropy().numpy()
    )
    bad = COV1.copy()
    bad[1] = np.diag([1.0, -1.0, 1.0])[: bad.shape[1], : bad.shape[2]]
    lazy_bad = kl.entropy(
        kl.MultivariateNormal(da.from_array(MU1), covariance_matrix=da.from_array(bad, chunks=1))
    )
    with pytest.raises(
        kl.DistributionError, match=r"`covariance_matrix` is not positive definite at index 1"
    ):
        lazy_bad.compute()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.TORCH], ids=["numpy", "torch"])
@pytest.mark.parametrize(
    "index", range(len(mvn_cases())), ids=[f"{c[0]}-{c[1]}" for c in mvn_cases()]
)
def test_multivariate_normal_against_mpmath(backend, dtype, index):
    group, form, m1, c1, m2, c2 = mvn_cases()[index]
    lib = make_lib(backend)
    arr = lambda x: lib.asarray(np.asarray(x, dtype=dtype))  # noqa: E731
    p = kl.MultivariateNormal(arr(m1), **{form: arr(c1)})
    q = kl.MultivariateNormal(arr(m2), **{form: arr(c2)})
    ref, h = _mvn_ref(index, dtype)
    got = lib.check_result(kl.kl_divergence(p, q), dtype=dtype)
    assert np.max(rel_err(got, ref)) <= RTOL[dtype], (got, ref)
    if group == "self":
        assert np.all(got == 0)
    got_h = lib.check_result(kl.entropy(p), dtype=dtype)
    assert np.max(rel_err(got_h, h, floor=1.0)) <= RTOL[dtype]
