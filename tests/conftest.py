"""Backends for the parametrised suite.

Every test that takes the ``lib`` fixture runs once per array library. Locally a
library that is not installed is skipped; when ``KLKIT_TEST_BACKENDS`` is set (CI
sets it to all five), a missing library is a failure, not a skip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
from backends import Backend, Lib, make_lib


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
    ``klkit._numpy.NUMBA_MIN`` elements go there); "ufuncs" sets ``KLKIT_NUMBA=0``,
    the user's switch. Numba is a test dependency: a missing Numba fails here.
    """
    from klkit._backends import _numba, _numpy  # noqa: F401  (fails loudly without Numba)

    if request.param == "numba":
        monkeypatch.setattr(_numpy, "NUMBA_MIN", 0)
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
