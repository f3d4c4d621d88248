"""The public hypothesis strategies hold what they promise, against the real card."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from card_emulator import AppName, Card, PinName
from card_emulator.issuance import Variant, read_basic_four
from card_emulator.pin_names import parse_pin_name
from card_emulator.rules import PIN_SPECS
from card_emulator.testing import read_ef, select_app, select_ef, send, verify, verify_apdu
from card_emulator.testing.strategies import (
    ERA_BOUNDARY_DATES,
    INSTRUCTIONS,
    cards,
    holders,
    invalid_commands,
    pin_values,
    valid_commands,
)


@pytest.fixture(scope="module")
def card() -> Iterator[Card]:
    with Card.create(None, seed=7) as made:
        yield made


def _states(card: Card) -> Iterator[str]:
    """The card at MF level, in each application, and with a PIN verified."""
    card.reset()
    yield "after reset"
    for app in AppName:
        select_app(card, app)
        yield f"in {app.value}"
    verify(card, PinName.USER_AUTH, (card.created_pins or {})[PinName.USER_AUTH])
    select_ef(card, 0x0017)
    yield "JPKI key selected, PIN verified"


@settings(max_examples=150)
@given(apdu=invalid_commands())
def test_invalid_commands_are_refused_in_every_state(card: Card, apdu: bytes) -> None:
    for state in _states(card):
        sw = int.from_bytes(card.transmit(apdu)[-2:], "big")
        assert sw != 0x9000 and sw >> 8 != 0x61, (state, apdu.hex())
        assert sw != 0x6F00, (state, apdu.hex())


@pytest.mark.parametrize("name", [i.name for i in INSTRUCTIONS])
def test_each_instruction_has_valid_and_invalid_commands(card: Card, name: str) -> None:
    @settings(max_examples=15)
    @given(valid=valid_commands(name), invalid=invalid_commands(name))
    def check(valid: bytes, invalid: bytes) -> None:
        for _ in _states(card):
            assert card.transmit(valid)[-2:] != b"\x6f\x00"  # never a bug
            assert card.transmit(invalid)[-2:] not in (b"\x90\x00", b"\x6f\x00")

    check()


@pytest.mark.parametrize("pin", [*PinName, "signing", "sign", "user-auth"])
def test_pin_values_follow_each_format(pin: PinName | str) -> None:
    """Also for a PIN named by its value or an alias, as the README's examples name them."""
    fmt = PIN_SPECS[parse_pin_name(pin)].format

    @settings(max_examples=40)
    @given(good=pin_values(pin), bad=pin_values(pin, valid=False))
    def check(good: str, bad: str) -> None:
        assert fmt.accepts(good)
        assert not fmt.accepts(bad)

    check()


@settings(max_examples=40)
@given(value=pin_values(PinName.USER_AUTH, valid=False))
def test_a_badly_formatted_pin_is_a_counted_wrong_entry(card: Card, value: str) -> None:
    """card-interface.md §10.1: the card compares bytes; a malformed value is a mismatch."""
    card.issuer.reset_pin(PinName.USER_AUTH, (card.created_pins or {})[PinName.USER_AUTH])
    select_app(card, AppName.JPKI)
    select_ef(card, 0x0018)
    data = value.encode("utf-8")[:255]
    assert send(card, verify_apdu(data))[1] == 0x63C2


@settings(max_examples=25)
@given(card=cards())
def test_every_generated_holder_issues_and_reads_back(card: Card) -> None:
    """A holder the real card can hold must issue; EF 0002 and 照合番号B agree with it."""
    holder = card.issuer.holder()
    code_b = (card.created_pins or {})[PinName.TEXT_CODE_B]
    assert verify(card, PinName.TEXT_CODE_B, code_b) == 0x9000
    data, sw = read_ef(card, 0x0002)
    assert sw == 0x9000
    read = read_basic_four(data)
    assert (read.name, read.address, read.sex) == (holder.name, holder.address, holder.sex)
    assert read.birth_date == f"{holder.birth_date:%Y%m%d}"
    card.close()


@settings(max_examples=60)
@given(data=st.data(), variant=st.sampled_from(["standard", "under15", "expired"]))
def test_holders_fit_their_variant(data: st.DataObject, variant: Variant) -> None:
    holder = data.draw(holders(variant=variant))
    assert holder["sex"] in ("0", "1", "2", "9")
    born = holder["birth_date"]
    assert isinstance(born, date)
    if variant == "under15":
        assert born > date(2011, 4, 1)
    if variant == "expired":
        assert born <= date(2020, 4, 1)


def test_text_the_card_cannot_hold_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="without lone surrogates"):
        Card.create(None, seed=0, name="\ud800\u3000X")


def test_era_boundaries_are_the_documented_days() -> None:
    assert [d.isoformat() for d in ERA_BOUNDARY_DATES[4:8]] == [
        "1989-01-07",
        "1989-01-08",
        "2019-04-30",
        "2019-05-01",
    ]
