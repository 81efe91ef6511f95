"""The NumPy fast path (klkit._backends._numpy) against the generic path and SciPy."""

from __future__ import annotations

import concurrent.futures
import math
import os
import subprocess
import sys
import tracemalloc

import array_api_strict as xps
import mpmath
import numpy as np
import pytest
import scipy.spatial.distance as ssd
import scipy.special as sp
import scipy.stats as ss
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import klkit as kl
from klkit import _numerics
from klkit._backends import _numpy


def rows(shape, rng, zeros=0.0, dtype=np.float64):
    x = rng.random(shape)
    x[rng.random(shape) < zeros] = 0.0
    x[..., 0] += 1e-3  # no all-zero row
    return (x / x.sum(-1, keepdims=True)).astype(dtype)


def generic(measure, *arrays, **options):
    """The same measure on the generic (array-API) path, via array-api-strict."""
    return np.asarray(measure(*(xps.asarray(a) for a in arrays), **options))


CASES = [
    ((7,), 0.0),
    ((300, 50), 0.3),  # zeros in P and Q: the careful retry
    ((3, 2 * _numpy.BLOCK_BYTES // 4 + 5), 0.1),  # rows split into several blocks
    ((2, 3, 40), 0.0),
]


@pytest.mark.parametrize(("shape", "zeros"), CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_path_runs_and_matches_the_generic_path_and_scipy(shape, zeros, dtype, engine):
    rng = np.random.default_rng(len(shape) + shape[-1])
    p, q = rows(shape, rng, zeros, dtype), rows(shape, rng, zeros, dtype)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    p64, q64 = p.astype(np.float64), q.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        references = {
            "entropy": (kl.entropy, (p,), ss.entropy(p64, axis=-1)),
            "cross_entropy": (kl.cross_entropy, (p, q), -sp.xlogy(p64, q64).sum(-1)),
            "kl": (kl.kl_divergence, (p, q), sp.rel_entr(p64, q64).sum(-1)),
            "js": (kl.js_divergence, (p, q), ssd.jensenshannon(p64, q64, axis=-1) ** 2),
        }
    for name, (measure, args, reference) in references.items():
        assert _numpy.numpy_rows(name, args, validate=True) is not None, name
        fast = measure(*args)
        assert fast.dtype == dtype
        np.testing.assert_allclose(fast, reference, rtol=rtol, err_msg=name)
        np.testing.assert_allclose(fast, generic(measure, *args), rtol=rtol, err_msg=name)


def test_infinities_are_exact_on_the_fast_path(engine):
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    assert _numpy.numpy_rows("kl", (p, q), validate=True) is not None
    np.testing.assert_array_equal(kl.kl_divergence(p, q), [math.inf, 0.0])
    np.testing.assert_array_equal(kl.cross_entropy(p, q)[0], math.inf)


def test_nearly_equal_rows_keep_their_digits_on_the_fast_path(engine):
    rng = np.random.default_rng(1)
    p = rows((4, 1000), rng)
    q = p * np.exp(1e-7 * rng.standard_normal(p.shape))
    q /= q.sum(-1, keepdims=True)
    assert _numpy.numpy_rows("kl", (p, q), validate=True) is not None
    fast = kl.kl_divergence(p, q)
    assert np.all(fast > 0)
    np.testing.assert_allclose(fast, generic(kl.kl_divergence, p, q), rtol=1e-10)


@pytest.mark.parametrize(
    ("p", "q", "message"),
    [
        ([[0.5, 0.5], [0.7, 0.4]], [[0.5, 0.5], [0.5, 0.5]], "`p` sums to 1.1 in row 1"),
        ([[0.5, 0.5], [1.2, -0.2]], [[0.5, 0.5], [0.5, 0.5]], "`p` has a negative entry"),
        ([[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [1.2, -0.2]], "`q` has a negative entry"),
        ([[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [np.nan, 0.5]], "`q` has a non-finite"),
    ],
)
def test_bad_input_still_raises_the_precise_error(p, q, message, engine):
    with pytest.raises(kl.DistributionError, match=message.replace("(", r"\(")):
        kl.kl_divergence(np.array(p), np.array(q))
    with pytest.raises(kl.DistributionError, match=message.replace("(", r"\(")):
        kl.kl_divergence(p, q)  # the short-list path


@pytest.mark.parametrize("measure", [kl.cross_entropy, kl.kl_divergence, kl.js_divergence])
def test_negative_q_where_p_is_zero_is_caught(measure, engine):
    # The terms there are 0 (0 log q), so only an explicit check of Q sees it.
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.7, -0.2])
    with pytest.raises(kl.DistributionError, match=r"`q` has a negative entry -0\.2 at index 2"):
        measure(p, q)


def test_ratios_beyond_the_float_range_go_generic_and_stay_right(engine, mp_kl):
    # Unvalidated P > 1 with a tiny Q: q/p underflows to 0, which would read as +inf.
    p, q = np.array([2.0, 0.5]), np.array([5e-324, 1.0])
    assert _numpy.numpy_rows("kl", (p, q), validate=False) is None
    expected = 2 * (math.log(2) - math.log(5e-324)) - 2 + 5e-324 + 0.5 * math.log(0.5) - 0.5 + 1
    assert kl.kl_divergence(p, q, validate=False) == pytest.approx(expected, rel=1e-12)
    # A subnormal P under a large Q: q/p overflows to inf.
    p, q = np.array([1e-310, 1.0 - 1e-310]), np.array([0.5, 0.5])
    assert _numpy.numpy_rows("kl", (p, q), validate=True) is None
    np.testing.assert_allclose(kl.kl_divergence(p, q), sp.rel_entr(p, q).sum(), rtol=1e-12)
    # A normal P whose 1/p is finite but whose q/p overflows.
    p, q = np.array([1e-300, 1.0 - 1e-300]), np.array([1e10, 0.5])
    assert _numpy.numpy_rows("kl", (p, q), validate=False) is None
    assert kl.kl_divergence(p, q, validate=False) == pytest.approx(mp_kl(p, q), rel=1e-12)


def test_unvalidated_nan_propagates(engine):
    p = np.array([0.5, np.nan])
    assert np.isnan(kl.kl_divergence(p, np.array([0.5, 0.5]), validate=False))


def test_memory_stays_a_few_blocks_for_a_large_kl(engine):
    rng = np.random.default_rng(2)
    p, q = rows((10**7,), rng), rows((10**7,), rng)
    tracemalloc.start()
    try:
        result = kl.kl_divergence(p, q)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    inputs = p.nbytes + q.nbytes
    assert peak <= 0.05 * inputs, f"{peak / 1e6:.1f} MB for {inputs / 1e6:.0f} MB of inputs"
    assert result == pytest.approx(sp.rel_entr(p, q).sum(), rel=1e-10)


short = st.lists(st.floats(0, 1), min_size=1, max_size=32)


@settings(max_examples=200, deadline=None)
@given(short, short, st.sampled_from(["entropy", "cross_entropy", "kl", "js"]))
def test_short_lists_match_the_array_path(a, b, name):
    n = min(len(a), len(b))
    a, b = [x + 1e-3 for x in a[:n]], [x + 1e-3 for x in b[:n]]
    p = [x / math.fsum(a) for x in a]
    q = [x / math.fsum(b) for x in b]
    if abs(math.fsum(p) - 1) > 1e-12 or abs(math.fsum(q) - 1) > 1e-12:
        return
    args = (p,) if name == "entropy" else (p, q)
    small = _numpy.small_lists(name, args)
    assert small is not None
    measure = {"entropy": kl.entropy, "cross_entropy": kl.cross_entropy}.get(
        name, kl.kl_divergence if name == "kl" else kl.js_divergence
    )
    value = measure(*args)
    assert type(value) is np.float64
    arrays = generic(measure, *(np.array(x) for x in args))
    assert value == pytest.approx(float(arrays), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("name", ["kl", "js"])
def test_mixed_batch_redoes_only_the_close_rows_and_all_rows_stay_exact(name, engine):
    # Far rows keep the short terms (their rounding is ~30 eps relative at most);
    # rows with D < EXACT_BELOW * sum P get the series. Both must match the generic
    # path, which takes the series for every near term, to ~1e-13.
    rng = np.random.default_rng(5)
    p = rows((6, 500), rng)
    q = rows((6, 500), rng)
    for i, rel in [(1, 1e-8), (3, 1e-5), (5, 0.05)]:
        q[i] = p[i] * np.exp(rel * rng.standard_normal(500))
        q[i] /= q[i].sum()
    measure = kl.kl_divergence if name == "kl" else kl.js_divergence
    assert _numpy.numpy_rows(name, (p, q), validate=True) is not None
    fast = measure(p, q)
    assert (fast[[1, 3, 5]] < _numerics.EXACT_BELOW).all()
    assert (fast[[0, 2, 4]] > _numerics.EXACT_BELOW).all()
    np.testing.assert_allclose(fast, generic(measure, p, q), rtol=1e-13)
    np.testing.assert_allclose(measure(p, q, validate=False), fast, rtol=0)


# --- the Numba kernels (klkit[fast]) ----------------------------------------------------


def test_large_arrays_take_the_kernels_unless_switched_off(monkeypatch):
    from klkit._backends import _numba

    monkeypatch.delenv("KLKIT_NUMBA", raising=False)
    assert _numpy._accelerator() is _numba.kernel
    rng = np.random.default_rng(7)
    p, q = rows((4, _numpy.NUMBA_MIN // 4), rng), rows((4, _numpy.NUMBA_MIN // 4), rng)
    assert _numba.kernel("kl", p, q) is not None
    calls = []

    def counted(*args):
        calls.append(args[0])
        return _numba.kernel(*args)

    monkeypatch.setattr(_numpy, "_accelerator", lambda: counted)
    np.testing.assert_allclose(kl.kl_divergence(p, q), sp.rel_entr(p, q).sum(-1), rtol=1e-13)
    assert calls == ["kl"]
    monkeypatch.undo()
    monkeypatch.setenv("KLKIT_NUMBA", "0")
    assert _numpy._accelerator() is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_ask_llvm_for_512_bit_vectors(dtype):
    """The ``prefer-vector-width`` attribute reaches the compiled loops.

    `_wide` adds it through llvmlite's attribute set; if that ever stops working the
    kernels stay right but lose 30% on AVX-512 CPUs, silently, so check the IR of a
    fresh (uncached: the cache keeps no IR) compilation of the KL loop, and on an
    AVX-512 CPU that its machine code uses the 512-bit registers.
    """
    import llvmlite.binding
    from numba import njit

    from klkit._backends import _numba

    a = rows((1, 64), np.random.default_rng(0))[0].astype(dtype)
    options = _numba._kl_part.targetoptions  # the kernels' fastmath and error model
    part = njit(**{k: v for k, v in options.items() if k not in ("cache", "nopython")})(
        _numba._kl_part.py_func
    )
    part(a, a[::-1].copy(), _numba._CONSTANTS[a.dtype])
    ir = "".join(part.inspect_llvm().values())
    assert '"prefer-vector-width"="512"' in ir
    if "+avx512f" in llvmlite.binding.get_host_cpu_features().flatten():
        assert "zmm" in "".join(part.inspect_asm().values())  # and the loop uses it


def _ulps(values, references, dtype) -> float:
    """Largest error of ``values`` in units of ``dtype``'s eps relative to mpmath's."""
    eps = mpmath.mpf(float(np.finfo(dtype).eps))
    return max(
        float(abs(mpmath.mpf(float(v)) - r) / (abs(r) * eps))
        for v, r in zip(values, references, strict=True)
        if r != 0
    )


# Worst terms measured on these inputs: 8-19 ulp on either engine and dtype (numba:
# r ~ 0.65, where x and r each carry the rounding of 1/p; ufuncs: |r - 1| ~ 0.1).
TERM_ULPS = 24


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_kl_term_is_within_a_few_ulp_of_mpmath(dtype, engine):
    # One outcome per row and no validation: each row is one term p (r - 1 - log r),
    # r = q/p, over ratios near 1 (down to 1e-15), around the near/far boundaries
    # (r ~ 0.7, 1.4) and far (e^-30 to e^30).
    rng = np.random.default_rng(11)
    tiny = 1e-15 if dtype == np.float64 else 1e-7
    ratios = np.concatenate(
        [
            1 + rng.choice([-1, 1], 600) * 10.0 ** rng.uniform(np.log10(tiny), -1, 600),
            rng.uniform(0.55, 1.6, 600),
            np.exp(rng.uniform(-30, 30, 600)),
        ]
    )
    p = rng.uniform(1e-3, 1, ratios.size).astype(dtype)
    q = (p * ratios).astype(dtype)
    with mpmath.workdps(40):
        ratios = [mpmath.mpf(float(b)) / mpmath.mpf(float(a)) for a, b in zip(p, q, strict=True)]
        refs = [float(a) * (r - 1 - mpmath.log(r)) for a, r in zip(p, ratios, strict=True)]
        assert _numpy.numpy_rows("kl", (p[:, None], q[:, None]), validate=False) is not None
        terms = kl.kl_divergence(p[:, None], q[:, None], validate=False)
        assert _ulps(terms, refs, dtype) <= TERM_ULPS


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_entropy_and_cross_entropy_term_is_within_an_ulp_or_two_of_mpmath(dtype, engine):
    # One outcome per row, unvalidated: rows are -p log p and -p log q over uniform
    # values, values just below 1 (log x ~ x - 1, no cancellation allowed), the whole
    # normal range in log scale, and subnormals (scaled to normal before the log).
    rng = np.random.default_rng(12)
    info = np.finfo(dtype)
    x = np.concatenate(
        [
            rng.random(400),
            1 - 10.0 ** rng.uniform(np.log10(float(info.eps)), -1, 400),
            np.exp(rng.uniform(np.log(float(info.tiny)), 0, 400)),
            float(info.smallest_subnormal) * rng.integers(1, 2**20, 100),
        ]
    ).astype(dtype)
    x = x[(x > 0) & (x < 1)]
    p = rng.uniform(1e-3, 1, x.size).astype(dtype)
    with mpmath.workdps(40):
        logs = [mpmath.log(mpmath.mpf(float(v))) for v in x]
        entropy_refs = [-mpmath.mpf(float(v)) * lg for v, lg in zip(x, logs, strict=True)]
        ce_refs = [-mpmath.mpf(float(a)) * lg for a, lg in zip(p, logs, strict=True)]
        for name, args in [("entropy", (x,)), ("cross_entropy", (p, x))]:
            assert _numpy.numpy_rows(name, [a[:, None] for a in args], validate=False) is not None
        # A subnormal result (-x log x of a subnormal x) is exact to an ulp of the
        # smallest normal: _ulps would divide by the subnormal.
        normal = [abs(r) >= info.tiny for r in entropy_refs]
        terms = kl.entropy(x[:, None], validate=False)
        assert _ulps(terms[normal], np.array(entropy_refs)[normal], dtype) <= 2
        assert _ulps(kl.cross_entropy(p[:, None], x[:, None], validate=False), ce_refs, dtype) <= 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_entries_the_log_cannot_scale_and_negative_zeros_go_generic(dtype, engine):
    # The kernels scale every x by 2^54 (2^25 in float32) before the log, so x from
    # 2^970 (2^103) up would overflow; one unsigned compare of the bits sends those,
    # and -0.0 (sign bit set), to the generic path. (np.log, on the ufunc engine, takes
    # them all.) Values: -log(x) - log(tiny) stays positive, so no clipping hides them.
    numba = engine == "numba"
    info = np.finfo(dtype)
    big = dtype(2.0 ** (970 if dtype == np.float64 else 103))
    below = np.nextafter(big, dtype(0))
    ones = np.ones(2, dtype)
    for x, kernels in [(big, not numba), (below, True)]:
        q = np.array([x, info.smallest_subnormal], dtype)
        assert (
            _numpy.numpy_rows("cross_entropy", (ones, q), validate=False) is not None
        ) == kernels
        with mpmath.workdps(40):
            expected = -sum(mpmath.log(mpmath.mpf(float(v))) for v in q)
        value = kl.cross_entropy(ones, q, validate=False)
        assert float(value) == pytest.approx(
            float(expected), rel=1e-12 if dtype == np.float64 else 1e-6
        )
        p = np.array([x, 0.5], dtype)
        assert (_numpy.numpy_rows("entropy", (p,), validate=False) is not None) == kernels
        if numba and kernels:  # the kernel's own sum: the public result clips it at 0
            with mpmath.workdps(40):
                expected = -sum(mpmath.mpf(float(v)) * mpmath.log(mpmath.mpf(float(v))) for v in p)
            from klkit._backends import _numba

            total = _numba.kernel("entropy", p[None, :])[0][0]
            assert total == pytest.approx(
                float(expected), rel=1e-12 if dtype == np.float64 else 1e-6
            )
    signed = np.array([-0.0, 0.5, 0.5], dtype)
    assert (_numpy.numpy_rows("entropy", (signed,), validate=True) is None) == numba
    assert kl.entropy(signed) == pytest.approx(math.log(2), rel=1e-6)


probabilities = st.lists(st.floats(0, 1) | st.just(0.0), min_size=2, max_size=40)


# The engine fixture holds for every example: nothing is reset between them.
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(probabilities, probabilities, st.sampled_from([np.float64, np.float32]))
def test_both_engines_match_the_generic_path(engine, a, b, dtype):
    n = min(len(a), len(b))
    a, b = np.array(a[:n]), np.array(b[:n])
    a[0] += 1e-3  # no all-zero row
    b[-1] += 1e-3
    p, q = (a / a.sum()).astype(dtype), (b / b.sum()).astype(dtype)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for name, measure in [
        ("entropy", kl.entropy),
        ("cross_entropy", kl.cross_entropy),
        ("kl", kl.kl_divergence),
        ("js", kl.js_divergence),
    ]:
        args = (p,) if name == "entropy" else (p, q)
        try:
            expected = generic(measure, *args)
        except kl.DistributionError:  # rounding put a row outside the tolerance
            with pytest.raises(kl.DistributionError):
                measure(*args)
            continue
        value = measure(*args)  # subnormal ratios etc. go generic: same answer
        assert value >= 0, name
        np.testing.assert_allclose(value, expected, rtol=rtol, atol=1e-300, err_msg=name)


def _threaded_pair() -> tuple[np.ndarray, np.ndarray]:
    from klkit._backends import _numba

    rng = np.random.default_rng(13)
    shape = (64, _numba.THREADED_MIN // 32)  # 2x THREADED_MIN: split over threads
    return rows(shape, rng), rows(shape, rng)


_FORK_CHILD = """
import multiprocessing, sys
import numpy as np
import klkit as kl
from klkit._backends import _numba
_numba._POOL.workers = 2  # threads even on a 1-core runner, or there is nothing to test
rng = np.random.default_rng(13)
shape = (64, _numba.THREADED_MIN // 32)  # 2x THREADED_MIN: split over threads
p = rng.random(shape); p /= p.sum(-1, keepdims=True)
q = rng.random(shape); q /= q.sum(-1, keepdims=True)
def first_row(_):
    return repr(float(kl.kl_divergence(p, q)[0]))
print(first_row(0))  # the parent uses the kernels' threads first
with multiprocessing.get_context("fork").Pool(2) as pool:
    print(*pool.map(first_row, range(2)))
import scipy.special as sp
print(repr(float(sp.rel_entr(p[0], q[0]).sum())))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_a_forked_child_can_use_the_kernels_after_its_parent():
    # Numba's OpenMP layer terminated forked children ("fork() called from a process
    # already using GNU OpenMP"); klkit's own threads must not. A fresh interpreter:
    # this one has JAX's threads, which warn on fork.
    env = {k: v for k, v in os.environ.items() if k != "KLKIT_NUMBA"}
    out = subprocess.run(
        [sys.executable, "-c", _FORK_CHILD],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,  # a normal run takes ~1 s; the bug hangs the child
        env=env,
    )
    assert out.returncode == 0, out.stderr
    parent, children, reference = out.stdout.split("\n")[:3]
    assert children.split() == [parent, parent]
    assert float(parent) == pytest.approx(float(reference), rel=1e-13)


def test_threads_may_call_the_kernels_at_once(monkeypatch):
    # As Dask's threaded scheduler does with chunks.
    monkeypatch.delenv("KLKIT_NUMBA", raising=False)
    p, q = _threaded_pair()
    expected = sp.rel_entr(p, q).sum(-1)
    with concurrent.futures.ThreadPoolExecutor(4) as executor:
        results = list(executor.map(lambda _: kl.kl_divergence(p, q), range(8)))
    for result in results:
        np.testing.assert_allclose(result, expected, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_entries_near_the_float_max_go_generic(dtype, engine, mp_kl):
    # Found by review: 1/p is subnormal there and its lost bits made KL(P || P) 2e265
    # on the kernels. Unvalidated; the generic path's intermediate sums may overflow
    # there (a NumPy warning, silenced here). Reference: mpmath on the exact floats.
    big = float(np.finfo(dtype).max) * 0.45  # 1/big is subnormal, big + big finite
    p = (big * np.linspace(0.6, 1, 40)).astype(dtype)
    with np.errstate(over="ignore"):
        for measure in (kl.kl_divergence, kl.js_divergence):
            assert measure(p, p.copy(), validate=False) == 0
        p = np.full(40, 1e-4, dtype)
        p[0] = big
        q = p.copy()
        q[1] *= 1 + 1e-3
        np.testing.assert_allclose(kl.kl_divergence(p, q, validate=False), mp_kl(p, q), rtol=1e-5)


@pytest.mark.parametrize("k", [1_000_003, 3_000_017])
def test_float32_sums_over_a_million_outcomes_keep_float32_precision(k, engine):
    # A uniform row sums one rounded term k times, so every rounding of the running
    # sum leans the same way: the ufunc engine's float32 dots over 131072-element
    # blocks were off by 1e-5, and Numba kernels with float32 subtotals of 16K terms
    # (instead of 256) by 3e-6 and 8e-6. Reference: mpmath on the float32 of 1/k.
    p = np.full((1, k), 1 / k, np.float32)
    term = mpmath.mpf(float(p[0, 0]))
    expected = float(-k * term * mpmath.log(term))
    assert _numpy.numpy_rows("entropy", (p,), validate=True) is not None
    for value in (kl.entropy(p), kl.cross_entropy(p, p.copy())):
        assert value.dtype == np.float32
        assert float(value[0]) == pytest.approx(expected, rel=4e-7)
