"""券面事項入力補助AP (text input helper) and 住基AP: files, keys, access (card-interface.md §5, §7.1)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apdu import decode_all, decode_tlv
from card_emulator import Card
from card_emulator.rules import AppName, PinName
from tests.helpers import read_ef, select_app, send, sw_of, verify

TEXT_AID = "D3921000310001010408"


def test_my_number_with_the_pin_as_myna_reads_it(card: Card) -> None:
    """§5 flow: SELECT AP, SELECT 0011, VERIFY, SELECT 0001, READ 17 bytes."""
    assert sw_of(card, "00A4040C0A" + TEXT_AID) == 0x9000
    assert sw_of(card, "00A4020C020001") == 0x9000
    assert sw_of(card, "00B0000011") == 0x6982
    assert (
        verify(card, PinName.TEXT_INPUT_HELPER, card.created_pins[PinName.TEXT_INPUT_HELPER])
        == 0x9000
    )  # type: ignore[index]
    assert sw_of(card, "00A4020C020001") == 0x9000
    data, sw = send(card, "00B0000011")
    holder = card.issuer.holder()
    assert sw == 0x9000
    assert data == b"\xff\x10\x0c" + holder.my_number.encode() + b"\xff\xff"
    (tlv,) = decode_all(data)
    assert tlv.tag == 0xFF10 and tlv.value.decode() == holder.my_number


def test_basic_four_with_the_offset_table(card: Card) -> None:
    verify(card, PinName.TEXT_INPUT_HELPER, card.created_pins[PinName.TEXT_INPUT_HELPER])  # type: ignore[index]
    content, sw = read_ef(card, 0x0002)
    assert sw == 0x9000
    outer, _ = decode_tlv(content)
    assert outer.tag == 0xFF20
    children = outer.children()
    assert [c.tag for c in children] == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25]
    offsets = [int.from_bytes(children[0].value[i : i + 2], "big") for i in range(0, 8, 2)]
    for offset, child in zip(offsets, children[1:], strict=True):
        at, _ = decode_tlv(content, offset)  # the table points at each object from file start
        assert at == child
    holder = card.issuer.holder()
    assert children[1].value.decode() == holder.name
    assert children[2].value.decode() == holder.address
    assert children[3].value.decode() == holder.birth_date.strftime("%Y%m%d")
    assert children[4].value.decode() == holder.sex


def test_code_a_opens_the_my_number_only(card: Card) -> None:
    holder = card.issuer.holder()
    assert verify(card, PinName.TEXT_CODE_A, holder.my_number) == 0x9000
    assert read_ef(card, 0x0001)[1] == 0x9000
    assert read_ef(card, 0x0002)[1] == 0x6982  # A does not open the basic four (§5.1)
    assert read_ef(card, 0x0003)[1] == 0x9000


def test_code_b_opens_the_basic_four_only(card: Card) -> None:
    code_b = card.created_pins[PinName.TEXT_CODE_B]  # type: ignore[index]
    holder = card.issuer.holder()
    assert code_b[6:10] == f"{holder.card_expiry.year:04d}"
    assert code_b[10:] == holder.security_code
    assert verify(card, PinName.TEXT_CODE_B, code_b) == 0x9000
    assert read_ef(card, 0x0002)[1] == 0x9000
    assert read_ef(card, 0x0001)[1] == 0x6982
    assert read_ef(card, 0x0003)[1] == 0x9000


def test_free_files_of_the_text_ap(card: Card) -> None:
    select_app(card, AppName.TEXT)
    basic, sw = read_ef(card, 0x0005)
    assert sw == 0x9000 and basic[:2] == b"\xff\x40"
    cv, sw = read_ef(card, 0x0004)
    assert sw == 0x9000 and cv[:2] == b"\x7f\x21"


def test_integrity_record_digests_and_signature_verify(card: Card) -> None:
    verify(card, PinName.TEXT_INPUT_HELPER, card.created_pins[PinName.TEXT_INPUT_HELPER])  # type: ignore[index]
    ef1, _ = read_ef(card, 0x0001)
    ef2, _ = read_ef(card, 0x0002)
    ef3, sw = read_ef(card, 0x0003)
    assert sw == 0x9000 and len(ef3) == 336
    record, _ = decode_tlv(ef3)
    df31, df32, df33 = record.children()
    assert df31.value == hashlib.sha256(ef1).digest()
    outer, _ = decode_tlv(ef2)
    table = outer.children()[0]
    start = outer.value.index(table.to_bytes()) + len(table.to_bytes())
    assert df32.value == hashlib.sha256(outer.value[start:]).digest()
    # The signer's key is in the CV certificate of EF 0004: 7F21 { 5F4E body, 5F37 sig }.
    cv, _ = read_ef(card, 0x0004)
    body = decode_tlv(cv)[0].children()[0].value
    key_tlvs = decode_all(body[32:])
    exponent = int.from_bytes(next(t for t in key_tlvs if t.tag == 0x90).value, "big")
    modulus = int.from_bytes(next(t for t in key_tlvs if t.tag == 0x91).value, "big")
    key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
    key.verify(df33.value, df31.to_bytes() + df32.to_bytes(), padding.PKCS1v15(), hashes.SHA256())


def test_text_pin_change(card: Card) -> None:
    old = card.created_pins[PinName.TEXT_INPUT_HELPER]  # type: ignore[index]
    assert verify(card, PinName.TEXT_INPUT_HELPER, old) == 0x9000
    assert sw_of(card, "0024018004" + b"2580".hex()) == 0x9000
    assert verify(card, PinName.TEXT_INPUT_HELPER, "2580") == 0x9000
    # 照合番号 A and B cannot be changed: they are the card face's data.
    verify(card, PinName.TEXT_CODE_A, card.issuer.holder().my_number)
    assert sw_of(card, "002401800C" + b"123456789018".hex()) == 0x6985


# -- 住基AP ----------------------------------------------------------------------------------------


def test_resident_registry_pin_and_change_key(card: Card) -> None:
    old = card.created_pins[PinName.RESIDENT_REGISTRY]  # type: ignore[index]
    assert sw_of(card, "00A4040C0AD3921000310001010401") == 0x9000
    assert sw_of(card, "00A4020C02001C") == 0x9000
    assert sw_of(card, "00200080") == 0x63C3
    assert sw_of(card, "8032008004" + b"1357".hex()) == 0x6982
    assert verify(card, PinName.RESIDENT_REGISTRY, old) == 0x9000
    assert sw_of(card, "8032008004" + b"1357".hex()) == 0x9000
    assert verify(card, PinName.RESIDENT_REGISTRY, "1357") == 0x9000


def test_resident_code_is_never_readable_through_a_user_apdu(card: Card) -> None:
    code = card.issuer.holder().resident_code.encode()
    verify(card, PinName.RESIDENT_REGISTRY, card.created_pins[PinName.RESIDENT_REGISTRY])  # type: ignore[index]
    for apdu in ("00B0000000", "00B0830000", "00B2010400", "00B2011C00"):
        select_app(card, AppName.JUKI)
        verify(card, PinName.RESIDENT_REGISTRY, card.created_pins[PinName.RESIDENT_REGISTRY])  # type: ignore[index]
        sw_of(card, "00A4020C020003")
        data, sw = send(card, apdu)
        assert code not in data
        assert sw in (0x6982, 0x6981)


def test_resident_registry_record_ef(card: Card) -> None:
    select_app(card, AppName.JUKI)
    assert sw_of(card, "00A4020C020002") == 0x9000
    record, sw = send(card, "00B2010400")
    assert sw == 0x9000 and len(record) > 0
    assert sw_of(card, "00B2020400") == 0x6A83
    assert sw_of(card, "00B2010500") == 0x6A81
    assert sw_of(card, "00B0000004") == 0x6981  # READ BINARY on a record EF
    if len(record) > 1:
        assert sw_of(card, "00B2010401") == 0x6C00 | len(record)
    assert send(card, "00B2011400") == (record, 0x9000)  # SFI 2 form


@pytest.mark.parametrize("variant", ["under15", "expired"])
def test_variants(variant: str) -> None:
    card = Card.create(None, seed=9, variant=variant)
    select_app(card, AppName.JPKI)
    if variant == "under15":
        assert sw_of(card, "00A4020C020001") == 0x6A82
        assert sw_of(card, "00A4020C02001A") == 0x6A82
        assert read_ef(card, 0x0008)[0][0] != 0x8F
        assert "signing" not in card.issuer.certificates()
        assert not card.issuer.has_signing_certificate
    else:
        certs = card.issuer.certificates()
        issued = card.issuer.meta()["issued"]
        assert certs["user_auth"].not_valid_after_utc.date().isoformat() < issued


def test_reference_0012_is_blocked_and_never_readable(card: Card) -> None:
    """Text AP 0012 is blocked on every card (§5.1): a query 63C0, VERIFY 6984, READ 6981."""
    assert sw_of(card, "00A4040C0A" + TEXT_AID) == 0x9000
    assert sw_of(card, "00A4020C020012") == 0x9000
    assert sw_of(card, "00200080") == 0x63C0
    assert sw_of(card, "002000800431323334") == 0x6984
    assert sw_of(card, "00B0000000") == 0x6981
    assert sw_of(card, "00B0920000") == 0x6981  # by short EF identifier too
    assert sw_of(card, "00B2010400") == 0x6981
