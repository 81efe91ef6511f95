"""What the picture tests share: the die, figures closed after each test, bars by label."""

from __future__ import annotations

from typing import Any

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

FAIR = np.full(6, 1 / 6)
LOADED = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])


@pytest.fixture(autouse=True)
def close_figures() -> Any:
    """Close every figure a test drew (an autouse fixture of the modules importing it)."""
    yield
    plt.close("all")


def bars(ax: Any, label: str) -> Any:
    """The one bar container of ``ax`` labelled ``label``."""
    (container,) = [c for c in ax.containers if c.get_label() == label]
    return container
