"""LinearLogits against the materialised computation (torch's own losses on h @ W.T + b).

Chunks are forced small so that every call spans several; values and gradients (to
h, weight and bias) must equal the materialised ones. Memory is measured in a
subprocess (peak resident memory beyond the inputs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from backends import Backend, requires

import klkit as kl
from klkit._api import _linear

torch = requires(Backend.TORCH, "torch")
F = torch.nn.functional


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(_linear, "CHUNK_BYTES", 7 * 50 * 8)  # 7 rows of 50 float64 logits


def _data(seed=0, n=23, d=6, k=50):
    g = np.random.default_rng(seed)
    h, w, b = g.normal(size=(n, d)), g.normal(size=(k, d)), g.normal(size=k)
    y = g.integers(0, k, n)
    y[:3] = -100
    return h, w, b, y, g


def _leaves(*arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_labels_equal_torch_cross_entropy_on_materialised_logits(smoothing, weighted, reduction):
    h, w, b, y, g = _data()
    cw = torch.tensor(g.random(50)) if weighted else None
    mine, ref = _leaves(h, w, b), _leaves(h, w, b)
    got = kl.cross_entropy(
        kl.Labels(torch.tensor(y), ignore_index=-100, smoothing=smoothing),
        kl.LinearLogits(*mine, temperature=1.5),
        weight=cw,
        reduction=reduction,
    )
    want = F.cross_entropy(
        (ref[0] @ ref[1].T + ref[2]) / 1.5,
        torch.tensor(y),
        weight=cw,
        ignore_index=-100,
        label_smoothing=smoothing,
        reduction=reduction,
    )
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-14)
    got.sum().backward()
    want.sum().backward()
    for a, r in zip(mine, ref, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), r.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("target", ["probs", "logits", "logprobs"])
def test_kl_with_dense_targets_equals_materialised(target):
    h, w, _, _, g = _data(1)
    t = g.normal(size=(23, 50))
    p = np.exp(t) / np.exp(t).sum(-1, keepdims=True)
    wrap = {
        "probs": lambda a: a,
        "logits": lambda a: kl.Logits(torch.log(a) + 3.0),
        "logprobs": lambda a: kl.LogProbs(torch.log(a)),
    }[target]
    mine, ref = _leaves(h, w), _leaves(h, w)
    mask = torch.tensor(g.random(23) > 0.3)
    got = kl.kl_divergence(
        wrap(torch.tensor(p)), kl.LinearLogits(*mine), where=mask, reduction="mean"
    )
    want = kl.kl_divergence(
        wrap(torch.tensor(p)), kl.Logits(ref[0] @ ref[1].T), where=mask, reduction="mean"
    )
    np.testing.assert_allclose(float(got.detach()), float(want.detach()), rtol=1e-12)
    got.backward()
    want.backward()
    for a, r in zip(mine, ref, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), r.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_batched_rows_and_numpy_forward():
    g = np.random.default_rng(2)
    h, w = g.normal(size=(3, 5, 4)), g.normal(size=(50, 4))
    y = g.integers(0, 50, (3, 5))
    got = kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w))
    assert got.shape == (3, 5)
    np.testing.assert_allclose(got, kl.cross_entropy(kl.Labels(y), kl.Logits(h @ w.T)), rtol=1e-13)


def test_jax_values_and_gradients_equal_materialised():
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    jax.config.update("jax_enable_x64", True)
    h, w, b, y, _ = _data(3)
    y = jnp.asarray(y)

    def mine(h, w, b):
        q = kl.LinearLogits(h, w, b)
        labels = kl.Labels(y, ignore_index=-100, smoothing=0.1)
        return kl.cross_entropy(labels, q, reduction="mean", validate=False)

    def ref(h, w, b):
        labels = kl.Labels(y, ignore_index=-100, smoothing=0.1)
        return kl.cross_entropy(labels, kl.Logits(h @ w.T + b), reduction="mean", validate=False)

    args = tuple(jnp.asarray(a) for a in (h, w, b))
    np.testing.assert_allclose(jax.jit(mine)(*args), ref(*args), rtol=1e-12)
    for a, r in zip(
        jax.grad(mine, argnums=(0, 1, 2))(*args),
        jax.grad(ref, argnums=(0, 1, 2))(*args),
        strict=True,
    ):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-15)


def test_errors_name_the_argument():
    h, w, b, y, _ = _data()
    with pytest.raises(ValueError, match="weight"):
        kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w.T))
    with pytest.raises(ValueError, match="bias"):
        kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w, b[:3]))
    bad = h.copy()
    bad[11, 2] = np.nan
    with pytest.raises(kl.DistributionError, match="row 11, column 2"):
        kl.cross_entropy(kl.Labels(np.maximum(y, 0)), kl.LinearLogits(bad, w))
    labels = np.maximum(y, 0)
    labels[17] = 50
    with pytest.raises(kl.DistributionError, match="17"):  # the row of the whole input
        kl.cross_entropy(kl.Labels(labels), kl.LinearLogits(h, w))
    with pytest.raises(TypeError, match="LinearLogits"):
        kl.js_divergence(kl.Labels(labels), kl.LinearLogits(h, w))
    with pytest.raises(TypeError, match="LinearLogits"):
        kl.cross_entropy(kl.LinearLogits(h, w), kl.Labels(labels))
    with pytest.raises(ValueError, match="temperature"):
        kl.LinearLogits(h, w, temperature=0)


_PEAK = """
import json, sys, torch, torch.nn.functional as F
import klkit as kl


def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))


n, d, k, how = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
g = torch.Generator().manual_seed(0)
h = torch.randn(n, d, generator=g, requires_grad=True)
w = (torch.randn(k, d, generator=g) / d**0.5).requires_grad_()
y = torch.randint(0, k, (n,), generator=g)
kl.cross_entropy(kl.Labels(y[:4]), kl.LinearLogits(h[:4], w), reduction="mean").backward()
F.cross_entropy(h[:4] @ w.T, y[:4]).backward()
h.grad = w.grad = None
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
base = status("VmRSS:")
mask = torch.arange(n) % 7 != 0
if how == "klkit":  # torch's own chunked F.linear_cross_entropy
    loss = kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w), reduction="mean")
elif how == "smoothing":  # klkit's chunks
    loss = kl.cross_entropy(kl.Labels(y, smoothing=0.1), kl.LinearLogits(h, w), reduction="mean")
elif how == "where":
    loss = kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w), where=mask, reduction="mean")
else:
    loss = F.cross_entropy(h @ w.T, y, label_smoothing=0.1)
loss.backward()
print(json.dumps({"grew": status("VmHWM:") - base}))
"""


def _grew(how, n=2048, d=64, k=32000):
    # a fixed mmap threshold: freed chunks go back to the system, so that resident
    # memory tracks live memory (glibc otherwise raises the threshold and keeps them)
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2**20)}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PEAK), str(n), str(d), str(k), how],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["grew"]


@pytest.mark.parametrize("how", ["klkit", "smoothing", "where"])
def test_peak_memory_is_under_half_the_materialised_logits(how):
    # F.cross_entropy(h @ W.T) holds the (N, K) logits, their softmax and gradient
    materialised = _grew("torch")
    assert materialised >= 2048 * 32000 * 4  # the measurement sees the reference's logits
    mine = _grew(how)
    assert mine <= 0.5 * materialised, (mine, materialised)
