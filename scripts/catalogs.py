"""Compile klkit's translations: ``locale/<lang>/LC_MESSAGES/klkit.po`` to ``klkit.mo``.

The ``.mo`` files are committed and shipped in the wheel (the standard library's
:mod:`gettext` reads them); run this after editing a ``.po`` file::

    python scripts/catalogs.py

It needs Babel (in the ``test`` extra). ``tests/api/test_explain_i18n.py`` checks that
every ``.mo`` holds its ``.po``'s translations and that the ``.po`` has every sentence
of the code, all translated.
"""

from __future__ import annotations

import pathlib

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = pathlib.Path(__file__).resolve().parents[1] / "src" / "klkit" / "locale"


def main() -> None:
    """Write ``klkit.mo`` next to every ``klkit.po`` under ``src/klkit/locale``."""
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/klkit.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parts[-3])
        with po.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


if __name__ == "__main__":
    main()
