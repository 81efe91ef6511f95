"""The languages of klkit's sentences: explain's summary and table, and the demo's words.

Sentences are English in the code and translated by the standard library's
:mod:`gettext` from the catalogs shipped in ``klkit/locale`` (domain ``klkit``:
``locale/ko/LC_MESSAGES/klkit.po`` and its compiled ``klkit.mo``). Numbers, formulas
and the names of outcomes are never translated. The Python API speaks English unless
``lang`` says otherwise; only the command line reads the environment
(:func:`language_from_environment`), as command-line programs do.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from klkit._numerics import unit_name

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "check_lang",
    "language_from_environment",
    "ntr",
    "tr",
    "translations",
    "unit_words",
]

LANGUAGES = ("en", "ko")
"""The languages klkit's sentences come in: English (the code's own) and Korean."""

DOMAIN = "klkit"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
"""``klkit/locale``: ``<lang>/LC_MESSAGES/klkit.mo`` for each language but English."""

ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
"""The variables that name the language of messages, first one set wins (as gettext's)."""


def check_lang(lang: object, *, name: str = "lang") -> str:
    """Return ``lang`` if klkit speaks it; else a ValueError naming ``name`` and the choices."""
    if isinstance(lang, str) and lang in LANGUAGES:
        return lang
    choices = ", ".join(repr(code) for code in LANGUAGES)
    msg = (
        f"`{name}` is {lang!r}, not a language klkit's sentences come in; use one of "
        f"{choices} (English or Korean)."
    )
    raise ValueError(msg)


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """Return the catalog of ``lang`` (for English none: the code's own words)."""
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def tr(lang: str, message: str, /, **values: Any) -> str:
    """Translate ``message`` into ``lang``, then fill in its ``{name}`` fields."""
    return translations(lang).gettext(message).format(**values)


def ntr(lang: str, singular: str, plural: str, n: int, /, **values: Any) -> str:
    """Translate a sentence whose words depend on a count ``n``, then fill it in."""
    return translations(lang).ngettext(singular, plural, n).format(**values)


def language_from_environment(environ: Mapping[str, str]) -> str:
    """Read the language the way gettext does: LANGUAGE, LC_ALL, LC_MESSAGES, LANG.

    The first variable that is set decides; LANGUAGE may list several (``fr:ko``), and
    the first klkit speaks is taken. ``ko_KR.UTF-8`` is Korean; ``C``, ``POSIX`` and
    languages klkit does not speak are English.
    """
    for variable in ENVIRONMENT:
        value = environ.get(variable, "")
        if value:
            for entry in value.split(":"):
                code = entry.split(".")[0].split("@")[0].split("_")[0].lower()
                if code in LANGUAGES:
                    return code
            return "en"
    return "en"


def unit_words(base: float | None, lang: str) -> str:
    """Name the unit of ``base`` in ``lang``: nats, bits, bans or log-base-b units."""
    english = unit_name(base)
    named = {"nats": tr(lang, "nats"), "bits": tr(lang, "bits"), "bans": tr(lang, "bans")}
    if english in named:
        return named[english]
    return tr(lang, "log-base-{base} units", base=format(base, "g"))
