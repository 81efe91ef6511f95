"""Laws moved by SciPy's ``loc`` and ``scale``: entropy and KL in the frame of one side.

KL does not change when both laws go through one affine map, so a pair is taken to the
frame of one side, where the other is often a family again (``expon(loc=1)`` against
``norm(0, 1)`` is ``Exponential(1)`` against ``Normal(-1, 1)``); otherwise the support
rule, finite sums and the shifted-exponential cross-entropy apply, and any other pair
is a clear error pointing to ``klkit.estimate``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from klkit._backends._namespace import is_traced, numpy_scalar
from klkit._core._errors import DistributionError
from klkit._typing import Array, Namespace
from klkit.distributions import _families as fam
from klkit.distributions._base import Family
from klkit.distributions._compute import evaluate, resolve
from klkit.distributions._discrete import finite_grid, log_pmf, sum_over, support
from klkit.distributions._entropy import entropy
from klkit.distributions._families import describe, frame, moved_name
from klkit.distributions._kl_mixed import mean
from klkit.distributions._safe import zeros_like_batch

__all__ = ["affine_entropy", "affine_kl"]


def _number(x: Any) -> Any:
    """Return ``x`` as a float, or a float64 NumPy array."""
    a = np.asarray(x, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def _absorb(d: Family, shift: Any, scale: Any) -> Family | None:
    """Return the member of ``d``'s family that is ``shift + scale * X``, ``X ~ d``, or None.

    ``shift`` and ``scale`` are Python floats or NumPy arrays (then every side is NumPy);
    ``d``'s own parameters are used as they are, so they keep their library and gradient.
    """
    c, r = _number(shift), _number(scale)
    unshifted = bool(np.all(np.asarray(c) == 0))
    if unshifted and np.all(np.asarray(r) == 1):
        return d
    a = d.params
    if isinstance(d, fam.Normal | fam.Laplace):
        return type(d)(c + r * a["loc"], r * a["scale"])
    if isinstance(d, fam.StudentT):
        return fam.StudentT(a["df"], c + r * a["loc"], r * a["scale"])
    if isinstance(d, fam.Uniform):
        return fam.Uniform(c + r * a["low"], c + r * a["high"])
    if unshifted and isinstance(d, fam.Exponential):
        return fam.Exponential(a["rate"] / r)
    if unshifted and isinstance(d, fam.Gamma):
        return fam.Gamma(a["concentration"], a["rate"] / r)
    if unshifted and isinstance(d, fam.LogNormal):
        return fam.LogNormal(a["loc"] + _number(np.log(r)), a["scale"])
    if isinstance(d, fam.Geometric) and isinstance(c, float) and r == 1.0 and c == math.floor(c):
        return fam.Geometric._shifted(a["probs"], d.shift + int(c))
    return None


def affine_entropy(d: Family) -> Any:
    """``H(base) + log(scale)`` of a moved law (or of a family), in nats."""
    base, loc, scale = frame(d)
    return evaluate("entropy", [base]) + np.log(scale) + 0.0 * np.asarray(loc)


def affine_kl(p: Family, q: Family) -> Any:
    """KL with a shifted or scaled side, in the frame of P (or of Q) where it is a family."""
    bp, lp, sp = frame(p)
    bq, lq, sq = frame(q)
    c, r = _number((np.asarray(lq) - lp) / sp), _number(np.asarray(sq) / sp)  # Q is c + r Y
    q_in_p = _absorb(bq, c, r)
    if q_in_p is not None:
        pair: list[Family] | None = [bp, q_in_p]
    else:
        p_in_q = _absorb(bp, (np.asarray(lp) - lq) / sq, np.asarray(sp) / sq)
        pair = None if p_in_q is None else [p_in_q, bq]
    if pair is not None:
        try:
            return evaluate("kl_divergence", pair)
        except DistributionError as e:
            inner = str(e).replace("{", "{{").replace("}", "}}")  # text, not a template
            problem = f"kl_divergence({describe(p)}, {describe(q)}) is, in the frame of one side, "
            raise DistributionError(problem + inner) from None
    xp, (a, b) = resolve([bp, bq])
    zeros = zeros_like_batch(a, xp) + zeros_like_batch(b, xp) + 0.0 * xp.asarray(c)
    if isinstance(bp, fam.DISCRETE) != isinstance(bq, fam.DISCRETE):  # the support rule
        return numpy_scalar(zeros + math.inf, xp)
    out = _in_p_frame(p, q, (a, b), c, r, zeros, xp)
    if out is not None:
        return numpy_scalar(out, xp)
    problem = (
        f"kl_divergence({describe(p)}, {describe(q)}) has no closed form: in P's frame Q is a "
        f"{moved_name(bq, c, r)}, which no formula covers."
    )
    raise DistributionError(
        problem,
        fix=(
            "Use klkit.estimate.kl_divergence, which takes SciPy distributions with their "
            "loc and scale and integrates numerically."
        ),
    )


def _in_p_frame(
    p: Family,
    q: Family,
    arrays: tuple[dict[str, Array], dict[str, Array]],
    c: Any,
    r: Any,
    zeros: Array,
    xp: Namespace,
) -> Array | None:
    """KL of P's base against ``c + r Y`` (Y ~ Q's base), both discrete or both not.

    +inf by the support rule, a finite sum over P's support, or P against a shifted
    exponential; None when no formula covers the pair.
    """
    bp, bq = frame(p)[0], frame(q)[0]
    a, b = arrays
    lo_p, hi_p = support(bp, a, xp)
    lo_q, hi_q = support(bq, b, xp)
    outside = (zeros + lo_p < c + r * lo_q) | (zeros + hi_p > c + r * hi_q)
    if not is_traced(outside) and bool(xp.all(outside)):  # the support rule
        return zeros + math.inf
    if isinstance(bp, fam.Bernoulli | fam.Binomial):  # P's support is finite: sum over it
        k = finite_grid(bp, a, xp, what=f"kl_divergence({describe(p)}, {describe(q)})")
        log_q = log_pmf(bq, b, k - xp.asarray(c)[..., None], xp)
        return sum_over(log_pmf(bp, a, k, xp), log_q, xp) + zeros
    if isinstance(bq, fam.Exponential) and not isinstance(bp, fam.DISCRETE):
        # -E_P[log f_Q] for Q's density (rate/r) exp(-(rate/r)(x - c)) on x >= c
        rate = b["rate"] / r
        kl = -xp.log(rate) + rate * (mean(type(bp), a, xp) - c) - entropy(bp, a, xp)
        return xp.where(outside, math.inf, kl + zeros)
    return None
