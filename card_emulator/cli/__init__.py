"""The `mynacard` command: parse, call the library, print. Mistakes get one line and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
import typer.main

from card_emulator.cli import card_cmds as card_cmds
from card_emulator.cli.app import HELP_OPTION_NAMES, app
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


def usage_line(mistake: typer.TyperException) -> str:
    """A usage mistake as one line: ``mynacard pin verify: <what> (see 'mynacard pin verify -h')``.

    click would print the usage, a hint and the error on three or four lines; one line is what
    the rest of the CLI answers (DEVELOPERS.md: a CLI mistake is one line and a non-zero exit).
    """
    message = " ".join(mistake.format_message().split())
    ctx = getattr(mistake, "ctx", None)
    if ctx is None:
        return f"mynacard: {message}"
    path = _typed_path(ctx)
    return f"{path}: {message} (see '{path} -h')"


def _typed_path(ctx: Any) -> str:
    """The command as typed, e.g. ``mynacard ctl me.card faults``: click's ``command_path`` puts a
    group's argument metavar there instead (``mynacard ctl {CARD} faults``), not a command one can
    run. Falls back to a metavar-free path when a group's argument has no value yet."""
    chain = []
    node = ctx
    while node is not None:
        chain.append(node)
        node = node.parent
    words: list[str] = []
    for node in reversed(chain):
        words.append(node.info_name or "")
        if node is not ctx:  # a group's own arguments (ctl CARD) come after its name
            for param in node.command.get_params(node):
                value = node.params.get(param.name or "")
                if param.param_type_name == "argument" and value is not None:
                    words.append(str(value))
    return " ".join(word for word in words if word)


def _may_show_help(args: list[str]) -> bool:
    """``-h``/``--help`` given, or nothing but a group's name (``mynacard``, ``mynacard pin``: a
    bare group shows its help)."""
    words = [arg for arg in args if arg[:1] != "-"]
    groups = {group.name for group in app.registered_groups}
    return (
        bool({"-h", "--help"} & set(args)) or not words or (len(words) == 1 and words[0] in groups)
    )


def main(argv: list[str] | None = None) -> None:
    """The ``mynacard`` entry point: exit 0 done, 1 the card or the rules said no, 2 a mistake."""
    from card_emulator.cli.logopts import hoist
    from card_emulator.cli.teach_util import HELP_LANG, localise_help_panels
    from card_emulator.teaching.i18n import Lang

    args = hoist(list(sys.argv[1:] if argv is None else argv))  # -v/--log-level after a command too
    run: Callable[..., Any] = app
    if HELP_LANG == Lang.JA and _may_show_help(args):
        from card_emulator.cli.help_ja import localise

        localise_help_panels()
        run = typer.main.get_command(app)  # the click tree typer would build, in Japanese
        localise(run, HELP_OPTION_NAMES)
    try:
        # Without standalone mode typer returns the code of a `typer.Exit` instead of raising it.
        code = run(args=args, prog_name="mynacard", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("mynacard: aborted", err=True)
        sys.exit(1)
    except typer.TyperException as mistake:
        show = getattr(mistake, "show", None)
        if type(mistake).__name__ == "NoArgsIsHelpError" and callable(show):
            show()  # a bare group (`mynacard`, `mynacard pin`): its help
        else:
            typer.echo(usage_line(mistake), err=True)
        sys.exit(mistake.exit_code)
    except (EmulatorError, ValueError, OSError) as error:
        typer.echo(f"mynacard: {error}", err=True)
        sys.exit(2)


__all__ = ["app", "main"]
