"""``-v`` / ``--log-level`` on every ``mynacard`` command, before or after its name (issue 8), and
no PIN in the log lines they turn on (DEVELOPERS.md: PINs never logged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from card_emulator import Card
from card_emulator.cli.app import app
from card_emulator.cli.logopts import hoist
from card_emulator.rules import PinName

ROOT = Path(__file__).resolve().parent.parent


def mynacard(*args: str) -> subprocess.CompletedProcess[str]:
    """``mynacard ARGS`` as its own process (logging is configured once per process)."""
    return subprocess.run(
        [sys.executable, "-m", "card_emulator.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize("flag", ["-v", "-vv", "-vvv", "-vvvv", "--verbose"])
def test_any_count_of_v_moves_in_front_of_the_command(flag: str) -> None:
    # click counts -vvvv at the front; after a command name it must be accepted the same way
    assert hoist(["rules", flag]) == [flag, "rules"]
    assert hoist(["pin", "status", "me.card", flag, "--log-level", "info"]) == [
        flag,
        "--log-level",
        "info",
        "pin",
        "status",
        "me.card",
    ]
    assert hoist(["apdu", "me.card", "--", flag]) == ["apdu", "me.card", "--", flag]


def test_every_command_accepts_the_log_options_after_its_name() -> None:
    root = get_command(app)
    names: list[list[str]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        names.extend([[name, sub] for sub in subcommands] if subcommands else [[name]])
    assert len(names) > 15
    for words in names:
        for options in (["-vvvv"], ["--log-level", "debug"]):
            # click would answer "No such option" (exit 2) before --help if it were not hoisted
            assert hoist([*words, *options, "--help"])[: len(options)] == options


def test_debug_log_after_the_command_shows_apdus_with_the_pin_redacted(tmp_path: Path) -> None:
    path = tmp_path / "me.card"
    card = Card.create(path, seed=3)
    assert card.created_pins is not None
    pin = card.created_pins[PinName.USER_AUTH]
    card.close()
    verify = "0020008004" + pin.encode().hex().upper()
    done = mynacard(
        "apdu", str(path), "00A4040C0AD392F000260100000001", "00A4020C020018", verify, "-vvvv"
    )
    assert done.returncode == 0, done.stderr
    assert "DEBUG card_emulator.card: 00A4020C020018 -> 9000" in done.stderr
    assert "0020008004<4 bytes redacted> -> 9000" in done.stderr
    assert pin.encode().hex().upper() not in done.stderr.upper()
    quiet = mynacard("apdu", str(path), "00A4040C0AD392F000260100000001", "--log-level", "error")
    assert quiet.returncode == 0 and quiet.stderr == ""
