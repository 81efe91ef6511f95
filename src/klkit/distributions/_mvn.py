"""The multivariate normal: its Cholesky factor and checks, entropy and KL.

Everything goes through the lower Cholesky factor and triangular solves, never an
explicit inverse (the solves are the backends' :mod:`klkit._backends._linalg`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from klkit._backends import _linalg
from klkit._backends._namespace import is_array, is_traced, namespace, to_numpy
from klkit._core._checks import Checks, Message
from klkit._core._errors import DistributionError
from klkit._numerics import HALF_LOG_2PI_E
from klkit._typing import Array, Namespace
from klkit.distributions._base import broadcast_batch
from klkit.distributions._safe import g_square

__all__ = ["entropy_mvn", "kl_mvn", "mvn_factor"]

_OWNER = "MultivariateNormal"
_PASS_SPD = (
    "pass a symmetric positive definite matrix (add a small multiple of the identity if "
    "it is singular)."
)


def mvn_factor(matrix: Array, given: str, loc: Array) -> tuple[Array, Checks]:
    """Return the lower Cholesky factor of a covariance (or check a ``scale_tril``).

    The checks raise now, or, on Dask, are returned to raise when the result is computed.
    """
    xp = namespace(loc, matrix, names=["loc", given])
    checks = Checks(matrix, xp=xp, enabled=True)  # skipped only for JAX tracers
    if given == "covariance_matrix":
        _check_symmetric(matrix, xp, checks)
        try:
            factor = _linalg.cholesky(matrix, xp=xp)  # Dask: NaN where not positive definite
        except Exception as exc:  # NumPy's LinAlgError, torch's, ...: find the matrix
            raise _not_positive_definite(matrix) from exc
    else:
        factor = matrix
    if not checks.active:
        return factor, checks
    if given == "scale_tril":
        _check_tril(factor, xp, checks)
    elif checks.mode == "defer":
        diag = xp.linalg.diagonal(factor)
        checks.fail_where(
            ~xp.all(diag > 0, axis=-1),
            xp.min(diag, axis=-1),
            Message(given, "is not positive definite{where};", fix=_PASS_SPD, owner=_OWNER),
        )
    elif not bool(xp.all(_good_diagonal(factor, xp))):  # JAX returns NaN, no error
        raise _not_positive_definite(matrix)
    return factor, checks


def _good_diagonal(factor: Array, xp: Namespace) -> Array:
    diag = xp.linalg.diagonal(factor)
    return (diag > 0) & xp.isfinite(diag)


def _check_tril(factor: Array, xp: Namespace, checks: Checks) -> None:
    """Check a ``scale_tril``: a positive finite diagonal, zeros above it."""
    diag = xp.linalg.diagonal(factor)
    bad, shown = ~_good_diagonal(factor, xp), diag
    if checks.mode == "defer":  # one flag per distribution, as the result has
        bad, shown = xp.any(bad, axis=-1), xp.min(diag, axis=-1)
    checks.fail_where(
        bad,
        shown,
        Message(
            "scale_tril",
            "has diagonal entry {value}{where}; it must be > 0 and finite (a lower "
            "Cholesky factor).",
            owner=_OWNER,
        ),
    )
    k = factor.shape[-1]
    upper = xp.arange(k)[:, None] < xp.arange(k)[None, :]
    checks.fail_where(
        xp.any(xp.where(upper, factor != 0, False), axis=(-2, -1)),
        xp.sum(xp.where(upper, xp.abs(factor), 0.0), axis=(-2, -1)),
        Message(
            "scale_tril",
            "has nonzero entries above the diagonal (sum of their sizes {value}){where};",
            fix="pass a lower-triangular matrix.",
            owner=_OWNER,
        ),
    )


def _check_symmetric(matrix: Array, xp: Namespace, checks: Checks) -> None:
    size = xp.max(xp.abs(matrix), axis=(-2, -1))
    gap = xp.max(xp.abs(matrix - xp.matrix_transpose(matrix)), axis=(-2, -1))
    tol = 1000 * xp.finfo(matrix.dtype).eps if xp.isdtype(matrix.dtype, "real floating") else 0
    checks.fail_where(
        ~(gap <= tol * size),
        gap,
        Message(
            "covariance_matrix",
            "is not symmetric{where}: entries differ from their transposes by up to {value};",
            fix="pass a symmetric matrix, e.g. (S + S.T) / 2.",
            owner=_OWNER,
        ),
    )


def _not_positive_definite(matrix: Array) -> DistributionError:
    """Name the first batch index whose matrix is not positive definite."""
    m = to_numpy(matrix).astype(np.float64)
    flat = m.reshape(-1, *m.shape[-2:])
    smallest = [float(np.linalg.eigvalsh(x)[0]) if np.isfinite(x).all() else math.nan for x in flat]
    first = next((i for i, v in enumerate(smallest) if not v > 0), 0)
    index = np.unravel_index(first, m.shape[:-2]) if m.ndim > 2 else ()
    where = f" at batch index {tuple(int(i) for i in index)}" if index else ""
    return DistributionError(
        f"is not positive definite{{where}}: its smallest eigenvalue is {smallest[first]:.3g};",
        argument="covariance_matrix",
        owner=_OWNER,
        where=where,
        fix=_PASS_SPD,
    )


def _solve_tril(factor: Array, b: Array, xp: Namespace) -> Array:
    """``factor^-1 b`` for a lower-triangular ``factor`` (batched, broadcasting)."""
    shape = broadcast_batch(_OWNER, {"p": factor.shape[:-2], "q": b.shape[:-2]})
    factor = xp.broadcast_to(factor, (*shape, *factor.shape[-2:]))
    b = xp.broadcast_to(b, (*shape, *b.shape[-2:]))
    return _linalg.solve_tril(factor, b, xp=xp)


def entropy_mvn(a: dict[str, Array], xp: Namespace) -> Array:
    """``k log(2 pi e)/2 + log det L``, from the factor's diagonal."""
    factor = a["scale_tril"]
    k = factor.shape[-1]
    log_det = xp.sum(xp.log(xp.linalg.diagonal(factor)), axis=-1)
    return k * HALF_LOG_2PI_E + log_det + xp.sum(0.0 * a["loc"], axis=-1)


def kl_mvn(
    a: dict[str, Array],
    b: dict[str, Array],
    xp: Namespace,
    covariances: tuple[Any, Any] | None = None,
) -> Array:
    """``(sum_i g2(L1_ii/L2_ii) + sum_i>j N_ij^2 + |L2^-1 (loc2 - loc1)|^2) / 2``.

    ``M = L2^-1 L1`` is lower triangular with diagonal ``L1_ii/L2_ii``, so the textbook
    ``||M||_F^2 - k - 2 log det M`` is ``sum_i (m_ii^2 - 1 - 2 log m_ii)`` (each >= 0,
    by :func:`~klkit.distributions._safe.g_square`) plus the squares below the
    diagonal, which are those of ``N = L2^-1 (L1 - L2)``: nothing cancels, and a law
    against itself is exactly 0. When both laws were given by ``covariances`` (the
    matrices as given) that are nearly equal (``||A||_F < 0.1`` for
    ``A = L2^-1 (S1 - S2) L2^-T``), their Cholesky factors' rounding would swamp the
    KL; there ``(tr A - log det(I + A))/2 = sum_k>=2 (-1)^k tr(A^k) / (2k)`` from the
    exact difference ``S1 - S2``.
    """
    l1, l2 = a["scale_tril"], b["scale_tril"]
    k = l1.shape[-1]
    if l2.shape[-1] != k:
        problem = (
            f"kl_divergence(MultivariateNormal, MultivariateNormal) needs one dimension; "
            f"got {k} and {l2.shape[-1]}."
        )
        raise DistributionError(problem)
    d1, d2 = xp.linalg.diagonal(l1), xp.linalg.diagonal(l2)
    n = _solve_tril(l2, l1 - l2, xp)
    off = xp.arange(k)[:, None] != xp.arange(k)[None, :]  # (only the lower part is nonzero)
    shape_part = xp.sum(g_square(d1, d2, xp), axis=-1) + xp.sum(
        xp.where(off, n * n, 0.0), axis=(-2, -1)
    )
    if covariances is not None:
        shape_part = _near_covariances(shape_part, l2, covariances, xp)
    z = _solve_tril(l2, (b["loc"] - a["loc"])[..., None], xp)
    return 0.5 * (shape_part + xp.sum(z * z, axis=(-2, -1)))


def _near_covariances(
    shape_part: Array, l2: Array, covariances: tuple[Any, Any], xp: Namespace
) -> Array:
    """``shape_part``, or where the covariances are nearly equal, its series (see kl_mvn)."""
    s1, s2 = (
        xp.astype(c, l2.dtype) if is_array(c) else xp.asarray(c, dtype=l2.dtype)
        for c in covariances
    )
    x = _solve_tril(l2, s1 - s2, xp)
    m = _solve_tril(l2, xp.matrix_transpose(x), xp)
    m = 0.5 * (m + xp.matrix_transpose(m))
    near = xp.sum(m * m, axis=(-2, -1)) < 0.01
    if not is_traced(near) and not bool(xp.any(near)):
        return shape_part
    m = xp.where(near[..., None, None], m, 0.0)
    power, total = m, xp.zeros_like(near, dtype=m.dtype)
    for j in range(2, 20):  # ||A|| < 0.1: 0.1^18 / 18 of the first term is left
        trace = xp.sum(power * m, axis=(-2, -1))  # tr(A^j), A symmetric
        total = total + ((-1) ** j / j) * trace
        power = xp.matmul(power, m)
    return xp.where(near, total, shape_part)
