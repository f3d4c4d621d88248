"""PIN semantics: pin-rules.md §2, §3, §6 and card-interface.md §2.4, §2.5, §10."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from card_emulator import Card, IssuerError
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from tests.helpers import query, select_app, send, sw_of, verify, wrong_value

ALL_PINS = list(PinName)


def tries_of(card: Card, pin: PinName) -> int:
    return card.issuer.pin_status(pin).remaining


@pytest.mark.parametrize("pin", ALL_PINS)
def test_wrong_entries_count_down_then_lock(card: Card, pin: PinName) -> None:
    right = card.created_pins[pin]  # type: ignore[index]
    bad = wrong_value(pin, right)
    maximum = PIN_SPECS[pin].max_tries
    assert query(card, pin) == 0x63C0 | maximum
    for left in range(maximum - 1, -1, -1):
        assert verify(card, pin, bad) == 0x63C0 | left
    # Locked: every VERIFY answers 6984, the correct value included (pin-rules.md §2, seed 002).
    assert verify(card, pin, bad) == 0x6984
    assert verify(card, pin, right) == 0x6984
    # The empty query still answers 63xx (OpenSC's binding needs SW1 = 63) and shows 0.
    assert query(card, pin) == 0x63C0
    assert tries_of(card, pin) == 0


@pytest.mark.parametrize("pin", ALL_PINS)
def test_one_correct_entry_restores_the_maximum(card: Card, pin: PinName) -> None:
    right = card.created_pins[pin]  # type: ignore[index]
    maximum = PIN_SPECS[pin].max_tries
    verify(card, pin, wrong_value(pin, right))
    verify(card, pin, wrong_value(pin, right))
    assert tries_of(card, pin) == maximum - 2
    assert verify(card, pin, right) == 0x9000
    assert tries_of(card, pin) == maximum


def test_query_spends_nothing_and_reports_the_full_count_after_success(card: Card) -> None:
    pin = PinName.USER_AUTH
    for _ in range(10):
        assert query(card, pin) == 0x63C3
    assert verify(card, pin, card.created_pins[pin]) == 0x9000  # type: ignore[index]
    # OpenSC#959: after a correct VERIFY the empty query still answers 63C3, not 9000.
    assert sw_of(card, "00200080") == 0x63C3
    assert tries_of(card, pin) == 3


def test_counters_are_independent_even_with_the_same_value() -> None:
    card = Card.create(
        None, seed=3, user_auth="4321", resident_registry="4321", text_input_helper="4321"
    )
    verify(card, PinName.USER_AUTH, "0000")
    verify(card, PinName.USER_AUTH, "0000")
    assert tries_of(card, PinName.USER_AUTH) == 1
    assert tries_of(card, PinName.RESIDENT_REGISTRY) == 3
    assert tries_of(card, PinName.TEXT_INPUT_HELPER) == 3
    assert verify(card, PinName.RESIDENT_REGISTRY, "4321") == 0x9000
    assert tries_of(card, PinName.USER_AUTH) == 1  # a success elsewhere restores nothing here


@pytest.mark.parametrize("value", [b"12345", b"123", b"ABCD", b"\xff\x00\x01\x02"])
def test_a_value_of_the_wrong_format_counts_as_a_wrong_entry(card: Card, value: bytes) -> None:
    assert verify(card, PinName.USER_AUTH, value) == 0x63C2


def test_lower_case_signing_password_is_a_wrong_entry(card: Card) -> None:
    right = card.created_pins[PinName.SIGNING]  # type: ignore[index]
    assert verify(card, PinName.SIGNING, right.lower()) == 0x63C4


def test_verified_status_ends_with_a_df_select_or_power(card: Card) -> None:
    pin = PinName.USER_AUTH
    assert verify(card, pin, card.created_pins[pin]) == 0x9000  # type: ignore[index]
    assert sw_of(card, "00A4020C020017") == 0x9000  # an EF select keeps the status (§2.1)
    assert pin in card._session.verified
    select_app(card, PIN_SPECS[pin].app)
    assert pin not in card._session.verified
    assert verify(card, pin, card.created_pins[pin]) == 0x9000  # type: ignore[index]
    card.power_off()
    card.power_on()
    assert pin not in card._session.verified
    assert verify(card, pin, card.created_pins[pin]) == 0x9000  # type: ignore[index]
    card.reset()
    assert pin not in card._session.verified


def test_a_wrong_entry_after_success_withdraws_the_status(card: Card) -> None:
    pin = PinName.USER_AUTH
    verify(card, pin, card.created_pins[pin])  # type: ignore[index]
    assert sw_of(card, "00200080" + "04" + b"0000".hex()) in (0x63C2,)
    assert pin not in card._session.verified


# -- CHANGE (pin-rules.md §3) ---------------------------------------------------------------------


def change(card: Card, pin: PinName, new: str) -> int:
    cla, ins, p1, p2 = PIN_SPECS[pin].change.value  # type: ignore[union-attr]
    data = new.encode("ascii")
    return sw_of(card, bytes([cla, ins, p1, p2, len(data)]) + data)


@pytest.mark.parametrize("pin", USER_PINS)
def test_change_needs_the_current_pin_then_takes_the_new_one(card: Card, pin: PinName) -> None:
    old = card.created_pins[pin]  # type: ignore[index]
    new = "ZX98765" if pin is PinName.SIGNING else "8642"
    query(card, pin)
    assert change(card, pin, new) == 0x6982  # not verified
    assert verify(card, pin, old) == 0x9000
    assert change(card, pin, new) == 0x9000
    assert verify(card, pin, old) == 0x63C0 | (PIN_SPECS[pin].max_tries - 1)
    assert verify(card, pin, new) == 0x9000


@pytest.mark.parametrize(
    ("pin", "bad"),
    [
        (PinName.SIGNING, "ABCDE"),  # too short
        (PinName.SIGNING, "ABCDEFGHIJKLMNOPQ1"),  # too long
        (PinName.SIGNING, "ABCDEFG"),  # no digit
        (PinName.SIGNING, "1234567"),  # no letter
        (PinName.SIGNING, "abc1234"),  # lower case
        (PinName.USER_AUTH, "12345"),
        (PinName.USER_AUTH, "12a4"),
        (PinName.RESIDENT_REGISTRY, "123"),
        (PinName.TEXT_INPUT_HELPER, "abcd"),
    ],
)
def test_change_refuses_a_new_value_of_the_wrong_format(card: Card, pin: PinName, bad: str) -> None:
    old = card.created_pins[pin]  # type: ignore[index]
    assert verify(card, pin, old) == 0x9000
    assert change(card, pin, bad) == 0x6A80
    assert verify(card, pin, old) == 0x9000  # the old value still holds


def test_change_on_a_locked_pin_is_refused(card: Card) -> None:
    pin = PinName.USER_AUTH
    for _ in range(3):
        verify(card, pin, "0000" if card.created_pins[pin] != "0000" else "1111")  # type: ignore[index]
    assert change(card, pin, "2468") == 0x6984


def test_change_with_the_wrong_instruction_for_the_application(card: Card) -> None:
    verify(card, PinName.RESIDENT_REGISTRY, card.created_pins[PinName.RESIDENT_REGISTRY])  # type: ignore[index]
    assert sw_of(card, "002401800431323334") == 0x6D00  # 住基AP changes with 80 32 (§2.5)
    verify(card, PinName.USER_AUTH, card.created_pins[PinName.USER_AUTH])  # type: ignore[index]
    assert sw_of(card, "803200800431323334") == 0x6D00


# -- issuer reset (pin-rules.md §3, §6) -----------------------------------------------------------


@pytest.mark.parametrize("pin", USER_PINS)
def test_only_an_issuer_reset_lifts_a_lock(card: Card, pin: PinName) -> None:
    right = card.created_pins[pin]  # type: ignore[index]
    for _ in range(PIN_SPECS[pin].max_tries):
        verify(card, pin, wrong_value(pin, right))
    assert verify(card, pin, right) == 0x6984
    new = "NEW2026" if pin is PinName.SIGNING else "9753"
    card.issuer.reset_pin(pin, new)
    assert card.issuer.pin_status(pin).remaining == PIN_SPECS[pin].max_tries
    assert verify(card, pin, new) == 0x9000


def test_issuer_reset_checks_the_format(card: Card) -> None:
    with pytest.raises(IssuerError, match="6-16"):
        card.issuer.reset_pin(PinName.SIGNING, "abc")
    with pytest.raises(IssuerError, match="4 digits"):
        card.issuer.reset_pin(PinName.USER_AUTH, "12345")


def test_no_pin_is_stored_in_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "c.card"
    card = Card.create(path, seed=11, signing="QX7TEST9", user_auth="8093")
    card.close()
    db = sqlite3.connect(path)
    rows = db.execute("SELECT salt, digest FROM pins").fetchall()
    meta = " ".join(value for (value,) in db.execute("SELECT value FROM meta"))
    db.close()
    assert len(rows) == len(PinName)
    for salt, digest in rows:
        assert b"QX7TEST9" not in bytes(salt) + bytes(digest)
        assert b"8093" not in bytes(salt) + bytes(digest)
    assert b"QX7TEST9" not in path.read_bytes()
    assert "QX7TEST9" not in meta and "8093" not in meta


def test_verify_p2_forms(card: Card) -> None:
    select_app(card, PIN_SPECS[PinName.USER_AUTH].app)
    assert send(card, "00200098")[1] == 0x63C3  # 80 + SFI: select and query in one (§2.4)
    assert send(card, "00200080")[1] == 0x63C3  # ... and it became the current EF
    assert send(card, "00200180")[1] == 0x6A86
    assert send(card, "00200000")[1] == 0x6A86
    assert send(card, "0020009F")[1] == 0x6A86
    assert send(card, "00200081")[1] == 0x6981  # EF 0001 exists but is a certificate
    assert send(card, "00200085")[1] == 0x6A82  # no EF 0005 in this card's JPKI AP
