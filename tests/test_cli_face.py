"""`mynacard face PATH -o face.png` as a user runs it: a real picture, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from card_emulator import Card
from card_emulator.rules import PinName
from tests.helpers import query, verify
from tests.test_cli_card import mynacard


@pytest.fixture(scope="module")
def card_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("face") / "seven.card"
    Card.create(path, seed=7).close()
    return path


@pytest.mark.parametrize("code", ["A", "b"])
def test_face_draws_the_card_front(card_file: Path, tmp_path: Path, code: str) -> None:
    out = tmp_path / "face.png"
    result = mynacard("face", str(card_file), "-o", str(out), "--code", code)
    assert result.returncode == 0, result.stderr
    assert "DF28 signature verifies" in result.stdout
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.size == (856, 540)
    with Card.open(card_file) as card:  # a correct VERIFY leaves the count at its maximum
        assert query(card, PinName.SURFACE_CODE_A) == 0x63CA
        assert query(card, PinName.SURFACE_CODE_B) == 0x63CA


def test_face_errors_are_one_line(card_file: Path, tmp_path: Path) -> None:
    result = mynacard("face", str(card_file), "-o", str(tmp_path / "x.png"), "--code", "C")
    assert result.returncode == 2 and "A or B" in result.stderr
    result = mynacard("face", str(tmp_path / "none.card"), "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_a_locked_code_is_the_cards_no_in_one_line(tmp_path: Path) -> None:
    """A locked 照合番号A is the card saying no (exit 1, README "Mistakes"), not a usage error."""
    path = tmp_path / "locked.card"
    with Card.create(path, seed=7) as card:
        for _ in range(10):
            verify(card, PinName.SURFACE_CODE_A, "000000000000")
    out = tmp_path / "x.png"
    result = mynacard("face", str(path), "-o", str(out))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "6984" in lines[0] and "--code B" in lines[0], lines
    assert not out.exists()
    assert mynacard("face", str(path), "-o", str(out), "--code", "B").returncode == 0


def test_a_long_name_and_address_are_drawn_whole_beside_the_photo(tmp_path: Path) -> None:
    """The card's images hold a long name and address whole (DF25, DF26); the drawing once
    pasted them at twice their size whatever their width, so they ran under the photo and off
    the card and characters were lost. They are shrunk to fit the room left of the photo."""
    path = tmp_path / "long.card"
    Card.create(
        path,
        seed=4,
        name="寿限無寿限無五劫の擦り切れ　海砂利水魚の水行末雲来末風来末",
        address="北海道札幌市中央区北一条西二丁目一番地　テストマンション寿限無寿限無五劫の擦り"
        "切れ海砂利水魚１２３４５６７８９０号室　さらに長い建物名テスト棟",
    ).close()
    out = tmp_path / "long.png"
    assert mynacard("face", str(path), "-o", str(out)).returncode == 0
    with Image.open(out) as picture:
        grey = picture.convert("L")
        photo_left = 856 - 36 - 192
        gap = [
            grey.getpixel((x, y))
            for x in range(photo_left - 14, photo_left)
            for y in range(80, 330)
        ]
        right_of_photo = [grey.getpixel((x, y)) for x in range(822, 850) for y in range(80, 130)]
        assert min(gap) > 200 and min(right_of_photo) > 200  # no ink: nothing ran past
        name_row = [
            grey.getpixel((x, y)) for x in range(500, photo_left - 16) for y in range(82, 100)
        ]
        assert min(name_row) < 100  # the end of the long name is drawn, smaller
