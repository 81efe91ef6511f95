"""Help, the real entry points in a subprocess, the README's examples."""

from __future__ import annotations

import json
import math
import shlex
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as ss
from cli_support import (
    COMMANDS,
    FAIR,
    FAIR_A,
    KLKIT,
    LOADED,
    LOADED_A,
    as_json,
    fails,
    ok,
    run,
    shell,
)

# --- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_examples_that_run(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g = np.random.default_rng(0)  # the files the examples name
    columns = g.normal(size=(500, 2))
    Path("x.csv").write_text("a\n" + "\n".join(str(v) for v in columns[:, 0]))
    Path("y.csv").write_text("b\n" + "\n".join(str(v + 1) for v in columns[:, 1]))
    Path("rolls.txt").write_text("\n".join(str(v) for v in g.integers(1, 7, 500)))
    text = ok(command, "--help")
    assert "Examples:" in text
    examples = [line.strip() for line in text.splitlines() if line.strip().startswith("klkit ")]
    assert examples, text
    for example in examples:
        args = shlex.split(example)[1:]
        assert args[0] == command
        assert run(*args).exit_code == 0, example


def test_top_level_help_lists_every_command():
    text = ok("--help")
    for command in COMMANDS:
        assert command in text


def test_version_completion_and_short_base():
    assert ok("--version").strip() == f"klkit {version('klkit')}"
    assert ok("-V").strip() == f"klkit {version('klkit')}"
    text = ok("--help")
    assert "--install-completion" in text
    assert "--show-completion" in text
    short = as_json("kl", FAIR, LOADED, "-b", "2")["kl_divergence"]
    assert short == pytest.approx(ss.entropy(FAIR_A, LOADED_A, base=2))


# --- the real entry points, in a subprocess ---------------------------------------------------


def test_console_script_and_python_dash_m():
    for prefix in ([str(KLKIT)], [sys.executable, "-m", "klkit"]):
        result = shell(*prefix, "kl", FAIR, LOADED, "--base", "bits", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["kl_divergence"] == pytest.approx(
            ss.entropy(FAIR_A, LOADED_A, base=2)
        )


def test_subprocess_reads_standard_input():
    result = shell(str(KLKIT), "entropy", "-", "--base", "bits", stdin="0.5 0.25 0.25\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "H(P) = 1.5 bits"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["kl", "0.2,0.8"], "klkit kl: error: the argument Q is missing"),
        (["kl", "0.2,0.8", "0.5,0.5", "--bse", "2"], "no such option '--bse'"),
        (["kl", "0.2,0.8", "0.5,0.5", "--axis", "x"], "Invalid value for '--axis'"),
        (["kl", "0.2,0.8", "0.5,0.5", "--precision", "0"], "'--precision'"),
        (["frobnicate"], "klkit: error: No such command 'frobnicate'"),
        (["kl", "0.2,0.9", "0.5,0.5"], "klkit kl: error: P sums to 1.1"),
    ],
)
def test_usage_errors_are_one_line_too(args, expected):
    result = shell(str(KLKIT), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr


def test_debug_shows_the_traceback():
    result = shell(str(KLKIT), "kl", "0.2,0.9", "0.5,0.5", "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "DistributionError" in result.stderr


def test_missing_extras_are_named(tmp_path):
    block = "import sys; sys.modules[{name!r}] = None; from klkit.__main__ import main; main()"
    result = shell(sys.executable, "-c", block.format(name="typer"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "klkit: the command line needs typer; install it with: pip install 'klkit[cli]'"
    )
    code = block.replace("main()", "sys.argv = ['klkit', 'demo']; main()")
    result = shell(sys.executable, "-c", code.format(name="matplotlib"), cwd=tmp_path)
    assert result.returncode == 1
    assert "pip install 'klkit[plot]'" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_measure_command_loads_no_heavy_library():
    result = shell(sys.executable, "-X", "importtime", "-m", "klkit", "kl", "0.2,0.8", "0.5,0.5")
    assert result.returncode == 0, result.stderr
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert "typer" in loaded  # the parse worked
    assert not loaded & {"torch", "jax", "dask", "matplotlib", "scipy", "pandas"}


def test_explain_of_pairs_equal_to_rounding():
    # Same softmax; and q differing from p in the last ulp: every rounded term is <= 0
    for args in (["1,2", "3,4", "--logits"], ["0.1,0.2,0.7", "0.1,0.2,0.7000000000000001"]):
        text = " ".join(ok("explain", *args).split())
        assert "P and Q agree to rounding" in text or "same distribution" in text


def test_awkward_inputs_get_user_errors(files):
    np.save("scalar.npy", np.array(0.5))
    assert "holds a single number" in fails("entropy", "scalar.npy")
    assert as_json("entropy", "-", stdin="\ufeff0.5,0.5")["entropy"] == pytest.approx(math.log(2))
    data = as_json("entropy", "-inf,0", "--logits")
    assert data["entropy"] == 0.0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["entropy", "0.5,0.5", "--base"], "klkit entropy: error: Option '--base' requires"),
        ([], "klkit: error: give a command"),
    ],
)
def test_missing_values_and_commands_are_named(args, expected):
    result = shell(str(KLKIT), *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(expected), result.stderr
