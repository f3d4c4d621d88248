"""``-v`` / ``--log-level`` for every ``mynacard`` command, before or after the command's name.

The options belong to the root command; :func:`hoist` moves them, wherever they were written
(``mynacard serve me.card -v``), in front of the command name so that every command accepts them.
Logs go to stderr; PINs never reach them (every APDU logged is redacted by ``apdu.redact_command``).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from card_emulator.cli.app import app

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_FLAGS = {"-v", "-vv", "-vvv", "--verbose"}


def hoist(argv: list[str]) -> list[str]:
    """``argv`` with the logging options moved to the front (nothing after ``--`` is touched)."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        if arg in _FLAGS or arg.startswith("--log-level="):
            front.append(arg)
        elif arg == "--log-level" and index + 1 < len(argv):
            front.extend(argv[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def configure(verbose: int, log_level: str | None) -> None:
    """Root logger to stderr: WARNING by default, INFO with -v, DEBUG with -vv or --log-level."""
    if log_level is not None:
        level = LEVELS[log_level]
    else:
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="mynacard: %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)


@app.callback()
def root(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="More log lines on stderr: -v info, -vv debug."
        ),
    ] = 0,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help="debug, info, warning (default) or error. Allowed after any command too.",
        ),
    ] = None,
) -> None:
    """A software My Number Card (マイナンバーカード) for testing card-reading software.

    Test keys and synthetic people only.
    """
    if log_level is not None and log_level not in LEVELS:
        raise typer.BadParameter(f"choose {', '.join(LEVELS)}", param_hint="--log-level")
    configure(verbose, log_level)
