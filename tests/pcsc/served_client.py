"""One PC/SC client process of the eight-cards test: a client as any program would be.

Usage: served_client.py READER WRONG_ENTRIES ROUNDS  (the wrong PIN value in $WRONG_PIN).
Reads the user-authentication certificate, makes WRONG_ENTRIES wrong VERIFYs of the
user-authentication PIN, reads the count with an empty VERIFY, then ROUNDS more SELECTs; prints one
JSON object: the certificate's SHA-256, the tries left, the APDUs sent and the seconds they took.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

from smartcard.System import readers


def main() -> None:
    name, wrong_entries, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    wrong = os.environ["WRONG_PIN"].encode()
    reader = next(r for r in readers() if str(r) == name)
    connection = reader.createConnection()
    connection.connect()
    sent = 0

    def send(hex_or_bytes: str | bytes) -> tuple[bytes, int]:
        nonlocal sent
        raw = bytes.fromhex(hex_or_bytes) if isinstance(hex_or_bytes, str) else hex_or_bytes
        data, sw1, sw2 = connection.transmit(list(raw))
        sent += 1
        return bytes(data), (sw1 << 8) | sw2

    started = time.perf_counter()
    assert send("00A4040C0AD392F000260100000001")[1] == 0x9000
    assert send("00A4020C02000A")[1] == 0x9000
    header, _ = send("00B0000004")
    size = int.from_bytes(header[2:4], "big") + 4
    der = b""
    while len(der) < size:
        chunk, sw = send(
            b"\x00\xb0" + len(der).to_bytes(2, "big") + bytes([min(size - len(der), 255)])
        )
        assert sw == 0x9000
        der += chunk
    assert send("00A4020C020018")[1] == 0x9000
    for _ in range(wrong_entries):
        send(b"\x00\x20\x00\x80" + bytes([len(wrong)]) + wrong)
    _, count = send("00200080")
    for _ in range(rounds):
        assert send("00A4040C0AD392F000260100000001")[1] == 0x9000
    elapsed = time.perf_counter() - started
    connection.disconnect()
    print(
        json.dumps(
            {
                "certificate_sha256": hashlib.sha256(der).hexdigest(),
                "tries_left": count & 0x0F if count & 0xFFF0 == 0x63C0 else None,
                "apdus": sent,
                "seconds": elapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
