"""The documentation site: its code runs, Korean mirrors English, and it builds cleanly.

* every ```python block of every page (English and Korean) runs as written, in order
  within its page, in one namespace per page;
* every English page has a Korean page of the same name with identical code blocks
  (the API reference excepted: it is English only), and the Korean prose is Korean;
* ``sphinx-build -W --keep-going -b html`` succeeds: no warning, and with ``nitpicky``
  every internal reference (MyST links between pages, roles in docstrings) resolves
  (the build is the session fixture ``site`` of conftest.py, shared with
  test_browser.py).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from backends import Backend, requires

DOCS = Path(__file__).resolve().parents[2] / "docs"
ENGLISH_ONLY = {"api.md"}  # the API reference is generated from the English docstrings
FENCE = re.compile(r"^```python\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
ANY_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.DOTALL | re.MULTILINE)
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN = re.compile(r"[A-Za-z]")
BACKEND_IMPORTS = {  # a page whose code imports one needs that backend (tests/backends.py)
    Backend.TORCH: re.compile(r"^import torch\b", re.MULTILINE),
    Backend.JAX: re.compile(r"^import jax\b", re.MULTILINE),
    Backend.DASK: re.compile(r"^import dask\b", re.MULTILINE),
}


def pages(lang: str) -> list[Path]:
    return sorted((DOCS / lang).glob("*.md"))


def code_blocks(page: Path) -> list[tuple[int, str]]:
    """The python blocks of a page with the line each starts on (for tracebacks)."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)), m.group(1)) for m in FENCE.finditer(text)]


ALL_PAGES = [DOCS / "index.md", *pages("en"), *pages("ko")]


@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_code_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = code_blocks(page)
    for backend, imports in BACKEND_IMPORTS.items():
        if any(imports.search(code) for _, code in blocks):
            requires(backend)  # skipped locally when missing, a failure in CI
    monkeypatch.chdir(tmp_path)  # a block that writes a file writes it here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for first_line, code in blocks:
        # padded so that a traceback names the line of the page itself
        exec(compile("\n" * first_line + code, str(page), "exec"), namespace)


def test_pages_exist() -> None:
    english = {p.name for p in pages("en")}
    assert {"index.md", "tutorial.md", "howto.md", "guarantees.md", "migrating.md"} <= english
    assert {"api.md", "glossary.md", "performance.md"} <= english


@pytest.mark.parametrize("page", pages("en"), ids=lambda p: p.name)
def test_korean_page_mirrors_english(page: Path) -> None:
    korean = DOCS / "ko" / page.name
    if page.name in ENGLISH_ONLY:
        assert not korean.exists(), f"{korean} exists, but {page.name} is English only"
        return
    assert korean.exists(), f"{page.name} has no Korean page {korean}"
    en_code = [code for _, code in code_blocks(page)]
    ko_code = [code for _, code in code_blocks(korean)]
    assert en_code == ko_code, f"the python blocks of en/{page.name} and ko/{page.name} differ"


@pytest.mark.parametrize("page", pages("ko"), ids=lambda p: p.name)
def test_korean_page_is_korean(page: Path) -> None:
    assert (DOCS / "en" / page.name).exists(), f"ko/{page.name} has no English page"
    prose = ANY_FENCE.sub("", page.read_text(encoding="utf-8"))
    prose = re.sub(r"`[^`\n]*`|\$[^$\n]*\$|\]\([^)]*\)", "", prose)  # code, maths, link targets
    hangul, latin = len(HANGUL.findall(prose)), len(LATIN.findall(prose))
    assert hangul > latin, f"ko/{page.name}: {hangul} Hangul letters against {latin} Latin ones"


def test_site_builds_without_warnings(site: Path) -> None:
    # the `site` fixture (conftest.py) builds with -W: a warning fails it there
    for page in ALL_PAGES:
        built = site / page.relative_to(DOCS).with_suffix(".html")
        assert built.exists(), f"{built} was not built"
    tutorial = (site / "en" / "tutorial.html").read_text(encoding="utf-8")
    assert "2.585" in tutorial
    assert 'lang="ko"' in (site / "ko" / "tutorial.html").read_text(encoding="utf-8")
    assert 'href="../ko/tutorial.html"' in tutorial  # the language switch

    import klkit
    import klkit.estimate

    api = (site / "en" / "api.html").read_text(encoding="utf-8")
    names = [f"klkit.{n}" for n in klkit.__all__]
    names += [f"klkit.estimate.{n}" for n in klkit.estimate.__all__]
    missing = [n for n in names if f'id="{n}"' not in api]
    assert not missing, f"the API reference lacks {missing}"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_pictures_are_drawn_at_build_time(site: Path, lang: str) -> None:
    """The tutorial's pictures come from examples/pictures, drawn by the build."""
    import matplotlib.image

    tutorial = (site / lang / "tutorial.html").read_text(encoding="utf-8")
    for script in sorted((DOCS.parent / "examples" / "pictures").glob("*.py")):
        src = f"../_images/{script.stem}.png"
        assert f'src="{src}"' in tutorial, f"{lang}/tutorial lacks {script.name}'s picture"
        pixels = matplotlib.image.imread(site / "_images" / f"{script.stem}.png")
        assert pixels.shape[0] > 300
        assert pixels.shape[1] > 500
        assert pixels[..., :3].std() > 0.05  # drawn, not blank


def test_performance_page_includes_the_benchmark_table(site: Path) -> None:
    """The performance page shows the checked-in benchmark output, as written."""
    table = (DOCS / "performance.txt").read_text(encoding="utf-8").splitlines()
    lines = [html.escape(line, quote=False) for line in table if line.strip()]
    assert len(lines) > 50  # the whole benchmark, not a stub
    for lang in ("en", "ko"):
        page = (site / lang / "performance.html").read_text(encoding="utf-8")
        missing = [line for line in lines if line not in page]
        assert not missing, f"{lang}/performance.html lacks {missing[:3]}"


def _changelog_outline(text: str) -> list[tuple[str, int]]:
    """Each version heading, and each section's number of entries, in order."""
    outline: list[tuple[str, int]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            outline.append((line, 0))
        elif line.startswith("### "):
            outline.append(("###", 0))
        elif line.startswith("- ") and outline:
            outline[-1] = (outline[-1][0], outline[-1][1] + 1)
    return outline


def test_korean_changelog_translates_every_entry(site: Path) -> None:
    """ko/changelog.md is a translation: the same versions, sections and entries."""
    english = (DOCS.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    korean = (DOCS / "ko" / "changelog.md").read_text(encoding="utf-8")
    assert _changelog_outline(korean) == _changelog_outline(english)
    page = (site / "en" / "changelog.html").read_text(encoding="utf-8")
    assert "0.1.0" in page  # the English page includes CHANGELOG.md itself
    assert "Keep a Changelog" in page
