"""Loading the pytest plugin loads no card (issue 10): every pytest process and each pytest-xdist
worker loads it, so the card, its keys and ``cryptography`` wait for the first fixture. And the
lazy package still gives each public name its one meaning, whatever was imported first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import card_emulator.testing

ROOT = Path(__file__).resolve().parents[1]
# What a fixture needs, and what the plugin must therefore not load by itself.
HEAVY = (
    "cryptography",
    "card_emulator.card",
    "card_emulator.memory",
    "card_emulator.slot",
    "card_emulator.recorder",
    "card_emulator.faults",
    "card_emulator.testing.factory",
    "card_emulator.testing.replay",
    "card_emulator.transport.control",
)


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_loading_the_plugin_loads_no_card() -> None:
    loaded = json.loads(
        run(
            "import json, sys, pytest\n"
            "import card_emulator.testing.plugin\n"
            "print(json.dumps(sorted(sys.modules)))"
        )
    )
    assert "card_emulator.testing.plugin" in loaded
    assert [name for name in HEAVY if name in loaded] == []


def test_every_public_name_resolves_to_its_module_s_object() -> None:
    package = card_emulator.testing
    for name in package.__all__:
        value = getattr(package, name)
        assert value is getattr(sys.modules[package._LAZY[name]], name), name


@pytest.mark.parametrize(
    "first",
    [
        "import card_emulator.testing.replay",  # the CLI's `trace replay` does this
        "from card_emulator.testing.replay import diff_traces",
        "from card_emulator.testing import assert_replays",
        "",
    ],
)
def test_replay_is_the_function_whatever_came_first(first: str) -> None:
    out = run(
        f"{first}\n"
        "import sys\n"
        "from card_emulator.testing import replay\n"
        "import card_emulator.testing as package\n"
        "module = sys.modules['card_emulator.testing.replay']\n"
        "print(replay is module.replay, package.replay is module.replay)"
    )
    assert out.split() == ["True", "True"]
