"""JPKI AP: the client flows of card-interface.md §4.4 as transcripts, and real signatures."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.serialization import Encoding

from card_emulator import Card
from card_emulator.rules import AppName, PinName
from tests.helpers import read_ef, select_app, send, sw_of, verify

AID = "D392F000260100000001"
SHA256_PREFIX = bytes.fromhex("3031300D060960864801650304020105000420")


def digest_info(message: bytes) -> bytes:
    return SHA256_PREFIX + hashlib.sha256(message).digest()


def cert(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def public(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def test_read_auth_certificate_without_pin_as_opensc_does(card: Card) -> None:
    # OpenSC: SELECT AP, SELECT 000A, READ 4 bytes, size = bytes 2-3 + 4, chunks of 256 (§2.2).
    assert sw_of(card, "00A4040C0A" + AID) == 0x9000
    assert sw_of(card, "00A4020C02000A") == 0x9000
    head, sw = send(card, "00B0000004")
    assert sw == 0x9000 and head[:2] == b"\x30\x82"
    size = int.from_bytes(head[2:4], "big") + 4
    body = b""
    while len(body) < size:
        chunk = min(256, size - len(body))
        data, sw = send(card, bytes([0, 0xB0, len(body) >> 8, len(body) & 0xFF, chunk & 0xFF]))
        assert sw == 0x9000
        body += data
    assert body == card.issuer.certificates()["user_auth"].public_bytes(Encoding.DER)


def test_read_as_myna_does_seven_bytes_then_the_rest(card: Card) -> None:
    select_app(card, AppName.JPKI)
    sw_of(card, "00A4020C02000B")
    head, sw = send(card, "00B0000007")
    assert sw == 0x9000 and len(head) == 7
    whole, sw = read_ef(card, 0x000B)
    assert sw == 0x9000 and whole[:7] == head
    assert cert(whole).subject == cert(whole).issuer  # the CA certificate is self-signed


def test_signing_certificate_needs_the_signing_password(card: Card) -> None:
    select_app(card, AppName.JPKI)
    assert sw_of(card, "00A4020C020001") == 0x9000
    assert send(card, "00B0000004") == (b"", 0x6982)  # jpki-OpenSC#3
    assert verify(card, PinName.SIGNING, card.created_pins[PinName.SIGNING]) == 0x9000  # type: ignore[index]
    der, sw = read_ef(card, 0x0001)
    assert sw == 0x9000
    assert cert(der) == card.issuer.certificates()["signing"]
    # A user-auth PIN does not open it.
    select_app(card, AppName.JPKI)
    verify(card, PinName.USER_AUTH, card.created_pins[PinName.USER_AUTH])  # type: ignore[index]
    assert read_ef(card, 0x0001)[1] == 0x6982


def test_token_and_availability(card: Card) -> None:
    select_app(card, AppName.JPKI)
    assert sw_of(card, "00A4020C020006") == 0x9000
    label, sw = send(card, "00B0000020")
    assert sw == 0x9000
    assert label == b"JPKIAPICCTOKEN2" + b" " * 17  # spaces, not NULs (§4.2)
    token, _ = read_ef(card, 0x0006)
    assert len(token) == 160
    availability, _ = read_ef(card, 0x0008)
    assert availability == bytes.fromhex("8F8F00")


@pytest.mark.parametrize(
    ("pin", "key_fid", "cert_label", "p2"),
    [
        (PinName.USER_AUTH, 0x0017, "user_auth", 0x80),
        (PinName.SIGNING, 0x001A, "signing", 0x80),
        (PinName.USER_AUTH, 0x0017, "user_auth", 0x97),
        (PinName.SIGNING, 0x001A, "signing", 0x9A),
    ],
)
def test_signature_flow_verifies_against_the_chain(
    card: Card, pin: PinName, key_fid: int, cert_label: str, p2: int
) -> None:
    """§4.4: SELECT AP, SELECT PIN EF, VERIFY, SELECT key EF, 80 2A 00 80 DigestInfo 00."""
    message = b"mynumber-card-emulator test message"
    assert verify(card, pin, card.created_pins[pin]) == 0x9000  # type: ignore[index]
    if p2 == 0x80:
        assert sw_of(card, bytes([0, 0xA4, 2, 0x0C, 2]) + key_fid.to_bytes(2, "big")) == 0x9000
    block = digest_info(message)
    signature, sw = send(card, bytes([0x80, 0x2A, 0x00, p2, len(block)]) + block + b"\x00")
    assert sw == 0x9000 and len(signature) == 256
    certificates = card.issuer.certificates()
    leaf = certificates[cert_label]
    public(leaf).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    ca = certificates[cert_label + "_ca"]
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)


def test_signing_without_the_pin_is_refused(card: Card) -> None:
    select_app(card, AppName.JPKI)
    sw_of(card, "00A4020C020017")
    block = digest_info(b"x")
    assert sw_of(card, bytes([0x80, 0x2A, 0x00, 0x80, len(block)]) + block + b"\x00") == 0x6982
    # The signing password does not open the user-authentication key.
    verify(card, PinName.SIGNING, card.created_pins[PinName.SIGNING])  # type: ignore[index]
    sw_of(card, "00A4020C020017")
    assert sw_of(card, bytes([0x80, 0x2A, 0x00, 0x80, len(block)]) + block + b"\x00") == 0x6982


@pytest.mark.parametrize("scheme", [0, 1, 2, 3, 4, 5])
def test_every_signature_scheme_verifies(card: Card, scheme: int) -> None:
    message = b"scheme test"
    digest = hashlib.sha256(message).digest()
    data = {0: digest_info(message), 1: message, 2: digest, 3: message, 4: digest, 5: message}[
        scheme
    ]
    verify(card, PinName.USER_AUTH, card.created_pins[PinName.USER_AUTH])  # type: ignore[index]
    signature, sw = send(card, bytes([0x80, 0x2A, scheme, 0x97, len(data)]) + data + b"\x00")
    assert sw == 0x9000
    key = public(card.issuer.certificates()["user_auth"])
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    if scheme in (0, 2, 3):
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    elif scheme == 1:  # PKCS#1 v1.5 over the bare hash, no DigestInfo
        recovered = key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
        assert recovered == digest
    elif scheme == 4:
        key.verify(signature, digest, pss, utils.Prehashed(hashes.SHA256()))
    else:
        key.verify(signature, message, pss, hashes.SHA256())


def test_signature_parameters_and_lengths(card: Card) -> None:
    verify(card, PinName.USER_AUTH, card.created_pins[PinName.USER_AUTH])  # type: ignore[index]
    sw_of(card, "00A4020C020017")
    block = digest_info(b"y")
    assert sw_of(card, bytes([0x80, 0x2A, 0x06, 0x80, len(block)]) + block + b"\x00") == 0x6A86
    assert sw_of(card, bytes([0x80, 0x2A, 0x00, 0x81, len(block)]) + block + b"\x00") == 0x6981
    assert sw_of(card, bytes([0x80, 0x2A, 0x00, 0x85, len(block)]) + block + b"\x00") == 0x6A82
    assert sw_of(card, bytes([0x80, 0x2A, 0x00, 0x00, len(block)]) + block + b"\x00") == 0x6A86
    assert sw_of(card, "802A008000") == 0x6700  # case 2: nothing to sign
    too_long = bytes(246)
    assert sw_of(card, bytes([0x80, 0x2A, 0, 0x80, 0, 0, 246]) + too_long + b"\x00\x00") == 0x6700
    assert sw_of(card, bytes([0x80, 0x2A, 0x02, 0x80, 5]) + b"12345" + b"\x00") == 0x6700
    # Signing with a certificate EF current instead of a key.
    sw_of(card, "00A4020C02000A")
    assert sw_of(card, bytes([0x80, 0x2A, 0x00, 0x80, len(block)]) + block + b"\x00") == 0x6981


def test_signature_without_le_is_chained_through_get_response(card: Card) -> None:
    verify(card, PinName.USER_AUTH, card.created_pins[PinName.USER_AUTH])  # type: ignore[index]
    sw_of(card, "00A4020C020017")
    block = digest_info(b"z")
    data, sw = send(card, bytes([0x80, 0x2A, 0x00, 0x80, len(block)]) + block)
    assert (data, sw) == (b"", 0x6100)  # 256 bytes waiting
    first, sw = send(card, "00C0000080")
    assert len(first) == 128 and sw == 0x6180
    second, sw = send(card, "00C0000000")
    assert len(second) == 128 and sw == 0x9000
    public(card.issuer.certificates()["user_auth"]).verify(
        first + second, b"z", padding.PKCS1v15(), hashes.SHA256()
    )
    assert sw_of(card, "00C0000000") == 0x6985  # nothing waits any more


def test_same_seed_same_card_byte_for_byte() -> None:
    a = Card.create(None, seed=5)
    b = Card.create(None, seed=5)
    c = Card.create(None, seed=6)
    for app, fid in [(AppName.JPKI, f) for f in (0x0002, 0x0006, 0x0008, 0x000A, 0x000B)]:
        select_app(a, app)
        select_app(b, app)
        select_app(c, app)
        assert read_ef(a, fid) == read_ef(b, fid)
    assert read_ef(a, 0x000A) != read_ef(c, 0x000A)
    verify(a, PinName.USER_AUTH, a.created_pins[PinName.USER_AUTH])  # type: ignore[index]
    verify(b, PinName.USER_AUTH, b.created_pins[PinName.USER_AUTH])  # type: ignore[index]
    block = digest_info(b"same")
    apdu = bytes([0x80, 0x2A, 0x00, 0x97, len(block)]) + block + b"\x00"
    assert a.transmit(apdu) == b.transmit(apdu)
