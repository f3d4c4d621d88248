"""Small helpers for talking to a card in tests: send hex, split data and status word."""

from __future__ import annotations

from card_emulator import Card
from card_emulator.rules import APP_AIDS, PIN_SPECS, AppName, PinName


def send(card: Card, hex_apdu: str | bytes) -> tuple[bytes, int]:
    raw = bytes.fromhex(hex_apdu) if isinstance(hex_apdu, str) else hex_apdu
    response = card.transmit(raw)
    return response[:-2], int.from_bytes(response[-2:], "big")


def sw_of(card: Card, hex_apdu: str | bytes) -> int:
    return send(card, hex_apdu)[1]


def select_app(card: Card, app: AppName) -> int:
    aid = APP_AIDS[app]
    return sw_of(card, bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid)


def select_ef(card: Card, fid: int) -> int:
    return sw_of(card, bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + fid.to_bytes(2, "big"))


def verify(card: Card, pin: PinName, value: str | bytes) -> int:
    """SELECT the PIN's application and EF, then VERIFY ``value``."""
    spec = PIN_SPECS[pin]
    select_app(card, spec.app)
    select_ef(card, spec.fid)
    data = value.encode("ascii") if isinstance(value, str) else value
    return sw_of(card, bytes([0x00, 0x20, 0x00, 0x80, len(data)]) + data)


def query(card: Card, pin: PinName) -> int:
    spec = PIN_SPECS[pin]
    select_app(card, spec.app)
    select_ef(card, spec.fid)
    return sw_of(card, "00200080")


def read_ef(card: Card, fid: int) -> tuple[bytes, int]:
    """SELECT ``fid`` in the current application and read it whole in 256-byte chunks."""
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


def wrong_value(pin: PinName, right: str) -> str:
    """A value of the right format that is not ``right``."""
    candidates = ["0000", "1111"] if len(right) == 4 else ["WRONG1", "WRONG2"]
    if pin in (PinName.TEXT_CODE_A,):
        candidates = ["000000000000", "111111111111"]
    if pin in (PinName.TEXT_CODE_B,):
        candidates = ["00000000000000", "11111111111111"]
    return next(c for c in candidates if c != right)
