from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import shlex
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as ss
from typer.testing import CliRunner

import klkit as kl
import klkit._io
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


# --- the measures, against the Python API and SciPy -------------------------------------


@pytest.mark.parametrize(
    ("command", "key", "function"),
    [
        ("cross-entropy", "cross_entropy", kl.cross_entropy),
        ("kl", "kl_divergence", kl.kl_divergence),
        ("js", "js_divergence", kl.js_divergence),
    ],
)
def test_two_argument_measures_match_the_python_api(command, key, function):
    data = as_json(command, FAIR, LOADED, "--base", "bits")
    assert data == {key: float(function(FAIR_A, LOADED_A, base=2)), "unit": "bits"}


def test_entropy_and_kl_match_scipy():
    assert as_json("entropy", FAIR)["entropy"] == pytest.approx(math.log(6), rel=1e-15)
    kl_bits = as_json("kl", FAIR, LOADED, "--base", "2")["kl_divergence"]
    assert kl_bits == pytest.approx(ss.entropy(FAIR_A, LOADED_A, base=2), rel=1e-14)


def test_text_output_names_the_measure_and_unit():
    assert ok("kl", FAIR, LOADED, "--base", "bits").strip() == "D(P||Q) = 0.349978 bits"
    assert ok("entropy", "0.5,0.5", "--base", "bits").strip() == "H(P) = 1 bits"
    assert ok("cross-entropy", "0.5,0.5", "0.5,0.5").strip() == "H(P,Q) = 0.693147 nats"
    assert ok("js", "1,0", "0,1", "--base", "bits").strip() == "JS(P,Q) = 1 bits"


@pytest.mark.parametrize(
    ("base", "unit", "scale"),
    [
        ("bits", "bits", math.log(2)),
        ("2", "bits", math.log(2)),
        ("e", "nats", 1.0),
        ("nats", "nats", 1.0),
        ("bans", "bans", math.log(10)),
        ("10", "bans", math.log(10)),
        ("3", "log-base-3 units", math.log(3)),
        ("1.5", "log-base-1.5 units", math.log(1.5)),
    ],
)
def test_base_accepts_numbers_e_and_unit_names(base, unit, scale):
    data = as_json("kl", FAIR, LOADED, "--base", base)
    assert data["unit"] == unit
    assert data["kl_divergence"] == pytest.approx(ss.entropy(FAIR_A, LOADED_A) / scale, rel=1e-14)


def test_normalize_and_logits():
    counts = as_json("entropy", "3,1,0", "--normalize")["entropy"]
    assert counts == pytest.approx(ss.entropy([3, 1, 0]), rel=1e-15)
    z = np.array([2.0, 0.5, -1.0])
    softmax = np.exp(z) / np.exp(z).sum()
    data = as_json("cross-entropy", "0,0,1", "2.0,0.5,-1", "--q-logits")
    assert data["cross_entropy"] == pytest.approx(-math.log(softmax[2]), rel=1e-14)
    # --logits reads both: P's softmax against Q's
    data = as_json("kl", "2.0,0.5,-1", "0,0,0", "--logits")
    assert data["kl_divergence"] == pytest.approx(ss.entropy(softmax, np.full(3, 1 / 3)))
    # counts for P, logits for Q
    data = as_json("cross-entropy", "0,0,4", "2.0,0.5,-1", "--q-logits", "--normalize")
    assert data["cross_entropy"] == pytest.approx(-math.log(softmax[2]), rel=1e-14)


def test_precision_sets_significant_digits():
    assert ok("kl", FAIR, LOADED, "--base", "bits", "--precision", "3").strip() == (
        "D(P||Q) = 0.35 bits"
    )
    data = as_json("kl", FAIR, LOADED, "--base", "bits", "--precision", "3")
    assert data["kl_divergence"] == 0.35
    full = as_json("kl", FAIR, LOADED, "--base", "bits")["kl_divergence"]
    assert full == float(kl.kl_divergence(FAIR_A, LOADED_A, base=2))  # all digits


def test_infinite_kl_is_reported_not_clipped():
    assert ok("kl", "0.5,0.5", "1,0").strip() == "D(P||Q) = inf nats"
    assert as_json("kl", "0.5,0.5", "1,0")["kl_divergence"] == math.inf


def test_negative_numbers_and_infinities_are_values_not_options():
    z = np.array([-1.5, 2.0, -math.inf])
    softmax = np.exp(z) / np.exp(z).sum()
    data = as_json("entropy", "-1.5,2,-inf", "--logits")
    assert data["entropy"] == pytest.approx(float(ss.entropy(softmax)), rel=1e-14)


# --- every input format -------------------------------------------------------------------


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


EXPECTED_KL = float(ss.entropy(FAIR_A, LOADED_A))


@pytest.mark.parametrize(
    "q",
    [
        "die.csv:loaded",
        "single.csv",
        "loaded.txt",
        "loaded_row.txt",
        "loaded.json",
        "loaded.npy",
    ],
)
def test_each_file_format_reads_the_loaded_die(files, q):
    assert as_json("kl", FAIR, q)["kl_divergence"] == pytest.approx(EXPECTED_KL, rel=1e-14)


def test_json_strings_may_be_fractions(files):
    assert as_json("kl", "fair.json", LOADED)["kl_divergence"] == pytest.approx(EXPECTED_KL)


@pytest.mark.parametrize(
    "stdin",
    [
        "0.1,0.1,0.1,0.1,0.1,0.5\n",
        "0.1, 0.1, 0.1, 0.1, 0.1, 0.5\n",
        "0.1\n0.1\n0.1\n0.1\n0.1\n0.5",
        "[0.1, 0.1, 0.1, 0.1, 0.1, 0.5]",
    ],
)
def test_standard_input(stdin):
    result = as_json("kl", FAIR, "-", stdin=stdin)
    assert result["kl_divergence"] == pytest.approx(EXPECTED_KL, rel=1e-14)


def test_batch_from_a_2d_file_gives_one_value_per_row(files):
    data = as_json("entropy", "batch.npy", "--axis", "1", "--base", "bits")
    expected = ss.entropy(np.load("batch.npy"), base=2, axis=1)
    np.testing.assert_allclose(data["entropy"], expected, rtol=1e-14)
    text = ok("entropy", "batch.npy", "--axis", "1")
    assert "one value per distribution" in text
    assert len(re.findall(r"^\S*\s*[│|]\s*[012]\s", text, flags=re.MULTILINE)) == 3
    # a 1-D Q against a batch of P's, and two batches
    data = as_json("kl", "batch.npy", "0.5,0.5", "--axis", "1")
    np.testing.assert_allclose(
        data["kl_divergence"], ss.entropy(np.load("batch.npy"), [0.5, 0.5], axis=1), rtol=1e-14
    )
    data = as_json("kl", "batch.npy", "batch.json", "--axis", "-1")
    assert len(data["kl_divergence"]) == 3
    data = as_json("entropy", "batch.txt", "--axis", "1")
    np.testing.assert_allclose(data["entropy"], ss.entropy(np.load("batch.npy"), axis=1))


def test_csv_columns_are_a_batch_along_axis_0_named_by_the_header(files):
    data = as_json("kl", "columns.csv", "0.5,0.5", "--axis", "0")
    assert data["names"] == ["a", "b"]
    np.testing.assert_allclose(
        data["kl_divergence"], [ss.entropy([0.2, 0.8], [0.5, 0.5]), 0.0], atol=1e-16
    )
    text = ok("kl", "columns.csv", "0.5,0.5", "--axis", "0")
    assert re.search(r"column\b", text)
    assert re.search(r"\ba\s.*0\.192745", text)
    data = as_json("entropy", "columns.csv", "--axis", "1", "--normalize")
    assert data["names"] == ["x", "y"]  # one distribution per row, named by the text column


# --- bce -------------------------------------------------------------------------------------


def test_bce_prints_each_element_and_the_mean():
    y, y_hat = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.6])
    expected = -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))  # the definition
    data = as_json("bce", "1,0,1", "0.9,0.2,0.6")
    np.testing.assert_allclose(data["binary_cross_entropy"], expected, rtol=1e-14)
    assert data["mean"] == pytest.approx(expected.mean(), rel=1e-14)
    assert data["unit"] == "nats"
    text = ok("bce", "1,0,1", "0.9,0.2,0.6")
    for value in expected:
        assert f"{value:.6g}" in text
    assert f"mean = {expected.mean():.6g} nats" in text


def test_bce_with_logits_matches_torch():
    torch = pytest.importorskip("torch")
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    z = torch.tensor([2.5, -1.0], dtype=torch.float64)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")
    data = as_json("bce", "1,0", "2.5,-1", "--logits", "--base", "bits")
    np.testing.assert_allclose(data["binary_cross_entropy"], expected.numpy() / math.log(2))
    assert ok("bce", "1,0", "2.5,-1", "--logits").count("logit") == 1


def test_bce_certainly_wrong_is_infinite():
    assert as_json("bce", "1", "0")["binary_cross_entropy"] == [math.inf]


# --- explain ---------------------------------------------------------------------------------


def test_explain_prints_the_table_identity_and_the_words():
    text = ok("explain", FAIR, LOADED, "--base", "bits")
    for outcome in range(1, 6):
        assert re.search(rf"{outcome}\s+[│|]\s+0\.166667\s+[│|]\s+0\.1\s", text)
    assert "-log Q" in text
    assert "P log(P/Q)" in text
    assert "H(P,Q) = H(P) + D(P||Q):  2.93494 = 2.58496 + 0.349978" in text
    assert "outcomes 1, 2, 3, 4 and 5" in text
    assert "in bits" in text


def test_explain_json_has_the_breakdown_fields(files):
    data = as_json("explain", "weather.csv:p", "weather.csv:q", "--base", "2")
    b = kl.explain([0.2, 0.3, 0.5], [0.3, 0.3, 0.4], base=2)
    for key in ("entropy", "cross_entropy", "kl_divergence"):
        assert data[key] == getattr(b, key)
    for key in ("entropy_terms", "cross_entropy_terms", "kl_terms", "p", "q"):
        np.testing.assert_array_equal(data[key], getattr(b, key))
    np.testing.assert_allclose(data["kl_terms"], b.p * np.log2(b.p / b.q), rtol=1e-12)
    assert data["unit"] == "bits"
    assert data["outcomes"] == ["rain", "cloud", "sun"]  # the CSV's text column
    assert data["summary"].startswith("The largest contributions")


def test_explain_outcome_names(files):
    data = as_json("explain", "0.2,0.8", "0.5,0.5", "--outcomes", "heads,tails")
    assert data["outcomes"] == ["heads", "tails"]
    assert as_json("explain", "0.2,0.8", "0.5,0.5")["outcomes"] == ["1", "2"]
    assert as_json("explain", "0.2,0.3,0.5", "weather.json")["outcomes"] == [
        "rain",
        "cloud",
        "sun",
    ]
    text = ok("explain", "weather.csv:p", "weather.csv:q")
    assert re.search(r"rain\s+[│|]\s+0\.2\s", text)


def test_explain_says_why_a_kl_is_infinite():
    text = " ".join(ok("explain", "0.5,0.3,0.2", "0.5,0.5,0").split())
    assert "D(P||Q) is infinite because Q gives probability 0 to outcome 3 (where P = 0.2)" in (
        text
    )
    assert "pseudo-count" in text


# --- plot and demo ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "magic"), [("out.png", b"\x89PNG"), ("out.svg", b"<?xml")])
def test_plot_writes_the_picture(files, name, magic):
    text = ok("plot", FAIR, LOADED, "--base", "bits", "-o", name)
    assert f"wrote {name}" in text
    assert Path(name).read_bytes().startswith(magic)
    ok("plot", "weather.csv:p", "weather.csv:q", "--output", "weather.pdf")
    assert Path("weather.pdf").read_bytes().startswith(b"%PDF")


def test_demo_prints_the_die_example_and_writes_the_picture(files):
    text = " ".join(ok("demo").split())
    assert "2.93494 = 2.58496 + 0.349978" in text  # fair vs loaded
    assert "2.16096 = 2.16096 + 0" in text  # the loaded die against itself
    assert "The loaded die has the higher cross-entropy" in text
    assert "wrote klkit-demo.png" in text
    assert Path("klkit-demo.png").read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in Path().glob(".klkit-demo*")] == []  # no temporary file left
    ok("demo", "-o", "die.svg", "--base", "nats")
    assert Path("die.svg").read_bytes().startswith(b"<?xml")


# --- bad input: one line, status 2 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["kl", "0.2,0.8x", "0.5,0.5"], None, "P: item 2 of '0.2,0.8x' is '0.8x', not a number"),
        (["kl", "0.2,,0.8", "0.5,0.5"], None, "P: item 2 of '0.2,,0.8' is empty"),
        (["kl", "0.5,0.5", "1/0,1"], None, "Q: item 1 of '1/0,1' is '1/0', whose denominator"),
        (["kl", "nope.csv", "0.5,0.5"], None, "P: no such file 'nope.csv'"),
        (["kl", "foo", "0.5,0.5"], None, "P: 'foo' is not a number and no file has that name"),
        (["kl", "weather.csv:zz", "0.5,0.5"], None, "P: 'weather.csv' has no column 'zz'"),
        (["kl", "weather.csv:outcome", "0.5,0.5"], None, "column 'outcome' of 'weather.csv'"),
        (["kl", "single.csv:p", "0.5,0.5"], None, "'single.csv' has no header line"),
        (["kl", "die.csv", LOADED], None, "P is a batch: a table of 6 rows and 3 columns"),
        (["kl", "x.xlsx", "0.5,0.5"], None, "P: 'x.xlsx' is not a number and no file has"),
        (["kl", "x.npy", "0.5,0.5"], None, "P: no such file 'x.npy'"),
        (["kl", "notes.md", "0.5,0.5"], None, "P: 'notes.md' has an extension klkit"),
        (["kl", "bad.json", "0.5,0.5"], None, "P: 'bad.json' is not valid JSON"),
        (["kl", "ragged.json", "0.5,0.5"], None, "rows of 'ragged.json' have different lengths"),
        (["kl", "text.npy", "0.5,0.5"], None, "P: 'text.npy' holds text"),
        (["kl", "corrupt.npy", "0.5,0.5"], None, "P: 'corrupt.npy' is not a valid .npy file"),
        (["kl", "ragged.txt", "0.5,0.5"], None, "P: line 2 of 'ragged.txt' has 1 numbers"),
        (["kl", "0.5,0.5", "-"], "0.5 abc", "Q: line 1, item 2 of standard input, is 'abc'"),
        (["kl", "0.5,0.5", "-"], "", "Q: standard input holds no numbers"),
        (["kl", "-", "-"], "0.5,0.5", "Q: standard input ('-') is already read for P"),
        (["kl", "0.2,0.9", "0.5,0.5"], None, "P sums to 1.1, not 1"),
        (["kl", "0.2,0.9", "0.5,0.5"], None, "Pass --normalize"),
        (["kl", "-0.2,1.2", "0.5,0.5"], None, "P has a negative entry -0.2 at index 0"),
        (["kl", "-0.2,1.2", "0.5,0.5"], None, "pass --logits"),
        (["entropy", "nan,1"], None, "P has a non-finite entry nan at index 0"),
        (["kl", "0.2,0.8", "0.3,0.3,0.4"], None, "P has 2, Q has 3 outcomes"),
        (["kl", "0.2,0.8", "0.5,0.5", "--base", "1"], None, "--base: '1' is not a valid base"),
        (["kl", "0.2,0.8", "0.5,0.5", "--base", "-2"], None, "--base: '-2' is not a valid"),
        (["kl", "0.2,0.8", "0.5,0.5", "--base", "bytes"], None, "'bytes' is not a valid base"),
        (["kl", "0.2,0.8", "0.5,0.5", "--axis", "3"], None, "--axis: 3 is out of range"),
        (["entropy", "3,1", "--normalize", "--logits"], None, "do not go together"),
        (["kl", "0.2,0.8", "--bse"], None, "no such option '--bse' (did you mean --base?)"),
        (["bce", "1,0,2", "0.5,0.5,0.5"], None, "Y has an entry 2 at index 2 outside [0, 1]"),
        (["bce", "1,0", "0.5,0.5,0.5"], None, "Y has shape (2,) and Y_HAT has shape (3,)"),
        (["explain", "batch.npy", "0.5,0.5"], None, "P is a 2-D table of shape (3, 2)"),
        (["explain", "0.2,0.8", "0.5,0.5", "--outcomes", "a,b,c"], None, "--outcomes has 3"),
        (["explain", "0.2,0.8", "0.5,0.5", "--outcomes", "a,"], None, "has an empty name"),
        (["explain", "weather.csv:p", "0.5,0.5"], None, "P names 3 outcomes ('rain', 'cloud'"),
        (["explain", "weather.csv:p", "weather.json"], None, "P and Q name different outcomes"),
        (["plot", "0.2,0.8", "0.5,0.5", "-o", "x.gif"], None, "-o: 'x.gif' is not a picture"),
        (["plot", "0.2,0.8", "0.5,0.5", "-o", "no/x.png"], None, "directory 'no' does not"),
        (["demo", "-o", "demo.jpg"], None, "-o: 'demo.jpg' is not a picture format"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(files, args, stdin, expected):
    Path("bad.json").write_text("[0.2, 0.8,]")
    Path("ragged.json").write_text("[[0.2, 0.8], [1.0]]")
    Path("ragged.txt").write_text("0.2 0.8\n1.0\n0.5 0.5\n")
    Path("notes.md").write_text("0.2,0.8")
    Path("corrupt.npy").write_bytes(b"not an array")
    np.save("text.npy", np.array(["a", "b"]))
    Path("weather.json").write_text('{"a": 0.3, "b": 0.3, "c": 0.4}')
    message = fails(*args, stdin=stdin)
    assert message.startswith(f"klkit {args[0]}: error: ")
    assert expected in message


def test_pickled_npy_is_refused_and_never_unpickled(files):
    marker = files / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    with open("evil.npy", "wb") as fh:
        np.lib.format.write_array(fh, np.array([Payload()], dtype=object), allow_pickle=True)
    pickle.loads(pickle.dumps(Payload()))  # unpickling really runs the payload...
    assert marker.exists()
    marker.unlink()
    message = fails("kl", "evil.npy", "0.5,0.5")
    assert "holds pickled Python objects, which klkit never loads" in message
    assert not marker.exists()


def test_unreadable_file_names_the_file(files, monkeypatch):
    Path("secret.csv").write_text("0.5\n0.5\n")

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    # as for a file mode 000 (root ignores it): klkit._io's own open() is refused
    monkeypatch.setattr(klkit._io, "open", denied, raising=False)
    message = fails("entropy", "secret.csv")
    assert "P: cannot read 'secret.csv' (Permission denied); check the path" in message


def test_directory_is_not_a_distribution(files):
    Path("data.csv").mkdir()
    assert "P: 'data.csv' is a directory" in fails("entropy", "data.csv")


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


# --- the real entry points, in a subprocess ---------------------------------------------------


def shell(*args: str, stdin: str = "", cwd: Path | None = None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=cwd, check=False)


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


def readme_examples() -> list[tuple[str, str]]:
    """(command, expected output) for each `$ klkit ...` line with output in the README."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    pairs = []
    for block in re.findall(r"```console\n(.*?)```", readme, flags=re.DOTALL):
        lines = block.splitlines()
        for line, following in zip(lines, [*lines[1:], "$"], strict=True):
            if line.startswith("$ klkit ") and not following.startswith("$"):
                pairs.append((line[2:].split("  #")[0].strip(), following))
    return pairs


@pytest.mark.parametrize(("command", "expected"), readme_examples())
def test_readme_examples_print_what_the_readme_says(command, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g = np.random.default_rng(0)  # xy.csv: the README's two columns of measurements
    x, y = g.normal(0, 1, 3000), g.normal(1, 1, 3000)
    Path("xy.csv").write_text("a,b\n" + "".join(f"{u},{v}\n" for u, v in zip(x, y, strict=True)))
    assert ok(*shlex.split(command)[1:]).strip() == expected


def test_readme_has_examples():
    assert len(readme_examples()) >= 4


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


# --- distributions as text and samples (issue 5) -----------------------------------------


def test_distributions_written_as_text_use_scipys_argument_order():
    data = as_json("kl", "normal(0, 1)", "normal(1, 2)")
    truth = math.log(2) + (1 + 1) / (2 * 4) - 0.5  # log(s2/s1) + (s1^2 + dmu^2)/(2 s2^2) - 1/2
    assert data["method"] == "exact"
    assert data["value"] == pytest.approx(truth, rel=1e-12)
    out = ok("entropy", "gamma(2, scale=3)")
    assert out.startswith("H(P) = ")
    assert float(out.split()[2]) == pytest.approx(ss.gamma(2, scale=3).entropy(), rel=1e-5)
    beta = as_json("kl", "beta(2, 5)", "beta(3, 3)", "--base", "bits")
    ref = kl.kl_divergence(kl.Beta(2.0, 5.0), kl.Beta(3.0, 3.0), base=2)
    assert beta["value"] == pytest.approx(float(ref), rel=1e-12)
    assert beta["unit"] == "bits"


def test_dirichlet_multivariate_normal_and_moved_laws_as_text():
    # closed forms by hand: H(Dirichlet(1, 1, 1)) = -log 2 (uniform on a simplex of area 1/2)
    assert as_json("entropy", "dirichlet([1, 1, 1])")["value"] == pytest.approx(-math.log(2))
    mvn = as_json(
        "kl", "mvn([0, 0], [[2, 0.3], [0.3, 1]])", "multivariate_normal([1, 0], [[1, 0], [0, 1]])"
    )
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    truth = 0.5 * (np.trace(cov) + 1.0 - 2 - math.log(np.linalg.det(cov)))
    assert (mvn["method"], mvn["value"]) == ("exact", pytest.approx(truth, rel=1e-12))
    shifted = as_json("kl", "expon(loc=1)", "expon(loc=0.5)")  # log p/q = 0.5 on x >= 1
    assert (shifted["method"], shifted["value"]) == ("exact", pytest.approx(0.5, rel=1e-14))


def test_a_pair_without_a_closed_form_is_integrated_and_says_so():
    out = ok("kl", "normal(0,1)", "t(3)")
    assert re.search(r"D\(P\|\|Q\) = 0\.0692 nats ± .* \(95% CI .*, quad\)", out), out


def test_samples_give_an_estimate_with_its_interval(tmp_path):
    g = np.random.default_rng(0)
    csv = tmp_path / "xy.csv"
    x, y = g.normal(0, 1, 3000), g.normal(1, 1, 3000)
    csv.write_text("a,b\n" + "".join(f"{u},{v}\n" for u, v in zip(x, y, strict=True)))
    data = as_json("kl", "--samples", f"{csv}:a", f"{csv}:b", "--seed", "0")
    assert set(data) == {
        "measure",
        "value",
        "stderr",
        "ci_low",
        "ci_high",
        "method",
        "n",
        "unit",
        "confidence",
        "note",
    }
    import klkit.estimate as ke

    ref = ke.kl_divergence(x, y, rng=0)
    assert data["value"] == pytest.approx(ref.value, rel=1e-12)
    assert (data["method"], data["n"]) == ("knn", [3000, 3000])
    assert data["ci_low"] < 0.5 < data["ci_high"]
    text = ok("kl", "--samples", f"{csv}:a", f"{csv}:b", "--seed", "0")
    assert text.strip() == f"D(P||Q) = {ref}"


def test_whole_number_samples_are_labels(tmp_path):
    g = np.random.default_rng(1)
    rolls = tmp_path / "rolls.txt"
    rolls.write_text("\n".join(str(v) for v in g.integers(1, 7, 3000)))
    data = as_json("entropy", "--samples", str(rolls), "--smoothing", "0.5")
    assert data["method"] == "plugin"
    assert abs(data["value"] - math.log(6)) < 0.01
    unseen = run("kl", "--samples", "1,1,2,3", "2,2,3,3")
    assert unseen.exit_code == 0
    assert "inf nats" in unseen.stdout
    assert "smoothing=" in unseen.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kl", "normal(0,1)", "0.2,0.8"], "give both as distributions, or pass --samples"),
        (["kl", "foo(1)", "normal(0,1)"], "'foo' is not a distribution klkit knows"),
        (["kl", "normal(0,-1)", "normal(0,1)"], "Normal parameter scale has -1.0"),
        (["kl", "normal(0, x)", "normal(0,1)"], "cannot read 'normal(0, x)' as a distribution"),
        (["cross-entropy", "--samples", "1,2", "1,2"], "no estimator from samples"),
        (["kl", "dirichlet([1, 2])", "dirichlet([1, 1, 1])"], "P has 2 outcomes and Q has 3"),
        (["kl", "mvn([0, 0], [[1, 0], [0, 1]])", "normal(0, 1)"], "P has 2 dimension(s)"),
        (["kl", "normal([0, 1], 1)", "normal(0, 1)"], "is 2 distributions; give one"),
    ],
)
def test_estimate_mistakes_are_one_line(args, message):
    assert message in fails(*args)


def test_samples_may_be_text_labels(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("c\na\nb\na\nc\nc\n")
    table = tmp_path / "grades.csv"
    table.write_text("name,grade\nx,a\ny,b\nz,a\nw,c\n")
    data = as_json("entropy", "--samples", str(labels))
    freq = np.array([2, 1, 3]) / 6
    assert data["value"] == pytest.approx(float(-np.sum(freq * np.log(freq))), rel=1e-12)
    both = as_json("kl", "--samples", str(labels), f"{table}:grade", "--smoothing", "1")
    fp, fq = np.array([3, 2, 4]) / 9, np.array([3, 2, 2]) / 7  # a, b, c, each plus 1
    assert both["value"] == pytest.approx(float(np.sum(fp * np.log(fp / fq))), rel=1e-12)
    assert "name the column of labels" in fails("entropy", "--samples", str(table))
    piped = as_json("entropy", "--samples", "-", stdin="c\na\nb\na\nc\nc\n")
    assert piped["value"] == pytest.approx(data["value"], rel=1e-12)


def test_labels_or_continuous_is_decided_for_both_samples(tmp_path):
    ints, floats = tmp_path / "ints.txt", tmp_path / "floats.txt"
    ints.write_text("1\n2\n3\n2\n4\n1\n")
    floats.write_text("1.5\n2.25\n3.1\n2.7\n0.4\n1.9\n")
    assert as_json("kl", "--samples", str(ints), str(floats))["method"] == "knn"
    message = fails("kl", "--samples", str(ints), str(floats), "--k", "9")
    assert "k must be a whole number of neighbours from 1 to n - 1 = 5; got 9" in message


# --- named outcomes are matched by name (the trust issue, item 1) ----------------------------

# P and Q of the issue; the reference aligns them by hand, in P's order: rain, cloud, sun
WEATHER_P = {"rain": 0.2, "cloud": 0.3, "sun": 0.5}
WEATHER_Q = {"sun": 0.4, "rain": 0.3, "cloud": 0.3}
P_ALIGNED, Q_ALIGNED = np.array([0.2, 0.3, 0.5]), np.array([0.3, 0.3, 0.4])


@pytest.fixture
def weather(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.json").write_text(json.dumps(WEATHER_P))
    Path("q.json").write_text(json.dumps(WEATHER_Q))
    Path("p.csv").write_text("outcome,p\nrain,0.2\ncloud,0.3\nsun,0.5\n")
    Path("q.csv").write_text("outcome,q\nsun,0.4\nrain,0.3\ncloud,0.3\n")
    return tmp_path


def js_reference(p, q):
    m = (p + q) / 2
    return (ss.entropy(p, m) + ss.entropy(q, m)) / 2


@pytest.mark.parametrize(("p", "q"), [("p.json", "q.json"), ("p.csv:p", "q.csv:q")])
@pytest.mark.parametrize(
    ("command", "key", "reference"),
    [
        ("kl", "kl_divergence", ss.entropy),  # 0.0304788, not 0.116783
        ("cross-entropy", "cross_entropy", lambda p, q: -np.sum(p * np.log(q))),
        ("js", "js_divergence", js_reference),
    ],
)
def test_named_outcomes_are_matched_by_name_in_every_measure(
    weather, p, q, command, key, reference
):
    value = as_json(command, p, q)[key]
    assert value == pytest.approx(reference(P_ALIGNED, Q_ALIGNED), rel=1e-13)


def test_the_issue_example_prints_the_aligned_kl(weather):
    assert ok("kl", "p.json", "q.json").strip() == "D(P||Q) = 0.0304788 nats"


@pytest.mark.parametrize("command", ["explain", "plot"])
def test_explain_and_plot_align_by_name_instead_of_refusing(weather, command):
    extra = ["-o", "w.png"] if command == "plot" else ["--json"]
    out = ok(command, "p.json", "q.csv:q", *extra)
    if command == "plot":
        assert f"D(P||Q) = {ss.entropy(P_ALIGNED, Q_ALIGNED):.6g} nats" in out
        return
    data = json.loads(out)
    assert data["outcomes"] == ["rain", "cloud", "sun"]
    np.testing.assert_allclose(data["q"], Q_ALIGNED, rtol=0)
    assert data["kl_divergence"] == pytest.approx(ss.entropy(P_ALIGNED, Q_ALIGNED), rel=1e-13)


def test_explain_table_rows_keep_the_names(weather):
    text = ok("explain", "p.json", "q.json")
    assert re.search(r"sun\s+[│|]\s+0\.5\s+[│|]\s+0\.4\s", text)
    assert re.search(r"rain\s+[│|]\s+0\.2\s+[│|]\s+0\.3\s", text)


def test_different_name_sets_list_what_is_missing_on_each_side(weather):
    Path("q2.json").write_text('{"sun": 0.4, "rain": 0.3, "hail": 0.3}')
    message = fails("kl", "p.json", "q2.json")
    assert "P and Q name different outcomes: 'cloud' in P but not in Q; 'hail' in Q" in message
    assert "with probability 0" in message
    assert '"name": 0 in a JSON object' in message


def test_one_named_side_is_matched_by_position_and_names_are_kept(weather):
    data = as_json("explain", "p.json", "0.3,0.3,0.4")
    assert data["outcomes"] == ["rain", "cloud", "sun"]
    assert data["kl_divergence"] == pytest.approx(ss.entropy(P_ALIGNED, Q_ALIGNED), rel=1e-13)
    assert "P names 3 outcomes" in fails("kl", "p.json", "0.5,0.5")


def test_outcomes_option_names_the_unnamed_side_for_matching(weather):
    data = as_json("explain", "p.json", "0.4,0.3,0.3", "--outcomes", "sun,rain,cloud")
    np.testing.assert_allclose(data["q"], Q_ALIGNED, rtol=0)
    assert "drop --outcomes" in fails("explain", "p.json", "q.json", "--outcomes", "a,b,c")


def test_batches_match_outcomes_and_distributions_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text("outcome,m1,m2\nrain,0.2,0.1\ncloud,0.3,0.4\nsun,0.5,0.5\n")
    Path("b.csv").write_text("outcome,m2,m1\nsun,0.4,0.3\nrain,0.3,0.3\ncloud,0.3,0.4\n")
    data = as_json("kl", "a.csv", "b.csv", "--axis", "0")
    assert data["names"] == ["m1", "m2"]
    # by hand, in a.csv's order: m1 of b.csv is (rain, cloud, sun) = (0.3, 0.4, 0.3)
    expected = [
        ss.entropy([0.2, 0.3, 0.5], [0.3, 0.4, 0.3]),
        ss.entropy([0.1, 0.4, 0.5], Q_ALIGNED),
    ]
    np.testing.assert_allclose(data["kl_divergence"], expected, rtol=1e-13)
    # one distribution per row (--axis 1): outcomes are the header, rows the text column
    Path("r1.csv").write_text("name,x,y\nfirst,0.2,0.8\nsecond,0.5,0.5\n")
    Path("r2.csv").write_text("name,y,x\nsecond,0.5,0.5\nfirst,0.6,0.4\n")
    data = as_json("kl", "r1.csv", "r2.csv", "--axis", "1")
    assert data["names"] == ["first", "second"]
    np.testing.assert_allclose(
        data["kl_divergence"], [ss.entropy([0.2, 0.8], [0.4, 0.6]), 0.0], rtol=1e-13, atol=1e-16
    )
    Path("c.csv").write_text("outcome,x,y\nrain,0.2,0.1\ncloud,0.3,0.4\nsun,0.5,0.5\n")
    assert "P and Q name different distributions" in fails("kl", "a.csv", "c.csv", "--axis", "0")


def test_bce_matches_named_elements_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("y.json").write_text('{"a": 1, "b": 0}')
    Path("y_hat.json").write_text('{"b": 0.2, "a": 0.9}')
    data = as_json("bce", "y.json", "y_hat.json")
    np.testing.assert_allclose(data["binary_cross_entropy"], [-math.log(0.9), -math.log(0.8)])
    assert data["names"] == ["a", "b"]


# --- distributions written as text: the whole text is read (item 2) ----------------------


@pytest.mark.parametrize(
    ("text", "leftover"),
    [
        ("normal(0,1)(5)", "'(5)' is left over after its closing parenthesis"),
        ("normal(**{'loc': 5})", "\"**{'loc':\" is not a number"),
        ("normal(0, 1) x", "'x' is left over"),
        ("normal(loc=0, 1)", "'1)' is a positional parameter after a named one"),
        ("normal(0, 1", "it ends where ',' or ')' should be"),
        ("normal(0 1)", "'1)' follows a parameter where ',' or ')' should be"),
        ("dirichlet([[[1]]])", "lists nest at most two deep"),
        ("normal(loc=0, loc=1)", "the parameter 'loc' is given twice"),
        ("normal(0, '1')", "\"'1'\" is not a number"),
        ("normal(1" + "0" * 400 + ", 1)", "too large for a 64-bit float"),
    ],
)
def test_distribution_text_the_grammar_does_not_consume_is_an_error(text, leftover):
    message = fails("kl", text, "normal(0, 1)")
    assert "P: cannot read" in message
    assert leftover in message


def test_distribution_text_takes_fractions_and_lists():
    data = as_json("kl", "normal(0, 1/2)", "normal(loc=1, scale=1)")
    # closed form: log(s2/s1) + (s1^2 + dmu^2) / (2 s2^2) - 1/2
    assert data["value"] == pytest.approx(math.log(2) + (0.25 + 1) / 2 - 0.5, rel=1e-13)
    data = as_json("entropy", "dirichlet((1, 1, 1))")
    assert data["value"] == pytest.approx(-math.log(2))


# --- hostile input: one clear line, status 2 (item 3) -----------------------------------


def test_an_inline_argument_too_long_for_a_file_name_is_read_as_numbers():
    values = ",".join(["0.01"] * 100)  # 499 bytes: os.stat says "File name too long"
    assert len(values) > 255
    assert as_json("entropy", values)["entropy"] == pytest.approx(math.log(100), rel=1e-13)
    assert "P: item 101 of '0.01,0.01" in fails("entropy", values + ",x")


def test_inline_parsing_is_linear_in_the_number_of_items():
    from klkit._io import read_argument

    def cost(n):  # best of 5: the CPU time of one read of n items
        text = ",".join(["1/3"] * n)
        times = []
        for _ in range(5):
            start = time.process_time()
            read_argument(text, name="P", stdin=io.StringIO())
            times.append(time.process_time() - start)
        return min(times)

    small, large = cost(8_000), cost(32_000)
    # linear: 4 times the items cost about 4 times as much; quadratic (the old
    # f-string quoting the whole text per item) costs 16 times as much
    assert large < 8 * max(small, 1e-4), (small, large)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "'empty.csv' is empty"),
        ("empty.txt", b"", "'empty.txt' holds no numbers"),
        ("empty.json", b"", "'empty.json' is not valid JSON"),
        ("empty.npy", b"", "'empty.npy' is not a valid .npy file"),
        ("binary.csv", b"\x00\x9f\x92\x96\xff", "'binary.csv' is not UTF-8 text (byte 0x9f"),
        ("latin1.txt", "0,5 café".encode("latin-1"), "'latin1.txt' is not UTF-8 text"),
        ("deep.json", b"[" * 100_000, "'deep.json' nests lists or objects too deeply"),
        ("digits.json", b"[1" + b"0" * 400 + b", 0]", "too large for a 64-bit float"),
        ("digits5000.json", b"[1" + b"0" * 5000 + b"]", "too large for a 64-bit float"),
        ("dup.json", b'{"a": 0.5, "a": 0.5}', "names the outcome 'a' twice"),
        ("field.csv", b"a" * 140_000 + b",1\n", "line 1 of 'field.csv' is not valid CSV"),
        ("big.txt", b"1" + b"0" * 400 + b" 1", "too large for a 64-bit float"),
    ],
)
def test_hostile_files_are_one_clear_line(tmp_path, monkeypatch, name, content, expected):
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(content)
    assert expected in fails("entropy", name)


def _npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def test_npy_headers_are_checked_before_any_allocation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("huge.npy").write_bytes(_npy_header((10**12,)) + b"\0" * 16)  # 8 TB promised
    message = fails("entropy", "huge.npy")
    assert "holds 1,000,000,000,000 values, more than the limit of 10,000,000" in message
    assert "KLKIT_MAX_VALUES" in message
    Path("short.npy").write_bytes(_npy_header((1000,)) + b"\0" * 16)
    assert "its header promises 1,000 values of 8 bytes" in fails("entropy", "short.npy")
    Path("header.npy").write_bytes(b"\x93NUMPY\x01\x00" + b"\xff\xff" + b"{" * 100)
    assert "'header.npy' is not a valid .npy file" in fails("entropy", "header.npy")


def test_devices_and_directories_are_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.symlink("/dev/zero", "zero.txt")  # reading it would never end
    assert "P: 'zero.txt' is a device, not a regular file" in fails("entropy", "zero.txt")
    Path("dir.json").mkdir()
    assert "P: 'dir.json' is a directory" in fails("entropy", "dir.json")


def test_limits_are_named_with_how_to_raise_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.txt").write_text("0.25 0.25 0.25 0.25\n")
    monkeypatch.setenv("KLKIT_MAX_VALUES", "3")
    message = fails("entropy", "p.txt")
    assert "more than the limit of 3 for one argument" in message
    assert "KLKIT_MAX_VALUES" in message
    assert "more than the limit of 3" in fails("entropy", "0.25,0.25,0.25,0.25")
    monkeypatch.setenv("KLKIT_MAX_VALUES", "4")
    assert as_json("entropy", "p.txt")["entropy"] == pytest.approx(math.log(4))
    monkeypatch.setenv("KLKIT_MAX_BYTES", "10")
    message = fails("entropy", "p.txt")
    assert "P: 'p.txt' is 20 bytes, more than the 10 bytes klkit reads" in message
    assert "KLKIT_MAX_BYTES" in message
    assert "standard input is over 10 bytes" in fails("entropy", "-", stdin="0.5 0.25 0.25\n")
    monkeypatch.setenv("KLKIT_MAX_BYTES", "1K")
    assert as_json("entropy", "p.txt")["entropy"] == pytest.approx(math.log(4))
    monkeypatch.setenv("KLKIT_MAX_BYTES", "lots")
    assert "KLKIT_MAX_BYTES is 'lots', not a limit" in fails("entropy", "p.txt")


def test_numbers_beyond_float64_are_errors_not_infinity():
    assert "item 1 of '1e400,0' is '1e400', too large" in fails("entropy", "1e400,0")
    assert "too large" in fails("entropy", "1e308/1e-308,0")
    assert as_json("entropy", "-inf,0", "--logits")["entropy"] == 0.0  # inf itself is fine


def test_bce_of_empty_input_is_an_error_not_nan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("e.npy", np.zeros(0))
    assert "Y holds no values" in fails("bce", "e.npy", "e.npy")


def test_running_out_of_memory_is_a_user_error(monkeypatch):
    def huge(*args, **kwargs):
        msg = "Unable to allocate 74.5 GiB for an array"
        raise MemoryError(msg)

    monkeypatch.setattr(kl, "entropy", huge)
    message = fails("entropy", "0.5,0.5")
    assert "out of memory ('Unable to allocate 74.5 GiB for an array')" in message


def test_a_huge_binomial_never_ends_in_an_internal_error():
    result = run("entropy", "binom(10000000000, 0.5)", "--json")
    assert result.exit_code in (0, 2), result.output
    assert "internal error" not in result.output
    if result.exit_code == 0:  # an asymptotic entropy: log(2 pi e n p q) / 2 + O(1/n)
        value = json.loads(result.stdout)["value"]
        assert value == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 2.5e9), rel=1e-9)
    else:
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("where", ["--outcomes", "header"])
def test_outcome_names_are_text_never_markup(tmp_path, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    names = ["[/]", "[bold red]b", ":smile:"]
    if where == "--outcomes":
        text = ok("explain", "0.2,0.3,0.5", "0.3,0.3,0.4", "--outcomes", ",".join(names))
    else:
        Path("m.csv").write_text("outcome,[/],[bold red]b,:smile:\nx,0.2,0.3,0.5\ny,0.3,0.3,0.4\n")
        text = ok("entropy", "m.csv", "--axis", "0", "--normalize")
    for name in names:
        assert name in text


def test_samples_read_text_labels_from_npy_and_refuse_non_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("labels.npy", np.array(["a", "b", "a", "c"]))
    np.save("bytes.npy", np.array([b"a", b"b", b"a", b"c"]))
    freq = np.array([2, 1, 1]) / 4  # plug-in entropy by hand
    for name in ("labels.npy", "bytes.npy"):
        data = as_json("entropy", "--samples", name)
        assert data["value"] == pytest.approx(float(-np.sum(freq * np.log(freq))), rel=1e-13)
    Path("latin1.txt").write_bytes("café\nthé\n".encode("latin-1"))
    assert "P: 'latin1.txt' is not UTF-8 text" in fails("entropy", "--samples", "latin1.txt")


def test_base_is_read_by_the_api_rule_and_units_are_named_alike():
    assert "--base: '1/2' is not a valid base" in fails("kl", "0.5,0.5", "0.5,0.5", "--base", "1/2")
    assert "--base: 'nan' is not a valid base" in fails("kl", "0.5,0.5", "0.5,0.5", "--base", "nan")
    assert as_json("kl", FAIR, LOADED, "--base", "shannons")["unit"] == "bits"
    # explain and estimate name the same base the same way
    for base, unit in (("10", "bans"), ("e", "nats"), ("3", "log-base-3 units")):
        assert as_json("explain", "0.5,0.5", "0.5,0.5", "--base", base)["unit"] == unit
        assert as_json("kl", "normal(0, 1)", "t(3)", "--base", base)["unit"] == unit


def test_plot_overwrite_keeps_the_permission_bits(files):
    Path("kept.png").write_bytes(b"old")
    os.chmod("kept.png", 0o640)
    ok("plot", FAIR, LOADED, "-o", "kept.png")
    assert stat.S_IMODE(os.stat("kept.png").st_mode) == 0o640
    assert Path("kept.png").read_bytes().startswith(b"\x89PNG")


def test_missing_scipy_for_estimates_is_one_line(tmp_path):
    block = "import sys; sys.modules['scipy'] = None; from klkit.__main__ import main; main()"
    code = block.replace("main()", "sys.argv = ['klkit', 'kl', '--samples', '1,2', '1,2']; main()")
    result = shell(sys.executable, "-c", code, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "klkit kl: error: klkit.estimate needs SciPy; install it with: "
        "pip install 'klkit[estimate]'"
    )


def test_demo_that_cannot_write_prints_nothing_but_the_error(tmp_path):
    message = fails("demo", "-o", str(tmp_path / ("x" * 300 + ".png")))  # name too long
    assert "-o: cannot write" in message
    assert "File name too long" in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # 1/scale overflows: the family's own check says so, and no RuntimeWarning
        (["kl", "expon(-1e308, 1e-320)", "expon(-283.8)"], "Exponential parameter rate has inf"),
        (["js", "uniform(1e308, 1e308)", "uniform(1e308, 1e308)"], "parameter high has inf"),
    ],
)
def test_distribution_parameters_beyond_float64_are_one_line(args, expected):
    assert expected in fails(*args)


def test_binomial_counts_written_as_text_can_be_drawn():
    # JS of binom(1e10, 0) (all mass at 0) and binom(48, 0.46) (mass 1e-13 at 0) is
    # log 2 to 1e-13: disjoint in effect
    data = as_json("js", "binom(10000000000, 0.0)", "binom(48, 0.46)", "--method", "mc")
    assert data["value"] == pytest.approx(math.log(2), rel=1e-9)
