"""Seals of a card file: how opening tells the card as issued, and as its own writes left it, from
damage, from another card and from a stale copy.

Every digest is SHA-256 and bound to the card's identity ``card_id`` (16 random bytes drawn at
issue, so two cards of the same seed are still two cards):

* the **content digest** covers the schema and every row of every table, except the seal table
  itself and the columns of a PIN row that the card rewrites (its value hash and its counter). It is
  computed once, at issue, and nothing the card does changes it. New tables, EFs, records, keys and
  PIN references are covered without a change here: the digest walks whatever the file holds.
* each **PIN row's seal** covers all of that row: value hash, counter, maximum, and the two chain
  fields below. It is rewritten with every write of the row (a few microseconds).
* the **PIN state digest** covers the seals of all PIN rows. Every write records the state digest it
  was made on (``parent``) and a card-wide write number (``serial``): a hash chain, so the state just
  before or just after the file's own can be told from any other (``follows``).

These are checksums, not signatures: they catch damage and mix-ups. Someone who edits the file on
purpose can recompute them (the file is its owner's, mode 0600, and no key could be hidden in it).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

CARD_ID_BYTES = 16
SEAL_TABLE = "seal"
PIN_TABLE = "pins"
# The only columns the content digest leaves out: what VERIFY, CHANGE and an issuer reset rewrite.
PIN_CONTENT_COLUMNS = ("name", "max_tries")


def _feed(hasher: hashlib._Hash, values: Iterable[object]) -> None:
    """An unambiguous encoding: a type tag, then a length where the value has one."""
    for value in values:
        if value is None:
            hasher.update(b"N")
        elif isinstance(value, int):
            hasher.update(b"I" + value.to_bytes(8, "big", signed=True))
        elif isinstance(value, str):
            raw = value.encode("utf-8", "surrogatepass")
            hasher.update(b"T" + len(raw).to_bytes(4, "big") + raw)
        elif isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            hasher.update(b"B" + len(raw).to_bytes(4, "big") + raw)
        elif isinstance(value, float):
            hasher.update(b"F" + value.hex().encode("ascii"))
        else:  # pragma: no cover - SQLite returns nothing else
            raise TypeError(f"cannot seal a {type(value).__name__}")


def content_digest(db: sqlite3.Connection, card_id: bytes) -> bytes:
    """SHA-256 over the schema and every row of every table (rows in value order), 32 bytes.

    PIN rows count by ``PIN_CONTENT_COLUMNS`` only; the seal table not at all. Raises
    ``sqlite3.DatabaseError`` on a file SQLite cannot read.
    """
    hasher = hashlib.sha256(b"mynumber-card-emulator content\x00")
    _feed(hasher, [card_id])
    schema = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    for row in schema:
        _feed(hasher, row)
    tables = [name for kind, name, _, _ in schema if kind == "table" and name != SEAL_TABLE]
    for table in tables:
        if table.startswith("sqlite_"):
            continue
        if table == PIN_TABLE:
            columns = list(PIN_CONTENT_COLUMNS)
        else:
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
        listed = ", ".join(f'"{column}"' for column in columns)
        order = ", ".join(str(n) for n in range(1, len(columns) + 1))
        _feed(hasher, [table, len(columns)])
        for row in db.execute(f'SELECT {listed} FROM "{table}" ORDER BY {order}'):
            _feed(hasher, row)
    return hasher.digest()


@dataclass(frozen=True, slots=True)
class PinRow:
    """One PIN row as stored: ``PinRecord``'s fields plus the chain fields and the row's seal."""

    name: str
    salt: bytes
    digest: bytes
    iterations: int
    remaining: int
    max_tries: int
    serial: int  # the card-wide number of the write that last wrote this row; 0 = as issued
    parent: bytes  # the PIN state digest that write was made on; the content digest at issue
    seal: bytes

    def expected_seal(self, card_id: bytes) -> bytes:
        """SHA-256 over every column of the row and the card's identity (32 bytes): what ``seal``
        must hold. A checksum against damage, not a MAC."""
        hasher = hashlib.sha256(b"mynumber-card-emulator pin\x00")
        _feed(hasher, [card_id, self.name, self.salt, self.digest, self.iterations])
        _feed(hasher, [self.remaining, self.max_tries, self.serial, self.parent])
        return hasher.digest()

    def resealed(self, card_id: bytes, **changes: object) -> PinRow:
        """This row with ``changes`` applied and its seal recomputed."""
        draft = replace(self, **changes)  # type: ignore[arg-type]
        return replace(draft, seal=draft.expected_seal(card_id))

    def __repr__(self) -> str:  # never show the hash
        return f"PinRow({self.name}, {self.remaining}/{self.max_tries}, serial={self.serial})"


def state_digest(card_id: bytes, rows: Mapping[str, PinRow]) -> bytes:
    """SHA-256 over every PIN row's seal, in name order: names one state of the card's PINs."""
    hasher = hashlib.sha256(b"mynumber-card-emulator pins\x00")
    _feed(hasher, [card_id])
    for name in sorted(rows):
        _feed(hasher, [name, rows[name].seal])
    return hasher.digest()


def max_serial(rows: Mapping[str, PinRow]) -> int:
    """The highest write number among ``rows`` (0 for none): the next write gets one more."""
    return max((row.serial for row in rows.values()), default=0)


def chain_problem(card_id: bytes, content: bytes, rows: Mapping[str, PinRow]) -> str | None:
    """What is wrong with one state's PIN rows on their own, or None.

    Each row's seal must match; rows as issued name the content digest as their parent; no two
    writes share a number. Counter ranges are the caller's (they make clearer messages).
    """
    seen: set[int] = set()
    for name, row in sorted(rows.items()):
        if row.seal != row.expected_seal(card_id):
            return f"PIN record {name!r} does not match its seal"
        if row.serial == 0 and row.parent != content:
            return f"PIN record {name!r} was not issued with this card"
        if row.serial > 0:
            if row.serial in seen:
                return f"PIN record {name!r} repeats write {row.serial}"
            seen.add(row.serial)
    return None


def follows(
    card_id: bytes, base: Mapping[str, PinRow], later: Mapping[str, PinRow], limit: int
) -> bool:
    """True if ``later`` is ``base`` plus its next 1 to ``limit`` writes, each made on the state
    before it (its ``parent``), and nothing else.

    A write that a later write of the same row replaced cannot be seen; the only such write the card
    ever leaves outside its main file is the restore after a correct entry (written without
    waiting for the disk), so it is rebuilt as that restore and its successor checked against it.
    """
    if set(base) != set(later):
        return False
    first, last = max_serial(base), max_serial(later)
    if not 1 <= last - first <= limit:
        return False
    state = dict(base)
    for serial in range(first + 1, last + 1):
        written = [row for row in later.values() if row.serial == serial]
        if written:
            row = written[0]
            if row.parent != state_digest(card_id, state):
                return False
        else:
            overwriting = [row for row in later.values() if row.serial > serial]
            if not overwriting:
                return False
            previous = state[min(overwriting, key=lambda r: r.serial).name]
            row = previous.resealed(
                card_id,
                remaining=previous.max_tries,
                serial=serial,
                parent=state_digest(card_id, state),
            )
        state[row.name] = row
    return state == dict(later)
