"""The public measures: entropy, cross-entropy, KL and JS divergence, binary cross-entropy.

Each function holds its docstring and hands its arguments to the one router
(:mod:`klkit._api._route`), which checks the options and picks the engine.
"""

from __future__ import annotations

from typing import Any

from klkit._api import _losses
from klkit._api._route import quiet

__all__ = [
    "binary_cross_entropy",
    "cross_entropy",
    "entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
]


@quiet
def entropy(
    p: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    reduction: str = "none",
    where: Any = None,
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
        Check the input (see Raises). Skipped inside ``jax.jit`` and
        ``torch.compile`` (shape checks still run); on Dask arrays the checks run
        lazily and raise at ``compute()``.
    reduction : {"none", "sum", "mean"}, default "none"
        ``"none"``: one value per row (every position of the broadcast shape without
        the outcome axis). ``"sum"``: their sum. ``"mean"``: their mean over the rows
        that count, so KL's "mean" is torch's ``F.kl_div(..., reduction="batchmean")``
        for 2-D input (klkit has no element-wise mean). A mean with no row left
        (every row masked or ignored) is 0 with zero gradients, where torch gives
        NaN.
    where : bool array, optional
        Which rows count, broadcastable to the rows' shape. False rows are 0 with
        ``"none"``, left out of ``"sum"`` and ``"mean"``, get zero gradient even where
        their value would be infinite, and are not checked (padding may hold
        anything). Labels' ``ignore_index`` masks rows the same way.

    Returns
    -------
    array, shape ``(...)``, or a scalar with ``reduction="sum"`` or ``"mean"``
        In the input's array library, on its device, in its floating dtype (integer
        counts give the library's default float; float16 and bfloat16 are computed in
        float32 and returned in their dtype). A NumPy 0-d result is a NumPy scalar.

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
    return _losses.loss(
        entropy, {"p": p}, base, axis, keepdims, normalize, validate, reduction, where
    )


@quiet
def cross_entropy(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    reduction: str = "none",
    where: Any = None,
    weight: Any = None,
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
    base, axis, keepdims, normalize, validate, reduction, where
        As in :func:`entropy`.
    weight : array, shape ``(K,)``, optional
        Per-class weights (finite, >= 0), torch's ``weight``: a row is
        :math:`-\sum_k w_k P(k) \log Q(k)`. With ``Labels(y, smoothing=eps)`` that is
        :math:`(1 - \epsilon) w_y (-\log Q(y)) + (\epsilon/K) \sum_k w_k (-\log Q(k))`
        and ``"mean"`` divides by the sum of :math:`w_y` over the rows that count
        (torch's weighted mean); with probabilities as ``p``, ``"mean"`` divides by
        the number of rows.

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

    The classifier loss in torch's spelling and klkit's (``mean`` meaning
    ``reduction="mean"``):

    - ``F.cross_entropy(z, y)``: ``cross_entropy(Labels(y), Logits(z), mean)``
    - ``ignore_index=-100``: ``Labels(y, ignore_index=-100)``
    - ``label_smoothing=0.1``: ``Labels(y, smoothing=0.1)``
    - ``weight=w``: ``weight=w``
    - probabilities ``p`` as the target: ``cross_entropy(p, Logits(z), mean)``
    - ``z`` of shape (N, K, H, W): ``axis=1``
    - ``F.linear_cross_entropy(h, W, y, linear_bias=b)``:
      ``cross_entropy(Labels(y), LinearLogits(h, W, b), mean)``

    torch's argument order, ``cross_entropy(Logits(z), Labels(y))``, is refused
    with a :class:`DistributionError` (it would read the prediction as the target).

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
    args = {"p": p, "q": q}
    return _losses.loss(
        cross_entropy, args, base, axis, keepdims, normalize, validate, reduction, where, weight
    )


@quiet
def kl_divergence(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    reduction: str = "none",
    where: Any = None,
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
    base, axis, keepdims, normalize, validate, reduction, where
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
    derivative is -inf), on every backend. The gradient with respect to ``q`` given as
    probabilities is that of the sum above, :math:`1 - P/Q`, where torch's ``F.kl_div``
    gives :math:`-P/Q`: they differ by 1 in every entry, so they agree in every direction
    that keeps :math:`\sum Q = 1` (identical through a softmax or a normalisation); the
    gradient of ``cross_entropy(p, q)`` is :math:`-P/Q` itself.

    torch's ``F.kl_div(input, target)`` takes the prediction first and as
    log-probabilities: ``F.kl_div(F.log_softmax(z, -1), p, reduction="batchmean")``
    is ``kl_divergence(p, Logits(z), reduction="mean")``, and with
    ``log_target=True``, ``kl_divergence(LogProbs(log_p), Logits(z), ...)``.
    Distillation at temperature T: ``kl_divergence(Logits(t, temperature=T),
    Logits(z, temperature=T), reduction="mean") * T**2``.

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
    args = {"p": p, "q": q}
    return _losses.loss(
        kl_divergence, args, base, axis, keepdims, normalize, validate, reduction, where
    )


@quiet
def js_divergence(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int | None = -1,
    keepdims: bool = False,
    normalize: bool = False,
    reduction: str = "none",
    where: Any = None,
    validate: bool = True,
) -> Any:
    r"""Jensen-Shannon divergence :math:`\tfrac12 D(P \| M) + \tfrac12 D(Q \| M)`.

    With :math:`M = (P + Q)/2`. Symmetric, always finite, between 0 and
    :math:`\log_b 2` (1 bit); 0 only when :math:`P = Q`.

    Parameters
    ----------
    p, q : array_like, Logits, LogProbs or Labels, shape ``(..., K)``
        As in :func:`kl_divergence` (labels are expanded to one-hot arrays here).
    base, axis, keepdims, normalize, validate, reduction, where
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
    args = {"p": p, "q": q}
    return _losses.loss(
        js_divergence, args, base, axis, keepdims, normalize, validate, reduction, where
    )


@quiet
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
    args = {"p": p, "q": q}
    return _losses.js_distance(
        js_distance, js_divergence, args, base, axis, keepdims, normalize, validate
    )


@quiet
def binary_cross_entropy(
    y: Any,
    y_hat: Any,
    *,
    base: float | None = None,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "none",
    where: Any = None,
    validate: bool = True,
) -> Any:
    r"""Binary cross-entropy :math:`-y \log \hat y - (1 - y) \log(1 - \hat y)`, elementwise.

    0 when the prediction :math:`\hat y` matches a 0/1 target, +inf when it is
    certainly wrong (:math:`\hat y = 0` for :math:`y = 1`). Soft targets in
    :math:`[0, 1]` are allowed. ``reduction="mean"`` gives the usual loss.

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
    weight : array_like, optional
        Multiplies each element's loss (torch's ``weight``); broadcasts to the
        elements' shape; finite and >= 0.
    pos_weight : array_like, optional
        Multiplies the positive term: :math:`-[w_+ y \log \hat y + (1 - y)
        \log(1 - \hat y)]` (torch's ``pos_weight``, for probabilities as for logits).
    reduction : {"none", "sum", "mean"}, default "none"
        ``"mean"`` is over elements, as torch, leaving out ``where=False`` ones (0
        with zero gradients when none is left).
    where : bool array, optional
        Which elements count, as in :func:`entropy`.
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
    ``F.binary_cross_entropy_with_logits(z, y, weight=w, pos_weight=pw)`` is
    ``binary_cross_entropy(y, Logits(z), weight=w, pos_weight=pw, reduction="mean")``;
    klkit stays exact for large :math:`|z|` (softplus, never ``log(1 - sigmoid)``).
    ``Logits(z, temperature=T)`` reads :math:`\sigma(z / T)`.

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
    return _losses.binary_loss(
        binary_cross_entropy,
        y,
        y_hat,
        base=base,
        weight=weight,
        pos_weight=pos_weight,
        reduction=reduction,
        where=where,
        validate=validate,
    )
