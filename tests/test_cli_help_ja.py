"""One language per run, help included (issue 11): with LANG=ja_JP.UTF-8 every command's help and
every option's help is Japanese, the developer commands (init, serve, ctl, trace...) too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JAPANESE = {"LANG": "ja_JP.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "COLUMNS": "80"}

# Imports the CLI as a Japanese run does, localises the tree as `cli.main` does before showing
# help, and prints every command or parameter whose help is not Japanese.
_LIST_ENGLISH = """
import json, typer.main
from card_emulator.cli import app
from card_emulator.cli.app import HELP_OPTION_NAMES
from card_emulator.cli.help_ja import is_japanese, localise, walk
import typer
root = typer.main.get_command(app)
localise(root, HELP_OPTION_NAMES)
english, seen = [], 0
for path, command in walk(root):
    seen += 1
    if not is_japanese(command.help or ""):
        english.append([path, None, command.help])
    ctx = typer.Context(command, help_option_names=HELP_OPTION_NAMES)
    for param in [*command.params, command.get_help_option(ctx)]:
        if param is not None and not is_japanese(getattr(param, "help", None) or ""):
            english.append([path, param.name, getattr(param, "help", None)])
print(json.dumps({"english": english, "commands": seen}))
"""


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
    )


def test_every_command_and_option_has_japanese_help() -> None:
    done = _run("-c", _LIST_ENGLISH, env=JAPANESE)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["commands"] >= 30  # the whole tree was walked (init ... ctl trace stop)
    assert found["english"] == []


@pytest.mark.parametrize(
    ("command", "japanese", "english"),
    [
        (["serve"], "終了コード", "Exit codes"),
        (["init"], "発行日", "Issuance date"),
        (["trace", "replay"], "トレースのコマンド", "Send the trace's commands"),
        ([], "テスト鍵と架空の人物", "Test keys and synthetic people"),
    ],
)
def test_developer_commands_answer_help_in_the_language_of_the_run(
    command: list[str], japanese: str, english: str
) -> None:
    ja = _run("-m", "card_emulator.cli", *command, "--help", env=JAPANESE)
    assert ja.returncode == 0, ja.stderr
    assert japanese in ja.stdout and english not in ja.stdout
    assert "このヘルプを表示して終了" in ja.stdout and "Show this message" not in ja.stdout
    assert max(len(line) for line in ja.stdout.splitlines()) <= 80
    en = _run("-m", "card_emulator.cli", *command, "--help", env={**JAPANESE, "LANG": "C.UTF-8"})
    assert en.returncode == 0, en.stderr
    assert english in " ".join(en.stdout.split()) and japanese not in en.stdout
