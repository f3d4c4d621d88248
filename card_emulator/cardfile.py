"""A card file looked at before it is opened for writing: read-only, and nothing beside it changes.

``inspect`` reads the file's bytes, checks the SQLite header (https://sqlite.org/fileformat.html §1.3)
and the card's seals (``card_emulator.seal``) through an ``immutable`` SQLite connection, which
neither locks, nor writes, nor looks at a journal. Every refusal is one line: ``CardFileError``.

A hot rollback journal (``-journal``) or a write-ahead log (``-wal``) beside the file holds a write
that did not finish, or finished without reaching the main file. SQLite would apply it on the next
read without asking whose it is. Here it is first applied to a private copy (SQLite does the work),
and the result is compared with the file alone:

* a journal is accepted when the file's last write was made on exactly the result (the hash chain
  of ``seal.follows``: it undoes that one write and nothing else) — and for a format-1 file, which
  has no chain, when the header's file change counter (offset 24) is the journal's or one more and
  at most one PIN row differs;
* a write-ahead log is accepted when its result continues the file by at most the two writes the
  card can leave outside its main file (a restore after a correct entry, then one unanswered write);
* a side file that changes nothing is accepted;
* anything else (another card's, a stale copy of this card's, one whose result is damaged) is
  refused, and nothing is changed.

Indistinguishable, and accepted: the journal of the card's own last write, copied while that write
was under way and put back later. The file with it is byte for byte a file whose process died just
before deleting that journal; undoing the write is what SQLite must do then.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from card_emulator.errors import CardFileError
from card_emulator.rules import PinName
from card_emulator.seal import (
    CARD_ID_BYTES,
    PinRow,
    chain_problem,
    content_digest,
    follows,
)

APPLICATION_ID = 0x4D594E41  # "MYNA": tells our card files from other SQLite databases
FORMAT = 2  # PRAGMA user_version: 2 = sealed (this module), 1 = before seals (migrated at open)
LEGACY_FORMAT = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
JOURNAL_MAGIC = bytes.fromhex("D9D505F920A163D7")
HEADER_BYTES = 100
TABLES = frozenset({"meta", "files", "records", "keys", "pins"})
_PIN_NAMES = frozenset(pin.value for pin in PinName)


@dataclass(frozen=True)
class CardState:
    """What a card file holds, checked: enough to compare two states of one card."""

    format: int
    wal: bool  # header bytes 18-19: 2 = write-ahead log, 1 = rollback journal
    card_id: bytes = b""  # format 2
    content: bytes = b""  # format 2: the content digest, verified
    pins: dict[str, PinRow] = field(default_factory=dict)  # format 2
    dump: tuple[tuple[str, tuple[tuple[object, ...], ...]], ...] = ()  # format 1: every row

    def same(self, other: CardState) -> bool:
        """Whether ``other`` is the same card in the same state: the same identity, content digest
        and PIN rows (format 2), or the same rows of every table (format 1, which has no
        identity)."""
        if self.format != other.format:
            return False
        if self.format == LEGACY_FORMAT:
            return self.dump == other.dump
        return (self.card_id, self.content, self.pins) == (other.card_id, other.content, other.pins)

    def dump_tables(self) -> list[str]:
        """The names of the tables the dump covers, in its order (the format-1 migration re-reads
        them)."""
        return [table for table, _ in self.dump]


def one_line(text: object) -> str:
    """SQLite's messages and reports may span lines; a refusal is one line."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if len(lines) > 1:
        return f"{lines[0]} (and {len(lines) - 1} more)"
    return lines[0] if lines else ""


def inspect(path: Path, shown: Path) -> CardState:
    """The checked state of the card file at ``path`` (resolved; ``shown`` names it in messages).

    Raises ``CardFileError`` with one line for anything that is not an intact card of ours, or a
    side file that is not provably this card's. Writes nothing anywhere but a private temporary
    directory.
    """
    data = _read(path, shown, "") or b""
    wal_mode = _check_header(data, shown)
    journal = _read(path, shown, "-journal")
    wal = _read(path, shown, "-wal")
    hot_journal = bool(journal) and journal is not None and journal[0] != 0
    hot_wal = bool(wal)
    if not hot_journal and not hot_wal:
        if wal is not None and not wal_mode:
            raise CardFileError(
                f"{shown}: an empty -wal file beside a card in rollback-journal mode; "
                "not this card's (nothing was changed)"
            )
        _check_size(data, shown)
        return _read_alone(path, shown, wal_mode)
    side = f"{path.name}-journal" if hot_journal else f"{path.name}-wal"
    if wal is not None and not wal_mode:
        raise CardFileError(
            f"{shown}: {path.name}-wal beside a card in rollback-journal mode is not this "
            "card's; it was not applied (nothing was changed)"
        )
    try:
        alone = _read_alone(path, shown, wal_mode)
    except CardFileError as problem:
        raise CardFileError(
            f"{problem}; with {side} beside it, an unfinished write that cannot be proven the "
            "card's own (nothing was changed)"
        ) from None
    try:
        result = _read_applied(data, journal, wal, shown, wal_mode)
    except CardFileError as problem:
        raise CardFileError(
            f"{shown}: {side} is not this card's, applying it would leave "
            f"{str(problem).removeprefix(f'{shown}: ')}; it was not applied (nothing was changed)"
        ) from None
    if result.same(alone):
        return result
    reason = _foreign_or_stale(alone, result, data, journal if hot_journal else None, hot_wal)
    if reason is None:
        return result
    raise CardFileError(f"{shown}: {side} {reason}; it was not applied (nothing was changed)")


def _foreign_or_stale(
    alone: CardState, result: CardState, data: bytes, journal: bytes | None, hot_wal: bool
) -> str | None:
    """None if the side files hold the card's own unfinished write, else why not."""
    if alone.format != result.format:
        return "belongs to another card file format"
    if alone.format == LEGACY_FORMAT:
        if journal is None or not _counter_fits(data, journal):
            return "is not this card's last write (its file change counter does not fit)"
        return None if _one_pin_row_differs(alone, result) else "is not this card's last write"
    if (alone.card_id, alone.content) != (result.card_id, result.content):
        return "is another card's unfinished write"
    card_id = alone.card_id
    if journal is not None and follows(card_id, result.pins, alone.pins, 1):
        return None
    if hot_wal and follows(card_id, alone.pins, result.pins, 2):
        return None
    return "is not this card's last write (a stale or diverged copy)"


def _read(path: Path, shown: Path, suffix: str) -> bytes | None:
    """The bytes of the card file (``suffix`` "") or of a side file (None if there is none)."""
    target = path.with_name(path.name + suffix)
    if suffix and not target.exists() and not target.is_symlink():
        return None
    if suffix and not target.is_file():
        raise CardFileError(f"{shown}: {target.name} beside it is not a regular file")
    try:
        return target.read_bytes()
    except OSError as error:
        raise CardFileError(f"{shown}: {target.name} cannot be read ({error.strerror})") from None


def _page_size(data: bytes) -> int:
    raw = int.from_bytes(data[16:18], "big")
    return 65536 if raw == 1 else raw


def _check_header(data: bytes, shown: Path) -> bool:
    """Refuse a file whose first 100 bytes are not a card's; True if it is in WAL mode."""
    if data[: len(SQLITE_MAGIC)] != SQLITE_MAGIC:
        raise CardFileError(f"{shown}: not a card file (not an SQLite database)")
    if len(data) < HEADER_BYTES:
        raise CardFileError(f"{shown}: damaged card file (shorter than its header)")
    if int.from_bytes(data[68:72], "big") != APPLICATION_ID:
        raise CardFileError(f"{shown}: an SQLite database, but not a card file")
    size = _page_size(data)
    if size < 512 or size & (size - 1):
        raise CardFileError(f"{shown}: damaged card file (page size {size} in its header)")
    if data[18:20] not in (b"\x01\x01", b"\x02\x02"):
        raise CardFileError(f"{shown}: damaged card file (journal format {data[18:20].hex()})")
    return data[18] == 2


def _check_size(data: bytes, shown: Path) -> None:
    """A card file is whole pages; its header's page count is right when it says it is valid."""
    size = _page_size(data)
    if len(data) % size:
        raise CardFileError(
            f"{shown}: damaged card file ({len(data)} bytes is not a whole number of "
            f"{size}-byte pages: cut short or grown)"
        )
    pages = int.from_bytes(data[28:32], "big")
    if data[24:28] == data[92:96] and pages * size != len(data):
        raise CardFileError(
            f"{shown}: damaged card file (its header says {pages} pages, it holds "
            f"{len(data) // size})"
        )


def _read_alone(path: Path, shown: Path, wal_mode: bool) -> CardState:
    uri = f"{path.as_uri()}?mode=ro&immutable=1"
    return _read_state(lambda: sqlite3.connect(uri, uri=True), shown, wal_mode)


def _read_applied(
    data: bytes, journal: bytes | None, wal: bytes | None, shown: Path, wal_mode: bool
) -> CardState:
    """The state SQLite makes of the file with its side files, made in a private copy."""
    with tempfile.TemporaryDirectory(prefix="mynacard-check-") as private:
        copy = Path(private) / "card"
        copy.write_bytes(data)
        if journal is not None:
            copy.with_name("card-journal").write_bytes(journal)
        if wal is not None:
            copy.with_name("card-wal").write_bytes(wal)
        return _read_state(lambda: sqlite3.connect(copy), shown, wal_mode)


def _read_state(
    connect: Callable[[], sqlite3.Connection], shown: Path, wal_mode: bool
) -> CardState:
    try:
        db = connect()
    except sqlite3.Error as error:
        raise CardFileError(f"{shown}: cannot be read ({one_line(error)})") from None
    try:
        return _checked_state(db, shown, wal_mode)
    except sqlite3.Error as error:
        raise CardFileError(f"{shown}: damaged card file ({one_line(error)})") from None
    finally:
        db.close()


def _checked_state(db: sqlite3.Connection, shown: Path, wal_mode: bool) -> CardState:
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        raise CardFileError(f"{shown}: an SQLite database, but not a card file")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version not in (FORMAT, LEGACY_FORMAT):
        raise CardFileError(f"{shown}: card file format {version}, expected {FORMAT}")
    report = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
    if report != ["ok"]:
        # A report of many lines, headed "*** in database main ***": the first problem and a count.
        problems = [line.strip() for entry in report for line in entry.splitlines()]
        problems = [line for line in problems if line and not line.startswith("***")] or ["?"]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CardFileError(
            f"{shown}: damaged card file (SQLite integrity check: {problems[0]}{more})"
        )
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    needed = TABLES | ({"seal"} if version == FORMAT else set())
    if not tables >= needed:
        raise CardFileError(f"{shown}: damaged card file (missing {sorted(needed - tables)})")
    if version == LEGACY_FORMAT:
        return _legacy_state(db, shown, wal_mode)
    seals = db.execute("SELECT card_id, content FROM seal").fetchall()
    if len(seals) != 1 or len(seals[0][0]) != CARD_ID_BYTES or len(seals[0][1]) != 32:
        raise CardFileError(f"{shown}: damaged card file (its seal is missing or malformed)")
    card_id, stored = bytes(seals[0][0]), bytes(seals[0][1])
    if content_digest(db, card_id) != stored:
        raise CardFileError(
            f"{shown}: damaged card file (its content differs from the card as issued)"
        )
    pins = load_pin_rows(db)
    for row in pins.values():
        _check_pin_range(row.name, row.remaining, row.max_tries, shown)
    problem = chain_problem(card_id, stored, pins)
    if problem:
        raise CardFileError(f"{shown}: damaged card file ({problem})")
    return CardState(FORMAT, wal_mode, card_id, stored, pins)


def load_pin_rows(db: sqlite3.Connection) -> dict[str, PinRow]:
    """Every PIN row of a format-2 card file, by name."""
    rows = db.execute(
        "SELECT name, salt, digest, iterations, remaining, max_tries, serial, parent, seal "
        "FROM pins"
    ).fetchall()
    return {
        str(name): PinRow(
            str(name), bytes(salt), bytes(digest), int(iterations), int(remaining),
            int(max_tries), int(serial), bytes(parent), bytes(seal),
        )
        for name, salt, digest, iterations, remaining, max_tries, serial, parent, seal in rows
    }  # fmt: skip


def _check_pin_range(name: object, remaining: object, max_tries: object, shown: Path) -> None:
    if (
        name not in _PIN_NAMES
        or not isinstance(remaining, int)
        or not isinstance(max_tries, int)
        or not 0 <= remaining <= max_tries
        or max_tries < 1
    ):
        raise CardFileError(f"{shown}: damaged card file (PIN record {name!r})")


def _legacy_state(db: sqlite3.Connection, shown: Path, wal_mode: bool) -> CardState:
    """A format-1 file (before seals): only its structure and ranges can be checked."""
    for name, remaining, max_tries in db.execute("SELECT name, remaining, max_tries FROM pins"):
        _check_pin_range(name, remaining, max_tries, shown)
    dump: list[tuple[str, tuple[tuple[object, ...], ...]]] = []
    for table in sorted(TABLES):
        dump.append((table, tuple(sorted(db.execute(f"SELECT * FROM {table}")))))
    return CardState(LEGACY_FORMAT, wal_mode, dump=tuple(dump))


def _journal_counter(journal: bytes) -> int | None:
    """The file change counter in the journal's copy of page 1, or None if it holds none.

    Rollback-journal format (https://sqlite.org/fileformat.html §4.1): an 8-byte magic, the record
    count, a checksum nonce, the initial page count, the sector size and the page size, then from the
    next sector records of (page number, page, checksum).
    """
    if journal[:8] != JOURNAL_MAGIC or len(journal) < 28:
        return None
    nonce = int.from_bytes(journal[12:16], "big")
    sector = int.from_bytes(journal[20:24], "big")
    size = int.from_bytes(journal[24:28], "big")
    if not sector or not size:
        return None
    offset = sector
    while offset + size + 8 <= len(journal):
        number = int.from_bytes(journal[offset : offset + 4], "big")
        page = journal[offset + 4 : offset + 4 + size]
        checksum = int.from_bytes(journal[offset + 4 + size : offset + 8 + size], "big")
        expected = (nonce + sum(page[i] for i in range(size - 200, 0, -200))) & 0xFFFFFFFF
        if checksum != expected or number == 0:
            return None
        if number == 1:
            return int.from_bytes(page[24:28], "big")
        offset += size + 8
    return None


def _counter_fits(data: bytes, journal: bytes) -> bool:
    before = _journal_counter(journal)
    now = int.from_bytes(data[24:28], "big")
    return before is not None and now in (before, (before + 1) & 0xFFFFFFFF)


def _one_pin_row_differs(alone: CardState, result: CardState) -> bool:
    mine, theirs = dict(alone.dump), dict(result.dump)
    if {k: v for k, v in mine.items() if k != "pins"} != {
        k: v for k, v in theirs.items() if k != "pins"
    }:
        return False
    rows_now, rows_then = set(mine["pins"]), set(theirs["pins"])
    names_now = {row[0] for row in rows_now}
    names_then = {row[0] for row in rows_then}
    return names_now == names_then and len(rows_now - rows_then) <= 1
