"""The sample client's own tests: only the public test kit (the mynacard plugin, personas,
strategies, faults, traces). No conftest: the plugin comes with the installed package."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from mynacard_client import (
    CardCommandError,
    MyNumberClient,
    PinLockedError,
    WrongPinError,
)

from card_emulator import Card, PinName
from card_emulator.testing import (
    CardRemovedError,
    ForceStatus,
    RemoveCard,
    Slot,
    assert_replays,
    personas,
)
from card_emulator.testing.personas import NamedPersona
from card_emulator.testing.plugin import MynacardFactory
from card_emulator.testing.strategies import pin_values

DIGEST_INFO = (
    bytes.fromhex("3031300D060960864801650304020105000420") + hashlib.sha256(b"x").digest()
)


def test_reads_the_certificate(mynacard: Card) -> None:
    der = MyNumberClient(mynacard.transmit).read_auth_certificate()
    certificate = x509.load_der_x509_certificate(der)
    assert "JPKI-TEST" in certificate.issuer.rfc4514_string()  # a test CA, never the real one


def test_the_signature_verifies_with_the_certificate(mynacard: Card) -> None:
    client = MyNumberClient(mynacard.transmit)
    pin = (mynacard.created_pins or {})[PinName.USER_AUTH]
    signature = client.sign_with_auth_key(pin, DIGEST_INFO)
    key = x509.load_der_x509_certificate(client.read_auth_certificate()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, b"x", padding.PKCS1v15(), hashes.SHA256())


def test_a_wrong_pin_says_how_many_tries_are_left(mynacard: Card) -> None:
    client = MyNumberClient(mynacard.transmit)
    with pytest.raises(WrongPinError) as wrong:
        client.sign_with_auth_key("0000", DIGEST_INFO)
    assert wrong.value.tries_left == 2
    assert client.auth_tries_left() == 2


@pytest.mark.mynacard(locked=["user_auth"])
def test_a_locked_pin_is_reported_as_locked(mynacard: Card) -> None:
    with pytest.raises(PinLockedError):
        MyNumberClient(mynacard.transmit).sign_with_auth_key("1234", DIGEST_INFO)


@settings(deadline=None, max_examples=30)
@given(pin=pin_values(PinName.USER_AUTH, valid=False))
def test_badly_formed_pins_never_reach_the_card(pin: str) -> None:
    sent: list[bytes] = []
    with pytest.raises(ValueError):
        MyNumberClient(lambda apdu: sent.append(apdu) or b"\x90\x00").sign_with_auth_key(
            pin, DIGEST_INFO
        )
    assert not any(apdu[1] == 0x20 for apdu in sent)  # no VERIFY spent a try


@pytest.mark.parametrize(
    "persona",
    [personas.LONG_ADDRESS, personas.NON_BMP_NAME, personas.SEX_UNKNOWN, personas.LEAP_DAY],
    ids=lambda p: p.name,
)
def test_the_basic_four_parser_survives_hard_holders(
    mynacard_factory: MynacardFactory, persona: NamedPersona
) -> None:
    card = mynacard_factory(persona=persona)
    pin = (card.created_pins or {})[PinName.TEXT_INPUT_HELPER]
    read = MyNumberClient(card.transmit).read_basic_four(pin)
    holder = card.issuer.holder()
    assert (read.name, read.address, read.sex) == (holder.name, holder.address, holder.sex)
    assert read.birth_date == f"{holder.birth_date:%Y%m%d}"


def test_through_a_pyscard_reader(mynacard_reader: str) -> None:
    assert MyNumberClient.from_reader(mynacard_reader).auth_tries_left() == 3


def test_a_card_pulled_out_mid_read_is_an_error_not_a_hang(mynacard: Card) -> None:
    slot = Slot(mynacard, [RemoveCard(match="00B0")])
    with pytest.raises(CardRemovedError):
        MyNumberClient(slot.transmit).read_auth_certificate()


def test_a_memory_failure_on_the_signature_is_reported(mynacard_slot: Slot) -> None:
    mynacard_slot.set_faults([ForceStatus(0x6581, match="SIGN")])
    pin = (mynacard_slot.card.created_pins or {})[PinName.USER_AUTH]
    with pytest.raises(CardCommandError, match="6581"):
        MyNumberClient(mynacard_slot.transmit).sign_with_auth_key(pin, DIGEST_INFO)


def test_the_recorded_conversation_still_replays() -> None:
    assert_replays(Path(__file__).parent / "traces" / "sign_and_read.jsonl")
