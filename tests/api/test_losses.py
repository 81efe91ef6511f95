"""Training-loss options against torch's own losses (values and gradients).

torch's functions are the reference: ``F.cross_entropy`` (weight, ignore_index,
label_smoothing, reduction), ``F.kl_div``, ``F.binary_cross_entropy(_with_logits)``
(weight, pos_weight). Hypothesis draws the option combinations and shapes.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
import scipy.stats
from backends import Backend, requires
from hypothesis import given, settings
from hypothesis import strategies as st

import klkit as kl

torch = requires(Backend.TORCH, "torch")
F = torch.nn.functional

REDUCTIONS = ["none", "sum", "mean"]


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


@st.composite
def ce_case(draw):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**31 - 1))
    g = np.random.default_rng(seed)
    z = g.normal(size=(n, k)) * draw(st.sampled_from([0.1, 1.0, 10.0]))
    y = g.integers(0, k, size=n)
    ignore = draw(st.sampled_from([None, -100, 0]))
    if ignore == -100:
        y = np.where(g.random(n) < 0.3, -100, y)
    eps = draw(st.sampled_from([0.0, 0.1, 0.5]))
    weight = g.random(k) + draw(st.sampled_from([0.0, 0.5])) if draw(st.booleans()) else None
    reduction = draw(st.sampled_from(REDUCTIONS))
    return z, y, ignore, eps, weight, reduction


def _torch_ce(z, y, ignore, eps, weight, reduction):
    return F.cross_entropy(
        z,
        torch.tensor(y),
        weight=None if weight is None else torch.tensor(weight),
        ignore_index=-100 if ignore is None else ignore,
        label_smoothing=eps,
        reduction=reduction,
    )


@settings(max_examples=150, deadline=None)
@given(ce_case())
def test_cross_entropy_labels_equals_torch_with_every_option(case):
    z, y, ignore, eps, weight, reduction = case
    zt, zk = _t(z), _t(z)
    want = _torch_ce(zt, y, ignore, eps, weight, reduction)
    got = kl.cross_entropy(
        kl.Labels(torch.tensor(y), ignore_index=ignore, smoothing=eps),
        kl.Logits(zk),
        weight=None if weight is None else torch.tensor(weight),
        reduction=reduction,
    )
    if reduction == "mean" and not torch.isfinite(want):
        # every row ignored: torch gives NaN; klkit gives 0 with zero gradients
        assert float(got.detach()) == 0.0
        got.backward()
        assert torch.all(zk.grad == 0)
        return
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-13)
    want.sum().backward()
    got.sum().backward()
    np.testing.assert_allclose(zk.grad.numpy(), zt.grad.numpy(), rtol=1e-10, atol=1e-13)


@settings(max_examples=60, deadline=None)
@given(ce_case())
def test_cross_entropy_numpy_equals_torch(case):
    z, y, ignore, eps, weight, reduction = case
    want = _torch_ce(torch.tensor(z), y, ignore, eps, weight, reduction).numpy()
    got = kl.cross_entropy(
        kl.Labels(y, ignore_index=ignore, smoothing=eps),
        kl.Logits(z),
        weight=weight,
        reduction=reduction,
    )
    if reduction == "mean" and not np.isfinite(want):
        assert got == 0.0
        return
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_probability_targets_with_weight_equal_torch(reduction):
    g = np.random.default_rng(3)
    z, t = g.normal(size=(5, 4)), g.dirichlet(np.ones(4), size=5)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    want = F.cross_entropy(
        torch.tensor(z), torch.tensor(t), weight=torch.tensor(w), reduction=reduction
    )
    got = kl.cross_entropy(t, kl.Logits(z), weight=w, reduction=reduction)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-12)


def test_four_dimensional_input_with_axis_1_equals_torch():
    g = np.random.default_rng(4)
    z = g.normal(size=(2, 5, 3, 4))
    y = g.integers(0, 5, size=(2, 3, 4))
    y[0, 0, :2] = -1
    w = g.random(5)
    zt, zk = _t(z), _t(z)
    want = F.cross_entropy(
        zt, torch.tensor(y), weight=torch.tensor(w), ignore_index=-1, label_smoothing=0.2
    )
    got = kl.cross_entropy(
        kl.Labels(torch.tensor(y), ignore_index=-1, smoothing=0.2),
        kl.Logits(zk, temperature=1.0),
        axis=1,
        weight=torch.tensor(w),
        reduction="mean",
    )
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    want.backward()
    got.backward()
    np.testing.assert_allclose(zk.grad.numpy(), zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target", ["probs", "logits"])
def test_kl_equals_torch_kl_div(reduction, target):
    g = np.random.default_rng(5)
    z, t = g.normal(size=(6, 5)), g.normal(size=(6, 5))
    p = np.exp(t) / np.exp(t).sum(-1, keepdims=True)
    zt, zk = _t(z), _t(z)
    log_q = F.log_softmax(zt, -1)
    torch_reduction = {"none": "none", "sum": "sum", "mean": "batchmean"}[reduction]
    if target == "probs":
        want = F.kl_div(log_q, torch.tensor(p), reduction=torch_reduction)
        got = kl.kl_divergence(torch.tensor(p), kl.Logits(zk), reduction=reduction)
    else:
        log_p = F.log_softmax(torch.tensor(t), -1)
        want = F.kl_div(log_q, log_p, reduction=torch_reduction, log_target=True)
        got = kl.kl_divergence(kl.Logits(torch.tensor(t)), kl.Logits(zk), reduction=reduction)
    if reduction == "none":
        want = want.sum(-1)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-15)
    want.sum().backward()
    got.sum().backward()
    np.testing.assert_allclose(zk.grad.numpy(), zt.grad.numpy(), rtol=1e-9, atol=1e-15)


def test_kl_mean_is_over_rows_of_the_broadcast_shape():
    g = np.random.default_rng(6)
    p = g.dirichlet(np.ones(3), size=(2, 4))
    q = g.dirichlet(np.ones(3))
    rows = scipy.stats.entropy(p, q, axis=-1)  # the reference, row by row
    assert kl.kl_divergence(p, q).shape == (2, 4)
    assert np.isclose(kl.kl_divergence(p, q, reduction="mean"), rows.sum() / 8)
    assert np.isclose(kl.kl_divergence(p, q, reduction="sum"), rows.sum())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_equals_torch_with_weight_and_pos_weight(reduction):
    g = np.random.default_rng(7)
    z = g.normal(size=(4, 3)) * 4
    y = (g.random((4, 3)) > 0.5).astype(float)
    y[0] = [0.3, 0.7, 1.0]  # soft targets
    w, pw = g.random((4, 3)), np.array([0.5, 1.0, 3.0])
    zt, zk = _t(z), _t(z)
    want = F.binary_cross_entropy_with_logits(
        zt,
        torch.tensor(y),
        weight=torch.tensor(w),
        pos_weight=torch.tensor(pw),
        reduction=reduction,
    )
    got = kl.binary_cross_entropy(
        torch.tensor(y),
        kl.Logits(zk),
        weight=torch.tensor(w),
        pos_weight=torch.tensor(pw),
        reduction=reduction,
    )
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-15)
    want.sum().backward()
    got.sum().backward()
    np.testing.assert_allclose(zk.grad.numpy(), zt.grad.numpy(), rtol=1e-10, atol=1e-15)
    s = 1 / (1 + np.exp(-z))
    want = F.binary_cross_entropy(
        torch.tensor(s), torch.tensor(y), weight=torch.tensor(w), reduction=reduction
    )
    got = kl.binary_cross_entropy(y, s, weight=w, reduction=reduction)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-15)


def test_bce_pos_weight_on_probabilities_is_the_formula():
    y, s, pw = np.array([1.0, 0.0, 0.4]), np.array([0.8, 0.3, 0.6]), 2.5
    want = -(pw * y * np.log(s) + (1 - y) * np.log1p(-s))
    got = kl.binary_cross_entropy(y, s, pos_weight=pw)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_bce_temperature_reads_sigmoid_of_z_over_t():
    z, y = np.array([3.0, -1.0]), np.array([1.0, 0.0])
    got = kl.binary_cross_entropy(y, kl.Logits(z, temperature=2.0))
    want = F.binary_cross_entropy_with_logits(
        torch.tensor(z / 2), torch.tensor(y), reduction="none"
    )
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-14)


def test_bce_mean_excludes_masked_elements():
    y, z = np.array([1.0, 0.0, 1.0]), np.array([2.0, -1.0, -50.0])
    got = kl.binary_cross_entropy(
        y, kl.Logits(z), where=np.array([True, True, False]), reduction="mean"
    )
    want = F.binary_cross_entropy_with_logits(torch.tensor(z[:2]), torch.tensor(y[:2]))
    assert np.isclose(got, float(want), rtol=1e-14)


def test_where_false_rows_are_zero_with_zero_gradient_even_when_infinite():
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    q = torch.tensor([[0.5, 0.5], [0.0, 1.0]], dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([True, False])
    rows = kl.kl_divergence(p, q, where=mask)
    assert rows.tolist() == [0.0, 0.0]
    kl.kl_divergence(p, q, where=mask, reduction="mean").backward()
    assert torch.all(torch.isfinite(q.grad))
    assert torch.all(q.grad[1] == 0)
    # unmasked, the second row is +inf: the mask is what removes it
    assert math.isinf(float(kl.kl_divergence(p, q.detach())[1]))


def test_where_rows_are_not_checked():
    # padding rows may hold anything; the mask says they do not count
    p = np.array([[0.2, 0.8], [0.0, 0.0]])
    q = np.array([[0.5, 0.5], [np.nan, 7.0]])
    got = kl.cross_entropy(p, q, where=np.array([True, False]), reduction="sum")
    assert np.isclose(got, math.log(2))


def test_all_ignored_mean_is_zero_with_zero_gradient():
    z = torch.zeros((3, 4), dtype=torch.float64, requires_grad=True)
    y = torch.full((3,), -100)
    loss = kl.cross_entropy(kl.Labels(y, ignore_index=-100), kl.Logits(z), reduction="mean")
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert torch.all(z.grad == 0)


def test_ignore_index_still_needs_integer_labels_and_no_default():
    z = np.zeros((2, 3))
    with pytest.raises(kl.DistributionError, match="-100"):
        kl.cross_entropy(kl.Labels(np.array([0, -100])), kl.Logits(z))
    with pytest.raises(kl.DistributionError, match="integer"):
        kl.cross_entropy(kl.Labels(np.array([0.0, -100.0]), ignore_index=-100), kl.Logits(z))


def test_smoothing_gives_the_smoothed_target_in_every_measure():
    g = np.random.default_rng(8)
    q = g.dirichlet(np.ones(4), size=3)
    y = np.array([0, 3, 1])
    target = 0.7 * np.eye(4)[y] + 0.3 / 4
    for f in (kl.cross_entropy, kl.kl_divergence, kl.js_divergence):
        np.testing.assert_allclose(f(kl.Labels(y, smoothing=0.3), q), f(target, q), rtol=1e-13)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: kl.Labels([0], smoothing=1.0), "smoothing"),
        (lambda: kl.Labels([0], smoothing=-0.1), "smoothing"),
        (lambda: kl.Labels([0], smoothing="0.1"), "smoothing"),
        (lambda: kl.Labels([0], ignore_index=1.5), "ignore_index"),
        (lambda: kl.Logits([0.0], temperature=0.0), "temperature"),
        (lambda: kl.Logits([0.0], temperature=math.inf), "temperature"),
        (lambda: kl.Logits([0.0], temperature=-1), "temperature"),
    ],
)
def test_bad_options_name_themselves(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: kl.entropy([0.5, 0.5], reduction="mean_elements"), "reduction"),
        (lambda: kl.cross_entropy([0.5, 0.5], [0.5, 0.5], weight=[1.0]), "weight"),
        (lambda: kl.cross_entropy([0.5, 0.5], [0.5, 0.5], weight=[1.0, -1.0]), "weight"),
        (lambda: kl.kl_divergence([0.5, 0.5], [0.5, 0.5], weight=[1.0, 1.0]), "weight"),
        (lambda: kl.kl_divergence([[0.5, 0.5]], [0.5, 0.5], where=[1, 0]), "where"),
        (lambda: kl.kl_divergence([[0.5, 0.5]], [0.5, 0.5], where=[True, False]), "where"),
        (lambda: kl.binary_cross_entropy([1.0], [0.5], pos_weight=[1.0, 2.0]), "pos_weight"),
    ],
)
def test_bad_loss_options_name_themselves(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_torch_argument_order_is_refused_with_the_klkit_spelling():
    z, y = np.zeros((2, 3)), np.array([0, 1])
    for wrap in (kl.Logits, kl.LogProbs):
        for f in (kl.cross_entropy, kl.kl_divergence, kl.js_divergence, kl.js_distance):
            spelling = rf"{f.__name__}\(Labels\(y\), {wrap.__name__}\(z\)\)"
            with pytest.raises(kl.DistributionError, match=spelling):
                f(wrap(z), kl.Labels(y))


def test_temperature_divides_logits_in_every_measure():
    g = np.random.default_rng(9)
    t, z = g.normal(size=(3, 5)), g.normal(size=(3, 5))
    for f in (kl.cross_entropy, kl.kl_divergence, kl.js_divergence):
        got = f(kl.Logits(t, temperature=4.0), kl.Logits(z, temperature=4.0))
        np.testing.assert_allclose(got, f(kl.Logits(t / 4), kl.Logits(z / 4)), rtol=1e-14)
    np.testing.assert_allclose(
        kl.entropy(kl.Logits(t, temperature=0.5)), kl.entropy(kl.Logits(t * 2)), rtol=1e-14
    )


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_is_computed_in_float32_and_returned_in_its_dtype(dtype):
    g = torch.Generator().manual_seed(0)
    v = 32768
    z = (torch.randn(4, v, generator=g) * 3).to(getattr(torch, dtype)).requires_grad_()
    y = torch.randint(0, v, (4,), generator=g)
    loss = kl.cross_entropy(kl.Labels(y), kl.Logits(z), reduction="mean")
    assert loss.dtype == z.dtype
    loss.backward()
    z64 = z.detach().double().requires_grad_()
    ref = F.cross_entropy(z64, y)
    ref.backward()
    assert abs(float(loss.detach()) - float(ref.detach())) <= 0.002 * abs(float(ref.detach()))
    grad_err = (z.grad.double() - z64.grad).norm() / z64.grad.norm()
    assert float(grad_err) <= 0.002


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_probabilities_are_checked_with_their_own_tolerance(dtype):
    # A bfloat16 softmax sums to 1 only to bfloat16's rounding (1.0009766 is one ulp
    # above 1); checked with float32's tolerance, 4 rows in 5 were refused.
    g = torch.Generator().manual_seed(1)
    half = getattr(torch, dtype)
    p = torch.softmax(torch.randn(200, 5, generator=g), -1).to(half)
    q = torch.softmax(torch.randn(200, 5, generator=g), -1).to(half)
    got = kl.kl_divergence(p, q, reduction="mean")
    assert got.dtype == half
    p32, q32 = p.float(), q.float()
    p32, q32 = p32 / p32.sum(-1, keepdim=True), q32 / q32.sum(-1, keepdim=True)
    ref = F.kl_div(q32.log(), p32, reduction="batchmean")
    assert abs(float(got) - float(ref)) <= 0.02 * float(ref)
    assert kl.entropy(p).dtype == half
    with pytest.raises(kl.DistributionError, match=f"tolerance .* for {dtype} with 5"):
        kl.entropy(p * 1.2)  # off by far more than the dtype's rounding: still refused


def _loss_cases(lib, y, w, p, mask):
    """Loss calls with every option, for one array library (validate=False)."""
    return {
        "ce_labels": lambda z: kl.cross_entropy(
            kl.Labels(lib.where(y < 0, 0, y)), kl.Logits(z), validate=False
        ),
        "ce_options": lambda z: kl.cross_entropy(
            kl.Labels(y, ignore_index=-100, smoothing=0.1),
            kl.Logits(z, temperature=2.0),
            weight=w,
            reduction="mean",
            validate=False,
        ),
        "ce_probs_weight": lambda z: kl.cross_entropy(
            p, kl.Logits(z), weight=w, reduction="sum", validate=False
        ),
        "kl_probs": lambda z: kl.kl_divergence(p, kl.Logits(z), reduction="mean", validate=False),
        "kl_logits": lambda z: kl.kl_divergence(
            kl.Logits(z * 0.5, temperature=2.0), kl.Logits(z), reduction="sum", validate=False
        ),
        "kl_where": lambda z: kl.kl_divergence(
            p, kl.Logits(z), where=mask, reduction="mean", validate=False
        ),
        "js": lambda z: kl.js_divergence(p, kl.Logits(z), where=mask, validate=False),
        "entropy": lambda z: kl.entropy(kl.Logits(z), reduction="mean", validate=False),
        "bce": lambda z: kl.binary_cross_entropy(
            p,
            kl.Logits(z),
            pos_weight=w,
            weight=p,
            reduction="mean",
            where=mask[:, None],
            validate=False,
        ),
    }


def _inputs(g):
    z = g.normal(size=(6, 5))
    y = np.array([0, 4, -100, 1, 2, -100])
    return z, y, g.random(5), g.dirichlet(np.ones(5), size=6), y >= 0


# Dynamo warns once that it traces through array_api_compat's lru_cache'd helpers
@pytest.mark.filterwarnings("ignore:Dynamo detected a call to a `functools.lru_cache`")
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")  # inductor's own
@pytest.mark.parametrize("case", sorted(_loss_cases(np, *_inputs(np.random.default_rng(0))[1:])))
def test_losses_compile_under_torch_compile_fullgraph(case):
    z, y, w, p, mask = _inputs(np.random.default_rng(10))
    f = _loss_cases(torch, torch.tensor(y), torch.tensor(w), torch.tensor(p), torch.tensor(mask))[
        case
    ]
    torch._dynamo.reset()
    compiled = torch.compile(f, fullgraph=True)
    zt, zc = _t(z), _t(z)
    want, got = f(zt), compiled(zc)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-15)
    want.sum().backward()
    got.sum().backward()
    np.testing.assert_allclose(zc.grad.numpy(), zt.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("case", sorted(_loss_cases(np, *_inputs(np.random.default_rng(0))[1:])))
def test_losses_under_jax_jit_and_grad_match_torch_eager(case):
    jax = requires(Backend.JAX, "jax")
    jnp = jax.numpy
    z, y, w, p, mask = _inputs(np.random.default_rng(11))
    jax.config.update("jax_enable_x64", True)  # as the other gradient tests
    f = _loss_cases(jnp, jnp.asarray(y), jnp.asarray(w), jnp.asarray(p), jnp.asarray(mask))[case]
    got = jax.jit(f)(jnp.asarray(z))
    grad = jax.grad(lambda x: jnp.sum(f(x)))(jnp.asarray(z))
    ft = _loss_cases(torch, torch.tensor(y), torch.tensor(w), torch.tensor(p), torch.tensor(mask))[
        case
    ]
    zt = _t(z)
    want = ft(zt)
    want.sum().backward()
    np.testing.assert_allclose(np.asarray(got), want.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(grad), zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_losses_on_dask_equal_numpy_for_any_chunking():
    da = requires(Backend.DASK, "dask.array")
    z, y, w, p, mask = _inputs(np.random.default_rng(12))
    ref = _loss_cases(np, y, w, p, mask)
    lazy = _loss_cases(
        da,
        da.from_array(y, chunks=4),
        w,
        da.from_array(p, chunks=(2, 5)),
        da.from_array(mask, chunks=3),
    )
    for name, f in lazy.items():
        got = f(da.from_array(z, chunks=(5, 5)))
        got = got.compute() if hasattr(got, "compute") else got
        np.testing.assert_allclose(got, ref[name](z), rtol=1e-12, atol=1e-15, err_msg=name)


def test_readme_distillation_example_runs_and_equals_torch():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", readme, flags=re.MULTILINE | re.DOTALL)
    (block,) = [b for b in blocks if "temperature=T" in b]  # example 2: distillation
    scope: dict = {"kl": kl}  # example 1 imports klkit
    exec(compile(block, "README.md", "exec"), scope)
    z, t, y, T = scope["z"], scope["t"], scope["y"], scope["T"]
    keep = y != -100
    zz = z.detach().clone().requires_grad_(True)
    soft = (
        F.kl_div(
            F.log_softmax(zz[keep] / T, -1),
            F.log_softmax(t[keep] / T, -1),
            reduction="batchmean",
            log_target=True,
        )
        * T**2
    )
    hard = F.cross_entropy(zz, y, ignore_index=-100, label_smoothing=0.1)
    torch.testing.assert_close(scope["soft"], soft, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(scope["hard"], hard, rtol=1e-5, atol=1e-6)
    (0.5 * soft + 0.5 * hard).backward()
    torch.testing.assert_close(z.grad, zz.grad, rtol=1e-5, atol=1e-6)


# --- found by review: options reach every path ------------------------------------------------


def test_js_distance_reads_temperature_and_smoothing():
    g = np.random.default_rng(20)
    z, t = g.normal(size=(4, 3)), g.normal(size=(4, 3))
    np.testing.assert_allclose(
        kl.js_distance(kl.Logits(t, temperature=2.0), kl.Logits(z)),
        kl.js_distance(kl.Logits(t / 2), kl.Logits(z)),
        rtol=1e-14,
    )
    y = np.array([0, 2, 1, 1])
    np.testing.assert_allclose(
        kl.js_distance(kl.Labels(y, smoothing=0.1), kl.Logits(z)),
        kl.js_distance(0.9 * np.eye(3)[y] + 0.1 / 3, kl.Logits(z)),
        rtol=1e-13,
    )


def test_named_outcomes_keep_the_options():
    import pandas as pd

    p = pd.Series([0.2, 0.3, 0.5], index=["a", "b", "c"])
    z = pd.Series([1.0, 2.0, 0.0], index=["c", "a", "b"])
    want = kl.kl_divergence(p.to_numpy(), kl.Logits(np.array([2.0, 0.0, 1.0]) / 2))
    assert np.isclose(kl.kl_divergence(p, kl.Logits(z, temperature=2.0)), want, rtol=1e-14)


def test_explain_applies_temperature_and_refuses_loss_options():
    z = np.array([1.0, -0.5, 2.0])
    b = kl.explain(kl.Logits(z, temperature=4.0), kl.Logits(z))
    assert np.isclose(b.kl_divergence, kl.kl_divergence(kl.Logits(z / 4), kl.Logits(z)))
    np.testing.assert_allclose(b.p, np.exp(z / 4) / np.exp(z / 4).sum())
    with pytest.raises(ValueError, match="smoothing"):
        kl.explain(kl.Labels(1, smoothing=0.1), z / z.sum())


def test_option_arrays_are_checked_on_dask_too():
    da = requires(Backend.DASK, "dask.array")
    z, y = np.zeros((2, 3)), np.array([0, 1])
    with pytest.raises(ValueError, match="weight"):
        kl.cross_entropy(
            kl.Labels(da.from_array(y)),
            kl.Logits(da.from_array(z)),
            weight=da.from_array(-np.ones(3)),
        )
    with pytest.raises(ValueError, match="pos_weight"):
        kl.binary_cross_entropy(
            da.from_array(np.ones(3)),
            kl.Logits(da.from_array(np.zeros(3))),
            pos_weight=da.from_array(np.array([1.0, np.nan, 1.0])),
        )


def test_smoothing_without_a_class_axis_names_smoothing():
    with pytest.raises(ValueError, match="smoothing"):
        kl.entropy(kl.Labels(np.array([0, 1]), smoothing=0.1))


@pytest.mark.parametrize(
    "options",
    [{}, {"smoothing": 0.1}, {"weight": np.ones(3)}, {"ignore_index": -1}],
    ids=["plain", "smoothing", "weight", "ignore"],
)
def test_out_of_range_labels_without_validation_are_nan_rows_on_every_path(options):
    z = np.random.default_rng(21).normal(size=(2, 3))
    weight = options.pop("weight", None)
    got = kl.cross_entropy(
        kl.Labels(np.array([7, 1]), **options), kl.Logits(z), weight=weight, validate=False
    )
    assert np.isnan(got[0])
    assert np.isfinite(got[1])


def test_linear_logits_on_torch_has_no_default_ignore_index_and_no_raw_errors():
    h = torch.randn(4, 3, dtype=torch.float64)
    w = torch.randn(5, 3, dtype=torch.float64)
    y = torch.tensor([0, -100, 2, 1])
    with pytest.raises(kl.DistributionError, match="-100"):
        kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w))
    rows = kl.cross_entropy(
        kl.Labels(torch.tensor([0, 7, 2, 1])), kl.LinearLogits(h, w), validate=False
    )
    assert torch.isnan(rows[1])
    assert torch.isfinite(rows[[0, 2, 3]]).all()


def test_linear_logits_keep_confident_rows_exact():
    h = torch.tensor([[40.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    rows = kl.cross_entropy(kl.Labels(y), kl.LinearLogits(h, w))
    exact = float(mp.log1p(2 * mp.exp(-40)))
    assert float(rows[0]) == pytest.approx(exact, rel=1e-14)


def test_clear_errors_for_misplaced_wrappers_and_bad_weights():
    z = torch.zeros(2, 3)
    with pytest.raises(TypeError, match="LinearLogits"):
        kl.binary_cross_entropy(
            torch.ones(2, 3), kl.LinearLogits(torch.zeros(2, 4), torch.zeros(3, 4))
        )
    with pytest.raises(ValueError, match="weight"):
        kl.cross_entropy(kl.Labels(torch.tensor([0, 1])), kl.Logits(z), weight="abc")
    with pytest.raises(kl.DistributionError, match=r"js_divergence\(Labels\(y\), Logits\(z\)\)"):
        kl.js_divergence(kl.Logits(z), kl.Labels(torch.tensor([0, 1])))
