"""The built site in a real browser: headless Chromium opens the home page and the tutorial.

For each language (English and Korean), Chromium loads the page from the session's
build (the ``site`` fixture of conftest.py) and

* its DOM, as the browser holds it after loading (``--dump-dom``), has the page's title,
  its language, and the die: the home page's example with its printed output, the
  tutorial's table of the fair die against the loaded die, with the numbers computed
  here from the closed forms;
* its screenshot is not blank: many colours, and dark pixels where the text is;
* Hangul is drawn with glyphs, not as the empty boxes of a missing font.

Chromium is Debian's ``chromium`` package and the Korean glyphs come from
``fonts-nanum``; scripts/test.sh installs both. Without them these tests fail and say
how to install them: nothing here is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
INSTALL = (
    "install Debian's Chromium and a Korean font: "
    "`apt-get install --no-install-recommends chromium fonts-nanum` (scripts/test.sh does)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",  # as root (CI), Chromium does not start inside its sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Chromium's own background connections (updates, sync) are refused on CI machines
    # and hold the page up; none of them has anything to do with the site
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 120  # seconds for one Chromium run; a page takes about one
WINDOW = (1280, 2000)
PAGES = [(lang, name) for lang in ("en", "ko") for name in ("index", "tutorial")]
FAIR_DIE = {"en": "fair die", "ko": "공정한 주사위"}  # the first row of the tutorial's table


def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium with a new, empty profile; its standard output."""
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail(f"no `chromium` on PATH: the browser tests need it; {INSTALL}")
    cmd = [exe, *FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr[-4000:]}"
    return result.stdout


class Dom(HTMLParser):
    """What the tests read from a page: title, language, headings, tables, <pre> blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.lang: str | None = None
        self.headings: list[str] = []
        self.tables: list[list[list[str]]] = []  # table, row, cell
        self.pres: list[str] = []
        self.maths = 0  # formulas MathJax has typeset
        self.raw_tex = False  # a formula left as LaTeX source (MathJax did not run)
        self._open: list[str] = []  # the elements whose text is being collected
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mjx-container":
            self.maths += 1
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        elif tag == "a" and ("class", "headerlink") in attrs:
            self._open.append("headerlink")  # the "#" anchor after each heading's text
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        if tag in ("title", "h1", "h2", "h3", "th", "td", "pre"):
            self._open.append(tag)
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open[-1:] == ["headerlink"]:
            self._open.pop()
        if not self._open or self._open[-1] != tag:
            return
        self._open.pop()
        text = " ".join("".join(self._text).split())
        if tag == "title":
            self.title = text
        elif tag in ("h1", "h2", "h3"):
            self.headings.append(text)
        elif tag in ("th", "td"):
            self.tables[-1][-1].append(text)
        else:
            self.pres.append("".join(self._text))

    def handle_data(self, data: str) -> None:
        if "\\sum" in data and "pre" not in self._open:
            self.raw_tex = True
        if self._open and self._open[-1] != "headerlink":
            self._text.append(data)


def dom(site: Path, profile: Path, lang: str, name: str) -> Dom:
    parsed = Dom()
    uri = (site / lang / f"{name}.html").as_uri()
    # time for MathJax (shipped with the site, no network) to typeset before the dump
    parsed.feed(chromium(profile, "--virtual-time-budget=10000", "--dump-dom", uri))
    parsed.close()
    return parsed


def die_table_numbers() -> list[str]:
    """The tutorial table's last column, from the closed forms (bits per roll)."""
    fair, loaded = np.full(6, 1 / 6), np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
    h_fair = np.log2(6)
    cross = -np.sum(fair * np.log2(loaded))
    h_loaded = -np.sum(loaded * np.log2(loaded))
    return [f"{x:.3f}" for x in (h_fair, cross, cross - h_fair, h_loaded)] + ["0"]


@pytest.mark.parametrize(("lang", "name"), PAGES, ids=[f"{lang}/{name}" for lang, name in PAGES])
def test_page_dom(site: Path, tmp_path: Path, lang: str, name: str) -> None:
    page = dom(site, tmp_path, lang, name)
    source = (DOCS / lang / f"{name}.md").read_text(encoding="utf-8")
    heading = source.splitlines()[0].removeprefix("# ")
    assert page.title == f"{heading} — klkit", f"{lang}/{name}: title {page.title!r}"
    assert page.lang == lang
    assert page.headings[0] == heading
    if name == "index":
        # the die example: its code and the output it prints
        assert any("kl.kl_divergence(fair, loaded, base=2)" in pre for pre in page.pres)
        numbers = die_table_numbers()
        output = f"H(P) = {numbers[0]}, H(P,Q) = {numbers[1]}, D(P||Q) = {numbers[2]} bits"
        assert any(output in pre for pre in page.pres), f"{lang}/index lacks {output!r}"
        return
    # the formulas are typeset offline: MathJax ships with the site (no CDN)
    formulas = source.count("$$") // 2  # the page's display maths
    assert formulas >= 4
    assert page.maths >= formulas, f"{lang}/tutorial: {page.maths} of {formulas} typeset"
    assert not page.raw_tex, f"{lang}/tutorial shows raw LaTeX"
    die = [t for t in page.tables if any(FAIR_DIE[lang] in cell for row in t for cell in row)]
    assert len(die) == 1, f"{lang}/tutorial: no table of the {FAIR_DIE[lang]}: {page.tables}"
    rows = die[0]
    assert [len(row) for row in rows] == [2] * 6, rows
    assert [row[1] for row in rows[1:]] == die_table_numbers(), rows


@pytest.mark.parametrize(("lang", "name"), PAGES, ids=[f"{lang}/{name}" for lang, name in PAGES])
def test_page_screenshot_is_not_blank(site: Path, tmp_path: Path, lang: str, name: str) -> None:
    png = tmp_path / "page.png"
    url = (site / lang / f"{name}.html").as_uri()
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    chromium(tmp_path / "profile", size, f"--screenshot={png}", url)
    rgb = np.round(matplotlib.image.imread(png)[..., :3] * 255).astype(np.uint8)
    assert rgb.shape == (WINDOW[1], WINDOW[0], 3)
    colours = len(np.unique(rgb.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], np.uint32)))
    luminance = rgb @ np.array([0.299, 0.587, 0.114]) / 255
    dark = float(np.mean(luminance < 0.3))
    # a rendered page has thousands of colours (anti-aliased text, code highlighting)
    # and about 1 % of dark text pixels; a blank one has one colour and none
    assert colours > 256, f"{lang}/{name}: the screenshot has only {colours} colours"
    assert luminance.std() > 0.05, f"{lang}/{name}: the screenshot is almost uniform"
    assert dark > 0.002, f"{lang}/{name}: only {dark:.2%} of the screenshot is dark text"


PROBE = """<!doctype html><html><head><meta charset="utf-8"><title>-</title></head><body>
<canvas id="c" width="120" height="80"></canvas><script>
const ctx = document.getElementById("c").getContext("2d");
ctx.font = "48px sans-serif";
function draw(s) {
  ctx.clearRect(0, 0, 120, 80);
  ctx.fillText(s, 10, 60);
  return ctx.getImageData(0, 0, 120, 80).data.join();
}
document.title = draw("한") === draw("국") ? "boxes" : "glyphs";
</script></body></html>
"""


def test_hangul_is_drawn_with_glyphs(tmp_path: Path) -> None:
    # Without a Korean font, Chromium draws every Hangul syllable as the same empty box
    # and the Korean pages are unreadable, yet their DOM and screenshots pass the tests
    # above; two different syllables drawing the same pixels is that failure.
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE, encoding="utf-8")
    page = Dom()
    page.feed(chromium(tmp_path / "profile", "--dump-dom", probe.as_uri()))
    assert page.title == "glyphs", f"Hangul is drawn as empty boxes (no font); {INSTALL}"
