"""Issuance of the rest of the chip: 券面事項確認AP, the text AP's key files, 共通カードAP, the MF.

Called by :func:`card_emulator.issuance.issue_card`; everything comes from the seed and the holder
(card-interface.md §5.5, §6, §7.2, §8). Per card there are four keys of their own, each derived
from the seed with a distinct label: the 券面AP card key (EF 001A, public half in DF12/DF24/DF42),
the text AP's session-key key (EF 0006) and AP key (EF 0013), and 共通AP's INTERNAL AUTHENTICATE
key (EF 0019). The issuer and CA keys are shared TEST keys (``card_emulator.cv``, ``pki``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card_emulator import face_cache
from card_emulator.cv import (
    SURFACE_CA_KEY_ID,
    SURFACE_ISSUER_KEY_ID,
    card_public_key,
    card_tlv,
    cv_certificate,
    key_id,
    surface_ca_key,
    surface_issuer_key,
)
from card_emulator.mf import card_info_record, mf_objects
from card_emulator.persona import DeterministicRandom, Persona, era_yymmdd, verification_code_b
from card_emulator.pki import text_ap_issuer_key
from card_emulator.rules import SESSION_KEY_LOCATION, AppName, PinName
from card_emulator.surface import (
    age_record_file,
    ap_basic_info_file,
    card_face_file,
    my_number_image_file,
)

__all__ = [
    "KEY_REFERENCE",
    "UNKNOWN_FILLER",
    "IssuedParts",
    "issue_more",
    "pkcs8",
    "session_key_file",
    "signed_public_key_file",
    "surface_cv_certificate",
]

Location = tuple[AppName, int]
# 住基AP and 共通AP EF 0002: one 16-byte key reference, meaning not public; a TEST id (our choice).
KEY_REFERENCE = key_id("6000011")
UNKNOWN_FILLER = b"\xff" * 16  # text EF 0008 on cards; 券面AP EF 0006 (unknown: our choice)
_T, _S, _C = AppName.TEXT, AppName.SURFACE, AppName.COMMON


@dataclass
class IssuedParts:
    """What :func:`issue_more` adds to a card image."""

    files: dict[Location, bytes] = field(default_factory=dict)
    records: dict[Location, list[bytes]] = field(default_factory=dict)
    keys: dict[Location, rsa.RSAPrivateKey] = field(default_factory=dict)
    pins: dict[PinName, str] = field(default_factory=dict)
    mf_objects: dict[int, bytes] = field(default_factory=dict)


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


@cache
def surface_cv_certificate() -> bytes:
    """券面AP EF 0004: the test CA 6000023 certifies the issuer key 6000024 (§6.1), 568 bytes."""
    return cv_certificate(
        surface_ca_key(),
        SURFACE_CA_KEY_ID,
        SURFACE_ISSUER_KEY_ID,
        surface_issuer_key().public_key(),
    )


def issue_more(
    seed: int, persona: Persona, card_key: Callable[[str], rsa.RSAPrivateKey]
) -> IssuedParts:
    """The new applications' files, keys and key references for ``persona``.

    ``card_key(purpose)`` gives the card's own key for a purpose (derived from the seed).
    """
    parts = IssuedParts()
    # 券面入力補助AP: SET SESSION KEY's key (EF 0006), the AP key (0013) and its signed public key.
    session = card_key("text session")
    ap_key = card_key("text AP")
    parts.files[(_T, 0x0006)] = session_key_file(session.public_key())
    parts.files[(_T, 0x0007)] = signed_public_key_file(ap_key.public_key(), text_ap_issuer_key())
    parts.files[(_T, 0x0008)] = UNKNOWN_FILLER
    parts.keys[SESSION_KEY_LOCATION] = session  # the private half: decrypts SET SESSION KEY
    parts.keys[(_T, 0x0013)] = ap_key

    # 券面事項確認AP (§6)
    surface = card_key("surface card")
    issuer = surface_issuer_key()
    public = surface.public_key()
    images = face_cache.card_images(
        seed, persona.name, persona.address, persona.security_code, persona.my_number
    )
    parts.files[(_S, 0x0001)] = age_record_file(persona.birth_date, public, issuer)
    parts.files[(_S, 0x0002)] = card_face_file(
        birth_date=persona.birth_date,
        sex=persona.sex,
        card_key=public,
        name_png=images.name_png,
        address_png=images.address_png,
        photo_jp2=images.photo_jp2,
        expiry=persona.card_expiry,
        security_code_png=images.security_code_png,
        issuer_key=issuer,
    )
    opaque = DeterministicRandom(b"surface DF35", seed).bytes(256)
    parts.files[(_S, 0x0003)] = ap_basic_info_file(persona.municipality_code, opaque)
    parts.files[(_S, 0x0004)] = surface_cv_certificate()
    parts.files[(_S, 0x0005)] = my_number_image_file(images.my_number_png, public, issuer)
    parts.files[(_S, 0x0006)] = UNKNOWN_FILLER
    parts.keys[(_S, 0x001A)] = surface
    parts.pins[PinName.SURFACE_BIRTH_DATE] = era_yymmdd(persona.birth_date)
    parts.pins[PinName.SURFACE_CODE_B] = verification_code_b(persona)
    parts.pins[PinName.SURFACE_CODE_A] = persona.my_number

    # 共通カードAP (§7.2): the same key-reference record as 住基AP EF 0002 (myna-card common.rs).
    info = card_info_record(persona.card_number, persona.municipality_code, persona.card_expiry)
    parts.records[(_C, 0x0001)] = [info]
    parts.records[(_C, 0x0002)] = [KEY_REFERENCE]
    parts.keys[(_C, 0x0019)] = card_key("common internal authentication")
    parts.pins[PinName.COMMON] = persona.pins.common_value

    parts.mf_objects = mf_objects(
        persona.card_number, persona.municipality_code, persona.card_expiry
    )
    return parts


def pkcs8(key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#8 DER of a private key, as the card file stores keys."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
