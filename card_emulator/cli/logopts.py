"""``-v`` / ``--log-level`` for every ``mynacard`` command, before or after the command's name.

The options belong to the root command (``cli.app.root``, beside ``--version``); :func:`hoist`
moves them, wherever they were written (``mynacard serve me.card -v``), in front of the command
name so that every command accepts them.
Logs go to stderr; PINs never reach them (every APDU logged is redacted by ``apdu.redact_command``).
"""

from __future__ import annotations

import logging
import re

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_VERBOSE = re.compile(r"-v+|--verbose")  # -v, -vv, -vvv, ... as click counts them at the front


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
        if _VERBOSE.fullmatch(arg) or arg.startswith("--log-level="):
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
