"""Batched linear algebra that the array API leaves to each library: Cholesky and triangular solves.

The multivariate normal needs a lower Cholesky factor and solves with it. The array API
has ``linalg.cholesky`` and ``linalg.solve`` (a triangular matrix is a matrix), and
everything else takes those; each branch below says why its library does not.
"""

from __future__ import annotations

import sys

from klkit._backends import _dask
from klkit._backends._namespace import can_defer_checks, library_of
from klkit._typing import Array, Namespace

__all__ = ["cholesky", "solve_tril"]


def cholesky(matrix: Array, /, *, xp: Namespace) -> Array:
    """Lower Cholesky factors of a stack of symmetric positive definite matrices.

    NumPy and torch raise for a matrix that is not positive definite, JAX returns
    NaN; on Dask such a matrix's factor is NaN, for a deferred check to name.
    """
    if can_defer_checks(matrix):
        # Dask's linalg.cholesky takes one 2-D matrix only: stacks go block by block
        return _dask.dask_cholesky(matrix)
    return xp.linalg.cholesky(matrix)


def solve_tril(factor: Array, b: Array, /, *, xp: Namespace) -> Array:
    """``factor^-1 b`` for lower-triangular ``factor`` and ``b`` of equal batch shape."""
    library = library_of(factor)
    if library == "torch":
        # speed: a triangular solve is O(k^2) per column against LU's O(k^3), and
        # exactly triangular (no pivoting noise above the diagonal of the result)
        return sys.modules["torch"].linalg.solve_triangular(factor, b, upper=False)
    if library == "jax":
        # the same reason, in XLA: jax.scipy.linalg has the triangular solve
        return sys.modules["jax"].scipy.linalg.solve_triangular(factor, b, lower=True)
    if can_defer_checks(factor):
        # Dask's linalg.solve takes one 2-D matrix only: stacks go block by block
        return _dask.dask_solve(factor, b)
    return xp.linalg.solve(factor, b)
