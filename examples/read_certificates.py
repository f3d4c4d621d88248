#!/usr/bin/env python3
"""Read the four JPKI certificates of a My Number Card with pyscard, from any reader.

Lists the readers, picks the first whose card selects the JPKI application (or --reader NAME), reads
EF 000A, 0001, 000B, 0002 the way OpenSC does (4-byte header, then ≤256-byte chunks) and prints each
subject. The signing certificate (0001) needs the signing password: give it in the environment
variable named by --sign-pin-env (a TEST card's PIN, still kept off the command line).

    scripts/pcsc-stack.sh start; mynacard serve &          # the card in `Virtual PCD 00 00`
    .venv/bin/python examples/read_certificates.py
    MYNA_SIGN_PIN=... .venv/bin/python examples/read_certificates.py --sign-pin-env MYNA_SIGN_PIN
    .venv/bin/python examples/read_certificates.py --in-process   # no pcscd: an in-memory TEST card
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cryptography import x509
from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.System import readers

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SIGN_PIN_EF = 0x001B
CERTIFICATES = {  # EF → label (card-interface.md §4.1)
    0x000A: "user authentication certificate",
    0x0001: "signing certificate (needs the signing password)",
    0x000B: "user authentication CA",
    0x0002: "signing CA",
}
OK = 0x9000

Transmit = Callable[[bytes], tuple[bytes, int]]


def transmitter(connection: Any) -> Transmit:
    def transmit(apdu: bytes) -> tuple[bytes, int]:
        data, sw1, sw2 = connection.transmit(list(apdu))
        return bytes(data), sw1 << 8 | sw2

    return transmit


def select_ef(transmit: Transmit, fid: int) -> int:
    return transmit(bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big"))[1]


def read_der(transmit: Transmit) -> bytes | int:
    """The current EF's DER object, or the status word that refused it."""
    head, sw = transmit(bytes.fromhex("00B0000004"))
    if sw != OK:
        return sw
    size = int.from_bytes(head[2:4], "big") + 4  # assumes `30 82 hh ll`, as OpenSC does
    der = b""
    while len(der) < size:
        le = min(256, size - len(der))
        chunk, sw = transmit(bytes([0x00, 0xB0, len(der) >> 8, len(der) & 0xFF, le & 0xFF]))
        if sw != OK:
            return sw
        der += chunk
    return der


def looks_like_jpki(transmit: Transmit) -> bool:
    """The JPKI application selects and its auth certificate starts like DER (`30 82`)."""
    if transmit(SELECT_JPKI)[1] != OK or select_ef(transmit, 0x000A) != OK:
        return False
    head, sw = transmit(bytes.fromhex("00B0000004"))
    return sw == OK and head[:2] == b"\x30\x82"


def find_jpki_reader(name: str | None) -> Any:
    available = readers()
    print("Readers:")
    for reader in available:
        print(f"  {reader}")
    for reader in available:
        if name is not None and str(reader) != name:
            continue
        connection = reader.createConnection()
        try:
            connection.connect()
        except (NoCardException, CardConnectionException):
            continue  # empty slot
        found = looks_like_jpki(transmitter(connection))
        connection.disconnect()
        if found:
            return reader
    raise SystemExit("No reader holds a card with the JPKI application.")


def in_process_card(stack: ExitStack) -> str:
    """Put an in-memory TEST card in an emulated reader; return its signing password."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from card_emulator import Card
    from card_emulator.rules import PinName
    from card_emulator.transport.pyscard_reader import emulated_reader

    card = stack.enter_context(Card.create(seed=0))
    stack.enter_context(emulated_reader(card, keep_pcsc=False))
    return (card.created_pins or {})[PinName.SIGNING]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", help="exact reader name (default: the first JPKI card)")
    parser.add_argument(
        "--sign-pin-env", metavar="VAR", help="variable holding the signing password"
    )
    parser.add_argument("--in-process", action="store_true", help="an in-memory card, no pcscd")
    args = parser.parse_args()

    with ExitStack() as stack:
        sign_pin = os.environ.get(args.sign_pin_env) if args.sign_pin_env else None
        if args.in_process:
            sign_pin = in_process_card(stack)
        reader = find_jpki_reader(args.reader)
        print(f"Using {reader}")
        connection = reader.createConnection()
        connection.connect()
        stack.callback(connection.disconnect)
        transmit = transmitter(connection)
        transmit(SELECT_JPKI)
        if sign_pin:
            select_ef(transmit, SIGN_PIN_EF)
            pin = sign_pin.upper().encode("ascii")  # clients upper-case it (card-interface §10.1)
            _, sw = transmit(bytes([0x00, 0x20, 0x00, 0x80, len(pin)]) + pin)
            print(f"VERIFY signing password: {sw:04X}")
        for fid, label in CERTIFICATES.items():
            select_ef(transmit, fid)
            der = read_der(transmit)
            if isinstance(der, int):
                print(f"EF {fid:04X} {label}: refused, SW {der:04X}")
                continue
            cert = x509.load_der_x509_certificate(der)
            print(f"EF {fid:04X} {label}: {len(der)} bytes")
            print(f"    subject: {cert.subject.rfc4514_string()}")


if __name__ == "__main__":
    main()
