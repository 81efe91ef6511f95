"""The special functions of the families as units: lgamma, digamma and erf.

The generic forms (``xp.*`` only: NumPy, array-api-strict, Dask, CuPy) against mpmath
at 30 digits and SciPy's ``erf``.
"""

from __future__ import annotations

import array_api_compat.numpy as np_xp
import numpy as np
import scipy.special as sc
from backends import Backend, requires
from mpmath import mp

from klkit.distributions import _special

# --- lgamma, digamma, erf on the generic path ------------------------------------------------


def test_generic_erf_matches_scipy():
    x = np.concatenate([np.linspace(-8, 8, 3201), [1e-300, -1e-12, 5.999, 6.0]])
    ref = sc.erf(x)
    rel = np.abs(_special.erf(x, np_xp) - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 4e-15


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


# --- torch and JAX: their own kernels ------------------------------------------------------


# --- Stirling's series ---------------------------------------------------------------------
