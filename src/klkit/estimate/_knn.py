"""Nearest-neighbour estimators (Kozachenko-Leonenko; Wang, Kulkarni and Verdu) on cKDTree."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from klkit.estimate._inputs import NDArray
from klkit.estimate._scipy import cKDTree, sp

__all__ = ["dequantize", "knn_entropy", "knn_kl"]


def _knn_distances(tree: cKDTree, points: NDArray, k: int, *, skip_self: bool) -> tuple[Any, Any]:
    """Distance to the k-th neighbour, pushed past ties, and the count inside that ball.

    With continuous data the k-th neighbour's distance ``eps`` is positive and exactly
    k points lie within it. With repeated values (ties), the k-th distance may be 0 or
    shared by several points: the distance used is then the first positive one at or
    beyond rank k, and the count is every point within it (``<= eps``), so
    ``psi(count)`` matches the ball actually used (Wang, Kulkarni and Verdu's
    adaptive k). Never a log 0.
    """
    own = 1 if skip_self else 0
    n_tree = tree.n - own
    want = k
    while True:
        kk = min(want + own, tree.n)
        dist, _ = tree.query(points, k=list(range(1, kk + 1)), workers=-1)
        dist = dist[:, own:]
        zeros = np.sum(dist == 0, axis=1)
        rank = np.minimum(np.maximum(zeros + 1, k), dist.shape[1])
        found = dist[np.arange(len(points)), rank - 1]
        if np.all(found > 0) or want >= n_tree:
            break
        want = min(2 * want + int(zeros.max()), n_tree)
    if not np.all(found > 0):
        msg = (
            "the samples are mostly repeated values (a point has no neighbour at a "
            "positive distance), so they look discrete: pass them as integers or labels, "
            "or use method='plugin'."
        )
        raise ValueError(msg)
    count = rank.copy()
    tied = (zeros > 0) | (rank < dist.shape[1]) & (
        dist[np.arange(len(points)), np.minimum(rank, dist.shape[1] - 1)] == found
    )
    if np.any(tied):  # count every point inside the ball, ties included
        inside = tree.query_ball_point(points[tied], r=found[tied], return_length=True, workers=-1)
        count[tied] = np.asarray(inside) - own
    return found, count


def dequantize(samples: Sequence[NDArray], rng: np.random.Generator) -> tuple[list[NDArray], str]:
    """Spread tied values uniformly within their resolution, if any value repeats.

    Measurements are rounded (to 0.1 s, to 1 mm): many points then coincide, and
    nearest-neighbour distances describe the rounding grid, not the density (data
    rounded to 0.01 gave an entropy 0.25 nats too low). Each column with repeated
    values gets ``U(-h/2, h/2)`` noise, ``h`` its smallest positive gap over all the
    samples: the continuous law the rounding came from, to within the rounding.
    """
    pooled = np.concatenate(list(samples))
    if len(np.unique(pooled, axis=0)) == len(pooled):
        return list(samples), ""
    widths = []
    for j in range(pooled.shape[1]):
        gaps = np.diff(np.unique(pooled[:, j]))
        repeated = len(np.unique(pooled[:, j])) < len(pooled)
        widths.append(float(gaps[gaps > 0].min()) if repeated and np.any(gaps > 0) else 0.0)
    h = np.asarray(widths)
    spread = [a + h * rng.uniform(-0.5, 0.5, size=a.shape) for a in samples]
    shown = ", ".join(f"{w:.3g}" for w in widths)
    return spread, f"repeated values were spread uniformly within their resolution ({shown})"


def _log_unit_ball(d: int) -> float:
    return d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1)


def knn_entropy(x: NDArray, k: int) -> float:
    n, d = x.shape
    eps, rank = _knn_distances(cKDTree(x), x, k, skip_self=True)
    return float(
        sp.digamma(n) - np.mean(sp.digamma(rank)) + _log_unit_ball(d) + d * np.mean(np.log(eps))
    )


def knn_kl(x: NDArray, y: NDArray, k: int) -> float:
    n, d = x.shape
    m = y.shape[0]
    rho, k_rank = _knn_distances(cKDTree(x), x, k, skip_self=True)
    nu, l_rank = _knn_distances(cKDTree(y), x, k, skip_self=False)
    return float(
        d * np.mean(np.log(nu / rho))
        + np.mean(sp.digamma(k_rank) - sp.digamma(l_rank))
        + math.log(m / (n - 1))
    )
