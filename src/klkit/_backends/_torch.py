"""PyTorch fast paths built on torch's own kernels (only called with torch tensors).

Speed reason: the generic array-API code spells every formula as a chain of ``where``
calls over full-size tensors; in eager PyTorch each call allocates (page faults on
large tensors) and ``torch.where`` alone costs more than a ``log``. Here each measure
is a short sequence of in-place torch kernels, with the checks as a few read-only
reductions. Each function returns None whenever it cannot promise the generic path's
exact answer (failed checks, zeros, non-finite results, gradients it does not
handle), and the caller then runs the generic path, which computes the value or
raises the precise error. Nothing here skips validation.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from klkit._backends._namespace import library_of
from klkit._numerics import EXACT_BELOW, NEAR, series, sum_tolerance

__all__ = [
    "BLOCK_BYTES",
    "CONFIDENT",
    "checkpoint",
    "chunked_rows",
    "confident_ce",
    "torch_bce_logits",
    "torch_ce_labels_logits",
    "torch_kl_rows",
    "torch_linear_cross_entropy",
]


_FLOATS = ("torch.float32", "torch.float64")


BLOCK_BYTES = 1 << 21
"""Bytes of each input per block of torch's CPU loss kernels (BCE, KL and CE from logits).

Each torch call costs a few microseconds to launch across threads, so blocks are 4x
NumPy's (:data:`klkit._backends._numpy.BLOCK_BYTES`): at (4096, 1000) float32 a
BCE forward pass took 6.5 ms in 2 MB blocks, 7.2 ms in 4 MB and 7.4 ms in 512 KB
(256 calls); a block's inputs and scratch tensors (~8 MB) still stay in the
last-level cache."""


def _is_float_tensor(x: Any) -> bool:
    return library_of(x) == "torch" and str(getattr(x, "dtype", "")) in _FLOATS


def _plain_pair(a: Any, b: Any, *, grad: bool = False) -> bool:
    """Tell whether a and b are float tensors of one dtype, shape and device.

    Unless ``grad``, neither may need a gradient.
    """
    torch = sys.modules["torch"]
    return (
        _is_float_tensor(a)
        and _is_float_tensor(b)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and a.device == b.device
        and (grad or not (torch.is_grad_enabled() and (a.requires_grad or b.requires_grad)))
    )


def torch_kl_rows(p: Any, q: Any, *, validate: bool) -> Any | None:
    """KL per row over the last axis of two torch tensors, or None (generic path).

    Terms are ``p (r - 1 - log r)`` with ``r = q/p`` as in :mod:`klkit._backends._numpy`. Near
    ``r = 1`` the log's rounding costs ``2 eps |q - p|`` per term, so a row is off by
    at most ``2 eps sum|q - p| <= 2 eps sqrt(2 D)`` (Pinsker) plus a few ulp of D:
    relative to D, that is under ``30 eps`` where ``D >= EXACT_BELOW``. Rows below it
    (nearly equal P and Q) and rows not summing to 1 are recomputed in float64 with
    the series for ``|r - 1| < NEAR``, as the NumPy path does for every term.

    Only for tensors of one float dtype and shape that need no gradient (the generic
    path defines the gradient at p = 0), with Q >= 2 * smallest normal * max(1, max P)
    so that q/p is never subnormal (a zero in Q, i.e. a possible +inf, goes generic).
    """
    torch = sys.modules["torch"]
    if not (_plain_pair(p, q) and p.ndim >= 1 and p.numel() > 0):
        return None
    k = p.shape[-1]
    info = torch.finfo(p.dtype)
    tol = sum_tolerance(info.eps, k)
    normal = ((p.sum(-1) - 1).abs() <= tol) & ((q.sum(-1) - 1).abs() <= tol)
    p_min, p_max = torch.aminmax(p)
    ok = (p_min >= 0) & (q.amin() >= 2 * info.tiny * torch.clamp(p_max, min=1.0))
    if validate:
        ok &= normal.all()
    if not bool(ok):  # one device sync for all checks; NaN fails every comparison
        return None
    g = torch.div(q, p)
    log_r = torch.log(g)
    g.sub_(1.0).sub_(log_r)  # (r - 1) - log r >= 0; r - 1 is exact near r = 1
    rows = torch.linalg.vecdot(p, g)
    redo = torch.nonzero(((rows < EXACT_BELOW) | ~normal).reshape(-1)).squeeze(1)
    if redo.numel():
        p2 = p.reshape(-1, k)[redo].double()
        q2 = q.reshape(-1, k)[redo].double()
        g2 = g.reshape(-1, k)[redo].double()
        g2 = torch.where(g2 < NEAR**2 / 2, series((q2 - p2) / p2), g2)
        rows.reshape(-1)[redo] = torch.linalg.vecdot(p2, g2).to(p.dtype)
    if not bool(torch.isfinite(rows).all()):  # p = 0 (0 * nan) or q/p overflowed
        return None
    return rows.clamp_(min=0.0)


def torch_ce_labels_logits(labels: Any, logits: Any, *, validate: bool) -> Any | None:
    """``cross_entropy(Labels(y), Logits(z))`` by ``F.cross_entropy``, or None.

    ``F.cross_entropy`` is log-softmax plus gather in one fused kernel, forward and
    backward, without a one-hot tensor. Labels are checked against ``0..K-1`` first;
    a non-finite result (NaN or +inf logits, a row of -inf, -inf at the label) goes to
    the generic path, which raises the precise error or returns +inf.
    """
    torch = sys.modules["torch"]
    if not (
        _is_float_tensor(logits)
        and library_of(labels) == "torch"
        and labels.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)
        and logits.ndim >= 1
        and tuple(labels.shape) == tuple(logits.shape[:-1])
        and labels.device == logits.device
        and logits.shape[-1] > 0
    ):
        return None
    k = logits.shape[-1]
    y = labels.reshape(-1).long()
    # Few, scalar checks: at (4096, 1000) each extra small torch op costs ~1% of the call.
    # Run even with validate=False: F.cross_entropy raises on an out-of-range label (and
    # on a GPU asserts on the device), where the generic path gives a NaN row.
    if y.numel():
        lo, hi = torch.aminmax(y)
        if lo.item() < 0 or hi.item() >= k:
            return None
    F = sys.modules["torch.nn.functional"]
    z = logits.reshape(-1, k)
    out = F.cross_entropy(z, y, reduction="none")
    total, confident = torch.stack([out.detach().sum(), (out.detach() < CONFIDENT).sum()]).tolist()
    if not math.isfinite(total):  # terms are >= 0: no cancellation
        return None
    if confident:
        rows = torch.nonzero(out.detach() < CONFIDENT).squeeze(1)
        out = out.index_put((rows,), confident_ce(z[rows], y[rows]))
    return out.reshape(labels.shape)


CONFIDENT = 2.0**-5
"""Cross-entropy rows below this are recomputed from log1p of the non-maximal mass.

``F.cross_entropy`` takes ``log(sum exp(z - max))``, whose rounding of ``1 + R`` costs
about eps in absolute terms: eps/CE relative, so a confident row (CE = 2e-9) kept 7
digits in float64 and one of 4e-18 came out 0. Above this threshold that is at most
32 eps relative."""


def confident_ce(z: Any, y: Any) -> Any:
    """``(max z - z[y]) + log1p(R)``, R the softmax mass off one maximum (see softmax_parts)."""
    torch = sys.modules["torch"]
    top, at = z.max(-1, keepdim=True)
    rest = (z - top).exp().scatter(-1, at, 0.0).sum(-1)
    return (top.squeeze(-1) - z.gather(-1, y[:, None]).squeeze(-1)) + torch.log1p(rest)


def torch_bce_logits(y: Any, z: Any, *, validate: bool, summed: bool = False) -> Any | None:
    """``binary_cross_entropy(y, Logits(z))`` with in-place torch kernels, or None.

    Not ``F.binary_cross_entropy_with_logits``: it computes ``(1 - y) z + softplus(-z)``,
    which cancels in the tails (z = -30, y = 0 loses 4% in float64). Here
    ``log1p(exp(-|z|)) + z ([z > 0] - y)``: the linear part is ``(1 - y) z`` for z > 0
    and ``-y z`` otherwise, both >= 0 with ``1 - y`` rounded once, so nothing cancels.
    y must be in [0, 1]; a non-finite result (non-finite logits) goes to the generic
    path, which raises the precise error. With ``summed`` the result is the sum of
    all elements (0-d): each block's elements stay in the scratch tensor, and no
    full-size output is written (the "sum" and "mean" reductions).

    Seven kernels per block of :data:`BLOCK_BYTES` bytes for contiguous CPU tensors,
    so that each works on data in cache and the scratch tensor is small (whole
    tensors, with a full scratch tensor, measured 1.06-1.31x torch's time at (4096,
    1000) float32; blocks 0.67-0.99x in the benchmark, and 0.42-0.58x at (256,
    50257)); ``softplus`` is one kernel for ``log1p(exp(.))`` (exact here: its argument
    is <= 0, far below its threshold). Other layouts keep theirs (as torch's own
    function does) and other devices avoid a launch per block: one block, the whole
    tensors.
    """
    torch = sys.modules["torch"]
    # computed without autograd; a caller that needs gradients attaches the closed
    # form (klkit._backends._torch_losses.torch_bce_logits_grad)
    if not _plain_pair(y, z, grad=True):
        return None
    y, z = y.detach(), z.detach()
    if validate and y.numel():
        lo, hi = torch.aminmax(y)
        if not bool((lo >= 0) & (hi <= 1)):  # NaN fails too
            return None
    n = z.numel()
    out = None if summed else torch.empty_like(z)
    if z.device.type == "cpu" and z.is_contiguous() and y.is_contiguous():
        block = BLOCK_BYTES // z.element_size()
        flat = [t.view(-1) for t in (z, y)]
        # summed: each block's values in a scratch tensor, no full-size output
        val = torch.empty(min(block, n), dtype=z.dtype) if out is None else out.view(-1)
        step = torch.empty(min(block, n), dtype=z.dtype)
        blocks = []
        for i in range(0, n, block):
            zb, yb = (t[i : i + block] for t in flat)
            m = len(zb)
            blocks.append((zb, yb, val[i : i + m] if out is not None else val[:m], step[:m]))
    else:
        blocks = [(z, y, torch.empty_like(z) if out is None else out, torch.empty_like(z))]
    F = sys.modules["torch.nn.functional"]
    sums = []
    for zb, yb, ob, sb in blocks:
        soft = F.softplus(torch.abs(zb, out=ob).neg_())  # log1p(exp(-|z|))
        torch.gt(zb, 0.0, out=sb).sub_(yb)  # 1 - y or -y
        if out is not None:
            ob.copy_(soft)
            soft = ob
        sums.append(soft.addcmul_(zb, sb).sum())
    total = torch.stack(sums).sum() if sums else z.new_zeros(())
    if not bool(torch.isfinite(total)):  # an inf/NaN logit (or a huge sum: generic)
        return None
    return total if summed else out


def torch_linear_cross_entropy(
    h: Any,
    w: Any,
    b: Any | None,
    y: Any,
    *,
    ignore_index: int | None,
    smoothing: float,
    temperature: float,
    weight: Any | None,
    reduced: bool = False,
) -> tuple[Any, Any | None] | None:
    """Return rows of ``F.linear_cross_entropy``'s chunked path and the mean's divisor.

    The per-row cross-entropy of ``Labels(y)`` against ``LinearLogits(h, w, b)``,
    and what "mean" divides by; None where torch's chunked path does not apply.

    torch >= 2.13 chunks the batch itself (``LinearCrossEntropyOptions``) where the
    call is within its chunked path: no label smoothing, int64 labels. ``h`` is
    (N, d), ``w`` (K, d); the temperature divides ``h`` and ``b`` (the logits are
    linear in both).
    """
    if library_of(h) != "torch" or smoothing:
        return None
    torch = sys.modules["torch"]
    F = sys.modules["torch.nn.functional"]
    if not hasattr(F, "linear_cross_entropy") or not h.dtype.is_floating_point:
        return None
    if weight is not None and library_of(weight) != "torch":
        weight = torch.as_tensor(weight, dtype=h.dtype, device=h.device)
    if weight is not None:
        weight = weight.to(h.dtype)
    target = y.to(torch.int64)
    # no default ignore index: torch's -100 is an ordinary (out-of-range) label here
    ignore = torch.iinfo(torch.int64).min if ignore_index is None else ignore_index
    keep = target != ignore
    # labels out of range (validate=False) take the chunked path: NaN rows, as Logits
    in_range = (target >= 0) & (target < w.shape[0])
    if target.numel() and not bool((in_range | ~keep).all()):
        return None
    if temperature != 1.0:
        h = h / temperature
        b = None if b is None else b / temperature
    safe = torch.where(keep, target, 0)
    options = torch.nn.LinearCrossEntropyOptions()
    if reduced:
        # torch's summed path is ~1.35x faster than per-row values (measured at
        # 2048 x 128 against 32,000 x 128). The sum keeps 32 eps relative while the
        # mean row is >= CONFIDENT (each row's rounding is ~eps absolute); below
        # that, the rows are computed one by one and the confident ones exactly.
        total = F.linear_cross_entropy(
            h,
            w,
            target,
            linear_bias=b,
            weight=weight,
            reduction="sum",
            ignore_index=ignore,
            options=options,
        )
        count = keep.to(h.dtype) if weight is None else torch.where(keep, weight[safe], 0.0)
        count = count.sum()
        if bool(total.detach() >= CONFIDENT * count):
            return total, count
    rows = F.linear_cross_entropy(
        h,
        w,
        target,
        linear_bias=b,
        weight=weight,
        reduction="none",
        ignore_index=ignore,
        options=options,
    )
    confident = torch.nonzero((rows.detach() < CONFIDENT) & keep).squeeze(1)
    if confident.numel():  # exact from log1p of the non-maximal mass, as for Logits
        z = h[confident] @ w.T
        z = z if b is None else z + b
        exact = confident_ce(z, target[confident])
        if weight is not None:
            exact = exact * weight[safe[confident]]
        rows = rows.index_put((confident,), exact)
    if ignore_index is None and weight is None:
        return rows, None
    counts = keep.to(h.dtype)
    if weight is not None:
        counts = torch.where(keep, weight[safe], 0.0)
    return rows, counts


def chunked_rows(
    block: Any, h: Any, w: Any, b: Any | None, bounds: list[tuple[int, int]]
) -> tuple[Any, Any | None]:
    """Rows of ``block(start, stop, h[start:stop], w, b)`` over ``bounds``, concatenated.

    ``block`` returns ``(rows, counts or None)`` of one chunk. With gradients, a custom
    autograd Function runs the chunks without a graph and, in the backward pass,
    recomputes one chunk at a time and takes its gradients to ``h``, ``w`` and ``b``
    (``torch.autograd.grad``), so memory holds one chunk's graph, never all of them.
    Resident memory can still grow with the number of chunks where glibc's malloc
    raises its mmap threshold after the first large free and keeps freed chunks in
    the heap; with ``MALLOC_MMAP_THRESHOLD_`` fixed (as the benchmark does) the peak
    is one chunk's.
    """
    torch = sys.modules["torch"]
    needs = torch.is_grad_enabled() and any(a is not None and a.requires_grad for a in (h, w, b))
    if not needs:
        return _concat([block(s, e, h[s:e], w, b) for s, e in bounds])
    rows, counts = _chunked_function().apply(h, w, b, block, bounds)
    return rows, None if counts.numel() == 0 else counts  # empty: no counts (see forward)


def _concat(outs: list[tuple[Any, Any | None]]) -> tuple[Any, Any | None]:
    torch = sys.modules["torch"]
    rows = torch.cat([r for r, _ in outs])
    counts = [c for _, c in outs if c is not None]
    return rows, torch.cat(counts) if counts else None


def _chunked_function() -> Any:
    torch = sys.modules["torch"]

    class Chunked(torch.autograd.Function):  # type: ignore[misc,name-defined]
        @staticmethod
        def forward(ctx: Any, h: Any, w: Any, b: Any, block: Any, bounds: Any) -> Any:
            ctx.block, ctx.bounds = block, bounds
            ctx.save_for_backward(h, w, b)
            rows, counts = _concat([block(s, e, h[s:e], w, b) for s, e in bounds])
            counts = rows.new_empty((0,)) if counts is None else counts
            ctx.mark_non_differentiable(counts)
            return rows, counts

        @staticmethod
        def backward(ctx: Any, g: Any, _counts: Any) -> Any:
            h, w, b = ctx.saved_tensors
            want = ctx.needs_input_grad[:3]
            grads: list[Any] = [
                torch.zeros_like(x) if x is not None and need else None
                for x, need in zip((h, w, b), want, strict=True)
            ]
            for s, e in ctx.bounds:
                with torch.enable_grad():
                    hc = h[s:e].detach().requires_grad_(want[0])
                    wc = w.detach().requires_grad_(want[1])
                    bc = None if b is None else b.detach().requires_grad_(want[2])
                    rows, _ = ctx.block(s, e, hc, wc, bc)
                    inputs = [x for x, need in zip((hc, wc, bc), want, strict=True) if need]
                    parts = iter(torch.autograd.grad(rows, inputs, g[s:e]))
                if want[0]:
                    grads[0][s:e] += next(parts)
                for i in (1, 2):
                    if want[i]:
                        grads[i] += next(parts)
            return grads[0], grads[1], grads[2], None, None

    return Chunked


def checkpoint(block: Any, *args: Any) -> Any:
    """``block(*args)``, recomputed in the backward pass (``torch.utils.checkpoint``).

    For chunks whose other inputs need gradients too (see :func:`chunked_rows`).
    Without a tensor that needs a gradient there is no backward pass: it just runs.
    """
    torch = sys.modules["torch"]
    needs = torch.is_grad_enabled() and any(a is not None and a.requires_grad for a in args)
    if not needs:
        return block(*args)
    from torch.utils.checkpoint import checkpoint as torch_checkpoint  # noqa: PLC0415

    return torch_checkpoint(block, *args, use_reentrant=False)
