"""Test equipment on the card's public surface: a second contact and PIN snapshots
(``card_emulator.steering``; served cards use them, ``mynacard ctl``)."""

from __future__ import annotations

from card_emulator import Card
from card_emulator.rules import AppName, PinName
from card_emulator.steering import Contact, Snapshot
from card_emulator.trace import Exchange
from tests.helpers import query, select_app, verify


def test_a_contact_keeps_its_own_session_and_shares_the_counters(card: Card) -> None:
    pin = (card.created_pins or {})[PinName.USER_AUTH]
    seen: list[Exchange] = []
    card.add_observer(seen.append)
    assert verify(card, PinName.USER_AUTH, pin) == 0x9000  # the reader's session
    heard: list[Exchange] = []
    contact = Contact(card, heard.append)
    assert verify(contact, PinName.USER_AUTH, "0000") == 0x63C2  # counted on the chip
    assert select_app(contact, AppName.TEXT) == 0x9000
    assert len(heard) == 4 and len(seen) == 3  # the reader's observers heard none of it
    records = {record.name: record for record in card.pin_records()}
    assert records[PinName.USER_AUTH].remaining == 2
    contact.reset_pin(PinName.USER_AUTH, "1234")  # the issuer's reset, through the contact
    assert query(card, PinName.USER_AUTH) == 0x63C3  # the reader sees full tries at once


def test_a_snapshot_puts_the_counters_back_and_keeps_the_power(card: Card) -> None:
    snapshot = Snapshot.take(card)
    assert verify(card, PinName.SIGNING, "WRONG1") == 0x63C4
    events: list[str] = []
    card.add_power_observer(events.append)
    card.power_off()
    assert not card.powered
    snapshot.restore(card)
    assert not card.powered and events == ["power_off", "reset"]
    assert query(card, PinName.SIGNING) == 0x63C5  # a command powers the card again
    assert card.powered
