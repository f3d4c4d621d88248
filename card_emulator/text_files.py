"""The text input helper AP's files (券面事項入力補助AP, card-interface.md §5): their layouts.

EF 0001 My Number, 0002 basic four (基本4情報) with its offset table, 0003 the integrity record
signed by the issuer key, 0004 the test CA's CV certificate of that key, 0005 basic information,
0006 SET SESSION KEY's public key, 0007 the AP key's public key signed by the issuer key. Builders
turn values into bytes (ValueError for values outside the layout); readers check what they parse.
Every key is a TEST key (``card_emulator.pki``, ``card_emulator.cv``).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apdu.tlv import Tlv, TlvError, decode_tlv, decode_with_offsets, encode_tlv
from card_emulator.cv import (
    card_public_key,
    card_tlv,
    cv_certificate,
    key_id,
    parse_cv_certificate,
)
from card_emulator.pki import text_ap_ca_key, text_ap_issuer_key
from card_emulator.rules import AppName, Location

__all__ = [
    "TEXT_AP_CA_KEY_ID",
    "TEXT_AP_ISSUER_KEY_ID",
    "BasicFour",
    "ap_basic_info_file",
    "basic_four_file",
    "cv_certificate_file",
    "integrity_record_file",
    "my_number_file",
    "read_basic_four",
    "session_key_file",
    "signed_public_key_file",
    "verify_integrity_record",
]

_T = AppName.TEXT


@dataclass(frozen=True, slots=True)
class BasicFour:
    """基本4情報 as read back from text AP EF 0002."""

    name: str
    address: str
    birth_date: str  # YYYYMMDD
    sex: str


def my_number_file(my_number: str) -> bytes:
    """EF 0001: ``FF 10 0C`` + 12 ASCII digits + ``FF FF`` filler, 17 bytes (§5.2)."""
    if len(my_number) != 12 or not my_number.isascii() or not my_number.isdigit():
        raise ValueError("a My Number is 12 ASCII digits")
    return encode_tlv(0xFF10, my_number.encode("ascii")) + b"\xff\xff"


def basic_four_file(name: str, address: str, birth_date: date | str, sex: str) -> bytes:
    """EF 0002: ``FF20`` { DF21 offset table, DF22 name, DF23 address, DF24 birth, DF25 sex } (§5.3).

    The offsets in DF21 count from the first byte of the file; the outer length is minimal
    (``81 xx`` from 128 bytes), a choice the card's own convention does not settle (§5.3).
    """
    birth = birth_date if isinstance(birth_date, str) else f"{birth_date:%Y%m%d}"
    if len(birth) != 8 or not birth.isascii() or not birth.isdigit():
        raise ValueError("birth date must be 8 ASCII digits YYYYMMDD")
    fields = [
        encode_tlv(0xDF22, name.encode("utf-8")),
        encode_tlv(0xDF23, address.encode("utf-8")),
        encode_tlv(0xDF24, birth.encode("ascii")),
        encode_tlv(0xDF25, sex.encode("ascii")),
    ]
    table_size = 3 + 8  # DF 21 08 + 4 × u16
    inner_size = table_size + sum(len(f) for f in fields)
    outer_header = Tlv(0xFF20, bytes(inner_size)).header_size
    offsets, position = [], outer_header + table_size
    for f in fields:
        offsets.append(position)
        position += len(f)
    table = encode_tlv(0xDF21, struct.pack(">4H", *offsets))
    return encode_tlv(0xFF20, table + b"".join(fields))


def _basic_four_signed_span(ef0002: bytes) -> bytes:
    """The outer value of EF 0002 from the start of DF22 to the end of DF25 (§5.4)."""
    outer, _ = decode_tlv(ef0002)
    if outer.tag != 0xFF20:
        raise TlvError(f"EF 0002 starts with tag {outer.tag:X}, not FF20")
    positions = {
        tlv.tag: (start, start + tlv.size) for start, tlv in decode_with_offsets(outer.value)
    }
    if 0xDF22 not in positions or 0xDF25 not in positions:
        raise TlvError("EF 0002 lacks DF22 or DF25")
    return outer.value[positions[0xDF22][0] : positions[0xDF25][1]]


def read_basic_four(ef0002: bytes) -> BasicFour:
    """Parse EF 0002 and check its DF21 offset table; raises ValueError if it is inconsistent."""
    outer, _ = decode_tlv(ef0002)
    base = outer.header_size
    items = decode_with_offsets(outer.value)
    by_tag = {tlv.tag: (base + start, tlv) for start, tlv in items}
    table = by_tag.get(0xDF21)
    if outer.tag != 0xFF20 or table is None or len(table[1].value) != 8:
        raise ValueError("EF 0002 is not FF20 with an 8-byte DF21 offset table")
    declared = struct.unpack(">4H", table[1].value)
    tags = (0xDF22, 0xDF23, 0xDF24, 0xDF25)
    for tag, offset in zip(tags, declared, strict=True):
        if tag not in by_tag or by_tag[tag][0] != offset:
            raise ValueError(f"DF21 offset of {tag:X} is {offset}, the object is elsewhere")
    name, address, birth, sex = (by_tag[t][1].value for t in tags)
    return BasicFour(name.decode(), address.decode(), birth.decode("ascii"), sex.decode("ascii"))


def integrity_record_file(
    ef0001: bytes, ef0002: bytes, key: rsa.RSAPrivateKey | None = None
) -> bytes:
    """EF 0003, 336 bytes: ``FF30 82 01 4B`` { DF31 SHA-256(EF 0001), DF32 SHA-256(DF22…DF25),
    DF33 PKCS#1 v1.5 SHA-256 signature over the DF31‖DF32 objects } (§5.4)."""
    signer = key if key is not None else text_ap_issuer_key()
    df31 = encode_tlv(0xDF31, hashlib.sha256(ef0001).digest())
    df32 = encode_tlv(0xDF32, hashlib.sha256(_basic_four_signed_span(ef0002)).digest())
    signature = signer.sign(df31 + df32, padding.PKCS1v15(), hashes.SHA256())
    return encode_tlv(0xFF30, df31 + df32 + encode_tlv(0xDF33, signature), length_size=3)


# Test hierarchy ids start with 6 (production 5): 6000033 = test 券面入力補助AP CA (§5.5). The
# certified key's id is our choice (EF 0005 DF42 holds an "x000034" id on cards).
TEXT_AP_CA_KEY_ID = key_id("6000033")
TEXT_AP_ISSUER_KEY_ID = key_id("6000034")


@cache
def cv_certificate_file() -> bytes:
    """EF 0004, 568 bytes: the test CA 6000033 certifies the issuer key 6000034 (§5.5), a CV
    certificate (``card_emulator.cv``). The same on every card: built once per process."""
    return cv_certificate(
        text_ap_ca_key(),
        TEXT_AP_CA_KEY_ID,
        TEXT_AP_ISSUER_KEY_ID,
        text_ap_issuer_key().public_key(),
    )


def ap_basic_info_file() -> bytes:
    """EF 0005: ``FF40`` { DF41 ``01 03 0E 01``, DF42 key id, DF43 32 bytes + 96 × FF } (§5.5).

    ``82 hh ll`` lengths for FF40 and DF43, as a client test implies (``FF 40 82 00 9F``).
    """
    opaque = hashlib.sha256(b"mynacard TEST text AP basic info").digest() + b"\xff" * 96
    value = (
        encode_tlv(0xDF41, bytes([0x01, 0x03, 0x0E, 0x01]))
        + encode_tlv(0xDF42, TEXT_AP_ISSUER_KEY_ID)
        + encode_tlv(0xDF43, opaque, length_size=3)
    )
    return encode_tlv(0xFF40, value, length_size=3)


def verify_integrity_record(files: Mapping[Location, bytes]) -> bool:
    """True if text AP EF 0003 matches EF 0001/0002 and its signature verifies with the key that
    EF 0004 certifies (and EF 0004 verifies against the test CA key)."""
    try:
        record, _ = decode_tlv(files[(_T, 0x0003)])
        if record.tag != 0xFF30:
            return False
        items = {tlv.tag: tlv for tlv in record.children()}
        df31, df32, df33 = items[0xDF31], items[0xDF32], items[0xDF33]
        if df31.value != hashlib.sha256(files[(_T, 0x0001)]).digest():
            return False
        span = _basic_four_signed_span(files[(_T, 0x0002)])
        if df32.value != hashlib.sha256(span).digest():
            return False
        certificate = parse_cv_certificate(files[(_T, 0x0004)])
        certificate.verify(text_ap_ca_key().public_key())
        certificate.public_key.verify(
            df33.value, df31.to_bytes() + df32.to_bytes(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (KeyError, ValueError, InvalidSignature):  # TlvError is a ValueError
        return False
    return True


def session_key_file(public_key: rsa.RSAPublicKey) -> bytes:
    """Text AP EF 0006: ``A1 82 01 09 { 90 exponent, 91 modulus }``, the key SET SESSION KEY's
    cryptogram is encrypted to (§5.5, §5.7)."""
    return card_tlv(0xA1, card_public_key(public_key))


def signed_public_key_file(public_key: rsa.RSAPublicKey, issuer: rsa.RSAPrivateKey) -> bytes:
    """Text AP EF 0007: ``FF50 82 02 13 { DF51 key of 0013, DF52 issuer signature }``; DF52 is
    PKCS#1 v1.5 SHA-256 over the DF51 object, by the key EF 0004 certifies (§5.5)."""
    df51 = card_tlv(0xDF51, card_public_key(public_key))
    signature = issuer.sign(df51, padding.PKCS1v15(), hashes.SHA256())
    return card_tlv(0xFF50, df51 + card_tlv(0xDF52, signature))
