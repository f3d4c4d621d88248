"""The files of 券面事項確認AP (card-surface AP), built and read back (card-interface.md §6).

Layouts, all measured on cards by myna-card (``src/ap/surface.rs``); long lengths ``82 hh ll``:

* EF 0001 age record ``FF10 { DF11 birth YYYYMMDD, DF12 card key, DF13 signature }``, the signature
  PKCS#1 v1.5 SHA-256 over the DF11‖DF12 objects by the issuer key certified in EF 0004.
* EF 0002 card face ``FF20 { DF21 offset table (9 × u16 from file start), DF22 birth, DF23 sex,
  DF24 card key, DF25 name PNG, DF26 address PNG, DF27 photo JP2, DF28 signature, DF29 expiry,
  DF2A security-code PNG }``. DF28 is PKCS#1 v1.5 over ONE SHA-256 DigestInfo holding three
  digests: of DF22‖DF23‖DF24, of DF25‖DF26, of DF27 (the objects as written). DF29 and DF2A come
  after the signature and are not covered.
* EF 0003 AP basic info ``FF30 { DF31 06 03 0E 01, DF32 key id, DF33 version, DF34 municipality
  code, DF35 key id ‖ 256 opaque bytes }``.
* EF 0005 My Number image ``FF40 { DF41 PNG 72×12, DF42 card key, DF43 signature }`` (signed as
  EF 0001).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apdu.tlv import Tlv, decode_tlv, decode_with_offsets
from card_emulator.cv import (
    SURFACE_ISSUER_KEY_ID,
    card_public_key,
    card_tlv,
    parse_card_public_key,
    sha256,
    sha256_digest_info,
    sign_digest_info,
    verify_digest_info,
)

__all__ = [
    "FACE_TAGS",
    "CardFace",
    "age_record_file",
    "ap_basic_info_file",
    "card_face_file",
    "my_number_image_file",
    "read_card_face",
    "read_signed_record",
]

FACE_TAGS = tuple(range(0xDF22, 0xDF2B))  # the nine objects DF21 points at, in file order
_SIGNED_GROUPS = ((0xDF22, 0xDF23, 0xDF24), (0xDF25, 0xDF26), (0xDF27,))


def _yyyymmdd(d: date) -> bytes:
    return f"{d:%Y%m%d}".encode("ascii")


def _signed(key: rsa.RSAPrivateKey, tag: int, objects: bytes) -> bytes:
    """``objects`` followed by a signature object over them (PKCS#1 v1.5, SHA-256)."""
    return objects + card_tlv(tag, key.sign(objects, padding.PKCS1v15(), hashes.SHA256()))


def age_record_file(
    birth_date: date, card_key: rsa.RSAPublicKey, issuer_key: rsa.RSAPrivateKey
) -> bytes:
    """EF 0001, 545 bytes: ``FF10 82 02 1C { DF11, DF12, DF13 }`` (§6.1)."""
    objects = card_tlv(0xDF11, _yyyymmdd(birth_date)) + card_tlv(0xDF12, card_public_key(card_key))
    return card_tlv(0xFF10, _signed(issuer_key, 0xDF13, objects))


def my_number_image_file(
    png: bytes, card_key: rsa.RSAPublicKey, issuer_key: rsa.RSAPrivateKey
) -> bytes:
    """EF 0005: ``FF40 { DF41 PNG, DF42 card key, DF43 signature }`` (§6.1)."""
    objects = card_tlv(0xDF41, png) + card_tlv(0xDF42, card_public_key(card_key))
    return card_tlv(0xFF40, _signed(issuer_key, 0xDF43, objects))


def card_face_file(
    *,
    birth_date: date,
    sex: str,
    card_key: rsa.RSAPublicKey,
    name_png: bytes,
    address_png: bytes,
    photo_jp2: bytes,
    expiry: date,
    security_code_png: bytes,
    issuer_key: rsa.RSAPrivateKey,
) -> bytes:
    """EF 0002, the card face (§6.2), with a correct DF21 offset table and DF28 signature."""
    objects = {
        0xDF22: card_tlv(0xDF22, _yyyymmdd(birth_date)),
        0xDF23: card_tlv(0xDF23, sex.encode("ascii")),
        0xDF24: card_tlv(0xDF24, card_public_key(card_key)),
        0xDF25: card_tlv(0xDF25, name_png),
        0xDF26: card_tlv(0xDF26, address_png),
        0xDF27: card_tlv(0xDF27, photo_jp2),
    }
    digests = b"".join(sha256(b"".join(objects[t] for t in group)) for group in _SIGNED_GROUPS)
    objects[0xDF28] = card_tlv(0xDF28, sign_digest_info(issuer_key, sha256_digest_info(digests)))
    objects[0xDF29] = card_tlv(0xDF29, _yyyymmdd(expiry))
    objects[0xDF2A] = card_tlv(0xDF2A, security_code_png)
    table_size = 3 + 2 * len(FACE_TAGS)  # DF 21 12 + 9 × u16
    inner_size = table_size + sum(len(o) for o in objects.values())
    position = Tlv(0xFF20, bytes(inner_size), 3 if inner_size >= 0x80 else 0).header_size
    offsets = []
    position += table_size
    for tag in FACE_TAGS:
        offsets.append(position)
        position += len(objects[tag])
    table = card_tlv(0xDF21, struct.pack(f">{len(FACE_TAGS)}H", *offsets))
    return card_tlv(0xFF20, table + b"".join(objects[t] for t in FACE_TAGS))


def ap_basic_info_file(municipality_code: str, opaque: bytes) -> bytes:
    """EF 0003: ``FF30 { DF31 06 03 0E 01, DF32 6000024 key id, DF33 01, DF34 municipality code,
    DF35 key id ‖ 256 opaque bytes }`` (§6.3). What DF35 holds is not public: ``opaque`` (256
    bytes, derived from the seed) stands in for it."""
    if len(opaque) != 256:
        raise ValueError("DF35 carries 256 opaque bytes after its key id")
    return card_tlv(
        0xFF30,
        card_tlv(0xDF31, bytes([0x06, 0x03, 0x0E, 0x01]))
        + card_tlv(0xDF32, SURFACE_ISSUER_KEY_ID)
        + card_tlv(0xDF33, b"\x01")
        + card_tlv(0xDF34, municipality_code.encode("ascii"))
        + card_tlv(0xDF35, SURFACE_ISSUER_KEY_ID + opaque),
    )


# ---------------------------------------------------------------------------------------------
# Reading back
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardFace:
    """EF 0002 as a client reads it (jsapdu ``schemaKenkakuEntries``, jpki-rs ``Surface``)."""

    birth_date: str  # YYYYMMDD
    sex: str
    card_key: rsa.RSAPublicKey
    name_png: bytes
    address_png: bytes
    photo_jp2: bytes
    signature: bytes
    expiry: str  # YYYYMMDD
    security_code_png: bytes
    signed_digests: bytes  # the 96 bytes DF28 signs (three SHA-256)

    def verify(self, issuer_key: rsa.RSAPublicKey) -> bool:
        """True if DF28 is the issuer's signature over the three digests (§6.2)."""
        return verify_digest_info(
            issuer_key, self.signature, sha256_digest_info(self.signed_digests)
        )


def _objects(data: bytes, tag: int) -> tuple[dict[int, tuple[int, Tlv]], int]:
    """The objects inside the outer ``tag`` with their offsets from the file start."""
    outer, _ = decode_tlv(data)
    if outer.tag != tag:
        raise ValueError(f"expected tag {tag:X}, the file starts with {outer.tag:X}")
    base = outer.header_size
    return {t.tag: (base + start, t) for start, t in decode_with_offsets(outer.value)}, base


def read_card_face(data: bytes) -> CardFace:
    """Parse EF 0002, checking the DF21 offset table as myna-card does. ValueError if wrong."""
    objects, _ = _objects(data, 0xFF20)
    table = objects.get(0xDF21)
    if table is None or len(table[1].value) != 2 * len(FACE_TAGS):
        raise ValueError("EF 0002 lacks its 18-byte DF21 offset table")
    declared = struct.unpack(f">{len(FACE_TAGS)}H", table[1].value)
    for tag, offset in zip(FACE_TAGS, declared, strict=True):
        if tag not in objects or objects[tag][0] != offset:
            raise ValueError(f"DF21 says {tag:X} is at {offset}, it is not")
    value = {tag: objects[tag][1].value for tag in FACE_TAGS}
    digests = b"".join(
        sha256(b"".join(objects[t][1].to_bytes() for t in group)) for group in _SIGNED_GROUPS
    )
    return CardFace(
        birth_date=value[0xDF22].decode("ascii"),
        sex=value[0xDF23].decode("ascii"),
        card_key=parse_card_public_key(value[0xDF24]),
        name_png=value[0xDF25],
        address_png=value[0xDF26],
        photo_jp2=value[0xDF27],
        signature=value[0xDF28],
        expiry=value[0xDF29].decode("ascii"),
        security_code_png=value[0xDF2A],
        signed_digests=digests,
    )


def read_signed_record(data: bytes, tag: int, issuer_key: rsa.RSAPublicKey) -> dict[int, bytes]:
    """The values of EF 0001 (``FF10``, DF13) or EF 0005 (``FF40``, DF43), after checking the last
    object is the issuer's PKCS#1 v1.5 SHA-256 signature over the objects before it.

    Raises ValueError (malformed) or ``InvalidSignature``.
    """
    objects, _ = _objects(data, tag)
    ordered = [t for _, t in sorted(objects.values(), key=lambda item: item[0])]
    *signed, signature = ordered
    issuer_key.verify(
        signature.value,
        b"".join(t.to_bytes() for t in signed),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return {t.tag: t.value for t in [*signed, signature]}
