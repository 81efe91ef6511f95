"""Gradients in PyTorch and JAX: correct (gradcheck / check_grads), never NaN, and the
same documented convention at p = 0 on both backends."""

from __future__ import annotations

import numpy as np
import pytest
from backends import Backend, requires

import klkit as kl

torch = requires(Backend.TORCH, "torch")
jax = requires(Backend.JAX, "jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

P = np.array([[0.2, 0.3, 0.5], [0.0, 0.4, 0.6]])  # a zero in p: the 0 log 0 branch
Q = np.array([[0.3, 0.3, 0.4], [0.1, 0.2, 0.7]])
MEASURES = [kl.kl_divergence, kl.cross_entropy, kl.js_divergence, kl.js_distance]


def _t(a, grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("fn", MEASURES, ids=lambda f: f.__name__)
def test_torch_gradcheck_in_q(fn):
    # q strictly inside the simplex; validate=False because gradcheck perturbs q
    # off the simplex by 1e-6
    p = _t(P, grad=False)
    assert torch.autograd.gradcheck(lambda q: fn(p, q, validate=False), (_t(Q),))


def test_torch_gradcheck_entropy_and_logits():
    p = _t(np.array([[0.2, 0.3, 0.5]]))
    assert torch.autograd.gradcheck(lambda x: kl.entropy(x, validate=False), (p,))
    z = _t(np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]]))
    y = torch.tensor([2, 0])
    assert torch.autograd.gradcheck(lambda z: kl.cross_entropy(kl.Labels(y), kl.Logits(z)), (z,))
    zp = _t(np.array([[0.1, 0.7, -0.3]]))
    assert torch.autograd.gradcheck(
        lambda a, b: kl.kl_divergence(kl.Logits(a), kl.Logits(b)),
        (zp, _t(np.array([[1.0, 0.0, 2.0]]))),
    )
    yb = torch.tensor([1.0, 0.0, 0.3], dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda z: kl.binary_cross_entropy(yb, kl.Logits(z)), (_t(np.array([2.0, -1.0, 0.5])),)
    )


@pytest.mark.parametrize("fn", MEASURES, ids=lambda f: f.__name__)
def test_jax_check_grads(fn):
    from jax.test_util import check_grads

    p = jnp.asarray(P)

    def f(q):
        # check_grads feeds NumPy perturbations; keep both arguments JAX arrays
        return fn(p, jnp.asarray(q), validate=False)

    check_grads(f, (jnp.asarray(Q),), order=1, modes=["rev"], eps=1e-6)


def test_logits_grad_matches_torch_cross_entropy():
    z = np.random.default_rng(3).normal(size=(4, 6))
    y = np.array([0, 5, 2, 2])
    a = _t(z)
    kl.cross_entropy(kl.Labels(torch.asarray(y)), kl.Logits(a)).sum().backward()
    b = _t(z)
    torch.nn.functional.cross_entropy(b, torch.asarray(y), reduction="sum").backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)
    g = jax.grad(lambda z: kl.cross_entropy(kl.Labels(jnp.asarray(y)), kl.Logits(z)).sum())(
        jnp.asarray(z)
    )
    np.testing.assert_allclose(np.asarray(g), b.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn", [*MEASURES, kl.entropy], ids=lambda f: f.__name__)
def test_no_nan_and_same_convention_at_p_zero(fn):
    # p = 0 in one outcome: the exact derivative in p is infinite there; klkit's
    # documented convention is a gradient of 0, identical on torch and JAX.
    args = (P,) if fn is kl.entropy else (P, Q)
    ts = [_t(a) for a in args]
    fn(*ts).sum().backward()
    g_torch = [t.grad.numpy() for t in ts]
    g_jax = jax.grad(lambda *a: fn(*a).sum(), argnums=tuple(range(len(args))))(
        *(jnp.asarray(a) for a in args)
    )
    for gt, gj in zip(g_torch, g_jax, strict=True):
        assert np.all(np.isfinite(gt))
        np.testing.assert_allclose(gt, np.asarray(gj), rtol=1e-12, atol=1e-15)
    assert g_torch[0][1, 0] == 0.0


def test_minus_inf_logits_and_huge_logits_give_finite_gradients():
    z = _t(np.array([[1e4, -1e4, 0.0], [0.0, -np.inf, 1.0]]))
    zq = _t(np.array([[0.0, 1.0, 2.0], [-np.inf, -np.inf, 3.0]]))
    out = kl.kl_divergence(kl.Logits(z), kl.Logits(zq)) + kl.entropy(kl.Logits(z))
    out = out + kl.cross_entropy(kl.Labels(torch.tensor([0, 2])), kl.Logits(z))
    assert torch.isfinite(out[0])
    out[0].backward()
    assert torch.all(torch.isfinite(z.grad))
    assert torch.all(torch.isfinite(zq.grad))
    g = jax.grad(lambda a: kl.entropy(kl.Logits(a)).sum())(jnp.asarray([[0.0, -jnp.inf, 1.0]]))
    assert np.all(np.isfinite(np.asarray(g)))


def test_js_distance_gradient_is_zero_at_p_equal_q():
    p = _t(np.array([0.25, 0.75]))
    kl.js_distance(p, torch.tensor([0.25, 0.75], dtype=torch.float64)).backward()
    assert torch.all(p.grad == 0)


def test_float32_gradients_stay_float32():
    z = torch.tensor([[0.5, -0.5, 2.0]], requires_grad=True)
    kl.cross_entropy(kl.Labels(torch.tensor([1])), kl.Logits(z)).sum().backward()
    assert z.grad.dtype == torch.float32


def test_kl_gradient_in_probability_q_is_that_of_its_nonnegative_terms():
    # documented: the KL is summed as P log(P/Q) - P + Q, so d/dQ = 1 - P/Q, where
    # F.kl_div gives -P/Q; they agree along every direction keeping sum(Q) = 1
    torch = requires(Backend.TORCH)
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    q = torch.tensor([0.3, 0.3, 0.4], dtype=torch.float64, requires_grad=True)
    (g_kl,) = torch.autograd.grad(kl.kl_divergence(p, q), q)
    torch.testing.assert_close(g_kl, 1 - p / q.detach())
    q2 = q.detach().clone().requires_grad_(True)
    torch.nn.functional.kl_div(q2.log(), p, reduction="sum").backward()
    direction = torch.tensor([1.0, -2.0, 1.0], dtype=torch.float64)  # sums to 0
    torch.testing.assert_close(g_kl @ direction, q2.grad @ direction)
    (g_ce,) = torch.autograd.grad(kl.cross_entropy(p, q), q)
    torch.testing.assert_close(g_ce, -p / q.detach())
