"""The card's persistent memory: one SQLite file (or an in-memory database for tests).

Everything that survives a power cycle lives here: EF contents, private keys, PIN hashes and retry
counters, the holder's data. A card file is sealed (``card_emulator.seal``) and checked before use
(``card_emulator.cardfile``): damage, another card's journal or a stale one is refused with one line
and the file is left as it was. An open card holds an exclusive ``flock``, so a second process gets
``CardInUseError`` instead of two writers racing on one counter.

Durability (pin-rules.md §6: killing the process at any instant never gives a try back). A card
file is in SQLite's write-ahead-log mode with exclusive locking (no ``-shm`` file). A *durable*
write — a decrement before the PIN is compared, a CHANGE, an issuer reset — is committed and then
checkpointed into the main file, which fsyncs the log and then the file, before the call returns:
every answered write is in the main file itself, never only in the log (so a log put beside the
file later cannot undo one, ``cardfile``). The restore after a correct entry is written without
waiting for the disk: the process being killed cannot lose it, a power loss can, and that costs a
try, never gives one. A file in rollback-journal mode (made so by hand) stays so, each write
committed with ``synchronous=EXTRA``.

Opening writes nothing, with two knowing exceptions: an unfinished write of the card's own is
completed or undone (what SQLite must do), and a format-1 file (made before seals) is sealed as it
is and switched to WAL mode, once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Literal

from card_emulator.cardfile import (
    APPLICATION_ID,
    FORMAT,
    LEGACY_FORMAT,
    CardState,
    inspect,
    load_pin_rows,
    one_line,
)
from card_emulator.errors import CardFileError, CardStorageError
from card_emulator.file_access import lock_file, sync_directory, usable
from card_emulator.pin import PinRecord
from card_emulator.rules import AppName, Location, PinName
from card_emulator.seal import CARD_ID_BYTES, PinRow, content_digest, max_serial, state_digest

# Format 1, then the columns and the table format 2 added: a new card and a migrated one end up
# with the same schema, byte for byte.
_SCHEMA_V1 = """
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
_SCHEMA_V2 = """
ALTER TABLE pins ADD COLUMN serial INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pins ADD COLUMN parent BLOB NOT NULL DEFAULT x'';
ALTER TABLE pins ADD COLUMN seal BLOB NOT NULL DEFAULT x'';
CREATE TABLE seal (card_id BLOB NOT NULL, content BLOB NOT NULL);
"""


Mode = Literal["wal", "rollback", "memory"]


def _statements(script: str) -> list[str]:
    return [statement for statement in script.split(";") if statement.strip()]


class CardStore:
    """Rows in, rows out, sealed. No card semantics here beyond "this write is durable"."""

    def __init__(
        self,
        db: sqlite3.Connection,
        path: Path | None,
        lock: IO[bytes] | None,
        mode: Mode = "memory",
    ) -> None:
        """Over an open connection; the seal and PIN rows are read on first use (so an in-memory
        copy made with SQLite's backup API works as it is)."""
        self._db = db
        self.path = path
        self._lock = lock
        self._mode = mode
        self._busy = threading.RLock()  # one transaction at a time, whichever thread asks
        self._card_id = b""
        self._rows: dict[str, PinRow] = {}
        self._failed: str | None = None
        self._migrating = False

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
        """A new sealed card. ``path`` None gives an in-memory card; an existing file is refused.

        Raises ``CardFileError`` (exists, no such directory). The file is complete, checkpointed
        and fsynced (with its directory entry) on return; it is created mode 0600.
        """
        if path is None:
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            store = cls(db, None, None, "memory")
        else:
            target = Path(path)
            if target.exists() or target.is_symlink():
                raise CardFileError(f"{target}: already exists; open it, or choose another path")
            if not target.parent.is_dir():
                raise CardFileError(f"{target.parent}: no such directory")
            # Only its owner may read a card file: a 4-digit PIN's hash is easy to search.
            try:
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                raise CardFileError(f"{target}: already exists") from None
            lock = lock_file(target, target)
            db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            store = cls(db, target, lock, "wal")
            store._pragmas()
        with store._transaction():
            for statement in _statements(_SCHEMA_V1) + _statements(_SCHEMA_V2):
                store._db.execute(statement)
            store._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            store._db.execute(f"PRAGMA user_version = {FORMAT}")
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
            store._db.executemany(
                "INSERT INTO pins (name, salt, digest, iterations, remaining, max_tries) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r.name.value, r.salt, r.digest, r.iterations, r.remaining, r.max_tries)
                    for r in pins
                ],
            )
            store._seal(os.urandom(CARD_ID_BYTES))
        if store.path is not None:
            store._checkpoint("TRUNCATE")
            sync_directory(store.path.parent)
        return store

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, finish: bool = True) -> CardStore:
        """An existing card file, checked (``cardfile.inspect``) before anything is written.

        Raises ``CardFileError`` (one line: missing, cannot be read or written, not a card,
        damaged, a side file not the card's own) or ``CardInUseError``. A symbolic link is
        followed: the checks apply to the file it resolves to and that file's directory.

        A format-1 file is sealed in a transaction left open until ``finish_opening`` (called
        here unless ``finish`` is False: ``Card.open`` first decodes every value, so a file it
        refuses is closed, the transaction rolled back, and the file left as it was).
        """
        target = Path(path)
        resolved = usable(target)
        lock = lock_file(resolved, target)
        db: sqlite3.Connection | None = None
        try:
            state = inspect(resolved, target)
            legacy = state.format == LEGACY_FORMAT
            mode: Mode = "wal" if state.wal else "rollback"
            db = sqlite3.connect(resolved, isolation_level=None, check_same_thread=False)
            store = cls(db, target, lock, mode)
            if legacy:
                store._begin_migration(state)
                if finish:
                    store.finish_opening()
            else:
                store._pragmas()
                store._load(state)
            return store
        except sqlite3.Error as error:
            if db is not None:
                db.close()
            lock.close()
            raise CardFileError(f"{target}: damaged card file ({one_line(error)})") from None
        except BaseException:
            if db is not None:
                db.close()
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
        if self._mode == "wal":
            self._db.execute("PRAGMA locking_mode = EXCLUSIVE")  # before the first read: no -shm
            journal = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if journal != "wal":
                raise CardFileError(f"{self.path}: cannot be used in WAL mode ({journal})")
            self._db.execute("PRAGMA synchronous = NORMAL")  # durable writes checkpoint instead
            self._db.execute("PRAGMA wal_autocheckpoint = 0")
        else:
            self._db.execute("PRAGMA journal_mode = DELETE")
            self._db.execute("PRAGMA synchronous = EXTRA")  # also fsyncs the directory

    def _load(self, expected: CardState) -> None:
        """Take the seal and PIN rows; they must be what inspection approved."""
        card_id, _ = self._db.execute("SELECT card_id, content FROM seal").fetchone()
        self._card_id = bytes(card_id)
        self._rows = load_pin_rows(self._db)
        if (self._card_id, self._rows) != (expected.card_id, expected.pins):
            raise CardFileError(f"{self.path}: changed while it was being opened; try again")

    def _begin_migration(self, expected: CardState) -> None:
        """Format 1 → 2: seal the card as it is, in a transaction ``finish_opening`` commits.

        Its content cannot be checked against the issue (format 1 kept no digest): it was
        checked for structure and ranges, and ``Card.open`` decodes every value before the commit.
        """
        if self._mode == "wal":
            self._pragmas()
        else:  # exclusive from the first read, so the switch to WAL later needs no -shm
            self._db.execute("PRAGMA locking_mode = EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode = DELETE")
            self._db.execute("PRAGMA synchronous = EXTRA")
        dump = []
        for table in expected.dump_tables():
            dump.append((table, tuple(sorted(self._db.execute(f"SELECT * FROM {table}")))))
        if tuple(dump) != expected.dump:
            raise CardFileError(f"{self.path}: changed while it was being opened; try again")
        self._db.execute("BEGIN IMMEDIATE")
        for statement in _statements(_SCHEMA_V2):
            self._db.execute(statement)
        self._db.execute(f"PRAGMA user_version = {FORMAT}")
        self._seal(os.urandom(CARD_ID_BYTES))
        self._migrating = True

    def finish_opening(self) -> None:
        """Commit a format-1 card's sealing and switch it to WAL mode (the one knowing write of
        opening); nothing for any other card."""
        if not self._migrating:
            return
        self._db.execute("COMMIT")
        self._migrating = False
        self._mode = "wal"
        self._pragmas()
        self._checkpoint("TRUNCATE")

    def _seal(self, card_id: bytes) -> None:
        """Inside the issuing (or migrating) transaction: the content digest and the PIN seals."""
        content = content_digest(self._db, card_id)
        rows = load_pin_rows(self._db)
        sealed = {
            name: row.resealed(card_id, serial=0, parent=content) for name, row in rows.items()
        }
        self._db.executemany(
            "UPDATE pins SET serial = 0, parent = ?, seal = ? WHERE name = ?",
            [(row.parent, row.seal, row.name) for row in sealed.values()],
        )
        self._db.execute("INSERT INTO seal VALUES (?, ?)", (card_id, content))
        self._card_id, self._rows = card_id, sealed

    def close(self) -> None:
        """Close the database (a WAL card is checkpointed and its -wal removed) and the lock."""
        with contextlib.suppress(sqlite3.Error):
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

    def _checkpoint(self, how: str = "PASSIVE") -> None:
        """Copy the log into the main file: fsyncs the log, writes the file, fsyncs it."""
        busy, logged, copied = self._db.execute(f"PRAGMA wal_checkpoint({how})").fetchone()
        if busy or (logged >= 0 and copied != logged):
            raise sqlite3.OperationalError(f"checkpoint incomplete ({copied} of {logged} pages)")

    # -- reading -------------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """The metadata rows (``seed``, ``serial``, ``atr``, ``holder`` JSON, ``issued``, ...), read
        now."""
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def files(self) -> dict[Location, bytes]:
        """Every transparent and secret EF by (application, FID), read now."""
        rows = self._db.execute("SELECT app, fid, data FROM files").fetchall()
        return {(AppName(app), fid): bytes(data) for app, fid, data in rows}

    def records(self) -> dict[Location, list[bytes]]:
        """Every record EF by (application, FID), records in order, record 1 first."""
        result: dict[Location, list[bytes]] = {}
        rows = self._db.execute("SELECT app, fid, data FROM records ORDER BY app, fid, number")
        for app, fid, data in rows.fetchall():
            result.setdefault((AppName(app), fid), []).append(bytes(data))
        return result

    def keys(self) -> dict[Location, bytes]:
        """Every private key by (application, FID), as PKCS#8 DER (TEST keys)."""
        rows = self._db.execute("SELECT app, fid, der FROM keys").fetchall()
        return {(AppName(app), fid): bytes(der) for app, fid, der in rows}

    def _pin_rows(self) -> dict[str, PinRow]:
        if not self._card_id:
            self._card_id = bytes(self._db.execute("SELECT card_id FROM seal").fetchone()[0])
            self._rows = load_pin_rows(self._db)
        return self._rows

    def pins(self) -> dict[PinName, PinRecord]:
        """Every PIN record (hash, salt, iterations, counter, maximum), as last written."""
        self._pin_rows()
        return {
            PinName(row.name): PinRecord(
                PinName(row.name), row.salt, row.digest, row.iterations, row.remaining,
                row.max_tries,
            )
            for row in self._rows.values()
        }  # fmt: skip

    # -- writing -------------------------------------------------------------------------------

    def save_pin(self, record: PinRecord) -> None:
        """A new value (CHANGE, issuer reset): durable on return. Raises ``CardStorageError``."""
        self.save_remaining(record, durable=True)

    def save_remaining(self, record: PinRecord, *, durable: bool = True) -> None:
        """Write ``record``'s value and counter; with ``durable``, in the main file on return.

        ``durable=False`` is for the restore after a correct entry only: written, not waited for
        (a power loss may lose it, which costs a try and never gives one back). Raises
        ``CardStorageError`` if the file cannot be written; the card then refuses every later
        write until it is reopened, so what it remembers never runs apart from the file.
        """
        with self._busy:
            if self._failed:
                raise CardStorageError(self._failed)
            current = self._pin_rows()[record.name.value]
            row = current.resealed(
                self._card_id,
                salt=record.salt,
                digest=record.digest,
                iterations=record.iterations,
                remaining=record.remaining,
                serial=max_serial(self._rows) + 1,
                parent=state_digest(self._card_id, self._rows),
            )
            try:
                written = self._db.execute(
                    "UPDATE pins SET salt = ?, digest = ?, iterations = ?, remaining = ?, "
                    "serial = ?, parent = ?, seal = ? WHERE name = ?",
                    (row.salt, row.digest, row.iterations, row.remaining, row.serial,
                     row.parent, row.seal, row.name),
                ).rowcount  # fmt: skip
                if written != 1:
                    raise sqlite3.OperationalError(f"no PIN row {row.name!r}")
                self._rows[row.name] = row
                if durable and self._mode == "wal":
                    self._checkpoint()
            except sqlite3.Error as error:
                where = self.path if self.path is not None else "in-memory card"
                self._failed = (
                    f"{where}: the card's memory could not be written ({one_line(error)})"
                )
                raise CardStorageError(self._failed) from None
