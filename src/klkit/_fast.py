"""The NumPy fast path: cache-sized blocks with the checks fused in.

Speed reason (issue 4): the generic array-API code evaluates each formula over the
whole array, so a KL of two 10^7-element arrays makes a dozen full-size temporaries
and runs ~25x slower than ``(p * np.log(p / q)).sum(-1)``. Here each block of
``BLOCK`` elements is checked (minimum and row sums) and reduced while it sits in
cache, with scratch buffers reused from block to block, so extra memory is a few
blocks. (Threads over blocks were measured and did not pay on the 2-core machine
this was tuned on: the per-block sequence of reductions and ufuncs did not scale.)

The formulas are those of :mod:`klkit._measures`: KL terms are
``p * (r - 1 - log r)`` with ``r = q/p`` (= p log(p/q) - p + q, never negative), and
where ``|r - 1| < NEAR`` the term is recomputed from ``x = (q - p)/p`` by a series
of ``x - log1p(x)``, so nearly equal P and Q keep full precision. Everything this path
does not handle exactly returns None and the caller runs the generic path, which
computes (or raises the precise error) as before: failed checks, subnormal Q, NaN
results (e.g. Q/P overflowing), anything but C-contiguous float arrays with the
outcomes on the last axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from klkit._validation import sum_tolerance

__all__ = ["BLOCK", "EXACT_BELOW", "NEAR", "numpy_rows", "series", "small_lists"]

BLOCK = 1 << 15
"""Elements per block: the inputs and scratch of one block stay in a core's L2 cache."""

NEAR = 0.1
"""Below this |q/p - 1| the KL term is recomputed in float64 by :func:`series`.

Above it, ``(r - 1) - log r`` is off by at most about ``4 eps / |r - 1|`` relative:
a few ulp in float64, as the generic path."""

EXACT_BELOW = 0.01
"""KL and JS rows at least this times sum(P) skip the series near ``r = 1``.

There ``(r - 1) - log r`` is off by ``2 eps |x|`` (x = q/p - 1) from the rounding of
log r, against a term ~ p x^2/2. By Cauchy-Schwarz over the terms with |x| < NEAR
(where the term is >= 0.45 p x^2), a row's error is at most
``2 eps sqrt(2.2 D sum P)``, i.e. ``2 eps sqrt(2.2 / EXACT_BELOW)`` ~ 30 eps relative
when ``D >= EXACT_BELOW sum P``; JS likewise. Rows below it (nearly equal P and Q)
get every near term by the series, exact to a few ulp."""

_Float = np.ndarray[Any, np.dtype[np.floating[Any]]]


def series(x: Any) -> Any:
    """``x - log1p(x)`` without cancellation for ``|x|`` up to about 0.15.

    With ``u = x/(2 + x)``, ``1 + x = (1 + u)/(1 - u)``, so ``log1p(x) = 2 atanh(u)``
    and ``x - log1p(x) = x u - 2 u^3 (1/3 + u^2/5 + u^4/7 + ...)``: the two parts are
    ~x^2/2 and ~x^3/12, so nothing cancels. Works on floats and arrays alike.
    """
    u = x / (2.0 + x)
    u2 = u * u
    acc = 1.0 / 19
    for k in (17, 15, 13, 11, 9, 7, 5, 3):
        acc = acc * u2 + 1.0 / k
    return x * u - 2.0 * u * u2 * acc


class _Scratch:
    """Per-thread buffers, reused for every block."""

    def __init__(self, dtype: np.dtype[Any], n: int) -> None:
        self.a = np.empty(n, dtype)
        self.b = np.empty(n, dtype)
        self.c = np.empty(n, dtype)
        self.m = np.empty(n, dtype)
        self.mask = np.empty(n, bool)


_NORMAL = {np.dtype(np.float32): 1.2e-38, np.dtype(np.float64): 2.3e-308}


def _kl_terms(
    p: _Float, q: _Float, out: _Float, s: _Scratch, *, careful: bool, exact: bool
) -> bool:
    """Write p (r - 1 - log r), r = q/p, into ``out``; False if the ratio loses digits.

    ``careful`` also handles p = 0 (the term is q); without it such terms are NaN
    and the caller retries the block carefully. ``exact`` recomputes the terms with
    ``|r - 1| < NEAR`` by the series.
    """
    n = p.size
    log = s.b[:n]
    np.divide(q, p, out=out)
    low = out.min()
    if low < _NORMAL[out.dtype]:  # r subnormal: log r would lose digits
        mask = s.mask[:n]
        np.less(out, _NORMAL[out.dtype], out=mask)
        np.logical_and(mask, out > 0, out=mask)
        if mask.any():
            return False
    np.log(out, out=log)
    np.subtract(out, 1.0, out=out)  # exact for r in [1/2, 2] (Sterbenz)
    np.subtract(out, log, out=out)  # g = (r - 1) - log r >= 0, no rounding near 1
    g_near = NEAR**2 / 2  # g below this: |r - 1| < NEAR, about
    if exact and not out.min() >= g_near:  # some r near 1 (or NaN): recompute those terms
        near = np.flatnonzero(out < g_near)
        pn = p[near].astype(np.float64)
        out[near] = series((q[near] - pn) / pn)
    np.multiply(out, p, out=out)
    if careful:
        mask = s.mask[:n]
        np.equal(p, 0.0, out=mask)
        np.copyto(out, q, where=mask)  # 0 log(0/q) - 0 + q
    return True


def _kernel(
    name: str, *, exact: bool
) -> Callable[[Sequence[_Float], _Float, _Scratch, bool], bool]:
    """Return the per-block term function of a measure; it writes terms into ``out``.

    ``exact``: KL terms near ``r = 1`` by the series (see :func:`numpy_rows`).
    """

    def entropy(a: Sequence[_Float], out: _Float, s: _Scratch, careful: bool) -> bool:
        (p,) = a
        np.log(p, out=out)
        np.multiply(out, p, out=out)
        if careful:
            np.equal(p, 0.0, out=s.mask[: p.size])
            np.copyto(out, 0.0, where=s.mask[: p.size])  # 0 log 0 = 0
        return True

    def cross_entropy(a: Sequence[_Float], out: _Float, s: _Scratch, careful: bool) -> bool:
        p, q = a
        np.log(q, out=out)
        np.multiply(out, p, out=out)
        if careful:
            np.equal(p, 0.0, out=s.mask[: p.size])
            np.copyto(out, 0.0, where=s.mask[: p.size])  # 0 log q = 0, also for q = 0
        return True

    def kl(a: Sequence[_Float], out: _Float, s: _Scratch, careful: bool) -> bool:
        p, q = a
        return _kl_terms(p, q, out, s, careful=careful, exact=exact)

    def js(a: Sequence[_Float], out: _Float, s: _Scratch, careful: bool) -> bool:
        p, q = a
        n = p.size
        m, half = s.m[:n], s.c[:n]  # _kl_terms uses s.b and s.mask
        np.add(p, q, out=m)
        np.multiply(m, 0.5, out=m)
        if not _kl_terms(p, m, half, s, careful=careful, exact=exact):
            return False
        if not _kl_terms(q, m, out, s, careful=careful, exact=exact):
            return False
        np.add(out, half, out=out)
        np.multiply(out, 0.5, out=out)
        return True

    return {"entropy": entropy, "cross_entropy": cross_entropy, "kl": kl, "js": js}[name]


def _tasks(rows: int, k: int) -> tuple[list[tuple[int, int, int, int, int]], int]:
    """Blocks as (row0, row1, col0, col1, chunk): whole rows, or chunks of one long row."""
    if k <= BLOCK:
        step = max(1, BLOCK // k)
        return [(r, min(r + step, rows), 0, k, 0) for r in range(0, rows, step)], 1
    chunks = math.ceil(k / BLOCK)
    return [
        (r, r + 1, c * BLOCK, min((c + 1) * BLOCK, k), c)
        for r in range(rows)
        for c in range(chunks)
    ], chunks


def numpy_rows(name: str, arrays: Sequence[Any], *, validate: bool) -> Any | None:
    """Per-row nats of measure ``name`` over the last axis, or None for the generic path.

    ``name`` is "entropy", "cross_entropy", "kl" or "js". The arrays must be NumPy
    float32/float64 arrays of one dtype and one shape, C-contiguous, non-empty. With
    ``validate``, entries must be >= 0 and rows sum to 1 within the usual tolerance;
    if not, None (the generic path raises the precise error).
    """
    first = arrays[0]
    if not (
        all(type(a) is np.ndarray for a in arrays)
        and first.dtype in (np.float32, np.float64)
        and first.ndim >= 1
        and first.size > 0
        and all(a.dtype == first.dtype and a.shape == first.shape for a in arrays)
        and all(a.flags.c_contiguous for a in arrays)
    ):
        return None
    k = first.shape[-1]
    rows = first.size // k
    flat = [a.reshape(rows, k) for a in arrays]
    tasks, chunks = _tasks(rows, k)
    terms = np.empty((rows, chunks), first.dtype)
    sums = np.empty((len(arrays), rows, chunks), first.dtype)
    # KL and JS first take the short terms everywhere, then redo with the series the
    # rows where the short terms' rounding could show (see EXACT_BELOW).
    two_pass = name in ("kl", "js")

    def work(tasks: Sequence[tuple[int, int, int, int, int]], *, exact: bool) -> bool:
        kernel = _kernel(name, exact=exact)
        s = _Scratch(first.dtype, min(BLOCK, first.size))
        with np.errstate(all="ignore"):
            for r0, r1, c0, c1, c in tasks:
                blocks = [f[r0:r1, c0:c1] for f in flat]
                flats = [b.reshape(-1) for b in blocks]
                p = flats[0]
                if not p.min() >= 0:  # negative or NaN P: the generic path
                    return False
                if validate or two_pass:
                    for i, block in enumerate(blocks):
                        sums[i, r0:r1, c] = np.add.reduce(block, axis=1)
                if (
                    not validate and name == "kl" and p.max() > 1e10
                ):  # unnormalised: q/p may underflow
                    return False
                out = s.a[: p.size]
                total = None
                if kernel(flats, out, s, False):
                    total = np.add.reduce(out.reshape(r1 - r0, -1), axis=1)
                if total is None or np.isnan(total).any():  # zeros in P: retry carefully
                    if not kernel(flats, out, s, True):
                        return False
                    total = np.add.reduce(out.reshape(r1 - r0, -1), axis=1)
                terms[r0:r1, c] = total
        return True

    if not work(tasks, exact=not two_pass):
        return None
    totals = terms.sum(axis=1)
    if two_pass:
        redo = ~(totals >= EXACT_BELOW * sums[0].sum(axis=1))  # NaN rows too
        if redo.any():
            again = [t for t in tasks if redo[t[0] : t[1]].any()]
            if not work(again, exact=True):
                return None
            totals = terms.sum(axis=1)
    if validate:
        tol = sum_tolerance(float(np.finfo(first.dtype).eps), k)
        row_sums = sums.sum(axis=2)
        if not np.all(np.abs(row_sums - 1) <= tol):  # NaN and inf fail too
            return None
    if np.isnan(totals).any():  # e.g. q/p overflowed for a tiny p
        return None
    if name in ("entropy", "cross_entropy"):
        totals = -totals
    if name == "js":  # JS <= log 2; rounding can pass it by an ulp for disjoint P, Q
        totals = np.minimum(totals, math.log(2))
    return np.maximum(totals, 0).reshape(first.shape[:-1])


def small_lists(name: str, lists: Sequence[Any]) -> float | None:
    """Compute a measure of short Python lists of floats in pure Python (None: go generic).

    Two 6-element lists through NumPy cost ~100 us of array overhead; this costs a few.
    Same formulas and checks as :func:`numpy_rows`; any doubt returns None.
    """
    n = len(lists[0])
    if not 0 < n <= 32 or any(len(v) != n for v in lists):
        return None
    values: list[list[float]] = []
    for v in lists:
        row: list[float] = []
        for x in v:
            if type(x) is not float and type(x) is not int:
                return None
            if not 0.0 <= x < math.inf:  # negative, NaN or inf: generic path raises
                return None
            row.append(float(x))
        if abs(math.fsum(row) - 1.0) > sum_tolerance(2.0**-52, n):
            return None
        values.append(row)
    if name == "entropy":
        return max(-sum(p * math.log(p) for p in values[0] if p > 0), 0.0)
    p, q = values
    if name == "cross_entropy":
        total = 0.0
        for pi, qi in zip(p, q, strict=True):
            if pi > 0:
                if qi == 0:
                    return math.inf
                total -= pi * math.log(qi)
        return max(total, 0.0)
    if name == "kl":
        return _small_kl(p, q)
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    left, right = _small_kl(p, m), _small_kl(q, m)
    return None if left is None or right is None else min((left + right) / 2, math.log(2))


def _small_kl(p: list[float], q: list[float]) -> float | None:
    total = 0.0
    for pi, qi in zip(p, q, strict=True):
        if pi == 0:
            total += qi
        elif qi == 0:
            return math.inf
        else:
            x = (qi - pi) / pi
            if abs(x) < NEAR:
                total += pi * series(x)
            else:
                r = qi / pi
                if not _NORMAL[np.dtype(np.float64)] <= r < math.inf:
                    return None
                total += pi * (r - 1.0 - math.log(r))
    return max(total, 0.0)
