"""Evaluate a closed form: one namespace and dtype for every parameter, Dask by blocks.

The measures are written once against the array API, so results come back in the
parameters' library, dtype and device, and are differentiable with respect to every
parameter. A family whose parameters are all Python numbers takes the library of the
other argument: ``Normal(mu, sigma)`` against ``Normal(0.0, 1.0)`` stays in torch when
``mu`` is a tensor.
"""

from __future__ import annotations

from typing import Any

from klkit._backends._dask import dask_batchwise
from klkit._backends._namespace import (
    can_defer_checks,
    device_of,
    is_array,
    namespace,
    numpy_namespace,
    numpy_scalar,
)
from klkit._core._inputs import float_dtype
from klkit._typing import Array, Namespace
from klkit.distributions._base import Family, broadcast_batch
from klkit.distributions._entropy import entropy
from klkit.distributions._families import Dirichlet, MultivariateNormal, describe
from klkit.distributions._kl_same import same_outcomes
from klkit.distributions._pairs import cross_entropy, kl

__all__ = ["check_pair_batches", "closed_form", "evaluate", "resolve"]


def resolve(values: list[Family]) -> tuple[Namespace, list[dict[str, Array]]]:
    """One namespace, dtype and device for every parameter of every family."""
    names: list[str] = []
    raw: list[Any] = []
    for i, v in enumerate(values):
        for n, x in v.params.items():
            if is_array(x):
                names.append(f"{'pq'[i]}.{n}")
                raw.append(x)
    if raw:
        xp = namespace(*raw, names=names)
        device = device_of(raw[0])
        dtype = float_dtype(xp, raw, device)
    else:
        xp = numpy_namespace()
        device = None
        dtype = xp.float64
    return xp, [v.arrays(xp, dtype, device) for v in values]


def check_pair_batches(name: str, values: list[Family]) -> None:
    """P's and Q's batch shapes must broadcast; the message names the measure and the pair."""
    if len(values) == 2:
        first, second = (describe(v) for v in values)
        broadcast_batch(
            first,
            {"P": values[0].batch_shape, "Q": values[1].batch_shape},
            lead=f"{name}({first}, {second}): P",
        )


def closed_form(
    name: str, values: list[Family], arrays: list[dict[str, Array]], xp: Namespace
) -> Array:
    """``entropy``, ``kl_divergence`` or ``cross_entropy`` in nats, from the arrays."""
    if name == "entropy":
        return entropy(values[0], arrays[0], xp)
    if name == "kl_divergence":
        return kl(values[0], values[1], arrays[0], arrays[1], xp)
    # cross_entropy: H(P, Q) = H(P) + D(P || Q), or its direct formula
    return cross_entropy(values[0], values[1], arrays[0], arrays[1], xp)


def evaluate(name: str, values: list[Family]) -> Any:
    """Compute the closed form of families (not moved ones) in nats, checks attached.

    A NumPy 0-d result comes back as a NumPy scalar, like SciPy's.
    """
    xp, arrays = resolve(values)
    check_pair_batches(name, values)
    out = _dask_blocks(name, values, arrays)
    if out is None:
        out = closed_form(name, values, arrays, xp)
    for v in values:
        checks = v._checks
        if checks is not None:
            out = checks.attach(out)
    return numpy_scalar(out, xp)


def _dask_blocks(name: str, values: list[Family], arrays: list[dict[str, Array]]) -> Any:
    """Run the closed form on Dask parameters, one NumPy task per block; None if not Dask.

    The formulas are elementwise over the batch, so each output block is computed from
    the matching parameter blocks (an event axis, Dirichlet's outcomes, whole within
    each block; see :func:`klkit._backends._dask.dask_batchwise` for why). The
    multivariate normal keeps its own lazy path (blocks of whole matrices).
    """
    raw = [v for a in arrays for v in a.values()]
    if not raw or not can_defer_checks(raw[0]):
        return None
    if any(isinstance(v, MultivariateNormal) for v in values):
        return None
    if name != "entropy" and all(isinstance(v, Dirichlet) for v in values):
        same_outcomes(arrays[0], arrays[1])
    names = [(i, n) for i, a in enumerate(arrays) for n in a]
    batches = {(i, n): values[i].batch_of(n, arrays[i][n]) for i, n in names}
    shape = broadcast_batch("batch", {f"{i}.{n}": batches[i, n] for i, n in names})
    np_xp = numpy_namespace()

    def compute(*blocks: Any) -> Array:
        parts: list[dict[str, Array]] = [{} for _ in values]
        for (i, n), b in zip(names, blocks, strict=True):
            parts[i][n] = np_xp.asarray(b)
        return closed_form(name, values, parts, np_xp)

    return dask_batchwise(
        compute,
        [arrays[i][n] for i, n in names],
        batch=shape,
        events=[arrays[i][n].ndim - len(batches[i, n]) for i, n in names],
        dtype=raw[0].dtype,
    )
