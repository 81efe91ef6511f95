"""The special functions of the families as units: lgamma, digamma, erf, Stirling, F, Bregman.

Every expected value comes from mpmath (30 to 80 digits) at the exact float inputs, or
from SciPy where noted. The generic forms (``xp.*`` only: NumPy, array-api-strict,
Dask, CuPy) and the torch and JAX paths (their own kernels,
``klkit._backends._special.native``) are checked alike.
"""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as np_xp
import mpmath
import numpy as np
import pytest
import scipy.special as sc
from array_api_compat import array_namespace
from backends import Backend, requires
from mpmath import mp

from klkit._backends._special import native
from klkit.distributions import _reduced, _safe, _special

# --- references ---------------------------------------------------------------------------


def _mp_map(f: Any, x: np.ndarray, dps: int = 40) -> np.ndarray:
    with mpmath.workdps(dps):
        return np.array([float(f(mp.mpf(float(v)))) for v in np.ravel(x)]).reshape(np.shape(x))


def _lam(z: Any) -> Any:
    """Stirling's remainder: lgamma(z) - [(z - 1/2) log z - z + log(2 pi)/2]."""
    return mp.loggamma(z) - ((z - mp.mpf(1) / 2) * mp.log(z) - z + mp.log(2 * mp.pi) / 2)


def _mu(z: Any) -> Any:
    """psi's remainder: log z - 1/(2z) - psi(z)."""
    return mp.log(z) - 1 / (2 * z) - mp.digamma(z)


def _f(c: Any) -> Any:
    return mp.loggamma(c) - c * mp.log(c) + c


def _f1(c: Any) -> Any:
    return mp.digamma(c) - mp.log(c)


def _f2(c: Any) -> Any:
    return mp.psi(1, c) - 1 / c


def _bregman(c2: Any, c1: Any) -> Any:
    return _f(c2) - _f(c1) - (c2 - c1) * _f1(c1)


def _rel(got: Any, ref: np.ndarray, floor: float = 0.0) -> float:
    got = np.asarray(got, dtype=np.float64)
    return float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), floor + 1e-300)))


def _close(got: Any, ref: np.ndarray, *, atol: float, rtol: float) -> None:
    err = np.abs(np.asarray(got, dtype=np.float64) - ref)
    assert np.all(err <= atol + rtol * np.abs(ref)), (err, ref)


ARGS = np.concatenate(
    [np.logspace(-30, -1, 20), np.linspace(0.05, 25, 120), np.logspace(1.5, 200, 40)]
)


# --- lgamma, digamma, erf on the generic path ------------------------------------------------


def test_generic_erf_matches_scipy():
    x = np.concatenate([np.linspace(-8, 8, 3201), [1e-300, -1e-12, 5.999, 6.0]])
    ref = sc.erf(x)
    rel = np.abs(_special.erf(x, np_xp) - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 4e-15


def test_generic_erf_matches_mpmath_and_is_odd():
    x = np.concatenate([-np.logspace(-300, 1, 40), np.logspace(-300, 1, 40), [0.0]])
    ref = _mp_map(mp.erf, x)
    got = _special.erf(x, np_xp)
    assert _rel(got, ref) < 4e-15
    np.testing.assert_array_equal(got[:40], -got[40:80])
    assert got[-1] == 0.0


def test_lgamma_digamma_generic_match_mpmath():
    strict = requires(Backend.ARRAY_API_STRICT)
    x = np.concatenate(
        [np.logspace(-30, -1, 20), np.linspace(0.05, 25, 400), np.logspace(1.5, 200, 40)]
    )
    with mp.workdps(30):
        lg = np.array([float(mp.loggamma(mp.mpf(v))) for v in x])
        dg = np.array([float(mp.digamma(mp.mpf(v))) for v in x])
    scale_lg, scale_dg = np.maximum(1, np.abs(lg)), np.maximum(1, np.abs(dg))
    assert np.max(np.abs(_special.lgamma(x, np_xp) - lg) / scale_lg) < 2e-14
    assert np.max(np.abs(_special.digamma(x, np_xp) - dg) / scale_dg) < 2e-14
    got = np.from_dlpack(_special.lgamma(strict.asarray(x), strict))
    assert np.max(np.abs(got - lg) / scale_lg) < 2e-14
    small = x < 1e30  # representable in float32
    got32 = _special.digamma(x[small].astype(np.float32), np_xp)
    assert got32.dtype == np.float32
    assert np.max(np.abs(got32 - dg[small]) / scale_dg[small]) < 1e-5


def test_the_generic_path_runs_on_dask_lazily():
    da = requires(Backend.DASK)
    x = da.from_array(ARGS, chunks=50)
    xp = array_namespace(x)
    got = _special.lgamma(x, xp)
    assert type(got).__module__.startswith("dask")
    lg = _mp_map(mp.loggamma, ARGS)
    assert _rel(got.compute(), lg, floor=1.0) < 2e-14


# --- torch and JAX: their own kernels ------------------------------------------------------


def test_only_torch_and_jax_have_native_kernels(eager_lib):
    x = eager_lib.asarray(np.array([0.5, 3.0]))
    for name in ("lgamma", "digamma", "erf"):
        own = native(x, name)
        if eager_lib.backend in (Backend.TORCH, Backend.JAX):
            assert own is not None
            assert eager_lib.module_name in type(own).__module__
        else:
            assert own is None


@pytest.mark.parametrize("backend", [Backend.TORCH, Backend.JAX], ids=["torch", "jax"])
def test_native_lgamma_digamma_erf_match_mpmath(backend):
    """The kernels the torch and JAX paths use (exactly theirs: no generic series)."""
    module = requires(backend)
    if backend is Backend.JAX:
        jax = requires(backend, "jax")
        jax.config.update("jax_enable_x64", True)
        own = {"lgamma": jax.scipy.special.gammaln, "digamma": jax.scipy.special.digamma}
        own["erf"] = jax.scipy.special.erf
    else:
        own = {"lgamma": module.lgamma, "digamma": module.digamma, "erf": module.erf}
    x = module.asarray(ARGS[ARGS < 1e30])
    xp = array_namespace(x)
    host = np.asarray(ARGS[ARGS < 1e30])
    refs = {
        "lgamma": _mp_map(mp.loggamma, host),
        "digamma": _mp_map(mp.digamma, host),
        "erf": _mp_map(mp.erf, host),
    }
    for name, fn in (("lgamma", _special.lgamma), ("digamma", _special.digamma)):
        got = fn(x, xp)
        assert bool(xp.all(got == own[name](x))), name  # the library's own kernel
        # JAX's float64 digamma keeps ~9 digits where torch's keeps 13
        assert _rel(np.asarray(got), refs[name], floor=1.0) < 1e-8, name
    got = _special.erf(x, xp)
    assert bool(xp.all(got == own["erf"](x)))
    assert _rel(np.asarray(got), refs["erf"]) < 1e-14


def test_torch_special_functions_keep_their_gradient():
    torch = requires(Backend.TORCH)
    x = torch.tensor([0.3, 2.5, 40.0], dtype=torch.float64, requires_grad=True)
    _special.lgamma(x, array_namespace(x)).sum().backward()
    # d/dx lgamma = digamma (mpmath)
    np.testing.assert_allclose(
        x.grad.numpy(), _mp_map(mp.digamma, np.array([0.3, 2.5, 40.0])), rtol=1e-13
    )


# --- Stirling's series ---------------------------------------------------------------------

BIG = np.concatenate([[10.0, 10.5, 17.0], np.logspace(1.2, 30, 20)])
"""Stirling arguments; the references lose ~2 log10(z) digits, so 100 are used."""


def test_stirling_remainders_match_mpmath():
    lam = _mp_map(_lam, BIG, dps=100)
    mu = _mp_map(_mu, BIG, dps=100)
    # the first terms left out, a_8 z^-15 and b_8 z^-16, are 3e-17 and 4e-17 at z = 10:
    # far below an ulp of lgamma(10) ~ 12.8 or psi(10) ~ 2.25, which is what they are for
    _close(_special.lgamma_series(BIG, np_xp), lam, atol=5e-17, rtol=4e-16)
    _close(_special.digamma_series(BIG, np_xp), mu, atol=5e-17, rtol=4e-16)


def test_stirling_shift_is_the_difference_of_remainders():
    z = np.array([10.0, 12.5, 40.0, 1e3, 1e6])
    for t in (-1e-6, 1e-12, 1e-3, 0.05, 0.5):  # Student's t uses t = 1/(2z) <= 0.05
        with mpmath.workdps(60):
            lam = np.array([float(_lam(mp.mpf(v) * (1 + mp.mpf(t))) - _lam(mp.mpf(v))) for v in z])
            mu = np.array([float(_mu(mp.mpf(v) * (1 + mp.mpf(t))) - _mu(mp.mpf(v))) for v in z])
        tt = np.full_like(z, t)
        got_lam = _reduced.stirling_shift(_special.LGAMMA_SERIES, 1, z, tt, np_xp)
        got_mu = _reduced.stirling_shift(_special.DIGAMMA_SERIES, 2, z, tt, np_xp)
        assert _rel(got_lam, lam) < 1e-12, t
        assert _rel(got_mu, mu) < 1e-12, t


def test_stirling_e_tail_matches_mpmath():
    """``e(c) + 1/(3c)``, with e(c) = F(c) - (c - 1) F'(c) + log(c)/2 - log(2 pi e)/2."""

    def tail(c: Any) -> Any:
        e = _f(c) - (c - 1) * _f1(c) + mp.log(c) / 2 - mp.log(2 * mp.pi * mp.e) / 2
        return e + 1 / (3 * c)

    ref = _mp_map(tail, BIG, dps=160)  # terms of size c cancel down to ~c^-2
    # both series' truncations, ~5e-16 at c = 10, against E(10) ~ -0.33
    _close(_reduced.stirling_e_tail(BIG, np_xp), ref, atol=1e-15, rtol=1e-14)


# --- the reduced log-gamma function F --------------------------------------------------------

C = np.concatenate([np.logspace(-6, 6, 49), [1.0, 2.0, 9.999, 10.0, 10.001]])


def test_f_and_its_derivatives_match_mpmath():
    f, f1, f2 = (_mp_map(g, C, dps=50) for g in (_f, _f1, _f2))
    assert _rel(_reduced.lgamma_f(C, np_xp), f, floor=1.0) < 1e-14
    assert _rel(_reduced.lgamma_f1(C, np_xp), f1) < 1e-13
    assert _rel(_reduced.lgamma_f2(C, np_xp), f2) < 1e-13
    assert np.all(_reduced.lgamma_f1(C, np_xp) < 0)  # F' < 0, F'' > 0
    assert np.all(_reduced.lgamma_f2(C, np_xp) > 0)


def test_lgamma_e_matches_mpmath():
    """``E(c) = F(c) - (c - 1) F'(c)``: no term of size c, to 1e6 and in float32."""
    ref = _mp_map(lambda c: _f(c) - (c - 1) * _f1(c), C, dps=50)
    assert _rel(_reduced.lgamma_e(C, np_xp), ref, floor=1.0) < 1e-14
    got32 = _reduced.lgamma_e(C.astype(np.float32), np_xp)
    assert got32.dtype == np.float32
    ref32 = _mp_map(lambda c: _f(c) - (c - 1) * _f1(c), C.astype(np.float32), dps=50)
    assert _rel(got32, ref32, floor=1.0) < 1e-5


# --- its Bregman divergence ---------------------------------------------------------------------


def _bregman_cases() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    c1 = 10.0 ** rng.uniform(-6, 6, 60)
    rel = rng.choice([-1.0, 1.0], 60) * 10.0 ** rng.uniform(-12, 1, 60)
    c2 = np.where(rel > -1, c1 * (1 + rel), c1 / (1 - rel))
    c2[:5] = c1[:5]  # equal: exactly 0
    return c1, c2


def test_bregman_f_matches_mpmath_down_to_nearly_equal_pairs():
    c1, c2 = _bregman_cases()
    with mpmath.workdps(80):
        ref = np.array(
            [
                float(_bregman(mp.mpf(float(b)), mp.mpf(float(a))))
                for a, b in zip(c1, c2, strict=True)
            ]
        )
    got = _reduced.bregman_f(c2, c1, np_xp)
    assert np.all(got >= 0)
    np.testing.assert_array_equal(got[:5], 0.0)
    assert _rel(got[5:], ref[5:]) < 1e-12


def test_bregman_f_on_torch_and_jax(eager_lib):
    c1, c2 = _bregman_cases()
    with mpmath.workdps(80):
        ref = np.array(
            [
                float(_bregman(mp.mpf(float(b)), mp.mpf(float(a))))
                for a, b in zip(c1, c2, strict=True)
            ]
        )
    x1, x2 = eager_lib.asarray(c1), eager_lib.asarray(c2)
    got = eager_lib.to_numpy(_reduced.bregman_f(x2, x1, array_namespace(x1)))
    # JAX's own digamma keeps ~9 digits in float64; the others 13 or more
    assert _rel(got[5:], ref[5:]) < (1e-7 if eager_lib.backend is Backend.JAX else 1e-11)


def test_f1_difference_matches_mpmath():
    x = np.array([1e-6, 0.3, 2.0, 9.0, 15.0, 1e3, 1e6])
    for y_rel in (1e-12, 1e-6, 0.1, 0.3, 3.0):
        y = x * y_rel
        with mpmath.workdps(80):
            ref = np.array(
                [
                    float(_f1(mp.mpf(a) + mp.mpf(b)) - _f1(mp.mpf(a)))
                    for a, b in zip(x, y, strict=True)
                ]
            )
        assert _rel(_reduced.lgamma_f1_diff(x, y, np_xp), ref) < 1e-12, y_rel


def test_bregman_shift_matches_mpmath():
    """``B_F(a + da, a) - B_F(a + da + r + dr, a + r)`` for a dominant concentration a."""
    a = np.array([50.0, 1e3, 1e6, 12.0])
    r = np.array([1.0, 3.0, 0.5, 2.5])
    for da_rel, dr_rel in ((1e-9, -3e-9), (1e-3, 2e-3), (0.1, -0.2)):
        da, dr = a * da_rel, r * dr_rel
        with mpmath.workdps(80):
            ref = []
            for row in zip(a, da, r, dr, strict=True):
                x, dx, y, dy = (mp.mpf(float(v)) for v in row)
                ref.append(float(_bregman(x + dx, x) - _bregman(x + dx + y + dy, x + y)))
        got = _reduced.bregman_f_shift(a, da, r, dr, np_xp)
        assert _rel(got, np.array(ref)) < 1e-10, (da_rel, dr_rel)


# --- g, phi and ratios -------------------------------------------------------------------------


def test_g_ratio_and_phi_match_mpmath():
    """``g(r - 1) = r - 1 - log r`` and ``phi(r - 1) = r log r - r + 1`` for ``r = num/den``."""
    num = np.array([1.0, 1.0 + 1e-12, 1.0 - 1e-9, 1.05, 3.0, 1e-300, 1e300, 0.5])
    den = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1e-5, 1e300])
    with mpmath.workdps(60):
        r = [mp.mpf(float(a)) / mp.mpf(float(b)) for a, b in zip(num, den, strict=True)]
        g_ref = np.array([float(v - 1 - mp.log(v)) for v in r])
        phi_ref = np.array([float(v * mp.log(v) - v + 1) for v in r])
    got = _safe.g_ratio(num, den, np_xp)
    assert got[0] == 0.0
    assert _rel(got[1:], g_ref[1:]) < 1e-14
    phi = _safe.phi_parts(num / den - 1.0, _safe.log_ratio(num, den, np_xp), np_xp)
    assert phi[0] == 0.0
    assert _rel(phi[1:], phi_ref[1:]) < 1e-14
