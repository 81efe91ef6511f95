"""What the command-line tests share: the example dice, and running ``klkit``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from klkit.cli import app

FAIR = "1/6,1/6,1/6,1/6,1/6,1/6"
LOADED = "0.1,0.1,0.1,0.1,0.1,0.5"
FAIR_A = np.full(6, 1 / 6)
LOADED_A = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
COMMANDS = ["entropy", "cross-entropy", "kl", "js", "bce", "explain", "plot", "demo"]
KLKIT = Path(sys.executable).with_name("klkit")  # the console script pip installed


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})


def ok(*args: str, stdin: str | None = None) -> str:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(*args: str, stdin: str | None = None) -> dict:
    return json.loads(ok(*args, "--json", stdin=stdin))


def fails(*args: str, stdin: str | None = None) -> str:
    """Run a bad command line: status 2, one line on stderr, nothing on stdout."""
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    # the fix is given in command-line terms, not as Python code
    assert not re.search(r"klkit\.|=True|`", result.stderr), result.stderr
    return result.stderr


def shell(*args: str, stdin: str = "", cwd: Path | None = None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=cwd, check=False)
