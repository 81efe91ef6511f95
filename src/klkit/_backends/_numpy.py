"""The NumPy fast path: cache-sized blocks with the checks fused in.

Speed reason (issue 4): the generic array-API code evaluates each formula over the
whole array, so a KL of two 10^7-element arrays makes a dozen full-size temporaries
and runs ~25x slower than ``(p * np.log(p / q)).sum(-1)``. Here each block of
``BLOCK_BYTES`` bytes of each input is checked (minimum and row sums) and reduced while it
sits in cache, with scratch buffers reused from block to block, so extra memory is a few
blocks. Float64 reductions are one-pass BLAS-style kernels (``block @ ones`` for row
sums, ``np.vecdot`` for sums of products), 2-4x faster than ``np.add.reduce`` of a
product; float32 sums of terms are pairwise (see :func:`_rowdot`).

Threads over blocks were measured (2 cores, blocks of 32K-256K elements) and were
1.1-2.5x *slower*: NumPy's short reductions hand the GIL back and forth between the
threads at a cost above what the parallel divide and log save. With Numba installed
(``klkit[fast]``), arrays of ``NUMBA_MIN`` elements or more go to the compiled,
multi-core kernels of :mod:`klkit._backends._numba` instead (set ``KLKIT_NUMBA=0`` to keep
them here); their results pass the same checks as below.

The formulas are those of :mod:`klkit._core._terms`: KL terms are
``p * (r - 1 - log r)`` with ``r = q/p`` (= p log(p/q) - p + q, never negative), and
where ``|r - 1| < NEAR`` the term is recomputed from ``x = (q - p)/p`` by a series
of ``x - log1p(x)``, so nearly equal P and Q keep full precision. Everything this
path does not handle exactly returns None and the caller runs the generic path,
which computes (or raises the precise error) as before: failed checks, negative or
NaN entries, ratios Q/P that are subnormal or overflow, anything but C-contiguous
float arrays with the outcomes on the last axis.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from klkit._numerics import EXACT_BELOW, NEAR, series, sum_tolerance

__all__ = ["BLOCK_BYTES", "NUMBA_MIN", "numpy_rows", "small_lists"]

NUMBA_MIN = 1 << 14
"""Arrays of at least this many elements use the Numba kernels when Numba is installed.

Below it a call costs microseconds either way, and small calls never wait for
Numba's import (~0.3 s) or its first compile (a few seconds, then cached on disk)."""

BLOCK_BYTES = 1 << 19
"""Bytes of each input per block: a block's inputs and scratch (~2.5 MB) stay in cache.

Measured 32K-256K elements: 64K float64 and 128K float32 elements were fastest."""


_Float = np.ndarray[Any, np.dtype[np.floating[Any]]]


class _Scratch:
    """Per-call buffers, reused for every block."""

    def __init__(self, dtype: np.dtype[Any], n: int, k: int) -> None:
        self.a = np.empty(n, dtype)
        self.b = np.empty(n, dtype)
        self.c = np.empty(n, dtype)
        self.mask = np.empty(n, bool)
        self.ones = np.ones(min(n, k), dtype)


_NORMAL = {np.dtype(np.float32): 1.2e-38, np.dtype(np.float64): 2.3e-308}
_FLOAT_MAX = float(np.finfo(np.float64).max)


def _rowdot(a: _Float, b: _Float) -> Any:
    """Row-wise dot products of two 2-D blocks; ``b`` is scratch and may be overwritten.

    Rows of a few dozen outcomes, where vecdot's per-row call costs: ``einsum``.
    Float64: ``np.vecdot`` (~0.1 ns per element for long rows, no product array).
    Float32: the products, then NumPy's pairwise row sums. A float32 dot keeps a
    few running sums over the whole block (131072 elements), which were off by 1e-5
    on a uniform row of 3 million outcomes.
    """
    if a.shape[1] < 32:
        return np.einsum("ij,ij->i", a, b)
    if a.dtype == np.float32:
        return _sum_rows(np.multiply(a, b, out=b))
    return np.vecdot(a, b)


def _sum_rows(x: _Float) -> Any:
    """Row sums of a 2-D block, pairwise (within a few ulp of the dtype)."""
    return np.add.reduce(x, axis=1)


def _view(buffer: _Float, like: _Float) -> _Float:
    return buffer[: like.size].reshape(like.shape)


def _underflows(r: _Float, num: _Float, s: _Scratch) -> bool:
    """Say whether ``r = num/p`` is subnormal or 0 for a positive ``num`` (log r loses digits)."""
    low = _NORMAL[r.dtype]
    if r.min() >= low:  # not "not < low": a 0/0 makes the minimum NaN
        return False
    mask = _view(s.mask, r)
    np.less(r, low, out=mask)
    np.logical_and(mask, num > 0, out=mask)
    return bool(mask.any())


def _kl_g(
    p: _Float,
    q: _Float,
    s: _Scratch,
    *,
    careful: bool,
    exact: bool,
    tiny: bool,
    other: _Float | None = None,
) -> Any | None:
    """Per-row sum of KL terms ``p (r - 1 - log r)``, r = q/p, each >= 0 (None: generic).

    Without ``careful`` a p = 0 makes its row NaN (the caller retries); with it the
    term is q (its limit). ``exact`` recomputes the terms with ``|r - 1| < NEAR`` by
    the series; ``tiny``: some ratio may underflow (then None). ``other``: JS's
    second distribution; the terms are then those of KL(p || q/2) with q = p + other
    (halving the ratio q/p >= 1/2 is exact, halving a subnormal sum is not), and the
    series takes ``other - p``, exact, for ``q/2 - p``, which carries q's rounding.
    """
    half = other is not None
    g, log = _view(s.a, p), _view(s.b, p)
    np.divide(q, p, out=g)
    if tiny and _underflows(g, q, s):
        return None
    if half:
        np.multiply(g, 0.5, out=g)
    np.log(g, out=log)
    np.subtract(g, 1.0, out=g)  # exact for r in [1/2, 2] (Sterbenz)
    np.subtract(g, log, out=g)  # g = (r - 1) - log r >= 0, no rounding near 1
    g_near = NEAR**2 / 2  # g below this: |r - 1| < NEAR, about
    if exact and not g.min() >= g_near:  # some r near 1 (or NaN): recompute those terms
        flat, pf, qf = g.reshape(-1), p.reshape(-1), q.reshape(-1)
        near = np.flatnonzero(flat < g_near)
        pn = pf[near].astype(np.float64)
        if other is None:
            flat[near] = series((qf[near] - pn) / pn)
        else:
            flat[near] = series((other.reshape(-1)[near] - pn) / (2 * pn))
    if not careful:
        return _rowdot(p, g)
    np.multiply(g, p, out=g)
    np.copyto(g, q * 0.5 if half else q, where=np.equal(p, 0.0, out=_view(s.mask, p)))
    return _sum_rows(g)


def _rows(
    name: str,
    blocks: Sequence[_Float],
    s: _Scratch,
    *,
    careful: bool,
    exact: bool,
    tiny: bool,
) -> Any | None:
    """Per-row nats of one block (for rows split into blocks, that block's part).

    None sends the call to the generic path. Without ``careful``, zeros in P make NaN
    rows and the caller retries with it. ``exact``: KL and JS terms near ``r = 1`` by
    the series. ``tiny``: some KL ratio q/p may be subnormal (checked, then None).
    Every row is a sum of terms >= 0, so its rounding is a few ulp per term whatever
    the order of the outcomes.
    """
    p = blocks[0]
    if name in ("entropy", "cross_entropy"):  # -sum p log x, x = p or q
        log = _view(s.a, p)
        np.log(blocks[-1], out=log)
        if careful:
            np.copyto(log, 0.0, where=np.equal(p, 0.0, out=_view(s.mask, p)))  # 0 log x
        return -_rowdot(p, log)
    q = blocks[1]
    if name == "kl":
        return _kl_g(p, q, s, careful=careful, exact=exact, tiny=tiny)
    m = _view(s.c, p)  # js: (KL(p || m/2) + KL(q || m/2)) / 2 with m = p + q
    np.add(p, q, out=m)
    left = _kl_g(p, m, s, careful=careful, exact=exact, tiny=False, other=q)  # m/p >= 1/2
    right = _kl_g(q, m, s, careful=careful, exact=exact, tiny=False, other=p)
    return None if left is None or right is None else (left + right) / 2


def _tasks(rows: int, k: int, n: int) -> tuple[list[tuple[int, int, int, int, int]], int]:
    """Blocks of about ``n`` elements as (row0, row1, col0, col1, chunk).

    Whole rows, or chunks of one long row.
    """
    if k <= n:
        step = max(1, n // k)
        return [(r, min(r + step, rows), 0, k, 0) for r in range(0, rows, step)], 1
    chunks = math.ceil(k / n)
    return [
        (r, r + 1, c * n, min((c + 1) * n, k), c) for r in range(rows) for c in range(chunks)
    ], chunks


def _eligible(arrays: Sequence[Any]) -> bool:
    """NumPy float32/float64 arrays of one dtype and shape, C-contiguous, non-empty."""
    first = arrays[0]
    return (
        all(type(a) is np.ndarray for a in arrays)
        and first.dtype in (np.float32, np.float64)
        and first.ndim >= 1
        and first.size > 0
        and all(a.dtype == first.dtype and a.shape == first.shape for a in arrays)
        and all(a.flags.c_contiguous for a in arrays)
    )


def numpy_rows(name: str, arrays: Sequence[Any], *, validate: bool) -> Any | None:
    """Per-row nats of measure ``name`` over the last axis, or None for the generic path.

    ``name`` is "entropy", "cross_entropy", "kl" or "js". The arrays must be NumPy
    float32/float64 arrays of one dtype and one shape, C-contiguous, non-empty. With
    ``validate``, entries must be >= 0 and rows sum to 1 within the usual tolerance;
    if not, None (the generic path raises the precise error). Negative or NaN entries
    send every call to the generic path.
    """
    if not _eligible(arrays):
        return None
    first = arrays[0]
    k = first.shape[-1]
    rows = first.size // k
    flat = [a.reshape(rows, k) for a in arrays]
    if first.size >= NUMBA_MIN and (kernel := _accelerator()) is not None:
        out = kernel(name, *flat)
        if out is None:  # a negative (or -0.0), NaN or infinite entry, one the log
            # cannot scale (>= 2^970, 2^103 in float32) or an odd ratio
            return None
        totals, sums = out
        return _checked(name, totals, sums if validate else None, like=first)
    blocked = _Blocked(name, flat, validate=validate)
    # KL and JS first take the short terms everywhere, then redo with the series the
    # rows where the short terms' rounding could show (see EXACT_BELOW).
    two_pass = name in ("kl", "js")
    if not blocked.run(blocked.tasks, exact=not two_pass):
        return None
    totals = blocked.terms.sum(axis=1)
    if two_pass:
        redo = ~(totals >= EXACT_BELOW * blocked.sums[0].sum(axis=1))  # NaN rows too
        if redo.any():
            again = [t for t in blocked.tasks if redo[t[0] : t[1]].any()]
            if not blocked.run(again, exact=True):
                return None
            totals = blocked.terms.sum(axis=1)
    row_sums = blocked.sums.sum(axis=2) if validate else None
    return _checked(name, totals, row_sums, like=first)


class _Blocked:
    """One call's blocks: per-block row terms and row sums, computed block by block."""

    def __init__(self, name: str, flat: list[_Float], *, validate: bool) -> None:
        first = flat[0]
        rows, k = first.shape
        n = BLOCK_BYTES // first.itemsize
        self.name, self.flat, self.validate = name, flat, validate
        self.tasks, chunks = _tasks(rows, k, n)
        self.terms = np.empty((rows, chunks), first.dtype)
        # Row sums in float64 from each block's dot with ones: float32 block sums may
        # be off by ~1e-5 relative on long rows, far inside the float32 sum tolerance
        # (3.5e-4 or more); they feed only that check and the EXACT_BELOW threshold.
        self.sums = np.zeros((len(flat), rows, chunks))
        self.need_sums = validate or name in ("kl", "js")
        self.scratch = _Scratch(first.dtype, min(n, first.size), k)

    def run(self, tasks: Sequence[tuple[int, int, int, int, int]], *, exact: bool) -> bool:
        """Compute ``tasks``' blocks; False sends the whole call to the generic path."""
        with np.errstate(all="ignore"):
            for task in tasks:
                r0, r1, _, _, c = task
                total = self._block(task, exact=exact)
                if total is None:
                    return False
                self.terms[r0:r1, c] = total
        return True

    def _block(self, task: tuple[int, int, int, int, int], *, exact: bool) -> Any | None:
        """One block's row terms, or None (the call goes generic)."""
        r0, r1, c0, c1, c = task
        blocks = [f[r0:r1, c0:c1] for f in self.flat]
        name, s = self.name, self.scratch
        # A negative or NaN entry sends the call to the generic path. Q is checked up
        # front only for KL, where min(Q) also bounds q/p; in CE and JS a bad Q entry
        # makes its row NaN (0 * log of it is NaN too) and is checked before the
        # careful retry.
        checked = blocks if name == "kl" else blocks[:1]
        low = [b.min() for b in checked]
        if not all(v >= 0 for v in low):
            return None
        # Validated rows sum to ~1, so p <= 2 and q/p >= min(q)/2 cannot be subnormal
        # (if the sums fail, the call goes generic anyway). Only KL reads ``tiny``: JS
        # ratios are >= 1/2.
        tiny = not (self.validate and low[-1] >= 2 * _NORMAL[blocks[0].dtype])
        if self.need_sums:
            for i, block in enumerate(blocks):
                self.sums[i, r0:r1, c] = block @ s.ones[: c1 - c0]
        total = _rows(name, blocks, s, careful=False, exact=exact, tiny=tiny)
        if total is not None and not (total > -np.inf).all():  # NaN: zeros in P?
            if not all(b.min() >= 0 for b in blocks[len(checked) :]):
                return None
            total = _rows(name, blocks, s, careful=True, exact=exact, tiny=tiny)
        if total is None or not (total > -np.inf).all():  # e.g. q/p overflowed
            return None
        return total


def _checked(name: str, totals: Any, row_sums: Any | None, *, like: _Float) -> Any | None:
    """Per-row nats shaped as ``like`` without its last axis; None if a row sum fails.

    ``row_sums``: one row per input, checked against the tolerance of ``like``'s dtype
    and number of outcomes (None: not validated).
    """
    if row_sums is not None:
        tol = sum_tolerance(float(np.finfo(like.dtype).eps), like.shape[-1])
        if not np.all(np.abs(row_sums - 1) <= tol):  # NaN and inf fail too
            return None
    if name == "js":  # JS <= log 2; rounding can pass it by an ulp for disjoint P, Q
        totals = np.minimum(totals, math.log(2))
    return np.maximum(totals, 0).astype(like.dtype, copy=False).reshape(like.shape[:-1])


def _accelerator() -> Callable[..., Any] | None:
    """Return the Numba kernel (:mod:`klkit._backends._numba`), or None (missing, or off)."""
    if os.environ.get("KLKIT_NUMBA") == "0":
        return None
    try:
        from klkit._backends import _numba  # noqa: PLC0415  (Numba is optional and slow to import)
    except ImportError:
        return None
    return _numba.kernel


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
            # negative, NaN, inf or an int beyond float64: the generic path raises
            if not 0.0 <= x < _FLOAT_MAX:
                return None
            row.append(float(x))
        try:
            total = math.fsum(row)
        except OverflowError:  # entries near float max: the generic path names them
            return None
        if abs(total - 1.0) > sum_tolerance(2.0**-52, n):
            return None
        values.append(row)
    if name == "entropy":
        return max(0.0, -sum(p * math.log(p) for p in values[0] if p > 0))  # +0.0, not -0.0
    p, q = values
    if name == "cross_entropy":
        total = 0.0
        for pi, qi in zip(p, q, strict=True):
            if pi > 0:
                if qi == 0:
                    return math.inf
                total -= pi * math.log(qi)
        return max(0.0, total)
    if name == "kl":
        return _small_kl(p, q)
    # As the generic path: KL(2P || S) terms with S = P + Q (doubling is exact, halving
    # a subnormal S is not), near r = 1 from Q - P (exact), not from S - 2P.
    s = [a + b for a, b in zip(p, q, strict=True)]
    d = [b - a for a, b in zip(p, q, strict=True)]
    left = _small_kl([2 * a for a in p], s, d)
    right = _small_kl([2 * b for b in q], s, [-x for x in d])
    return None if left is None or right is None else min((left + right) / 4, math.log(2))


def _small_kl(p: list[float], q: list[float], diff: list[float] | None = None) -> float | None:
    """KL(p || q) of short lists; ``diff``: ``q - p`` where q is rounded (see kl_terms)."""
    total = 0.0
    for i, (pi, qi) in enumerate(zip(p, q, strict=True)):
        if pi == 0:
            total += qi
        elif qi == 0:
            return math.inf
        else:
            x = ((qi - pi) if diff is None else diff[i]) / pi
            if abs(x) < NEAR:
                total += pi * series(x)
            else:
                r = qi / pi
                if not _NORMAL[np.dtype(np.float64)] <= r < math.inf:
                    return None
                total += pi * (r - 1.0 - math.log(r))
    return max(0.0, total)  # +0.0, not -0.0
