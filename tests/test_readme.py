"""The README runs as written: every Python block, in order, and every console line.

A newcomer copies the README's examples into a fresh clone; each must work there and
print what the README shows. The Python blocks share one namespace, as they would in
one session; each ``$ klkit …`` line runs the installed command line from the
repository root (the data files are in ``examples/data/``) and must print the lines
shown under it. Rich wraps long lines to the terminal's width, so lines are compared
with their white space collapsed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import scipy.stats
from backends import Backend, requires
from scipy.special import betaln, digamma

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def _console_examples() -> list[tuple[str, str]]:
    examples = []
    for block in _blocks("console"):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, shown = chunk.partition("\n")
            examples.append((command, shown))
    return examples


def _beta_kl(a1: float, b1: float, a2: float, b2: float) -> float:
    """D(Beta(a1, b1) || Beta(a2, b2)), the textbook closed form."""
    return float(
        betaln(a2, b2)
        - betaln(a1, b1)
        + (a1 - a2) * digamma(a1)
        + (b1 - b2) * digamma(b1)
        + (a2 - a1 + b2 - b1) * digamma(a1 + b1)
    )


def _close(line: str, value: float) -> bool:
    try:
        return abs(float(line) - value) <= 1e-12 * abs(value)
    except ValueError:
        return False


def _words(text: str) -> str:
    return " ".join(text.split())


def test_readme_is_a_front_door():
    assert len(README.splitlines()) <= 200
    assert len(_blocks("python")) == 4
    assert len(_console_examples()) >= 5


def test_python_blocks_run_in_order(capsys, monkeypatch):
    requires(Backend.TORCH)  # the loss and family examples use PyTorch
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for i, block in enumerate(_blocks("python")):
        exec(compile(block, f"README.md (python block {i + 1})", "exec"), namespace)
    out = capsys.readouterr().out.split("\n")
    # what the comments beside each print() say it prints, from SciPy
    fair, loaded = [1 / 6] * 6, [0.1] * 5 + [0.5]
    h, d = scipy.stats.entropy(fair, base=2), scipy.stats.entropy(fair, loaded, base=2)
    assert [float(v) for v in out[:3]] == pytest.approx([h, h + d, d], rel=1e-12)
    assert out[3].startswith("The largest contributions to D(P||Q) = 0.35 bits")
    beta = _beta_kl(2, 5, 3, 3)  # 0.7167 nats, the comment says
    assert sum(_close(line, beta) for line in out) == 2
    assert "inf" in out
    shown = re.search(r"print\(ke\.kl_divergence\(x, y, rng=0\)\)  # (.*)", README)
    assert shown is not None
    assert shown[1] in out  # the estimate prints as the README shows
    low, high = map(float, re.findall(r"CI ([\d.]+)\W([\d.]+)", shown[1])[0])
    assert low < 0.5 < high  # its interval covers the true KL of N(0, 1) and N(1, 1)
    assert any(line.startswith("0.0692 nats") and "quad" in line for line in out)


@pytest.mark.parametrize(("command", "shown"), _console_examples(), ids=lambda s: s[:60])
def test_console_line_prints_what_the_readme_shows(command, shown):
    args = shlex.split(command)
    assert args[0] == "klkit"
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "klkit", *args[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _words(result.stdout) == _words(shown)
