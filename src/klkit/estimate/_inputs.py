"""What the estimators take: distributions and samples, read and checked before any work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from klkit._backends._namespace import is_array, to_numpy
from klkit.distributions import Dirichlet, Family
from klkit.distributions._families import Affine
from klkit.distributions._scipy import NoFamilyError, from_scipy, is_scipy_frozen, to_scipy

__all__ = [
    "MC_DRAWS",
    "Dist",
    "NDArray",
    "Samples",
    "as_generator",
    "as_input",
    "check_dims",
    "check_distribution_method",
    "check_k",
    "check_method",
    "check_n",
    "check_sample_method",
    "mixed_kinds",
]

NDArray = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Dist:
    """One distribution as SciPy sees it (for densities, sampling and supports)."""

    family: Family | None  # None: a SciPy distribution klkit has no family for
    frozen: Any  # a frozen scipy.stats distribution
    discrete: bool
    dim: int

    @property
    def name(self) -> str:
        if self.family is not None and not isinstance(self.family, Affine):
            return type(self.family).__name__
        return f"scipy.stats.{getattr(self.frozen.dist, 'name', type(self.frozen).__name__)}"


@dataclass(frozen=True)
class Samples:
    """Samples, checked: finite floats of shape (n, d), or discrete labels of shape (n,)."""

    data: NDArray  # (n, d) floats, or (n,) discrete labels
    discrete: bool

    @property
    def n(self) -> int:
        return int(self.data.shape[0])


def as_input(x: Any, name: str) -> Dist | Samples:
    if isinstance(x, Family):
        return _dist(x, to_scipy(x, name))
    if is_scipy_frozen(x):
        # SciPy's own object gives densities and draws (with its loc and scale); the
        # family, when there is one, gives the closed forms.
        try:
            # converted as the public measures convert it, under klkit's floating-point
            # policy (_measures._quiet): 1/scale overflowing to inf is then refused by
            # the family's own parameter check, in words
            with np.errstate(all="ignore"):
                family: Family | None = from_scipy(x)
        except NoFamilyError:  # invalid parameters still raise
            family = None
        if family is not None:
            batch = family.batch_shape
        elif hasattr(x, "dist"):  # the parameters' shape; x.mean() would compute
            batch = np.broadcast_shapes(*(np.shape(v) for v in (*x.args, *x.kwds.values())))
        else:
            batch = ()
        if (family is not None or hasattr(x, "dist")) and batch != ():
            msg = (
                f"klkit.estimate takes single distributions; `{name}` is a batch of shape "
                f"{batch}. Estimate each member separately."
            )
            raise ValueError(msg)
        return _dist(family, x)
    return _samples(x, name)


def _dist(family: Family | None, frozen: Any) -> Dist:
    discrete = hasattr(frozen.dist, "pmf") if hasattr(frozen, "dist") else False
    if isinstance(family, Dirichlet):
        dim = int(np.size(frozen.alpha))
    elif hasattr(frozen, "cov") or hasattr(frozen, "dim"):
        dim = int(getattr(frozen, "dim", np.size(getattr(frozen, "mean", 1))))
    else:
        dim = 1
    return Dist(family, frozen, discrete, dim)


def _samples(x: Any, name: str) -> Samples:
    try:
        arr = to_numpy(x) if is_array(x) else np.asarray(x)
    except (TypeError, ValueError) as exc:
        msg = f"`{name}` must be samples (an array of shape (n,) or (n, d)) or a distribution."
        raise TypeError(msg) from exc
    if arr.ndim not in (1, 2) or arr.shape[0] < 2:
        msg = (
            f"`{name}` has shape {arr.shape}; samples must have shape (n,) or (n, d) "
            "with n >= 2 (one row per draw)."
        )
        raise ValueError(msg)
    if arr.dtype.kind in "biuUSO":
        if arr.ndim != 1:
            msg = f"`{name}`: discrete samples must be one label per draw, shape (n,)."
            raise ValueError(msg)
        return Samples(arr, discrete=True)
    if arr.dtype.kind != "f":
        msg = f"`{name}` has dtype {arr.dtype}; pass numbers (continuous) or labels."
        raise TypeError(msg)
    data = arr.astype(np.float64).reshape(arr.shape[0], -1)
    bad = ~np.isfinite(data)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        msg = (
            f"`{name}` has {data[row][bad[row]][0]} in row {row}; samples must be finite. "
            "Drop or impute those rows."
        )
        raise ValueError(msg)
    spread = float(np.max(np.abs(data)))
    if spread > _MAX_SPREAD:
        msg = (
            f"`{name}` has values up to {spread:.3g} in size; the nearest-neighbour "
            f"estimators square distances, which overflow float64 beyond {_MAX_SPREAD:.0e}. "
            "Rescale the samples (a KL divergence does not change when both are scaled "
            "alike; an entropy shifts by d log(scale))."
        )
        raise ValueError(msg)
    return Samples(data, discrete=False)


_MAX_SPREAD = 1e150
"""Largest sample value kNN accepts: squared distances stay below float64's maximum."""


MC_DRAWS = 100_000
"""Monte Carlo draws when ``n`` is not given."""


def check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        msg = f"`n` (draws) must be a whole number >= 2; got {n!r}."
        raise ValueError(msg)
    return n


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def check_dims(x: NDArray, y: NDArray) -> None:
    if x.shape[1] != y.shape[1]:
        msg = f"`p` samples have {x.shape[1]} dimension(s) and `q` samples {y.shape[1]}."
        raise ValueError(msg)


def check_method(method: str, allowed: Sequence[str]) -> None:
    if method not in allowed:
        msg = f"`method` must be one of {', '.join(repr(m) for m in allowed)}; got {method!r}."
        raise ValueError(msg)


def check_distribution_method(method: str) -> None:
    if method in ("knn", "plugin"):
        msg = (
            f"method={method!r} estimates from samples; for distributions use 'exact', "
            "'quad' or 'mc' (or 'auto')."
        )
        raise ValueError(msg)


def check_sample_method(method: str, s: Samples) -> str:
    want = "plugin" if s.discrete else "knn"
    if method not in ("auto", want):
        kind = "discrete (labels)" if s.discrete else "continuous (floats)"
        msg = (
            f"method={method!r} does not apply to {kind} samples; use method={want!r}. "
            "(Float samples of whole numbers are continuous: pass integers for plug-in.)"
        )
        raise ValueError(msg)
    return want


def check_k(k: int, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < n:
        msg = f"`k` must be a whole number of neighbours from 1 to n - 1 = {n - 1}; got {k!r}."
        raise ValueError(msg)


def mixed_kinds(a: Samples | Dist, b: Samples | Dist) -> ValueError:
    kind = {True: "discrete", False: "continuous"}
    return ValueError(
        f"`p` is {kind[a.discrete]} and `q` is {kind[b.discrete]}: compare labels with "
        "labels (or a discrete distribution) and real numbers with real numbers."
    )
