"""Each measure, row by row, on prepared arguments: the generic path of every backend.

Written once against the array API (``prep.xp``); the public functions in
:mod:`klkit._api` decide when this runs (see its router). Every function returns the
measure in nats with the outcome axis reduced away.
"""

from __future__ import annotations

from klkit._backends._jax import jax_kl_rows
from klkit._backends._namespace import device_of, divide_by_total, is_jax_tracer
from klkit._core._checks import Checks, check_finite_logits, check_unit_interval
from klkit._core._inputs import Dist, Prepared, broadcast_shape, convert, dense
from klkit._core._terms import (
    cross_entropy_terms,
    entropy_terms,
    kl_terms,
    neg_xlogy,
    softmax_parts,
    take_along_axis,
)
from klkit._numerics import LN2
from klkit._typing import Array, Namespace

__all__ = [
    "bce_elements",
    "cross_entropy_rows",
    "entropy_rows",
    "js_rows",
    "kl_rows",
]


def _sum(x: Array, prep: Prepared) -> Array:
    return prep.xp.sum(x, axis=prep.axis)


def _at_label(d: Dist, labels: Array, prep: Prepared) -> tuple[Array, Array | None, Array]:
    """``(log q[y], q[y], rest)`` for labels y, without a one-hot or log-softmax array.

    ``rest`` is the mass of q off the label, summed without cancellation (0 for a
    softmax, whose mass is 1 exactly). ``q[y]`` is None for logits (normalised by
    construction). A confident logit keeps its digits: ``log q[y]`` is
    ``(z[y] - max z) - log1p(R)`` (see :func:`klkit.softmax_parts`).
    """
    xp, ax = prep.xp, prep.axis
    a = d.array
    # Out-of-range labels (only with validate=False) give NaN rows, never an index error
    inside = (labels >= 0) & (labels < a.shape[ax])
    labels = xp.where(inside, labels, xp.zeros_like(labels))
    log_q_y, q_y, rest = _at_label_in_range(d, labels, prep)
    nan = xp.asarray(xp.nan, dtype=log_q_y.dtype)
    return (
        xp.where(inside, log_q_y, nan),
        None if q_y is None else xp.where(inside, q_y, nan),
        rest,
    )


def _at_label_in_range(d: Dist, labels: Array, prep: Prepared) -> tuple[Array, Array | None, Array]:
    """:func:`_at_label` for labels known to lie in ``0..K-1``."""
    xp, ax = prep.xp, prep.axis
    a = d.array
    if d.kind == "logits" or (d.kind == "logprobs" and prep.normalize):
        _, shifted, log1p_rest = softmax_parts(a, axis=ax, xp=xp)
        log_q_y = take_along_axis(shifted, labels, axis=ax, xp=xp) - log1p_rest
        return log_q_y, None, xp.zeros_like(log_q_y)
    shape = [1] * a.ndim
    shape[ax] = a.shape[ax]
    classes = xp.reshape(
        xp.arange(a.shape[ax], dtype=labels.dtype, device=device_of(a)), tuple(shape)
    )
    prob = xp.exp(a) if d.kind == "logprobs" else a
    if prep.normalize:
        prob = divide_by_total(prob, xp.sum(prob, axis=ax, keepdims=True), xp=xp)
    rest = xp.sum(xp.where(classes == labels, xp.zeros_like(prob), prob), axis=ax, keepdims=True)
    if d.kind == "logprobs":
        log_q_y = take_along_axis(a, labels, axis=ax, xp=xp)
        return log_q_y, xp.exp(log_q_y), rest
    q_y = take_along_axis(prob, labels, axis=ax, xp=xp)
    pos = q_y > 0
    return xp.where(pos, xp.log(xp.where(pos, q_y, 1.0)), -xp.inf), q_y, rest


def _labels_only(prep: Prepared, *, equal: float, differ: float) -> Array:
    xp = prep.xp
    y1, y2 = (d.array for d in prep.dists)
    same = y1 == y2
    zero = xp.zeros(same.shape, dtype=prep.dtype, device=device_of(y1))
    return xp.where(same, zero + equal, differ)


def _label_pair(prep: Prepared) -> bool:
    p, q = prep.dists
    return p.kind == "labels" and q.kind != "labels"


def entropy_rows(prep: Prepared) -> Array:
    """H(P) per row in nats (labels: 0, a one-hot has no uncertainty)."""
    xp = prep.xp
    (d,) = prep.dists
    if d.kind == "labels":  # a one-hot distribution has no uncertainty
        out = xp.zeros(d.array.shape, dtype=prep.dtype, device=device_of(d.array))
        out = xp.squeeze(out, axis=prep.axis) if prep.n_outcomes is not None else out
    else:
        prob, log = dense(d, prep, log_of_weights=True)
        out = xp.clip(_sum(entropy_terms(prob, log, xp=xp), prep), min=0.0)
    return out


def cross_entropy_rows(prep: Prepared) -> Array:
    """H(P, Q) per row in nats, >= 0; labels read Q at the label only."""
    xp = prep.xp
    dp, dq = prep.dists
    if dp.kind == dq.kind == "labels":
        out = _labels_only(prep, equal=0.0, differ=xp.inf)
    elif _label_pair(prep):
        log_q_y, _, _ = _at_label(dq, dp.array, prep)
        # 0.0 - x: no -0.0; a q[y] above 1 (within the sum tolerance) gives 0, not < 0
        out = xp.squeeze(xp.clip(0.0 - log_q_y, min=0.0), axis=prep.axis)
    else:
        prob_p, log_p = dense(dp, prep, log_of_weights=True)
        prob_q, log_q = dense(dq, prep, log_of_weights=True)
        terms = cross_entropy_terms(prob_p, prob_q, log_q, xp=xp, lp=log_p)
        out = xp.clip(_sum(terms, prep), min=0.0)
    return out


def kl_rows(prep: Prepared) -> Array:
    """D(P || Q) per row in nats: sums of terms that are each >= 0."""
    xp = prep.xp
    dp, dq = prep.dists
    if dp.kind == dq.kind == "labels":
        out = _labels_only(prep, equal=0.0, differ=xp.inf)
    elif _label_pair(prep):
        log_q_y, q_y, rest = _at_label(dq, dp.array, prep)
        if q_y is None:  # a softmax sums to 1 exactly: D = -log q[y]
            out = xp.clip(0.0 - log_q_y, min=0.0)
        else:  # as the terms of the probability path, each >= 0: the label's, and Q's rest
            one = xp.ones_like(q_y)
            out = kl_terms(one, q_y, xp.zeros_like(q_y), log_q_y, xp=xp) + rest
        out = xp.squeeze(out, axis=prep.axis)
    else:
        prob_p, log_p = dense(dp, prep)
        prob_q, log_q = dense(dq, prep)
        if log_p is not None and log_q is not None:
            ratio = _logit_log_ratio(dp, dq, prob_p, log_p, log_q, prep)
            out = _sum(kl_terms(prob_p, prob_q, log_p, log_q, xp=xp, log_ratio=ratio), prep)
        elif log_p is None and log_q is None and is_jax_tracer(prob_p, prob_q):
            out = jax_kl_rows(
                prob_p,
                prob_q,
                axis=prep.axis,
                exact=lambda: _sum(kl_terms(prob_p, prob_q, None, None, xp=xp), prep),
            )
        elif prep.normalize and dp.kind == dq.kind == "probs":
            # weights normalised here: log p and log q from the weights themselves where
            # a ratio of the normalised numbers under- or overflows (a share that is
            # subnormal has lost digits in w / sum w)
            logs = (
                dense(dp, prep, log_of_weights=True)[1],
                dense(dq, prep, log_of_weights=True)[1],
            )
            out = _sum(kl_terms(prob_p, prob_q, None, None, xp=xp, weight_logs=logs), prep)
        else:
            out = _sum(kl_terms(prob_p, prob_q, log_p, log_q, xp=xp), prep)
    return out


def _logit_log_ratio(
    dp: Dist, dq: Dist, prob_p: Array, log_p: Array, log_q: Array, prep: Prepared
) -> Array:
    """log(q/p) for two log-space arguments, accurate when they are nearly equal.

    ``log_q - log_p`` carries the rounding of each log-softmax (eps times the size of
    the logits), which swamps a KL of order (difference)^2. For two softmaxes
    (logits, or log-probabilities with ``normalize``), with d = z_q - z_p taken
    relative to its value at P's largest logit, e_k = d_k - d_0,
    log(q/p) = e - log sum_j p_j exp(e_j), and the sum is
    ``log1p(sum_j p_j expm1(e_j))``: nothing overflows where every e <= 1, and
    nothing cancels, since the outcome that carries most of P's mass has e = 0
    (against d itself, a near-one-hot P would lose the KL in the rounding of
    p_0 expm1(d_0)). d is carried as an unevaluated sum hi + lo (Knuth's TwoSum), so
    e keeps the logits' last digits even where z_q - z_p rounds. Other rows use the
    difference of the two log-softmaxes, as do normalised log-probabilities.
    """
    xp, ax = prep.xp, prep.axis
    softmax = {"logits"} if not prep.normalize else {"logits", "logprobs"}
    if not (dp.kind in softmax and dq.kind in softmax):
        return log_q - log_p
    zp, zq = xp.broadcast_arrays(dp.array, dq.array)
    hi = zq - zp  # TwoSum: hi + lo = zq - zp exactly (NaN for infinite logits)
    back = hi - zq
    lo = (zq - (hi - back)) - (zp + back)
    top = xp.argmax(zp, axis=ax, keepdims=True)
    hi0 = take_along_axis(hi, top, axis=ax, xp=xp)
    lo0 = take_along_axis(lo, top, axis=ax, xp=xp)
    e = (hi - hi0) + (lo - lo0)
    # expm1(e) cannot overflow where every e <= 1; outcomes far below P's top (e << 0)
    # may stay: their expm1 is just above -1 (a near-one-hot P with a tiny KL keeps its
    # digits only on this path).
    close = xp.all(e <= 1.0, axis=ax, keepdims=True)
    es = xp.where(close, e, 0.0)
    total = xp.sum(prob_p * xp.expm1(es), axis=ax, keepdims=True)
    # 1 + total = sum_j p_j exp(e_j) >= p_0; log1p is accurate to eps / (1 + total), so
    # the rows where 1 + total < 1/2 take the difference of the log-softmaxes instead.
    close = close & (total >= -0.5)
    shift = xp.log1p(xp.where(close, total, 0.0))
    return xp.where(close, es - shift, log_q - log_p)


def js_rows(prep: Prepared) -> Array:
    """JS(P, Q) per row in nats, within [0, log 2]."""
    xp = prep.xp
    dp, dq = prep.dists
    if dp.kind == dq.kind == "labels":
        return _labels_only(prep, equal=0.0, differ=LN2)
    prob_p, _ = dense(dp, prep)
    prob_q, _ = dense(dq, prep)
    # KL(P || M) terms with M = S/2 are half the terms of KL(2P || S): doubling is exact,
    # while (P + Q)/2 rounds a subnormal S to 0 (an infinite term for P > 0). S - 2P
    # would carry S's rounding, as large as S - 2P itself when P and Q are a few ulp
    # apart: the terms take Q - P instead (exact within a factor of 2 of each other).
    s = prob_p + prob_q
    d = prob_q - prob_p
    terms = kl_terms(2.0 * prob_p, s, None, None, xp=xp, diff=d) + kl_terms(
        2.0 * prob_q, s, None, None, xp=xp, diff=-d
    )
    return xp.clip(_sum(terms, prep) / 4.0, min=0.0, max=LN2)


def bce_elements(
    y: object, y_hat: object, *, logits: bool, validate: bool, pos_weight: object = None
) -> tuple[Array, Checks, Namespace]:
    """Binary cross-entropy elementwise, in nats, with the checks to attach.

    With ``logits``, ``y softplus(-z) + (1 - y) softplus(z)``, exact for logits of
    +-1e4; otherwise ``-y log y_hat - (1 - y) log(1 - y_hat)`` with 0 log 0 = 0 and
    +inf where the prediction is certainly wrong. ``pos_weight`` multiplies the
    first term (torch's ``pos_weight``).
    """
    xp, _, (t, h), _ = convert([("y", y), ("y_hat", y_hat)])
    broadcast_shape([tuple(t.shape), tuple(h.shape)], ["y", "y_hat"])
    checks = Checks(t, h, xp=xp, enabled=validate)
    check_unit_interval(
        t, "y", fix="targets must be 0/1 labels or soft targets in [0, 1].", checks=checks
    )
    tp = t if pos_weight is None else t * pos_weight
    if logits:
        check_finite_logits(h, "y_hat", checks=checks)
        zero = xp.zeros_like(h)
        # y softplus(-z) + (1 - y) softplus(z), softplus(x) = logaddexp(0, x)
        return tp * xp.logaddexp(zero, -h) + (1.0 - t) * xp.logaddexp(zero, h), checks, xp
    check_unit_interval(
        h,
        "y_hat",
        fix="predictions must be probabilities. If these are scores (log-odds), pass {logits}.",
        checks=checks,
    )
    one_minus = 1.0 - h
    log_h = xp.log(xp.where(h > 0, h, 1.0))
    log_1mh = xp.log1p(-xp.where(h < 1, h, 0.0))
    out = neg_xlogy(tp, h, log_h, xp=xp) + neg_xlogy(1.0 - t, one_minus, log_1mh, xp=xp)
    return out + (t - t) + (h - h), checks, xp


def weighted_cross_entropy_rows(
    prep: Prepared, weight: Array, *, smoothing: float
) -> tuple[Array, Array | None]:
    """Rows of ``-sum_k w_k p_k log q_k`` (torch's ``weight``), and each label's weight.

    With labels as ``p`` the target is ``(1 - smoothing) onehot(y) + smoothing / K``
    and the second result is ``w[y]`` per row (what torch's "mean" divides by);
    with probabilities it is None. ``0 log 0 = 0``; a positive weighted target where
    ``q = 0`` gives +inf, with finite gradients elsewhere.
    """
    xp, ax = prep.xp, prep.axis
    pd, qd = prep.dists
    shape = [1] * pd.array.ndim
    shape[ax] = int(prep.n_outcomes or 0)
    w = xp.reshape(weight, tuple(shape))
    p, _ = dense(pd, prep)
    label_weight = None
    if pd.kind == "labels":
        label_weight = xp.sum(w * p, axis=ax)
        if smoothing:
            p = (1.0 - smoothing) * p + smoothing / shape[ax]
    q, log_q = dense(qd, prep)
    if log_q is None:
        log_q = xp.log(xp.where(q > 0, q, 1.0))
        zero = q <= 0
    else:
        zero = log_q == -xp.inf
        log_q = xp.where(zero, 0.0, log_q)
    wp = w * p
    pos = wp > 0
    terms = xp.where(pos, -wp * log_q, 0.0)
    infinite = xp.any(pos & zero, axis=ax)
    rows = xp.sum(terms, axis=ax) + xp.where(infinite, xp.inf, 0.0)
    if pd.kind == "labels":  # validate=False: a label outside 0..K-1 is a NaN row
        rows = xp.where(labels_in_range(pd, prep), rows, xp.nan)
    return rows, label_weight


def labels_in_range(d: Dist, prep: Prepared) -> Array:
    """Rows whose label is a class index in 0..K-1 (a bool array shaped like the rows)."""
    a = prep.xp.squeeze(d.array, axis=prep.axis)
    return (a >= 0) & (a < int(prep.n_outcomes or 0))
