"""explain's words in Korean, and the gettext catalogs they come from.

The catalog is checked against the code (every sentence extracted by Babel is in the
``.po``, translated, not fuzzy, with the same ``{fields}``) and against itself (the
shipped ``.mo``, read here by its documented binary layout, holds the ``.po``).
"""

from __future__ import annotations

import gettext
import math
import re
import string
import struct
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import klkit as kl
from klkit._api import _i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "klkit"
PO = SRC / "locale" / "ko" / "LC_MESSAGES" / "klkit.po"
MO = PO.with_suffix(".mo")
FAIR = np.full(6, 1 / 6)
LOADED = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])
KEYWORDS = {"tr": (2,), "ntr": (2, 3)}
"""klkit's translating calls, for Babel: tr(lang, message), ntr(lang, one, many, n)."""

# --- the catalog -------------------------------------------------------------------------


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="ko")


def _code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for path in sorted(SRC.rglob("*.py")):
        for _, message, _, _ in extract_from_file("python", str(path), keywords=KEYWORDS):
            found.add(message)
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_catalog_has_every_sentence_of_the_code_and_no_other():
    code = _code_messages()
    assert len(code) >= 25  # the extraction sees the tr/ntr calls at all
    catalog = {m.id for m in _catalog() if m.id}
    assert catalog - code == set(), "in klkit.po but no longer in the code"
    assert code - catalog == set(), "in the code but not in klkit.po: add and translate them"


def test_every_message_is_translated_with_the_same_fields():
    catalog = _catalog()
    assert catalog.plural_forms == "nplurals=1; plural=0;"  # Korean has one form
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (1 if len(ids) == 1 else catalog.num_plurals), message.id
        for text in strings:
            assert text.strip(), f"not translated: {message.id!r}"
            assert _fields(text) == _fields(ids[0]), message.id
            # terms as docs/ko/glossary.md has them: P and Q are never posterior/prior
            assert "사후" not in text
            assert "사전" not in text
            words = re.sub(r"\{\w+\}|float64", "", text)  # fields and float64 stay
            assert not re.search(r"[A-Za-z]{4,}", words), text  # no English left


def _read_mo(data: bytes) -> dict[str, str]:
    """Read a GNU .mo file by its documented layout (magic, count, two offset tables)."""
    magic, revision, count, ids_at, strs_at = struct.unpack("<5I", data[:20])
    assert magic == 0x950412DE
    assert revision == 0

    def text(table: int, i: int) -> str:
        length, offset = struct.unpack("<2I", data[table + 8 * i : table + 8 * i + 8])
        return data[offset : offset + length].decode("utf-8")

    return {text(ids_at, i): text(strs_at, i) for i in range(count)}


def test_the_shipped_mo_holds_exactly_the_po():
    expected = {}
    for message in _catalog():
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            expected["\x00".join(message.id)] = "\x00".join(message.string)
        else:
            expected[message.id] = message.string
    shipped = _read_mo(MO.read_bytes())
    header = shipped.pop("")
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    assert "charset=utf-8" in header.lower()
    assert shipped == expected, "klkit.mo is stale: run python scripts/catalogs.py"


def test_gettext_finds_the_korean_catalog_and_english_needs_none():
    assert isinstance(_i18n.translations("ko"), gettext.GNUTranslations)
    assert not isinstance(_i18n.translations("en"), gettext.GNUTranslations)
    assert _i18n.tr("ko", "outcome") == "결과"
    assert _i18n.tr("en", "outcome") == "outcome"


# --- explain(lang="ko") ----------------------------------------------------------------------


def test_korean_summary_of_the_die():
    b = kl.explain(FAIR, LOADED, base=2, lang="ko")
    text = b.summary()
    each = (1 / 6) * math.log2((1 / 6) / 0.1)  # the definition, computed here
    assert text.startswith(
        f"D(P||Q) = 0.35 비트에 가장 크게 기여하는 것은 결과 1, 2, 3, 4, 5 "
        f"(각각 +{each:.3g} 비트)입니다."
    )
    assert "예측이 과소평가한 결과입니다." in text
    negative = (1 / 6) * math.log2((1 / 6) / 0.5)
    assert f"결과 6에서는 항이 음수이며, 합계는 {negative:.3g} 비트입니다." in text
    assert "D(P||Q)는 0 이상입니다." in text


def test_korean_str_keeps_the_numbers_and_translates_the_words():
    en, ko = kl.explain(FAIR, LOADED, base=2), kl.explain(FAIR, LOADED, base=2, lang="ko")
    for name in ("entropy", "cross_entropy", "kl_divergence", "base"):
        assert getattr(ko, name) == getattr(en, name)
    np.testing.assert_array_equal(ko.kl_terms, en.kl_terms)
    assert ko.unit == "bits"  # the attribute stays a unit's name, for programs
    text = str(ko)
    lines = text.splitlines()
    assert lines[0] == "H(P), H(P,Q), D(P||Q)의 결과별 분해 (단위: 비트)"
    assert lines[1].split() == ["결과", "P", "Q", "-log", "Q", "-P", "log", "Q", "P", "log(P/Q)"]
    assert lines[2].split()[:3] == ["1", "0.166667", "0.1"]
    # the table's columns line up: the wide letters of 결과 take two columns each
    wide = sum(unicodedata.east_asian_width(c) == "W" for c in lines[1])
    assert wide == 2
    assert lines[1].index("P") + wide == lines[2].index("0.166667") + len("0.166667") - 1
    assert "H(P)    = 2.58496 비트  (목표 분포 P의 엔트로피)" in text
    assert "H(P,Q)  = 2.93494 비트  (교차 엔트로피: P를 Q의 부호로 기록하는 비용)" in text
    assert "D(P||Q) = 0.349978 비트  (KL 발산: 마지막 열의 합)" in text
    assert "H(P,Q) = H(P) + D(P||Q):  2.93494 = 2.58496 + 0.349978" in text
    assert " ".join(text.split()).endswith(ko.summary())
    assert "단위: 비트" in ko._repr_html_()
    assert "<th>결과</th>" in ko._repr_html_()


def test_korean_units_and_the_other_summaries():
    assert "단위: 내트" in str(kl.explain(FAIR, LOADED, lang="ko"))
    assert "단위: 반" in str(kl.explain(FAIR, LOADED, base=10, lang="ko"))
    assert "단위: 밑이 3인 로그 단위" in str(kl.explain(FAIR, LOADED, base=3, lang="ko"))
    text = kl.explain([0.5, 0.3, 0.2], [0.5, 0.5, 0.0], lang="ko").summary()
    assert text.startswith(
        "P에 따르면 일어날 수 있는 결과 3 (P = 0.2)에 Q가 확률 0을 주므로 D(P||Q)는 무한대입니다."
    )
    assert "JS 발산" in text
    same = kl.explain(LOADED, LOADED, lang="ko").summary()
    assert same == "P와 Q는 같은 분포입니다. 모든 항이 0이므로 D(P||Q) = 0이고 H(P,Q) = H(P)입니다."
    many = kl.explain(np.full(10, 0.1), np.r_[np.full(9, 0.02), 0.82], lang="ko").summary()
    assert "결과 1, 2, 3, 4, 5, 6, 그 밖의 3개 (각각" in many


def test_english_is_the_default_and_the_environment_does_not_change_it(monkeypatch):
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    monkeypatch.setenv("LANGUAGE", "ko")
    text = kl.explain(FAIR, LOADED, base=2).summary()
    assert text.startswith("The largest contributions to D(P||Q) = 0.35 bits come from")
    assert kl.explain(FAIR, LOADED, lang="en").summary() == kl.explain(FAIR, LOADED).summary()


def test_an_infinite_kl_names_six_culprits_and_counts_the_rest():
    b = kl.explain(np.full(10, 0.1), np.r_[1.0, np.zeros(9)])
    assert "outcomes 2 (where P = 0.1), 3 (where P = 0.1)," in b.summary()
    assert "7 (where P = 0.1) and 3 more, which P says can happen" in b.summary()


@pytest.mark.parametrize("lang", ["fr", "KO", "", None, 1])
def test_an_unknown_language_is_a_value_error_naming_lang(lang):
    with pytest.raises(ValueError, match=r"`lang` is .*; use one of 'en', 'ko'"):
        kl.explain(FAIR, LOADED, lang=lang)


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({}, "en"),
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LANG": "ko"}, "ko"),
        ({"LC_MESSAGES": "ko_KR.eucKR", "LANG": "en_US.UTF-8"}, "ko"),
        ({"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, "en"),  # the first one set decides
        ({"LANGUAGE": "fr:ko", "LANG": "en_US.UTF-8"}, "ko"),  # a list: the first spoken
        ({"LANGUAGE": "de", "LANG": "ko_KR.UTF-8"}, "en"),
        ({"LANGUAGE": "", "LANG": "ko_KR@latin"}, "ko"),  # empty is unset
        ({"LANG": "POSIX"}, "en"),
    ],
)
def test_the_language_of_the_environment(environ, lang):
    assert _i18n.language_from_environment(environ) == lang
