"""What a test rig does to a card beside its reader: a second contact, and snapshots of its memory.

A served card (``mynacard serve``) is driven by its PC/SC client through the reader and, at the same
time, steered by ``mynacard`` commands through a control channel. :class:`Contact` lets a command talk
to the chip without disturbing the reader's session; :class:`Snapshot` puts the card's persistent
state back between tests. Neither exists on the real chip (it has one contact interface and no
undo): they are test equipment, and say so in their names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
        self._card = card
        self._observers: list[Observer] = [observer] if observer is not None else []
        self._session = Session()

    @property
    def card(self) -> Card:
        return self._card

    def power_on(self) -> None:
        """A fresh session on this contact only (nothing selected or verified)."""
        with self._card._lock:
            self._session = Session()

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU through this contact; as ``Card.transmit``, it never raises."""
        with self._swapped():
            return self._card.transmit(apdu)

    def reset_pin(self, pin: PinName, new_value: str) -> None:
        """The issuer's reset (``Issuer.reset_pin``: new value, full tries, lock lifted), made
        through this contact: its session starts afresh; in the reader's session the PIN is no
        longer verified, and nothing else changes there (the client's next APDU sees the new
        counter). ``IssuerError`` for a value of the wrong format or a PIN the card lacks."""
        card = self._card
        with card._lock:
            with self._swapped():
                card.issuer.reset_pin(pin, new_value)
            card._session.verified.discard(pin)

    @contextmanager
    def _swapped(self) -> Iterator[None]:
        """The card's one session slot holds this contact's session for the duration."""
        card = self._card
        with card._lock:
            saved = (card._session, card._powered, card._observers, card._power_observers)
            card._session, card._powered = self._session, True
            card._observers, card._power_observers = self._observers, []  # not the reader's
            try:
                yield
            finally:
                self._session = card._session  # SELECT by AID replaces the session object
                card._session, card._powered, card._observers, card._power_observers = saved


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
        """The card's PIN records now. ``KeyError``-free: a card without a PIN has no record."""
        with card._lock:
            memory = card._memory
            records = tuple(memory.pin(pin) for pin in PinName if memory.has_pin(pin))
            return cls(card.issuer.meta().get("serial", ""), records)

    def restore(self, card: Card) -> None:
        """Put the records back; ``SnapshotMismatchError`` if ``card`` is another card."""
        with card._lock:
            serial = card.issuer.meta().get("serial", "")
            if serial != self.serial:
                raise SnapshotMismatchError(
                    f"the snapshot was taken of card {self.serial or '?'}, not of {serial or '?'}"
                )
            memory = card._memory
            for record in self.pins:
                memory.store.save_pin(record)
                memory._pins[record.name] = record
            powered = card._powered
            card.reset()  # volatile state as after a reset; in or out of the reader as before
            card._powered = powered
