"""torch's training-loss fast paths (klkit._backends._torch_losses) against torch's own losses.

References are torch's ``F.kl_div``, ``F.binary_cross_entropy_with_logits`` and
autograd through them in float64, and closed forms; every case runs over several
cache-sized blocks (the last one ragged), so that each block's rows are checked.
"""

from __future__ import annotations

import functools
import math

import pytest
from backends import Backend, requires

import klkit as kl
from klkit._api._route import generic_kl_rows
from klkit._backends import _torch, _torch_losses
from klkit._backends._torch import BLOCK_BYTES

torch = requires(Backend.TORCH, "torch")
F = torch.nn.functional


def _many_blocks(k, dtype):
    """Rows enough for 3.5 blocks of ``k`` outcomes."""
    per_block = max(1, BLOCK_BYTES // (k * torch.finfo(dtype).bits // 8))
    return 3 * per_block + per_block // 2 + 1


def _kl_pair(n, k, dtype, seed, *, scale=3.0):
    gen = torch.Generator().manual_seed(seed)
    t = scale * torch.randn(n, k, generator=gen, dtype=torch.float64)
    z = scale * torch.randn(n, k, generator=gen, dtype=torch.float64)
    return t.to(dtype), z.to(dtype)


def _reference_kl(p, z, *, p_logits):
    """KL rows and their gradients (weighted by ``g``) in float64, from the definitions.

    ``sum P log(P/Q) + sum Q - sum P`` with 0 log 0 = 0; in z the gradient is
    ``softmax(z) sum(P) - P``, in P ``log(P/Q)``, in the logits t of P
    ``P (log(P/Q) - D)``, each 0 where P = 0.
    """
    lq = F.log_softmax(z.double(), -1)
    lp = F.log_softmax(p.double(), -1) if p_logits else p.double().log()
    prob = lp.exp() if p_logits else p.double()
    pos = prob > 0
    log_ratio = torch.where(pos, lp - lq, 0.0)
    rows = (prob * log_ratio).sum(-1) + lq.exp().sum(-1) - prob.sum(-1)

    def grads(g):
        g = g.unsqueeze(-1)
        g_z = g * (lq.exp() * prob.sum(-1, keepdim=True) - prob)
        g_p = g * (prob * (log_ratio - rows.unsqueeze(-1)) if p_logits else log_ratio)
        return torch.where(pos, g_p, 0.0), g_z

    return rows, grads


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("p_logits", [False, True])
def test_kl_from_logits_matches_torch_over_many_blocks(dtype, p_logits):
    k = 300
    n = _many_blocks(k, dtype)
    t, z0 = _kl_pair(n, k, dtype, seed=n)
    p0 = t if p_logits else torch.softmax(t.double(), -1).to(dtype)
    zero = -math.inf if p_logits else 0.0
    p0[3, : k // 2] = zero  # zeros in P stay on the fast path
    z0[4, 7], p0[4, 7] = -math.inf, zero  # Q = 0 where P = 0: a finite row
    if not p_logits:
        p0 = p0 / p0.sum(-1, keepdim=True)
    exact = functools.partial(generic_kl_rows, p_logits=p_logits)
    fast = _torch_losses.torch_kl_logits(p0, z0, p_logits=p_logits, validate=True, exact=exact)
    assert fast is not None
    p, z = p0.clone().requires_grad_(), z0.clone().requires_grad_()
    got = kl.kl_divergence(kl.Logits(p) if p_logits else p, kl.Logits(z))
    assert got.dtype == dtype
    ref, ref_grads = _reference_kl(p0, z0, p_logits=p_logits)
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == torch.float64 else {"rtol": 2e-4, "atol": 2e-5}
    torch.testing.assert_close(got.double(), ref, **tol)
    g = torch.rand(n, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    g_p, g_z = torch.autograd.grad((got * g.to(dtype)).sum(), (p, z))
    r_p, r_z = ref_grads(g)
    torch.testing.assert_close(g_z.double(), r_z, **tol)
    torch.testing.assert_close(g_p.double(), r_p, **tol)
    assert float(g_z[4, 7]) == 0.0
    assert torch.all(g_p[p0 == zero] == 0)
    # and torch's own autograd through F.kl_div, on the rows without zeros
    rows = [0, 1, 2, n - 1]
    p64 = p0[rows].double().requires_grad_()
    z64 = z0[rows].double().requires_grad_()
    lq = F.log_softmax(z64, -1)
    if p_logits:
        ref_rows = F.kl_div(lq, F.log_softmax(p64, -1), reduction="none", log_target=True)
    else:  # klkit's KL adds sum(Q) - sum(P), which moves the gradient in P by -1
        ref_rows = F.kl_div(lq, p64, reduction="none") - p64
    t_p, t_z = torch.autograd.grad((ref_rows.sum(-1) * g[rows]).sum(), (p64, z64))
    torch.testing.assert_close(g_z[rows].double(), t_z, **tol)
    torch.testing.assert_close(g_p[rows].double(), t_p, **tol)


def test_kl_from_logits_mean_matches_torch_batchmean():
    n, k = 37, 50
    t, z0 = _kl_pair(n, k, torch.float64, seed=3)
    p = torch.softmax(t, -1)
    z, zr = z0.clone().requires_grad_(), z0.clone().requires_grad_()
    got = kl.kl_divergence(p, kl.Logits(z), reduction="mean")
    ref = F.kl_div(F.log_softmax(zr, -1), p, reduction="batchmean")
    torch.testing.assert_close(got, ref)
    got.backward()
    ref.backward()
    torch.testing.assert_close(z.grad, zr.grad)


@pytest.mark.parametrize("p_logits", [False, True])
def test_kl_from_logits_of_nearly_equal_rows_is_exact_and_never_negative(p_logits, mp_kl):
    # D ~ 1e-10 << EXACT_BELOW: the float32 terms cancel; those rows are recomputed
    n, k = _many_blocks(200, torch.float32), 200
    t, _ = _kl_pair(n, k, torch.float64, seed=8, scale=1.0)
    gen = torch.Generator().manual_seed(9)
    z = (t + 1e-5 * torch.randn(n, k, generator=gen, dtype=torch.float64)).float()
    t = t.float()
    p = t if p_logits else torch.softmax(t, -1)
    got = kl.kl_divergence(kl.Logits(p) if p_logits else p, kl.Logits(z))
    assert torch.all(got >= 0)
    p64 = torch.softmax(p.double(), -1) if p_logits else p.double()
    q64 = torch.softmax(z.double(), -1)
    for i in (0, n // 2, n - 1):
        ref = mp_kl(p64[i], q64[i])
        assert float(got[i]) == pytest.approx(ref, rel=1e-4)


def test_kl_from_logits_infinite_and_bad_rows_take_the_generic_path():
    z = torch.tensor([[0.0, -math.inf], [1.0, 2.0]])
    p = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    # Q = 0 where P > 0: exactly +inf, from the generic path
    exact = functools.partial(generic_kl_rows, p_logits=False)
    assert _torch_losses.torch_kl_logits(p, z, p_logits=False, validate=True, exact=exact) is None
    assert math.isinf(float(kl.kl_divergence(p, kl.Logits(z))[0]))
    negative = torch.tensor([[1.5, -0.5], [0.5, 0.5]])
    unchecked = _torch_losses.torch_kl_logits(
        negative, z.flip(-1), p_logits=False, validate=False, exact=exact
    )
    assert unchecked is None
    with pytest.raises(kl.DistributionError, match="`p` has a negative entry"):
        kl.kl_divergence(negative, kl.Logits(z.flip(-1)))
    with pytest.raises(kl.DistributionError, match=r"`q` \(logits\) has an entry nan"):
        kl.kl_divergence(p, kl.Logits(torch.tensor([[0.0, math.nan], [1.0, 2.0]])))


def test_kl_where_masked_infinite_rows_have_zero_gradient():
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0], [0.2, 0.8]])
    z = torch.tensor([[0.0, 1.0], [-math.inf, 0.0], [math.nan, 0.0]], requires_grad=True)
    mask = torch.tensor([True, False, False])
    loss = kl.kl_divergence(p, kl.Logits(z), where=mask, reduction="mean")
    loss.backward()
    q = torch.softmax(torch.tensor([0.0, 1.0]), -1)
    assert float(loss.detach()) == pytest.approx(float((p[0] * (p[0] / q).log()).sum()), rel=1e-6)
    torch.testing.assert_close(z.grad[0], q - p[0])
    assert torch.all(z.grad[1:] == 0)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bce_logits_summed_matches_torch_over_many_blocks(reduction, dtype):
    n = 3 * BLOCK_BYTES // (8 if dtype == torch.float64 else 4) + 77
    gen = torch.Generator().manual_seed(4)
    z0 = (5 * torch.randn(n, generator=gen, dtype=torch.float64)).to(dtype)
    y0 = torch.rand(n, generator=gen, dtype=torch.float64).to(dtype)
    total = _torch.torch_bce_logits(y0, z0, validate=True, summed=True)
    assert total is not None
    assert total.shape == ()
    z, y = z0.clone().requires_grad_(), y0.clone().requires_grad_()
    z64, y64 = z0.double().requires_grad_(), y0.double().requires_grad_()
    got = kl.binary_cross_entropy(y, kl.Logits(z), reduction=reduction)
    ref = F.binary_cross_entropy_with_logits(z64, y64, reduction=reduction)
    assert got.dtype == dtype
    rtol = 1e-12 if dtype == torch.float64 else 1e-5
    assert float(got.detach()) == pytest.approx(float(ref.detach()), rel=rtol)
    got.backward()
    ref.backward()
    atol = 4 * torch.finfo(dtype).eps / (n if reduction == "mean" else 1)  # sigmoid(z) - y
    torch.testing.assert_close(z.grad.double(), z64.grad, rtol=rtol, atol=atol)
    torch.testing.assert_close(y.grad.double(), y64.grad, rtol=rtol, atol=atol)


def test_bce_logits_summed_edge_cases():
    empty = torch.zeros((0, 3), requires_grad=True)
    loss = kl.binary_cross_entropy(torch.zeros((0, 3)), kl.Logits(empty), reduction="mean")
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert empty.grad.shape == (0, 3)
    with pytest.raises(kl.DistributionError, match="non-finite"):
        kl.binary_cross_entropy(
            torch.ones(3), kl.Logits(torch.tensor([0.0, math.inf, 1.0])), reduction="mean"
        )
    with pytest.raises(kl.DistributionError, match="`y`"):
        kl.binary_cross_entropy(torch.full((3,), 1.5), kl.Logits(torch.zeros(3)), reduction="sum")
    # the tails keep their digits in the sum too: log1p(exp(-30)) = 9.4e-14
    got = kl.binary_cross_entropy(
        torch.zeros(2, dtype=torch.float64),
        kl.Logits(torch.full((2,), -30.0, dtype=torch.float64)),
        reduction="mean",
    )
    assert float(got) == pytest.approx(math.log1p(math.exp(-30.0)), rel=1e-15)


def test_bce_logits_elementwise_backward_reads_an_expanded_or_a_full_gradient():
    n = 2 * BLOCK_BYTES // 4 + 5
    gen = torch.Generator().manual_seed(6)
    z = (3 * torch.randn(n, generator=gen)).requires_grad_()
    y = torch.rand(n, generator=gen)
    kl.binary_cross_entropy(y, kl.Logits(z)).sum().backward()  # the gradient: ones, stride 0
    torch.testing.assert_close(z.grad, torch.sigmoid(z.detach()) - y)
    z.grad = None
    weights = torch.rand(n, generator=gen)
    (kl.binary_cross_entropy(y, kl.Logits(z)) * weights).sum().backward()
    torch.testing.assert_close(z.grad, (torch.sigmoid(z.detach()) - y) * weights)


def _torch_options_reference(z, y, w, *, ignore_index, smoothing):
    """Weighted mean of torch's label-smoothed rows, written out with log_softmax (float64).

    Ignored rows read zero logits, so that their NaN or inf entries reach neither the
    value nor the gradient.
    """
    keep = y != ignore_index
    safe = torch.where(keep, y, 0)
    lp = F.log_softmax(torch.where(keep[:, None], z, 0.0), -1)
    w = torch.ones(z.shape[-1], dtype=z.dtype) if w is None else w
    nll = -lp.gather(1, safe[:, None]).squeeze(1) * w[safe]
    rows = (1 - smoothing) * nll
    if smoothing:
        rows = rows - smoothing / z.shape[-1] * (lp * w).sum(-1)
    rows = torch.where(keep, rows, 0.0)
    return rows.sum() / torch.where(keep, w[safe], 0.0).sum()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_options_match_torch_and_the_written_out_gradient(smoothing, weighted):
    k = 700
    n = _many_blocks(k, torch.float64)
    gen = torch.Generator().manual_seed(11)
    z0 = 4 * torch.randn(n, k, generator=gen, dtype=torch.float64)
    y = torch.randint(0, k, (n,), generator=gen)
    y[::7] = -100
    z0[0, 3], z0[7, :5] = math.inf, math.nan  # in ignored rows: no effect, zero gradient
    # -inf off the label: a finite row without smoothing (with it, +inf)
    z0[1, (y[1] + 1) % k] = -50.0 if smoothing else -math.inf
    w0 = torch.rand(k, generator=gen, dtype=torch.float64) + 0.5 if weighted else None
    options = {"ignore_index": -100, "smoothing": smoothing}
    z = z0.clone().requires_grad_()
    w = None if w0 is None else w0.clone().requires_grad_()
    labels = kl.Labels(y, **options)
    assert _torch_losses.torch_ce_options(y, z0, weight=w0, validate=True, **options) is not None
    rows = kl.cross_entropy(labels, kl.Logits(z.detach()), weight=w0)
    kept = y != -100
    torch.testing.assert_close(
        rows[kept],
        F.cross_entropy(z0[kept], y[kept], weight=w0, label_smoothing=smoothing, reduction="none"),
    )
    assert torch.all(rows[~kept] == 0)
    got = kl.cross_entropy(labels, kl.Logits(z), weight=w, reduction="mean")
    zr = z0.clone().requires_grad_()
    wr = None if w0 is None else w0.clone().requires_grad_()
    ref = _torch_options_reference(zr, y, wr, **options)
    torch.testing.assert_close(got, ref)
    inputs, ref_inputs = [z], [zr]
    if weighted:  # F.cross_entropy has no gradient in weight; klkit does
        inputs.append(w)
        ref_inputs.append(wr)
    grads = zip(torch.autograd.grad(got, inputs), torch.autograd.grad(ref, ref_inputs), strict=True)
    for a, b in grads:
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-15)
    if smoothing == 0 and not weighted:  # torch agrees on the kept rows
        z.grad = None
        zt = z0.clone().requires_grad_()
        F.cross_entropy(zt[kept], y[kept]).backward()
        (g,) = torch.autograd.grad(kl.cross_entropy(labels, kl.Logits(z), reduction="mean"), z)
        torch.testing.assert_close(g[kept], zt.grad[kept])


def test_cross_entropy_options_keep_confident_rows_and_all_ignored_is_zero():
    z = torch.tensor([[40.0, 0.0, 0.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([0, -100])
    rows = kl.cross_entropy(kl.Labels(y, ignore_index=-100), kl.Logits(z), weight=torch.ones(3))
    assert float(rows[0]) == pytest.approx(math.log1p(2 * math.exp(-40.0)), rel=1e-15)
    assert float(rows[1]) == 0.0
    zg = z.clone().requires_grad_()
    loss = kl.cross_entropy(
        kl.Labels(torch.full((2,), -100), ignore_index=-100, smoothing=0.1),
        kl.Logits(zg),
        weight=torch.ones(3),
        reduction="mean",
    )
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert torch.all(zg.grad == 0)


def test_nearly_equal_logit_rows_keep_their_digits_in_float64():
    # Q's top logit moved by 6e-8: the KL (~4e-16) is the difference squared, which the
    # rounding of two float64 log-softmaxes cut to 8 digits; the rows below
    # EXACT_BELOW now take the generic path's log-ratio (Hypothesis found it)
    import mpmath

    torch = requires(Backend.TORCH)
    zp = [0.0, 0.0, 1.0]
    zq = [0.0, 0.0, 1.0 + 5.960464477539063e-08]
    with mpmath.workdps(50):
        lp = [mpmath.mpf(x) - mpmath.log(sum(mpmath.exp(y) for y in zp)) for x in zp]
        lq = [mpmath.mpf(x) - mpmath.log(sum(mpmath.exp(y) for y in zq)) for x in zq]
        want = float(sum(mpmath.exp(a) * (a - b) for a, b in zip(lp, lq, strict=True)))
    z_p = torch.tensor([zp], dtype=torch.float64)
    z_q = torch.tensor([zq], dtype=torch.float64, requires_grad=True)
    got = kl.kl_divergence(kl.Logits(z_p), kl.Logits(z_q))
    assert float(got[0].detach()) == pytest.approx(want, rel=1e-12)
    got.sum().backward()
    assert torch.isfinite(z_q.grad).all()
