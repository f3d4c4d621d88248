"""The card file: counters survive everything, bad files are refused untouched, one user at a time."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from card_emulator import Card, CardFileError, CardInUseError
from card_emulator.rules import AppName, PinName
from tests.card_file_tools import folder_fingerprint, to_rollback_mode
from tests.helpers import query, select_app, verify

ROOT = Path(__file__).resolve().parents[1]


def fingerprint(path: Path) -> tuple[bytes, int]:
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).digest(), stat.st_mtime_ns


@pytest.fixture
def card_path(tmp_path: Path) -> Path:
    path = tmp_path / "holder.card"
    Card.create(path, seed=21).close()
    return path


def test_counters_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.card"
    Card.create(path, seed=21, user_auth="2468").close()
    with Card.open(path) as card:
        assert verify(card, PinName.USER_AUTH, "1357") == 0x63C2
    with Card.open(path) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 2
        assert query(card, PinName.USER_AUTH) == 0x63C2
        assert query(card, PinName.SIGNING) == 0x63C5


def test_a_lock_survives_reopen_and_a_correct_entry(tmp_path: Path) -> None:
    path = tmp_path / "c.card"
    Card.create(path, seed=22, user_auth="2468").close()
    for _ in range(3):
        with Card.open(path) as card:  # three sessions, three "days"
            verify(card, PinName.USER_AUTH, "1357")
    with Card.open(path) as card:
        assert verify(card, PinName.USER_AUTH, "2468") == 0x6984
        assert card.issuer.pin_status(PinName.USER_AUTH).locked


def test_create_refuses_an_existing_file(card_path: Path) -> None:
    before = fingerprint(card_path)
    with pytest.raises(CardFileError, match="already exists"):
        Card.create(card_path, seed=1)
    assert fingerprint(card_path) == before


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CardFileError, match="no such card file"):
        Card.open(tmp_path / "nothing.card")
    with pytest.raises(CardFileError, match="not a regular file"):
        Card.open(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, not a card\n", os.urandom(4096), b"SQLite format 3\x00" + bytes(100)],
)
def test_a_file_that_is_not_a_card_is_refused_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.card"
    path.write_bytes(content)
    before = fingerprint(path)
    with pytest.raises(CardFileError):
        Card.open(path)
    assert fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.card"]


def test_another_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = fingerprint(path)
    with pytest.raises(CardFileError, match="not a card file"):
        Card.open(path)
    assert fingerprint(path) == before


def test_a_damaged_card_is_refused_untouched(card_path: Path) -> None:
    raw = card_path.read_bytes()
    card_path.write_bytes(raw[: len(raw) // 2])  # truncated
    before = fingerprint(card_path)
    with pytest.raises(CardFileError, match=r"damaged|cannot be read"):
        Card.open(card_path)
    assert fingerprint(card_path) == before


def test_a_pin_row_out_of_range_is_damage(card_path: Path) -> None:
    db = sqlite3.connect(card_path)
    db.execute("PRAGMA ignore_check_constraints = ON")
    db.execute("UPDATE pins SET remaining = 99 WHERE name = 'user_auth'")
    db.commit()
    db.close()
    before = fingerprint(card_path)
    with pytest.raises(CardFileError, match="PIN record"):
        Card.open(card_path)
    assert fingerprint(card_path) == before


def test_a_card_in_use_is_refused(card_path: Path) -> None:
    with Card.open(card_path):
        with pytest.raises(CardInUseError, match="in use"):
            Card.open(card_path)
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from card_emulator import Card; Card.open({str(card_path)!r})",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert other.returncode != 0 and "in use by another process" in other.stderr
    Card.open(card_path).close()  # free again once closed


WORKER = textwrap.dedent(
    """
    import sys
    from card_emulator import Card
    from tests.helpers import select_app, send
    from card_emulator.rules import AppName
    card = Card.open(sys.argv[1])
    select_app(card, AppName.TEXT)
    send(card, "00A4020C020015")
    while True:
        _, sw = send(card, "002000800E" + b"00000000000000".hex())
        print(f"{sw:04X}", flush=True)
        if sw == 0x63C0:
            break
    """
)


@pytest.mark.parametrize("journal", ["wal", "rollback"])
@pytest.mark.parametrize("answers_before_kill", [1, 2, 4, 7])
def test_killing_the_process_never_gives_a_try_back(
    card_path: Path, answers_before_kill: int, journal: str
) -> None:
    """kill -9 at an arbitrary instant: every answered wrong entry is spent (anti-tearing).

    In both journal modes a card file can be in: WAL (every new card) and rollback (by hand).
    """
    if journal == "rollback":
        to_rollback_mode(card_path)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(card_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert worker.stdout is not None
    seen = [worker.stdout.readline().strip() for _ in range(answers_before_kill)]
    os.kill(worker.pid, signal.SIGKILL)  # possibly in the middle of the next VERIFY
    worker.wait()
    assert seen[-1] == f"63C{10 - answers_before_kill:X}"
    with Card.open(card_path) as card:
        remaining = card.issuer.pin_status(PinName.TEXT_CODE_B).remaining
    assert remaining <= 10 - answers_before_kill


def test_a_new_card_file_is_readable_by_its_owner_only(card_path: Path) -> None:
    assert card_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE meta SET value = '{}' WHERE key = 'holder'",
        "UPDATE meta SET value = 'not hex' WHERE key = 'atr'",
        "DELETE FROM meta WHERE key = 'atr'",
        "UPDATE meta SET value = 'x' WHERE key = 'seed'",
        "UPDATE files SET app = 'bogus' WHERE fid = 10",
        "UPDATE pins SET iterations = 0 WHERE name = 'user_auth'",
        "UPDATE pins SET digest = x'00' WHERE name = 'signing'",
        "UPDATE keys SET der = x'3000'",
        "UPDATE files SET data = x'00' WHERE app = 'jpki' AND fid = 10",
        "ALTER TABLE keys RENAME COLUMN der TO something",
    ],
)
def test_damaged_contents_are_refused_before_use(card_path: Path, damage: str) -> None:
    db = sqlite3.connect(card_path)
    db.execute(damage)
    db.commit()
    db.close()
    before = fingerprint(card_path)
    with pytest.raises(CardFileError, match="damaged"):
        Card.open(card_path)
    assert fingerprint(card_path) == before


def test_verify_from_other_threads_is_durable_and_serialised(card_path: Path) -> None:
    """pyscard and vpcd may call from any thread: one chip, one command at a time."""
    import threading

    with Card.open(card_path) as card:
        answers: list[int] = []
        select_app(card, AppName.TEXT)
        # One self-contained command per entry: VERIFY of EF 0015 by its short identifier (§2.4).
        wrong = bytes.fromhex("00200095") + bytes([14]) + b"0" * 14

        def worker() -> None:
            for _ in range(2):
                answers.append(int.from_bytes(card.transmit(wrong)[-2:], "big"))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == sorted(0x63C0 | n for n in range(2, 10))
        assert card.issuer.pin_status(PinName.TEXT_CODE_B).remaining == 2


def test_a_closed_card_answers_nothing_but_6f00(card_path: Path) -> None:
    card = Card.open(card_path)
    card.close()
    assert card.transmit(bytes.fromhex("00A4040C0AD392F000260100000001")) == b"\x6f\x00"
    Card.open(card_path).close()  # the lock is free


def test_transmit_never_raises_on_the_wrong_type_with_an_observer(card_path: Path) -> None:
    with Card.open(card_path) as card:
        card.add_observer(lambda exchange: None)
        assert card.transmit("00200080") == b"\x6f\x00"  # type: ignore[arg-type]


def make_format1(path: Path) -> None:
    """A card file as the code before seals wrote it: format 1, rollback-journal mode."""
    db = sqlite3.connect(path)
    for column in ("seal", "parent", "serial"):
        db.execute(f"ALTER TABLE pins DROP COLUMN {column}")
    db.execute("DROP TABLE seal")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    assert db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    db.close()


def test_a_format1_card_is_sealed_and_switched_to_wal_once(card_path: Path) -> None:
    with Card.open(card_path) as card:
        verify(card, PinName.USER_AUTH, "0000")
        issued = (card.issuer.meta(), card._store.files(), card._store.keys())
        tries = card.issuer.pin_status(PinName.USER_AUTH).remaining
    make_format1(card_path)
    with Card.open(card_path) as card:  # the one knowing write: sealed, WAL
        assert (card.issuer.meta(), card._store.files(), card._store.keys()) == issued
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining == tries
        assert sorted(p.name for p in card_path.parent.iterdir()) == [
            "holder.card",
            "holder.card-wal",
        ]
    header = card_path.read_bytes()
    assert header[18:20] == b"\x02\x02" and header[60:64] == (2).to_bytes(4, "big")
    before = folder_fingerprint(card_path.parent)
    Card.open(card_path).close()
    assert folder_fingerprint(card_path.parent) == before


V1_WRITER = textwrap.dedent(
    """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("PRAGMA synchronous = FULL")
    print("ready", flush=True)
    while True:  # what the code before seals did on every VERIFY
        db.execute("UPDATE pins SET remaining = 2 WHERE name = 'user_auth'")
        db.execute("UPDATE pins SET remaining = 3 WHERE name = 'user_auth'")
    """
)


def test_a_format1_cards_own_hot_journal_is_rolled_back_and_anothers_refused(
    card_path: Path, tmp_path: Path
) -> None:
    make_format1(card_path)
    journal = card_path.with_name(card_path.name + "-journal")
    for _ in range(20):
        worker = subprocess.Popen(
            [sys.executable, "-c", V1_WRITER, str(card_path)], stdout=subprocess.PIPE, text=True
        )
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        while not (journal.exists() and journal.read_bytes()[:1] not in (b"", b"\x00")):
            pass
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        if journal.exists() and journal.read_bytes()[:1] not in (b"", b"\x00"):
            break
    hot = journal.read_bytes()
    other = tmp_path / "other.card"
    Card.create(other, seed=22).close()
    make_format1(other)
    shutil.copy2(journal, other.with_name("other.card-journal"))
    before = folder_fingerprint(tmp_path)
    with pytest.raises(CardFileError, match=r"other\.card-journal"):
        Card.open(other)
    assert folder_fingerprint(tmp_path) == before
    with Card.open(card_path) as card:
        assert card.issuer.pin_status(PinName.USER_AUTH).remaining in (2, 3)
    assert not journal.exists() and hot


def test_a_format1_card_that_does_not_decode_is_refused_untouched(card_path: Path) -> None:
    make_format1(card_path)
    db = sqlite3.connect(card_path)
    db.execute("UPDATE keys SET der = x'3000'")  # format 1 has no digest: only decoding sees it
    db.commit()
    db.close()
    before = folder_fingerprint(card_path.parent)
    with pytest.raises(CardFileError, match="damaged"):
        Card.open(card_path)
    assert folder_fingerprint(card_path.parent) == before
