#!/usr/bin/env python3
"""Benchmark (not a test): COMPUTE DIGITAL SIGNATURE through the card vs the library alone.

Pairs, interleaved in one run:
  * ``80 2A 00 80`` with a SHA-256 DigestInfo (what OpenSC sends), the whole ``Card.transmit``,
    vs a bare ``cryptography`` RSA-2048 PKCS#1 v1.5 signature of the same digest (the floor);
  * the same APDU with a block that is no DigestInfo (the GMP path) vs the floor;
  * ``80 2A 02 80`` (the card takes the hash) vs the floor.
The first sign on a card and a later one: bench_first_sign.py.

    .venv/bin/python benchmarks/bench_sign.py [--rounds 9]
"""

from __future__ import annotations

import hashlib

from benchlib import Bench, Case, per_call
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from card_emulator import Card
from card_emulator.rules import AppName, PinName

INNER = 50
SHA256_INFO = bytes.fromhex("3031300D060960864801650304020105000420")


def main() -> None:
    bench = Bench("bench_sign", "a card signature vs a bare cryptography signature")
    card = Card.create(None, seed=7)
    pins = card.created_pins or {}
    digest = hashlib.sha256(b"benchmark").digest()
    pin = pins[PinName.USER_AUTH].encode()
    for apdu in ("00A4040C0AD392F000260100000001", "00A4020C020018"):
        assert card.transmit(bytes.fromhex(apdu)) == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00200080") + bytes([len(pin)]) + pin) == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00A4020C020017")) == b"\x90\x00"

    def apdu(p1: int, data: bytes) -> bytes:
        return bytes([0x80, 0x2A, p1, 0x80, len(data)]) + data + b"\x00"

    with_info = apdu(0x00, SHA256_INFO + digest)
    not_info = apdu(0x00, b"\x00" + digest)  # a block that is no DigestInfo
    hash_only = apdu(0x02, digest)
    key = card._memory.private_key(AppName.JPKI, 0x0017)  # the same key object the card uses
    pad, prehashed = padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
    floor = key.sign(digest, pad, prehashed)
    assert card.transmit(with_info)[:-2] == floor, "the card's signature is the library's"
    assert card.transmit(hash_only)[:-2] == floor

    bench.run(
        [
            Case(
                "card: 80 2A 00 80, SHA-256 DigestInfo",
                per_call(lambda: card.transmit(with_info), INNER),
            ),
            Case(
                "card: 80 2A 00 80, a block that is no DigestInfo",
                per_call(lambda: card.transmit(not_info), INNER),
            ),
            Case(
                "card: 80 2A 02 80, the hash only",
                per_call(lambda: card.transmit(hash_only), INNER),
            ),
            Case(
                "bare cryptography sign (the floor)",
                per_call(lambda: key.sign(digest, pad, prehashed), INNER),
            ),
        ]
    )
    floor_name = "bare cryptography sign (the floor)"
    info = bench.ratio("card: 80 2A 00 80, SHA-256 DigestInfo", floor_name)
    raw = bench.ratio("card: 80 2A 00 80, a block that is no DigestInfo", floor_name)
    hashed = bench.ratio("card: 80 2A 02 80, the hash only", floor_name)
    bench.summary(
        "`80 2A 00 80` sign with a DigestInfo vs a bare `cryptography` RSA-2048 sign",
        f"{info.median:.2f}× ({info.low:.2f}–{info.high:.2f}); no DigestInfo {raw.median:.2f}×, "
        f"P1=02 {hashed.median:.2f}×",
        goal="≤ 1.1×",
        pair=f"floor {bench.median(floor_name).median * 1e3:.2f} ms a signature",
        ratio=info.median,
    )
    bench.finish()


if __name__ == "__main__":
    main()
