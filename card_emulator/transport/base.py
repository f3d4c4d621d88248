"""What a transport needs from a card: the narrow card-OS surface (as vicc's, without its habits)."""

from __future__ import annotations

from typing import Protocol


class CardLike(Protocol):
    """A card a reader can power and talk to. ``transmit`` never raises."""

    @property
    def atr(self) -> bytes:
        """The Answer To Reset a reader reports (ISO 7816-3 §8)."""
        ...

    def power_on(self) -> None:
        """Power the card: a fresh session, counters kept."""
        ...

    def power_off(self) -> None:
        """Cut the power: the volatile state goes, counters stay."""
        ...

    def reset(self) -> None:
        """A warm reset: a fresh session, counters kept."""
        ...

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU in, the response APDU (data + SW1 SW2) out; never raises (a
        ``Slot`` raises ``CardRemovedError`` when the card is out)."""
        ...
