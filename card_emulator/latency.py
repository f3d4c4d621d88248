"""Latency profiles: how long a real card takes per exchange, for the ``latency`` fault.

Wire time follows the standards (ISO/IEC 7816-3 for contact T=1 with the ATR's Fi/Di; ISO/IEC
14443-2/-3 Type B for contactless); processing times per instruction are ESTIMATED, since no public
measurement of this chip exists (docs/fault-plan.md says why each figure is what it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["LATENCY_PROFILES", "LatencyProfile", "atr_fi_di"]

# ---------------------------------------------------------------------------------------------

# ISO/IEC 7816-3 §7.1 (Table 7, Table 8): clock rate conversion Fi and baud rate adjustment Di by
# the index in TA1. None marks RFU values.
_FI = (372, 372, 558, 744, 1116, 1488, 1860, None, None, 512, 768, 1024, 1536, 2048, None, None)
_DI = (None, 1, 2, 4, 8, 16, 32, 64, 12, 20, None, None, None, None, None, None)


def atr_fi_di(atr: bytes) -> tuple[int, int]:
    """(Fi, Di) from the ATR's TA1, or the defaults (372, 1) without TA1 (ISO/IEC 7816-3 §8.3)."""
    if len(atr) >= 3 and atr[1] & 0x10:
        fi, di = _FI[atr[2] >> 4], _DI[atr[2] & 0x0F]
        if fi is not None and di is not None:
            return fi, di
    return 372, 1


@dataclass(frozen=True, slots=True)
class LatencyProfile:
    """Time a card spends per exchange: processing by instruction, plus the bytes on the wire.

    ``processing_ms``: (CLA class, INS) → milliseconds, ``default_ms`` for the rest. ``wire``:
    ``"t1"`` (contact: ISO/IEC 7816-3 T=1, 11 etu per character with TC1 = FF, 4 prologue/epilogue
    bytes per block each way, etu = Fi / (Di·f) from the card's ATR at ``clock_hz``) or ``"14443b"``
    (contactless: 10 etu per character, etu = 128 / 13.56 MHz at 106 kbit/s, ISO/IEC 14443-2/-3).
    ``source``: where each figure comes from.
    """

    name: str
    processing_ms: Mapping[tuple[int, int], float]
    default_ms: float
    wire: str
    clock_hz: float
    source: str

    def delay_ms(self, command: bytes, response: bytes, atr: bytes) -> float:
        """Milliseconds one exchange takes at this profile's pace: the instruction's processing time
        (estimated) plus the wire time of both APDUs — T=1 characters of 11 etu at the ATR's
        Fi/Di and this clock (ISO/IEC 7816-3), or Type B frames at 106 kbit/s (ISO/IEC 14443)."""
        key = (command[0] & 0x80, command[1]) if len(command) >= 2 else (0, 0)
        processing = self.processing_ms.get(key, self.default_ms)
        if self.wire == "t1":
            fi, di = atr_fi_di(atr)
            etu_s = fi / (di * self.clock_hz)
            characters = len(command) + len(response) + 8
            wire_s = characters * 11 * etu_s
        else:
            etu_s = 128 / 13_560_000
            wire_s = (len(command) + len(response) + 6) * 10 * etu_s
        return processing + wire_s * 1000


# Processing times: ESTIMATED (no public measurement of this chip exists): RSA-2048 private-key
# operations on smart-card crypto coprocessors take roughly 50–200 ms and a real card "hundreds of
# ms" per signature (issue 7), so 250 ms; a VERIFY writes the counter twice to EEPROM (a few ms per
# write) and hashes nothing, so 20 ms; SELECT and READ are file-system lookups, 2–3 ms.
_ESTIMATED_MS: dict[tuple[int, int], float] = {
    (0x00, 0xA4): 2.0,  # SELECT
    (0x00, 0xB0): 3.0,  # READ BINARY
    (0x00, 0xB2): 3.0,  # READ RECORD
    (0x00, 0x20): 20.0,  # VERIFY (the empty query is cheaper on a card; not distinguished)
    (0x00, 0x24): 30.0,  # CHANGE REFERENCE DATA
    (0x80, 0x32): 30.0,  # CHANGE KEY
    (0x80, 0x2A): 250.0,  # COMPUTE DIGITAL SIGNATURE, RSA-2048
    (0x00, 0x84): 5.0,  # GET CHALLENGE
}

LATENCY_PROFILES: dict[str, LatencyProfile] = {
    "contact": LatencyProfile(
        name="contact",
        processing_ms=_ESTIMATED_MS,
        default_ms=2.0,
        wire="t1",
        clock_hz=4_000_000,
        source="wire time: ISO/IEC 7816-3 (etu from the ATR's TA1, T=1 framing) at a 4 MHz "
        "reader clock (estimated: readers clock 3.5–5 MHz); processing: estimated",
    ),
    "contactless": LatencyProfile(
        name="contactless",
        processing_ms=_ESTIMATED_MS,
        default_ms=2.0,
        wire="14443b",
        clock_hz=13_560_000,
        source="wire time: ISO/IEC 14443-2/-3 Type B at 106 kbit/s; processing: estimated",
    ),
}
