"""Hostile fuzz of the command line (Hypothesis): every run is a success or a clean error.

Each run of ``klkit ...`` is classified as one of

* a **success**: status 0, nothing on standard error;
* a **clean error**: status 2, nothing on standard output, and exactly one line on
  standard error that starts ``klkit COMMAND: error: `` (``klkit: error: `` before
  a command is known); or
* a **failure**: anything else -- status 1 ("internal error"), a traceback, a
  Python warning (NumPy's RuntimeWarnings included), a second line, an exception
  out of ``klkit.cli.main``.

The inputs are hostile on purpose: inline text from an alphabet of digits,
separators, brackets, quotes, markup and control characters; long lists and
arguments over 255 bytes; files that are empty, binary, not UTF-8, JSON nested deep
or with 400-digit numbers, CSVs with huge fields and markup headers, ``.npy`` files
whose headers promise 10^12 values, directories, symbolic links to ``/dev/zero``;
distributions written as text, well formed or with junk left over; and every
option with good and bad values. Most runs go through ``klkit.cli.main(argv)``
in-process (standard streams captured, warnings recorded); a few real processes run
the console script.

The default run is short; ``KLKIT_FUZZ=long`` runs 10^4 cases per property (or
``KLKIT_FUZZ=N``, N of them), and ``KLKIT_FUZZ_REPORT=path`` writes the tally (cases
per property and outcome) as JSON. ``KLKIT_FUZZ_KEEP_GOING=1`` is a survey: failures
are tallied, with the first example of each kind in the report, instead of stopping
the run.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klkit.cli import main

_FUZZ = os.environ.get("KLKIT_FUZZ", "")
EXAMPLES = 10_000 if _FUZZ == "long" else int(_FUZZ) if _FUZZ.isdigit() else 60
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=not _FUZZ,  # the default run is the same every time; long runs explore
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
TALLY: collections.Counter[str] = collections.Counter()
KLKIT = Path(sys.executable).with_name("klkit")  # the console script pip installed

MEASURES = ("entropy", "cross-entropy", "kl", "js")
TWO_SIDED = ("cross-entropy", "kl", "js", "bce", "explain")


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    path = os.environ.get("KLKIT_FUZZ_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump({**dict(sorted(TALLY.items())), "failures": FAILURES}, f, indent=1)


@pytest.fixture(autouse=True)
def _small_support(monkeypatch):
    # A discrete sum stops at this many points: the limit's own error path, reached
    # in well under a second (the default, 10^7, takes seconds per case).
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "200000")


# --- running and classifying -------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    status: object
    stdout: str
    stderr: str
    warnings: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"klkit {' '.join(repr(a)[:200] for a in self.argv)}\nstatus: {self.status}\n"
            f"stdout: {self.stdout[:500]!r}\nstderr: {self.stderr[:1500]!r}\n"
            f"warnings: {list(self.warnings)}"
        )


def invoke(argv: list[str], stdin: str = "") -> Run:
    """Run ``klkit.cli.main(argv)`` in this process, as the console script would."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            warnings.simplefilter("always")
            try:
                main(argv)
                status: object = 0
            except SystemExit as e:
                status = e.code if e.code is not None else 0
            except BaseException as e:  # anything out of main is a failure
                status = f"raised {type(e).__name__}: {e}"
    finally:
        sys.stdin = saved_stdin
    shown = tuple(f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught)
    return Run(tuple(argv), status, out.getvalue(), err.getvalue(), shown)


_ERROR_LINE = re.compile(r"klkit(?: [a-z-]+)?: error: \S")


def outcome(run: Run) -> str:
    """'success', 'clean error' or 'failure: why'."""
    if run.warnings:
        return "failure: a warning"
    if "Traceback" in run.stderr or "Traceback" in run.stdout:
        return "failure: a traceback"
    if run.status == 0:
        return "success" if not run.stderr else "failure: status 0 with standard error"
    if run.status == 2:
        lines = run.stderr.splitlines()
        if run.stdout:
            return "failure: an error that also printed to standard output"
        if len(lines) != 1 or not run.stderr.endswith("\n"):
            return "failure: an error that is not one line"
        if not _ERROR_LINE.match(lines[0]) or "internal error" in lines[0]:
            return "failure: an error line that is not 'klkit COMMAND: error: ...'"
        return "clean error"
    return f"failure: status {run.status}"


KEEP_GOING = os.environ.get("KLKIT_FUZZ_KEEP_GOING") == "1"
"""Survey mode: tally failures (first example of each kind in the report), do not stop."""
FAILURES: dict[str, str] = {}


def _signature(result: str, run: Run) -> str:
    if run.warnings:
        return re.sub(r"^.*\((.*)\)$", r"warning at \1", run.warnings[0])
    return f"{result}: {run.stderr[:80]}"


def check(prop: str, argv: list[str], stdin: str = "") -> Run:
    run = invoke(argv, stdin)
    result = outcome(run)
    TALLY[f"{prop}: {result.split(':')[0]}"] += 1
    TALLY[f"{prop}: cases"] += 1
    if KEEP_GOING and result.startswith("failure"):
        FAILURES.setdefault(_signature(result, run), f"{result}\n{run.describe()}")
        return run
    assert not result.startswith("failure"), f"{result}\n{run.describe()}"
    return run


# --- hostile text ------------------------------------------------------------------------

_ALPHABET = (
    "0123456789" * 3
    + ".,/-+eE " * 3
    + "infatyxINFNa_"
    + "[](){}=*:;'\"\\#$%&!?|^~`@<>"
    + "\t\n\r\x00\x0b\x1b\u2028\xa0"
    + "é€٣ℵ🙂"
)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.sampled_from([0.0, 1.0, 0.5, 1e-320, 5e-324, 1e308, 1.7976931348623157e308, -0.0]),
)


def number_text(x: float) -> str:
    return repr(x)


NUMBER_TOKENS = st.one_of(
    NUMBERS.map(number_text),
    st.integers(-(10**30), 10**30).map(str),
    st.tuples(st.integers(-9, 9), st.integers(-9, 9)).map(lambda t: f"{t[0]}/{t[1]}"),
    st.sampled_from(["inf", "-inf", "nan", "Infinity", "1e400", "-1e400", "1" + "0" * 400]),
    st.text(_ALPHABET, max_size=6),
)


@st.composite
def number_lists(draw: Any) -> str:
    size = draw(st.sampled_from([1, 2, 3, 6, 50, 300, 3000]))
    if size > 50:  # long lists: mostly numbers, maybe one bad token
        items = [draw(NUMBER_TOKENS)] * size
        if draw(st.booleans()):
            items[draw(st.integers(0, size - 1))] = draw(NUMBER_TOKENS)
    else:
        items = draw(st.lists(NUMBER_TOKENS, min_size=size, max_size=size))
    return draw(st.sampled_from([",", ", ", " ", ",,"])).join(items)


@st.composite
def probabilities(draw: Any, k: int | None = None) -> str:
    k = draw(st.integers(1, 8)) if k is None else k
    weights = np.asarray(draw(st.lists(st.floats(0, 1), min_size=k, max_size=k))) + 1e-3
    return ",".join(repr(float(w)) for w in weights / weights.sum())


FAMILIES = (
    "normal",
    "norm",
    "gaussian",
    "t",
    "gamma",
    "beta",
    "expon",
    "laplace",
    "lognorm",
    "uniform",
    "poisson",
    "binom",
    "geom",
    "bernoulli",
    "dirichlet",
    "mvn",
    "multivariate_normal",
    "cauchy",
    "foo",
    "Normal",
)
KEYWORDS = ("loc", "scale", "n", "p", "mu", "a", "b", "df", "s", "alpha", "mean", "cov", "x")
PARAMETERS = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False).map(repr),
    st.sampled_from(["0", "1", "2", "0.5", "1/3", "1e-320", "1e308", "-1", "inf", "nan"]),
    st.sampled_from(["[1, 2, 3]", "[0, 0]", "[[2, 0.3], [0.3, 1]]", "[[1]]", "[]", "[[[1]]]"]),
    st.integers(0, 10**12).map(str),
    st.sampled_from(["1" + "0" * 400, "10000000000", "**{'loc': 5}", "'1'", "x", "1 2"]),
)


POSITIVE = st.one_of(
    st.floats(1e-3, 1e3),
    st.sampled_from([1e-300, 1e-320, 1e300, 1e308, 0.5, 1.0, 2.0, 3.0, 30.0]),
)
REAL = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, -1e308, 1e308, 1e-320]))
UNIT = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, 1e-300, 0.5, 1 - 1e-16]))
COUNT = st.one_of(st.integers(0, 50), st.sampled_from([10**6, 10**10, 10**15]))
# (family, parameters): one law of each family klkit knows, in SciPy's order
WELL_FORMED = {
    "normal": (REAL, POSITIVE),
    "t": (POSITIVE, REAL, POSITIVE),
    "gamma": (POSITIVE, REAL, POSITIVE),
    "beta": (POSITIVE, POSITIVE),
    "expon": (REAL, POSITIVE),
    "laplace": (REAL, POSITIVE),
    "lognorm": (POSITIVE,),
    "uniform": (REAL, POSITIVE),
    "poisson": (POSITIVE,),
    "binom": (COUNT, UNIT),
    "geom": (UNIT,),
    "bernoulli": (UNIT,),
}


@st.composite
def well_formed_distributions(draw: Any, family: str | None = None) -> str:
    family = draw(st.sampled_from(sorted(WELL_FORMED))) if family is None else family
    if family == "dirichlet":
        alphas = draw(st.lists(POSITIVE, min_size=2, max_size=4))
        return f"dirichlet([{', '.join(map(repr, alphas))}])"
    values = [draw(v) for v in WELL_FORMED[family]]
    used = draw(st.integers(1, len(values)))
    return f"{family}({', '.join(repr(v) for v in values[:used])})"


@st.composite
def distribution_pairs(draw: Any, count: int) -> list[str]:
    """Mostly two laws of one family (a closed form, quadrature or a sum), else any two."""
    if draw(st.integers(0, 3)) == 1:
        return draw(st.lists(distribution_texts(), min_size=count, max_size=count))
    family = draw(st.sampled_from([*sorted(WELL_FORMED), "dirichlet"]))
    if draw(st.integers(0, 3)) == 1:
        continuous = ["normal", "t", "gamma", "beta", "expon", "laplace", "lognorm", "uniform"]
        discrete = ["poisson", "binom", "geom", "bernoulli"]
        family = draw(st.sampled_from(continuous if family in continuous else discrete))
    first = draw(well_formed_distributions(family))
    rest = [draw(well_formed_distributions(family)) for _ in range(count - 1)]
    return [first, *rest]


@st.composite
def distribution_texts(draw: Any) -> str:
    family = draw(st.sampled_from(FAMILIES))
    args = draw(st.lists(PARAMETERS, max_size=3))
    kwargs = draw(st.lists(st.tuples(st.sampled_from(KEYWORDS), PARAMETERS), max_size=2))
    inside = ", ".join([*args, *(f"{k}={v}" for k, v in kwargs)])
    text = f"{family}({inside})"
    junk = draw(st.sampled_from(["", "", "", "(5)", " x", ")", "(", ",", "[", "()", " " * 3]))
    cut = draw(st.integers(0, len(text)))
    return draw(st.sampled_from([text + junk, text[:cut], text]))


HOSTILE_TEXT = st.one_of(
    st.text(_ALPHABET, max_size=30),
    number_lists(),
    probabilities(),
    distribution_texts(),
    st.sampled_from(["-", "--", "-x", "--bse", "-1.5,2", "-inf,0", "", " ", "x" * 300]),
    st.just(",".join(["0.01"] * 100)),  # 499 bytes: too long to be a file name
)


# --- hostile files -------------------------------------------------------------------------


def _npy_header(shape: Any, descr: str = "<f8", version: int = 1) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    writer = np.lib.format.write_array_header_1_0 if version == 1 else None
    if writer is None:
        np.lib.format.write_array_header_2_0(buffer, header)
    else:
        writer(buffer, header)
    return buffer.getvalue()


@st.composite
def file_specs(draw: Any) -> tuple[str, Any]:
    """(name, content): content is bytes, 'dir', or ('link', target)."""
    kind = draw(
        st.sampled_from(
            [
                *("valid-txt", "valid-json", "valid-csv", "valid-npy") * 3,
                "empty",
                "binary",
                "latin1",
                "numbers",
                "batch",
                "json",
                "json-deep",
                "json-digits",
                "json-object",
                "csv",
                "csv-field",
                "npy",
                "npy-header",
                "npy-text",
                "dir",
                "device",
            ]
        )
    )
    suffix = draw(st.sampled_from([".csv", ".txt", ".json", ".npy", ".dat"]))
    if kind.startswith("valid"):
        k = draw(st.integers(1, 3))  # few outcomes: the two files often agree
        probs = draw(probabilities(k)).split(",")
        names = draw(st.sampled_from([["a", "b", "c"], ["c", "b", "a"], ["[/]", "b", "$x"]]))[:k]
        if kind == "valid-txt":
            return "valid.txt", " ".join(probs).encode()
        if kind == "valid-json":
            pairs = ", ".join(f'"{n}": {v}' for n, v in zip(names, probs, strict=True))
            text = draw(st.sampled_from(["[" + ", ".join(probs) + "]", "{" + pairs + "}"]))
            return "valid.json", text.encode()
        if kind == "valid-csv":
            rows = "".join(f"{n},{v}\n" for n, v in zip(names, probs, strict=True))
            return "valid.csv", ("outcome,p\n" + rows).encode()
        buffer = io.BytesIO()
        np.save(buffer, np.asarray([float(v) for v in probs]))
        return "valid.npy", buffer.getvalue()
    if kind == "empty":
        return f"empty{suffix}", b""
    if kind == "binary":
        return f"binary{suffix}", draw(st.binary(max_size=300))
    if kind == "latin1":
        return f"latin1{suffix}", "0,5;0,5 café\n".encode("latin-1")
    if kind == "numbers":
        return f"numbers{draw(st.sampled_from(['.txt', '.csv']))}", draw(number_lists()).encode()
    if kind == "batch":
        rows = draw(st.lists(probabilities(3), min_size=1, max_size=4))
        return f"batch{draw(st.sampled_from(['.txt', '.csv']))}", "\n".join(rows).encode()
    if kind == "json":
        values = draw(
            st.recursive(
                st.one_of(st.none(), st.booleans(), NUMBERS, st.text(_ALPHABET, max_size=5)),
                lambda inner: (
                    st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(_ALPHABET, max_size=4), inner, max_size=4)
                ),
                max_leaves=12,
            )
        )
        text = json.dumps(values, allow_nan=True)
        return "data.json", text.encode()
    if kind == "json-deep":
        depth = draw(st.sampled_from([3, 50, 2000, 100_000]))
        return "deep.json", ("[" * depth + "]" * draw(st.sampled_from([0, depth]))).encode()
    if kind == "json-digits":
        digits = draw(st.sampled_from([20, 309, 400, 5000]))
        return "digits.json", f"[1{'0' * digits}, 0.5]".encode()
    if kind == "json-object":
        names = draw(st.lists(st.text(_ALPHABET, min_size=1, max_size=6), min_size=1, max_size=4))
        values = draw(probabilities(len(names))).split(",")
        pairs = ", ".join(f"{json.dumps(n)}: {v}" for n, v in zip(names, values, strict=True))
        return "named.json", ("{" + pairs + "}").encode()
    if kind == "csv":
        header = draw(
            st.lists(st.text(_ALPHABET.replace("\n", ""), max_size=6), min_size=1, max_size=3)
        )
        width = len(header)
        rows = draw(st.lists(st.lists(NUMBER_TOKENS, min_size=width, max_size=width), max_size=5))
        lines = [",".join(header)] + [",".join(r) for r in rows]
        return "table.csv", "\n".join(lines).encode()
    if kind == "csv-field":
        return "field.csv", b"a" * 140_000 + b",1\n"
    if kind == "npy":
        array = np.asarray(draw(st.lists(NUMBERS, max_size=6)))
        shape = draw(st.sampled_from([None, (1, -1), ()]))
        if shape == () and array.size:
            array = array[:1].reshape(())
        elif shape is not None and array.size:
            array = array.reshape(shape)
        buffer = io.BytesIO()
        np.save(buffer, array)
        return "array.npy", buffer.getvalue()
    if kind == "npy-header":
        shape = draw(st.sampled_from([(10**12,), (10**6, 10**6), (3,), (-1,), (2, 2)]))
        descr = draw(st.sampled_from(["<f8", "|O", "<c16", "<U3", "|b1", "<f2", "garbage"]))
        try:
            head = _npy_header(shape, descr)
        except (ValueError, TypeError):
            head = b"\x93NUMPY\x01\x00\x10\x00{'descr': <<<}\n"
        return "header.npy", head + draw(st.binary(max_size=64))
    if kind == "npy-text":
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(draw(st.lists(st.text(_ALPHABET, max_size=4), max_size=5))))
        return "text.npy", buffer.getvalue()
    if kind == "dir":
        return f"folder{suffix}", "dir"
    return f"zero{suffix}", ("link", draw(st.sampled_from(["/dev/zero", "/dev/null"])))


def make_files(root: Path, specs: list[tuple[str, Any]]) -> list[str]:
    paths = []
    for i, (name, content) in enumerate(specs):
        path = root / f"{i}-{name}"
        if content == "dir":
            path.mkdir()
        elif isinstance(content, tuple):
            os.symlink(content[1], path)
        else:
            path.write_bytes(content)
        paths.append(str(path))
    return paths


# --- options -----------------------------------------------------------------------------

BASES = st.sampled_from(
    [
        *("e", "2", "10", "bits", "nats", "bans", "shannons", "1", "0", "-2", "1/2", "nan"),
        *("inf", "1e400", "3", "1.0000001", "[bold]", "", "hartley", "2.718281828459045"),
    ]
)
OPTION_VALUES = st.one_of(
    st.text(_ALPHABET, max_size=8),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["0", "1", "-1", "2", "17", "18", "nan", "inf", "-0"]),
)


@st.composite
def options(draw: Any, command: str) -> list[str]:
    out: list[str] = []
    if draw(st.booleans()):
        out += ["--base", draw(BASES | OPTION_VALUES) if draw(st.booleans()) else "bits"]
    if command in MEASURES and draw(st.integers(0, 3)) == 1:
        out += ["--axis", draw(st.sampled_from(["0", "1", "-1", "2", "x"]) | OPTION_VALUES)]
    flags = ["--logits", "--json", "--json"]
    if command != "bce":
        flags.append("--normalize")
    if command in ("cross-entropy", "kl", "js", "explain"):
        flags.append("--q-logits")
    out += draw(st.lists(st.sampled_from(flags), max_size=2, unique=True))
    if command in (*MEASURES, "bce", "explain") and draw(st.integers(0, 3)) == 1:
        out += ["--precision", draw(st.sampled_from(["1", "6", "17", "0", "18"]))]
    if command == "explain" and draw(st.integers(0, 2)) == 2:
        out += ["--outcomes", draw(st.text(_ALPHABET, max_size=12) | st.just("[/],b,:smile:"))]
    if draw(st.integers(0, 9)) == 4:  # an option that does not exist, or a missing value
        out += draw(st.sampled_from([["--bse", "2"], ["--frobnicate"], ["--base"], ["-z"]]))
    return out


def estimate_options(draw: Any) -> list[str]:
    out = ["--seed", draw(st.sampled_from(["0", "1", "-1", str(2**70)]))]
    if draw(st.booleans()):
        methods = ["auto", "knn", "plugin", "quad", "mc", "exact", "fast"]
        out += ["--method", draw(st.sampled_from(methods))]
    if draw(st.integers(0, 3)) == 1:
        out += ["--k", draw(st.sampled_from(["1", "3", "1000000", "0"]))]
    if draw(st.integers(0, 3)) == 1:
        out += ["--smoothing", draw(st.sampled_from(["0", "0.5", "1", "inf", "nan", "-1"]))]
    return out


# --- the properties ------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_hostile_inline_text_is_a_result_or_one_clean_line(data):
    command = data.draw(st.sampled_from([*MEASURES, "bce", "explain"]))
    count = 2 if command in TWO_SIDED else 1
    if data.draw(st.booleans()):  # a valid case, perhaps with one argument made hostile
        k = data.draw(st.integers(1, 8))
        args = [data.draw(probabilities(k)) for _ in range(count)]
        if data.draw(st.booleans()):
            args[data.draw(st.integers(0, count - 1))] = data.draw(HOSTILE_TEXT)
    else:
        args = data.draw(st.lists(HOSTILE_TEXT, min_size=count, max_size=count))
    argv = [command, *args, *data.draw(options(command))]
    stdin = data.draw(number_lists()) if "-" in args else ""
    check("inline text", argv, stdin)


@SETTINGS
@given(data=st.data())
def test_hostile_files_are_a_result_or_one_clean_line(data):
    command = data.draw(st.sampled_from([*MEASURES, "bce", "explain"]))
    count = 2 if command in TWO_SIDED else 1
    specs = data.draw(st.lists(file_specs(), min_size=1, max_size=count))
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_files(Path(tmp), specs)
        args = [p + data.draw(st.sampled_from(["", "", "", ":p", ":", ":a"])) for p in paths]
        args += [data.draw(probabilities()) for _ in range(count - len(args))]
        sampling = command in MEASURES and data.draw(st.integers(0, 3)) == 1
        samples = ["--samples", *estimate_options(data.draw)] if sampling else []
        check("files", [command, *args, *data.draw(options(command)), *samples])


@SETTINGS
@given(data=st.data())
def test_distributions_as_text_are_a_result_or_one_clean_line(data):
    command = data.draw(st.sampled_from(MEASURES))
    count = 1 if command == "entropy" else 2
    args = data.draw(distribution_pairs(count))
    opts = data.draw(st.lists(st.sampled_from(["--json"]), max_size=1))
    if data.draw(st.booleans()):
        opts += ["--base", data.draw(BASES)]
    check("distributions", [command, *args, *opts, *estimate_options(data.draw)])


@SETTINGS
@given(data=st.data())
def test_samples_are_a_result_or_one_clean_line(data):
    command = data.draw(st.sampled_from(MEASURES))
    count = 1 if command == "entropy" else 2
    draws = st.one_of(
        st.lists(NUMBERS, min_size=0, max_size=40).map(lambda xs: ",".join(map(repr, xs))),
        st.lists(st.integers(-3, 3), min_size=1, max_size=40).map(
            lambda xs: ",".join(map(str, xs))
        ),
        st.lists(st.text(_ALPHABET, min_size=1, max_size=3), min_size=1, max_size=20).map(",".join),
        st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=200).map(
            lambda xs: ",".join(map(repr, xs))
        ),
        HOSTILE_TEXT,
    )
    args = data.draw(st.lists(draws, min_size=count, max_size=count))
    argv = [command, "--samples", *args, *estimate_options(data.draw)]
    if data.draw(st.booleans()):
        argv += ["--json"]
    stdin = data.draw(number_lists()) if "-" in args else ""
    check("samples", argv, stdin)


@SETTINGS
@given(data=st.data())
def test_hostile_options_are_a_result_or_one_clean_line(data):
    command = data.draw(st.sampled_from([*MEASURES, "bce", "explain", "plot", "demo", "nope"]))
    args = {
        "entropy": [data.draw(probabilities())],
        "bce": ["1,0,1", "0.9,0.2,0.6"],
        "demo": [],
        "nope": [],
    }.get(command, [data.draw(probabilities(3)), data.draw(probabilities(3))])
    opts = data.draw(options(command)) if command not in ("plot", "demo") else []
    with tempfile.TemporaryDirectory() as tmp:
        if command in ("plot", "demo"):
            name = data.draw(
                st.sampled_from(["p.png", "p.svg", "p.gif", "missing/p.png", "x" * 300 + ".png"])
                | st.text(_ALPHABET.replace("\x00", ""), max_size=8).map(lambda s: s + ".png")
            )
            if command == "plot" and data.draw(st.integers(0, 2)) == 2:
                opts += ["--outcomes", data.draw(st.sampled_from(["[/],b,c", "$x^,b,c", "a,,c"]))]
            if data.draw(st.booleans()):
                opts += ["--base", data.draw(BASES)]
            opts += ["-o", str(Path(tmp) / name)]
        order = data.draw(st.permutations([*args, *opts])) if data.draw(st.booleans()) else None
        check("options", [command, *(order if order is not None else [*args, *opts])])


# --- targeted hostile inputs, the real console script -----------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["kl", "1e308,1e308", "0.5,0.5"],
        ["kl", "normal(0, 1e-320)", "normal(0, 1)"],
        ["entropy", "expon(loc=1e308)"],
        ["kl", "normal(0,1)(5)", "normal(0, 1)"],
        ["kl", "normal(**{'loc': 5})", "normal(0, 1)"],
        ["entropy", ",".join(["0.01"] * 100)],
        ["entropy", "binom(10000000000, 0.5)"],
        ["explain", "0.5,0.5", "0.5,0.5", "--outcomes", "[/],b"],
        ["kl", "0.5,0.5", "0.5,0.5", "--base", "1/2"],
    ],
)
def test_the_console_script_gives_a_result_or_one_line(argv):
    result = subprocess.run(
        [str(KLKIT), *argv], capture_output=True, text=True, check=False, timeout=120
    )
    run = Run(tuple(argv), result.returncode, result.stdout, result.stderr, ())
    verdict = outcome(run)
    assert not verdict.startswith("failure"), f"{verdict}\n{run.describe()}"
    assert "Warning" not in result.stderr


def test_the_console_script_refuses_hostile_files_in_one_line(tmp_path):
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe0.5\n")
    (tmp_path / "huge.npy").write_bytes(_npy_header((10**12,)) + b"\0" * 8)
    (tmp_path / "deep.json").write_text("[" * 100_000)
    for name in ("zero.txt", "bad.csv", "huge.npy", "deep.json"):
        result = subprocess.run(
            [str(KLKIT), "entropy", name],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            cwd=tmp_path,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"klkit entropy: error: P: '{name}'")
        assert result.stderr.count("\n") == 1
