"""torch training losses with closed-form backward passes (torch only, so it lives here).

Speed reason: the generic path's KL terms (logs of ratios, a series, ``where`` for
every edge) are differentiated op by op, 10-30x ``F.kl_div`` forward and backward.
Here the forward pass is a handful of fused torch kernels and the backward pass is
the closed form, as torch's own losses do:

* KL from logits: ``d/dz = softmax(z) sum(P) - P``; ``d/dP = log P - log Q`` (0 where
  P = 0); for P given as logits t, ``d/dt = P (log P - log Q - D)``.
* Binary cross-entropy from logits: ``d/dz = sigmoid(z) - y``, ``d/dy = -z``.

The exactness guarantees hold as on the generic path: rows whose KL is below
``EXACT_BELOW`` (where ``sum P (log P - log Q)`` cancels) are recomputed in float64
with the series, results are never negative, and anything non-finite (an invalid
input, or a genuine +inf) returns None so that the generic path raises the precise
error or returns the exact +inf.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from klkit._backends._namespace import library_of
from klkit._backends._torch import CONFIDENT, confident_ce
from klkit._numerics import EXACT_BELOW, NEAR, series_in_u, sum_tolerance

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


def torch_kl_logits(p: Any, z: Any, *, p_logits: bool, validate: bool) -> Any | None:
    """KL rows of P (probabilities, or logits if ``p_logits``) against ``Logits(z)``, or None.

    Same shape and dtype only (other calls take the generic path). With ``validate``
    each row of probabilities must sum to 1 within the usual tolerance; negative,
    NaN or infinite inputs make a row non-finite, and any non-finite row returns
    None.
    """
    torch = sys.modules["torch"]
    if not _tensors(p, z):
        return None
    with torch.no_grad():
        lq = torch.log_softmax(z, -1)
        # terms (Q - P) + P (log P - log Q) = P (r - 1 - log r) >= 0, r = Q/P: klkit's
        # KL, each term rounded near r = 1 by about 2 eps |Q - P| (the bound of
        # torch_kl_rows), never a sum of large terms of both signs
        terms = lq.exp()
        if p_logits:
            lp = torch.log_softmax(p, -1)
            probs = lp.exp()
            terms.sub_(probs).addcmul_(probs, lp - lq)
            total = None
        else:
            probs, lp = p, None
            log_p = torch.special.xlogy(p, p)  # p log p, 0 at p = 0
            terms.sub_(p).add_(log_p.addcmul_(p, lq, value=-1.0))
            total = p.sum(-1)
        rows = terms.sum(-1)
        del terms
        ok = torch.isfinite(rows).all()
        if validate and total is not None:
            tol = sum_tolerance(torch.finfo(p.dtype).eps, p.shape[-1])
            ok &= ((total - 1).abs() <= tol).all()
        if not bool(ok):  # one device sync for every check
            return None
        redo = torch.nonzero((rows < EXACT_BELOW).reshape(-1)).squeeze(1)
        if redo.numel():
            k = z.shape[-1]
            rows.reshape(-1)[redo] = _exact_rows(
                p.reshape(-1, k)[redo], z.reshape(-1, k)[redo], p_logits=p_logits
            ).to(rows.dtype)
        rows.clamp_(min=0.0)
    return _KL.apply(p, z, rows, lq, probs, lp, total)


def _exact_rows(p: Any, z: Any, *, p_logits: bool) -> Any:
    """KL rows in float64 from the log-ratio L = log Q - log P, with the series near 0.

    Each term is ``P (r - 1 - log r)`` with ``r = e^L``: ``expm1(L) - L``, or the
    series in ``u = tanh(L / 2)`` where ``|r - 1| < NEAR`` (no cancellation).
    """
    torch = sys.modules["torch"]
    lq = torch.log_softmax(z.double(), -1)
    if p_logits:
        lp = torch.log_softmax(p.double(), -1)
        probs = lp.exp()
    else:
        probs = p.double()
        lp = torch.log(probs)
    pos = probs > 0
    ell = torch.where(pos, lq - lp, 0.0)
    x = torch.expm1(ell)
    near = x.abs() < NEAR
    term = torch.where(near, series_in_u(x, torch.tanh(ell / 2)), x - ell)
    # P = 0 contributes Q (the "- P + Q" of klkit's KL), 0 to first order of a valid row
    return torch.where(pos, probs * term, lq.exp()).sum(-1)


def _kl_function() -> Any:
    torch = sys.modules["torch"]

    class KLLogits(torch.autograd.Function):  # type: ignore[misc,name-defined]
        """KL rows with the closed-form backward (see the module docstring)."""

        @staticmethod
        def forward(
            ctx: Any, p: Any, z: Any, rows: Any, lq: Any, probs: Any, lp: Any, total: Any
        ) -> Any:
            ctx.save_for_backward(p, lq, probs, lp, total, rows)
            ctx.p_logits = lp is not None
            return rows

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            p, lq, probs, lp, total, rows = ctx.saved_tensors
            g = g.unsqueeze(-1)
            grad_p = grad_z = None
            if ctx.needs_input_grad[1]:  # softmax(z) sum(P) - P, one new array
                grad_z = lq.exp()
                if total is not None:
                    grad_z.mul_(total.unsqueeze(-1))
                grad_z.sub_(probs).mul_(g)
            if ctx.needs_input_grad[0]:
                if ctx.p_logits:
                    grad_p = g * probs * ((lp - lq) - rows.unsqueeze(-1))
                else:
                    pos = p > 0
                    grad_p = g * torch.where(pos, torch.log(torch.where(pos, p, 1.0)) - lq, 0.0)
            return grad_p, grad_z, None, None, None, None, None

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
    """Attach the closed-form backward to BCE-with-logits values ``out`` of (y, z)."""
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
            if ctx.needs_input_grad[1]:  # sigmoid(z) - y, one new array
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
    """Return rows of labelled cross-entropy by ``F.cross_entropy`` and the mean's divisor.

    ``cross_entropy(Labels(y, ...), Logits(z), weight=...)`` per row, and what "mean"
    divides by; or None (the generic path).

    Outcomes on the last axis of ``z``. Labels outside ``0..K-1`` (other than
    ``ignore_index``), a weight that is not (K,) finite and >= 0, or a non-finite row
    return None, so that the generic path raises the precise error or returns the
    exact +inf. Without smoothing, confident rows (below ``CONFIDENT``) are recomputed
    from log1p of the non-maximal mass, as for plain labels.
    """
    torch = sys.modules["torch"]
    F = sys.modules["torch.nn.functional"]
    if library_of(y) != "torch" or library_of(z) != "torch" or str(z.dtype) not in _FLOATS:
        return None
    if z.ndim < 1 or tuple(y.shape) != tuple(z.shape[:-1]) or y.device != z.device:
        return None
    if y.dtype.is_floating_point or y.dtype == torch.bool or z.shape[-1] == 0:
        return None
    k = z.shape[-1]
    target = y.reshape(-1).long()
    logits = z.reshape(-1, k)
    ignore = -100 if ignore_index is None else ignore_index
    keep = target != ignore if ignore_index is not None else None
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
    rows = F.cross_entropy(
        logits, target, weight=w, ignore_index=ignore, label_smoothing=smoothing, reduction="none"
    )
    detached = rows.detach()
    total, confident = torch.stack([detached.sum(), (detached < CONFIDENT).sum()]).tolist()
    if not math.isfinite(total):
        return None
    if confident and not smoothing:
        idx = torch.nonzero(detached < CONFIDENT).squeeze(1)
        if keep is not None:
            idx = idx[keep[idx]]
        exact = confident_ce(logits[idx], target[idx])
        rows = rows.index_put((idx,), exact if w is None else exact * w[target[idx]])
    counts = None
    if keep is not None or w is not None:
        counts = torch.ones_like(detached) if keep is None else keep.to(z.dtype)
        if w is not None:
            counts = counts * w[safe]
    shape = tuple(y.shape)
    return rows.reshape(shape), None if counts is None else counts.reshape(shape)
