"""Sphinx configuration for the klkit site: one project, English pages under ``en/``.

Korean pages under ``ko/`` mirror them file for file (the API reference is English only).
Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the checkout's klkit, installed or not

import klkit  # noqa: E402

project = "klkit"
author = "the klkit developers"
copyright = "the klkit developers, MIT licence"
release = version = klkit.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax's files copied into the site, so that maths renders offline too (the
    # default loads MathJax from a CDN: without network every formula is raw LaTeX)
    "sphinx-mathjax-offline",
    # pictures drawn at build time by the scripts in examples/pictures (matplotlib's own
    # directive: the figures can never drift from the code that draws them)
    "matplotlib.sphinxext.plot_directive",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "klkit-demo.png"]
templates_path = ["_templates"]
language = "en"

# Every cross-reference must resolve: a broken link is a build error under -W.
nitpicky = True
# Docstrings name private helpers (``klkit._numerics.max_support``) and the internal
# ``DistributionError.render``, which the reference leaves out on purpose; only those.
nitpick_ignore_regex = [
    (r"py:.*", r"klkit(\.\w+)*\._[a-z]\w*(\.\w+)*"),
    (r"py:meth", r"render"),
]

plot_basedir = str(ROOT / "examples" / "pictures")
plot_formats = [("png", 110)]
plot_html_show_formats = False
plot_html_show_source_link = False
plot_rcparams = {"savefig.bbox": "tight"}

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# The signatures are shown without annotations: the docstrings' numpydoc "Parameters"
# sections give each type in words, which is what a reader needs.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# No network in CI: intersphinx inventories are not fetched.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "pydata_sphinx_theme"
html_title = "klkit"
html_static_path: list[str] = []
html_theme_options = {
    "navbar_end": ["language-switch", "theme-switcher", "navbar-icon-links"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_sidebars = {"index": []}


def _page_context(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give each page its language and the path of the same page in the other one."""
    lang, _, rest = pagename.partition("/")
    if lang not in ("en", "ko"):
        context["klkit_switch"] = None
        return
    other = "ko" if lang == "en" else "en"
    target = f"{other}/{rest}"
    if target not in app.env.found_docs:  # the API reference is English only
        target = f"{other}/index"
    context["language"] = lang  # <html lang=…> of the page
    context["klkit_switch"] = {
        "href": context["pathto"](target),
        "label": "한국어" if other == "ko" else "English",
    }


def _all_when_pages_come_or_go(
    app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Rewrite every page when one is added or removed: its switch may now point elsewhere."""
    return sorted(env.found_docs) if added or removed else []


def setup(app: Any) -> dict[str, Any]:
    """Register the language switch."""
    app.connect("html-page-context", _page_context)
    app.connect("env-get-outdated", _all_when_pages_come_or_go)
    return {"parallel_read_safe": True}
