"""What a transport needs from a card: the narrow card-OS surface (as vicc's, without its habits)."""

from __future__ import annotations

from typing import Protocol


class CardLike(Protocol):
    """A card a reader can power and talk to. ``transmit`` never raises."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def reset(self) -> None: ...

    def transmit(self, apdu: bytes) -> bytes: ...
