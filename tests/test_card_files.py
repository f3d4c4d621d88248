"""Issue 12, "Card files": each input named there, with the answer a user should get.

Damaged, foreign and stale files are refused with one line and left exactly as they were; the
card's own unfinished write is completed or undone; a card that cannot be written is refused at
open, and every exchange reaches the observers.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from card_emulator import AppName, Card, CardFileError, PinName
from card_emulator.trace import Exchange
from tests.card_file_tools import (
    ROOT,
    as_nobody,
    contents,
    copy_card,
    folder_fingerprint,
    kill_during_a_write,
    nobody_can_run_the_project,
    shared_folder,
    to_rollback_mode,
)
from tests.helpers import select_app, send, verify

SEED = 31
OTHER_SEED = 32


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[object, ...], str]:
    """One card as issued (kept closed and unchanged), its contents and its 照合番号B."""
    path = tmp_path_factory.mktemp("issued") / "a.card"
    with Card.create(path, seed=SEED) as card:
        code_b = (card.created_pins or {})[PinName.TEXT_CODE_B]
        issued_contents = contents(card)
    return path, issued_contents, code_b


@pytest.fixture
def card_path(issued: tuple[Path, tuple[object, ...], str], tmp_path: Path) -> Path:
    return copy_card(issued[0], tmp_path / "card")


def refused_untouched(path: Path, *match: str) -> str:
    """Open must fail with one line naming the file, and change nothing in its folder."""
    before = folder_fingerprint(path.parent)
    with pytest.raises(CardFileError) as refusal:
        Card.open(path)
    message = str(refusal.value)
    assert "\n" not in message and message.startswith(str(path))
    for words in match:
        assert words in message
    assert folder_fingerprint(path.parent) == before
    return message


def flip_inside(path: Path, needle: bytes) -> None:
    raw = bytearray(path.read_bytes())
    at = raw.find(needle)
    assert at > 0 and raw.find(needle, at + 1) < 0
    raw[at + len(needle) // 2] ^= 0x01
    path.write_bytes(bytes(raw))


# -- 1. silent damage --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "fid"),
    [
        (AppName.JPKI, 0x000A),
        (AppName.JPKI, 0x000B),
        (AppName.TEXT, 0x0004),
        (AppName.TEXT, 0x0005),
    ],
)
def test_a_byte_flipped_inside_a_certificate_is_refused(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path, app: AppName, fid: int
) -> None:
    files = issued[1][1]
    assert isinstance(files, dict)
    flip_inside(card_path, files[(app, fid)])
    refused_untouched(card_path, "damaged card file", "differs from the card as issued")


def test_a_flipped_issued_date_is_refused(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path
) -> None:
    meta = issued[1][0]
    assert isinstance(meta, dict)
    flip_inside(card_path, b"issued" + meta["issued"].encode())
    refused_untouched(card_path, "damaged card file")


def test_a_file_cut_by_one_byte_is_refused(card_path: Path) -> None:
    card_path.write_bytes(card_path.read_bytes()[:-1])
    refused_untouched(card_path, "not a whole number of", "pages")


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM pins WHERE name = 'user_auth'",  # the card would have no such PIN: 6A82
        "DELETE FROM files WHERE app = 'jpki' AND fid = 10",
        "DELETE FROM records",
        "UPDATE pins SET remaining = remaining - 1 WHERE name = 'signing'",  # in range, unsealed
        "UPDATE meta SET value = '2020-01-01' WHERE key = 'issued'",
        "INSERT INTO files VALUES ('jpki', 99, x'00')",
    ],
)
def test_rows_changed_behind_the_cards_back_are_refused(card_path: Path, statement: str) -> None:
    db = sqlite3.connect(card_path)
    db.execute(statement)
    db.commit()
    db.close()
    refused_untouched(card_path, "damaged card file")


def test_sqlites_multi_line_report_is_one_line(card_path: Path) -> None:
    raw = bytearray(card_path.read_bytes())
    raw[4096 + 8] ^= 0xFF  # page 2, a b-tree page: SQLite's integrity check reports several lines
    card_path.write_bytes(bytes(raw))
    refused_untouched(card_path, "SQLite integrity check:", "more)")


# -- 2. journals that are not the card's last write --------------------------------------------


def test_the_cards_own_hot_journal_is_rolled_back(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path
) -> None:
    to_rollback_mode(card_path)
    kill_during_a_write(card_path, issued[2], "-journal")
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.TEXT_CODE_B).remaining in (9, 10)
    assert not card_path.with_name("a.card-journal").exists()


def test_another_cards_hot_journal_is_refused(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "b.card"
    other.parent.mkdir()
    with Card.create(other, seed=OTHER_SEED) as card:
        code_b = (card.created_pins or {})[PinName.TEXT_CODE_B]
    to_rollback_mode(other)
    kill_during_a_write(other, code_b, "-journal")
    for mode in ("wal", "rollback"):
        if mode == "rollback":
            to_rollback_mode(card_path)  # (plain SQLite would roll a journal beside it in)
        shutil.copy2(other.with_name("b.card-journal"), card_path.with_name("a.card-journal"))
        refused_untouched(card_path, "a.card-journal", "not applied")
        card_path.with_name("a.card-journal").unlink()
    with Card.open(card_path) as card:
        assert contents(card)[:4] == issued[1][:4]


def test_a_stale_journal_of_the_same_card_is_refused(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path, tmp_path: Path
) -> None:
    """A backup taken mid-write, its journal put back after two wrong entries: no tries back."""
    to_rollback_mode(card_path)
    kill_during_a_write(card_path, issued[2], "-journal")
    backup = tmp_path / "backup"
    shutil.copytree(card_path.parent, backup)
    with Card.open(card_path) as card:
        for _ in range(2):
            assert verify(card, PinName.TEXT_CODE_B, "0" * 14) & 0xFFF0 == 0x63C0
        left = card.issuer.pin_status(PinName.TEXT_CODE_B).remaining
    shutil.copy2(backup / "a.card-journal", card_path.with_name("a.card-journal"))
    refused_untouched(card_path, "a.card-journal", "not this card's last write")
    card_path.with_name("a.card-journal").unlink()
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.TEXT_CODE_B).remaining == left


def test_the_cards_own_write_ahead_log_is_applied(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path
) -> None:
    kill_during_a_write(card_path, issued[2], "-wal")
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.TEXT_CODE_B).remaining in (9, 10)
    assert sorted(p.name for p in card_path.parent.iterdir()) == ["a.card"]


def test_another_cards_and_a_stale_write_ahead_log_are_refused(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "a.card"
    other.parent.mkdir()
    with Card.create(other, seed=SEED) as card:  # same seed, same layout: still another card
        code_b = (card.created_pins or {})[PinName.TEXT_CODE_B]
    kill_during_a_write(other, code_b, "-wal")
    shutil.copy2(other.with_name("a.card-wal"), card_path.with_name("a.card-wal"))
    refused_untouched(card_path, "a.card-wal", "not applied")
    card_path.with_name("a.card-wal").unlink()

    kill_during_a_write(card_path, issued[2], "-wal")
    stale = card_path.with_name("a.card-wal").read_bytes()
    with Card.open(card_path) as card:
        for _ in range(2):
            verify(card, PinName.TEXT_CODE_B, "0" * 14)
        left = card.issuer.pin_status(PinName.TEXT_CODE_B).remaining
    card_path.with_name("a.card-wal").write_bytes(stale)
    refused_untouched(card_path, "a.card-wal", "not this card's last write")
    card_path.with_name("a.card-wal").unlink()
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.TEXT_CODE_B).remaining == left


# -- 3. a card that cannot be written; every exchange observed ----------------------------------

OPEN = "import sys\nfrom card_emulator import Card\nCard.open(sys.argv[1]).close()\n"
needs_nobody = pytest.mark.skipif(
    not nobody_can_run_the_project(), reason="needs a second user (setpriv) to make modes matter"
)


@pytest.fixture
def shared(issued: tuple[Path, tuple[object, ...], str]) -> Iterator[Path]:
    folder = shared_folder()
    yield folder
    for entry in folder.rglob("*"):
        if entry.is_dir() and not entry.is_symlink():
            entry.chmod(0o755)
    shutil.rmtree(folder)


def _owned_by_nobody(path: Path) -> None:
    import os

    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)


@needs_nobody
def test_a_symlink_into_a_read_only_directory_is_refused_at_open(
    issued: tuple[Path, tuple[object, ...], str], shared: Path
) -> None:
    locked, free = shared / "locked", shared / "free"
    locked.mkdir()
    free.mkdir()
    card = copy_card(issued[0], locked)
    link = free / "link.card"
    link.symlink_to(card)
    for entry in (locked, free, card):
        _owned_by_nobody(entry)
    locked.chmod(0o555)
    before = folder_fingerprint(locked)
    opened = as_nobody(OPEN, str(link))
    assert opened.returncode != 0
    last = opened.stderr.strip().splitlines()[-1]
    assert f"{link}: cannot be written (its directory {locked} is read-only)" in last
    cli = as_nobody("from card_emulator.cli import main; main()", "info", str(link))
    assert cli.returncode == 2 and cli.stdout == ""
    assert cli.stderr.strip().splitlines() == [f"mynacard: {last.split(': ', 1)[1]}"]
    assert folder_fingerprint(locked) == before


@needs_nobody
@pytest.mark.parametrize(("mode", "answer"), [(0o000, "cannot be read"), (0o400, "written")])
def test_unreadable_and_unwritable_files_get_one_line(
    issued: tuple[Path, tuple[object, ...], str], shared: Path, mode: int, answer: str
) -> None:
    card = copy_card(issued[0], shared / "cards")
    _owned_by_nobody(card.parent)
    _owned_by_nobody(card)
    card.chmod(mode)
    for command in (["info"], ["pin", "status"], ["apdu"]):
        extra = ["00A4040C0AD392F000260100000001"] if command == ["apdu"] else []
        cli = as_nobody("from card_emulator.cli import main; main()", *command, str(card), *extra)
        assert cli.returncode == 2, cli.stderr
        lines = cli.stderr.strip().splitlines()
        assert len(lines) == 1 and answer in lines[0] and str(card) in lines[0], lines


def test_a_failed_write_answers_6581_and_reaches_the_observers(card_path: Path) -> None:
    seen: list[Exchange] = []
    with Card.open(card_path) as card:
        card.add_observer(seen.append)
        select_app(card, AppName.TEXT)
        send(card, "00A4020C020015")
        card._store._db.close()  # the file is gone from under the card: every write fails
        _, sw = send(card, "002000800E" + (b"0" * 14).hex())
        assert sw == 0x6581
        assert send(card, "002000800E" + (b"0" * 14).hex())[1] == 0x6581
    assert [exchange.sw for exchange in seen][-2:] == [0x6581, 0x6581]
    assert "could not be written" in seen[-1].reason


def test_a_bug_reaches_the_observers_as_6f00(card_path: Path) -> None:
    seen: list[Exchange] = []
    with Card.open(card_path) as card:
        card.add_observer(seen.append)
        assert card.transmit("00A4" + "040C") == b"\x6f\x00"  # type: ignore[arg-type]
    assert [(exchange.sw, exchange.reason) for exchange in seen] == [(0x6F00, "internal error")]


def test_the_cli_shows_no_traceback_for_a_damaged_card(card_path: Path) -> None:
    card_path.write_bytes(card_path.read_bytes()[:-7])
    for command in (["info"], ["apdu", str(card_path), "00A4040C0AD392F000260100000001"]):
        args = command if command != ["info"] else ["info", str(card_path)]
        run = subprocess.run(
            [sys.executable, "-m", "card_emulator.cli", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert run.returncode == 2
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


# -- 5. WAL: opening does not rewrite ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["wal", "rollback"])
def test_opening_and_closing_leaves_the_file_byte_identical(card_path: Path, mode: str) -> None:
    if mode == "rollback":
        to_rollback_mode(card_path)
    before = folder_fingerprint(card_path.parent)
    with Card.open(card_path) as card:
        send(card, "00A4040C0AD392F000260100000001")
        send(card, "00200080")  # a query writes nothing
    assert folder_fingerprint(card_path.parent) == before
    header = card_path.read_bytes()[18:20]
    assert header == (b"\x02\x02" if mode == "wal" else b"\x01\x01")


def test_a_rollback_mode_card_keeps_its_counters(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path
) -> None:
    to_rollback_mode(card_path)
    with Card.open(card_path) as card:
        assert verify(card, PinName.TEXT_CODE_B, "0" * 14) == 0x63C9
        assert verify(card, PinName.TEXT_CODE_B, issued[2]) == 0x9000
        assert verify(card, PinName.TEXT_CODE_B, "0" * 14) == 0x63C9
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.TEXT_CODE_B).remaining == 9
    assert card_path.read_bytes()[18:20] == b"\x01\x01"


def test_new_pin_values_keep_the_card_file_valid(
    issued: tuple[Path, tuple[object, ...], str], card_path: Path
) -> None:
    """CHANGE and an issuer reset rewrite a PIN row; the seals follow, the file still opens."""
    with Card.open(card_path) as card:
        card.issuer.reset_pin(PinName.USER_AUTH, "4826")
        assert verify(card, PinName.USER_AUTH, "4826") == 0x9000
        assert send(card, "00240180" + "04" + b"5937".hex())[1] == 0x9000  # CHANGE (§2.5)
        assert verify(card, PinName.USER_AUTH, "0000") == 0x63C2
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 2
        assert verify(card, PinName.USER_AUTH, "5937") == 0x9000
