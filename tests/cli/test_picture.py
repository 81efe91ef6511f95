"""klkit plot and klkit demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import FAIR, LOADED, ok

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
