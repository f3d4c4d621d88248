"""共通カードAP (§7.2), the MF-level GET DATA objects (§8) and SELECT by a DF-name prefix (§2.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_private_key
from hypothesis import given
from hypothesis import strategies as st

from card_emulator import Card
from card_emulator.apps import DF_ORDER, ISSUER_SECURITY_DOMAIN
from card_emulator.cv import mf_root_key, parse_cv_certificate
from card_emulator.issuance import issue_card
from card_emulator.rules import APP_AIDS, AppName, PinName
from tests.helpers import query, select_app, select_ef, send, sw_of, verify

SEED = 7


@pytest.fixture(scope="module")
def made() -> Card:
    return Card.create(None, seed=SEED)


@pytest.fixture
def card(made: Card) -> Iterator[Card]:
    made.reset()
    yield made


# --- 共通カードAP -------------------------------------------------------------------------------


def test_card_info_record(card: Card) -> None:
    holder = card.issuer.holder()
    select_app(card, AppName.COMMON)
    data, sw = send(card, "00B2010C00")  # record 1 of SFI 1, as myna-rs reads it
    assert sw == 0x9000
    assert data[:2] == b"\x01\x1c"
    text = data[2:].decode("ascii")
    assert text[:15] == holder.details["card_number"]
    assert text[15:20] == holder.details["municipality_code"]
    assert text[20:] == f"{holder.card_expiry:%Y%m%d}"
    select_ef(card, 0x0002)
    assert send(card, "00B2010400")[0][:7] == b"6000011"
    select_app(card, AppName.JUKI)
    assert send(card, "00B2010400")[1] == 0x6986  # no EF selected after the AP
    select_ef(card, 0x0002)
    assert send(card, "00B2010400")[0][:7] == b"6000011"  # the same record (myna-card)


def test_common_pin_has_its_own_counter() -> None:
    with Card.create(None, seed=SEED) as card:
        pins = card.created_pins or {}
        assert pins[PinName.COMMON] == pins[PinName.RESIDENT_REGISTRY]
        assert (
            verify(card, PinName.COMMON, "0000" if pins[PinName.COMMON] != "0000" else "1111")
            == 0x63C2
        )
        assert query(card, PinName.RESIDENT_REGISTRY) == 0x63C3
        assert verify(card, PinName.COMMON, pins[PinName.COMMON]) == 0x9000
        assert sw_of(card, "803200800439383736") == 0x9000  # CHANGE KEY (JICSAP)
        assert verify(card, PinName.COMMON, "9876") == 0x9000
        assert verify(card, PinName.RESIDENT_REGISTRY, pins[PinName.RESIDENT_REGISTRY]) == 0x9000


def test_common_pin_can_be_given() -> None:
    image = issue_card(SEED, common="4321")
    assert image.pins[PinName.COMMON] == "4321"
    with pytest.raises(ValueError, match="value withheld"):
        issue_card(SEED, common="12345")


def test_internal_authenticate(card: Card) -> None:
    key = load_der_private_key(issue_card(SEED).keys[(AppName.COMMON, 0x0019)], None)
    assert isinstance(key, rsa.RSAPrivateKey)
    select_app(card, AppName.COMMON)
    signature, sw = send(card, "00880099" + "10" + "AB" * 16 + "00")
    assert sw == 0x9000
    key.public_key().verify(signature, b"\xab" * 16, padding.PKCS1v15(), hashes.SHA256())
    select_ef(card, 0x0019)
    assert send(card, "00880080" + "01" + "AB" + "00")[1] == 0x9000  # the current EF
    assert sw_of(card, "0088009900") == 0x6700  # no challenge
    assert sw_of(card, "0088009C" + "01AB00") == 0x6981  # a PIN is no key
    select_app(card, AppName.JPKI)
    assert sw_of(card, "00880097" + "01AB00") == 0x6982  # behind a PIN
    verify(card, PinName.USER_AUTH, (card.created_pins or {})[PinName.USER_AUTH])
    assert sw_of(card, "00880097" + "01AB00") == 0x6985  # signs with 80 2A


# --- MF GET DATA ------------------------------------------------------------------------------


def test_mf_objects(card: Card) -> None:
    holder = card.issuer.holder()
    assert send(card, "00CA00F000") == (holder.details["municipality_code"].encode(), 0x9000)
    assert send(card, "00CA00F200") == (f"{holder.card_expiry:%Y%m%d}".encode(), 0x9000)
    assert send(card, "00CA004500") == (holder.details["card_number"].encode(), 0x9000)
    assert len(send(card, "00CA004200")[0]) == 16
    recognition, sw = send(card, "00CA006600")
    assert (
        sw == 0x9000 and recognition[:1] == b"\x66" and bytes.fromhex("2A864886FC6B") in recognition
    )
    assert sw_of(card, "00CA00F800") == 0x6700  # 565 bytes: extended Le only
    assert sw_of(card, "00CA00F002") == 0x6C05  # a short object, a short Le
    assert sw_of(card, "00CA0101" + "00") == 0x6A88
    select_app(card, AppName.TEXT)
    assert sw_of(card, "00CA00F000") == 0x6A88  # MF level only
    assert send(card, "00CA5F5100")[0] == card.atr[1:]  # except the ATR
    assert sw_of(card, "00A4040C07" + ISSUER_SECURITY_DOMAIN.hex()) == 0x9000
    assert sw_of(card, "00CA00F000") == 0x9000  # the Issuer Security Domain is MF level again


def test_mf_certificate_chain_verifies(card: Card) -> None:
    intermediate_id, _ = send(card, "00CA00F700")
    upper, sw = send(card, "00CA00F8000000")
    assert sw == 0x9000 and upper[:2] == b"\x5f\x4e"  # the template's contents, no 7F21
    lower, sw = send(card, "00CA7F21000000")
    assert sw == 0x9000
    root_certificate = parse_cv_certificate(upper)
    assert root_certificate.issuer_key_id == b"6000020\x08\x05001\x00\x00\x00\xa8"
    assert root_certificate.subject_key_id == intermediate_id
    root_certificate.verify(mf_root_key().public_key())
    card_certificate = parse_cv_certificate(lower)
    assert card_certificate.issuer_key_id == intermediate_id
    card_certificate.verify(root_certificate.public_key)


# --- SELECT by a DF-name prefix ----------------------------------------------------------------


def current_df(card: Card) -> bytes | None:
    """Which DF a SELECT reached: the next-occurrence walk tells them apart by their AIDs."""
    app = card._session.app
    return APP_AIDS[app] if app is not None else ISSUER_SECURITY_DOMAIN


def test_order_is_ascending_aids() -> None:
    assert tuple(sorted(DF_ORDER)) == DF_ORDER
    assert DF_ORDER[0] == ISSUER_SECURITY_DOMAIN
    assert DF_ORDER.index(APP_AIDS[AppName.COMMON]) < DF_ORDER.index(APP_AIDS[AppName.JPKI])


@given(aid=st.sampled_from(DF_ORDER), cut=st.integers(1, 16))
def test_every_prefix_walks_every_match_in_order(made: Card, aid: bytes, cut: int) -> None:
    prefix = aid[:cut]
    expected = [df for df in DF_ORDER if df.startswith(prefix)]
    command = bytes([0x00, 0xA4, 0x04, 0x0C, len(prefix)]) + prefix
    assert sw_of(made, command) == 0x9000
    seen = [current_df(made)]
    while sw_of(made, command[:3] + b"\x0e" + command[4:]) == 0x9000:
        seen.append(current_df(made))
    assert seen == expected
    assert sw_of(made, command[:3] + b"\x0d" + command[4:]) == 0x9000
    assert current_df(made) == expected[-1]
    assert sw_of(made, command[:3] + b"\x0f" + command[4:]) == (
        0x9000 if len(expected) > 1 else 0x6A82
    )


def test_prefix_select_clears_the_security_status(card: Card) -> None:
    verify(card, PinName.TEXT_INPUT_HELPER, (card.created_pins or {})[PinName.TEXT_INPUT_HELPER])
    assert sw_of(card, "00A4020C020001") == 0x9000 and sw_of(card, "00B0000001") == 0x9000
    assert sw_of(card, "00A4040C09D39210003100010104") == 0x9000  # first: 住基AP
    assert sw_of(card, "00A4040E09D39210003100010104") == 0x9000  # next: 券面事項確認AP
    assert sw_of(card, "00A4040E09D39210003100010104") == 0x9000  # next: the text AP again
    assert current_df(card) == APP_AIDS[AppName.TEXT]
    select_ef(card, 0x0001)
    assert sw_of(card, "00B0000001") == 0x6982
    assert sw_of(card, "00A4041C02D392") == 0x6A86
    assert sw_of(card, "00A4040C02D393") == 0x6A82
