"""What the card answers at MF level (GET DATA, card-interface.md §8) and 共通カードAP's card record.

GET DATA ``00 CA P1 P2`` with no application selected (after reset, or with the GlobalPlatform
Issuer Security Domain ``A0000001510000`` selected) reaches these objects; an absent one answers
``6A88``. They are issued with the card (``mf_objects``) and kept in its file, so answering them
costs nothing. Which values a real card holds is partly unknown; our choices are marked.

=====  ===================================================  =====================================
tag    content                                              source / choice
=====  ===================================================  =====================================
0042   issuer identification: a 16-byte key reference       [CARD] shape; TEST key id 6000010
0045   card identification number, ASCII                    [CARD]; the 15-digit card number
0066   GlobalPlatform card recognition data                 [CARD] arc 1.2.840.114283; GP 2.1.1 /
                                                            SCP02 values are our choice
00F0   全国地方公共団体コード, 5 ASCII digits               [CARD]
00F2   card expiry, YYYYMMDD                                [CARD]
00F7   証明者鍵ID of the intermediate (6000021)             [CARD] role; TEST id
00F8   CV certificate root 6000020 → intermediate,          [CARD]; contents without ``7F21``
       565 bytes: needs extended Le (short Le → 6700)
7F21   CV certificate intermediate → card-level key         [CARD]; which key it certifies is not
       6000022, 565 bytes, extended Le                      public: a TEST key of ours
5F51   contact ATR without TS (card.py, every level)        [CARD]
=====  ===================================================  =====================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import cache

from apdu import CommandApdu, StatusWord, wrong_le_sw
from apdu.tlv import encode_tlv
from card_emulator.cv import (
    MF_CARD_KEY_ID,
    MF_INTERMEDIATE_KEY_ID,
    MF_ROOT_KEY_ID,
    cv_certificate,
    key_id,
    mf_card_key,
    mf_intermediate_key,
    mf_root_key,
)
from card_emulator.errors import CardError

__all__ = [
    "ISSUER_IDENTIFICATION",
    "META_KEY",
    "card_info_record",
    "card_recognition_data",
    "get_data",
    "mf_objects",
    "objects_from_meta",
    "objects_to_meta",
]

META_KEY = "mf_objects"  # where a card file keeps them: {"00F0": "3133313031", ...}

ISSUER_IDENTIFICATION = key_id("6000010")  # our choice of a TEST key reference
_GP = "2A864886FC6B"  # 1.2.840.114283 (GlobalPlatform)


def card_recognition_data() -> bytes:
    """``66 { 73 { 06 GP card-recognition OID, 60 {GP 2.1.1}, 63 {card id scheme},
    64 {SCP02 i=55} } }`` (GlobalPlatform Card Specification, Card Recognition Data)."""

    def oid(suffix: str) -> bytes:
        return encode_tlv(0x06, bytes.fromhex(_GP + suffix))

    recognition = (
        oid("01")
        + encode_tlv(0x60, oid("02020101"))
        + encode_tlv(0x63, oid("03"))
        + encode_tlv(0x64, oid("040255"))
    )
    return encode_tlv(0x66, encode_tlv(0x73, recognition))


def card_info_record(card_number: str, municipality_code: str, expiry: date) -> bytes:
    """共通AP EF 0001 record 1: ``01 1C`` + serial(15) ‖ 全国地方公共団体コード(5) ‖ expiry
    YYYYMMDD, 28 ASCII digits in one simple TLV (§7.2)."""
    text = f"{card_number}{municipality_code}{expiry:%Y%m%d}"
    if len(text) != 28 or not text.isascii() or not text.isdigit():
        raise ValueError("card info is 15 + 5 + 8 ASCII digits")
    return bytes([0x01, 0x1C]) + text.encode("ascii")


@cache
def _certificates() -> tuple[bytes, bytes]:
    """GET DATA 00F8 and 7F21: the same test chain on every card, built once per process."""
    intermediate = mf_intermediate_key()
    upper = cv_certificate(
        mf_root_key(), MF_ROOT_KEY_ID, MF_INTERMEDIATE_KEY_ID, intermediate.public_key(),
        template=False,
    )  # fmt: skip
    lower = cv_certificate(
        intermediate, MF_INTERMEDIATE_KEY_ID, MF_CARD_KEY_ID, mf_card_key().public_key(),
        template=False,
    )  # fmt: skip
    return upper, lower


def mf_objects(card_number: str, municipality_code: str, expiry: date) -> dict[int, bytes]:
    """Every MF-level GET DATA object of one card (except 5F51, which is the ATR), by tag."""
    upper, lower = _certificates()
    return {
        0x0042: ISSUER_IDENTIFICATION,
        0x0045: card_number.encode("ascii"),
        0x0066: card_recognition_data(),
        0x00F0: municipality_code.encode("ascii"),
        0x00F2: f"{expiry:%Y%m%d}".encode("ascii"),
        0x00F7: MF_INTERMEDIATE_KEY_ID,
        0x00F8: upper,
        0x7F21: lower,
    }


def objects_to_meta(objects: Mapping[int, bytes]) -> str:
    """The objects as the card file's meta value (JSON, tag and value in hex)."""
    return json.dumps({f"{tag:04X}": value.hex().upper() for tag, value in sorted(objects.items())})


def objects_from_meta(meta: Mapping[str, str]) -> dict[int, bytes]:
    """The objects of a card file; none for a card issued before they existed."""
    raw = meta.get(META_KEY)
    if raw is None:
        return {}
    return {int(tag, 16): bytes.fromhex(value) for tag, value in json.loads(raw).items()}


def get_data(command: CommandApdu, objects: Mapping[int, bytes]) -> bytes:
    """GET DATA at MF level (§8): the object named by P1‖P2, or a CardError with the card's SW.

    Absent → 6A88. An object longer than 256 bytes needs extended Le: a short Le answers 6700 (the
    card refuses rather than reporting the length, myna-card ``card.rs get_data``). A shorter one
    with Le below its length answers 6Cxx (ISO 7816-4 §5.3.4; the real card's answer is not public).
    """
    value = objects.get(command.p1p2)
    if value is None:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, "no such data object at MF level")
    if command.le is None:
        raise CardError(StatusWord.WRONG_LENGTH, "GET DATA needs Le")
    if len(value) > 256 and not command.extended:
        raise CardError(StatusWord.WRONG_LENGTH, f"{len(value)} bytes: use an extended Le")
    if command.le < len(value) and not command.extended and command.le != 256:
        raise CardError(wrong_le_sw(len(value)), "Le must be the object's length")
    return value
