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
mpmath.mp.dps = 60


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    path = os.environ.get("KLKIT_FUZZ_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(sorted(TALLY.items())), f, indent=1)


# --- classification ------------------------------------------------------------------------


class Failure(AssertionError):
    pass


def classify(prop: str, call: Any, *, valid: bool | None, check: Any = None) -> Any:
    """Run ``call``; ``valid``: True must give a value, False a clean error, None either."""
    try:
        out = call()
    except CLEAN as e:
        text = str(e)
        if not any(name in text for name in ARGUMENT_NAMES) and "klkit" not in text:
            msg = f"{prop}: an error that names no argument: {type(e).__name__}: {text}"
            raise Failure(msg) from e
        if valid is True:
            msg = f"{prop}: a clean error for input inside the contract: {text}"
            raise Failure(msg) from e
        TALLY[f"{prop}: clean error"] += 1
        return None
    except Exception as e:
        msg = f"{prop}: raw {type(e).__name__}: {e}"
        raise Failure(msg) from e
    if valid is False:
        msg = f"{prop}: a value ({out!r}) for input that breaks the contract"
        raise Failure(msg)
    if check is not None:
        check(out)
    TALLY[f"{prop}: value"] += 1
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


def assert_close(got: np.ndarray, want: np.ndarray, dtype: Any, what: str) -> None:
    rel, tiny = tolerance(dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    for g, w in zip(got.ravel(), want.ravel(), strict=True):
        if math.isinf(w) or math.isinf(g):
            assert g == w, (what, g, w)
            continue
        assert abs(g - w) <= rel * abs(w) + tiny, (what, g, w)


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
    full = (*batch, k)  # outcomes last; moved to ``axis`` below
    breaks: list[bool | None] = []
    flushed = False
    hosts: list[np.ndarray] = []  # outcomes last, as klkit will see them (after the cast)
    args: list[Any] = []
    for i, kind in enumerate(kinds):
        # the second argument may broadcast: drop leading axes or set some to 1
        shape = full
        if i == 1 and draw(st.booleans()):
            shape = tuple(1 if draw(st.booleans()) else n for n in full[:-1]) + (k,)
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
        dense = [
            dense_rows(kind, r, k, normalize) for kind, r in zip(kinds, rows, strict=True)
        ]
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
        assert_close(got, expected, rdt, f"{name} {backend} {kinds} {dtype}")

    def call() -> Any:
        out = getattr(kl, name)(
            *args, base=base, axis=axis, keepdims=keepdims, normalize=normalize, validate=validate
        )
        return out.compute() if hasattr(out, "compute") else out  # Dask checks at compute()

    classify(name, call, valid=valid, check=check)
