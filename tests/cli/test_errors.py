"""Bad input: one line on stderr, status 2, in command-line words."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from cli_support import LOADED, fails

import klkit.cli._read

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

    # as for a file mode 000 (root ignores it): klkit.cli._read's own open() is refused
    monkeypatch.setattr(klkit.cli._read, "open", denied, raising=False)
    message = fails("entropy", "secret.csv")
    assert "P: cannot read 'secret.csv' (Permission denied); check the path" in message


def test_directory_is_not_a_distribution(files):
    Path("data.csv").mkdir()
    assert "P: 'data.csv' is a directory" in fails("entropy", "data.csv")


def test_a_distribution_error_is_said_in_command_line_words():
    # the core's DistributionError renders itself with the CLI Spelling: arguments are
    # P and Q, fixes are flags; nothing of the Python API's spelling is left
    message = fails("kl", "0.5,0.6", "0.5,0.5")
    assert message == (
        "klkit kl: error: P sums to 1.1, not 1 (tolerance 1.5e-08 for float64 with 2 "
        "outcomes). Pass --normalize to rescale counts or weights, or --logits if these "
        "are scores.\n"
    )
    negative = fails("kl", "0.5,0.5", "-0.5,1.5")
    assert "Q has a negative entry -0.5 at index 0" in negative
    assert "pass --logits; if log-probabilities, --logits too." in negative
    for python_words in ("`", "normalize=True", "klkit.Logits", "axis="):
        assert python_words not in message + negative


def test_named_batches_that_differ_name_their_distributions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text(",a,b\nx,0.5,0.5\ny,0.5,0.5\n")
    Path("c.csv").write_text(",a,c\nx,0.5,0.5\ny,0.5,0.5\n")
    message = fails("kl", "a.csv", "c.csv", "--axis", "0")
    assert "P and Q name different distributions: 'b' in P but not in Q" in message
    assert "klkit aligns the distributions of two named batches by name" in message
