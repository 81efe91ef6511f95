"""Gradients of the closed forms: torch autograd and jax.grad against torch and mpmath.

References: ``torch.distributions`` (autograd of its own formulas) and ``mpmath.diff``
of the textbook references at 50 digits (``tests/family_reference.py``), within 1e-6
relative in float64; gradients stay finite where a parameter reaches the end of the
float range.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import pytest
from backends import Backend, make_lib, requires
from family_cases import A1, B1, COV1, COV2, MU1, MU2, t
from family_draws import Pair, _id, _key, _mp, _size, pairs, refs_kl
from family_reference import _m, ref_entropy, ref_kl
from mpmath import mp

import klkit as kl

GRAD_RTOL = 1e-6


def test_vae_gradient_matches_torch_and_stays_float32():
    torch = requires(Backend.TORCH)
    D = torch.distributions
    mu = torch.randn(4, 3, generator=torch.Generator().manual_seed(1)).requires_grad_()
    log_sigma = (
        0.3 * torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    ).requires_grad_()
    ours = kl.kl_divergence(kl.Normal(mu, log_sigma.exp()), kl.Normal(0.0, 1.0))
    assert ours.dtype == torch.float32
    assert ours.shape == (4, 3)
    ours.sum().backward()
    g_ours = (mu.grad.clone(), log_sigma.grad.clone())
    mu.grad = log_sigma.grad = None
    D.kl_divergence(D.Normal(mu, log_sigma.exp()), D.Normal(0.0, 1.0)).sum().backward()
    torch.testing.assert_close(g_ours[0], mu.grad)
    torch.testing.assert_close(g_ours[1], log_sigma.grad)


def test_jax_gradient_of_the_vae_term():
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy

    def loss(mu, s):
        return kl.kl_divergence(kl.Normal(mu, s), kl.Normal(0.0, 1.0)).sum()

    mu, s = jnp.asarray([0.5, -1.0]), jnp.asarray([0.7, 1.2])
    g_mu, g_s = jax.jit(jax.grad(loss, argnums=(0, 1)))(mu, s)
    np.testing.assert_allclose(g_mu, mu, rtol=1e-6)  # d/dmu (mu^2/2) = mu
    np.testing.assert_allclose(g_s, s - 1 / s, rtol=1e-6)  # d/ds (s^2/2 - log s)


def test_gradients_match_torch():
    torch = requires(Backend.TORCH)
    D = torch.distributions
    a = t(A1).requires_grad_()
    b = t(B1).requires_grad_()
    ours = kl.kl_divergence(kl.Gamma(a, b), kl.Gamma(2.0, 1.0)) + kl.entropy(kl.Beta(a, b))
    ours.sum().backward()
    g_ours = (a.grad.clone(), b.grad.clone())
    a.grad = b.grad = None
    ref = D.kl_divergence(D.Gamma(a, b), D.Gamma(t(2.0), t(1.0))) + D.Beta(a, b).entropy()
    ref.sum().backward()
    torch.testing.assert_close(g_ours[0], a.grad)
    torch.testing.assert_close(g_ours[1], b.grad)
    lt = torch.linalg.cholesky(t(COV1[0])).requires_grad_()
    q_cov = t(COV2[0])
    kl.kl_divergence(
        kl.MultivariateNormal(t(MU1[0]), scale_tril=lt),
        kl.MultivariateNormal(t(MU2[0]), covariance_matrix=q_cov),
    ).backward()
    g = lt.grad.clone()
    lt.grad = None
    D.kl_divergence(
        D.MultivariateNormal(t(MU1[0]), scale_tril=lt),
        D.MultivariateNormal(t(MU2[0]), covariance_matrix=q_cov),
    ).backward()
    # Only the lower triangle is a parameter (validation rejects anything above the
    # diagonal); torch's formula also sends gradient to the structural zeros above it.
    torch.testing.assert_close(torch.tril(g), torch.tril(lt.grad))


def test_jax_grad_under_jit():
    jax = requires(Backend.JAX, "jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    D = requires(Backend.TORCH).distributions

    def loss(c, r):
        return kl.kl_divergence(kl.Gamma(c, r), kl.Gamma(2.0, 1.0)).sum()

    got = jax.jit(jax.grad(loss, argnums=(0, 1)))(jnp.asarray(A1), jnp.asarray(B1))
    a, b = t(A1).requires_grad_(), t(B1).requires_grad_()
    D.kl_divergence(D.Gamma(a, b), D.Gamma(t(2.0), t(1.0))).sum().backward()
    # JAX's float64 digamma (and so its gradient of lgamma) keeps ~9 digits.
    np.testing.assert_allclose(got[0], a.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(got[1], b.grad.numpy(), rtol=1e-8)


SMOOTH = {"random", "near", "ratio"}


def _grad_cases() -> list[tuple[int, int]]:
    """(pair index, draw) with a finite KL away from kinks, three draws per pair."""
    out = []
    for i, pair in enumerate(pairs()):
        if pair.group not in SMOOTH or pair.kp in ("Binomial", "Uniform") or pair.kq == "Uniform":
            continue
        if "total_count" in pair.p or (pair.kp, pair.kq) == ("Bernoulli", "Poisson"):
            continue
        finite = np.isfinite(refs_kl(pair, "float64"))
        draws = [j for j in range(_size(pair.p)) if finite[j]][:3]
        out += [(i, j) for j in draws]
    return out


def _mp_grad(pair: Pair, j: int) -> dict[str, list[float]]:
    """d KL / d parameter by mpmath.diff of the reference, per parameter (and component)."""
    kp, kq = pair.kp, pair.kq
    base = {"p": dict(_key(pair.p, j, "float64")), "q": dict(_key(pair.q, j, "float64"))}
    out: dict[str, list[float]] = {}
    with mpmath.workdps(50):
        for side in ("p", "q"):
            for name, value in base[side].items():
                comps = list(value) if isinstance(value, tuple) else [value]
                grads = []
                for c in range(len(comps)):

                    def f(t: Any, side: str = side, name: str = name, c: int = c) -> Any:
                        d = {s: {n: _mp(v) for n, v in base[s].items()} for s in ("p", "q")}
                        if isinstance(d[side][name], list):
                            d[side][name][c] = t
                        else:
                            d[side][name] = t
                        return ref_kl(kp, d["p"], kq, d["q"])

                    grads.append(float(mp.diff(f, _m(comps[c]))))
                out[f"{side}.{name}"] = grads
    return out


def _check_grads(got: dict[str, np.ndarray], ref: dict[str, list[float]], where: Any) -> None:
    # relative, except for partial derivatives 1e-12 below the largest one (absolute)
    floor = 1e-12 * max(float(np.max(np.abs(v))) for v in ref.values()) + 1e-300
    for name, r in ref.items():
        g, want = np.ravel(got[name]), np.asarray(r)
        err = np.abs(g - want) / np.maximum(np.abs(want), floor)
        assert np.max(err) <= GRAD_RTOL, (name, g, want, where)


@pytest.mark.parametrize(
    ("index", "draw"),
    _grad_cases(),
    ids=[f"{_id(pairs()[i])}-{j}" for i, j in _grad_cases()],
)
def test_gradients_torch_against_mpmath_diff(index, draw):
    torch = make_lib(Backend.TORCH).module
    pair = pairs()[index]
    leaves: dict[str, Any] = {}

    def side(prefix: str, kind: str, d: dict[str, np.ndarray]) -> kl.Family:
        args = {}
        for n, v in d.items():
            t = torch.asarray(np.asarray(v[draw], dtype=np.float64)).requires_grad_()
            leaves[f"{prefix}.{n}"] = t
            args[n] = t
        return getattr(kl, kind)(**args)

    value = kl.kl_divergence(side("p", pair.kp, pair.p), side("q", pair.kq, pair.q))
    value.backward()
    got = {n: t.grad.numpy() for n, t in leaves.items()}
    _check_grads(
        got, _mp_grad(pair, draw), (_key(pair.p, draw, "float64"), _key(pair.q, draw, "float64"))
    )


JAX_GRADS = {("Gamma", "Gamma"), ("Normal", "Normal")}  # (compiles are slow; torch has all)


@pytest.mark.parametrize(
    ("index", "draw"),
    [(i, j) for i, j in _grad_cases() if (pairs()[i].kp, pairs()[i].kq) in JAX_GRADS and j == 0],
)
def test_gradients_jax_against_mpmath_diff(index, draw):
    jnp = make_lib(Backend.JAX).module
    import jax

    pair = pairs()[index]
    names = [f"p.{n}" for n in pair.p] + [f"q.{n}" for n in pair.q]
    values = [
        jnp.asarray(np.asarray(v[draw], dtype=np.float64))
        for v in (*pair.p.values(), *pair.q.values())
    ]

    def loss(*xs: Any) -> Any:
        k = len(pair.p)
        p = getattr(kl, pair.kp)(**dict(zip(pair.p, xs[:k], strict=True)))
        q = getattr(kl, pair.kq)(**dict(zip(pair.q, xs[k:], strict=True)))
        return kl.kl_divergence(p, q)

    grads = jax.grad(loss, argnums=tuple(range(len(values))))(*values)
    got = {n: np.asarray(g) for n, g in zip(names, grads, strict=True)}
    _check_grads(got, _mp_grad(pair, draw), _key(pair.p, draw, "float64"))


def test_float32_normal_at_1e_minus_4_has_a_value_and_gradient():
    torch = requires(Backend.TORCH)
    s = torch.tensor(1e-4, dtype=torch.float32, requires_grad=True)
    value = kl.kl_divergence(kl.Normal(0.0, s), kl.Normal(0.0, 1.0))
    value.backward()
    s32 = float(np.float32(1e-4))
    with mpmath.workdps(50):  # KL = -log s + s^2/2 - 1/2, d/ds = s - 1/s
        ref = float(-mp.log(_m(s32)) + _m(s32) ** 2 / 2 - mp.mpf(1) / 2)
        ref_grad = float(_m(s32) - 1 / _m(s32))
    assert float(value.detach()) == pytest.approx(ref, rel=1e-6)  # was inf
    assert float(s.grad) == pytest.approx(ref_grad, rel=1e-6)  # was NaN


def test_binomial_entropy_gradient_in_traced_probs():
    """Under jax.grad the window is sized from the counts (variance <= n/4)."""
    jnp = make_lib(Backend.JAX).module
    import jax

    grad = jax.grad(lambda p: kl.entropy(kl.Binomial(40.0, p)))(jnp.asarray(0.3))
    with mpmath.workdps(30):
        ref = mp.diff(
            lambda p: ref_entropy("Binomial", {"total_count": mp.mpf(40), "probs": p}), mp.mpf(0.3)
        )
    assert float(grad) == pytest.approx(float(ref), rel=1e-9)
    with pytest.raises(TypeError, match="`total_count` must be concrete"):
        jax.jit(lambda n: kl.entropy(kl.Binomial(n, 0.3)))(jnp.asarray(40.0))
