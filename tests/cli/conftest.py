"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_support import LOADED_A


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """Run every command in English, whatever the locale of the machine running the tests."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("die.csv").write_text(
        "face,fair,loaded\n" + "".join(f"{i},1/6,0.1\n" for i in range(1, 6)) + "6,1/6,0.5\n"
    )
    Path("weather.csv").write_text("outcome,p,q\nrain,0.2,0.3\ncloud,0.3,0.3\nsun,0.5,0.4\n")
    Path("single.csv").write_text("0.1\n0.1\n0.1\n0.1\n0.1\n0.5\n")
    Path("loaded.txt").write_text("# the loaded die\n0.1\n0.1\n0.1\n0.1\n0.1\n0.5\n")
    Path("batch.txt").write_text("0.2 0.8\n0.5 0.5  # a comment\n\n0.9,0.1\n")
    Path("loaded_row.txt").write_text("0.1 0.1\t0.1  0.1 0.1 0.5\n")
    Path("loaded.json").write_text("[0.1, 0.1, 0.1, 0.1, 0.1, 0.5]")
    Path("fair.json").write_text('["1/6", "1/6", "1/6", "1/6", "1/6", "1/6"]')
    Path("weather.json").write_text('{"rain": 0.3, "cloud": 0.3, "sun": 0.4}')
    np.save("loaded.npy", LOADED_A)
    np.save("batch.npy", np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    Path("batch.json").write_text("[[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]")
    Path("columns.csv").write_text("outcome,a,b\nx,0.2,0.5\ny,0.8,0.5\n")
    return tmp_path
