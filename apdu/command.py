"""Command APDUs: bytes <-> :class:`CommandApdu`, with the ISO/IEC 7816-3 §12.1.3 case rules.

``le`` is Ne, the number of bytes expected: None when the Le field is absent, 1..256 for the short
form (the Le byte ``00`` means 256) and 1..65536 for the extended form (``0000`` means 65536).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "SENSITIVE_INS",
    "ApduCase",
    "ApduFormatError",
    "CommandApdu",
    "carries_secret",
]

_WRONG_LENGTH = 0x6700

MAX_SHORT_LC = 255
MAX_SHORT_LE = 256
MAX_EXTENDED_LC = 65535
MAX_EXTENDED_LE = 65536

# Instructions whose data field is a PIN or a new PIN (never shown in traces): VERIFY 20/21,
# CHANGE REFERENCE DATA 24/25, RESET RETRY COUNTER 2C/2D (ISO 7816-4 §11.5). JICSAP CHANGE KEY 32
# counts only with a proprietary CLA (80 32, card-interface.md §2.5).
SENSITIVE_INS = frozenset({0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D})
_SENSITIVE_PROPRIETARY_INS = frozenset({0x32})


def carries_secret(cla: int, ins: int) -> bool:
    """True if the data field of a command with this CLA/INS holds a PIN (redact it)."""
    return ins in SENSITIVE_INS or (bool(cla & 0x80) and ins in _SENSITIVE_PROPRIETARY_INS)


class ApduCase(Enum):
    """The seven command cases of ISO/IEC 7816-3 §12.1.2 (S = short, E = extended)."""

    CASE_1 = "1"
    CASE_2S = "2S"
    CASE_3S = "3S"
    CASE_4S = "4S"
    CASE_2E = "2E"
    CASE_3E = "3E"
    CASE_4E = "4E"

    @property
    def is_extended(self) -> bool:
        return self.value.endswith("E")

    @property
    def has_data(self) -> bool:
        return self.value[0] in "34"

    @property
    def has_le(self) -> bool:
        return self.value[0] in "24"


class ApduFormatError(ValueError):
    """Bytes that are not a command APDU; ``sw`` is what a card answers (default 6700)."""

    def __init__(self, message: str, sw: int = _WRONG_LENGTH) -> None:
        super().__init__(message)
        self.sw = sw


def _le_short(le: int) -> bytes:
    return bytes([le & 0xFF])  # 256 -> 00


def _le_ext(le: int) -> bytes:
    return (le & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000


@dataclass(frozen=True, slots=True, repr=False)
class CommandApdu:
    """A command APDU. ``extended`` is normalised: True whenever the short form cannot carry
    ``data``/``le``, always False for case 1 (no body); otherwise as given (parse keeps the form
    seen on the wire, so ``parse(raw).to_bytes() == raw``)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be an int 0..255, got {value!r}")
        if not isinstance(self.data, bytes):
            if not isinstance(self.data, bytearray | memoryview):
                raise ValueError(f"data must be bytes, got {type(self.data).__name__}")
            object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > MAX_EXTENDED_LC:
            raise ValueError(f"data longer than {MAX_EXTENDED_LC} bytes: {len(self.data)}")
        le = self.le
        if le is not None and (
            not isinstance(le, int) or isinstance(le, bool) or not 1 <= le <= MAX_EXTENDED_LE
        ):
            raise ValueError(f"le must be None or 1..{MAX_EXTENDED_LE}, got {le!r}")
        if not self.data and le is None:
            extended = False  # case 1 has no extended form
        elif len(self.data) > MAX_SHORT_LC or (le is not None and le > MAX_SHORT_LE):
            extended = True
        else:
            extended = bool(self.extended)
        object.__setattr__(self, "extended", extended)

    # -- wire format ---------------------------------------------------------------------------

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Decode a command APDU (ISO/IEC 7816-3 §12.1.3). Raises ApduFormatError (sw 6700).

        The short forms every client sends (cases 1, 2S, 3S, 4S with a matching Lc) are decoded
        here and built without ``__post_init__``'s checks, which they pass by construction
        (bytes 0..255, Lc <= 255, Le 1..256, short); extended and malformed APDUs go to
        ``_parse_full``. Both give equal objects, and the same error, for every byte string
        (tests/test_apdu_command.py holds them to it).
        """
        if type(raw) is not bytes:
            raw = bytes(raw)
        n = len(raw)
        if n == 4:  # case 1
            data, le = b"", None
        elif n == 5:  # case 2S; Le 00 means 256
            data, le = b"", raw[4] or 256
        elif n > 5 and raw[4] and n == 5 + raw[4]:  # case 3S
            data, le = raw[5:], None
        elif n > 5 and raw[4] and n == 6 + raw[4]:  # case 4S
            data, le = raw[5:-1], raw[-1] or 256
        else:
            return cls._parse_full(raw)
        if cls is not CommandApdu:  # a subclass may have another layout: the checked way
            return cls(raw[0], raw[1], raw[2], raw[3], data, le)
        command = _new(_Unfrozen)
        command.cla, command.ins, command.p1, command.p2 = raw[0], raw[1], raw[2], raw[3]
        command.data, command.le, command.extended = data, le, False
        _set_class(command, "__class__", CommandApdu)
        return command  # type: ignore[return-value]  # a CommandApdu now

    @classmethod
    def _parse_full(cls, raw: bytes) -> CommandApdu:
        """Every form, every check: what ``parse`` does for what its short path leaves."""
        if len(raw) < 4:
            raise ApduFormatError(f"command APDU shorter than 4 bytes ({len(raw)})")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        n = len(body)
        if n == 0:  # case 1
            return cls(cla, ins, p1, p2)
        b1 = body[0]
        if n == 1:  # case 2S
            return cls(cla, ins, p1, p2, le=b1 or 256)
        if b1 != 0:
            if n == 1 + b1:  # case 3S
                return cls(cla, ins, p1, p2, data=body[1:])
            if n == 2 + b1:  # case 4S
                return cls(cla, ins, p1, p2, data=body[1:-1], le=body[-1] or 256)
            raise ApduFormatError(f"short Lc={b1} does not match a body of {n} bytes")
        # b1 == 00 and n > 1: extended length
        if n == 3:  # case 2E
            return cls(
                cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or 65536, extended=True
            )
        if n < 3:
            raise ApduFormatError(f"truncated extended length field ({n} body bytes)")
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise ApduFormatError("extended Lc of 0000 with a body")
        if n == 3 + lc:  # case 3E
            return cls(cla, ins, p1, p2, data=body[3:], extended=True)
        if n == 5 + lc:  # case 4E
            le = int.from_bytes(body[-2:], "big") or 65536
            return cls(cla, ins, p1, p2, data=body[3:-2], le=le, extended=True)
        raise ApduFormatError(f"extended Lc={lc} does not match a body of {n} bytes")

    def to_bytes(self) -> bytes:
        """Encode in the form given by ``case``."""
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        if self.extended:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
                if self.le is not None:
                    out += _le_ext(self.le)
            elif self.le is not None:
                out += b"\x00" + _le_ext(self.le)
        else:
            if self.data:
                out.append(len(self.data))
                out += self.data
            if self.le is not None:
                out += _le_short(self.le)
        return bytes(out)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    # -- derived views -------------------------------------------------------------------------

    @property
    def case(self) -> ApduCase:
        if not self.data:
            if self.le is None:
                return ApduCase.CASE_1
            return ApduCase.CASE_2E if self.extended else ApduCase.CASE_2S
        if self.le is None:
            return ApduCase.CASE_3E if self.extended else ApduCase.CASE_3S
        return ApduCase.CASE_4E if self.extended else ApduCase.CASE_4S

    @property
    def p1p2(self) -> int:
        return (self.p1 << 8) | self.p2

    @property
    def lc(self) -> int:
        """Nc, the length of the data field (0 when absent)."""
        return len(self.data)

    @property
    def is_proprietary(self) -> bool:
        """CLA b8 set (e.g. ``80``, JICSAP commands); ISO 7816-4 §5.4.1."""
        return bool(self.cla & 0x80)

    @property
    def is_further_group(self) -> bool:
        """CLA b7 set: further-interindustry coding (``4X``-``7X``), ISO 7816-4 §5.4.1.
        Proprietary classes (``CX``-``FX``) are read with the same bits, as GlobalPlatform does."""
        return bool(self.cla & 0x40)

    @property
    def channel(self) -> int:
        """Logical channel number: first group b2-b1 (0..3), further group b4-b1 + 4 (4..19)."""
        cla = self.cla
        if cla & 0x40:  # further group (is_further_group, inline: a card reads this per APDU)
            return (cla & 0x0F) + 4
        return cla & 0x03

    @property
    def is_secure_messaging(self) -> bool:
        """SM indication: first group b4-b3 ≠ 00 (``08``, ``0C``), further group b6 set."""
        cla = self.cla
        if cla & 0x40:  # further group, as in ``channel``
            return bool(cla & 0x20)
        return bool(cla & 0x0C)

    @property
    def is_chained(self) -> bool:
        """Command chaining bit (CLA b5): not the last command of a chain."""
        return bool(self.cla & 0x10)

    @property
    def carries_secret(self) -> bool:
        """True if ``data`` is a PIN / new PIN (VERIFY, CHANGE REFERENCE DATA, …)."""
        return carries_secret(self.cla, self.ins)

    def __repr__(self) -> str:
        if self.carries_secret and self.data:
            data = f"<{len(self.data)} bytes redacted>"
        elif self.data:
            data = f"bytes.fromhex('{self.data.hex().upper()}')"
        else:
            data = "b''"
        return (
            f"CommandApdu(cla=0x{self.cla:02X}, ins=0x{self.ins:02X}, p1=0x{self.p1:02X}, "
            f"p2=0x{self.p2:02X}, data={data}, le={self.le}, extended={self.extended})"
        )


class _Unfrozen:
    """CommandApdu's slots without its frozen ``__setattr__``: ``parse`` fills one, then assigns
    its ``__class__`` (allowed: same slots, same base, so the same memory layout). Seven plain
    attribute stores and one class assignment cost about a third of seven slot-descriptor calls."""

    __slots__ = CommandApdu.__slots__
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None
    extended: bool


_new = object.__new__
_set_class = object.__setattr__  # called with "__class__"
