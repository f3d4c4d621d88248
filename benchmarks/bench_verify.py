#!/usr/bin/env python3
"""Benchmark (not a test): a correct VERIFY on a card file against the same VERIFY in memory.

Issue 10's row "correct VERIFY on a card file ≤ 1.5 ms, without giving up 'a wrong entry is
durable before the answer'". Three cards of one seed, each with the user-authentication PIN's EF
selected, answer the same correct VERIFY (``00 20 00 80 04 <PIN>``) through ``Card.transmit``:

  * in memory — ``Card.create(None)``: the PIN hash alone (PBKDF2, ``pin.HASH_ITERATIONS``);
  * a card file as made today — write-ahead log: the decrement committed and checkpointed into
    the main file (two fsyncs) before the comparison, the restore not waited for;
  * the same file switched to rollback-journal mode by hand — every write ``synchronous=EXTRA``.

A sample is the median of a batch of VERIFYs (an fsync delayed by another process's writes hits
one VERIFY, not the figure); the cases interleave round by round (``benchlib``). The bare fsync
cost of the disk under the files is printed beside. ``--dir /dev/shm`` shows the cost without the
disk (tmpfs: fsync does nothing).

    .venv/bin/python benchmarks/bench_verify.py [--rounds 9] [--dir DIR]
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import Bench, Case, fmt_time

from card_emulator import Card, PinName
from card_emulator.rules import APP_AIDS, PIN_SPECS

SEED = 1
BATCH = 50


def prepared(card: Card, value: str) -> Callable[[], float]:
    """Select the user-authentication PIN's EF; a sample is the median of a batch of VERIFYs."""
    spec = PIN_SPECS[PinName.USER_AUTH]
    aid = APP_AIDS[spec.app]
    card.transmit(bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid)
    card.transmit(bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + spec.fid.to_bytes(2, "big"))
    apdu = bytes([0x00, 0x20, 0x00, 0x80, len(value)]) + value.encode("ascii")

    def sample() -> float:
        times = []
        for _ in range(BATCH):
            start = time.perf_counter()
            answer = card.transmit(apdu)
            times.append(time.perf_counter() - start)
            if answer != b"\x90\x00":
                raise SystemExit(f"VERIFY answered {answer.hex().upper()}")
        return statistics.median(times)

    return sample


def fsync_seconds(folder: Path, count: int = 200) -> float:
    path = folder / "fsync.probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        times = []
        for n in range(count):
            os.pwrite(fd, n.to_bytes(8, "big"), 0)
            start = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        os.close(fd)
        path.unlink()


def main() -> None:
    where = None
    if "--dir" in sys.argv:  # ours, not benchlib's: taken out before it parses the rest
        at = sys.argv.index("--dir")
        where = sys.argv[at + 1]
        del sys.argv[at : at + 2]
    bench = Bench("bench_verify", "correct VERIFY: card file (WAL, rollback) vs in memory")
    with tempfile.TemporaryDirectory(prefix="mynacard-bench-", dir=where) as folder:
        base = Path(folder)
        wal, rollback = base / "wal.card", base / "rollback.card"
        memory = Card.create(None, seed=SEED)
        value = (memory.created_pins or {})[PinName.USER_AUTH]
        Card.create(wal, seed=SEED).close()
        Card.create(rollback, seed=SEED).close()
        db = sqlite3.connect(rollback)
        db.execute("PRAGMA journal_mode = DELETE")
        db.close()
        cards = {
            "in memory": memory,
            "card file (WAL, as made)": Card.open(wal),
            "card file in rollback-journal mode": Card.open(rollback),
        }
        bench.run([Case(name, prepared(card, value)) for name, card in cards.items()], warmup=1)
        disk = fsync_seconds(base)
        for card in cards.values():
            card.close()
    on_file = bench.median("card file (WAL, as made)")
    in_memory = bench.median("in memory")
    ratio = bench.ratio("card file (WAL, as made)", "in memory")
    old_mode = bench.median("card file in rollback-journal mode")
    print(f"   bare fsync under the card files: {fmt_time(disk)}")
    bench.summary(
        "correct VERIFY on a card file / in memory",
        f"{fmt_time(on_file.median)} ({fmt_time(on_file.low)}–{fmt_time(on_file.high)}) / "
        f"{fmt_time(in_memory.median)}: {ratio.median:.2f}×",
        goal="file ≤ 1.5 ms",
        pair=f"rollback-journal file {fmt_time(old_mode.median)}; bare fsync {fmt_time(disk)}",
        file_ms=on_file.median * 1e3,
        memory_ms=in_memory.median * 1e3,
    )
    bench.finish()


if __name__ == "__main__":
    main()
