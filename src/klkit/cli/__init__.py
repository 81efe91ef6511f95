"""klkit's command line: ``klkit entropy | cross-entropy | kl | js | bce | explain | plot | demo``.

A Typer app: it reads arguments (:mod:`._read`, :mod:`._text`), calls the public API
and renders the results with Rich (:mod:`._render`). ``import klkit`` never imports
it. User mistakes print one line to stderr and exit with status 2; ``--debug`` shows
the traceback instead (:mod:`._app`).
"""

from klkit.cli import _commands, _explain, _picture  # noqa: F401  (each registers its commands)
from klkit.cli._app import app, main

__all__ = ["app", "main"]
