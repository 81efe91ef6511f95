"""The Typer app, its commands' error handling and exit codes, and the entry point.

User mistakes print one line to stderr and exit with status 2; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from importlib.metadata import version
from typing import Annotated, Any, ParamSpec

import typer

from klkit._core._errors import DistributionError, Spelling
from klkit.cli._options import unknown_option
from klkit.cli._values import InputError, UserError, quote

USER_ERROR = 2
"""Exit status for bad input: a malformed number, a missing file, an invalid distribution."""

app = typer.Typer(
    name="klkit",
    help=(
        "Entropy, cross-entropy, KL and Jensen-Shannon divergence from the shell. "
        "P is the target (y_true), Q the prediction (y_pred). Distributions are given "
        "inline (0.2,0.8 or 1/6,5/6), as files (.csv[:column], .npy, .json, .txt) or "
        "as - for standard input. Outcomes that both sides name (CSV text column or "
        "header, JSON keys) are matched by name.\n\n"
        "Limits, raised with environment variables: KLKIT_MAX_BYTES (256M: the largest "
        "file or standard input read), KLKIT_MAX_VALUES (10000000 values in one "
        "argument), KLKIT_MAX_SUPPORT (10000000 points summed for a discrete "
        "distribution)."
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion, Typer's own
    pretty_exceptions_enable=False,
)

_P = ParamSpec("_P")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"klkit {version('klkit')}")
        raise typer.Exit


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print klkit's version and exit.",
        ),
    ] = False,
) -> None:
    pass  # the commands do the work; this holds the app-wide --version


_ARGUMENTS = {"p": "P", "q": "Q", "y": "Y", "y_hat": "Y_HAT", "outcomes": "--outcomes"}
CLI = Spelling(
    argument=lambda name: _ARGUMENTS.get(name, name),
    options={
        "normalize": "--normalize",
        "logits": "--logits",
        "logprobs": "--logits too",
        "reindex": ' (a row name,0 in a CSV file, "name": 0 in a JSON object), or give one '
        "side without names to match by position",
        "rows": "distributions",
    },
    along=False,
)
"""The command line's words for a :class:`DistributionError`: P and Q, flags, no axis."""


def fail(command: str, message: str, status: int = USER_ERROR) -> typer.Exit:
    """Print ``klkit COMMAND: error: MESSAGE`` on one line; return the exit to raise."""
    typer.echo(f"klkit {command}: error: {' '.join(message.split())}", err=True)
    return typer.Exit(status)


def command(
    name: str, *, examples: list[str], **settings: Any
) -> Callable[[Callable[_P, None]], Callable[_P, None]]:
    """Register a command whose user errors print one line and exit with status 2."""
    epilog = "Examples:\n\n" + "\n\n".join(f"  {e}" for e in examples)

    def register(fn: Callable[_P, None]) -> Callable[_P, None]:
        @functools.wraps(fn)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> None:
            try:
                fn(*args, **kwargs)
            except typer.Exit:
                raise
            except Exception as e:
                if kwargs.get("debug"):
                    raise
                if isinstance(e, UserError | InputError):
                    raise fail(name, str(e)) from None
                if isinstance(e, DistributionError):
                    raise fail(name, e.render(CLI)) from None
                if isinstance(e, ModuleNotFoundError) and "klkit[" in str(e):
                    raise fail(name, str(e), status=1) from None
                if isinstance(e, MemoryError):
                    raise fail(name, _out_of_memory(e)) from None
                raise fail(
                    name,
                    f"internal error ({type(e).__name__}: {e}); please report it, with the "
                    "output of the same command run with --debug",
                    status=1,
                ) from None

        app.command(name, epilog=epilog, context_settings=settings)(run)
        return run

    return register


def _out_of_memory(e: MemoryError) -> str:
    detail = f" ({quote(str(e), 100)})" if str(e) else ""
    return (
        f"out of memory{detail}: these inputs need more memory than this machine has; "
        "give fewer outcomes, smaller batches or a distribution with a smaller support."
    )


def main(argv: list[str] | None = None) -> None:
    """Run the command line; usage errors also print one line and exit with status 2."""
    args = sys.argv[1:] if argv is None else argv
    group = typer.main.get_command(app)
    try:
        status = group.main(args=args, prog_name="klkit", standalone_mode=False)
    except typer.Abort:
        typer.echo("klkit: interrupted", err=True)
        sys.exit(130)
    except typer.TyperException as e:  # Typer's usage errors: missing or bad arguments
        ctx = getattr(e, "ctx", None)
        path = ctx.command_path if ctx else "klkit"
        param = getattr(e, "param", None)
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        if param is not None and param.param_type_name == "argument" and "issing" in message:
            message = f"the argument {param.name.upper()} is missing"
        elif param is not None and param.opts and param.opts[0] not in message:
            message = f"{param.opts[0]}: {message}"
        known = getattr(group, "commands", {})
        if path == "klkit" and args and args[0] in known:  # failed before the command ran
            path = f"klkit {args[0]}"
        stray = None
        if "requires an argument" not in message:
            stray = next((m for a in args if (m := unknown_option(a, ctx))), None)
        if not message.strip():
            message = "give a command, e.g. 'klkit demo'"
        message = stray or f"{message.rstrip('.')}; run '{path} --help' for usage."
        typer.echo(f"{path}: error: {' '.join(message.split())}", err=True)
        sys.exit(getattr(e, "exit_code", USER_ERROR))
    sys.exit(status if isinstance(status, int) else 0)
