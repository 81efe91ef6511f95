"""The project's own hostile fuzz over the public API (Hypothesis).

Every call is classified as one of

* a **correct value**: within tolerance of an oracle written here from the
  definitions and evaluated with mpmath on the exact values klkit was given
  (0 log 0 = 0, P > 0 = Q gives +inf; klkit's KL is the normalised-input form
  sum [p log(p/q) - p + q], which equals the KL for normalised inputs);
* a **clean error**: a ``DistributionError``, ``TypeError`` or ``ValueError`` whose
  message names the argument in backticks; or
* a **failure**: anything else -- a wrong number, a value where the input breaks the
  contract, a clean error where it keeps it, a raw exception from inside an array
  library, a warning.

The inputs are hostile on purpose: every wrapper (plain, ``Logits``, ``LogProbs``,
``Labels``), every dtype (bool, int8..uint64, float16/32/64, complex, object, str,
datetime), every shape (0-d, empty, length-1 axes, ragged, 3-D along every axis,
``keepdims``), every value class (negative, NaN, +-inf, subnormal, 1e308, sums off by
1e-9..1e-2), every backend (NumPy, array-api-strict, PyTorch, JAX, Dask with random
chunks), mixed backends, and every option (``base``, ``axis``, ``normalize``,
``validate``).

The default run is short; ``KLKIT_FUZZ=long`` runs 10^4 cases per property (or
``KLKIT_FUZZ=N``, N of them), and ``KLKIT_FUZZ_REPORT=path`` writes the tally (cases
per outcome) as JSON.
"""

from __future__ import annotations

import collections
import json
import math
import os
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import klkit as kl

_FUZZ = os.environ.get("KLKIT_FUZZ", "")
EXAMPLES = 10_000 if _FUZZ == "long" else int(_FUZZ) if _FUZZ.isdigit() else 60
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
TALLY: collections.Counter[str] = collections.Counter()
CLEAN = (kl.DistributionError, TypeError, ValueError)
ARGUMENT_NAMES = ("`p`", "`q`", "`y`", "`y_hat`", "`axis`", "`base`", "`outcomes`")
MEASURES = ("entropy", "cross_entropy", "kl_divergence", "js_divergence", "js_distance")
LN2 = mpmath.log(2)
mpmath.mp.dps = 400  # a softmax of logits 1e4 apart: terms of 1e-300 still keep 100 digits


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    path = os.environ.get("KLKIT_FUZZ_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(sorted(TALLY.items())), f, indent=1)


# --- classification ------------------------------------------------------------------------


class FuzzFailure(AssertionError):  # noqa: N818  (the third class of outcome)
    pass


def classify(
    prop: str, call: Any, *, valid: bool | None, check: Any = None, context: str = ""
) -> Any:
    """Run ``call``; ``valid``: True must give a value, False a clean error, None either.

    ``context`` describes the case in a failure's message (shapes, kinds, options).
    """
    prop = f"{prop} [{context}]" if context else prop
    try:
        out = call()
    except CLEAN as e:
        text = str(e)
        if not any(name in text for name in ARGUMENT_NAMES) and "klkit" not in text:
            msg = f"{prop}: an error that names no argument: {type(e).__name__}: {text}"
            raise FuzzFailure(msg) from e
        if valid is True:
            msg = f"{prop}: a clean error for input inside the contract: {text}"
            raise FuzzFailure(msg) from e
        TALLY[f"{prop.split(' [')[0]}: clean error"] += 1
        return None
    except Exception as e:
        msg = f"{prop}: raw {type(e).__name__}: {e}"
        raise FuzzFailure(msg) from e
    if valid is False:
        msg = f"{prop}: a value ({out!r}) for input that breaks the contract"
        raise FuzzFailure(msg)
    if check is not None:
        check(out)
    TALLY[f"{prop.split(' [')[0]}: value"] += 1
    return out


def host(x: Any) -> np.ndarray:
    """A result as a float64 NumPy array, whatever its library."""
    if hasattr(x, "compute"):
        x = x.compute()
    if type(x).__module__.startswith("torch"):
        x = x.detach().cpu()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return np.from_dlpack(x).astype(np.float64)


def tolerance(dtype: Any) -> tuple[float, float]:
    """(relative, absolute) tolerance of a result computed in ``dtype``."""
    name = str(dtype)
    if "float16" in name:
        return 3e-2, 1e-3
    if "float32" in name:
        return 2e-3, 1e-30
    return 1e-9, 1e-300


def assert_close(
    got: np.ndarray, want: np.ndarray, dtype: Any, what: str, *, normalized: bool = False
) -> None:
    """Compare with the oracle; ``normalized``: klkit divided weights by their sum.

    That division rounds each share by up to an ulp, which moves a divergence near 0
    by up to about ``4 eps sqrt(D) + eps^2`` (the rounding is exact only relative to
    the rounded shares), so such values are compared with that absolute slack too.
    """
    rel, tiny = tolerance(dtype)
    eps = float(np.finfo(np.float64 if rel < 1e-6 else np.float32).eps)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    for g, w in zip(got.ravel(), want.ravel(), strict=True):
        if math.isinf(w) or math.isinf(g):
            assert g == w, (what, g, w)
            continue
        slack = 4 * eps * math.sqrt(abs(w)) + 16 * eps * eps if normalized else 0.0
        assert abs(g - w) <= rel * abs(w) + tiny + slack, (what, g, w)


# --- the oracle ------------------------------------------------------------------------------


def mp(x: float) -> Any:
    return mpmath.mpf(float(x))


def dense_rows(kind: str, rows: np.ndarray, k: int, normalize: bool) -> list[list[Any]]:
    """Each row of an argument (outcomes last, float64 or int) as exact probabilities."""
    out = []
    for row in rows.reshape(-1, rows.shape[-1]):
        if kind == "labels":
            out.append([mpmath.mpf(int(row[0]) == j) for j in range(k)])
            continue
        values = [mp(v) for v in row]
        if kind in ("logits", "logprobs"):
            if kind == "logits" or normalize:
                top = max(values)
                values = [v - top for v in values]
            probs = [mpmath.exp(v) if v != -mpmath.inf else mpmath.mpf(0) for v in values]
        else:
            probs = values
        if kind == "logits" or normalize:
            total = mpmath.fsum(probs)
            probs = [v / total for v in probs]
        out.append(probs)
    return out


def mp_measure(name: str, p: list[Any], q: list[Any] | None) -> Any:
    if name == "entropy":  # >= 0 by the docs (a row summing to 1 + 1e-12 is clipped)
        return max(-mpmath.fsum(a * mpmath.log(a) for a in p if a > 0), 0)
    assert q is not None
    if name == "cross_entropy":
        if any(a > 0 and b == 0 for a, b in zip(p, q, strict=True)):
            return mpmath.inf
        ce = -mpmath.fsum(a * mpmath.log(b) for a, b in zip(p, q, strict=True) if a > 0)
        return max(ce, 0)  # >= 0 by the docs, as the entropy
    if name == "kl_divergence":
        if any(a > 0 and b == 0 for a, b in zip(p, q, strict=True)):
            return mpmath.inf
        return mpmath.fsum(
            b if a == 0 else a * mpmath.log(a / b) - a + b for a, b in zip(p, q, strict=True)
        )

    def half(a: Any, s: Any) -> Any:
        return a * mpmath.log(2 * a / s) if a > 0 else mpmath.mpf(0)

    js = mpmath.fsum(half(a, a + b) + half(b, a + b) for a, b in zip(p, q, strict=True)) / 2
    return min(max(js, mpmath.mpf(0)), LN2)


# --- strategies ------------------------------------------------------------------------------

FLOAT_DTYPES = {
    "numpy": ["float64", "float32", "float16"],
    "array_api_strict": ["float64", "float32"],
    "torch": ["float64", "float32"],
    "jax": ["float64", "float32"],
    "dask": ["float64", "float32"],
}
LABEL_DTYPES = {
    "numpy": ["int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64"],
    "array_api_strict": ["int64", "int32", "int8", "uint8", "uint16"],
    "torch": ["int64", "int32", "int16", "int8", "uint8"],
    "jax": ["int64", "int32", "int8", "uint8"],
    "dask": ["int64", "int32", "int8", "uint8", "uint32"],
}
# how a probability row is spoiled (or not): (name, breaks the contract?)
SPOILS = [
    ("exact", False),
    ("zeros", False),
    ("subnormal", False),
    ("off 1e-12", False),
    ("off 1e-6", None),  # inside float32's tolerance, outside float64's
    ("off 1e-2", True),
    ("negative", True),
    ("nan", True),
    ("inf", True),
    ("huge", True),
]


def sum_tolerance(dtype: str, k: int) -> float:
    eps = float(np.finfo(dtype).eps)
    return max(math.sqrt(eps), k * eps)


def probability_rows(draw: Any, shape: tuple[int, ...], spoil: str) -> np.ndarray:
    """Rows along the last axis summing to 1 in float64, then spoiled."""
    g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = g.random(shape) ** 3
    if spoil in ("zeros", "subnormal") and w.size:
        w = np.where(g.random(shape) < 0.4, 0.0, w)
    w[..., :1] += 1e-3  # no row of zeros
    p = w / w.sum(axis=-1, keepdims=True)
    if not p.size:
        return p
    index = tuple(int(g.integers(0, n)) for n in shape)
    if spoil == "subnormal":
        p[index] = 5e-320
    elif spoil.startswith("off"):
        p = p * (1 + float(spoil.split()[1]))
    elif spoil == "negative":
        p[index] = -0.25
    elif spoil == "nan":
        p[index] = np.nan
    elif spoil == "inf":
        p[index] = np.inf
    elif spoil == "huge":
        p[index] = 1e308
    return p


def logit_rows(draw: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, bool | None]:
    g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    z = g.normal(0, draw(st.sampled_from([1.0, 30.0, 1e4])), shape)
    spoil = draw(st.sampled_from(["none", "none", "-inf", "+inf", "nan", "row -inf"]))
    if not z.size or spoil == "none":
        return z, False
    index = tuple(int(g.integers(0, n)) for n in shape)
    if spoil == "-inf":
        z[index] = -np.inf
        if shape[-1] == 1 or np.all(np.isneginf(z), axis=-1).any():
            return z, True
        return z, False
    if spoil == "row -inf":
        z[index[:-1]] = -np.inf
        return z, True
    z[index] = np.inf if spoil == "+inf" else np.nan
    return z, True


# --- the measures on arrays -------------------------------------------------------------------


def _outcome_last(a: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    return np.moveaxis(a, axis, -1)


@SETTINGS
@given(st.data())
def test_measures_on_hostile_arrays(all_libs, data):
    draw = data.draw
    name = draw(st.sampled_from(MEASURES))
    lib = all_libs[draw(st.sampled_from(sorted(all_libs, key=lambda b: b.value)))]
    backend = lib.backend.value
    ndim = draw(st.integers(1, 3))
    k = draw(st.integers(1, 5))
    batch = tuple(draw(st.integers(0 if draw(st.booleans()) else 1, 3)) for _ in range(ndim - 1))
    axis = draw(st.integers(-ndim, ndim - 1))
    keepdims, normalize, validate = (draw(st.booleans()) for _ in range(3))
    base = draw(st.sampled_from([None, 2, 10, 1.5, "bits", "nats", np.float32(2), np.int64(10)]))
    dtype = draw(st.sampled_from(FLOAT_DTYPES[backend]))
    n_args = 1 if name == "entropy" else 2
    kinds = [draw(st.sampled_from(["probs", "probs", "logits", "logprobs", "labels"]))]
    if n_args == 2:
        kinds.append(draw(st.sampled_from(["probs", "probs", "logits", "logprobs", "labels"])))
    if kinds[1:] == ["labels"] and kinds[0] in ("logits", "logprobs"):
        kinds[1] = "probs"  # torch's (input, target) order is refused (tests/api/test_losses.py)
    full = (*batch, k)  # outcomes last; moved to ``axis`` below
    breaks: list[bool | None] = []
    flushed = False
    hosts: list[np.ndarray] = []  # outcomes last, as klkit will see them (after the cast)
    args: list[Any] = []
    for i, kind in enumerate(kinds):
        # the second argument may broadcast: drop leading axes or set some to 1
        shape = full
        if i == 1 and draw(st.booleans()):
            shape = (*(1 if draw(st.booleans()) else n for n in full[:-1]), k)
        if kind == "labels":
            label_dtype = draw(st.sampled_from(LABEL_DTYPES[backend]))
            g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            y = g.integers(0, k, size=shape[:-1])
            out_of_range = draw(st.integers(0, 5)) == 0 and y.size > 0
            if out_of_range:
                y.reshape(-1)[0] = k + int(np.iinfo(label_dtype).max > 300) * 290
            breaks.append(bool(out_of_range))
            y = y.astype(label_dtype)
            hosts.append(y[..., None].astype(np.int64))
            moved = np.expand_dims(y, -1)
            moved = np.moveaxis(moved, -1, axis % ndim)
            args.append(kl.Labels(lib.asarray(np.squeeze(moved, axis=axis % ndim))))
            continue
        if kind == "probs":
            spoil, broken = draw(st.sampled_from(SPOILS))
            values = probability_rows(draw, shape, spoil)
            broken = broken if values.size else False  # no entry to spoil
            if normalize and spoil.startswith("off"):
                broken = False
            if spoil == "subnormal" and backend == "jax":
                flushed = True  # XLA on CPU flushes subnormals to 0: documented
        else:
            values, broken = logit_rows(draw, shape)
            if kind == "logprobs":
                with np.errstate(all="ignore"):  # rows of -inf give NaN: as intended
                    top = np.max(values, axis=-1, keepdims=True)
                    top = np.where(np.isfinite(top), top, 0.0)
                    shifted = values - top
                    values = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
                if not normalize and broken is False:
                    broken = None  # exp sums to 1 only to the rounding of that shift
        with np.errstate(all="ignore"):  # 1e308 overflows float32 to inf: as intended
            cast = values.astype(dtype)
        if kind == "probs" and values.size:
            # what the checks will see: the cast values and their sums in that dtype
            bad = ~np.isfinite(cast).all() or (cast < 0).any()
            with np.errstate(all="ignore"):
                sums = cast.astype(np.float64).sum(axis=-1)
            tol = sum_tolerance(dtype, k)
            if normalize:  # weights: any finite non-negative row with a positive sum
                broken = bool(bad or (sums <= 0).any())
                if not broken and not np.isfinite(sums).all():
                    broken = None  # a sum that overflows: an error or the right number
            elif bad or not (np.abs(sums - 1) <= 2 * tol).all():
                broken = True
            elif (np.abs(sums - 1) > tol / 2).any():
                broken = None
            else:
                broken = False
        if kind == "logprobs" and values.size and not normalize and broken is not True:
            with np.errstate(all="ignore"):
                lse = np.log(np.sum(np.exp(cast.astype(np.float64)), axis=-1))
            tol = sum_tolerance(dtype, k)
            broken = None if (np.abs(lse) > tol / 2).any() else broken
        breaks.append(broken)
        hosts.append(cast.astype(np.float64))
        moved = lib.asarray(np.moveaxis(cast, -1, axis % ndim))
        wrapper = {"probs": None, "logits": kl.Logits, "logprobs": kl.LogProbs}[kind]
        args.append(wrapper(moved) if wrapper else moved)
    if all(kind == "labels" for kind in kinds):
        # labels only: no class axis, nothing to check against mpmath rows
        classify(name, lambda: host(getattr(kl, name)(*args, axis=axis)), valid=None)
        return
    valid: bool | None
    if True in breaks:
        valid = False
    elif None in breaks:
        valid = None
    else:
        valid = True
    if any(kind == "labels" for kind in kinds) and 0 in full:
        valid = None
    if not validate:
        valid = None if valid is not True else True
    if flushed:
        valid = None

    def check(out: Any) -> None:
        if flushed or (valid is not True and not all(b is False for b in breaks)):
            return  # outside the contract with validate=False, or flushed: any number
        batch_shape = np.broadcast_shapes(*(h.shape[:-1] for h in hosts))
        rows = [np.broadcast_to(h, (*batch_shape, h.shape[-1])) for h in hosts]
        dense = [dense_rows(kind, r, k, normalize) for kind, r in zip(kinds, rows, strict=True)]
        want = []
        for i in range(int(np.prod(batch_shape))):
            value = mp_measure(name, dense[0][i], dense[1][i] if n_args == 2 else None)
            if base is not None:
                value = value / mpmath.log({"bits": 2, "nats": mpmath.e}.get(base, base))
            if name == "js_distance":
                value = mpmath.sqrt(value)
            want.append(float(value))
        expected = np.array(want).reshape(batch_shape)
        if keepdims:
            expected = np.expand_dims(expected, axis % ndim)
        got = host(out)
        rdt = out.dtype if hasattr(out, "dtype") else np.float64
        if name == "js_distance" and normalize:
            # the shares' rounding moves JS by ~eps sqrt(JS), so its root by ~sqrt of
            # that: compare the squares, with the divergence's slack
            got, expected = np.square(got), np.square(expected)
        assert_close(got, expected, rdt, f"{name} {backend} {kinds} {dtype}", normalized=normalize)

    def call() -> Any:
        out = getattr(kl, name)(
            *args, base=base, axis=axis, keepdims=keepdims, normalize=normalize, validate=validate
        )
        return out.compute() if hasattr(out, "compute") else out  # Dask checks at compute()

    context = (
        f"{backend} {dtype} kinds={kinds} shapes={[np.shape(h) for h in hosts]} axis={axis} "
        f"keepdims={keepdims} normalize={normalize} validate={validate} base={base!r} "
        f"breaks={breaks} valid={valid}"
    )
    classify(name, call, valid=valid, check=check, context=context)


# --- binary cross-entropy ----------------------------------------------------------------------


def mp_bce(y: float, h: float, logits: bool) -> Any:
    y = mp(y)
    if logits:  # y softplus(-z) + (1 - y) softplus(z)
        z = mp(h)
        return y * mpmath.log1p(mpmath.exp(-z)) + (1 - y) * mpmath.log1p(mpmath.exp(z))
    h = mp(h)
    total = mpmath.mpf(0)
    for weight, prob in ((y, h), (1 - y, 1 - h)):
        if weight > 0:
            total += mpmath.inf if prob == 0 else -weight * mpmath.log(prob)
    return total


@SETTINGS
@given(st.data())
def test_binary_cross_entropy_on_hostile_arrays(all_libs, data):
    draw = data.draw
    lib = all_libs[draw(st.sampled_from(sorted(all_libs, key=lambda b: b.value)))]
    backend = lib.backend.value
    dtype = draw(st.sampled_from(FLOAT_DTYPES[backend]))
    shape = tuple(draw(st.integers(0, 3)) for _ in range(draw(st.integers(0, 2))))
    shape_hat = shape[draw(st.integers(0, len(shape))) :] if draw(st.booleans()) else shape
    g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = draw(st.booleans())
    base = draw(st.sampled_from([None, 2, "bits", 10.0]))
    validate = draw(st.booleans())
    y = np.where(g.random(shape) < 0.3, g.integers(0, 2, shape), g.random(shape)).astype(float)
    h = (
        g.normal(0, draw(st.sampled_from([1.0, 40.0, 1e4])), shape_hat)
        if logits
        else g.random(shape_hat)
    )
    if not logits and h.size and draw(st.booleans()):
        h.reshape(-1)[0] = draw(st.sampled_from([0.0, 1.0, 5e-320]))
    spoil = draw(st.sampled_from(["none", "none", "y", "h"]))
    bad_value = draw(st.sampled_from([np.nan, np.inf, -np.inf, -0.5, 1.5]))
    broken = False
    if spoil == "y" and y.size:
        y.reshape(-1)[0] = bad_value
        broken = True
    if spoil == "h" and h.size:
        h.reshape(-1)[0] = bad_value
        broken = not (logits and bad_value in (-0.5, 1.5))
    with np.errstate(all="ignore"):
        yc, hc = y.astype(dtype), h.astype(dtype)
    if backend == "jax" and (np.abs(hc[(hc != 0)]) < np.finfo(dtype).tiny).any():
        broken = None  # flushed subnormal: documented
    valid: bool | None = not broken if broken is not None else None
    if not validate and valid is not True:
        valid = None

    def check(out: Any) -> None:
        if valid is not True:
            return
        yb, hb = np.broadcast_arrays(yc.astype(np.float64), hc.astype(np.float64))
        scale = mpmath.log({"bits": 2}.get(base, base)) if base is not None else 1
        want = np.array(
            [
                float(mp_bce(a, b, logits) / scale)
                for a, b in zip(yb.ravel(), hb.ravel(), strict=True)
            ]
        ).reshape(yb.shape)
        assert_close(host(out), want, getattr(out, "dtype", np.float64), f"bce {backend} {dtype}")

    def call() -> Any:
        hat = kl.Logits(lib.asarray(hc)) if logits else lib.asarray(hc)
        out = kl.binary_cross_entropy(lib.asarray(yc), hat, base=base, validate=validate)
        return out.compute() if hasattr(out, "compute") else out

    classify("binary_cross_entropy", call, valid=valid, check=check)


# --- inputs that are not distributions at all --------------------------------------------------

NOT_NUMBERS = [
    np.array([0.5 + 0.5j, 0.5 + 0j]),
    np.array(["0.5", "0.5"]),
    np.array([0.5, 0.5], dtype=object),
    np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
    np.array([1, 2], dtype="timedelta64[s]"),
    [[0.5, 0.5], [1.0]],
    [0.5, None],
    [0.5, "a"],
    "0.5,0.5",
    None,
    {"a": "x"},
    np.array([], dtype=np.float64),
    np.zeros((3, 0)),
    [],
]


@SETTINGS
@given(
    st.sampled_from(MEASURES),
    st.sampled_from(range(len(NOT_NUMBERS))),
    st.booleans(),
    st.sampled_from([-1, 0, None]),
)
def test_not_numbers_are_clean_errors(name, which, first, axis):
    bad = NOT_NUMBERS[which]
    good = np.array([0.5, 0.5])
    args = [bad] if name == "entropy" else ([bad, good] if first else [good, bad])
    valid = None if isinstance(bad, np.ndarray) and bad.dtype == object else False
    if isinstance(bad, np.ndarray) and bad.shape == (3, 0) and axis == 0:
        valid = None  # 3 outcomes along axis 0 and no rows: an empty result
    if isinstance(bad, np.ndarray) and bad.dtype == object:  # objects that are numbers
        valid = True if axis != 0 or name == "entropy" else None
    classify(name, lambda: getattr(kl, name)(*args, axis=axis), valid=valid)


@SETTINGS
@given(st.sampled_from(MEASURES[1:]), st.data())
def test_mixed_backends_are_a_type_error_naming_both(all_libs, name, data):
    backends = sorted(all_libs, key=lambda b: b.value)
    if len(backends) < 2:
        return
    a, b = data.draw(st.lists(st.sampled_from(backends), min_size=2, max_size=2, unique=True))
    p = all_libs[a].asarray(np.array([0.25, 0.75]))
    q = all_libs[b].asarray(np.array([0.5, 0.5]))

    text = ""
    try:
        getattr(kl, name)(p, q)
    except TypeError as e:
        text = str(e)
    except Exception as e:
        msg = f"{name}: raw {type(e).__name__} for {a.value} against {b.value}: {e}"
        raise FuzzFailure(msg) from e
    assert "`p`" in text, (a, b, text)
    assert "`q`" in text, (a, b, text)
    TALLY[f"{name} (mixed backends): clean error"] += 1


# --- explain -------------------------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_explain_on_hostile_pairs(data):
    draw = data.draw
    k = draw(st.integers(1, 6))
    kinds = [
        draw(st.sampled_from(["probs", "probs", "logits", "logprobs", "labels"])) for _ in "pq"
    ]
    if kinds[1] == "labels" and kinds[0] in ("logits", "logprobs"):
        kinds[1] = "probs"  # torch's (input, target) order is refused (tests/api/test_losses.py)
    normalize = draw(st.booleans())
    outcomes = draw(st.sampled_from([None, "names", "short", 5, "abc"]))
    base = draw(st.sampled_from([None, 2, "bits", 0.5]))
    args, breaks, hosts = [], [], []
    for kind in kinds:
        if kind == "labels":
            y = draw(st.integers(-1, k))
            args.append(kl.Labels(y))
            breaks.append(not 0 <= y < k)
            hosts.append(np.array([y]))
            continue
        if kind == "probs":
            spoil, broken = draw(st.sampled_from(SPOILS))
            values = probability_rows(draw, (k,), spoil)
            if normalize:
                broken = bool(~np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0)
            elif broken is not True:
                off = abs(values.sum() - 1)
                broken = False if off < 1e-9 else None if off < 1e-6 else True
            args.append(values)
        else:
            values, broken = logit_rows(draw, (k,))
            if kind == "logprobs":
                broken = True if broken else None
            args.append(kl.Logits(values) if kind == "logits" else kl.LogProbs(values))
        breaks.append(broken)
        hosts.append(values)
    valid: bool | None = None if None in breaks else not any(breaks)
    if all(kind == "labels" for kind in kinds):
        valid = False
    names = {"names": [f"o{i}" for i in range(k)], "short": ["a"] * (k + 1)}.get(outcomes, outcomes)
    if outcomes in ("short", 5, "abc") or base == 0.5:
        valid = False if valid is not None else None

    def check(b: Any) -> None:
        if valid is not True:
            return
        dense = [
            dense_rows(kind, np.asarray(h, float).reshape(1, -1), k, normalize)[0]
            for kind, h in zip(kinds, hosts, strict=True)
        ]
        scale = mpmath.log(2) if base in (2, "bits") else 1
        want = [
            float(mp_measure("entropy", dense[0], None) / scale),
            float(mp_measure("cross_entropy", dense[0], dense[1]) / scale),
            float(mp_measure("kl_divergence", dense[0], dense[1]) / scale),
        ]
        got = np.array([b.entropy, b.cross_entropy, b.kl_divergence])
        assert_close(got, np.array(want), np.float64, "explain", normalized=normalize)
        assert len(b.outcomes) == k
        assert str(b)  # renders

    classify(
        "explain",
        lambda: kl.explain(*args, base=base, normalize=normalize, outcomes=names),
        valid=valid,
        check=check,
        context=f"kinds={kinds} hosts={hosts} normalize={normalize} base={base!r}",
    )


# --- axis=None and 0-d inputs: the whole array is one distribution ---------------------------


@SETTINGS
@given(st.data())
def test_axis_none_and_zero_d_inputs(all_libs, data):
    draw = data.draw
    name = draw(st.sampled_from(MEASURES))
    lib = all_libs[draw(st.sampled_from(sorted(all_libs, key=lambda b: b.value)))]
    shape = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 3))))
    spoil, broken = draw(st.sampled_from(SPOILS[:6]))
    g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = g.random(shape) + 0.1
    p = w / w.sum()
    if spoil.startswith("off"):
        p = p * (1 + float(spoil.split()[1]))
    q = np.full(shape, 1.0 / max(1, p.size))
    keepdims = draw(st.booleans())
    labels = draw(st.booleans()) and name != "entropy"
    args: list[Any] = [lib.asarray(p)] if name == "entropy" else [lib.asarray(p), lib.asarray(q)]
    if labels:
        y = int(g.integers(0, p.size))
        args[0] = kl.Labels(lib.asarray(np.asarray(y)))
        broken = False
    valid = None if broken is None else not broken

    def check(out: Any) -> None:
        if valid is not True:
            return
        pd_ = [mp(v) for v in p.ravel()]
        if labels:
            pd_ = [mpmath.mpf(i == y) for i in range(p.size)]
        qd = [mp(v) for v in q.ravel()]
        value = mp_measure(name, pd_, None if name == "entropy" else qd)
        value = mpmath.sqrt(value) if name == "js_distance" else value
        want = np.array(float(value))
        if keepdims:
            want = want.reshape((1,) * len(shape))
        assert_close(host(out), want, getattr(out, "dtype", np.float64), f"{name} axis=None")

    def call() -> Any:
        out = getattr(kl, name)(*args, axis=None, keepdims=keepdims)
        return out.compute() if hasattr(out, "compute") else out

    context = f"{lib.backend.value} shape={shape} labels={labels} keepdims={keepdims} {spoil}"
    classify(name, call, valid=valid, check=check, context=context)
