"""The typer application every command module registers on.

Start-up is kept cheap (issue 10: ``mynacard --help`` within 0.2 s of a bare ``python``): the
command modules import only typer and these small helpers at the top, and what a command needs
(the card, ``cryptography``, ``rich``, the teaching tables, pyscard, the web package) inside its
body. Help is click's plain text (``rich_markup_mode=None``): typer's rich help alone imports
rich's Markdown and traceback machinery, about as long as everything else together. Plain help
also lists a flag without a value placeholder (``--json``, never ``--json <bool>``). Japanese help
is the exception: click cannot wrap Japanese text (no spaces; two columns a character), so a run
whose help language is Japanese (``--lang ja``, ``LANG=ja_JP...``) uses typer's rich help.

``-h`` is ``--help`` on every command; ``--version`` prints the installed version;
``--install-completion`` / ``--show-completion`` install or print the shell completion (bash,
zsh, fish, PowerShell; typer's, through click).
"""

from __future__ import annotations

from typing import Annotated

import typer

from card_emulator.cli.teach_util import HELP_LANG
from card_emulator.teaching.i18n import Lang

HELP_OPTION_NAMES = ["-h", "--help"]

app = typer.Typer(
    name="mynacard",
    help="A software My Number Card (マイナンバーカード) for testing card-reading software. "
    "Test keys and synthetic people only.",
    no_args_is_help=True,
    add_completion=True,
    # Plain help in English; Japanese help needs rich (wrapping by display width), which only a
    # Japanese run that shows help pays for (cli.main calls teach_util.localise_help_panels).
    rich_markup_mode="rich" if HELP_LANG == Lang.JA else None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
)

DISTRIBUTION = "mynumber-card-emulator"


def version_text() -> str:
    """``mynacard X.Y.Z`` from the installed distribution's metadata (pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mynacard {version(DISTRIBUTION)}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "mynacard (not installed: version unknown)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
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
            metavar="LEVEL",
            help="debug, info, warning (default) or error. Allowed after any command too.",
        ),
    ] = None,
) -> None:
    """A software My Number Card (マイナンバーカード) for testing card-reading software.

    Test keys and synthetic people only. The logging options (``cli.logopts``) are accepted after
    any command too.
    """
    from card_emulator.cli.logopts import LEVELS, configure

    if log_level is not None and log_level not in LEVELS:
        raise typer.BadParameter(f"choose {', '.join(LEVELS)}", param_hint="--log-level")
    configure(verbose, log_level)
