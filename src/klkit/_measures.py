"""Transitional re-exports for modules not yet moved to the layered layout (issue 18)."""

from klkit._api._measures import (
    binary_cross_entropy,
    cross_entropy,
    entropy,
    js_distance,
    js_divergence,
    kl_divergence,
)

__all__ = [
    "binary_cross_entropy",
    "cross_entropy",
    "entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
]
