"""The documentation site, built once per session for every test that reads the HTML.

The build is ``sphinx-build -W --keep-going -b html``: a warning fails it, and with
``nitpicky`` (docs/conf.py) so does every internal reference that does not resolve.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the built HTML site; the build's errors fail every test that asks.

    sphinx, pydata-sphinx-theme, myst-parser and numpydoc are in the ``test`` extra: a
    missing one fails here rather than skipping the build.
    """
    root = tmp_path_factory.mktemp("site")
    out = root / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    cmd += ["-d", str(root / "doctrees"), str(DOCS), str(out)]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stderr}"
    return out
