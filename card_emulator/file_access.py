"""The card file on disk, beside SQLite: may it be used, its exclusive lock, a durable new name.

``card_emulator.store`` calls these around its SQLite connection: a card file must be readable and
writable with its directory (every VERIFY writes a counter, and WAL mode writes a side file there),
is held with an exclusive ``flock`` while open (a second process gets ``CardInUseError``, never two
writers racing on one counter), and a new file's directory entry is fsynced.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from card_emulator.errors import CardFileError, CardInUseError

__all__ = ["lock_file", "sync_directory", "usable"]


def usable(target: Path) -> Path:
    """The resolved card file, if it can be read and written (with its directory: -wal files).

    A symbolic link is followed: the checks apply to the file it resolves to. ``CardFileError``,
    one line, for a missing file, a dangling link, not a regular file, or one that cannot be read
    or written."""
    if not target.exists():
        if target.is_symlink():
            raise CardFileError(f"{target}: a symbolic link to nothing")
        raise CardFileError(f"{target}: no such card file (create one with `mynacard init`)")
    resolved = target.resolve()
    if not resolved.is_file():
        raise CardFileError(f"{target}: not a regular file")
    if not os.access(resolved, os.R_OK):
        raise CardFileError(f"{target}: cannot be read (permission denied)")
    # Counters are written on every VERIFY: a card that cannot be written is not one we can use.
    if not os.access(resolved, os.W_OK):
        raise CardFileError(f"{target}: cannot be written ({resolved} is read-only)")
    if not os.access(resolved.parent, os.W_OK | os.X_OK):
        raise CardFileError(
            f"{target}: cannot be written (its directory {resolved.parent} is read-only)"
        )
    return resolved


def lock_file(path: Path, shown: Path) -> IO[bytes]:
    """``path`` opened and held with an exclusive ``flock`` for the card's lifetime (``shown`` names
    it in messages). ``CardFileError`` if it cannot be opened, ``CardInUseError`` if another
    process holds it."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - held open for the card's lifetime
    except OSError as error:
        raise CardFileError(f"{shown}: cannot be read ({error.strerror})") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CardInUseError(f"{shown}: the card is in use by another process") from None
    return handle


def sync_directory(folder: Path) -> None:
    """fsync ``folder``: a new file's name is durable only once its directory is (POSIX fsync).
    ``OSError`` as the system gives it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
