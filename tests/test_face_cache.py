"""The on-disk cache of card-face images (card_emulator.face_cache): same bytes, damage detected."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from card_emulator import face_cache, key_cache

ROOT = Path(__file__).resolve().parents[1]
HOLDER = (7, "試験　花子", "東京都千代田区霞が関１－１－１　テスト荘１０１", "1234", "123456789018")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(key_cache.ENV_VAR, str(tmp_path / "keys"))
    return tmp_path / "keys" / "faces"


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json"))


def test_a_holder_is_drawn_once_then_read_back_byte_identical(cache: Path) -> None:
    drawn = face_cache.draw_images(*HOLDER)
    assert face_cache.card_images(*HOLDER) == drawn  # cold: drawn and written
    (entry,) = entries(cache)
    assert json.loads(entry.read_text())["format"] == face_cache.FORMAT
    assert face_cache.card_images(*HOLDER) == drawn  # warm: read back
    other = face_cache.card_images(8, *HOLDER[1:])  # another photo seed: another entry
    assert other.photo_jp2 != drawn.photo_jp2 and other.name_png == drawn.name_png
    assert len(entries(cache)) == 2


@pytest.mark.parametrize(
    "damage",
    ["not json", "wrong digest", "another holder's entry", "bad base64", "an image missing"],
)
def test_a_damaged_entry_is_drawn_again_and_rewritten(
    cache: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = face_cache.card_images(*HOLDER)
    (path,) = entries(cache)
    entry = json.loads(path.read_text())
    if damage == "not json":
        path.write_text("{")
    elif damage == "wrong digest":
        entry["images"]["name_png"] = entry["images"]["address_png"]
        path.write_text(json.dumps(entry))
    elif damage == "another holder's entry":
        entry["id"] = "0" * 64
        path.write_text(json.dumps(entry))
    elif damage == "bad base64":
        entry["images"]["photo_jp2"] = "***"
        path.write_text(json.dumps(entry))
    else:
        del entry["images"]["my_number_png"]
        path.write_text(json.dumps(entry))
    with caplog.at_level(logging.WARNING, logger="card_emulator.face_cache"):
        assert face_cache.card_images(*HOLDER) == good
    assert "damaged entry" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="card_emulator.face_cache"):
        assert face_cache.card_images(*HOLDER) == good  # rewritten: sound again
    assert not caplog.text


def test_off_or_unwritable_the_images_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = face_cache.draw_images(*HOLDER)
    monkeypatch.setenv(key_cache.ENV_VAR, "off")
    assert face_cache.cache_dir() is None
    assert face_cache.card_images(*HOLDER) == drawn
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(key_cache.ENV_VAR, str(blocked))
    assert face_cache.card_images(*HOLDER) == drawn


def test_the_default_location_is_beside_the_key_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(key_cache.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert face_cache.cache_dir() == tmp_path / "mynumber-card-emulator" / "faces"


def test_a_card_of_a_holder_drawn_before_is_issued_without_pillow(tmp_path: Path) -> None:
    """A new process with the keys and the face in the cache never imports Pillow's imaging."""
    child = (
        "import sys; from card_emulator import Card; Card.create(None, seed=7); "
        "print('PIL.Image' in sys.modules)"
    )
    env = {"MYNACARD_KEY_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", child], env=env, cwd=ROOT, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert [run.stdout.strip() for run in runs] == ["True", "False"], [r.stderr for r in runs]
