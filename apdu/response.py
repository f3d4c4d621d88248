"""Response APDUs: ``data || SW1 SW2`` (ISO/IEC 7816-4 §5.1)."""

from __future__ import annotations

from dataclasses import dataclass

from .status import describe

__all__ = ["ResponseApdu", "respond"]


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    """A response: the data field (possibly empty) and the 16-bit status word."""

    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            if not isinstance(self.data, bytearray | memoryview):
                raise ValueError(f"data must be bytes, got {type(self.data).__name__}")
            object.__setattr__(self, "data", bytes(self.data))
        if not isinstance(self.sw, int) or isinstance(self.sw, bool) or not 0 <= self.sw <= 0xFFFF:
            raise ValueError(f"sw must be an int 0..0xFFFF, got {self.sw!r}")
        object.__setattr__(self, "sw", int(self.sw))  # a StatusWord member compares equal anyway

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        """Split ``data || SW1 SW2``; raises ValueError when shorter than 2 bytes."""
        raw = bytes(raw)
        if len(raw) < 2:
            raise ValueError(f"response APDU shorter than 2 bytes ({len(raw)})")
        return cls(raw[:-2], int.from_bytes(raw[-2:], "big"))

    def to_bytes(self) -> bytes:
        """The response APDU as sent: data followed by SW1 SW2 (ISO 7816-4 §5.1)."""
        return self.data + self.sw.to_bytes(2, "big")

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        """True only for ``9000``."""
        return self.sw == 0x9000

    def describe(self) -> str:
        """English meaning of the status word."""
        return describe(self.sw)


def respond(data: bytes, sw: int) -> bytes:
    """The wire bytes of a response: ``data || SW1 SW2``."""
    return ResponseApdu(data, sw).to_bytes()
