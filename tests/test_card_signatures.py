"""Every signature and certificate on a card verifies with ``cryptography`` against its issuer.

Walks the issued card of one seed (and of the under-15 and expired variants for JPKI): the X.509
chain of the JPKI AP, the CV certificates of both 券面 APs and of the MF, and every record each
issuer key signs (card-interface.md §4.3, §5.4, §5.5, §6, §8).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_private_key

from apdu.tlv import decode_all, decode_tlv
from card_emulator.cv import (
    mf_root_key,
    parse_card_public_key,
    parse_cv_certificate,
    surface_ca_key,
)
from card_emulator.issuance import CardImage, issue_card, verify_integrity_record
from card_emulator.pki import text_ap_ca_key
from card_emulator.rules import AppName
from card_emulator.surface import read_card_face, read_signed_record

J, T, S, C = AppName.JPKI, AppName.TEXT, AppName.SURFACE, AppName.COMMON
PKCS1, SHA256 = padding.PKCS1v15(), hashes.SHA256()


@pytest.fixture(scope="module")
def image() -> CardImage:
    return issue_card(7)


def private(image: CardImage, app: AppName, fid: int) -> rsa.RSAPrivateKey:
    key = load_der_private_key(image.keys[(app, fid)], None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def test_jpki_certificates_chain_to_their_test_roots(image: CardImage) -> None:
    from cryptography import x509

    for leaf, root, key_fid in ((0x0001, 0x0002, 0x001A), (0x000A, 0x000B, 0x0017)):
        certificate = x509.load_der_x509_certificate(image.files[(J, leaf)])
        ca = x509.load_der_x509_certificate(image.files[(J, root)])
        ca.verify_directly_issued_by(ca)
        certificate.verify_directly_issued_by(ca)
        assert certificate.public_key() == private(image, J, key_fid).public_key()


def test_text_ap(image: CardImage) -> None:
    certificate = parse_cv_certificate(image.files[(T, 0x0004)])
    certificate.verify(text_ap_ca_key().public_key())
    assert verify_integrity_record(image.files)  # EF 0003 under the certified key
    df51, df52 = decode_all(decode_tlv(image.files[(T, 0x0007)])[0].value)
    certificate.public_key.verify(df52.value, df51.to_bytes(), PKCS1, SHA256)
    ap_key = parse_card_public_key(df51.value)
    assert ap_key == private(image, T, 0x0013).public_key()
    session = parse_card_public_key(decode_tlv(image.files[(T, 0x0006)])[0].value)
    assert session == private(image, T, 0x0006).public_key()


def test_surface_ap(image: CardImage) -> None:
    certificate = parse_cv_certificate(image.files[(S, 0x0004)])
    certificate.verify(surface_ca_key().public_key())
    issuer = certificate.public_key
    card_key = private(image, S, 0x001A).public_key()
    face = read_card_face(image.files[(S, 0x0002)])
    assert face.verify(issuer) and face.card_key == card_key
    assert not face.verify(private(image, T, 0x0013).public_key())  # another key: refused
    age = read_signed_record(image.files[(S, 0x0001)], 0xFF10, issuer)
    assert parse_card_public_key(age[0xDF12]) == card_key
    image_record = read_signed_record(image.files[(S, 0x0005)], 0xFF40, issuer)
    assert parse_card_public_key(image_record[0xDF42]) == card_key


def test_mf_chain(image: CardImage) -> None:
    upper = parse_cv_certificate(image.mf_objects[0x00F8])
    upper.verify(mf_root_key().public_key())
    assert upper.subject_key_id == image.mf_objects[0x00F7]
    lower = parse_cv_certificate(image.mf_objects[0x7F21])
    assert lower.issuer_key_id == upper.subject_key_id
    lower.verify(upper.public_key)


@pytest.mark.parametrize("variant", ["under15", "expired"])
def test_variants_keep_every_signature(variant: str) -> None:
    other = issue_card(7, variant=variant)  # type: ignore[arg-type]
    assert verify_integrity_record(other.files)
    issuer = parse_cv_certificate(other.files[(S, 0x0004)]).public_key
    assert read_card_face(other.files[(S, 0x0002)]).verify(issuer)
