"""The measures of families and frozen SciPy distributions: one dispatcher.

:func:`family_measure` is what ``klkit.entropy``, ``cross_entropy``, ``kl_divergence``
and the Jensen-Shannon measures call when an argument is a family or a frozen SciPy
distribution; it converts the SciPy ones, takes moved laws to the frame of one side,
and computes everything else from the closed forms, never calling the public
measures back.
"""

from __future__ import annotations

from typing import Any

from klkit._backends._namespace import numpy_scalar
from klkit._core._checks import check_base
from klkit._core._errors import DistributionError
from klkit._typing import Array, Namespace
from klkit.distributions._affine import affine_entropy, affine_kl
from klkit.distributions._base import Family
from klkit.distributions._compute import check_pair_batches, evaluate, resolve
from klkit.distributions._discrete import js_bernoulli
from klkit.distributions._families import Affine, Bernoulli, describe, frame
from klkit.distributions._scipy import from_scipy, is_scipy_frozen

__all__ = ["family_measure", "is_distribution"]

_JS = ("js_divergence", "js_distance")


def is_distribution(x: object) -> bool:
    """Tell whether ``x`` is a family or a frozen SciPy distribution (every measure asks)."""
    return isinstance(x, Family) or is_scipy_frozen(x)


def family_measure(name: str, values: list[Any], *, base: object) -> Any:
    """``entropy``, ``cross_entropy``, ``kl_divergence`` or a JS measure of families.

    In closed form; frozen SciPy distributions are converted to families first. The
    Jensen-Shannon measures have one only for two Bernoullis.
    """
    log_base = check_base(base)
    values = [from_scipy(v) if is_scipy_frozen(v) else v for v in values]
    if not all(isinstance(v, Family) for v in values):
        kinds = ", ".join(type(v).__name__ for v in values)
        msg = (
            f"{name} got {kinds}: a distribution family can only be compared with another "
            "family (e.g. `kl.Normal(0.0, 1.0)`), not with an array of probabilities."
        )
        raise TypeError(msg)
    if name in _JS:
        return _js(name, values, log_base)
    if any(isinstance(v, Affine) for v in values):
        moved = _moved(name, values)
        return moved if log_base is None else moved / log_base
    out = evaluate(name, values)
    return out if log_base is None else out / log_base


def _moved(name: str, values: list[Family]) -> Any:
    """Compute the measure in nats where a side is moved by SciPy's loc or scale."""
    # one array library for every side (or the core's TypeError naming them)
    resolve(values)
    resolve([frame(v)[0] for v in values])
    check_pair_batches(name, values)
    if name == "entropy":
        return affine_entropy(values[0])
    moved = affine_kl(values[0], values[1])
    if name == "cross_entropy":
        moved = moved + affine_entropy(values[0])
    return moved


def _js(name: str, values: list[Family], log_base: float | None) -> Any:
    """Jensen-Shannon divergence or distance: exact for two Bernoullis, else an error."""
    if not all(isinstance(v, Bernoulli) for v in values):
        kinds = ", ".join(describe(v) for v in values)
        problem = f"{name}({kinds}) has no closed form (only two Bernoullis have one)."
        raise DistributionError(
            problem,
            fix=(
                f"Use klkit.estimate.js_divergence({kinds}), which integrates numerically "
                "or by Monte Carlo and reports its error."
            ),
        )
    xp, (a, b) = resolve(values)
    check_pair_batches(name, values)
    out = js_bernoulli(a, b, xp)
    for v in values:
        if v._checks is not None:
            out = v._checks.attach(out)
    if log_base is not None:
        out = out / log_base
    if name == "js_distance":
        out = _root(out, xp)
    return numpy_scalar(out, xp)


def _root(js: Array, xp: Namespace) -> Array:
    """``sqrt(JS)``, as scipy's jensenshannon; its gradient is 0 where JS = 0."""
    pos = js > 0
    return xp.where(pos, xp.sqrt(xp.where(pos, js, 1.0)), 0.0) + (js - js)
