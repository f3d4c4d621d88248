"""The card image: every EF's bytes, keys and PINs, against card-interface.md §4, §5, §7.1."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from apdu.tlv import decode_all, decode_tlv
from card_emulator import pki
from card_emulator.issuance import (
    TEXT_AP_CA_KEY_ID,
    BasicFour,
    CardImage,
    ap_basic_info_file,
    basic_four_file,
    cv_certificate_file,
    integrity_record_file,
    issue_card,
    my_number_file,
    read_basic_four,
    token_info_file,
    verify_integrity_record,
)
from card_emulator.persona import (
    DEFAULT_ISSUED,
    InitialPins,
    age_on,
    nth_birthday_after,
    verification_code_b,
)
from card_emulator.rules import (
    FILE_RULES,
    PIN_SPECS,
    SESSION_KEY_LOCATION,
    USER_PINS,
    AppName,
    FileKind,
    PinName,
)

J, T, R = AppName.JPKI, AppName.TEXT, AppName.JUKI

# card-interface.md §5.3: 山田　太郎 / 東京都千代田区霞が関２－１－２ / 19900102 / 1, 95 bytes.
GOLDEN_BASIC_FOUR = bytes.fromhex(
    "ff 20 5c df 21 08 00 0e 00 20 00 50 00 5b df 22 0f e5 b1 b1 e7 94 b0 e3 80 80 e5 a4 aa"
    " e9 83 8e df 23 2d e6 9d b1 e4 ba ac e9 83 bd e5 8d 83 e4 bb a3 e7 94 b0 e5 8c ba e9 9c"
    " 9e e3 81 8c e9 96 a2 ef bc 92 ef bc 8d ef bc 91 ef bc 8d ef bc 92 df 24 08 31 39 39 30"
    " 30 31 30 32 df 25 01 31"
)


@pytest.fixture(scope="module")
def card() -> CardImage:
    return issue_card(0)


@pytest.fixture(scope="module")
def under15() -> CardImage:
    return issue_card(0, variant="under15")


@pytest.fixture(scope="module")
def expired() -> CardImage:
    return issue_card(0, variant="expired")


def _cert(image: CardImage, fid: int) -> x509.Certificate:
    return x509.load_der_x509_certificate(image.files[(J, fid)])


def _key(image: CardImage, fid: int) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(image.keys[(J, fid)], password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _expected_locations(kind: set[FileKind], *, signing: bool) -> set[tuple[AppName, int]]:
    return {
        (rule.app, rule.fid)
        for rule in FILE_RULES
        if rule.kind in kind and (rule.required or signing)
    }


# --- Text AP file formats (§5.2–§5.5) ---------------------------------------------------------


def test_basic_four_reproduces_the_spec_example_byte_for_byte() -> None:
    data = basic_four_file("山田　太郎", "東京都千代田区霞が関２－１－２", date(1990, 1, 2), "1")
    assert data == GOLDEN_BASIC_FOUR
    assert len(data) == 95
    assert read_basic_four(data) == BasicFour(
        "山田　太郎", "東京都千代田区霞が関２－１－２", "19900102", "1"
    )


def test_long_basic_four_uses_81_xx_and_keeps_the_offsets_right() -> None:
    address = "北海道旭川市本町" + "１２３－４５６－７８９" * 4
    data = basic_four_file("佐々木　真由美", address, "19800217", "2")
    assert data[:3] == b"\xff\x20\x81" and data[3] == len(data) - 4
    offsets = struct.unpack(">4H", data[7:15])
    assert offsets[0] == 15  # FF 20 81 xx, DF 21 08 + 8
    for offset, tag in zip(offsets, (0xDF22, 0xDF23, 0xDF24, 0xDF25), strict=True):
        assert int.from_bytes(data[offset : offset + 2], "big") == tag
    assert read_basic_four(data).address == address


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(alphabet="山田太郎花子　ァ-ヶa", min_size=1, max_size=40),
    address=st.text(alphabet="東京都千代田区１２３－テストハイツ　", min_size=1, max_size=120),
    sex=st.sampled_from(["0", "1", "2", "9"]),
)
def test_basic_four_round_trips_with_a_consistent_offset_table(
    name: str, address: str, sex: str
) -> None:
    data = basic_four_file(name, address, "20000101", sex)
    assert read_basic_four(data) == BasicFour(name, address, "20000101", sex)


def test_read_basic_four_rejects_a_wrong_offset_table() -> None:
    broken = bytearray(GOLDEN_BASIC_FOUR)
    broken[7] ^= 0x01
    with pytest.raises(ValueError, match="offset"):
        read_basic_four(bytes(broken))


def test_my_number_file() -> None:
    assert my_number_file("123456789018") == bytes.fromhex(
        "FF 10 0C 31 32 33 34 35 36 37 38 39 30 31 38 FF FF"
    )
    with pytest.raises(ValueError):
        my_number_file("12345")


def test_integrity_record_layout_and_signature(card: CardImage) -> None:
    record = card.files[(T, 0x0003)]
    assert len(record) == 336
    assert record[:5] == bytes.fromhex("FF 30 82 01 4B")
    outer, _ = decode_tlv(record)
    df31, df32, df33 = outer.children()
    assert (df31.tag, df32.tag, df33.tag) == (0xDF31, 0xDF32, 0xDF33)
    assert df31.value == hashlib.sha256(card.files[(T, 0x0001)]).digest()
    ef0002 = card.files[(T, 0x0002)]
    table = decode_tlv(ef0002)[0].header_size + 3  # DF21's value
    span_start = struct.unpack(">H", ef0002[table : table + 2])[0]  # DF22's offset
    assert df32.value == hashlib.sha256(ef0002[span_start:]).digest()
    assert record[-261:-256] == bytes.fromhex("DF 33 82 01 00")
    pki.text_ap_issuer_key().public_key().verify(
        df33.value, record[5:75], padding.PKCS1v15(), hashes.SHA256()
    )
    assert verify_integrity_record(card.files)


@pytest.mark.parametrize("location", [(T, 0x0001), (T, 0x0002), (T, 0x0003)])
def test_integrity_record_detects_tampering(card: CardImage, location: tuple[AppName, int]) -> None:
    files = dict(card.files)
    tampered = bytearray(files[location])
    tampered[-3] ^= 0x01  # inside the digits, the sex or the signature
    files[location] = bytes(tampered)
    assert not verify_integrity_record(files)


def test_integrity_record_is_recomputed_for_changed_data(card: CardImage) -> None:
    files = dict(card.files)
    files[(T, 0x0002)] = GOLDEN_BASIC_FOUR
    assert not verify_integrity_record(files)
    files[(T, 0x0003)] = integrity_record_file(files[(T, 0x0001)], GOLDEN_BASIC_FOUR)
    assert verify_integrity_record(files)


def test_cv_certificate() -> None:
    cv = cv_certificate_file()
    assert len(cv) == 568
    assert cv[:10] == bytes.fromhex("7F 21 82 02 33 5F 4E 82 01 29")
    body = cv[10 : 10 + 297]
    assert body[:16] == TEXT_AP_CA_KEY_ID
    assert body[:7] == b"6000033" and body[7:9] == b"\x08\x05" and body[9:12] == b"001"
    assert body[16:23].startswith(b"6")  # test hierarchy
    key_tlvs = decode_all(body[32:])
    assert [t.tag for t in key_tlvs] == [0x90, 0x91]
    assert key_tlvs[0].value == b"\x01\x00\x01"
    issuer = pki.text_ap_issuer_key().public_key().public_numbers()
    assert int.from_bytes(key_tlvs[1].value, "big") == issuer.n
    assert cv[307:312] == bytes.fromhex("5F 37 82 01 00")
    pki.text_ap_ca_key().public_key().verify(cv[312:], body, padding.PKCS1v15(), hashes.SHA256())


def test_ap_basic_info() -> None:
    info = ap_basic_info_file()
    assert info[:5] == bytes.fromhex("FF 40 82 00 9F")
    assert len(info) == 164
    df41, df42, df43 = decode_all(info[5:])
    assert df41.value == bytes.fromhex("01 03 0E 01")
    assert len(df42.value) == 16
    assert len(df43.value) == 128 and df43.value[32:] == b"\xff" * 96


# --- JPKI files (§4) --------------------------------------------------------------------------


def test_token_info(card: CardImage) -> None:
    token = card.files[(J, 0x0006)]
    assert len(token) == 160
    assert token[:32] == b"JPKIAPICCTOKEN2" + b" " * 17
    assert b"TEST" in token[32:64] and b"TEST" in token[64:80]
    assert token[80:96] == card.serial.encode() == card.persona.card_serial.encode()
    flags, *_rest = struct.unpack(">I", token[96:100])
    assert flags == 0x0000040D
    assert struct.unpack(">II", token[116:124]) == (16, 6)
    assert token_info_file(card.serial) == token


def test_files_keys_pins_are_exactly_those_the_rules_list(card: CardImage) -> None:
    files = {FileKind.TRANSPARENT, FileKind.SECRET}
    assert set(card.files) == _expected_locations(files, signing=True)
    assert set(card.records) == _expected_locations({FileKind.RECORD}, signing=True)
    keys = _expected_locations({FileKind.PRIVATE_KEY}, signing=True) | {SESSION_KEY_LOCATION}
    assert set(card.keys) == keys
    assert set(card.pins) == set(PinName)
    assert card.has_signing_certificate
    assert card.files[(J, 0x0008)] == bytes.fromhex("8F 8F 00")


def test_pins(card: CardImage) -> None:
    p = card.persona
    assert card.pins[PinName.TEXT_CODE_A] == p.my_number
    assert card.pins[PinName.TEXT_CODE_B] == verification_code_b(p)
    for name, value in card.pins.items():
        assert PIN_SPECS[name].format.accepts(value), name
    for name in (*USER_PINS, PinName.TEXT_CODE_A):
        assert card.pins[name] not in repr(card), name


def test_text_and_juki_files_hold_the_persona(card: CardImage) -> None:
    p = card.persona
    assert card.files[(T, 0x0001)] == my_number_file(p.my_number)
    assert read_basic_four(card.files[(T, 0x0002)]) == BasicFour(
        p.name, p.address, f"{p.birth_date:%Y%m%d}", p.sex
    )
    assert card.files[(R, 0x0003)] == p.resident_code.encode()
    (record,) = card.records[(R, 0x0002)]
    assert len(record) == 16


def test_certificates_chain_to_the_cas_on_the_card(card: CardImage) -> None:
    sign_ca = _cert(card, 0x0002)
    auth_ca = _cert(card, 0x000B)
    assert sign_ca == pki.test_ca("signing").certificate
    assert auth_ca == pki.test_ca("user_auth").certificate
    _cert(card, 0x0001).verify_directly_issued_by(sign_ca)
    _cert(card, 0x000A).verify_directly_issued_by(auth_ca)


@pytest.mark.parametrize(("cert_fid", "key_fid"), [(0x0001, 0x001A), (0x000A, 0x0017)])
def test_each_private_key_matches_its_certificate(
    card: CardImage, cert_fid: int, key_fid: int
) -> None:
    key = _key(card, key_fid)
    digest_input = b"hello card"
    signature = key.sign(digest_input, padding.PKCS1v15(), hashes.SHA256())
    public_key = _cert(card, cert_fid).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, digest_input, padding.PKCS1v15(), hashes.SHA256())
    assert key.key_size == 2048


def test_certificate_validity(card: CardImage) -> None:
    p = card.persona
    for fid in (0x0001, 0x000A):
        cert = _cert(card, fid)
        assert cert.not_valid_before_utc.date() == date(2026, 3, 31)  # 00:00 JST
        assert cert.not_valid_after_utc.date() == nth_birthday_after(p.birth_date, p.issued, 5)


# --- Determinism ------------------------------------------------------------------------------


def test_same_seed_same_bytes(card: CardImage) -> None:
    again = issue_card(0)
    assert again == card
    assert again.files == card.files and again.keys == card.keys
    assert again.pins == card.pins and again.records == card.records


def test_different_seeds_differ(card: CardImage) -> None:
    other = issue_card(1)
    assert other.serial != card.serial
    assert other.pins != card.pins
    for location in [(J, 0x0001), (J, 0x0006), (J, 0x000A), (T, 0x0001), (T, 0x0002), (T, 0x0003)]:
        assert other.files[location] != card.files[location], location
    assert other.keys[(J, 0x0017)] != card.keys[(J, 0x0017)]
    # Shared by every card: the test roots and the text AP's CV certificate and basic info.
    for location in [(J, 0x0002), (J, 0x000B), (T, 0x0004), (T, 0x0005)]:
        assert other.files[location] == card.files[location], location


def test_default_issuance_date_is_fixed(card: CardImage) -> None:
    assert card.issued == DEFAULT_ISSUED == card.persona.issued


# --- Variants ---------------------------------------------------------------------------------


def test_under15_has_no_signing_certificate(under15: CardImage) -> None:
    assert age_on(under15.persona, under15.persona.issued) < 15
    assert not under15.has_signing_certificate
    assert (J, 0x0001) not in under15.files and (J, 0x001A) not in under15.keys
    assert under15.files[(J, 0x0008)] == bytes.fromhex("00 8F 00")
    assert set(under15.files) == _expected_locations(
        {FileKind.TRANSPARENT, FileKind.SECRET}, signing=False
    )
    assert {loc for loc in under15.keys if loc[0] is J} == {(J, 0x0017)}
    assert set(under15.pins) == set(PinName)
    p = under15.persona
    assert p.card_expiry == nth_birthday_after(p.birth_date, p.issued, 5)
    _cert(under15, 0x000A).verify_directly_issued_by(_cert(under15, 0x000B))
    assert verify_integrity_record(under15.files)


def test_expired_certificates_ended_before_the_issued_date(
    card: CardImage, expired: CardImage
) -> None:
    now = expired.issued
    assert now == DEFAULT_ISSUED
    assert expired.persona.issued == date(2020, 4, 1)
    assert expired.persona.card_expiry > now, "the card itself is still valid"
    for fid in (0x0001, 0x000A):
        cert = _cert(expired, fid)
        assert cert.not_valid_after_utc.date() < now
        cert.verify_directly_issued_by(
            pki.test_ca("signing" if fid == 1 else "user_auth").certificate
        )
    assert expired.serial != card.serial


def test_variant_serials_differ(card: CardImage, under15: CardImage, expired: CardImage) -> None:
    assert len({card.serial, under15.serial, expired.serial}) == 3


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="variant"):
        issue_card(0, variant="child")  # type: ignore[arg-type]


def test_under15_with_an_adult_birth_date_is_refused() -> None:
    with pytest.raises(ValueError, match="under 15"):
        issue_card(0, variant="under15", birth_date=date(1980, 1, 1))


# --- Overrides --------------------------------------------------------------------------------


def test_overrides_reach_the_files_and_the_certificate() -> None:
    pins = InitialPins("TESTPW1", "1111", "2222", "3333")
    image = issue_card(
        0,
        name="山田　太郎",
        address="東京都千代田区霞が関２－１－２",
        birth_date=date(1990, 1, 2),
        sex="1",
        my_number="123456789018",
        pins=pins,
    )
    assert image.files[(T, 0x0002)] == GOLDEN_BASIC_FOUR
    assert image.files[(T, 0x0001)] == my_number_file("123456789018")
    assert verify_integrity_record(image.files)
    assert image.pins[PinName.SIGNING] == "TESTPW1"
    assert image.pins[PinName.TEXT_CODE_A] == "123456789018"
    san = _cert(image, 0x0001).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    values = [
        decode_tlv(e.value)[0].value.decode() for e in san.value if isinstance(e, x509.OtherName)
    ]
    assert values[0] == "山田　太郎" and values[1] == "419900102"


@pytest.mark.parametrize(
    "overrides",
    [{"my_number": "123456789012"}, {"sex": "x"}, {"security_code": "12345"}],
)
def test_bad_overrides_are_value_errors(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        issue_card(0, **overrides)


def test_unknown_override_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        issue_card(0, favourite_colour="blue")


def test_card_image_is_frozen(card: CardImage) -> None:
    with pytest.raises(AttributeError):
        card.serial = "X"  # type: ignore[misc]
    assert replace(card, serial="X").serial == "X"
