"""A command sent from inside a command: each exchange keeps its own reading of it.

``Card.transmit`` lends the card's one ``Context`` (and its ``Note``) to each command (issue 10:
nothing allocated per APDU). A command sent while another is being answered — by a PIN-write
hook (the kit's torn-VERIFY fault stops there) or by an observer — gets a context of its own, so
observers see both exchanges as the card read them, neither overwriting the other.
"""

from __future__ import annotations

import pytest

from card_emulator import Card
from card_emulator.rules import PinName
from card_emulator.trace import Exchange

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SELECT_USER_AUTH_PIN = bytes.fromhex("00A4020C020018")
SELECT_AUTH_CERT = bytes.fromhex("00A4020C02000A")
QUERY = bytes.fromhex("00200080")
READ_4 = bytes.fromhex("00B0000004")


class PowerLost(BaseException):
    """What the kit's Tear fault raises at the tearing point (a BaseException, as slot.py's)."""


@pytest.fixture
def card() -> Card:
    card = Card.create(None, seed=1)
    assert card.transmit(SELECT_JPKI)[-2:] == b"\x90\x00"
    assert card.transmit(SELECT_USER_AUTH_PIN)[-2:] == b"\x90\x00"
    return card


def verify(card: Card, *, right: bool) -> bytes:
    assert card.created_pins is not None
    value = card.created_pins[PinName.USER_AUTH].encode()
    if not right:
        value = bytes(b ^ 1 for b in value)
    return bytes([0x00, 0x20, 0x00, 0x80, len(value)]) + value


@pytest.mark.parametrize("right", [True, False])
def test_a_command_sent_by_a_pin_write_hook_has_its_own_note(card: Card, right: bool) -> None:
    seen: list[Exchange] = []
    card.add_observer(seen.append)
    inner: list[bytes] = []
    # Between the durable decrement and the comparison: a query sees the try already spent.
    card.add_pin_write_hook(lambda pin: inner.append(card.transmit(QUERY)))
    outer = card.transmit(verify(card, right=right))

    assert inner == [bytes.fromhex("63C2")]
    assert [e.command for e in seen] == [QUERY, verify(card, right=right)]
    query, verified = seen
    assert (query.action, query.pin, query.reason, query.sw) == (
        "query",
        PinName.USER_AUTH,
        "tries left",
        0x63C2,
    )
    # The outer command's reading is its own: not the query's action, reason or status.
    assert verified.action == "verify"
    assert verified.pin is PinName.USER_AUTH
    if right:
        assert (outer, verified.reason, verified.tries_left) == (b"\x90\x00", "", 3)
    else:
        assert (outer, verified.reason, verified.tries_left) == (b"\x63\xc2", "wrong value", 2)


def test_a_command_sent_by_an_observer_is_observed_with_its_own_note(card: Card) -> None:
    seen: list[Exchange] = []

    def reads_the_certificate(exchange: Exchange) -> None:
        if exchange.command == QUERY:
            card.transmit(SELECT_AUTH_CERT)

    card.add_observer(reads_the_certificate)
    card.add_observer(seen.append)
    assert card.transmit(QUERY) == bytes.fromhex("63C3")
    # The nested SELECT is answered (and observed) while the query's observers are being told.
    assert [(e.command, e.action, e.pin, e.reason) for e in seen] == [
        (SELECT_AUTH_CERT, "select_ef", None, ""),
        (QUERY, "query", PinName.USER_AUTH, "tries left"),
    ]
    assert card.transmit(READ_4)[-2:] == b"\x90\x00"  # the SELECT's EF is current
    assert (seen[-1].action, seen[-1].fid, seen[-1].pin) == ("read_binary", 0x000A, None)


def test_a_command_cut_short_by_power_loss_leaves_nothing_in_the_next_note(card: Card) -> None:
    seen: list[Exchange] = []
    card.add_observer(seen.append)

    def tear(pin: PinName) -> None:
        raise PowerLost

    card.add_pin_write_hook(tear)
    with pytest.raises(PowerLost):
        card.transmit(verify(card, right=False))
    card.remove_pin_write_hook(tear)
    assert seen == []  # no answer, nothing observed (slot.py reports the torn exchange itself)
    # The try is spent (durable before the answer); the next command is read afresh.
    assert card.transmit(QUERY) == bytes.fromhex("63C2")
    assert card.transmit(SELECT_AUTH_CERT) == b"\x90\x00"
    assert [(e.action, e.pin, e.reason) for e in seen] == [
        ("query", PinName.USER_AUTH, "tries left"),
        ("select_ef", None, ""),
    ]
    # And a later nested command still gets its own note (the guard was reset by the tear).
    card.add_pin_write_hook(lambda pin: card.transmit(SELECT_AUTH_CERT))
    card.transmit(SELECT_USER_AUTH_PIN)
    card.transmit(verify(card, right=True))
    assert [(e.action, e.reason) for e in seen[-2:]] == [("select_ef", ""), ("verify", "")]
