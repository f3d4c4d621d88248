#!/usr/bin/env python3
"""Benchmark (not a test): a correct VERIFY on a card file against the same VERIFY in memory.

Issue 10's row: "correct VERIFY on a card file ≤ 1.5 ms, without giving up 'a wrong entry is
durable before the answer'". Three cards of one seed, each with the user-authentication PIN
selected, answer the same correct VERIFY (``00 20 00 80 04 <PIN>``) through ``Card.transmit``:

  * ``memory`` — ``Card.create(None)``: the PIN hash alone (PBKDF2, ``pin.HASH_ITERATIONS``);
  * ``wal``    — a card file as made today (write-ahead log: the decrement committed and
                 checkpointed, i.e. two fsyncs, before the comparison; the restore not waited for);
  * ``rollback`` — the same file switched to rollback-journal mode by hand (every write
                 ``synchronous=EXTRA``: journal, file and directory fsyncs).

Rounds interleave the cards (each round: a batch of VERIFYs on each, in a rotating order); a
round's figure is the median of its batch. Printed: per card the median of the round medians and
their spread (min..max), the bare fsync cost of the disk under the cards, the load average, and
one summary line with the ratio file/memory. Run from the repo:

    .venv/bin/python benchmarks/bench_verify.py [--rounds 7] [--batch 200] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from card_emulator import Card, PinName  # noqa: E402
from card_emulator.rules import APP_AIDS, PIN_SPECS  # noqa: E402

GOAL_MS = 1.5


def prepared(card: Card) -> Callable[[], int]:
    """Select the user-authentication PIN's EF; return one correct VERIFY → its status word."""
    spec = PIN_SPECS[PinName.USER_AUTH]
    aid = APP_AIDS[spec.app]
    card.transmit(bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid)
    card.transmit(bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + spec.fid.to_bytes(2, "big"))
    value = (card.created_pins or {})[PinName.USER_AUTH].encode("ascii")
    apdu = bytes([0x00, 0x20, 0x00, 0x80, len(value)]) + value
    return lambda: int.from_bytes(card.transmit(apdu)[-2:], "big")


def batch_median_ms(verify: Callable[[], int], size: int) -> float:
    times = []
    for _ in range(size):
        start = time.perf_counter()
        sw = verify()
        times.append(time.perf_counter() - start)
        if sw != 0x9000:
            raise SystemExit(f"VERIFY answered {sw:04X}")
    return statistics.median(times) * 1e3


def fsync_ms(folder: Path, count: int = 200) -> float:
    path = folder / "fsync.probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        times = []
        for n in range(count):
            os.pwrite(fd, n.to_bytes(8, "big"), 0)
            start = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e3
    finally:
        os.close(fd)
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--dir", type=Path, help="where the card files go (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-verify-", dir=args.dir) as folder:
        base = Path(folder)
        wal_path, rollback_path = base / "wal.card", base / "rollback.card"
        Card.create(wal_path, seed=1).close()
        Card.create(rollback_path, seed=1).close()
        db = sqlite3.connect(rollback_path)
        db.execute("PRAGMA journal_mode = DELETE")
        db.close()
        cards = {
            "memory": Card.create(None, seed=1),
            "wal": Card.open(wal_path),
            "rollback": Card.open(rollback_path),
        }
        pins = Card.create(None, seed=1).created_pins
        for card in cards.values():
            card.created_pins = pins
        verifies = {name: prepared(card) for name, card in cards.items()}
        for verify in verifies.values():  # warm up
            batch_median_ms(verify, 20)
        rounds: dict[str, list[float]] = {name: [] for name in cards}
        names = list(cards)
        for number in range(args.rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                rounds[name].append(batch_median_ms(verifies[name], args.batch))
        disk = fsync_ms(base)
        for card in cards.values():
            card.close()
    load = os.getloadavg()
    print(f"correct VERIFY through Card.transmit, {args.rounds} rounds × {args.batch}, seed 1")
    median = {name: statistics.median(values) for name, values in rounds.items()}
    for name, values in rounds.items():
        print(
            f"  {name:<9} median {median[name]:.3f} ms  (rounds {min(values):.3f}..{max(values):.3f})"
        )
    print(f"  bare fsync on this disk: {disk:.3f} ms")
    print(f"  load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    ratio = median["wal"] / median["memory"]
    verdict = "meets" if median["wal"] <= GOAL_MS else "misses"
    print(
        f"verify_file: {median['wal']:.2f} ms on a card file (best round"
        f" {min(rounds['wal']):.2f}) vs {median['memory']:.2f} ms in memory = {ratio:.2f}x;"
        f" rollback-journal file {median['rollback']:.2f} ms; {verdict} the {GOAL_MS} ms goal"
    )


if __name__ == "__main__":
    main()
