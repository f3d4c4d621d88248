"""Tools for the card-file tests: fingerprints, contents, crashed writers, another user."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from card_emulator import Card

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534


def folder_fingerprint(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file in ``folder``: content hash, mtime and mode. Equal means nothing was touched."""
    result = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and not entry.is_symlink():
            stat = entry.stat()
            result[entry.name] = (
                hashlib.sha256(entry.read_bytes()).digest(),
                stat.st_mtime_ns,
                stat.st_mode,
            )
    return result


def contents(card: Card) -> tuple[Any, ...]:
    """Everything a card file holds for the card, PIN hashes and counters included."""
    store = card._store
    pins = {name: repr(record) + record.salt.hex() + record.digest.hex()
            for name, record in store.pins().items()}  # fmt: skip
    return (store.meta(), store.files(), store.records(), store.keys(), pins)


def to_rollback_mode(path: Path) -> None:
    """What a user's `sqlite3 card 'PRAGMA journal_mode=DELETE'` does to a (closed) card file."""
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    db.close()


WORKER = textwrap.dedent(
    """
    import sys
    from card_emulator import Card
    from card_emulator.rules import AppName
    from tests.helpers import select_app, send
    card = Card.open(sys.argv[1])
    select_app(card, AppName.TEXT)
    send(card, "00A4020C020015")
    right = "002000800E" + sys.argv[2].encode().hex()
    wrong = "002000800E" + (b"0" * 14).hex()
    print("ready", flush=True)
    count = 0
    while True:
        for apdu in sys.argv[3].split(","):
            _, sw = send(card, right if apdu == "right" else wrong)
            count += 1
            if sys.argv[4] == "talk":
                print(f"{sw:04X}", flush=True)
    """
)


def start_worker(path: Path, code_b: str, pattern: str, talk: bool) -> subprocess.Popen[str]:
    """A process VERIFYing TEXT code B on ``path`` in a loop (``pattern``: right,wrong,...)."""
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(path), code_b, pattern, "talk" if talk else "quiet"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def kill_during_a_write(path: Path, code_b: str, side: str, attempts: int = 20) -> None:
    """Leave ``path`` as a crash leaves it: a hot ``side`` file ("-journal" or "-wal") beside it.

    For "-journal" (a card in rollback mode) the writer is killed while its journal exists, i.e.
    inside a commit; for "-wal" it is killed after correct entries, whose restores are in the log.
    """
    beside = path.with_name(path.name + side)
    for _ in range(attempts):
        if side == "-wal":
            worker = start_worker(path, code_b, "right", talk=True)
            assert worker.stdout is not None
            for _ in range(3):
                worker.stdout.readline()
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            if beside.exists() and beside.stat().st_size:
                return
            continue
        worker = start_worker(path, code_b, "right", talk=False)
        deadline = time.monotonic() + 5
        while not _hot(beside) and time.monotonic() < deadline:
            pass  # SQLite writes the journal's magic only once its records are on disk
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        if _hot(beside):
            return
    pytest.fail(f"no hot {side} after {attempts} kills")


def _hot(journal: Path) -> bool:
    try:
        with open(journal, "rb") as handle:
            return handle.read(1) not in (b"", b"\x00")
    except FileNotFoundError:
        return False


def copy_card(source: Path, folder: Path, name: str = "a.card") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copy2(source, target)
    return target


def as_nobody(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` as another user (root reads and writes anything: modes mean nothing)."""
    command = [sys.executable, "-c", code, *args]
    if os.geteuid() == 0:
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)


def nobody_can_run_the_project() -> bool:
    if os.geteuid() != 0:
        return True
    if shutil.which("setpriv") is None:
        return False
    return as_nobody("import card_emulator").returncode == 0


def shared_folder() -> Path:
    """A folder another user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="mynacard-test-"))
    folder.chmod(0o755)
    return folder
