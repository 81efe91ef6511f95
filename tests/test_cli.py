from __future__ import annotations

import json
import math
import pickle
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as ss
from typer.testing import CliRunner

import klkit as kl
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
        (["explain", "weather.csv:p", "0.5,0.5"], None, "P has 3, Q has 2 outcomes"),
        (["explain", "weather.csv:p", "weather.json"], None, "name their outcomes differently"),
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

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)  # as for a file mode 000 (root ignores it)
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
