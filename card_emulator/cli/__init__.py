"""The `mynacard` command: parse, call the library, print. Mistakes get one line and exit code 2."""

from __future__ import annotations

import sys

import typer

from card_emulator.cli import card_cmds as card_cmds
from card_emulator.cli.app import app
from card_emulator.errors import EmulatorError

for _module in (
    "logopts",
    "serve_cmd",
    "ctl_cmds",
    "teach_cmds",
    "trace_cmds",
    "face_cmd",
):  # registered by their own modules
    try:
        __import__(f"card_emulator.cli.{_module}")
    except ModuleNotFoundError as _missing:
        if _missing.name != f"card_emulator.cli.{_module}":
            raise


def main(argv: list[str] | None = None) -> None:
    from card_emulator.cli.logopts import hoist

    args = hoist(list(sys.argv[1:] if argv is None else argv))  # -v/--log-level after a command too
    try:
        # Without standalone mode typer returns the code of a `typer.Exit` instead of raising it.
        code = app(args=args, prog_name="mynacard", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("mynacard: aborted", err=True)
        sys.exit(1)
    except typer.TyperException as mistake:  # usage errors: typer prints them with a hint
        show = getattr(mistake, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"mynacard: {mistake.format_message()}", err=True)
        sys.exit(mistake.exit_code)
    except (EmulatorError, ValueError, OSError) as error:
        typer.echo(f"mynacard: {error}", err=True)
        sys.exit(2)


__all__ = ["app", "main"]
