"""The card's persistent memory: one SQLite file (or an in-memory database for tests).

Everything that survives a power cycle lives here: EF contents, private keys, PIN hashes and retry
counters, the holder's data. A retry counter write is committed with ``synchronous=FULL`` before the
card answers, so killing the process at any instant never gives a try back (pin-rules.md §6).

A file that is not a card or is damaged is refused with ``CardFileError`` and never written: it is
inspected read-only first. An open card holds an exclusive ``flock`` so a second process gets
``CardInUseError`` instead of two writers racing on one counter.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

from card_emulator.errors import CardFileError, CardInUseError
from card_emulator.pin import PinRecord
from card_emulator.rules import AppName, PinName

APPLICATION_ID = 0x4D594E41  # "MYNA": tells our card files from other SQLite databases
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (app TEXT NOT NULL, fid INTEGER NOT NULL, data BLOB NOT NULL,
                    PRIMARY KEY (app, fid));
CREATE TABLE records (app TEXT NOT NULL, fid INTEGER NOT NULL, number INTEGER NOT NULL,
                      data BLOB NOT NULL, PRIMARY KEY (app, fid, number));
CREATE TABLE keys (app TEXT NOT NULL, fid INTEGER NOT NULL, der BLOB NOT NULL,
                   PRIMARY KEY (app, fid));
CREATE TABLE pins (name TEXT PRIMARY KEY, salt BLOB NOT NULL, digest BLOB NOT NULL,
                   iterations INTEGER NOT NULL, remaining INTEGER NOT NULL,
                   max_tries INTEGER NOT NULL,
                   CHECK (remaining >= 0 AND remaining <= max_tries));
"""
_TABLES = {"meta", "files", "records", "keys", "pins"}

Location = tuple[AppName, int]


class CardStore:
    """Rows in, rows out. No card semantics here beyond "this write is durable"."""

    def __init__(self, db: sqlite3.Connection, path: Path | None, lock: IO[bytes] | None) -> None:
        self._db = db
        self.path = path
        self._lock = lock
        self._busy = threading.RLock()  # one transaction at a time, whichever thread asks

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] | None,
        *,
        meta: Mapping[str, str],
        files: Mapping[Location, bytes],
        records: Mapping[Location, Iterable[bytes]],
        keys: Mapping[Location, bytes],
        pins: Iterable[PinRecord],
    ) -> CardStore:
        """A new card. ``path`` None gives an in-memory card; an existing file is refused."""
        if path is None:
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            store = cls(db, None, None)
        else:
            target = Path(path)
            if target.exists():
                raise CardFileError(f"{target}: already exists; open it, or choose another path")
            if not target.parent.is_dir():
                raise CardFileError(f"{target.parent}: no such directory")
            # Only its owner may read a card file: a 4-digit PIN's hash is easy to search.
            try:
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                raise CardFileError(f"{target}: already exists") from None
            lock = _lock_file(target)
            db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            store = cls(db, target, lock)
            store._pragmas()
        with store._transaction():
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    store._db.execute(statement)
            store._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            store._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            store._db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            store._db.executemany(
                "INSERT INTO files VALUES (?, ?, ?)",
                [(app.value, fid, data) for (app, fid), data in files.items()],
            )
            store._db.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?)",
                [
                    (app.value, fid, number, data)
                    for (app, fid), rows in records.items()
                    for number, data in enumerate(rows, start=1)
                ],
            )
            store._db.executemany(
                "INSERT INTO keys VALUES (?, ?, ?)",
                [(app.value, fid, der) for (app, fid), der in keys.items()],
            )
            for record in pins:
                store._insert_pin(record)
        return store

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> CardStore:
        target = Path(path)
        if not target.exists():
            raise CardFileError(f"{target}: no such card file (create one with `mynacard init`)")
        if not target.is_file():
            raise CardFileError(f"{target}: not a regular file")
        if not os.access(target, os.R_OK | os.W_OK) or not os.access(target.parent, os.W_OK):
            # Counters are written on every VERIFY: a card we cannot write is not a card we can use.
            raise CardFileError(f"{target}: cannot be written (the card records every PIN entry)")
        lock = _lock_file(target)
        try:
            _inspect_read_only(target)
            db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            store = cls(db, target, lock)
            store._pragmas()
            return store
        except BaseException:
            lock.close()
            raise

    def clone(self) -> CardStore:
        """An in-memory copy of this card's database as it is now (SQLite's online backup API, a
        few tens of µs), for ``Card.clone``. The copy has no path and no lock; writes to either
        never reach the other."""
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        with self._busy:
            self._db.backup(db)
        return CardStore(db, None, None)

    def _pragmas(self) -> None:
        self._db.execute("PRAGMA journal_mode = DELETE")
        self._db.execute("PRAGMA synchronous = FULL")

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._busy:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def files(self) -> dict[Location, bytes]:
        rows = self._db.execute("SELECT app, fid, data FROM files").fetchall()
        return {(AppName(app), fid): bytes(data) for app, fid, data in rows}

    def records(self) -> dict[Location, list[bytes]]:
        result: dict[Location, list[bytes]] = {}
        rows = self._db.execute("SELECT app, fid, data FROM records ORDER BY app, fid, number")
        for app, fid, data in rows.fetchall():
            result.setdefault((AppName(app), fid), []).append(bytes(data))
        return result

    def keys(self) -> dict[Location, bytes]:
        rows = self._db.execute("SELECT app, fid, der FROM keys").fetchall()
        return {(AppName(app), fid): bytes(der) for app, fid, der in rows}

    def pins(self) -> dict[PinName, PinRecord]:
        rows = self._db.execute(
            "SELECT name, salt, digest, iterations, remaining, max_tries FROM pins"
        ).fetchall()
        return {
            PinName(name): PinRecord(
                PinName(name), bytes(salt), bytes(digest), iterations, remaining, max_tries
            )
            for name, salt, digest, iterations, remaining, max_tries in rows
        }

    # -- writing -------------------------------------------------------------------------------

    def save_pin(self, record: PinRecord) -> None:
        """Durable on return: the commit is fsynced before the card may answer."""
        with self._transaction():
            self._db.execute("DELETE FROM pins WHERE name = ?", (record.name.value,))
            self._insert_pin(record)

    def save_remaining(self, name: PinName, remaining: int) -> None:
        """Only the counter, the hot path of VERIFY; autocommit, so durable on return."""
        with self._busy:
            self._db.execute(
                "UPDATE pins SET remaining = ? WHERE name = ?", (remaining, name.value)
            )

    def _insert_pin(self, record: PinRecord) -> None:
        self._db.execute(
            "INSERT INTO pins VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.name.value,
                record.salt,
                record.digest,
                record.iterations,
                record.remaining,
                record.max_tries,
            ),
        )


def _lock_file(path: Path) -> IO[bytes]:
    handle = open(path, "rb")  # noqa: SIM115 - held open for the card's lifetime
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CardInUseError(f"{path}: the card is in use by another process") from None
    return handle


def _inspect_read_only(path: Path) -> None:
    """Refuse anything that is not an intact card file, without writing a byte to it."""
    with open(path, "rb") as raw:
        header = raw.read(100)  # the SQLite database header
    if header[: len(SQLITE_MAGIC)] != SQLITE_MAGIC:
        raise CardFileError(f"{path}: not a card file (not an SQLite database)")
    if len(header) < 100 or int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        raise CardFileError(f"{path}: an SQLite database, but not a card file")
    if Path(f"{path}-journal").exists():
        # A process died mid-write (kill -9, power loss): SQLite rolls the unfinished transaction
        # back. Only an answered VERIFY's decrement is committed, so nothing answered is undone.
        _recover_hot_journal(path)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as error:
        raise CardFileError(f"{path}: cannot be read: {error}") from None
    try:
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise CardFileError(f"{path}: an SQLite database, but not a card file")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise CardFileError(f"{path}: card file format {version}, expected {SCHEMA_VERSION}")
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise CardFileError(f"{path}: damaged card file ({check})")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables >= _TABLES:
            raise CardFileError(f"{path}: damaged card file (missing {sorted(_TABLES - tables)})")
        for name, remaining, max_tries in db.execute("SELECT name, remaining, max_tries FROM pins"):
            if name not in {pin.value for pin in PinName} or not 0 <= remaining <= max_tries:
                raise CardFileError(f"{path}: damaged card file (PIN record {name!r})")
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if "holder" not in meta:
            raise CardFileError(f"{path}: damaged card file (no holder data)")
        json.loads(meta["holder"])
    except sqlite3.DatabaseError as error:
        raise CardFileError(f"{path}: damaged card file ({error})") from None
    except ValueError as error:
        raise CardFileError(f"{path}: damaged card file ({error})") from None
    finally:
        db.close()


def _recover_hot_journal(path: Path) -> None:
    try:
        db = sqlite3.connect(path)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        raise CardFileError(f"{path}: damaged card file ({error})") from None
