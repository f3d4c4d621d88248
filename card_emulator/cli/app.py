"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mynacard",
    help="A software My Number Card (マイナンバーカード) for testing card-reading software. "
    "Test keys and synthetic people only.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
