"""The terminal output as a learner reads it: 80 columns in both languages, one language per run
(help included), compact explanations, near-miss hints, plurals."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner, Result

import card_emulator.cli  # noqa: F401 - registers every command module on the app
from card_emulator import Card
from card_emulator.cli.app import app
from card_emulator.rules import PinName

ENV = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "NO_COLOR": "1", "COLUMNS": "80",
       "MYNACARD_PIN": None, "MYNACARD_NEW_PIN": None}  # fmt: skip
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**ENV, **(env or {})})


@pytest.fixture(scope="module")
def card_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("card") / "learner.card"
    with Card.create(path, seed=61, issued=date(2024, 4, 1)):
        pass
    return path


def assert_fits(text: str, width: int = 80) -> None:
    long = [line for line in text.splitlines() if cell_len(line) > width]
    assert not long, "\n".join(long)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(
    "command",
    [("rules", "--date", "2024-08-01"), ("rules", "--date", "2025-06-01"), ("simulate", "01"),
     ("simulate", "05"), ("simulate", "11"), ("simulate", "--list"),
     ("pin", "reset", "--pin", "user-auth", "--applicant", "voluntary-proxy", "--plan-only",
      "--date", "2025-06-02")],
    ids=lambda c: "-".join(c[:2]),
)  # fmt: skip
def test_teaching_output_fits_80_columns(command: tuple[str, ...], lang: str) -> None:
    result = run(*command, "--lang", lang)
    assert result.exit_code == 0, result.output
    assert_fits(result.output)
    if lang == "ja":
        assert JAPANESE.search(result.output)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_pin_status_fits_80_columns_and_explain_is_one_row_per_exchange(
    card_path: Path, lang: str
) -> None:
    result = run("pin", "status", str(card_path), "--lang", lang, "--explain")
    assert result.exit_code == 0, result.output
    assert_fits(result.output)
    rows = [line for line in result.output.splitlines() if re.match(r"^\d+ ", line)]
    assert len(rows) == 12  # SELECT AP, SELECT EF, VERIFY without data, for each of the 4 PINs
    assert "●●●" in result.output


def test_one_language_per_run(card_path: Path) -> None:
    ja = run("pin", "status", str(card_path), "--lang", "ja", "--explain").output
    assert "APを選択しました" in ja and "normal end" not in ja and "selected" not in ja
    en = run("rules", "--lang", "en").output
    # English may name Japanese terms beside the English (マイナポータル); never a Japanese sentence.
    for japanese in ("資料", "仮定", "です", "ます", "回数"):
        assert japanese not in en


def test_plurals() -> None:
    one = run("pin", "reset", "--pin", "user-auth", "--plan-only", "--date", "2025-06-02").output
    assert "Plan: 1 visit\n" in one and "visit(s)" not in one
    two = run("pin", "reset", "--pin", "user-auth", "--applicant", "voluntary-proxy",
              "--plan-only", "--date", "2025-06-02").output  # fmt: skip
    assert "Plan: 2 visits\n" in two


def test_a_full_width_pin_gets_a_hint_and_never_reaches_the_card(card_path: Path) -> None:
    result = run("pin", "verify", str(card_path), "--pin", "user-auth",
                 env={"MYNACARD_PIN": "１２３４"})  # fmt: skip
    assert result.exit_code == 2
    assert "half-width (半角)" in result.output and "１２３４" not in result.output
    ja = run("pin", "verify", str(card_path), "--pin", "user-auth", "--lang", "ja",
             env={"MYNACARD_PIN": "１２３４"})  # fmt: skip
    assert "全角 → 半角" in ja.output
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 3


def test_the_2025_kiosk_says_its_24_hours_are_an_assumption() -> None:
    out = run("rules", "--date", "2025-06-01", env={"COLUMNS": "300"}).output
    assert "assumption: the 24-hour limit is carried over from the 2024 page (002)" in out
    old = run("rules", "--date", "2024-08-01", env={"COLUMNS": "300"}).output
    assert "24-hour limit is carried over" not in old


@pytest.mark.parametrize(
    ("args", "env"),
    [(["rules", "--help"], {"LANG": "ja_JP.UTF-8"}), (["pin", "status", "--help", "--lang", "ja"], {}),
     (["simulate", "--help"], {"LC_ALL": "ja_JP.UTF-8"}), (["learn", "--help"], {"LANG": "ja_JP.UTF-8"})],
)  # fmt: skip
def test_help_is_in_japanese_when_the_run_is(args: list[str], env: dict[str, str]) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    done = subprocess.run([sys.executable, "-m", "card_emulator.cli", *args],
                          env={**base, "COLUMNS": "100", **env}, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "オプション" in done.stdout and JAPANESE.search(done.stdout.split("オプション")[0])
    english = subprocess.run([sys.executable, "-m", "card_emulator.cli", *args[:2], "--help"],
                             env={**base, "COLUMNS": "100", "LANG": "C.UTF-8"},
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert "Options" in english.stdout and "オプション" not in english.stdout


def test_small_kana_never_start_a_line() -> None:
    """Simplified 禁則: a line never starts with ッ, ャ, ョ … (before, "ロック解除" could fold as
    "ロ" / "ック解除" in simulate's outcome column)."""
    from card_emulator.teaching.render import WrappedJapanese

    for text in (
        "値、回数は最大、ロック解除",
        "アプリで予約、スマートフォンアプリ",
        "これでロックされました",
    ):
        for width in range(6, 30):
            lines = WrappedJapanese(text).wrap(width)
            assert "".join(lines) == text
            assert all(cell_len(line) <= width for line in lines)
            assert not [
                line for line in lines[1:] if line and line[0] in "ッャュョァィゥェォっゃゅょ"
            ], lines


def test_a_scenario_source_line_is_japanese_in_japanese() -> None:
    """Scenario 05's source "seed 002 (also 000)" showed "(also 000)" in Japanese output."""
    from card_emulator.teaching.scenario import source_text

    text = source_text("pin-rules.md §4; seed 002 (also 000)")
    assert text.ja == "pin-rules.md §4; 資料002(000にも記載)"
    out = run("simulate", "05", "--lang", "ja").output
    assert "also" not in out and "資料002(000にも記載)" in out


@pytest.mark.parametrize("args", [["--help"], ["simulate", "--help"], ["init", "--help"]])
def test_japanese_help_is_wrapped_not_cut(args: list[str]) -> None:
    """typer's rich help cut Japanese help texts (no spaces to wrap at) with "…" at 80 columns:
    `simulate --help` lost "MYNACARD_PINS_JSON", `--help` the end of each command's summary."""
    base = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    done = subprocess.run([sys.executable, "-m", "card_emulator.cli", *args],
                          env={**base, "COLUMNS": "80", "LANG": "ja_JP.UTF-8"},
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout, done.stdout
    assert_fits(done.stdout)
    if args[0] == "simulate":
        assert "MYNACARD_PINS_JSON" in done.stdout


def test_the_proxy_visits_say_kanazawa_takes_three() -> None:
    """Seed 004 (Kanazawa): a voluntary proxy visits three times, for a reset or a change; the
    rules table said "2 visits" flat."""
    wide = {"COLUMNS": "300"}
    en = run("rules", "--date", "2025-06-01", "--lang", "en", env=wide).output
    assert "(2 visits, 3 in Kanazawa;" in en and "two visits (three in Kanazawa)" in en
    ja = run("rules", "--date", "2025-06-01", "--lang", "ja", env=wide).output
    assert ja.count("金沢市は3回") == 2  # the reset channel and the change place
