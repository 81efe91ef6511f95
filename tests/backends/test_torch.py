"""The PyTorch fast paths (klkit._backends._torch) against the generic path, torch and mpmath."""

from __future__ import annotations

import math

import array_api_strict as xps
import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from backends import Backend, requires

import klkit as kl
from klkit._backends import _torch

torch = requires(Backend.TORCH, "torch")
F = torch.nn.functional


def rows(shape, rng, zeros=0.0):
    x = rng.random(shape)
    x[rng.random(shape) < zeros] = 0.0
    x[..., 0] += 1e-3
    return x / x.sum(-1, keepdims=True)


def generic(measure, *arrays, **options):
    """The same measure on the generic path (array-api-strict, float64)."""
    return np.asarray(measure(*(xps.asarray(np.asarray(a)) for a in arrays), **options))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", [(7,), (40, 300), (2, 3, 50)])
def test_kl_fast_path_runs_and_matches_scipy_and_the_generic_path(dtype, shape):
    rng = np.random.default_rng(shape[-1])
    p64, q64 = rows(shape, rng), rows(shape, rng)
    p, q = torch.asarray(p64, dtype=dtype), torch.asarray(q64, dtype=dtype)
    assert _torch.torch_kl_rows(p, q, validate=True) is not None
    got = kl.kl_divergence(p, q)
    assert got.dtype == dtype
    assert got.shape == shape[:-1]
    exact = (p.double(), q.double())  # the values the tensor really holds
    rtol = 1e-13 if dtype == torch.float64 else 2e-6
    ref = sp.rel_entr(*(t.numpy() for t in exact)).sum(-1)
    np.testing.assert_allclose(got.double().numpy(), ref, rtol=rtol)
    np.testing.assert_allclose(
        got.double().numpy(), generic(kl.kl_divergence, *exact, validate=False), rtol=rtol
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("rel", [1e-7, 1e-4, 1e-2, 0.3])
def test_kl_of_nearly_equal_rows_keeps_its_digits(dtype, rel, mp_kl):
    rng = np.random.default_rng(int(1 / rel))
    p64 = rows((3, 200), rng)
    q64 = p64 * np.exp(rel * rng.standard_normal(p64.shape))
    q64 /= q64.sum(-1, keepdims=True)
    p, q = torch.asarray(p64, dtype=dtype), torch.asarray(q64, dtype=dtype)
    assert _torch.torch_kl_rows(p, q, validate=True) is not None
    got = kl.kl_divergence(p, q)
    assert torch.all(got > 0)
    # The core's guarantees: 10 digits in float64; float32 within 1e-3 (it is ~1e-6 here,
    # the float64 series); both against mpmath on the exact values the tensors hold.
    rtol = 1e-10 if dtype == torch.float64 else 1e-5
    for i in range(3):
        ref = mp_kl(p[i].double(), q[i].double())
        assert float(got[i]) == pytest.approx(ref, rel=rtol)


def test_kl_zeros_gradients_and_bad_input_take_the_generic_path():
    p = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], dtype=torch.float64)
    q = torch.tensor([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]], dtype=torch.float64)
    assert _torch.torch_kl_rows(p, q, validate=True) is None
    assert kl.kl_divergence(p, q).tolist() == [math.inf, 0.0]
    assert kl.kl_divergence(q, p).tolist() == [math.inf, 0.0]
    with pytest.raises(kl.DistributionError, match=r"`p` sums to 1\.1 in row 1"):
        kl.kl_divergence(
            torch.tensor([[0.5, 0.5], [0.7, 0.4]], dtype=torch.float64), torch.full((2, 2), 0.5)
        )
    with pytest.raises(kl.DistributionError, match="`q` has a negative entry"):
        kl.kl_divergence(torch.full((2, 2), 0.5), torch.tensor([[0.5, 0.5], [1.2, -0.2]]))
    pg = torch.tensor([0.3, 0.7], dtype=torch.float64, requires_grad=True)
    qg = torch.tensor([0.6, 0.4], dtype=torch.float64)
    assert _torch.torch_kl_rows(pg, qg, validate=True) is None
    kl.kl_divergence(pg, qg).backward()
    expected = np.log(np.array([0.3, 0.7]) / np.array([0.6, 0.4]))  # d/dp [p log(p/q) - p + q]
    np.testing.assert_allclose(pg.grad.numpy(), expected, rtol=1e-12)


def test_kl_unvalidated_unnormalised_rows_are_recomputed_exactly(mp_kl):
    p = torch.tensor([[2.0, 1.0], [0.5, 0.5]], dtype=torch.float64)
    q = torch.tensor([[1.0, 2.0], [0.5 + 1e-9, 0.5]], dtype=torch.float64)
    got = kl.kl_divergence(p, q, validate=False)
    for i in range(2):
        assert float(got[i]) == pytest.approx(mp_kl(p[i], q[i]), rel=1e-10)


@pytest.mark.parametrize(("n", "k"), [(64, 10), (8, 1000), (3, 1)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_labels_logits_matches_torch_and_the_generic_path(n, k, dtype):
    gen = torch.Generator().manual_seed(n * k)
    z = (4 * torch.randn(n, k, generator=gen, dtype=dtype)).requires_grad_()
    y = torch.randint(0, k, (n,), generator=gen, dtype=torch.int32)
    assert _torch.torch_ce_labels_logits(y, z, validate=True) is not None
    got = kl.cross_entropy(kl.Labels(y), kl.Logits(z))
    ref = F.cross_entropy(z, y.long(), reduction="none")
    assert got.dtype == dtype
    assert got.shape == (n,)
    torch.testing.assert_close(got, ref)
    slow = kl.cross_entropy(
        kl.Labels(xps.asarray(y.numpy())), kl.Logits(xps.asarray(z.detach().double().numpy()))
    )
    # log-softmax of float32 logits ~ 10 is exact to ~eps * 10 absolutely.
    atol = 1e-12 if dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(
        got.detach().double().numpy(), np.asarray(slow), rtol=2e-6, atol=atol
    )
    (g_got,) = torch.autograd.grad(got.sum(), z)
    (g_ref,) = torch.autograd.grad(ref.sum(), z)
    torch.testing.assert_close(g_got, g_ref)


def test_cross_entropy_labels_logits_keeps_batch_shape_base_and_keepdims():
    z = torch.randn(2, 3, 5, dtype=torch.float64)
    y = torch.tensor([[0, 4, 2], [1, 1, 3]])
    got = kl.cross_entropy(kl.Labels(y), kl.Logits(z), base=2, keepdims=True)
    ref = F.cross_entropy(z.permute(0, 2, 1), y, reduction="none") / math.log(2)
    assert got.shape == (2, 3, 1)
    torch.testing.assert_close(got[..., 0], ref)


@pytest.mark.parametrize(
    ("y", "z", "expected"),
    [
        ([0, 5], [[0.0, 1.0], [0.0, 1.0]], "class index 5 at index 1"),
        ([0, -1], [[0.0, 1.0], [0.0, 1.0]], "class index -1 at index 1"),
        ([0, 1], [[0.0, math.nan], [0.0, 1.0]], r"entry nan at index \(0, 1\)"),
        ([0, 1], [[0.0, math.inf], [0.0, 1.0]], r"entry inf at index \(0, 1\)"),
    ],
)
def test_cross_entropy_labels_logits_bad_input_raises_the_generic_error(y, z, expected):
    with pytest.raises(kl.DistributionError, match=expected):
        kl.cross_entropy(kl.Labels(torch.tensor(y)), kl.Logits(torch.tensor(z)))


def test_cross_entropy_minus_inf_logit_at_the_label_is_exactly_inf():
    z = torch.tensor([[-math.inf, 0.0], [-math.inf, 0.0]])
    y = torch.tensor([0, 1])
    assert _torch.torch_ce_labels_logits(y, z, validate=True) is None
    assert kl.cross_entropy(kl.Labels(y), kl.Logits(z)).tolist() == [math.inf, 0.0]


@pytest.mark.parametrize("z", [1e4, -1e4, 30.0, -30.0, 1e-3, 0.0, -5.0])
@pytest.mark.parametrize("y", [0.0, 1e-6, 0.3, 0.5, 1 - 1e-9, 1.0])
def test_bce_logits_fast_path_is_exact_in_the_tails(y, z):
    yt, zt = torch.tensor([y], dtype=torch.float64), torch.tensor([z], dtype=torch.float64)
    assert _torch.torch_bce_logits(yt, zt, validate=True) is not None
    got = float(kl.binary_cross_entropy(yt, kl.Logits(zt))[0])
    ym, zm = mp.mpf(y), mp.mpf(z)
    ref = ym * mp.log1p(mp.exp(-zm)) + (1 - ym) * mp.log1p(mp.exp(zm))
    assert got == pytest.approx(float(ref), rel=1e-15, abs=1e-300)


def test_bce_logits_is_more_accurate_than_torchs_in_the_tail():
    # F.binary_cross_entropy_with_logits computes (1 - y) z + softplus(-z), which cancels.
    yt, zt = torch.tensor([0.0], dtype=torch.float64), torch.tensor([-30.0], dtype=torch.float64)
    ref = float(mp.log1p(mp.exp(-30)))
    ours = float(kl.binary_cross_entropy(yt, kl.Logits(zt))[0])
    theirs = float(F.binary_cross_entropy_with_logits(zt, yt, reduction="none")[0])
    assert abs(ours - ref) <= 1e-15 * ref < abs(theirs - ref)


def test_bce_logits_matches_torch_on_random_batches_and_checks_its_input():
    gen = torch.Generator().manual_seed(3)
    z, y = 3 * torch.randn(50, 20, generator=gen), torch.rand(50, 20, generator=gen)
    got = kl.binary_cross_entropy(y, kl.Logits(z), base=2)
    torch.testing.assert_close(
        got, F.binary_cross_entropy_with_logits(z, y, reduction="none") / math.log(2)
    )
    with pytest.raises(kl.DistributionError, match="`y`"):
        kl.binary_cross_entropy(y + 1, kl.Logits(z))
    with pytest.raises(kl.DistributionError, match="non-finite"):
        kl.binary_cross_entropy(y, kl.Logits(z.index_fill(1, torch.tensor([3]), math.inf)))
    zg, yg = z.clone().requires_grad_(), y.clone().requires_grad_()
    fast = _torch.torch_bce_logits(yg, zg, validate=True)  # values only, no autograd graph
    assert fast is not None
    assert not fast.requires_grad
    kl.binary_cross_entropy(yg, kl.Logits(zg)).sum().backward()  # the closed-form backward
    torch.testing.assert_close(zg.grad, torch.sigmoid(z) - y)
    torch.testing.assert_close(yg.grad, -z)
    zg.grad = None
    F.binary_cross_entropy_with_logits(zg, y, reduction="sum").backward()
    torch.testing.assert_close(zg.grad, torch.sigmoid(z) - y)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("transposed", [False, True])
def test_bce_logits_over_many_blocks_matches_a_float64_reference(dtype, transposed):
    """Contiguous CPU tensors run in blocks (here 7.5 of float32, 15 of float64, the
    last one ragged); transposed ones in one piece, keeping their layout as torch
    does. Logits reach +-200: results underflow to subnormals and zero in float32.
    Bad entries in the last block still go to the generic path's errors."""
    from klkit._backends._torch import BLOCK_BYTES as BLOCK

    gen = torch.Generator().manual_seed(5)
    shape = (5, 3 * BLOCK // 8 + 77)
    z = (40 * torch.randn(shape, generator=gen)).to(dtype)
    y = torch.rand(shape, generator=gen).to(dtype)
    y[0, :100] = torch.tensor([0.0, 1.0]).repeat(50).to(dtype)
    z[0, :100] = torch.linspace(-200, 200, 100).to(dtype)  # y = 0, 1 in the far tails
    if transposed:
        z, y = z.T, y.T
    assert _torch.torch_bce_logits(y, z, validate=True) is not None
    got = kl.binary_cross_entropy(y, kl.Logits(z))
    assert got.shape == z.shape
    assert got.stride() == z.stride()
    assert got.dtype == dtype
    zn, yn = z.double().numpy(), y.double().numpy()
    ref = yn * np.logaddexp(0.0, -zn) + (1 - yn) * np.logaddexp(0.0, zn)  # both >= 0
    info = torch.finfo(dtype)
    np.testing.assert_allclose(
        got.numpy(),
        ref.astype(got.numpy().dtype),  # rounded to the dtype, subnormals included
        rtol=4 * info.eps,
        atol=2 * info.smallest_normal * info.eps,  # two of the smallest subnormals
    )
    z_bad, y_bad = z.clone(), y.clone()  # clone keeps the transposed strides
    z_bad[-1, -1], y_bad[-1, -1] = -math.inf, 1.5  # the last entry of the last block
    with pytest.raises(kl.DistributionError, match="non-finite"):
        kl.binary_cross_entropy(y, kl.Logits(z_bad))
    with pytest.raises(kl.DistributionError, match="`y`"):
        kl.binary_cross_entropy(y_bad, kl.Logits(z))


# --- JAX under jit ------------------------------------------------------------------------


@pytest.mark.parametrize("rel", [1e-6, 1e-3, 0.05, 1.0])
def test_jax_jit_kl_matches_mpmath_on_both_branches(rel, mp_kl):
    # rel = 1: every row's D is far above EXACT_BELOW, so the short formula runs;
    # rel <= 0.05: D ~ rel^2 / 2 is below it, so lax.cond takes the generic terms.
    jax = requires(Backend.JAX, "jax")
    rng = np.random.default_rng(int(10 / rel))
    p64 = rows((4, 300), rng)
    q64 = p64 * np.exp(rel * rng.standard_normal(p64.shape))
    q64 /= q64.sum(-1, keepdims=True)
    p, q = jax.numpy.asarray(p64, np.float32), jax.numpy.asarray(q64, np.float32)
    got = np.asarray(jax.jit(kl.kl_divergence)(p, q))
    for i in range(4):
        ref = mp_kl(np.asarray(p[i]), np.asarray(q[i]))
        assert got[i] == pytest.approx(ref, rel=1e-5)
    grad = np.asarray(jax.jit(jax.grad(lambda a: kl.kl_divergence(a, q).sum()))(p))
    exact = np.log(np.asarray(p, np.float64) / np.asarray(q, np.float64))
    np.testing.assert_allclose(grad, exact, rtol=1e-5, atol=1e-6)


def test_jax_jit_kl_keeps_zeros_and_infinities_exact():
    jax = requires(Backend.JAX, "jax")
    p = jax.numpy.asarray([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])
    q = jax.numpy.asarray([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5], [0.25, 0.25, 0.5]])
    got = np.asarray(jax.jit(kl.kl_divergence)(p, q))
    assert got[0] == math.inf
    assert got[1] == 0.0
    assert got[2] == pytest.approx(math.log(2), rel=1e-6)


def test_jax_jit_kl_with_an_underflowing_ratio_is_finite_and_right(mp_kl):
    # Unnormalised P (no value checks under jit): q/p = 2e-40 is below float32's
    # smallest normal. The call must take the generic terms, which use log q - log p
    # there. On CPU, XLA flushes q/p to 0, so the finiteness check already sends it
    # there: this tests the result, not the min(Q) >= tiny * sum(P) check, which only
    # matters where subnormals are kept (not testable on this backend).
    jax = requires(Backend.JAX, "jax")
    p = jax.numpy.asarray([[100.0, 1.0], [0.3, 0.7]], dtype=np.float32)
    q = jax.numpy.asarray([[2e-38, 1.0], [0.6, 0.4]], dtype=np.float32)
    got = np.asarray(jax.jit(lambda a, b: kl.kl_divergence(a, b, validate=False))(p, q))
    for i in range(2):
        ref = mp_kl(np.asarray(p[i], np.float64), np.asarray(q[i], np.float64))
        assert got[i] == pytest.approx(ref, rel=2e-6)
