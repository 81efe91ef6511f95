"""Hostile input: one clear line and status 2, never a hang or a crash."""

from __future__ import annotations

import io
import json
import math
import os
import stat
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_support import FAIR, LOADED, as_json, fails, ok, run, shell

import klkit as kl
import klkit.cli._read

# --- hostile input: one clear line, status 2 (item 3) -----------------------------------


def test_an_inline_argument_too_long_for_a_file_name_is_read_as_numbers():
    values = ",".join(["0.01"] * 100)  # 499 bytes: os.stat says "File name too long"
    assert len(values) > 255
    assert as_json("entropy", values)["entropy"] == pytest.approx(math.log(100), rel=1e-13)
    assert "P: item 101 of '0.01,0.01" in fails("entropy", values + ",x")


def test_inline_parsing_is_linear_in_the_number_of_items():
    from klkit.cli._read import read_argument

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
