"""A small card-reading client, as a team would write one: the code under test in this example.

It reads the user-authentication certificate, signs with the user-authentication key after its
PIN, reads the basic four (氏名・住所・生年月日・性別) with the text input helper PIN, and reports
tries left. It talks to anything with ``transmit(bytes) -> bytes`` or to a pyscard reader by name.
It knows nothing of the emulator: its tests (``test_sample_client.py``) bring the card.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

JPKI_AID = bytes.fromhex("D392F000260100000001")
TEXT_AID = bytes.fromhex("D3921000310001010408")
AUTH_CERT, AUTH_PIN, AUTH_KEY = 0x000A, 0x0018, 0x0017
TEXT_PIN, BASIC_FOUR = 0x0011, 0x0002


class CardCommandError(Exception):
    """The card refused a command: ``sw`` is its status word."""

    def __init__(self, what: str, sw: int) -> None:
        super().__init__(f"{what}: card answered {sw:04X}")
        self.sw = sw


class WrongPinError(CardCommandError):
    """A wrong PIN: ``tries_left`` more before it locks."""

    def __init__(self, sw: int) -> None:
        super().__init__("VERIFY", sw)
        self.tries_left = sw & 0x0F


class PinLockedError(CardCommandError):
    """The PIN is locked: only the municipal office can reset it."""


@dataclass(frozen=True)
class BasicFour:
    name: str
    address: str
    birth_date: str  # YYYYMMDD
    sex: str


class MyNumberClient:
    """One card session. ``transmit`` sends a command APDU and returns data + SW1 SW2."""

    def __init__(self, transmit: Callable[[bytes], bytes]) -> None:
        self._transmit = transmit

    @classmethod
    def from_reader(cls, name: str) -> MyNumberClient:
        """Connect to the pyscard reader called ``name``."""
        from smartcard.System import readers

        reader = next(r for r in readers() if str(r) == name)
        connection = reader.createConnection()
        connection.connect()

        def transmit(apdu: bytes) -> bytes:
            data, sw1, sw2 = connection.transmit(list(apdu))
            return bytes(data) + bytes([sw1, sw2])

        return cls(transmit)

    # -- the protocol ----------------------------------------------------------------------

    def _send(self, apdu: bytes, what: str, ok: tuple[int, ...] = (0x9000,)) -> bytes:
        response = self._transmit(apdu)
        sw = int.from_bytes(response[-2:], "big")
        if sw not in ok:
            raise CardCommandError(what, sw)
        return response[:-2]

    def _select_app(self, aid: bytes) -> None:
        self._send(bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid, "SELECT AP")

    def _select_ef(self, fid: int) -> None:
        self._send(bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + fid.to_bytes(2, "big"), "SELECT EF")

    def _read(self, size: int, offset: int = 0) -> bytes:
        out = b""
        while len(out) < size:
            at = offset + len(out)
            n = min(256, size - len(out))
            chunk = self._send(bytes([0x00, 0xB0, at >> 8, at & 0xFF, n & 0xFF]), "READ BINARY")
            if not chunk:
                break
            out += chunk
        return out

    def _verify(self, pin: str) -> None:
        if re.fullmatch(r"[0-9]{4}", pin) is None:
            raise ValueError("a 4-digit PIN is four ASCII digits")
        data = pin.encode("ascii")
        response = self._transmit(bytes([0x00, 0x20, 0x00, 0x80, len(data)]) + data)
        sw = int.from_bytes(response[-2:], "big")
        if sw == 0x6984 or sw == 0x63C0:
            raise PinLockedError("VERIFY", sw)
        if sw & 0xFFF0 == 0x63C0:
            raise WrongPinError(sw)
        if sw != 0x9000:
            raise CardCommandError("VERIFY", sw)

    # -- what the application needs --------------------------------------------------------

    def read_auth_certificate(self) -> bytes:
        """The user-authentication certificate, DER."""
        self._select_app(JPKI_AID)
        self._select_ef(AUTH_CERT)
        head = self._read(4)
        size = int.from_bytes(head[2:4], "big") + 4  # 30 82 hh ll
        return head + self._read(size - 4, 4)

    def auth_tries_left(self) -> int:
        self._select_app(JPKI_AID)
        self._select_ef(AUTH_PIN)
        response = self._transmit(bytes.fromhex("00200080"))
        return response[-1] & 0x0F

    def sign_with_auth_key(self, pin: str, digest_info: bytes) -> bytes:
        """VERIFY the user-authentication PIN, then sign with its key in the same session."""
        self._select_app(JPKI_AID)
        self._select_ef(AUTH_PIN)
        self._verify(pin)
        self._select_ef(AUTH_KEY)  # an EF select keeps the PIN verified; an AP select would not
        apdu = bytes([0x80, 0x2A, 0x00, 0x80, len(digest_info)]) + digest_info + b"\x00"
        return self._send(apdu, "COMPUTE DIGITAL SIGNATURE")

    def read_basic_four(self, pin: str) -> BasicFour:
        """Name, address, birth date and sex, after the text input helper PIN."""
        self._select_app(TEXT_AID)
        self._select_ef(TEXT_PIN)
        self._verify(pin)
        self._select_ef(BASIC_FOUR)
        head = self._read(5)
        length, header = _ber_length(head, 2)
        ef = head + self._read(header + length - len(head), len(head))
        fields: dict[int, bytes] = {}
        position = header
        while position < len(ef):
            tag = int.from_bytes(ef[position : position + 2], "big")
            size, start = _ber_length(ef, position + 2)
            fields[tag] = ef[start : start + size]
            position = start + size
        return BasicFour(
            fields[0xDF22].decode("utf-8"),
            fields[0xDF23].decode("utf-8"),
            fields[0xDF24].decode("ascii"),
            fields[0xDF25].decode("ascii"),
        )


def _ber_length(data: bytes, at: int) -> tuple[int, int]:
    """(length, offset of the value) of the BER length at ``at``: short, 81 xx or 82 xx xx."""
    first = data[at]
    if first < 0x80:
        return first, at + 1
    count = first & 0x7F
    return int.from_bytes(data[at + 1 : at + 1 + count], "big"), at + 1 + count
