"""torch training losses with closed-form backward passes (torch only, so it lives here).

Speed reason: the generic path's KL terms (logs of ratios, a series, ``where`` for
every edge) are differentiated op by op, 10-30x ``F.kl_div`` forward and backward.
Here the forward pass is a few torch kernels per cache-sized block of rows (no
full-size temporary) and the backward pass is the closed form, as torch's own
losses do:

* KL from logits: ``d/dz = softmax(z) sum(P) - P``; ``d/dP = log P - log Q`` (0 where
  P = 0); for P given as logits t, ``d/dt = P (log P - log Q - D)``.
* Binary cross-entropy from logits: ``d/dz = sigmoid(z) - y``, ``d/dy = -z``.

The exactness guarantees hold as on the generic path: rows whose KL is below
``EXACT_BELOW`` (where ``sum P (log P - log Q)`` cancels), and non-finite rows
(zeros against -inf logits), are recomputed by the generic path (a callback from the
router, whose log-ratio of two logit rows keeps the digits of nearly equal logits); results are
never negative, and anything still non-finite (an invalid input, or a genuine +inf)
returns None so that the generic path raises the precise error or returns the exact
+inf.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

from klkit._backends._namespace import library_of
from klkit._backends._torch import BLOCK_BYTES, CONFIDENT, confident_ce
from klkit._numerics import EXACT_BELOW, sum_tolerance

__all__ = ["torch_bce_logits_grad", "torch_ce_options", "torch_kl_logits"]

_FLOATS = ("torch.float32", "torch.float64")


def _tensors(*xs: Any) -> bool:
    """Float tensors of one dtype, shape and device, with a last axis of outcomes."""
    first = xs[0]
    return all(
        library_of(x) == "torch"
        and str(x.dtype) in _FLOATS
        and x.dtype == first.dtype
        and x.shape == first.shape
        and x.device == first.device
        for x in xs
    ) and (first.ndim >= 1 and first.numel() > 0)


def torch_kl_logits(
    p: Any, z: Any, *, p_logits: bool, validate: bool, exact: Callable[[Any, Any], Any]
) -> Any | None:
    """KL rows of P (probabilities, or logits if ``p_logits``) against ``Logits(z)``, or None.

    Same shape and dtype only (other calls take the generic path). Probabilities must
    be >= 0 and, with ``validate``, each row must sum to 1 within the usual tolerance.
    Rows below ``EXACT_BELOW sum(P)``, and non-finite rows, are recomputed by
    ``exact(p_rows, z_rows)``, the generic path's KL rows (whose log-ratio of two
    logit rows keeps the digits of nearly equal logits); a non-finite result there
    (an invalid input, or a genuine +inf) returns None.
    """
    torch = sys.modules["torch"]
    if not _tensors(p, z):
        return None
    k = z.shape[-1]
    with torch.no_grad():
        p2, z2 = p.detach().reshape(-1, k), z.detach().reshape(-1, k)
        total = None
        if not p_logits:
            total = p2.sum(-1)
            ok = p2.amin() >= 0  # NaN fails too
            if validate:
                tol = sum_tolerance(torch.finfo(p.dtype).eps, k)
                ok &= ((total - 1).abs() <= tol).all()
            if not bool(ok):  # one device sync for every check
                return None
        rows = _kl_forward(torch, p2, z2, p_logits=p_logits)
        limit = EXACT_BELOW * (1.0 if total is None else total)
        redo = torch.nonzero(~((rows >= limit) & (rows <= torch.finfo(rows.dtype).max)))
        if redo.numel():
            redo = redo.squeeze(1)
            redone = exact(p2[redo], z2[redo])
            if not bool(torch.isfinite(redone).all()):
                return None
            rows[redo] = redone.to(rows.dtype)
        rows.clamp_(min=0.0)
    return _KL.apply(p, z, rows.reshape(z.shape[:-1]), total)


def _blocks(torch: Any, x: Any) -> list[Any]:
    """Slices of the rows of ``x`` (2-d), each about :data:`BLOCK_BYTES` on CPU.

    Every pass over a block (log-softmax, exp, log, the products) then reads data in
    cache and writes into small scratch tensors that the allocator reuses: whole
    tensors would take a full-size scratch tensor (page faults) per pass and read
    memory each time. Other devices take one block, the whole tensor.
    """
    n = x.shape[0]
    if x.device.type != "cpu":
        return [slice(0, n)]
    step = max(1, BLOCK_BYTES // max(1, x.shape[1] * x.element_size()))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _kl_forward(torch: Any, p: Any, z: Any, *, p_logits: bool) -> Any:
    """KL rows of 2-d P (probabilities, or logits) against logits z, block by block.

    Terms ``(Q - P) + P (log P - log Q) = P (r - 1 - log r) >= 0`` with ``r = Q/P``:
    klkit's KL, never a sum of large terms of both signs. ``log P`` is taken of P
    clamped to the smallest normal number, so that P = 0 gives 0 (``xlogy`` costs
    3x ``log``); a subnormal P changes its term by under 1e-36.
    """
    rows = z.new_empty(z.shape[0])
    tiny = torch.finfo(z.dtype).tiny
    for s in _blocks(torch, z):
        lq = torch.log_softmax(z[s], -1)
        terms = lq.exp()
        if p_logits:
            lp = torch.log_softmax(p[s], -1)
            probs = lp.exp()
        else:
            probs = p[s]
            lp = probs.clamp(min=tiny).log_()
        terms.sub_(probs).addcmul_(probs, lp.sub_(lq))
        torch.sum(terms, -1, out=rows[s])
    return rows


def _kl_function() -> Any:
    torch = sys.modules["torch"]

    class KLLogits(torch.autograd.Function):  # type: ignore[misc,name-defined]
        """KL rows with the closed-form backward (see the module docstring).

        Only the inputs are saved: the backward pass recomputes softmax(z) (whole
        tensors: three passes, no faster in blocks), which costs less than writing
        it out in the forward pass and reading it back.
        """

        @staticmethod
        def forward(ctx: Any, p: Any, z: Any, rows: Any, total: Any) -> Any:
            ctx.save_for_backward(p, z, rows, total)
            return rows

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            p, z, rows, total = ctx.saved_tensors
            g = g.unsqueeze(-1)
            probs = p if total is not None else torch.softmax(p, -1)
            grad_p = grad_z = None
            if ctx.needs_input_grad[1]:  # softmax(z) sum(P) - P
                scale = g if total is None else g * total.unsqueeze(-1)
                grad_z = torch.softmax(z, -1).mul_(scale).addcmul_(probs, g, value=-1.0)
            if ctx.needs_input_grad[0]:  # 0 where P = 0
                lq = torch.log_softmax(z, -1)
                if total is not None:  # log P - log Q
                    grad_p = torch.where(probs > 0, torch.log(probs) - lq, 0.0).mul_(g)
                else:  # in the logits of P: P (log P - log Q - D)
                    d = (torch.log_softmax(p, -1) - lq).sub_(rows.unsqueeze(-1))
                    grad_p = torch.where(probs > 0, probs * d, 0.0).mul_(g)
            return grad_p, grad_z, None, None

    return KLLogits


class _Lazy:
    """The autograd Function, defined on first use (torch is imported lazily)."""

    def __init__(self, make: Any) -> None:
        self.make = make
        self.fn: Any = None

    def apply(self, *args: Any) -> Any:
        if self.fn is None:
            self.fn = self.make()
        return self.fn.apply(*args)


_KL = _Lazy(_kl_function)


def torch_bce_logits_grad(y: Any, z: Any, out: Any) -> Any:
    """Attach the closed-form backward to BCE-with-logits ``out`` of (y, z).

    ``out`` holds the elements, or their sum (0-d, from ``torch_bce_logits(...,
    summed=True)``).
    """
    return _BCE.apply(y, z, out)


def _bce_function() -> Any:
    torch = sys.modules["torch"]

    class BCELogits(torch.autograd.Function):  # type: ignore[misc,name-defined]
        """``y softplus(-z) + (1 - y) softplus(z)`` with d/dz = sigmoid(z) - y, d/dy = -z."""

        @staticmethod
        def forward(ctx: Any, y: Any, z: Any, out: Any) -> Any:
            ctx.save_for_backward(y, z)
            return out

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            y, z = ctx.saved_tensors
            grad_y = -g * z if ctx.needs_input_grad[0] else None
            grad_z = None
            if ctx.needs_input_grad[1]:  # sigmoid(z) - y, one new array (no faster in blocks)
                grad_z = torch.sigmoid(z).sub_(y).mul_(g)
            return grad_y, grad_z, None

    return BCELogits


_BCE = _Lazy(_bce_function)


def torch_ce_options(
    y: Any,
    z: Any,
    *,
    ignore_index: int | None,
    smoothing: float,
    weight: Any | None,
    validate: bool,
) -> tuple[Any, Any | None] | None:
    """Return rows of labelled cross-entropy with torch's options and the mean's divisor.

    ``cross_entropy(Labels(y, ...), Logits(z), weight=...)`` per row, and what "mean"
    divides by; or None (the generic path). The rows are ``F.cross_entropy``'s
    (``reduction="none"``): ``(1 - eps) w_y (-log q_y) + eps/K sum_k w_k (-log q_k)``,
    0 for ignored labels; computed block by block (:func:`_blocks`) with the closed-form
    backward of :func:`_ce_function`.

    Outcomes on the last axis of ``z``. Labels outside ``0..K-1`` (other than
    ``ignore_index``), a weight that is not (K,) finite and >= 0, or a non-finite row
    return None, so that the generic path raises the precise error or returns the
    exact +inf. Without smoothing, confident rows (below ``CONFIDENT``) are recomputed
    from log1p of the non-maximal mass, as for plain labels.
    """
    torch = sys.modules["torch"]
    if library_of(y) != "torch" or library_of(z) != "torch" or str(z.dtype) not in _FLOATS:
        return None
    if z.ndim < 1 or tuple(y.shape) != tuple(z.shape[:-1]) or y.device != z.device:
        return None
    if y.dtype.is_floating_point or y.dtype == torch.bool or z.shape[-1] == 0:
        return None
    k = z.shape[-1]
    target = y.reshape(-1).long()
    logits = z.reshape(-1, k)
    keep = target != ignore_index if ignore_index is not None else None
    w = None
    if weight is not None:
        if library_of(weight) != "torch" or tuple(weight.shape) != (k,):
            return None
        w = weight.to(z.dtype)
    with torch.no_grad():
        safe = target if keep is None else torch.where(keep, target, 0)
        checks = [(safe >= 0) & (safe < k)]
        if w is not None:
            checks.append(torch.isfinite(w).all() & (w >= 0).all())
        if target.numel() and not bool(torch.stack([c.all() for c in checks]).all()):
            return None
        zd = logits.detach()
        wd = None if w is None else w.detach()
        rows = _ce_forward(torch, zd, safe, wd, smoothing)
        if keep is not None:
            rows.masked_fill_(~keep, 0.0)
        total, confident = torch.stack([rows.sum(), (rows < CONFIDENT).sum()]).tolist()
        if not math.isfinite(total):
            return None
        if confident and not smoothing:
            idx = torch.nonzero(rows < CONFIDENT).squeeze(1)
            if keep is not None:
                idx = idx[keep[idx]]
            exact = confident_ce(zd[idx], safe[idx])
            rows[idx] = exact if wd is None else exact * wd[safe[idx]]
    counts = None
    if keep is not None or w is not None:
        counts = torch.ones_like(rows) if keep is None else keep.to(z.dtype)
        if w is not None:
            counts = counts * w[safe]
    rows = _CE.apply(logits, w, rows, safe, keep, smoothing)
    shape = tuple(y.shape)
    return rows.reshape(shape), None if counts is None else counts.reshape(shape)


def _ce_forward(torch: Any, z: Any, y: Any, w: Any | None, eps: float) -> Any:
    """Rows of 2-d logits z against labels y in range, block by block (no ignore mask)."""
    rows = z.new_empty(z.shape[0])
    k = z.shape[-1]
    for s in _blocks(torch, z):
        lp = torch.log_softmax(z[s], -1)
        nll = lp.gather(1, y[s, None]).squeeze(1).neg_()
        if w is not None:
            nll.mul_(w[y[s]])
        if eps:  # (lp @ w): one BLAS pass, no full-size product
            smooth = (lp.sum(-1) if w is None else lp @ w).neg_()
            nll.mul_(1.0 - eps).add_(smooth, alpha=eps / k)
        rows[s] = nll
    return rows


def _ce_function() -> Any:
    torch = sys.modules["torch"]

    class CrossEntropyOptions(torch.autograd.Function):  # type: ignore[misc,name-defined]
        """Labelled cross-entropy rows with the closed-form backward.

        In z: ``g (A softmax(z) - (1 - eps) w_y onehot(y) - eps/K w)`` with
        ``A = (1 - eps) w_y + eps/K sum(w)``; ignored rows get 0 whatever their logits.
        In w: ``(1 - eps) [k = y] (-log q_y) + eps/K (-log q_k)``, summed over rows.
        """

        @staticmethod
        def forward(ctx: Any, z: Any, w: Any, rows: Any, y: Any, keep: Any, eps: float) -> Any:
            ctx.save_for_backward(z, w, y, keep)
            ctx.eps = eps
            return rows

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            z, w, y, keep = ctx.saved_tensors
            eps, k = ctx.eps, z.shape[-1]
            g = g if keep is None else g * keep.to(g.dtype)
            w_y = 1.0 if w is None else w[y]
            grad_z = grad_w = None
            if ctx.needs_input_grad[0]:
                total_w = float(k) if w is None else w.sum()
                scale = ((1.0 - eps) * w_y + (eps / k) * total_w) * g
                grad_z = torch.softmax(z, -1).mul_(scale.unsqueeze(-1))
                if eps:
                    ones = torch.ones(k, dtype=z.dtype, device=z.device)
                    grad_z.addr_(g, ones if w is None else w, alpha=-eps / k)
                at_y = (-(1.0 - eps) * w_y * g).unsqueeze(-1)
                grad_z.scatter_add_(1, y.unsqueeze(-1), at_y)
                if keep is not None:  # a NaN logit in an ignored row: still 0
                    grad_z.index_fill_(0, torch.nonzero(~keep).squeeze(1), 0.0)
            if w is not None and ctx.needs_input_grad[1]:
                lp = torch.log_softmax(z, -1)
                if keep is not None:
                    lp.masked_fill_(~keep.unsqueeze(-1), 0.0)
                nll = -lp.gather(1, y.unsqueeze(-1)).squeeze(1)
                grad_w = torch.zeros_like(w).index_add_(0, y, (1.0 - eps) * g * nll)
                if eps:
                    grad_w.sub_(g @ lp, alpha=eps / k)
            return grad_z, grad_w, None, None, None, None

    return CrossEntropyOptions


_CE = _Lazy(_ce_function)
