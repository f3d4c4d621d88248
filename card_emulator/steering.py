"""What a test rig does to a card beside its reader: a second contact, and snapshots of its memory.

A served card (``mynacard serve``) is driven by its PC/SC client through the reader and, at the same
time, steered by ``mynacard`` commands through a control channel. :class:`Contact` lets a command talk
to the chip without disturbing the reader's session; :class:`Snapshot` puts the card's persistent
state back between tests. Neither exists on the real chip (it has one contact interface and no
undo): they are test equipment, and say so in their names.
"""

from __future__ import annotations

from dataclasses import dataclass

from card_emulator.apps import Session
from card_emulator.card import Card, Observer
from card_emulator.errors import EmulatorError
from card_emulator.pin import PinRecord
from card_emulator.rules import PinName

__all__ = ["Contact", "Snapshot", "SnapshotMismatchError"]


class Contact:
    """Another reader on the same chip, with its own volatile state.

    Its session — selected application and EF, verified PINs, a response waiting for GET RESPONSE
    — is its own; everything persistent is the card's: EFs, keys, PIN values and retry counters (a
    wrong VERIFY through a contact counts for every reader, pin-rules.md §2). Commands through it
    reach ``observer`` only, not the card's observers or power observers (a trace of the PC/SC
    client shows the client's exchanges). The closest thing in ISO 7816-4 is a second logical channel (§5.4.1) that
    no APDU can open; the My Number Card itself has only channel 0 (card-interface.md §1.3).
    """

    def __init__(self, card: Card, observer: Observer | None = None) -> None:
        """A contact on ``card``; ``observer`` (if any) hears this contact's exchanges only."""
        self._card = card
        self._observers: list[Observer] = [observer] if observer is not None else []
        self._session = Session()

    @property
    def card(self) -> Card:
        """The chip this contact reaches."""
        return self._card

    def power_on(self) -> None:
        """A fresh session on this contact only (nothing selected or verified)."""
        with self._card.lock:
            self._session.restart(None)

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU through this contact; as ``Card.transmit``, it never raises."""
        with self._card.other_contact(self._session, self._observers):
            return self._card.transmit(apdu)

    def reset_pin(self, pin: PinName, new_value: str) -> None:
        """The issuer's reset (``Issuer.reset_pin``: new value, full tries, lock lifted), made
        through this contact: its session starts afresh; in the reader's session the PIN is no
        longer verified, and nothing else changes there (the client's next APDU sees the new
        counter). ``IssuerError`` for a value of the wrong format or a PIN the card lacks."""
        card = self._card
        with card.lock:
            with card.other_contact(self._session, self._observers):
                card.issuer.reset_pin(pin, new_value)
            card.forget_verified(pin)


class SnapshotMismatchError(EmulatorError):
    """A snapshot restored to a card it was not taken from."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The persistent state a card's commands can change: every PIN's hashed value and counter.

    EFs, records and keys are never written through APDUs (the issuer's data), so they are not
    copied. :meth:`restore` writes every PIN record back durably (the card file too), so PIN values,
    retry counters and locks are exactly as when the snapshot was taken, and resets the card's
    volatile state (a freshly reset card: nothing selected, nothing verified).
    """

    serial: str
    pins: tuple[PinRecord, ...]

    @classmethod
    def take(cls, card: Card) -> Snapshot:
        """The card's PIN records now (``Card.pin_records``) and its serial."""
        with card.lock:
            return cls(card.issuer.meta().get("serial", ""), card.pin_records())

    def restore(self, card: Card) -> None:
        """Put the records back (``Card.restore_pin_records``: durable, then the volatile state as
        after a reset, in or out of the reader as before); ``SnapshotMismatchError`` if ``card``
        is another card, ``CardStorageError`` if its file cannot be written."""
        with card.lock:
            serial = card.issuer.meta().get("serial", "")
            if serial != self.serial:
                raise SnapshotMismatchError(
                    f"the snapshot was taken of card {self.serial or '?'}, not of {serial or '?'}"
                )
            card.restore_pin_records(self.pins)
