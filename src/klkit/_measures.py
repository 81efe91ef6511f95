"""Entropy, cross-entropy, KL and Jensen-Shannon divergence, and binary cross-entropy.

Written once against the array API standard: this module calls nothing but ``xp.*``
and the helpers of ``_compat`` / ``_inputs``. Logs only ever see positive inputs
(masked with ``where`` on both sides of the log), so values and gradients stay
finite without any eps.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from klkit import _compat, _families, _fast, _native
from klkit._compat import LN2
from klkit._inputs import (
    Dist,
    Labels,
    Logits,
    LogProbs,
    Prepared,
    align_outcomes,
    broadcast_shape,
    convert,
    dense,
    is_named,
    prepare,
)
from klkit._typing import Array, Namespace
from klkit._validation import (
    Checks,
    as_axis,
    check_base,
    check_finite_logits,
    check_unit_interval,
)

__all__ = [
    "binary_cross_entropy",
    "cross_entropy",
    "cross_entropy_terms",
    "entropy",
    "entropy_terms",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "kl_terms",
]

#: |log(q/p)| below which the KL term uses its series (|u| <= 0.05, see kl_terms).
_NEAR = 0.1


# --- elementwise terms ------------------------------------------------------------


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
        info = xp.finfo(ps.dtype)
        # q/p <= q for p >= 1; min(p, 1) keeps the bound itself from overflowing.
        ok = (qs >= ps * info.smallest_normal) & (qs <= xp.minimum(ps, 1.0) * info.max)
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
    u2 = u * u
    series = 1 / 3 + u2 * (1 / 5 + u2 * (1 / 7 + u2 * (1 / 9 + u2 * (1 / 11 + u2 / 13))))
    t_near = pc * (r * u - 2.0 * u * u2 * series)
    t_mid = pc * (r - Lc)
    t = xp.where(far, t_far, xp.where(xp.abs(L) <= _NEAR, t_near, t_mid))
    # Each term is >= 0 mathematically; clip the last-ulp rounding (NaN passes).
    t = xp.clip(t, min=0.0)
    inf_or_q = xp.where(pos_p, xp.inf, q)
    return xp.where(both, t, inf_or_q) + (p - p) + (q - q)


# --- shared plumbing ------------------------------------------------------------------


def _finish(result: Array, prep: Prepared, *, keepdims: bool, log_base: float | None) -> Array:
    xp = prep.xp
    result = prep.checks.attach(result)  # before keepdims: flags are shaped like rows
    if log_base is not None:
        result = result / log_base
    if keepdims:
        if prep.keep_shape is not None:
            result = xp.reshape(result, prep.keep_shape)
        else:
            result = xp.expand_dims(result, axis=prep.axis)
    return _compat.numpy_scalar(result, xp)


def _blockwise(
    measure: Any, args: tuple[Any, ...], *, axis: int | None, keepdims: bool, **options: Any
) -> Any | None:
    """On Dask input, run ``measure`` once per block (see ``_compat.dask_blockwise``)."""
    parts = [
        (type(a), a.array, isinstance(a, Labels))
        if isinstance(a, Logits | LogProbs | Labels)
        else (None, a, False)
        for a in args
    ]
    out = _compat.dask_blockwise(measure, parts, axis=axis, **options)
    if out is not None and keepdims and axis is not None:
        out = _compat.namespace(out, names=["result"]).expand_dims(out, axis=axis % (out.ndim + 1))
    return out


def _sum(x: Array, prep: Prepared) -> Array:
    return prep.xp.sum(x, axis=prep.axis)


def _at_label(d: Dist, labels: Array, prep: Prepared) -> tuple[Array, Array | None, Array]:
    """``(log q[y], q[y], rest)`` for labels y, without a one-hot or log-softmax array.

    ``rest`` is the mass of q off the label, summed without cancellation (0 for a
    softmax, whose mass is 1 exactly). ``q[y]`` is None for logits (normalised by
    construction). A confident logit keeps its digits: ``log q[y]`` is
    ``(z[y] - max z) - log1p(R)`` (see :func:`klkit._compat.softmax_parts`).
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
        _, shifted, log1p_rest = _compat.softmax_parts(a, axis=ax, xp=xp)
        log_q_y = _compat.take_along_axis(shifted, labels, axis=ax, xp=xp) - log1p_rest
        return log_q_y, None, xp.zeros_like(log_q_y)
    shape = [1] * a.ndim
    shape[ax] = a.shape[ax]
    classes = xp.reshape(
        xp.arange(a.shape[ax], dtype=labels.dtype, device=_compat.device_of(a)), tuple(shape)
    )
    prob = xp.exp(a) if d.kind == "logprobs" else a
    if prep.normalize:
        prob = _compat.divide_by_total(prob, xp.sum(prob, axis=ax, keepdims=True), xp=xp)
    rest = xp.sum(xp.where(classes == labels, xp.zeros_like(prob), prob), axis=ax, keepdims=True)
    if d.kind == "logprobs":
        log_q_y = _compat.take_along_axis(a, labels, axis=ax, xp=xp)
        return log_q_y, xp.exp(log_q_y), rest
    q_y = _compat.take_along_axis(prob, labels, axis=ax, xp=xp)
    pos = q_y > 0
    return xp.where(pos, xp.log(xp.where(pos, q_y, 1.0)), -xp.inf), q_y, rest


def _labels_only(prep: Prepared, *, equal: float, differ: float) -> Array:
    xp = prep.xp
    y1, y2 = (d.array for d in prep.dists)
    same = y1 == y2
    zero = xp.zeros(same.shape, dtype=prep.dtype, device=_compat.device_of(y1))
    return xp.where(same, zero + equal, differ)


def _label_pair(prep: Prepared) -> bool:
    p, q = prep.dists
    return p.kind == "labels" and q.kind != "labels"


def _run(
    measure: Any,
    nats: Any,
    args: dict[str, Any],
    *,
    base: float | None,
    axis: int | None,
    keepdims: bool,
    normalize: bool,
    validate: bool,
    root: bool = False,
) -> Any:
    """Check options, prepare the arguments, compute ``nats(prep)`` and shape it.

    Dask input with the outcome axis in one chunk runs ``measure`` block by block.
    NumPy arrays and short lists take the fast path of :mod:`klkit._fast` when it
    applies. ``root``: return the square root of the result in the unit of ``base``.
    """
    if any(_families.is_distribution(v) for v in args.values()):
        return _families.family_measure(measure.__name__, list(args.values()), base=base)
    log_base = check_base(base)
    axis = as_axis(axis)
    if any(is_named(v) for v in args.values()):
        aligned, _ = align_outcomes(list(args.items()), axis=axis)
        args = dict(aligned)
    fast = _try_fast(measure, args, axis=axis, normalize=normalize, validate=validate)
    if fast is not None:
        return _finish_fast(fast, keepdims=keepdims, log_base=log_base, root=root)
    options = {"base": base, "normalize": normalize, "validate": validate}
    blocks = _blockwise(measure, tuple(args.values()), axis=axis, keepdims=keepdims, **options)
    if blocks is not None:
        return blocks
    prep = prepare(list(args.items()), axis=axis, normalize=normalize, validate=validate)
    out = nats(prep)
    if root:  # sqrt(JS / log b), as scipy's jensenshannon; gradient 0 where JS = 0
        xp = prep.xp
        if log_base is not None:
            out = out / log_base
        pos = out > 0
        out = xp.where(pos, xp.sqrt(xp.where(pos, out, 1.0)), 0.0) + (out - out)
        log_base = None
    return _finish(out, prep, keepdims=keepdims, log_base=log_base)


_FAST_NAMES = {
    "entropy": "entropy",
    "cross_entropy": "cross_entropy",
    "kl_divergence": "kl",
    "js_divergence": "js",
    "js_distance": "js",
}


def _try_fast(
    measure: Any, args: dict[str, Any], *, axis: int | None, normalize: bool, validate: bool
) -> Any | None:
    """Per-row nats from :mod:`klkit._fast`, or None when it does not apply."""
    name = _FAST_NAMES.get(measure.__name__)
    values = list(args.values())
    if name is None or normalize or not isinstance(axis, int) or isinstance(axis, bool):
        return None
    if all(type(v) in (list, tuple) for v in values) and axis in (-1, 0):
        small = _fast.small_lists(name, values)  # checked as the generic path checks
        return None if small is None else _compat.numpy_namespace().asarray(small)
    first = values[0]
    if "torch" in sys.modules:  # only torch tensors can reach the torch kernels
        last = values[-1].array if isinstance(values[-1], Logits) else values[-1]
        if getattr(last, "ndim", None) is not None and axis in (-1, last.ndim - 1):
            if name == "kl":
                out = _native.torch_kl_rows(*values, validate=validate)
            elif (
                name == "cross_entropy"
                and isinstance(first, Labels)
                and isinstance(values[1], Logits)
            ):
                out = _native.torch_ce_labels_logits(
                    first.array, values[1].array, validate=validate
                )
            else:
                out = None
            if out is not None:
                return out
    if getattr(first, "ndim", None) and axis in (-1, first.ndim - 1):
        return _fast.numpy_rows(name, values, validate=validate)
    return None


def _finish_fast(out: Any, *, keepdims: bool, log_base: float | None, root: bool) -> Any:
    """Scale, root and shape a result of the fast paths as :func:`_finish` does."""
    xp = _compat.namespace(out, names=["result"])
    if log_base is not None:
        out = out / log_base
    if root:
        out = xp.sqrt(out)
    if keepdims:
        out = xp.expand_dims(out, axis=-1)
    return _compat.numpy_scalar(out, xp)


def _entropy_nats(prep: Prepared) -> Array:
    xp = prep.xp
    (d,) = prep.dists
    if d.kind == "labels":  # a one-hot distribution has no uncertainty
        out = xp.zeros(d.array.shape, dtype=prep.dtype, device=_compat.device_of(d.array))
        out = xp.squeeze(out, axis=prep.axis) if prep.n_outcomes is not None else out
    else:
        prob, log = dense(d, prep, log_of_weights=True)
        out = xp.clip(_sum(entropy_terms(prob, log, xp=xp), prep), min=0.0)
    return out


def _cross_entropy_nats(prep: Prepared) -> Array:
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


def _kl_nats(prep: Prepared) -> Array:
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
        elif log_p is None and log_q is None and _compat.is_jax_tracer(prob_p, prob_q):
            out = _native.jax_kl_rows(
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
    ``log1p(sum_j p_j expm1(e_j))``: nothing overflows where every |e| <= 1, and
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
    hi0 = _compat.take_along_axis(hi, top, axis=ax, xp=xp)
    lo0 = _compat.take_along_axis(lo, top, axis=ax, xp=xp)
    e = (hi - hi0) + (lo - lo0)
    close = xp.all(xp.abs(e) <= 1.0, axis=ax, keepdims=True)
    es = xp.where(close, e, 0.0)
    shift = xp.log1p(xp.sum(prob_p * xp.expm1(es), axis=ax, keepdims=True))
    return xp.where(close, es - shift, log_q - log_p)


# --- public measures ------------------------------------------------------------------

#: NumPy's floating-point warnings are off inside klkit: every overflow, 0/0 or log 0
#: in an intermediate step is either masked (the result says +inf, 0 or NaN by the
#: documented conventions) or turned into a DistributionError by the checks, so the
#: warnings would only be noise on the caller's stderr.
_quiet = np.errstate(all="ignore")


@_quiet
def entropy(
    p: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    validate: bool = True,
) -> Any:
    r"""Shannon entropy :math:`H(P) = -\sum_x P(x) \log_b P(x)`.

    The information of :math:`P` itself: the average surprise of outcomes drawn
    from it. In nats (``base=None``), bits (``base=2``) or any base ``b``.

    Parameters
    ----------
    p : array_like, Logits, LogProbs or Labels, shape ``(..., K)``
        Probabilities along ``axis`` (or counts/weights with ``normalize=True``).
    base : float or str, optional
        Logarithm base; None means e (nats). A real number > 1 (2 for bits, 10 for
        bans), or a unit name: ``"bits"``, ``"nats"``, ``"bans"``, ``"e"``.
    axis : int or None, default -1
        The axis of outcomes; None treats the whole array as one distribution.
    keepdims : bool, default False
        Keep the reduced axis with length 1.
    normalize : bool, default False
        Rescale non-negative weights or counts along ``axis`` to sum to 1 first.
    validate : bool, default True
        Check the input (see Raises). Skipped inside ``jax.jit``; on Dask arrays the
        checks run lazily and raise at ``compute()``.

    Returns
    -------
    array, shape ``(...)``
        In the input's array library, on its device, in its floating dtype (integer
        counts give the library's default float). A NumPy 0-d result is a NumPy
        scalar.

    Raises
    ------
    DistributionError
        Negative, NaN or infinite entries; rows not summing to 1 within
        ``max(sqrt(eps), K*eps)``; no outcomes; non-numeric or complex input.
    ValueError
        A ``base`` that is not a number > 1 or a unit name (a base in (0, 1) would
        make every measure negative).

    Notes
    -----
    Conventions: :math:`0 \log 0 = 0`. The result is >= 0 and at most
    :math:`\log_b K`. The gradient with respect to ``p`` at ``p = 0`` (where the
    exact derivative is infinite) is taken as 0, on every backend.

    See Also
    --------
    cross_entropy, kl_divergence

    Examples
    --------
    A fair die carries :math:`\log_2 6` bits:

    >>> import numpy as np, klkit as kl
    >>> h = kl.entropy(np.full(6, 1 / 6), base=2)
    >>> bool(np.isclose(h, np.log2(6)))
    True
    >>> float(kl.entropy([3, 1], normalize=True, base=2))
    0.8112781244591328
    """
    return _run(
        entropy,
        _entropy_nats,
        {"p": p},
        base=base,
        axis=axis,
        keepdims=keepdims,
        normalize=normalize,
        validate=validate,
    )


@_quiet
def cross_entropy(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    validate: bool = True,
) -> Any:
    r"""Cross-entropy :math:`H(P, Q) = -\sum_x P(x) \log_b Q(x)`.

    The information paid, on average, for outcomes that follow :math:`P` (the
    target, ``y_true``) when coding them as if they followed :math:`Q` (the
    prediction, ``y_pred``). :math:`H(P, Q) = H(P) + D(P \| Q) \ge H(P)`.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs or Labels, shape ``(..., K)``
        Target and prediction; they broadcast against each other except along
        ``axis``, where the number of outcomes must match. ``Labels(y)`` (shape
        ``(...)``) with ``Logits(z)`` is the classifier loss, computed as
        ``logsumexp(z) - z[y]`` without a one-hot array.
    base, axis, keepdims, normalize, validate
        As in :func:`entropy`.

    Returns
    -------
    array, shape ``(...)``
        As in :func:`entropy`; +inf where ``P(x) > 0 = Q(x)``.

    Raises
    ------
    DistributionError
        As in :func:`entropy`, for either argument; mismatched numbers of outcomes;
        labels outside ``0..K-1``.
    TypeError
        ``p`` and ``q`` from two different array libraries.

    Notes
    -----
    Conventions: :math:`0 \log 0 = 0` (also :math:`0 \log Q` for any Q), and
    :math:`P(x) > 0 = Q(x)` gives exactly +inf. Gradients are finite wherever the
    value is finite; the gradient with respect to ``q`` where ``p = 0`` is 0.

    See Also
    --------
    entropy, kl_divergence, binary_cross_entropy

    Examples
    --------
    Coding a fair die with a loaded die's code costs more than the fair die's
    own entropy :math:`\log_2 6 \approx 2.585` bits:

    >>> import numpy as np, klkit as kl
    >>> fair = np.full(6, 1 / 6)
    >>> loaded = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
    >>> h = kl.cross_entropy(fair, loaded, base=2)
    >>> round(float(h), 4)
    2.9349
    >>> bool(np.isclose(h, -(fair * np.log2(loaded)).sum()))
    True
    """
    return _run(
        cross_entropy,
        _cross_entropy_nats,
        {"p": p, "q": q},
        base=base,
        axis=axis,
        keepdims=keepdims,
        normalize=normalize,
        validate=validate,
    )


@_quiet
def kl_divergence(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    validate: bool = True,
) -> Any:
    r"""Kullback-Leibler divergence :math:`D(P \| Q) = \sum_x P(x) \log_b(P(x)/Q(x))`.

    How far the prediction :math:`Q` is from the target :math:`P`: the extra
    information paid for coding :math:`P`'s outcomes with :math:`Q`'s code,
    :math:`D(P \| Q) = H(P, Q) - H(P)`. It is >= 0, and 0 only when
    :math:`P = Q`; it is not symmetric.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs or Labels, shape ``(..., K)``
        As in :func:`cross_entropy`.
    base, axis, keepdims, normalize, validate
        As in :func:`entropy`.

    Returns
    -------
    array, shape ``(...)``
        As in :func:`entropy`; never negative, +inf where ``P(x) > 0 = Q(x)``.

    Raises
    ------
    DistributionError, TypeError
        As in :func:`cross_entropy`.

    Notes
    -----
    klkit returns :math:`\sum_x [P \log(P/Q) - P + Q]`. For normalised inputs the
    added terms sum to 0, so this is the KL; unlike :math:`\sum P \log(P/Q)` of
    float inputs that sum to 1 only to rounding, every term is >= 0, so the result
    is never negative, even in float32 for nearly equal P and Q. To first order it
    equals the KL of the renormalised pair. Each term is evaluated stably (a series
    near :math:`P = Q`, differences of logs far from it, so :math:`P/Q` never
    overflows). Conventions: :math:`0 \log(0/Q) = 0`; :math:`P > 0 = Q` gives
    exactly +inf. Gradient with respect to ``p`` at ``p = 0``: 0 (the exact
    derivative is -inf), on every backend.

    See Also
    --------
    cross_entropy, js_divergence, explain

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> fair = np.full(6, 1 / 6)
    >>> loaded = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
    >>> d = kl.kl_divergence(fair, loaded, base=2)
    >>> bool(np.isclose(d, (fair * np.log2(fair / loaded)).sum()))
    True
    >>> round(float(kl.kl_divergence([0.5, 0.5], [1e-320, 1.0])), 12)
    367.720473264927
    """
    return _run(
        kl_divergence,
        _kl_nats,
        {"p": p, "q": q},
        base=base,
        axis=axis,
        keepdims=keepdims,
        normalize=normalize,
        validate=validate,
    )


def _js_nats(prep: Prepared) -> Array:
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


@_quiet
def js_divergence(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    validate: bool = True,
) -> Any:
    r"""Jensen-Shannon divergence :math:`\tfrac12 D(P \| M) + \tfrac12 D(Q \| M)`.

    With :math:`M = (P + Q)/2`. Symmetric, always finite, between 0 and
    :math:`\log_b 2` (1 bit); 0 only when :math:`P = Q`.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs or Labels, shape ``(..., K)``
        As in :func:`kl_divergence` (labels are expanded to one-hot arrays here).
    base, axis, keepdims, normalize, validate
        As in :func:`entropy`.

    Returns
    -------
    array, shape ``(...)``
        As in :func:`entropy`, within :math:`[0, \log_b 2]`.

    Raises
    ------
    DistributionError, TypeError
        As in :func:`cross_entropy`.

    See Also
    --------
    js_distance, kl_divergence

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> float(kl.js_divergence([1.0, 0.0], [0.0, 1.0], base=2))
    1.0
    >>> p, q = np.array([0.2, 0.8]), np.array([0.6, 0.4])
    >>> m = (p + q) / 2
    >>> ref = 0.5 * (p * np.log(p / m)).sum() + 0.5 * (q * np.log(q / m)).sum()
    >>> bool(np.isclose(kl.js_divergence(p, q), ref))
    True
    """
    return _run(
        js_divergence,
        _js_nats,
        {"p": p, "q": q},
        base=base,
        axis=axis,
        keepdims=keepdims,
        normalize=normalize,
        validate=validate,
    )


@_quiet
def js_distance(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    validate: bool = True,
) -> Any:
    r"""Jensen-Shannon distance: the square root of :func:`js_divergence`.

    A metric on distributions (symmetric, triangle inequality), equal to
    ``scipy.spatial.distance.jensenshannon`` with the same ``base``. Between 0 and
    :math:`\sqrt{\log_b 2}`.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs or Labels, shape ``(..., K)``
        As in :func:`js_divergence`.
    base, axis, keepdims, normalize, validate
        As in :func:`entropy`.

    Returns
    -------
    array, shape ``(...)``
        As in :func:`entropy`.

    Raises
    ------
    DistributionError, TypeError
        As in :func:`cross_entropy`.

    Notes
    -----
    The square root has an infinite derivative at 0 (when :math:`P = Q`); the
    gradient there is taken as 0 on every backend.

    See Also
    --------
    js_divergence

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> p, q = np.array([0.2, 0.8]), np.array([0.6, 0.4])
    >>> bool(np.isclose(kl.js_distance(p, q), np.sqrt(kl.js_divergence(p, q))))
    True
    """
    return _run(
        js_distance,
        _js_nats,
        {"p": p, "q": q},
        base=base,
        axis=axis,
        keepdims=keepdims,
        normalize=normalize,
        validate=validate,
        root=True,
    )


# --- binary cross-entropy ---------------------------------------------------------------


def _neg_xlogy(x: Array, y: Array, log_y: Array, *, xp: Namespace) -> Array:
    """-x log y with 0 where x = 0 and +inf where y = 0 < x; ``log_y`` is log of y."""
    pos_x, pos_y = x > 0, y > 0
    both = pos_x & pos_y
    xs = xp.where(both, x, 1.0)
    return xp.where(both, -xs * log_y, xp.where(pos_x, xp.inf, xp.zeros_like(xs)))


@_quiet
def binary_cross_entropy(
    y: Any, y_hat: Any, *, base: float | None = None, validate: bool = True
) -> Any:
    r"""Binary cross-entropy :math:`-y \log \hat y - (1 - y) \log(1 - \hat y)`, elementwise.

    0 when the prediction :math:`\hat y` matches a 0/1 target, +inf when it is
    certainly wrong (:math:`\hat y = 0` for :math:`y = 1`). Soft targets in
    :math:`[0, 1]` are allowed. Take ``.mean()`` for the usual loss.

    Parameters
    ----------
    y : array_like
        Targets in :math:`[0, 1]`.
    y_hat : array_like or Logits
        Predicted probabilities of the outcome 1, or ``Logits(z)`` with
        :math:`\hat y = \sigma(z)`; logits use
        :math:`y\,\mathrm{softplus}(-z) + (1-y)\,\mathrm{softplus}(z)`, exact for
        logits of +-1e4.
    base : float or str, optional
        Logarithm base; None means e (nats); as in :func:`entropy`.
    validate : bool, default True
        Check the inputs, as in :func:`entropy`.

    Returns
    -------
    array
        The broadcast shape of ``y`` and ``y_hat``; dtype and library as in
        :func:`entropy`.

    Raises
    ------
    DistributionError
        Entries outside [0, 1], NaN or inf (non-finite logits); shapes that do not
        broadcast.
    TypeError
        ``Labels`` or ``LogProbs`` passed here, or two array libraries.

    Notes
    -----
    Unlike ``torch.nn.functional.binary_cross_entropy``, which clamps the log at
    -100, a certainly wrong prediction gives exactly +inf.

    See Also
    --------
    cross_entropy

    Examples
    --------
    >>> import numpy as np, klkit as kl
    >>> kl.binary_cross_entropy(np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    array([ 0.,  0., inf])
    >>> bce = kl.binary_cross_entropy(1.0, 0.8)
    >>> bool(np.isclose(bce, -np.log(0.8)))
    True
    """
    log_base = check_base(base)
    if isinstance(y, Labels | Logits | LogProbs):
        msg = (
            f"`y` was given as `klkit.{type(y).__name__}(...)`; binary_cross_entropy "
            "takes plain targets in [0, 1] (0/1 labels or soft targets). Pass the "
            "array itself."
        )
        raise TypeError(msg)
    if isinstance(y_hat, Labels | LogProbs):
        msg = (
            f"`y_hat` was given as `klkit.{type(y_hat).__name__}(...)`; "
            "binary_cross_entropy takes probabilities in [0, 1] or `klkit.Logits(z)` "
            "(log-odds). For class indices use plain 0/1 targets as `y`."
        )
        raise TypeError(msg)
    blocks = _blockwise(
        binary_cross_entropy,
        (y, y_hat),
        axis=None,
        keepdims=False,
        elementwise=True,
        base=base,
        validate=validate,
    )
    if blocks is not None:
        return blocks
    logits = isinstance(y_hat, Logits)
    raw_hat = y_hat.array if logits else y_hat
    if logits and "torch" in sys.modules:
        fast = _native.torch_bce_logits(y, raw_hat, validate=validate)
        if fast is not None:
            return fast if log_base is None else fast / log_base
    xp, _, (t, h), _ = convert([("y", y), ("y_hat", raw_hat)])
    broadcast_shape([tuple(t.shape), tuple(h.shape)], ["y", "y_hat"])
    checks = Checks(t, h, xp=xp, enabled=validate)
    check_unit_interval(
        t, "y", fix="targets must be 0/1 labels or soft targets in [0, 1].", checks=checks
    )
    if logits:
        check_finite_logits(h, "y_hat", checks=checks)
        zero = xp.zeros_like(h)
        # y softplus(-z) + (1 - y) softplus(z), softplus(x) = logaddexp(0, x)
        out = t * xp.logaddexp(zero, -h) + (1.0 - t) * xp.logaddexp(zero, h)
    else:
        check_unit_interval(
            h,
            "y_hat",
            fix="predictions must be probabilities. If these are scores (log-odds), "
            "pass `klkit.Logits(y_hat)`.",
            checks=checks,
        )
        one_minus = 1.0 - h
        log_h = xp.log(xp.where(h > 0, h, 1.0))
        log_1mh = xp.log1p(-xp.where(h < 1, h, 0.0))
        out = _neg_xlogy(t, h, log_h, xp=xp) + _neg_xlogy(1.0 - t, one_minus, log_1mh, xp=xp)
        out = out + (t - t) + (h - h)
    if log_base is not None:
        out = out / log_base
    out = checks.attach(out)
    return _compat.numpy_scalar(out, xp)
