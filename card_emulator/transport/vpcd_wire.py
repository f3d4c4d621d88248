"""The vpcd wire protocol, sans-I/O: what the bytes between pcscd's vpcd driver and a card mean.

Each message is a 2-byte big-endian length and a payload (pcsc-vpcd.md §2): a one-byte payload is
a control code (:class:`Control`), a longer one a command APDU, answered by one R-APDU. Here:
the events, :func:`frame`, the stream decoder :class:`VpcdParser`, and the reader numbering
(:func:`port_for_reader`, :func:`reader_name`). No sockets: ``transport.vpcd``'s ``VpcdClient``
does the I/O and re-exports these names (its public API, unchanged by the split).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from card_emulator.transport.vpcd_ports import DEFAULT_PORT, MAX_READERS

__all__ = [
    "MAX_PAYLOAD",
    "Apdu",
    "Control",
    "GetAtr",
    "PowerOff",
    "PowerOn",
    "Reset",
    "Unknown",
    "VpcdEvent",
    "VpcdParser",
    "decode",
    "frame",
    "port_for_reader",
    "reader_name",
]

MAX_PAYLOAD = 0xFFFF  # 2-byte length prefix (§2)


class Control(enum.IntEnum):
    """The one-byte control codes vpcd sends (§2)."""

    POWER_OFF = 0x00
    POWER_ON = 0x01
    RESET = 0x02
    GET_ATR = 0x04


@dataclass(frozen=True, slots=True)
class PowerOff:
    """Control ``00``: the reader cut the power (pyscard's disconnect). Not answered."""


@dataclass(frozen=True, slots=True)
class PowerOn:
    """Control ``01``: cold start (``SCardConnect``). Not answered."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Control ``02``: warm reset (``SCardReconnect`` with RESET). Not answered."""


@dataclass(frozen=True, slots=True)
class GetAtr:
    """Control ``04``: answered with the ATR; pcscd polls it about every 400 ms."""


@dataclass(frozen=True, slots=True)
class Apdu:
    """A command APDU (any payload longer than one byte); answered by one R-APDU."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Unknown:
    """A payload the protocol does not define: an empty one or an unknown one-byte code.

    The client logs it and sends nothing back (vpcd expects no answer to a control code).
    """

    payload: bytes


VpcdEvent = PowerOff | PowerOn | Reset | GetAtr | Apdu | Unknown

_CONTROL_EVENTS: dict[int, VpcdEvent] = {
    Control.POWER_OFF: PowerOff(),
    Control.POWER_ON: PowerOn(),
    Control.RESET: Reset(),
    Control.GET_ATR: GetAtr(),
}


def frame(payload: bytes) -> bytes:
    """One vpcd message: 2-byte big-endian length, then the payload (§2)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"vpcd payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return len(payload).to_bytes(2, "big") + payload


def port_for_reader(reader: int) -> int:
    """vpcd's TCP port for reader ``reader`` (0 to 15): 35963 + reader (scripts/pcsc-stack.sh)."""
    if not 0 <= reader < MAX_READERS:
        raise ValueError(f"reader index must be 0 to {MAX_READERS - 1}, not {reader}")
    return DEFAULT_PORT + reader


def reader_name(reader: int) -> str:
    """The PC/SC name of vpcd reader ``reader`` as scripts/pcsc-stack.sh configures pcscd.

    Readers 0 and 1 are Debian's ``Virtual PCD 00 00`` and ``Virtual PCD 00 01``; reader k >= 2 is
    ``Virtual PCD {k // 2} 00 {k % 2:02X}`` (one reader.conf entry, with its own name, per pair:
    pcscd numbers equal names only for readers of one driver file).
    """
    if not 0 <= reader < MAX_READERS:
        raise ValueError(f"reader index must be 0 to {MAX_READERS - 1}, not {reader}")
    if reader < 2:
        return f"Virtual PCD 00 {reader:02X}"
    return f"Virtual PCD {reader // 2} 00 {reader % 2:02X}"


class VpcdParser:
    """Sans-I/O decoder of the vpcd byte stream. Any split of the stream yields the same events."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received but not yet forming a whole message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[VpcdEvent]:
        """Add received bytes; return the events of every message now complete."""
        return [decode(payload) for payload in self.payloads(data)]

    def payloads(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the payload of every message now complete (what
        :meth:`feed` decodes). The serving loop's path: nothing is copied when ``data`` holds
        whole messages only, nothing is built for a message but its bytes."""
        buf = self._buffer
        if buf:
            buf += data
            data = bytes(buf)
            buf.clear()
        size = len(data)
        payloads: list[bytes] = []
        start = 0
        while size - start >= 2:
            end = start + 2 + (data[start] << 8 | data[start + 1])
            if end > size:
                break
            payloads.append(data[start + 2 : end])
            start = end
        if start < size:
            # The start of a message not yet whole: vpcd sends the length and the body in two
            # send() calls (§2), so the length often arrives alone.
            buf += data[start:]
        return payloads


def decode(payload: bytes) -> VpcdEvent:
    """The event one message's ``payload`` stands for (§2): a payload longer than one byte is an
    APDU, a known one-byte code a control event, anything else (empty, an undefined code)
    :class:`Unknown`. Never raises."""
    if len(payload) > 1:
        return Apdu(payload)
    if len(payload) == 1 and payload[0] in _CONTROL_EVENTS:
        return _CONTROL_EVENTS[payload[0]]
    return Unknown(payload)
