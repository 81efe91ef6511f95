"""The optional compiled accelerator (``pip install klkit[fast]``): Numba kernels.

Speed reason (issue 4): NumPy's float64 divide plus log alone cost more than twice
the memory floor, and threads over NumPy ufuncs lose to the GIL. These kernels make
one pass over the data, fusing the checks (entries finite and >= 0, row sums) with the
measure, vectorised (SIMD) and split over cores by Python threads (the kernels
release the GIL). Imported only by :mod:`klkit._backends._numpy`, only when Numba is
installed; compiled on first use and cached.

The logarithm is written out (fdlibm's ``log`` and ``logf``: ``log x = e log 2 +
log1p(f)``, ``log1p(f) = f - g0(f)``, ``g0`` a minimax polynomial in
``s = f/(2 + f)``, within 1 ulp) because Numba's ``math.log`` is a scalar libm call
that does not vectorise. Its ``g0(f) = f - log1p(f)`` is the KL term's
``r - 1 - log r`` near ``r = 1`` without cancellation, so nearly equal rows need no
second pass: every KL and JS term ``p (r - 1 - log r)`` is within ~16 ulp of exact
(tested against mpmath) and never negative. Float32 data is computed in float32, 8
lanes per AVX2 vector or 16 per AVX-512 vector (:func:`_wide`): sums run in the
data's type over blocks of 256 terms, then in float64.

Anything the kernels do not compute exactly is flagged and the caller takes the
generic path, which computes it or raises the precise error: entries negative, NaN
or infinite (one unsigned compare of the bits, which also sends -0.0 there), entries
the log cannot scale (2^970 and up in float64, 2^103 in float32: the log scales every
x so that subnormals need no select), and KL ratios ``q/p`` that are subnormal or
overflow.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["CHUNK", "THREADED_MIN", "kernel"]

ENTROPY, CROSS_ENTROPY, KL, JS = 0, 1, 2, 3
_KINDS = {"entropy": ENTROPY, "cross_entropy": CROSS_ENTROPY, "kl": KL, "js": JS}


class _Constants(NamedTuple):
    """The kernels' constants as scalars of the data's dtype.

    Float64 literals in a float32 kernel would promote every operation they touch.
    """

    normal: Any  # the smallest normal number
    scale: Any  # 2^SCALE_LOG2[bits]: every x the log takes is scaled, subnormals to normal
    ln2_hi: Any  # fdlibm's split of log 2
    ln2_lo: Any
    lg1: Any  # fdlibm's minimax coefficients of (log1p(f) - 2s)/s, s = f/(2 + f)
    lg2: Any
    lg3: Any
    lg4: Any
    lg5: Any
    lg6: Any
    lg7: Any
    zero: Any
    half: Any
    one: Any
    two: Any
    inf: Any


def _constants(dtype: type[np.floating[Any]]) -> _Constants:
    """Constants for float64 (fdlibm's log) or float32 (logf: 4 coefficients, then 0)."""
    lg: tuple[float, ...]
    if dtype == np.float32:
        head = (2.0**-126, 2.0 ** _SCALE_LOG2[32], 6.9313812256e-01, 9.0580006145e-06)
        lg = (6.6666662693e-01, 4.0000972152e-01, 2.8498786688e-01, 2.4279078841e-01, 0, 0, 0)
    else:
        ln2 = (6.93147180369123816490e-01, 1.90821492927058770002e-10)
        head = (2.0**-1022, 2.0 ** _SCALE_LOG2[64], *ln2)
        lg = (
            6.666666666666735130e-01,
            3.999999999940941908e-01,
            2.857142874366239149e-01,
            2.222219843214978396e-01,
            1.818357216161805012e-01,
            1.531383769920937332e-01,
            1.479819860511658591e-01,
        )
    return _Constants(*(dtype(v) for v in (*head, *lg, 0.0, 0.5, 1.0, 2.0, np.inf)))


_SCALE_LOG2 = {32: 25, 64: 54}
"""log2 of the factor that takes the smallest subnormal of a float width to a normal."""

# IEEE bits: sqrt(1/2), the mantissa width, and +inf
_HALF_BITS = {32: 0x3F3504F3, 64: 0x3FE6A09E667F3BCD}
_SHIFT = {32: 23, 64: 52}
_INF_BITS = {32: 0x7F800000, 64: 0x7FF0000000000000}


def _split_codegen(x: Any, scale_log2: int) -> Any:
    """Signature and codegen of ``(k, m)``, ``x 2^-scale_log2 = 2^k m``.

    ``m`` is in [sqrt(1/2), sqrt(2)) for a normal ``x > 0``. Integer work on the IEEE
    bits, in LLVM IR so that float32 stays in 32-bit lanes (Numba would widen int32
    arithmetic to int64 and halve the vector width); the scale is folded into the
    constant, so unscaling costs nothing. ``k`` comes back as a float of ``x``'s type.
    """
    width = x.bitwidth
    float_type = ir.FloatType() if width == 32 else ir.DoubleType()
    int_type = ir.IntType(width)
    half_bits, shift = _HALF_BITS[width], _SHIFT[width]
    sig = types.UniTuple(x, 2)(x)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        bits = builder.bitcast(args[0], int_type)
        tmp = builder.sub(bits, int_type(half_bits + (scale_log2 << shift)))
        e = builder.ashr(tmp, int_type(shift))
        low = builder.and_(tmp, int_type((1 << shift) - 1))
        m = builder.bitcast(builder.add(low, int_type(half_bits)), float_type)
        k = builder.sitofp(e, float_type)
        return context.make_tuple(builder, signature.return_type, [k, m])

    return sig, codegen


@intrinsic
def _split(typingctx: Any, x: Any) -> Any:
    """``(k, m)`` with ``x = 2^k m``, ``m`` in [sqrt(1/2), sqrt(2)), for a normal ``x > 0``."""
    return _split_codegen(x, 0)


@intrinsic
def _split_scaled(typingctx: Any, xs: Any) -> Any:
    """``(k, m)`` with ``x = 2^k m`` from ``xs = x 2^SCALE_LOG2``, for any ``x > 0``.

    Scaling every x, not only subnormals, saves a compare and two selects per element
    (measured ~10% of the entropy kernel); the price is that x must be below
    ``2^(emax + 1 - SCALE_LOG2)`` (2^970 in float64, 2^103 in float32), see
    :func:`_unscalable`. For ``x = 0`` both are finite.
    """
    return _split_codegen(xs, _SCALE_LOG2[xs.bitwidth])


def _bits_at_least(x: Any, limit: dict[int, int]) -> Any:
    """Signature and codegen of ``bits(x) >= limit`` compared unsigned.

    One compare catches a set sign bit (negative numbers, -0 too), NaN and everything
    from the limit up to +inf.
    """
    width = x.bitwidth
    int_type = ir.IntType(width)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        bits = builder.bitcast(args[0], int_type)
        return builder.icmp_unsigned(">=", bits, int_type(limit[width]))

    return types.boolean(x), codegen


@intrinsic
def _bad(typingctx: Any, x: Any) -> Any:
    """Say whether an entry is negative, NaN or infinite (or -0: generic path too)."""
    return _bits_at_least(x, _INF_BITS)


@intrinsic
def _unscalable(typingctx: Any, x: Any) -> Any:
    """:func:`_bad`, or too large for :func:`_split_scaled` (x 2^SCALE_LOG2 overflows)."""
    limit = {w: _INF_BITS[w] - (_SCALE_LOG2[w] << _SHIFT[w]) for w in (32, 64)}
    return _bits_at_least(x, limit)


@intrinsic
def _wide(typingctx: Any) -> Any:
    """Let LLVM vectorise the calling function 512 bits wide where the CPU has AVX-512.

    LLVM's x86 tuning prefers 256-bit vectors on AVX-512 CPUs (older ones slowed their
    clock for 512-bit work); the function attribute ``prefer-vector-width`` overrides it
    for these kernels alone. Measured: float64 KL over 10^7 elements 16.5 -> 11.5 ms,
    float32 6.9 -> 5.1 ms. A no-op on CPUs without AVX-512. llvmlite checks attribute
    names against a list without string attributes, so this adds the text to its set
    directly; if llvmlite ever stores them otherwise, nothing is added.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        attributes = builder.function.attributes
        if isinstance(attributes, set):
            set.add(attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


@njit(inline="always")
def _g0(f: Any, c: Any) -> Any:
    """``f - log1p(f)`` for ``f`` in [sqrt(1/2) - 1, sqrt(2) - 1], no cancellation.

    fdlibm: ``log1p(f) = f - (h - s (h + R))``, ``h = f^2/2``, so the difference is
    ``h - s (h + R)``: ~f^2/2 minus ~f^3/4, within 1 ulp relative.
    """
    s = f / (c.two + f)
    z = s * s
    w = z * z
    t1 = w * (c.lg2 + w * (c.lg4 + w * c.lg6))
    t2 = z * (c.lg1 + w * (c.lg3 + w * (c.lg5 + w * c.lg7)))
    h = c.half * f * f
    return h - s * (h + (t1 + t2))


@njit(inline="always")
def _log(x: Any, c: Any) -> Any:
    """Natural log of ``x > 0`` short of :func:`_unscalable`; finite for ``x = 0``."""
    k, m = _split_scaled(x * c.scale)
    f = m - c.one
    return k * c.ln2_hi - ((_g0(f, c) - f) - k * c.ln2_lo)


@njit(inline="always")
def _kl_g(x: Any, r: Any, c: Any) -> Any:
    """``r - 1 - log r`` for a normal finite ``r > 0`` given ``x = r - 1`` to ~1 ulp.

    Near ``r = 1`` (r in [sqrt(1/2), sqrt(2))) it is ``g0(f)`` at ``f = r - 1`` (exact
    from the rounded r) moved to ``g0(x)`` by Taylor: ``d = x - f`` is an ulp of r,
    ``g0' = f/(1 + f) ~ f (1 - f)``, ``g0'' ~ 1``. The step is ~2 eps/|f| of the
    result and its own error ~|f|^2 of itself (or ~d^3), so the sum is within a few
    ulp however small x is.
    Elsewhere it is ``x - log r`` with ``|x| > 0.29``, where little cancels.
    """
    k, m = _split(r)
    f = m - c.one
    g0 = _g0(f, c)
    d = x - f  # exact (Sterbenz)
    near = g0 + d * (f * (c.one - f) + c.half * d)
    far = x - (k * c.ln2_hi - ((g0 - f) - k * c.ln2_lo))
    return near if k == 0 else far


SUBTOTAL = 256
"""Terms summed in the data's own type before the running float64 sums take them.

Float64 sums in the loop would make float32 kernels vectorise half as wide (the
widest type sets the vector). A subtotal of 256 float32 terms (16 per lane of 16) is
off by ~1e-8 relative on random rows; an adversarial row (one large term per
subtotal, the rest each half an ulp of it) measured 7 ulp, as NumPy's float32
pairwise sums and the generic path give there."""

# Reassociation lets the sums vectorise; contraction fuses a * b + c into one FMA
# instruction (one rounding instead of two: the log's polynomial and the sums get
# no less accurate, and without it the float64 entropy kernel spent ~20% longer);
# NumPy's error model: 1/0 is inf, no check.
# One inner loop per measure on purpose: a shared loop taking the term as a function
# argument measured ~10% slower, and one branching on the measure 4x slower. The
# subtotal loop around them is shared (once per 256 terms, inlined: no cost measured).
_part = njit(fastmath={"reassoc", "contract"}, error_model="numpy", cache=True)
_block = njit(fastmath={"reassoc", "contract"}, error_model="numpy", inline="always")


@njit(inline="always")
def _subtotals(block: Any, a: Any, b: Any, c: Any) -> tuple[float, float, float, int]:
    """Run ``block`` over ``SUBTOTAL``-term slices; sum its subtotals in float64.

    ``block(x, y, c)`` returns the measure, the sums of ``x`` and ``y`` and the count
    of flagged entries, in the data's type.
    """
    _wide()
    acc = 0.0
    sa = 0.0
    sb = 0.0
    bad = 0.0
    for j0 in range(0, a.size, SUBTOTAL):
        part, part_a, part_b, part_bad = block(a[j0 : j0 + SUBTOTAL], b[j0 : j0 + SUBTOTAL], c)
        acc += part
        sa += part_a
        sb += part_b
        bad += part_bad
    return acc, sa, sb, int(bad)


@_block
def _entropy_block(x: Any, y: Any, c: Any) -> tuple[Any, Any, Any, Any]:
    acc = sa = bad = c.zero
    for j in range(x.size):
        p = x[j]
        sa += p
        bad += c.one if _unscalable(p) else c.zero
        acc -= p * _log(p, c)  # 0 for p = 0: no select
    return acc, sa, c.zero, bad


@_block
def _cross_entropy_block(x: Any, y: Any, c: Any) -> tuple[Any, Any, Any, Any]:
    acc = sa = sb = bad = c.zero
    for j in range(x.size):
        p = x[j]
        q = y[j]
        sa += p
        sb += q
        bad += c.one if _bad(p) | _unscalable(q) else c.zero
        acc += c.inf if (q == c.zero) & (p > c.zero) else -p * _log(q, c)  # 0 log 0 = 0
    return acc, sa, sb, bad


@_block
def _kl_block(x: Any, y: Any, c: Any) -> tuple[Any, Any, Any, Any]:
    acc = sa = sb = bad = c.zero
    for j in range(x.size):
        p = x[j]
        q = y[j]
        sa += p
        sb += q
        inv = c.one / p
        r = q * inv
        # generic path: a subnormal or overflowing ratio, or 1/p subnormal (p near
        # the float max: its lost bits would make x and r disagree) or overflowing
        odd = (p > 0) & ~((inv >= c.normal) & (inv < c.inf))
        odd |= (p > 0) & (q > 0) & ~((r >= c.normal) & (r < c.inf))
        bad += c.one if _bad(p) | _bad(q) | odd else c.zero
        g = _kl_g((q - p) * inv, r, c) if q > 0 else c.inf
        acc += p * g if p > 0 else q  # p = 0: the term's limit, q
    return acc, sa, sb, bad


@_block
def _js_block(x: Any, y: Any, c: Any) -> tuple[Any, Any, Any, Any]:
    """Twice the JS terms: KL terms of P and of Q against M = (P + Q)/2.

    Ratios m/p are >= 1/2 (never subnormal); ``x = (q - p)/2p`` keeps the digits of
    nearly equal P and Q that ``m/p - 1`` would lose to the rounding of ``p + q``.
    """
    acc = sa = sb = bad = c.zero
    for j in range(x.size):
        p = x[j]
        q = y[j]
        sa += p
        sb += q
        half = c.half * (q - p)
        m = c.half * (p + q)
        ip = c.one / p
        iq = c.one / q
        rp = m * ip
        rq = m * iq
        odd = ((p > 0) & ~((ip >= c.normal) & (rp < c.inf))) | (
            (q > 0) & ~((iq >= c.normal) & (rq < c.inf))
        )  # 1/p subnormal (p near the float max) or a ratio overflowing: generic path
        bad += c.one if _bad(p) | _bad(q) | odd else c.zero
        left = p * _kl_g(half * ip, rp, c) if p > 0 else m
        right = q * _kl_g(-half * iq, rq, c) if q > 0 else m
        acc += left + right
    return acc, sa, sb, bad


@_part
def _entropy_part(a: Any, c: Any) -> Any:  # _subtotals' tuple
    return _subtotals(_entropy_block, a, a, c)


@_part
def _cross_entropy_part(a: Any, b: Any, c: Any) -> Any:  # _subtotals' tuple
    return _subtotals(_cross_entropy_block, a, b, c)


@_part
def _kl_part(a: Any, b: Any, c: Any) -> Any:  # _subtotals' tuple
    return _subtotals(_kl_block, a, b, c)


@_part
def _js_part(a: Any, b: Any, c: Any) -> Any:  # _subtotals' tuple
    return _subtotals(_js_block, a, b, c)


@njit(nogil=True, cache=True)
def _tasks(
    kind: int,
    a: Any,
    b: Any,
    chunk: int,
    c: Any,
    terms: Any,
    sums: Any,
    bad: Any,
    first: int,
    stop: int,
) -> None:
    """Fill per-(row, chunk) partial nats, row sums and counts of flagged entries.

    Tasks ``first`` to ``stop`` of ``rows * chunks``; the caller's threads split them.
    """
    k = a.shape[1]
    chunks = terms.shape[1]
    for t in range(first, stop):
        i = t // chunks
        part = t - i * chunks
        j0 = part * chunk
        j1 = min(j0 + chunk, k)
        # slices, not index ranges: a[j] with j >= 0 known vectorises (2x faster)
        if kind == ENTROPY:
            acc, sa, sb, nb = _entropy_part(a[i, j0:j1], c)
        elif kind == CROSS_ENTROPY:
            acc, sa, sb, nb = _cross_entropy_part(a[i, j0:j1], b[i, j0:j1], c)
        elif kind == KL:
            acc, sa, sb, nb = _kl_part(a[i, j0:j1], b[i, j0:j1], c)
        else:
            acc, sa, sb, nb = _js_part(a[i, j0:j1], b[i, j0:j1], c)
        terms[i, part] = acc
        sums[0, i, part] = sa
        sums[1, i, part] = sb
        bad[t] = nb


CHUNK = 1 << 14
"""Elements of a row per task: long rows are split so that every core gets work."""

THREADED_MIN = 1 << 17
"""Calls on fewer elements run on the calling thread alone (a thread hand-off costs
tens of microseconds)."""

_CONSTANTS = {np.dtype(t): _constants(t) for t in (np.float32, np.float64)}


class _Pool:
    """Python threads for the kernels (which release the GIL), one per usable core.

    Not Numba's ``parallel=True``: its OpenMP layer aborts a process that forks after
    using it (multiprocessing, data-loader workers) and its fallback layer aborts when
    two threads launch kernels at once (Dask's threaded scheduler). Plain threads are
    safe in both cases; a forked child starts a new pool.
    """

    def __init__(self) -> None:
        self.executor: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()
        self.workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        self.executor = None  # the parent's threads do not exist in a forked child

    def map(self, fn: Any, ranges: list[tuple[int, int]]) -> None:
        with self.lock:  # two first callers at once must not make two pools
            if self.executor is None:
                self.executor = ThreadPoolExecutor(self.workers - 1, thread_name_prefix="klkit")
        futures = [self.executor.submit(fn, *r) for r in ranges[1:]]
        fn(*ranges[0])  # the calling thread takes a share too
        for future in futures:
            future.result()


_POOL = _Pool()


def kernel(name: str, a: Any, b: Any | None = None) -> tuple[Any, Any] | None:
    """Per-row nats of measure ``name`` and per-input row sums, ``(inputs, rows)``.

    ``name``: "entropy" (``a`` only), "cross_entropy", "kl" or "js". ``a`` and ``b``:
    C-contiguous 2-D float32 or float64 arrays of one shape. None when an entry or a
    ratio needs the generic path.
    """
    kind = _KINDS[name]
    if b is None:
        b = a
    rows, k = a.shape
    chunks = -(-k // CHUNK)
    terms = np.empty((rows, chunks))
    sums = np.empty((2, rows, chunks))
    bad = np.empty(rows * chunks, np.int64)
    tasks = rows * chunks
    parts = min(_POOL.workers, tasks) if a.size >= THREADED_MIN else 1
    bounds = [tasks * i // parts for i in range(parts + 1)]

    def run(first: int, stop: int) -> None:
        _tasks(kind, a, b, CHUNK, _CONSTANTS[a.dtype], terms, sums, bad, first, stop)

    if parts == 1:
        run(0, tasks)
    else:
        _POOL.map(run, list(itertools.pairwise(bounds)))
    if bad.any():
        return None
    totals = terms.sum(axis=1)
    if kind == JS:  # the parts sum both halves
        totals /= 2
    return totals, sums.sum(axis=2)[: 1 if kind == ENTROPY else 2]
