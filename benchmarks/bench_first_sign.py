#!/usr/bin/env python3
"""Benchmark (not a test): the first signature on a card vs a later one (key loading and checks).

Each round makes new cards and times one ``80 2A 00 80`` (SHA-256 DigestInfo, user-authentication
key) after VERIFY, interleaved:
  * the first sign on a new in-memory card (``Card.create(None, seed=7)``: a clone);
  * the first sign on a new card file (``Card.create(path)``: its key is parsed at this sign);
  * the first sign on a card file just opened (``Card.open``: keys parsed and checked at open);
  * a later sign (the second one on a new in-memory card): the floor.

    .venv/bin/python benchmarks/bench_first_sign.py [--rounds 15]
"""

from __future__ import annotations

import hashlib
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import Bench, Case

from card_emulator import Card
from card_emulator.rules import PinName

SEED = 7
SIGN = (
    bytes.fromhex("802A008033")
    + bytes.fromhex("3031300D060960864801650304020105000420")
    + hashlib.sha256(b"benchmark").digest()
    + b"\x00"
)


def _ready(card: Card, pin: str) -> None:
    """SELECT the JPKI AP, VERIFY the user-authentication PIN, SELECT its key."""
    for apdu in ("00A4040C0AD392F000260100000001", "00A4020C020018"):
        assert card.transmit(bytes.fromhex(apdu)) == b"\x90\x00"
    value = pin.encode()
    assert card.transmit(bytes.fromhex("00200080") + bytes([len(value)]) + value) == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00A4020C020017")) == b"\x90\x00"


def _time_sign(card: Card) -> float:
    start = time.perf_counter()
    response = card.transmit(SIGN)
    elapsed = time.perf_counter() - start
    assert response[-2:] == b"\x90\x00"
    return elapsed


def main() -> None:
    bench = Bench("bench_first_sign", "the first signature on a card vs a later one", rounds=15)
    pin = (Card.create(None, seed=SEED).created_pins or {})[PinName.USER_AUTH]
    directory = Path(tempfile.mkdtemp(prefix="mynacard-bench-"))
    names = (directory / f"{n}.card" for n in itertools.count())
    opened_path = directory / "opened.card"
    Card.create(opened_path, seed=SEED).close()

    def first_in_memory() -> float:
        card = Card.create(None, seed=SEED)
        _ready(card, pin)
        return _time_sign(card)

    def first_on_new_file() -> float:
        with Card.create(next(names), seed=SEED) as card:
            _ready(card, pin)
            return _time_sign(card)

    def first_on_opened_file() -> float:
        with Card.open(opened_path) as card:
            _ready(card, pin)
            return _time_sign(card)

    def later() -> float:
        card = Card.create(None, seed=SEED)
        _ready(card, pin)
        _time_sign(card)
        return _time_sign(card)

    cases: list[tuple[str, Callable[[], float]]] = [
        ("first sign, new in-memory card", first_in_memory),
        ("first sign, new card file", first_on_new_file),
        ("first sign, card file just opened", first_on_opened_file),
        ("later sign (the floor)", later),
    ]
    bench.run([Case(name, fn) for name, fn in cases], warmup=2)
    extras = {name: bench.difference(name, "later sign (the floor)") for name, _ in cases[:3]}
    worst = max(extras.values(), key=lambda s: s.median)
    parts = ", ".join(
        f"{n.removeprefix('first sign, ')} {s.median * 1e3:+.2f} ms" for n, s in extras.items()
    )
    bench.summary(
        "first sign on a card",
        f"{worst.median * 1e3:+.2f} ms ({parts})",
        goal="≤ 1 ms extra",
        pair=f"later sign {bench.median('later sign (the floor)').median * 1e3:.2f} ms",
        extra_ms=worst.median * 1e3,
    )
    bench.finish()


if __name__ == "__main__":
    main()
