"""Elementwise terms and the reductions around them, written once against the array API.

Nothing here knows an array library: every function takes the namespace ``xp`` and
calls only ``xp.*``. Logs only ever see positive inputs (masked with ``where`` on both
sides of the log), so values and gradients stay finite without any eps.
"""

from __future__ import annotations

from klkit._backends import _namespace
from klkit._numerics import LN2, NEAR, series_in_u
from klkit._typing import Array, Namespace

__all__ = [
    "cross_entropy_terms",
    "entropy_terms",
    "kl_terms",
    "log_softmax",
    "logsumexp",
    "neg_xlogy",
    "softmax_parts",
    "take_along_axis",
]


# --- softmax, logsumexp, picking along an axis ------------------------------------------


def softmax_parts(x: Array, /, *, axis: int, xp: Namespace) -> tuple[Array, Array, Array]:
    """``(m, x - m, log1p(R))`` along ``axis`` (keepdims), the pieces of a log-softmax.

    ``m`` is the row maximum and ``R`` the mass of every entry but one maximum,
    relative to it: ``R = sum(exp(x - m) over x < m) + (number of maxima - 1)``, an
    exact count plus terms that are all below 1. Then

    * ``log_softmax(x) = (x - m) - log1p(R)``: for the largest entry that is
      ``-log1p(R)``, exact even when R is far below eps (``log(1 + R)`` would round
      ``1 + R`` to 1 and lose R entirely: a confident logit's cross-entropy, or the
      entropy of a near-certain softmax, would come out 0 or a few % off);
    * ``logsumexp(x) = m + log1p(R)``.

    Rows whose maximum is -inf (all probabilities zero) use 0 for ``m``, so neither
    the value nor the gradient becomes NaN there; a +inf or NaN maximum propagates.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(m == -xp.inf, xp.zeros_like(m), m)
    shifted = x - m
    # below and ties compare x with m, not x - m with 0: a compiler may fuse x = z / T
    # into x - m (one multiply-add, z / T never rounded), and the maximum's x - m is
    # then not exactly 0 (XLA:CPU under jit: 2.9e-14 for a cross-entropy of 6.34)
    below = x < m
    rest = xp.sum(xp.exp(xp.where(below, shifted, -xp.inf)), axis=axis, keepdims=True)
    ties = xp.sum(xp.astype(x == m, x.dtype), axis=axis, keepdims=True)
    return m, shifted, xp.log1p(rest + (ties - 1.0))


def log_softmax(x: Array, /, *, axis: int, xp: Namespace) -> Array:
    """``x - logsumexp(x)`` along ``axis``, accurate for confident rows (see softmax_parts)."""
    _, shifted, log1p_rest = softmax_parts(x, axis=axis, xp=xp)
    return shifted - log1p_rest


def logsumexp(x: Array, /, *, axis: int, keepdims: bool, xp: Namespace) -> Array:
    """``log(sum(exp(x), axis))`` without overflow; -inf for rows of all -inf."""
    m, _, log1p_rest = softmax_parts(x, axis=axis, xp=xp)
    out = m + log1p_rest
    return out if keepdims else xp.squeeze(out, axis=axis)


def take_along_axis(x: Array, indices: Array, /, *, axis: int, xp: Namespace) -> Array:
    """Pick ``x[..., indices, ...]`` along ``axis``; ``indices`` has size 1 there.

    Dask has no ``take_along_axis``: there a masked sum picks the entry, chunk by
    chunk, so memory stays bounded by the chunk size and no one-hot array is stored.
    """
    if hasattr(xp, "take_along_axis"):
        # the batch axes broadcast both ways: labels (3,) against one q (K,) pick 3 rows
        batch = [b if a == 1 else a for a, b in zip(x.shape, indices.shape, strict=True)]
        batch[axis] = 1
        idx = xp.broadcast_to(indices, tuple(batch))
        batch[axis] = x.shape[axis]
        return xp.take_along_axis(xp.broadcast_to(x, tuple(batch)), idx, axis=axis)
    k = x.shape[axis]
    ar_shape = [1] * x.ndim
    ar_shape[axis] = k
    ar = xp.reshape(xp.arange(k, dtype=indices.dtype), tuple(ar_shape))
    hit = ar == indices
    return xp.sum(xp.where(hit, x, xp.zeros_like(x)), axis=axis, keepdims=True)


# --- elementwise terms --------------------------------------------------------------


def entropy_terms(p: Array, lp: Array | None, /, *, xp: Namespace) -> Array:
    """-p log p elementwise, 0 where p = 0. ``lp`` is log p when known exactly."""
    pos = p > 0 if lp is None else lp > -xp.inf
    ps = xp.where(pos, p, 1.0)
    lps = xp.log(ps) if lp is None else xp.where(pos, lp, 0.0)
    return xp.where(pos, -ps * lps, 0.0) + (p - p)


def cross_entropy_terms(
    p: Array, q: Array, lq: Array | None, /, *, xp: Namespace, lp: Array | None = None
) -> Array:
    """-p log q elementwise: 0 where p = 0, +inf where p > 0 and q = 0.

    ``lp``/``lq``: log p and log q when known exactly (log-space inputs); P(x) > 0 is
    then read from ``lp > -inf``, so a probability that underflows to 0 in linear
    space still counts (``Logits([-800, 0])`` puts mass e^-800 on its first outcome).
    """
    pos_p = p > 0 if lp is None else lp > -xp.inf
    pos_q = q > 0 if lq is None else lq > -xp.inf
    both = pos_p & pos_q
    ps = xp.where(both, p, 1.0)
    lqs = xp.log(xp.where(both, q, 1.0)) if lq is None else xp.where(both, lq, 0.0)
    return xp.where(both, -ps * lqs, xp.where(pos_p, xp.inf, xp.zeros_like(ps))) + (p - p) + (q - q)


def kl_terms(
    p: Array,
    q: Array,
    lp: Array | None,
    lq: Array | None,
    /,
    *,
    xp: Namespace,
    diff: Array | None = None,
    log_ratio: Array | None = None,
    weight_logs: tuple[Array, Array] | None = None,
) -> Array:
    """P log(p/q) - p + q elementwise: >= 0, q where p = 0, +inf where q = 0 < p.

    The extra ``- p + q`` makes every term non-negative and sums to zero for
    normalised inputs. Each term is evaluated stably from L = log(q/p):

    * far (|L| > log 2): ``p (-L - 1) + q`` with L = log(q/p), or a difference of
      logs where q/p would under- or overflow (p = 1/2 against q = 1e-320 is fine);
    * close: with r = q/p - 1 computed without cancellation ((q - p)/p, or
      expm1(L) for log-space inputs), the term is ``p (r - log1p(r))``;
    * near (|L| <= 0.1): that difference cancels, so it is summed as a series in
      u = (q - p)/(q + p) = tanh(L/2): ``p (r u - 2 u^3 (1/3 + u^2/5 + ...))``, exact
      to rounding in float32 and float64.

    ``diff``: ``q - p`` where ``q`` is itself rounded (JS passes ``2p`` against
    ``p + q`` with ``diff = q - p``, exact where p and q are within a factor of 2);
    near ``r = 1`` the terms take it instead of ``q - p`` (which would carry the
    rounding of ``q``). Only with linear-space inputs.

    ``log_ratio``: log(q/p) itself where it is known more accurately than
    ``lq - lp`` (two softmaxes of nearly equal logits, see :func:`_logit_log_ratio`).
    ``weight_logs``: (log p, log q) computed from unnormalised weights, for the
    linear-space terms whose ratio q/p under- or overflows.
    """
    pos_p = p > 0 if lp is None else lp > -xp.inf
    pos_q = q > 0 if lq is None else lq > -xp.inf
    both = pos_p & pos_q
    ps = xp.where(both, p, 1.0)
    qs = xp.where(both, q, 1.0)
    if lp is None and lq is None:
        # log(q/p) is exact to rounding where q/p is a finite normal number; the
        # difference of two logs near -690 (p ~ 1e-300) would lose 1e-13 there. Only
        # a ratio that under- or overflows takes the difference of logs.
        info = _namespace.finfo(xp, ps.dtype)
        # q/p <= q for p >= 1; min(p, 1) keeps the bound itself from overflowing.
        ok = (qs >= ps * info.smallest_normal) & (qs <= xp.where(ps < 1.0, ps, 1.0) * info.max)
        ratio = xp.where(ok, qs, 1.0) / xp.where(ok, ps, 1.0)
        if weight_logs is None:
            apart = xp.log(xp.where(ok, 1.0, qs)) - xp.log(xp.where(ok, 1.0, ps))
        else:
            skip = ok | ~both
            apart = xp.where(skip, 0.0, weight_logs[1]) - xp.where(skip, 0.0, weight_logs[0])
        L = xp.where(ok, xp.log(ratio), apart)
    elif log_ratio is not None:
        L = xp.where(both, log_ratio, 0.0)
    else:
        lps = xp.log(ps) if lp is None else xp.where(both, lp, 0.0)
        lqs = xp.log(qs) if lq is None else xp.where(both, lq, 0.0)
        L = lqs - lps
    far = xp.abs(L) > LN2
    t_far = ps * (-L - 1.0) + qs
    # Masked to the close region so that no branch overflows (nor its gradient).
    pc = xp.where(far, 1.0, ps)
    if lp is None and lq is None:
        qc = xp.where(far, 1.0, qs)
        dc = qc - pc if diff is None else xp.where(far | ~both, 0.0, diff)
        r = dc / pc
        u = dc / (qc + pc)
        Lc = xp.log1p(r)
    else:
        Lc = xp.where(far, 0.0, L)
        r = xp.expm1(Lc)
        u = xp.tanh(Lc / 2.0)
    t_near = pc * series_in_u(r, u)
    t_mid = pc * (r - Lc)
    t = xp.where(far, t_far, xp.where(xp.abs(L) <= NEAR, t_near, t_mid))
    # Each term is >= 0 mathematically; clip the last-ulp rounding (NaN passes).
    t = xp.clip(t, min=0.0)
    inf_or_q = xp.where(pos_p, xp.inf, q)
    return xp.where(both, t, inf_or_q) + (p - p) + (q - q)


def neg_xlogy(x: Array, y: Array, log_y: Array, *, xp: Namespace) -> Array:
    """-x log y with 0 where x = 0 and +inf where y = 0 < x; ``log_y`` is log of y."""
    pos_x, pos_y = x > 0, y > 0
    both = pos_x & pos_y
    xs = xp.where(both, x, 1.0)
    return xp.where(both, -xs * log_y, xp.where(pos_x, xp.inf, xp.zeros_like(xs)))
