"""The CLI's start-up stays cheap (issue 10): registering every command and building the command
tree, as ``mynacard --help`` does, imports none of the heavy modules a command loads when it runs.

The timing itself is a benchmark (``benchmarks/bench_startup.py``); this test pins the cause, the
imports, so that a new command module importing the card at its top fails here, not silently.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Loaded by a command's body, never by `mynacard --help`.
HEAVY = (
    "cryptography", "rich", "smartcard", "gmpy2", "pydantic", "sqlite3", "markdown_it",
    "card_emulator.card", "card_emulator.memory", "card_emulator.store", "card_emulator.issuance",
    "card_emulator.teaching.reset", "card_emulator.teaching.render", "card_emulator.teaching.explain",
    "card_emulator.web", "card_emulator.testing", "card_emulator.recorder",
    "card_emulator.transport.vpcd", "card_emulator.transport.control",
    "card_emulator.transport.served", "socket",
)  # fmt: skip

PROBE = """
import json, sys
import card_emulator.cli
from typer.main import get_command
get_command(card_emulator.cli.app)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    names: list[str] = json.loads(done.stdout)
    return names


def test_help_imports_no_heavy_module() -> None:
    names = loaded_modules()
    heavy = [n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    assert "card_emulator.cli.card_cmds" in names and "card_emulator.cli.pin_cmds" in names


def test_from_card_emulator_import_card_still_works() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import card_emulator as c; from card_emulator import Card, "
         "PinName, CardFileError; print(c.Card is Card, c.DEFAULT_ATR.hex()[:2], 'Card' in dir(c))"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "3b", "True"]
    missing = subprocess.run([sys.executable, "-c", "import card_emulator; card_emulator.Nope"],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert "module 'card_emulator' has no attribute 'Nope'" in missing.stderr
