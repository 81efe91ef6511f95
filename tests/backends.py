"""The array libraries the suite runs on, and the one rule for a missing one.

``KLKIT_TEST_BACKENDS`` (CI sets it to all five) names the backends that must be
there: a missing one fails the run. Locally, with it unset, a missing library skips
the tests that need it. Tests reach a backend only through :func:`requires` (or the
``lib`` fixtures built on :func:`make_lib`), never through ``pytest.importorskip``.
"""

from __future__ import annotations

import enum
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import array_api_compat
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


def requires(backend: Backend, module: str | None = None) -> Any:
    """Import ``module`` (default: the backend's array module) of ``backend``.

    A backend named in ``KLKIT_TEST_BACKENDS`` that is missing fails (ImportError);
    one not named is skipped when missing.
    """
    name = module or {Backend.JAX: "jax.numpy", Backend.DASK: "dask.array"}.get(
        backend, backend.value
    )
    if backend.value in _required():
        return importlib.import_module(name)  # a missing backend fails the run
    return pytest.importorskip(name)


def make_lib(backend: Backend) -> Lib:
    module = requires(backend)
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
