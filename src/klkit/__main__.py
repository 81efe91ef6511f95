"""``python -m klkit`` and the ``klkit`` command (the command line needs the ``cli`` extra)."""

import sys


def main() -> None:
    """Run klkit's command line, or say in one line which extra to install."""
    try:
        from klkit import cli  # noqa: PLC0415  (typer and rich load only for the CLI)
    except ModuleNotFoundError as e:
        if e.name not in {"typer", "rich", "click"}:
            raise
        sys.stderr.write(
            f"klkit: the command line needs {e.name}; install it with: pip install 'klkit[cli]'\n"
        )
        sys.exit(1)
    cli.main()


if __name__ == "__main__":
    main()
