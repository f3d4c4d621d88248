"""Secure messaging of the text AP (card-interface.md §5.7), driven by a terminal written from the
spec (tests/sm_client.py), never by the card's own code."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card_emulator import Card
from card_emulator.rules import AppName, PinName
from tests.helpers import read_ef, select_app, send, verify
from tests.sm_client import Terminal, parse_session_key_file, set_session_key_apdu

SEED = 7


@pytest.fixture(scope="module")
def made() -> Card:
    return Card.create(None, seed=SEED)


@pytest.fixture
def card(made: Card) -> Iterator[Card]:
    made.reset()
    yield made


def pin(card: Card, name: PinName) -> str:
    return (card.created_pins or {})[name]


def session_key(card: Card) -> rsa.RSAPublicKey:
    data, sw = send(card, "00B08600000000")
    assert sw == 0x9000
    return parse_session_key_file(data)


def open_session(card: Card) -> Terminal:
    verify(card, PinName.TEXT_INPUT_HELPER, pin(card, PinName.TEXT_INPUT_HELPER))
    terminal, apdu = Terminal.open(session_key(card), os.urandom(32), os.urandom(32))
    assert send(card, apdu)[1] == 0x9000
    return terminal


def test_an_sm_read_returns_what_a_plain_read_returns(card: Card) -> None:
    terminal = open_session(card)
    my_number, sw = terminal.send(card.transmit, bytes.fromhex("00A4020C020001"))
    assert (my_number, sw) == (b"", 0x9000)
    data, sw = terminal.send(card.transmit, bytes.fromhex("00B00000"))
    assert sw == 0x9000
    assert data == read_ef(card, 0x0001)[0]
    assert terminal.send(card.transmit, bytes.fromhex("00A4020C020002"))[1] == 0x9000
    data, sw = terminal.send(card.transmit, bytes.fromhex("00B00000"))
    assert sw == 0x9000 and data == read_ef(card, 0x0002)[0]  # plain reads cost no counter
    data, sw = terminal.send(card.transmit, bytes.fromhex("00B0000405"))
    assert data == read_ef(card, 0x0002)[0][4:9]


def test_refused_commands_advance_the_counter(card: Card) -> None:
    terminal = open_session(card)
    assert (
        terminal.send(card.transmit, bytes.fromhex("00200094") + b"\x0c" + b"0" * 12)[1] == 0x63C9
    )
    assert terminal.send(card.transmit, bytes.fromhex("00A4020C02FFFF"))[1] == 0x6A82
    code_a = pin(card, PinName.TEXT_CODE_A).encode()
    assert terminal.send(card.transmit, bytes.fromhex("002000940C") + code_a)[1] == 0x9000
    assert terminal.send(card.transmit, bytes.fromhex("00200094"))[1] == 0x63CA  # the query


def test_a_lost_counter_ends_the_session(card: Card) -> None:
    terminal = open_session(card)
    terminal.counter += 1
    assert terminal.send(card.transmit, bytes.fromhex("00A4020C020001"))[1] == 0x6988
    assert send(card, terminal.wrap(bytes.fromhex("00B00000")))[1] == 0x69FC
    assert send(card, "00A4020C020001")[1] == 0x9000  # plain commands still work
    select_app(card, AppName.TEXT)  # a new session needs the PIN again
    assert send(card, terminal.wrap(bytes.fromhex("00B00000")))[1] == 0x69FC
    terminal = open_session(card)
    assert terminal.send(card.transmit, bytes.fromhex("00A4020C020001"))[1] == 0x9000


def test_set_session_key_needs_the_pin_in_clear(card: Card) -> None:
    select_app(card, AppName.TEXT)
    verify(card, PinName.TEXT_CODE_A, pin(card, PinName.TEXT_CODE_A))
    key = session_key(card)
    _, apdu = Terminal.open(key, os.urandom(32))
    assert send(card, apdu)[1] == 0x6982  # 照合番号A does not open a session (myna-card text.rs)
    verify(card, PinName.TEXT_INPUT_HELPER, pin(card, PinName.TEXT_INPUT_HELPER))
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    both = b"\xa0\x44\x80\x20" + bytes(32) + b"\x81\x20" + bytes(32)
    mac_only = b"\xa0\x22\x81\x20" + bytes(32)
    for message in (both, mac_only, b"\xa0\x20\x80\x1e" + bytes(30)):
        assert send(card, set_session_key_apdu(key.encrypt(message, oaep)))[1] == 0x6A80
    other = rsa.generate_private_key(65537, 2048).public_key()
    good = b"\xa0\x22\x80\x20" + bytes(32)
    assert send(card, set_session_key_apdu(other.encrypt(good, oaep)))[1] == 0x6A80
    assert send(card, set_session_key_apdu(b"\xff" * 256))[1] == 0x6F00  # ≥ the modulus
    assert send(card, set_session_key_apdu(b"\x01" * 255))[1] == 0x6700
    assert send(card, "80AE0100")[1] == 0x6A86


def test_header_authentication_and_other_instructions(card: Card) -> None:
    terminal = open_session(card)
    wrapped = bytearray(terminal.wrap(bytes.fromhex("00A4020C020001")))
    assert send(card, bytes([0x0C]) + bytes(wrapped[1:]))[1] == 0x6987
    assert send(card, terminal.wrap(bytes.fromhex("00A4020C020001")))[1] == 0x69FC
    terminal = open_session(card)
    assert send(card, "08CA00F000")[1] == 0x6882  # not offered under SM; the count moves on
    terminal.counter += 1
    assert terminal.send(card.transmit, bytes.fromhex("00A4020C020001"))[1] == 0x9000


def test_no_sm_elsewhere(card: Card) -> None:
    select_app(card, AppName.JPKI)
    assert send(card, "08B0000000")[1] == 0x69FC
    assert send(card, "08A4020C020001")[1] == 0x6882
    select_app(card, AppName.TEXT)
    assert send(card, "08B0000000")[1] == 0x69FC  # no session yet
