"""KL and cross-entropy of every family and pair against mpmath, on every backend.

The references (mpmath at 50 digits, textbook formulas, at the exact float values
klkit was given) are in ``tests/family_reference.py``, the drawn cases in
``tests/family_draws.py``. Targets
(issue "trust", section 2): relative error <= 1e-9 in float64 and <= 1e-3 in float32
for parameters from 1e-6 to 1e6, scale ratios down to 1e-12, nearly equal pairs and a
law against itself (exactly 0); no warning and no NaN at the ends of the float range.
Backends: NumPy, torch and JAX (and array-api-strict and Dask on a smaller set).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from typing import Any

import mpmath
import numpy as np
import pytest
from backends import Backend, make_lib
from family_draws import (
    BACKENDS,
    LONG,
    RTOL,
    _id,
    _in_range,
    _key,
    build,
    pairs,
    refs_h,
    refs_kl,
    rel_err,
)
from family_reference import _m, ref_entropy, ref_kl

import klkit as kl

# JAX compiles every primitive for each new shape, seconds per family: by default it
# runs the families whose special functions are JAX's own (lgamma, digamma, erf) in
# float32 (where JAX cannot upcast); KLKIT_FUZZ=long runs every case on it.
JAX_PAIRS = {
    ("Gamma", "Gamma"),
    ("Beta", "Beta"),
    ("Dirichlet", "Dirichlet"),
    ("Normal", "Normal"),
    ("StudentT", "Normal"),
    ("Normal", "Laplace"),
    ("Beta", "Gamma"),
    ("LogNormal", "Gamma"),
}


def _kl_params() -> list[Any]:
    out = []
    for backend in BACKENDS:
        for dtype in ("float64", "float32"):
            for i, pair in enumerate(pairs()):
                if backend is Backend.JAX and not LONG:
                    if dtype == "float64" or (pair.kp, pair.kq) not in JAX_PAIRS:
                        continue
                    if pair.group == "self":
                        continue
                out.append(
                    pytest.param(backend, dtype, i, id=f"{backend.value}-{dtype}-{_id(pair)}")
                )
    return out


@pytest.mark.parametrize(("backend", "dtype", "index"), _kl_params())
def test_kl_and_cross_entropy_against_mpmath(backend, dtype, index):
    pair = pairs()[index]
    lib = make_lib(backend)
    p, q = build(pair.kp, pair.p, lib, dtype), build(pair.kq, pair.q, lib, dtype)
    ref = _in_range(refs_kl(pair, dtype), dtype)
    got = lib.check_result(kl.kl_divergence(p, q), dtype=dtype)
    err = rel_err(got, ref)
    worst = int(np.argmax(err))
    where = (_key(pair.p, worst, dtype), _key(pair.q, worst, dtype))
    assert err[worst] <= RTOL[dtype], (got[worst], ref[worst], where)
    assert not np.any(got < 0), got
    if pair.group == "self":
        assert np.all(got == 0), got
    # H(P, Q) = H(P) + KL, both from mpmath; it can cross 0: relative to max(|.|, 1)
    ce_ref = _in_range(refs_h(pair.kp, pair.p, dtype) + ref, dtype)
    ce = lib.check_result(kl.cross_entropy(p, q), dtype=dtype)
    err = rel_err(ce, ce_ref, floor=1.0)
    worst = int(np.argmax(err))
    assert err[worst] <= RTOL[dtype], (ce[worst], ce_ref[worst], _key(pair.p, worst, dtype))


@pytest.mark.parametrize(
    "backend", [Backend.ARRAY_API_STRICT, Backend.DASK], ids=["strict", "dask"]
)
@pytest.mark.parametrize(
    "kinds", [("Gamma", "Gamma"), ("Dirichlet", "Dirichlet"), ("Beta", "Normal")]
)
def test_other_backends_give_the_same_digits(backend, kinds):
    """array-api-strict and Dask (block by block) run the same formulas."""
    group = "near" if kinds[0] == kinds[1] else "random"
    pair = next(p for p in pairs() if (p.kp, p.kq) == kinds and p.group == group)
    lib = make_lib(backend)
    for dtype in ("float64", "float32"):
        p, q = build(pair.kp, pair.p, lib, dtype), build(pair.kq, pair.q, lib, dtype)
        got = lib.check_result(kl.kl_divergence(p, q), dtype=dtype)
        assert np.max(rel_err(got, _in_range(refs_kl(pair, dtype), dtype))) <= RTOL[dtype]


@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.DASK], ids=["numpy", "dask"])
def test_extreme_parameters_warn_nothing_and_stay_right(backend):
    """pytest turns any RuntimeWarning into an error; the values are checked too."""
    lib = make_lib(backend)
    a = lambda *x: lib.asarray(np.array(x, dtype=np.float64))  # noqa: E731
    tiny, huge = a(1e-320), a(1e300)
    v = lib.to_numpy
    assert v(kl.entropy(kl.Normal(a(0.0), tiny))) == pytest.approx(
        0.5 * math.log(2 * math.pi * math.e) + math.log(1e-320), rel=1e-12
    )
    assert v(kl.kl_divergence(kl.Normal(a(0.0), tiny), kl.Normal(a(0.0), a(1.0)))) == pytest.approx(
        -math.log(1e-320) - 0.5, rel=1e-12
    )
    assert v(kl.kl_divergence(kl.Normal(a(0.0), a(1.0)), kl.Normal(a(0.0), tiny))) == math.inf
    assert (
        v(kl.kl_divergence(kl.Normal(a(1e300), a(1.0)), kl.Normal(a(-1e300), a(1e-300))))
        == math.inf
    )
    assert v(kl.kl_divergence(kl.Laplace(a(0.0), tiny), kl.Laplace(huge, a(1e-300)))) == math.inf
    assert v(kl.kl_divergence(kl.Exponential(tiny), kl.Exponential(huge))) == math.inf
    # l1 log(l1/l2) - l1 + l2 = 1e300 (log 1e600 - 1) + 1e-300
    assert v(kl.kl_divergence(kl.Poisson(huge), kl.Poisson(a(1e-300)))) == pytest.approx(
        1e300 * (600 * math.log(10) - 1), rel=1e-12
    )
    # (c1 - 1) psi(c1) - lgamma(c1) + log r1 - 1 + c1/r1 ~ 1/c1: 1e30 (mpmath: 1.000...e30)
    got = v(kl.kl_divergence(kl.Gamma(a(1e-30), huge), kl.Gamma(a(1.0), a(1.0))))
    assert got == pytest.approx(1e30, rel=1e-12)
    assert v(kl.kl_divergence(kl.Gamma(tiny, huge), kl.Gamma(a(1.0), a(1.0)))) == math.inf
    assert v(kl.entropy(kl.Uniform(a(-1e308), a(1e308)))) == pytest.approx(
        math.log(2.0) + math.log(1e308), rel=1e-12
    )
    assert (
        v(kl.kl_divergence(kl.LogNormal(a(700.0), a(30.0)), kl.Normal(a(0.0), a(1.0)))) == math.inf
    )
    assert (
        v(kl.kl_divergence(kl.StudentT(a(1.5), a(0.0), a(1.0)), kl.Normal(a(0.0), a(1.0))))
        == math.inf
    )
    assert v(
        kl.kl_divergence(kl.Bernoulli(logits=a(1000.0)), kl.Bernoulli(logits=a(-1000.0)))
    ) == pytest.approx(1000.0, rel=1e-12)  # log sigmoid(1000) - log sigmoid(-1000)


def test_jax_without_x64_meets_the_float32_target():
    """The formulas, not an upcast, carry float32: JAX with x64 off has no float64."""
    make_lib(Backend.JAX)  # a missing JAX fails here when CI names it
    script = textwrap.dedent(
        """
        import json
        import jax, jax.numpy as jnp, klkit as kl
        assert not jax.config.jax_enable_x64
        f = lambda *x: jnp.asarray(x, dtype=jnp.float32)
        out = [
            kl.kl_divergence(kl.Gamma(f(2.0), f(1.0)), kl.Gamma(1e6, 1e6)),
            kl.kl_divergence(kl.Laplace(f(0.0), f(1e-6)), kl.Laplace(0.5, 2.0)),
            kl.kl_divergence(kl.Normal(f(0.0), f(1e-4)), kl.Normal(0.0, 1.0)),
            kl.entropy(kl.Beta(f(1e6), f(1e6))),
            kl.entropy(kl.Gamma(f(1e6), f(1.0))),
            kl.kl_divergence(kl.Beta(f(2.0), f(3.0)), kl.Beta(f(2.002), f(3.0))),
            kl.kl_divergence(kl.Gamma(f(1e-6), f(1.0)), kl.Gamma(f(1.1e-6), f(1.0))),
        ]
        values, dtypes = [float(v[0]) for v in out], [str(v.dtype) for v in out]
        print(json.dumps({"values": values, "dtypes": dtypes}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    out = json.loads(done.stdout)
    assert set(out["dtypes"]) == {"float32"}
    got = out["values"]
    f32 = lambda x: _m(float(np.float32(x)))  # noqa: E731
    with mpmath.workdps(50):
        refs = [
            ref_kl(
                "Gamma",
                {"concentration": f32(2), "rate": f32(1)},
                "Gamma",
                {"concentration": _m(1e6), "rate": _m(1e6)},
            ),
            ref_kl(
                "Laplace",
                {"loc": f32(0), "scale": f32(1e-6)},
                "Laplace",
                {"loc": _m(0.5), "scale": _m(2)},
            ),
            ref_kl(
                "Normal",
                {"loc": f32(0), "scale": f32(1e-4)},
                "Normal",
                {"loc": _m(0), "scale": _m(1)},
            ),
            ref_entropy("Beta", {"concentration1": f32(1e6), "concentration0": f32(1e6)}),
            ref_entropy("Gamma", {"concentration": f32(1e6), "rate": f32(1)}),
            ref_kl(
                "Beta",
                {"concentration1": f32(2), "concentration0": f32(3)},
                "Beta",
                {"concentration1": f32(2.002), "concentration0": f32(3)},
            ),
            ref_kl(
                "Gamma",
                {"concentration": f32(1e-6), "rate": f32(1)},
                "Gamma",
                {"concentration": f32(1.1e-6), "rate": f32(1)},
            ),
        ]
    for g, r in zip(got, refs, strict=True):
        assert g == pytest.approx(float(r), rel=1e-3), (got, refs)
