"""A minimal client for tests: build the usual command APDUs, send hex, split data and status word.

These are the commands of public clients (card-interface.md §2, §4.4): SELECT an application by AID
(``00 A4 04 0C``), SELECT an EF (``00 A4 02 0C``), VERIFY (``00 20 00 80``), READ BINARY in 256-byte
chunks (``00 B0``), COMPUTE DIGITAL SIGNATURE (``80 2A 00 80``). Every function takes anything with
``transmit(bytes) -> bytes`` (a ``Card``, a ``Slot``). PIN values are given as ``str`` (ASCII, as
clients send them) or ``bytes`` (exactly what goes on the wire), and never printed.
"""

from __future__ import annotations

from typing import Protocol

from card_emulator.pin_names import parse_pin_name
from card_emulator.rules import APP_AIDS, PIN_SPECS, AppName, PinName

__all__ = [
    "Transmitter",
    "query",
    "read_ef",
    "select_app",
    "select_app_apdu",
    "select_ef",
    "select_ef_apdu",
    "send",
    "sign",
    "sign_apdu",
    "sw_of",
    "verify",
    "verify_apdu",
    "wrong_value",
]


class Transmitter(Protocol):
    """Anything that answers a command APDU with a response APDU (data + SW1 SW2)."""

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU in, the response APDU (data + SW1 SW2) out, as ``Card.transmit``."""
        ...


def send(card: Transmitter, apdu: str | bytes) -> tuple[bytes, int]:
    """Send ``apdu`` (hex text, spaces allowed, or bytes); returns (data, SW as an int)."""
    raw = bytes.fromhex(apdu) if isinstance(apdu, str) else bytes(apdu)
    response = card.transmit(raw)
    return response[:-2], int.from_bytes(response[-2:], "big")


def sw_of(card: Transmitter, apdu: str | bytes) -> int:
    """The status word ``apdu`` gets (e.g. ``0x9000``)."""
    return send(card, apdu)[1]


def select_app_apdu(app: AppName) -> bytes:
    """SELECT FILE by DF name, no FCI: ``00 A4 04 0C 0A <AID>`` (card-interface.md §2.1)."""
    aid = APP_AIDS[AppName(app)]
    return bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid


def select_ef_apdu(fid: int) -> bytes:
    """SELECT FILE of an EF under the current DF: ``00 A4 02 0C 02 <FID>`` (§2.1)."""
    return bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + fid.to_bytes(2, "big")


def verify_apdu(value: str | bytes | None = None) -> bytes:
    """VERIFY of the current EF's key: ``00 20 00 80 Lc <value>``; without a value the tries
    query ``00 20 00 80`` (§2.4). A ``str`` is sent as ASCII (UTF-8 for other characters)."""
    if value is None:
        return bytes.fromhex("00200080")
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if not 1 <= len(data) <= 255:
        raise ValueError(f"a VERIFY value is 1–255 bytes, got {len(data)} (value withheld)")
    return bytes([0x00, 0x20, 0x00, 0x80, len(data)]) + data


def sign_apdu(digest_info: bytes) -> bytes:
    """COMPUTE DIGITAL SIGNATURE with the current key EF: ``80 2A 00 80 Lc <DigestInfo> 00`` (§2.6)."""
    if not 1 <= len(digest_info) <= 245:
        raise ValueError("PKCS#1 v1.5 input to an RSA-2048 key is 1–245 bytes")
    return bytes([0x80, 0x2A, 0x00, 0x80, len(digest_info)]) + digest_info + b"\x00"


def select_app(card: Transmitter, app: AppName) -> int:
    """SELECT ``app`` by AID; returns the SW. Clears every verified PIN, as on a card (§2.1)."""
    return sw_of(card, select_app_apdu(app))


def select_ef(card: Transmitter, fid: int) -> int:
    """SELECT the EF ``fid`` in the current application; returns the SW."""
    return sw_of(card, select_ef_apdu(fid))


def verify(card: Transmitter, pin: PinName | str, value: str | bytes) -> int:
    """SELECT the PIN's application and EF, then VERIFY ``value``; returns the VERIFY's SW
    (``9000``, ``63Cx`` with x tries left, ``6984`` when locked). ``pin``: a PinName, its value or
    an alias (``card_emulator.pin_names``); ValueError for another name."""
    spec = PIN_SPECS[parse_pin_name(pin)]
    select_app(card, spec.app)
    select_ef(card, spec.fid)
    return sw_of(card, verify_apdu(value))


def query(card: Transmitter, pin: PinName | str) -> int:
    """SELECT the PIN's application and EF, then the empty VERIFY: ``63Cx`` (x tries left).
    ``pin`` as for :func:`verify`."""
    spec = PIN_SPECS[parse_pin_name(pin)]
    select_app(card, spec.app)
    select_ef(card, spec.fid)
    return sw_of(card, verify_apdu())


def read_ef(card: Transmitter, fid: int) -> tuple[bytes, int]:
    """SELECT ``fid`` in the current application and read it whole in 256-byte chunks.

    Returns (content, SW): ``9000`` with the whole EF, or the first refusal with what was read so
    far (``6982`` without the PIN, ``6A82`` for a missing EF). Stops at the end (a short chunk or
    ``6B00``, READ BINARY past the end; card-interface.md §2.2).
    """
    sw = select_ef(card, fid)
    if sw != 0x9000:
        return b"", sw
    content = b""
    while True:
        offset = len(content)
        data, sw = send(card, bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, 0x00]))
        if sw == 0x6B00:
            return content, 0x9000
        if sw != 0x9000:
            return content, sw
        content += data
        if len(data) < 256:
            return content, 0x9000


def sign(card: Transmitter, key_fid: int, digest_info: bytes) -> tuple[bytes, int]:
    """SELECT the key EF ``key_fid`` (``0017`` user authentication, ``001A`` signing) in the current
    application and sign ``digest_info``; returns (signature, SW)."""
    sw = select_ef(card, key_fid)
    if sw != 0x9000:
        return b"", sw
    return send(card, sign_apdu(digest_info))


def wrong_value(pin: PinName | str, right: str) -> str:
    """A value of ``pin``'s format that is not ``right`` (for a counted wrong entry; pin-rules.md
    §1 formats). ``pin`` as for :func:`verify`."""
    fmt = PIN_SPECS[parse_pin_name(pin)].format
    if fmt.max_length == fmt.min_length and fmt.pattern.startswith("[0-9]"):
        candidates = ["0" * fmt.min_length, "1" * fmt.min_length]
    else:
        candidates = ["WRONG1", "WRONG2"]
    return next(c for c in candidates if c != right)
