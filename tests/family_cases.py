"""Batches of family parameters shared by the distribution tests (seeded draws).

Two sets, each from its own seed and in its own order: the scale families' (seed 0:
``LOC*``, ``SC*``, ``PROB*``) and the concentration families' (seed 5: ``A*``, ``B*``,
``PR*``, ``ALPHA*``, ``LOW``/``HIGH``, ``COV*``, ``MU*``). :func:`t` makes a float64
torch tensor, and :func:`assert_matches_torch` compares a pair with
``torch.distributions`` (torch is required only by the tests that call them).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from backends import Backend, requires

import klkit as kl

_RNG0 = np.random.default_rng(0)
LOC1, LOC2 = _RNG0.normal(size=5), _RNG0.normal(size=5)
SC1, SC2 = _RNG0.uniform(0.2, 3, size=5), _RNG0.uniform(0.2, 3, size=5)
PROB1, PROB2 = _RNG0.uniform(0.01, 0.99, size=5), _RNG0.uniform(0.01, 0.99, size=5)


def spd(rng: np.random.Generator, batch: tuple[int, ...], k: int) -> np.ndarray:
    """Symmetric positive definite matrices ``M M^T + I/2`` of shape ``(*batch, k, k)``."""
    m = rng.normal(size=(*batch, k, k))
    return m @ np.swapaxes(m, -1, -2) + 0.5 * np.eye(k)


_RNG5 = np.random.default_rng(5)
A1, A2 = _RNG5.uniform(0.3, 6, size=6), _RNG5.uniform(0.3, 6, size=6)
B1, B2 = _RNG5.uniform(0.3, 6, size=6), _RNG5.uniform(0.3, 6, size=6)
PR1, PR2 = _RNG5.uniform(0.05, 0.95, size=6), _RNG5.uniform(0.05, 0.95, size=6)
ALPHA1, ALPHA2 = _RNG5.uniform(0.3, 5, size=(6, 4)), _RNG5.uniform(0.3, 5, size=(6, 4))
LOW = _RNG5.uniform(0.05, 0.4, size=6)
HIGH = LOW + _RNG5.uniform(0.1, 0.55, size=6)
COV1, COV2 = spd(_RNG5, (6,), 3), spd(_RNG5, (6,), 3)
MU1, MU2 = _RNG5.normal(size=(6, 3)), _RNG5.normal(size=(6, 3))


def t(x: Any) -> Any:
    """A float64 torch tensor (torch required: missing, it fails or skips the test)."""
    torch = requires(Backend.TORCH)
    return torch.asarray(x, dtype=torch.float64)


def torch_case(p: Any, q: Any, make: Any, *, rtol: float, atol: float, base: float | None) -> Any:
    """A pair for :func:`assert_matches_torch`: klkit's families, and a maker of torch's."""
    return pytest.param(p, q, make, (rtol, atol, base), id=f"{type(p).__name__}-{type(q).__name__}")


def assert_matches_torch(p: Any, q: Any, make: Any, tol: tuple[float, float, Any]) -> None:
    """KL, entropy and cross-entropy of ``p`` and ``q`` against torch.distributions.

    ``make(D)`` builds the same pair in ``torch.distributions``; the cross-entropy
    reference is torch's ``H(P) + KL(P || Q)``, in ``base`` units (None: nats).
    """
    D = requires(Backend.TORCH).distributions
    rtol, atol, base = tol
    tp, tq = make(D)
    ref_kl = D.kl_divergence(tp, tq)
    np.testing.assert_allclose(kl.kl_divergence(p, q), ref_kl.numpy(), rtol=rtol)
    np.testing.assert_allclose(kl.entropy(p), tp.entropy().numpy(), rtol=rtol, atol=atol)
    unit = math.log(base) if base is not None else 1.0
    np.testing.assert_allclose(
        kl.cross_entropy(p, q, base=base),
        (tp.entropy() + ref_kl).numpy() / unit,
        rtol=rtol,
        atol=atol,
    )
