"""Backends for the parametrised suite.

Every test that takes the ``lib`` fixture runs once per array library. Locally a
library that is not installed is skipped; when ``KLKIT_TEST_BACKENDS`` is set (CI
sets it to all five), a missing library is a failure, not a skip.
"""

from __future__ import annotations

import enum
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import array_api_compat
import mpmath
import numpy as np
import pytest


class Backend(enum.Enum):
    NUMPY = "numpy"
    ARRAY_API_STRICT = "array_api_strict"
    TORCH = "torch"
    JAX = "jax"
    DASK = "dask"


@dataclass(frozen=True)
class Lib:
    """One array library: how to make arrays from NumPy ones and read results back."""

    backend: Backend
    module: Any
    asarray: Callable[[Any], Any]

    @property
    def name(self) -> str:
        return self.backend.value

    def to_numpy(self, x: Any) -> np.ndarray:
        if self.backend is Backend.DASK:
            x = x.compute()
        if self.backend is Backend.TORCH:
            return x.detach().cpu().numpy()
        if self.backend is Backend.ARRAY_API_STRICT:
            return np.from_dlpack(x)
        return np.asarray(x)

    def check_result(self, result: Any, *, dtype: Any) -> np.ndarray:
        """Assert that a result is in this library with this dtype; return it as NumPy."""
        if self.backend is Backend.NUMPY and np.ndim(result) == 0:
            assert isinstance(result, np.floating), type(result)
            assert result.dtype == np.dtype(dtype)
            return np.asarray(result)
        xp = array_api_compat.array_namespace(result)
        assert self.module_name in xp.__name__, (xp.__name__, self.name)
        assert str(result.dtype).endswith(str(dtype)), (result.dtype, dtype)
        return self.to_numpy(result)

    @property
    def module_name(self) -> str:
        return {
            Backend.NUMPY: "numpy",
            Backend.ARRAY_API_STRICT: "array_api_strict",
            Backend.TORCH: "torch",
            Backend.JAX: "jax",
            Backend.DASK: "dask",
        }[self.backend]

    def dtype(self, name: str) -> Any:
        if self.backend is Backend.DASK:
            return np.dtype(name)
        return getattr(self.module, name)


def _required() -> set[str]:
    names = os.environ.get("KLKIT_TEST_BACKENDS", "")
    wanted = {n.strip() for n in names.split(",") if n.strip()}
    unknown = wanted - {b.value for b in Backend}
    if unknown:
        msg = f"KLKIT_TEST_BACKENDS names unknown backends {sorted(unknown)}"
        raise ValueError(msg)
    return wanted


def _import(backend: Backend) -> Any:
    name = {Backend.JAX: "jax.numpy", Backend.DASK: "dask.array"}.get(backend, backend.value)
    if backend.value in _required():
        return importlib.import_module(name)  # a missing backend fails the run
    return pytest.importorskip(name)


def make_lib(backend: Backend) -> Lib:
    module = _import(backend)
    if backend is Backend.JAX:
        import jax

        jax.config.update("jax_enable_x64", True)

        def asarray(a: Any) -> Any:
            return module.asarray(np.asarray(a))
    elif backend is Backend.DASK:

        def asarray(a: Any) -> Any:
            a = np.asarray(a)
            # several chunks along the first axis so reductions really cross chunks
            chunks = tuple(max(1, n // 2) for n in a.shape) if a.ndim else ()
            return module.from_array(a, chunks=chunks)
    elif backend is Backend.TORCH:

        def asarray(a: Any) -> Any:
            return module.asarray(np.asarray(a))
    else:

        def asarray(a: Any) -> Any:
            return module.asarray(np.asarray(a))

    return Lib(backend, module, asarray)


@pytest.fixture(params=list(Backend), ids=[b.value for b in Backend])
def lib(request: pytest.FixtureRequest) -> Lib:
    return make_lib(request.param)


@pytest.fixture(
    params=[b for b in Backend if b is not Backend.DASK],
    ids=[b.value for b in Backend if b is not Backend.DASK],
)
def eager_lib(request: pytest.FixtureRequest) -> Lib:
    return make_lib(request.param)


@pytest.fixture(scope="session")
def all_libs() -> dict[Backend, Lib]:
    """Every backend at hand, for tests that draw one per example (Hypothesis).

    A backend named in ``KLKIT_TEST_BACKENDS`` that is missing fails here; others that
    are missing are left out.
    """
    out = {}
    for backend in Backend:
        try:
            out[backend] = make_lib(backend)
        except pytest.skip.Exception:
            continue
    return out


ENGINES = ["ufuncs", "numba"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test's NumPy fast-path calls on each engine: ufuncs, then Numba kernels.

    "numba" sends arrays of any size to the kernels (normally only arrays of
    ``klkit._fast.NUMBA_MIN`` elements go there); "ufuncs" sets ``KLKIT_NUMBA=0``,
    the user's switch. Numba is a test dependency: a missing Numba fails here.
    """
    from klkit import _fast, _numba  # noqa: F401  (fails loudly without Numba)

    if request.param == "numba":
        monkeypatch.setattr(_fast, "NUMBA_MIN", 0)
        monkeypatch.delenv("KLKIT_NUMBA", raising=False)
    else:
        monkeypatch.setenv("KLKIT_NUMBA", "0")
    return str(request.param)


def _mp_kl_row(p: Any, q: Any) -> float:
    """sum p log(p/q) - p + q of the exact float values, at 40 digits (klkit's KL)."""
    with mpmath.workdps(40):
        total = mpmath.mpf(0)
        for x, y in zip(
            np.ravel(np.asarray(p, float)), np.ravel(np.asarray(q, float)), strict=True
        ):
            a, b = mpmath.mpf(float(x)), mpmath.mpf(float(y))
            total += b if a == 0 else (mpmath.inf if b == 0 else a * mpmath.log(a / b) - a + b)
        return float(total)


@pytest.fixture
def mp_kl() -> Callable[[Any, Any], float]:
    """The mpmath reference of one KL row, independent of klkit."""
    return _mp_kl_row
