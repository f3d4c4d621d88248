"""`mynacard init | info | apdu` as a user runs them: output, JSON, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from card_emulator.persona import is_valid_my_number

ROOT = Path(__file__).resolve().parents[1]


def mynacard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "card_emulator.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    path = tmp_path_factory.mktemp("cli") / "holder.card"
    result = mynacard("init", str(path), "--seed", "42", "--json")
    assert result.returncode == 0, result.stderr
    return path, json.loads(result.stdout)


def test_init_json_has_the_my_number_and_every_pin(created: tuple[Path, dict[str, object]]) -> None:
    path, data = created
    assert path.exists()
    assert is_valid_my_number(str(data["my_number"]))
    pins = data["pins"]
    assert isinstance(pins, dict)
    assert set(pins) == {"signing", "user_auth", "resident_registry", "text_input_helper"}
    assert all(len(pins[k]) == 4 for k in ("user_auth", "resident_registry", "text_input_helper"))


def test_same_seed_same_holder(created: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    _, data = created
    again = mynacard("init", str(tmp_path / "again.card"), "--seed", "42", "--json")
    assert json.loads(again.stdout)["holder"] == data["holder"]


def test_info_shows_tries_and_certificates(created: tuple[Path, dict[str, object]]) -> None:
    path, _ = created
    result = mynacard("info", str(path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["pins"]["signing"] == {"remaining": 5, "max_tries": 5, "locked": False}
    assert info["pins"]["user_auth"]["remaining"] == 3
    assert set(info["certificates"]) == {"signing", "signing_ca", "user_auth", "user_auth_ca"}
    assert "JPKI-TEST" in info["certificates"]["user_auth_ca"]["subject"]
    text = mynacard("info", str(path))
    assert "TEST card" in text.stdout and "3/3" in text.stdout


def test_apdu_prints_each_response_and_redacts_pins(
    created: tuple[Path, dict[str, object]],
) -> None:
    path, data = created
    pin = data["pins"]["user_auth"]  # type: ignore[index]
    verify = "0020008004" + pin.encode().hex()  # type: ignore[union-attr]
    result = mynacard(
        "apdu",
        str(path),
        "00A4040C0AD392F000260100000001",
        "00A4020C020018",
        "00200080",
        verify,
        "00A4020C020006",
        "00B0000010",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("< 9000")
    assert "63C3" in lines[5]
    assert pin.encode().hex().upper() not in result.stdout.upper()  # type: ignore[union-attr]
    assert "redacted" in result.stdout
    assert "4A504B494150494343544F4B454E3220" in lines[-1]  # "JPKIAPICCTOKEN2 "


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("info", "/nonexistent/x.card"), "no such card file"),
        (("apdu", "/nonexistent/x.card", "00A40000"), "no such card file"),
        (("init", "/nonexistent-dir/x.card"), "no such directory"),
        (("init", "{card}"), "already exists"),
        (("apdu", "{card}", "00A4ZZ"), "not a hex digit"),
        (("apdu", "{card}", "00A"), "odd number of hex digits"),
        (("info", "{notacard}"), "not a card file"),
        (("init", "{new}", "--variant", "child"), "standard, under15 or expired"),
        (("init", "{new}", "--issued", "yesterday"), "YYYY-MM-DD"),
        (("frobnicate",), "No such command"),
    ],
)
def test_mistakes_get_one_line_and_a_nonzero_exit(
    created: tuple[Path, dict[str, object]], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    path, _ = created
    not_a_card = tmp_path / "notes.txt"
    not_a_card.write_text("hello")
    filled = [a.format(card=path, notacard=not_a_card, new=tmp_path / "n.card") for a in args]
    result = mynacard(*filled)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 4
    assert not_a_card.read_text() == "hello"


def test_info_lines_up_the_tries_of_every_pin(created: tuple[Path, dict[str, object]]) -> None:
    """The card-surface AP's long reference names once pushed their tries out of the column."""
    path, _ = created
    lines = mynacard("info", str(path)).stdout.splitlines()
    rows = lines[lines.index("PINs (tries left):") + 1 :]
    assert len(rows) >= 10
    starts = {row.rindex(" ") + 1 for row in rows}  # where "3/3", "10/10" or "LOCKED" begins
    assert len(starts) == 1, rows


def test_the_seed_help_promises_what_a_second_card_of_the_seed_gives(tmp_path: Path) -> None:
    """Two cards of one seed answer alike byte for byte; their files are not identical (each has
    a random card identity, store.md), and `init -h` says so rather than "byte for byte"."""
    paths = [tmp_path / f"{n}.card" for n in "ab"]
    for path in paths:
        assert mynacard("init", str(path), "--seed", "42").returncode == 0
    reads = ["00A4040C0AD3921000310001010402", "00B0830000", "00B0840000"]
    answers = [mynacard("apdu", str(path), *reads).stdout for path in paths]
    assert answers[0] == answers[1] and "9000" in answers[0]
    assert paths[0].read_bytes() != paths[1].read_bytes()
    help_text = " ".join(mynacard("init", "-h").stdout.split())
    assert "every answer byte for byte" in help_text and "random card identity" in help_text
