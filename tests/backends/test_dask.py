"""Dask: lazy until compute(), checks at compute time, block by block, any chunking."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
from backends import Backend, requires
from hypothesis import given, settings
from hypothesis import strategies as st

import klkit as kl

da = requires(Backend.DASK)


class _NoCompute:
    """A Dask scheduler that fails the test if anything is computed."""

    def __call__(self, *args, **kwargs):
        msg = "klkit computed a Dask graph early"
        raise AssertionError(msg)


def test_dask_calls_compute_nothing():
    import dask

    rng = np.random.default_rng(0)
    p = rng.random((40, 8))
    p /= p.sum(-1, keepdims=True)
    bad = p.copy()
    bad[3, 2] = -1.0
    with dask.config.set(scheduler=_NoCompute()):
        x, y = da.from_array(p, chunks=(10, 8)), da.from_array(bad, chunks=(10, 8))
        for fn in (kl.kl_divergence, kl.cross_entropy, kl.js_divergence, kl.js_distance):
            fn(x, y)
        kl.entropy(y)
        kl.cross_entropy(kl.Labels(da.from_array(np.zeros(40, dtype=int), chunks=10)), kl.Logits(x))
        kl.binary_cross_entropy(x, y)


def test_dask_checks_raise_at_compute_with_global_index():
    p = np.full((40, 8), 1 / 8)
    bad = p.copy()
    bad[23, 5] = -0.5
    out = kl.kl_divergence(da.from_array(p, chunks=(10, 4)), da.from_array(bad, chunks=(10, 4)))
    with pytest.raises(
        kl.DistributionError, match=r"`q` has a negative entry -0\.5 at index \(23, 5\)"
    ):
        out.compute()
    rows = p.copy()
    rows[31] *= 2
    out = kl.entropy(da.from_array(rows, chunks=(10, 4)))
    with pytest.raises(kl.DistributionError, match=r"`p` sums to 2 in row 31, not 1"):
        out.compute()


def test_dask_result_is_chunked_and_correct():
    rng = np.random.default_rng(1)
    p = rng.random((1000, 50))
    p /= p.sum(-1, keepdims=True)
    q = rng.random((1000, 50))
    q /= q.sum(-1, keepdims=True)
    out = kl.kl_divergence(da.from_array(p, chunks=(100, 50)), da.from_array(q, chunks=(100, 50)))
    assert out.numblocks == (10,)
    np.testing.assert_allclose(out.compute(), ss.entropy(p, q, axis=-1), rtol=1e-12)


def test_dask_batch_streams_chunk_by_chunk():
    import tracemalloc

    # 2e7 float64 values: 160 MB per input, in 1 MB chunks that exist only while used
    n_rows, k = 200_000, 100
    p = da.full((n_rows, k), 1 / k, chunks=(1250, k))
    q = da.full((n_rows, k), 1 / k, chunks=(1250, k))
    out = kl.kl_divergence(p, q).sum()
    tracemalloc.start()
    try:
        total = out.compute(scheduler="synchronous")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 0.0
    # a few chunks and their temporaries, far below one input's 160 MB
    assert peak < 40e6, peak


def test_dask_distributed_local_cluster():
    distributed = requires(Backend.DASK, "distributed")
    rng = np.random.default_rng(2)
    p = rng.random((64, 10))
    p /= p.sum(-1, keepdims=True)
    q = rng.random((64, 10))
    q /= q.sum(-1, keepdims=True)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        x, y = da.from_array(p, chunks=(16, 10)), da.from_array(q, chunks=(16, 10))
        fut = client.compute(kl.js_divergence(x, y, base=2))
        # reference: scipy.spatial.distance.jensenshannon squared
        np.testing.assert_allclose(fut.result(), _js(p, q), rtol=1e-12)
        bad = q.copy()
        bad[40, 0] = np.nan
        fut = client.compute(kl.kl_divergence(x, da.from_array(bad, chunks=(16, 10))))
        with pytest.raises(
            kl.DistributionError, match=r"`q` has a non-finite entry nan at index \(40, 0\)"
        ):
            fut.result()


def _js(p, q):
    from scipy.spatial.distance import jensenshannon

    return jensenshannon(p, q, base=2, axis=-1) ** 2


@pytest.mark.parametrize("chunks", [(10, 8), (10, 4)], ids=["axis-in-one-chunk", "axis-split"])
def test_dask_errors_name_global_indices_on_both_paths(chunks):
    # (10, 8): each block is checked inside its own task; (10, 4): the generic graph
    p = np.full((40, 8), 1 / 8)
    bad = p.copy()
    bad[27, 6] = -0.25
    out = kl.cross_entropy(da.from_array(bad, chunks=chunks), da.from_array(p, chunks=chunks))
    with pytest.raises(
        kl.DistributionError, match=r"`p` has a negative entry -0\.25 at index \(27, 6\)"
    ):
        out.compute()
    labels = np.zeros(40, dtype=int)
    labels[33] = 9
    out = kl.cross_entropy(
        kl.Labels(da.from_array(labels, chunks=10)), da.from_array(p, chunks=chunks)
    )
    with pytest.raises(kl.DistributionError, match=r"class index 9 at index 33, outside 0\.\.7"):
        out.compute()


def test_dask_keepdims_and_bce_blockwise():
    p = np.full((6, 4), 0.25)
    out = kl.entropy(da.from_array(p, chunks=(2, 4)), keepdims=True, base=2)
    assert out.shape == (6, 1)
    np.testing.assert_allclose(out.compute(), np.full((6, 1), 2.0), rtol=1e-15)
    y = da.from_array(np.array([[1.0, 0.0], [0.0, 1.0]]), chunks=1)
    z = da.from_array(np.array([[30.0, -30.0], [0.0, 2.0]]), chunks=1)
    # reference: log(1 + exp(-z)) for y = 1 and log(1 + exp(z)) for y = 0, by hand
    expected = np.log1p(np.exp(-np.array([[30.0, 30.0], [0.0, 2.0]])))
    np.testing.assert_allclose(
        kl.binary_cross_entropy(y, kl.Logits(z)).compute(), expected, rtol=1e-14
    )


# --- any chunking of any argument gives the NumPy answer ---------------------------------


def _chunked(a, data, *, whole_axis=None):
    """``a`` as a Dask array with chunk sizes drawn per axis."""
    chunks = tuple(
        a.shape[i] if i == whole_axis else data.draw(st.integers(1, max(1, a.shape[i])))
        for i in range(a.ndim)
    )
    return da.from_array(a, chunks=chunks)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 7), st.integers(2, 5), st.booleans(), st.data())
def test_any_chunking_gives_the_numpy_answer(n, k, broadcast_q, data):
    g = np.random.default_rng(n * 10 + k)
    p = g.dirichlet(np.ones(k), size=n)
    q = g.dirichlet(np.ones(k), size=1 if broadcast_q else n)
    y = g.integers(0, k, size=n)
    z = g.normal(size=(n, k))
    for measure in (kl.kl_divergence, kl.cross_entropy, kl.js_divergence, kl.js_distance):
        want = measure(p, q)
        got = measure(_chunked(p, data), _chunked(q, data)).compute()
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=measure.__name__)
    want = kl.cross_entropy(kl.Labels(y), kl.Logits(z))
    got = kl.cross_entropy(kl.Labels(_chunked(y, data)), kl.Logits(_chunked(z, data))).compute()
    np.testing.assert_allclose(got, want, rtol=1e-13)
    want = kl.kl_divergence(kl.Labels(y), p)
    got = kl.kl_divergence(kl.Labels(_chunked(y, data)), _chunked(p, data)).compute()
    np.testing.assert_allclose(got, want, rtol=1e-13)
    t = g.random(n)
    want = kl.binary_cross_entropy(t, kl.Logits(z[:, 0]))
    got = kl.binary_cross_entropy(_chunked(t, data), kl.Logits(_chunked(z[:, 0], data))).compute()
    np.testing.assert_allclose(got, want, rtol=1e-13)
