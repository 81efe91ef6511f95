"""klkit against the references, measured side by side in one run.

    python benchmarks/bench.py            # the full table (a few minutes)
    python benchmarks/bench.py --quick    # small sizes, seconds: CI runs this
    python benchmarks/bench.py --only training jax_loss   # some sections only

Every row times klkit and its references on the same data in the same process, with a
warm-up call and the median of several runs (torch's and JAX's losses interleave
klkit's calls with the reference's), and prints ratios (lower is better for
klkit: ``klkit / reference``). The "floor" is one read of both inputs,
``np.add.reduce(p, -1) + np.add.reduce(q, -1)``. NumPy and Dask memory is the
tracemalloc peak beyond the inputs; torch and cKDTree memory (which tracemalloc does
not see) is the rise of the kernel's resident high-water mark in a fresh process.
The last section times klkit.estimate's kNN KL on two 10^5 x 5 samples. Nothing here
asserts a time: CI runs it only so it never rots.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp
import scipy.stats as ss

import klkit as kl
from klkit._backends import _numpy


def median_time(fn: Callable[[], Any], *, budget: float, min_runs: int = 5) -> float:
    """Median seconds per call: one warm-up, then ``min_runs`` runs or ``budget`` seconds."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < budget and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def paired_times(
    mine: Callable[[], Any], ref: Callable[[], Any], *, budget: float, min_runs: int = 9
) -> tuple[float, float]:
    """Median seconds per call of ``mine`` and ``ref``, their calls interleaved.

    One warm-up each, then one call of each in turn until both have ``min_runs`` runs
    and ``2 * budget`` seconds have passed: a load that comes and goes on a shared
    machine then slows both sides alike, and their ratio stays put.
    """
    mine()
    ref()
    t_mine: list[float] = []
    t_ref: list[float] = []
    start = time.perf_counter()
    while len(t_mine) < min_runs or (
        time.perf_counter() - start < 2 * budget and len(t_mine) < 200
    ):
        for fn, times in ((mine, t_mine), (ref, t_ref)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(t_mine), statistics.median(t_ref)


def peak_bytes(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def pair(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.random(shape) + 0.01
    q = rng.random(shape) + 0.01
    return (p / p.sum(-1, keepdims=True)).astype(dtype), (q / q.sum(-1, keepdims=True)).astype(
        dtype
    )


def ufuncs_only(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` on the ufunc engine: KLKIT_NUMBA=0, as a user without klkit[fast] runs it."""

    def run() -> Any:
        saved = os.environ.get("KLKIT_NUMBA")
        os.environ["KLKIT_NUMBA"] = "0"
        try:
            return fn()
        finally:
            if saved is None:
                del os.environ["KLKIT_NUMBA"]
            else:
                os.environ["KLKIT_NUMBA"] = saved

    return run


def engine() -> str:
    """Which engine klkit's NumPy fast path uses for large arrays here."""
    if _numpy._accelerator() is None:
        return "NumPy ufuncs (KLKIT_NUMBA=0, or Numba not installed: pip install klkit[fast])"
    import numba

    from klkit._backends import _numba

    return f"Numba {numba.__version__} kernels on {_numba._POOL.workers} threads"


def numpy_section(shapes: list[tuple[int, ...]], budget: float) -> None:
    print(f"\nklkit's engine for NumPy arrays of {_numpy.NUMBA_MIN}+ elements: {engine()}")
    for dtype in (np.float64, np.float32):
        rows, rows_h_ce = [], []
        for shape in shapes:
            p, q = pair(shape, dtype)
            t = {
                "floor": median_time(
                    lambda: np.add.reduce(p, -1) + np.add.reduce(q, -1), budget=budget
                ),
                "floor_p": median_time(lambda: np.add.reduce(p, -1), budget=budget),
                "naive": median_time(lambda: (p * np.log(p / q)).sum(-1), budget=budget),
                "scipy": median_time(lambda: ss.entropy(p, q, axis=-1), budget=budget),
                "rel_entr": median_time(lambda: sp.rel_entr(p, q).sum(-1), budget=budget),
                "kl": median_time(lambda: kl.kl_divergence(p, q), budget=budget),
                "kl_uf": median_time(ufuncs_only(lambda: kl.kl_divergence(p, q)), budget=budget),
                "kl_nv": median_time(lambda: kl.kl_divergence(p, q, validate=False), budget=budget),
                "H": median_time(lambda: kl.entropy(p), budget=budget),
                "naive_H": median_time(lambda: -(p * np.log(p)).sum(-1), budget=budget),
                "scipy_H": median_time(lambda: ss.entropy(p, axis=-1), budget=budget),
                "CE": median_time(lambda: kl.cross_entropy(p, q), budget=budget),
                "naive_CE": median_time(lambda: -(p * np.log(q)).sum(-1), budget=budget),
                "xlogy_CE": median_time(lambda: -sp.xlogy(p, q).sum(-1), budget=budget),
                "JS": median_time(lambda: kl.js_divergence(p, q), budget=budget),
            }
            rows.append(
                [
                    str(shape),
                    fmt(t["floor"]),
                    fmt(t["kl"]),
                    f"{t['kl'] / t['floor']:.2f}x",
                    f"{t['kl'] / t['naive']:.2f}x",
                    f"{t['scipy'] / t['kl']:.1f}x",
                    f"{t['rel_entr'] / t['kl']:.1f}x",
                    f"{t['kl'] / t['kl_nv'] - 1:+.0%}",
                    f"{t['JS'] / t['kl']:.2f}x",
                    f"{t['kl_uf'] / t['naive']:.2f}x",
                ]
            )
            rows_h_ce.append(
                [
                    str(shape),
                    fmt(t["H"]),
                    f"{t['H'] / t['floor_p']:.2f}x",
                    f"{t['H'] / t['naive_H']:.2f}x",
                    f"{t['scipy_H'] / t['H']:.1f}x",
                    fmt(t["CE"]),
                    f"{t['CE'] / t['floor']:.2f}x",
                    f"{t['CE'] / t['naive_CE']:.2f}x",
                    f"{t['xlogy_CE'] / t['CE']:.1f}x",
                ]
            )
        name = np.dtype(dtype).name
        table(
            f"NumPy {name}: kl_divergence (validated) against the references",
            [
                "shape",
                "floor",
                "klkit KL",
                "/floor",
                "/naive",
                "scipy.entropy /klkit",
                "rel_entr /klkit",
                "validation cost",
                "JS /KL",
                "ufuncs KL /naive",
            ],
            rows,
        )
        table(
            f"NumPy {name}: entropy and cross_entropy (validated); entropy's floor reads p only",
            [
                "shape",
                "entropy",
                "/floor",
                "/naive",
                "scipy.entropy(p) /klkit",
                "cross_entropy",
                "/floor",
                "/naive",
                "-xlogy(p, q).sum /klkit",
            ],
            rows_h_ce,
        )


def memory_section(n: int) -> None:
    p, q = pair((n,), np.float64)
    inputs = p.nbytes + q.nbytes
    rows = [
        ["klkit kl_divergence", f"{peak_bytes(lambda: kl.kl_divergence(p, q)) / inputs:.1%}"],
        [
            "naive (p * log(p / q)).sum()",
            f"{peak_bytes(lambda: (p * np.log(p / q)).sum()) / inputs:.0%}",
        ],
        ["scipy.stats.entropy", f"{peak_bytes(lambda: ss.entropy(p, q)) / inputs:.0%}"],
    ]
    table(
        f"Extra memory of a KL of two {n:.0e}-element float64 arrays (tracemalloc peak / inputs)",
        ["", "peak / inputs"],
        rows,
    )


def small_section(budget: float) -> None:
    a, b = [1 / 6] * 6, [0.1] * 5 + [0.5]
    k = median_time(lambda: kl.kl_divergence(a, b), budget=budget)
    s = median_time(lambda: ss.entropy(a, b), budget=budget)
    h = median_time(lambda: kl.entropy(a), budget=budget)
    table(
        "Small calls: two 6-element Python lists, validated",
        ["call", "time", "scipy.stats.entropy / klkit"],
        [
            ["kl_divergence", fmt(k), f"{s / k:.0f}x"],
            ["entropy", fmt(h), ""],
            ["scipy.stats.entropy", fmt(s), ""],
        ],
    )


_PEAK_PRELUDE = r"""
import sys
def _kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))
def start_peak():  # reset the high-water mark (VmHWM) to the current RSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _kb("VmRSS")
def report_peak(base):
    print((_kb("VmHWM") - base) * 1024)
"""

_TORCH_PEAK_CHILD = r"""
import torch
import torch.nn.functional as F
import klkit as kl
n, c = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
for rows in (2, n):  # a tiny warm-up call first: one-time setup is not the call's cost
    z = torch.randn(rows, c, requires_grad=sys.argv[4] == "grad")
    y = torch.randint(0, c, (rows,))
    if rows == n:
        base = start_peak()
    exec(sys.argv[3])
report_peak(base)
"""


def child_peak(child: str, *args: str) -> float | None:
    """Peak resident memory (bytes) of one call beyond its inputs, in a fresh process.

    tracemalloc sees neither torch's allocator nor cKDTree's, and CPU torch has no peak
    counter, so a child process resets the kernel's high-water mark (``clear_refs``)
    just before the call and reports how far it rose. Linux only; None elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return None
    argv = [sys.executable, "-c", _PEAK_PRELUDE + child, *args]
    # glibc raises its mmap threshold after a large free and keeps freed blocks in the
    # heap: a fixed threshold makes resident memory track live memory
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2**20)}
    out = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if out.returncode:  # e.g. /proc/self/clear_refs not writable here
        return None
    return float(out.stdout.split()[-1])


def memory_ratio(n: int, c: int, *, grad: bool) -> str:
    """klkit's peak memory over F.cross_entropy's for labels and logits (both fresh)."""
    tail = ".sum().backward()" if grad else ""
    flag = "grad" if grad else ""
    ref = child_peak(
        _TORCH_PEAK_CHILD, str(n), str(c), f'F.cross_entropy(z, y, reduction="none"){tail}', flag
    )
    mine = child_peak(
        _TORCH_PEAK_CHILD,
        str(n),
        str(c),
        f"kl.cross_entropy(kl.Labels(y), kl.Logits(z)){tail}",
        flag,
    )
    if ref is None or mine is None or ref <= 0:
        return "n/a"  # not Linux, or too small for the page-granular counter
    return f"{mine / ref:.2f}x ({mine / 2**20:.0f}/{ref / 2**20:.0f} MB)"


def torch_section(shapes: list[tuple[int, int]], budget: float) -> None:
    try:
        import torch
        import torch.nn.functional as F
    except ModuleNotFoundError:
        print("\n(torch not installed: skipped)")
        return
    rows = []
    for n, c in shapes:
        p, q = (torch.from_numpy(a) for a in pair((n, c), np.float32))
        mine, ref = paired_times(
            lambda: kl.kl_divergence(p, q),
            lambda: F.kl_div(q.log(), p, reduction="none").sum(-1),
            budget=budget,
        )
        rows.append(
            [
                f"kl_divergence ({n}, {c})",
                fmt(mine),
                "F.kl_div(q.log(), p).sum(-1)",
                fmt(ref),
                f"{mine / ref:.2f}x",
                "",
            ]
        )
        z = torch.randn(n, c)
        y = torch.randint(0, c, (n,))
        mine, ref = paired_times(
            lambda: kl.cross_entropy(kl.Labels(y), kl.Logits(z)),
            lambda: F.cross_entropy(z, y, reduction="none"),
            budget=budget,
        )
        rows.append(
            [
                f"cross_entropy labels/logits ({n}, {c})",
                fmt(mine),
                "F.cross_entropy",
                fmt(ref),
                f"{mine / ref:.2f}x",
                memory_ratio(n, c, grad=False),
            ]
        )
        zg = z.clone().requires_grad_()

        def ref_bwd() -> None:
            F.cross_entropy(zg, y, reduction="none").sum().backward()

        def mine_bwd() -> None:
            kl.cross_entropy(kl.Labels(y), kl.Logits(zg)).sum().backward()

        mine, ref = paired_times(mine_bwd, ref_bwd, budget=budget)
        rows.append(
            [
                f"  forward+backward ({n}, {c})",
                fmt(mine),
                "F.cross_entropy",
                fmt(ref),
                f"{mine / ref:.2f}x",
                memory_ratio(n, c, grad=True),
            ]
        )
        t = torch.rand(n, c)
        mine, ref = paired_times(
            lambda: kl.binary_cross_entropy(t, kl.Logits(z)),
            lambda: F.binary_cross_entropy_with_logits(z, t, reduction="none"),
            budget=budget,
        )
        rows.append(
            [
                f"binary_cross_entropy logits ({n}, {c})",
                fmt(mine),
                "F.bce_with_logits",
                fmt(ref),
                f"{mine / ref:.2f}x",
                "",
            ]
        )
    table(
        "PyTorch CPU, float32",
        ["klkit call", "klkit", "reference", "ref time", "klkit / ref", "peak memory / ref"],
        rows,
    )


def _loss_pairs(n: int, c: int) -> list[tuple[str, str, Any, Any]]:
    """(klkit call, reference, klkit loss, torch loss) at (n, c); each takes logits z."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    t = torch.randn(n, c, generator=g)
    p = torch.softmax(t, -1)
    y = torch.randint(0, c, (n,), generator=g)
    y[: n // 10] = -100
    w = torch.rand(c, generator=g) + 0.5
    yb = (torch.rand(n, c, generator=g) > 0.5).float()
    labels = kl.Labels(y, ignore_index=-100, smoothing=0.1)
    return [
        (
            "kl_divergence(p, Logits(z), mean)",
            "F.kl_div(log_softmax(z), p, batchmean)",
            lambda z: kl.kl_divergence(p, kl.Logits(z), reduction="mean"),
            lambda z: F.kl_div(F.log_softmax(z, -1), p, reduction="batchmean"),
        ),
        (
            "kl_divergence(Logits(t), Logits(z), mean)",
            "F.kl_div(.., log_target=True)",
            lambda z: kl.kl_divergence(kl.Logits(t), kl.Logits(z), reduction="mean"),
            lambda z: F.kl_div(
                F.log_softmax(z, -1), F.log_softmax(t, -1), reduction="batchmean", log_target=True
            ),
        ),
        (
            "binary_cross_entropy(y, Logits(z), mean)",
            "F.bce_with_logits",
            lambda z: kl.binary_cross_entropy(yb, kl.Logits(z), reduction="mean"),
            lambda z: F.binary_cross_entropy_with_logits(z, yb),
        ),
        (
            "cross_entropy(Labels(y, ignore, smoothing), Logits(z), weight, mean)",
            "F.cross_entropy, same options",
            lambda z: kl.cross_entropy(labels, kl.Logits(z), weight=w, reduction="mean"),
            lambda z: F.cross_entropy(z, y, weight=w, ignore_index=-100, label_smoothing=0.1),
        ),
    ]


def training_section(shapes: list[tuple[int, int]], budget: float) -> None:
    """Forward + backward of the training losses against torch's own, float32 CPU."""
    try:
        import torch
    except ModuleNotFoundError:
        print("\n(torch not installed: skipped)")
        return
    rows = []
    for n, c in shapes:
        z0 = torch.randn(n, c, generator=torch.Generator().manual_seed(1))
        for name, ref_name, mine, ref in _loss_pairs(n, c):

            def step(loss: Any) -> None:
                z = z0.clone().requires_grad_()
                loss(z).backward()

            t_mine, t_ref = paired_times(
                lambda mine=mine: step(mine), lambda ref=ref: step(ref), budget=budget
            )
            rows.append(
                [f"{name} ({n}, {c})", fmt(t_mine), ref_name, fmt(t_ref), f"{t_mine / t_ref:.2f}x"]
            )
    table(
        "Training losses, forward + backward, PyTorch CPU float32",
        ["klkit call", "klkit", "reference", "ref time", "klkit / ref"],
        rows,
    )


_LINEAR_PEAK_CHILD = r"""
import torch
import torch.nn.functional as F
import klkit as kl
n, d, c, how = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
g = torch.Generator().manual_seed(0)
h = torch.randn(n, d, generator=g, requires_grad=True)
w = (torch.randn(c, d, generator=g) / d**0.5).requires_grad_()
y = torch.randint(0, c, (n,), generator=g)
def run(h, w, y):
    if how == "klkit":
        return kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w), reduction="mean")
    if how == "linear":
        opts = torch.nn.LinearCrossEntropyOptions()
        return F.linear_cross_entropy(h, w, y, options=opts)
    return F.cross_entropy(h @ w.T, y)
run(h[:4], w, y[:4]).backward()
h.grad = w.grad = None
base = start_peak()
run(h, w, y).backward()
report_peak(base)
"""


def linear_section(shapes: list[tuple[int, int, int]], budget: float) -> None:
    """LinearLogits against F.linear_cross_entropy: time and peak memory, forward+backward."""
    try:
        import torch
        import torch.nn.functional as F
    except ModuleNotFoundError:
        print("\n(torch not installed: skipped)")
        return
    rows = []
    for n, d, c in shapes:
        g = torch.Generator().manual_seed(0)
        h0 = torch.randn(n, d, generator=g)
        w0 = torch.randn(c, d, generator=g) / d**0.5
        y = torch.randint(0, c, (n,), generator=g)

        def step(how: str) -> None:
            h, w = h0.clone().requires_grad_(), w0.clone().requires_grad_()
            if how == "klkit":
                loss = kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w), reduction="mean")
            else:
                opts = torch.nn.LinearCrossEntropyOptions()
                loss = F.linear_cross_entropy(h, w, y, options=opts)
            loss.backward()

        t_mine = median_time(lambda: step("klkit"), budget=budget, min_runs=3)
        t_ref = median_time(lambda: step("linear"), budget=budget, min_runs=3)
        peaks = {
            how: child_peak(_LINEAR_PEAK_CHILD, str(n), str(d), str(c), how)
            for how in ("klkit", "linear", "materialised")
        }
        mine, mat = peaks["klkit"], peaks["materialised"]
        memory = "n/a"
        if mine is not None and mat:
            memory = f"{mine / mat:.2f}x ({mine / 2**20:.0f} / {mat / 2**20:.0f} MB)"
        rows.append(
            [
                f"({n} x {d}) against ({c} x {d})",
                fmt(t_mine),
                fmt(t_ref),
                f"{t_mine / t_ref:.2f}x",
                memory,
            ]
        )
    table(
        "LinearLogits cross-entropy, forward + backward, PyTorch CPU float32",
        [
            "h against weight",
            "klkit",
            "F.linear_cross_entropy",
            "klkit / ref",
            "peak memory / materialised F.cross_entropy(h @ W.T)",
        ],
        rows,
    )


def jax_loss_section(shapes: list[tuple[int, int]], budget: float) -> None:
    """Labelled cross-entropy with torch's options under jit, against an optax-style expression.

    Both sides: ignore_index (a tenth of the labels), smoothing 0.1, per-class weights,
    the weighted mean; klkit with ``validate=False``. Logits, labels and weights are
    all arguments of the jitted function, as in a training step (labels as constants
    would let XLA fold them).
    """
    try:
        import jax
        import jax.numpy as jnp
    except ModuleNotFoundError:
        print("\n(jax not installed: skipped)")
        return
    eps = 0.1

    def hand(z: Any, y: Any, w: Any) -> Any:  # optax's integer-label CE + torch's options
        c = z.shape[-1]
        keep = y != -100
        safe = jnp.where(keep, y, 0)
        lp = jax.nn.log_softmax(z, axis=-1)
        nll = -jnp.take_along_axis(lp, safe[:, None], axis=-1)[:, 0] * w[safe]
        rows = (1 - eps) * nll - eps / c * jnp.sum(lp * w, axis=-1)
        return jnp.sum(jnp.where(keep, rows, 0.0)) / jnp.sum(jnp.where(keep, w[safe], 0.0))

    def mine(z: Any, y: Any, w: Any) -> Any:
        labels = kl.Labels(y, ignore_index=-100, smoothing=eps)
        return kl.cross_entropy(labels, kl.Logits(z), weight=w, reduction="mean", validate=False)

    rows = []
    for n, c in shapes:
        g = np.random.default_rng(0)
        z = jnp.asarray(g.normal(size=(n, c)).astype(np.float32))
        labels = g.integers(0, c, n)
        labels[: n // 10] = -100
        y = jnp.asarray(labels)
        w = jnp.asarray((g.random(c) + 0.5).astype(np.float32))
        for name, f_mine, f_hand in (
            ("value", jax.jit(mine), jax.jit(hand)),
            (
                "value and gradient",
                jax.jit(jax.value_and_grad(mine)),
                jax.jit(jax.value_and_grad(hand)),
            ),
        ):
            t_mine, t_hand = paired_times(
                lambda f=f_mine: jax.block_until_ready(f(z, y, w)),
                lambda f=f_hand: jax.block_until_ready(f(z, y, w)),
                budget=budget,
            )
            rows.append(
                [
                    f"cross_entropy(Labels(y, ignore, smoothing), Logits(z), weight, mean) "
                    f"{(n, c)}, {name}",
                    fmt(t_mine),
                    fmt(t_hand),
                    f"{t_mine / t_hand:.2f}x",
                ]
            )
    table(
        "JAX CPU under jit, float32: labelled cross-entropy",
        ["call", "klkit", "optax-style", "klkit / ref"],
        rows,
    )


def jax_section(shape: tuple[int, int], budget: float) -> None:
    try:
        import jax
        import jax.numpy as jnp
    except ModuleNotFoundError:
        print("\n(jax not installed: skipped)")
        return
    p, q = (jnp.asarray(a) for a in pair(shape, np.float32))
    mine = jax.jit(lambda p, q: kl.kl_divergence(p, q))
    hand = jax.jit(lambda p, q: jnp.sum(p * jnp.log(p / q), axis=-1))
    t_mine = median_time(lambda: mine(p, q).block_until_ready(), budget=budget)
    t_hand = median_time(lambda: hand(p, q).block_until_ready(), budget=budget)
    table(
        "JAX CPU under jit, float32",
        ["call", "klkit", "hand-written", "klkit / hand"],
        [[f"kl_divergence {shape}", fmt(t_mine), fmt(t_hand), f"{t_mine / t_hand:.2f}x"]],
    )


def dask_section(rows: int, k: int, chunk_rows: int) -> None:
    try:
        import dask
        import dask.array as da
    except ModuleNotFoundError:
        print("\n(dask not installed: skipped)")
        return

    def make(seed: int) -> Any:
        x = da.random.default_rng(seed).random((rows, k), chunks=(chunk_rows, k)) + 0.01
        return x / x.sum(-1, keepdims=True)

    p, q = make(0), make(1)
    chunk = chunk_rows * k * 8
    with dask.config.set(scheduler="threads"):
        t0 = time.perf_counter()
        peak = peak_bytes(lambda: kl.kl_divergence(p, q).compute())
        seconds = time.perf_counter() - t0
    table(
        "Dask, float64, inputs generated chunk by chunk (tracemalloc peak)",
        ["elements", "chunk", "time", "peak", "peak / chunk", "peak / inputs"],
        [
            [
                f"{rows * k:.0e}",
                f"{chunk / 1e6:.0f} MB",
                f"{seconds:.2f} s",
                f"{peak / 1e6:.0f} MB",
                f"{peak / chunk:.1f}",
                f"{peak / (2 * rows * k * 8):.1%}",
            ]
        ],
    )


_ESTIMATE_PEAK_CHILD = r"""
import numpy as np
import klkit.estimate as ke
n, d = int(sys.argv[1]), int(sys.argv[2])
groups = None if sys.argv[3] == "none" else int(sys.argv[3])
g = np.random.default_rng(0)
x, y = g.normal(size=(n, d)), g.normal(0.3, 1.0, size=(n, d))
ke.kl_divergence(x[:50], y[:50], groups=None)  # warm-up: imports and first calls
base = start_peak()
ke.kl_divergence(x, y, groups=groups, rng=0)
report_peak(base)
"""


def estimate_section(n: int, d: int, budget: float) -> None:
    """The kNN KL estimator (klkit.estimate) on two n x d samples: time and peak memory."""
    import klkit.estimate as ke

    g = np.random.default_rng(0)
    x, y = g.normal(size=(n, d)), g.normal(0.3, 1.0, size=(n, d))
    rows = []
    for groups, what in ((None, "value only"), (20, "value + 95% interval (20 jackknife groups)")):
        seconds = median_time(
            lambda: ke.kl_divergence(x, y, groups=groups, rng=0),
            budget=budget,
            min_runs=3 if groups else 5,  # the interval costs 21 estimates
        )
        used = child_peak(
            _ESTIMATE_PEAK_CHILD, str(n), str(d), "none" if groups is None else str(groups)
        )
        peak = (
            "n/a" if used is None else f"{used / 2**20:.1f} MB ({used / x.nbytes:.1f}x one input)"
        )
        rows.append([f"kNN KL, {n} x {d} vs {n} x {d}, {what}", fmt(seconds), peak])
    est = ke.kl_divergence(x, y, rng=0)
    rows.append([f"  gives {est}; true {0.5 * d * 0.3**2:.4g} nats", "", ""])
    table(
        "klkit.estimate (SciPy cKDTree, all cores)",
        ["call", "time", "peak memory beyond the inputs"],
        rows,
    )


SECTIONS = (
    "numpy",
    "memory",
    "small",
    "torch",
    "training",
    "linear",
    "jax",
    "jax_loss",
    "dask",
    "estimate",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        metavar="SECTION",
        help=f"run only these sections (of: {', '.join(SECTIONS)})",
    )
    args = parser.parse_args()
    if args.quick:
        shapes: list[tuple[int, ...]] = [(100, 100), (10, 1000), (10**4,)]
        budget, mem_n, torch_shapes, jax_shape = 0.02, 10**5, [(64, 100)], (64, 100)
        dask_shape = (100, 10**4, 10)
        estimate_shape = (2000, 5)
        linear_shapes = [(64, 16, 500)]
    else:
        shapes = [(1000, 1000), (100, 100000), (10**7,)]
        budget, mem_n, torch_shapes, jax_shape = (
            1.0,
            10**7,
            [(4096, 1000), (256, 50257)],
            (1000, 1000),
        )
        dask_shape = (1000, 10**5, 10)
        estimate_shape = (10**5, 5)
        linear_shapes = [(2048, 64, 50000), (4096, 512, 128256)]
    print(
        f"klkit {kl.__version__}, NumPy {np.__version__}; ratios are klkit / reference unless named"
    )
    jax_loss_shapes = list(dict.fromkeys([jax_shape, *torch_shapes]))
    runs: dict[str, Callable[[], None]] = {
        "numpy": lambda: numpy_section(shapes, budget),
        "memory": lambda: memory_section(mem_n),
        "small": lambda: small_section(budget),
        "torch": lambda: torch_section(torch_shapes, budget),
        "training": lambda: training_section(torch_shapes, budget),
        "linear": lambda: linear_section(linear_shapes, budget),
        "jax": lambda: jax_section(jax_shape, budget),
        "jax_loss": lambda: jax_loss_section(jax_loss_shapes, budget),
        "dask": lambda: dask_section(*dask_shape),
        "estimate": lambda: estimate_section(*estimate_shape, budget),
    }
    for name in SECTIONS:
        if name in args.only:
            runs[name]()


if __name__ == "__main__":
    main()
