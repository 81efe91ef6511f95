"""The README's Tour runs as written (it once used names it never defined)."""

from __future__ import annotations

from pathlib import Path


def test_readme_tour_runs_as_written(capsys):
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    tour = readme[readme.index("## Tour") :]
    block = tour[tour.index("```python") + len("```python") : tour.index("```\n", 10)]
    exec(compile(block, "README.md (Tour)", "exec"), {})
    assert "H(P,Q) = H(P) + D(P||Q)" in capsys.readouterr().out
