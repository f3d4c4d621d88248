"""Card-verifiable (CV) certificates and key identifiers of the TEST hierarchy (TEST KEYS ONLY).

JICSAP-style CV certificates (card-interface.md §5.5, §6.1, §8)::

    7F21 { 5F4E body(297) = 証明者鍵ID(16) ‖ 被証明者鍵ID(16) ‖ 90 exponent 91 modulus,
           5F37 signature(256): RSASSA-PKCS1-v1_5 SHA-256 over the body, by the 証明者 key }

Key identifiers are ``"6000023" 08 05 "001" 00 00 00 00``: production keys begin ``5``, the test
hierarchy's ``6`` (myna-card ``data.rs KeyId``). Every key here is derived from a public label with
:func:`card_emulator.pki.deterministic_rsa_key`: predictable by anyone, protecting nothing.

The test hierarchy of this emulator (``6000020`` and ``6000023`` are the ids seen on JPKI test cards;
the others are our choice, in the same pattern):

=========  ==========================================  ===========================
key id     what it is                                  signs
=========  ==========================================  ===========================
6000020    MF-level test root (padding byte ``A8``)    GET DATA 00F8
6000021    MF-level intermediate                       GET DATA 7F21
6000022    card-level key certified by 7F21            nothing on this card
6000023    券面事項確認AP test CA                      券面AP EF 0004
6000024    券面事項確認AP issuer key                   券面AP EF 0001, 0002, 0005
6000033    券面入力補助AP test CA                      text AP EF 0004
6000034    券面入力補助AP issuer key                   text AP EF 0003, 0007
=========  ==========================================  ===========================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apdu.tlv import decode_all, decode_tlv, encode_tlv
from card_emulator.signing import CardKey

__all__ = [
    "CV_BODY_SIZE",
    "MF_CARD_KEY_ID",
    "MF_INTERMEDIATE_KEY_ID",
    "MF_ROOT_KEY_ID",
    "SURFACE_CA_KEY_ID",
    "SURFACE_ISSUER_KEY_ID",
    "CvCertificate",
    "card_public_key",
    "card_tlv",
    "cv_certificate",
    "key_id",
    "mf_card_key",
    "mf_intermediate_key",
    "mf_root_key",
    "parse_card_public_key",
    "parse_cv_certificate",
    "sha256",
    "sha256_digest_info",
    "sign_digest_info",
    "surface_ca_key",
    "surface_issuer_key",
    "verify_digest_info",
]

CV_BODY_SIZE = 16 + 16 + 265  # two key ids and an RSA-2048 key in 90/91 form (§5.5)
_SHA256_ALGORITHM = bytes.fromhex("300D06096086480165030402010500")  # AlgorithmIdentifier


def key_id(number: str, group: str = "001", tail: bytes = bytes(4)) -> bytes:
    """16-byte key identifier: 7 digits, ``08 05``, 3 digits, 4 padding bytes (§5.5).

    ``tail`` is the padding, ``00 00 00 00`` except on the MF-level root (``00 00 00 A8`` on cards,
    myna-card ``ca.rs``). ValueError for anything else.
    """
    if len(number) != 7 or not number.isdigit() or len(group) != 3 or not group.isdigit():
        raise ValueError("a key id is a 7-digit number and a 3-digit group")
    if len(tail) != 4:
        raise ValueError("a key id ends with 4 padding bytes")
    return number.encode("ascii") + b"\x08\x05" + group.encode("ascii") + tail


MF_ROOT_KEY_ID = key_id("6000020", tail=b"\x00\x00\x00\xa8")
MF_INTERMEDIATE_KEY_ID = key_id("6000021")
MF_CARD_KEY_ID = key_id("6000022")
SURFACE_CA_KEY_ID = key_id("6000023")
SURFACE_ISSUER_KEY_ID = key_id("6000024")


def _test_key(name: str) -> rsa.RSAPrivateKey:
    # Imported here: the card imports this module (MF GET DATA) and must not pay for the key
    # machinery (pki, the key cache, x509) until a card is issued.
    from card_emulator.pki import deterministic_rsa_key

    return deterministic_rsa_key(f"mynacard TEST CV key {name}".encode())


def mf_root_key() -> rsa.RSAPrivateKey:
    """The MF-level test root 6000020: signs the certificate of GET DATA 00F8 (§8)."""
    return _test_key("6000020 MF root")


def mf_intermediate_key() -> rsa.RSAPrivateKey:
    """The MF-level intermediate 6000021 (GET DATA 00F7 names it): signs GET DATA 7F21 (§8)."""
    return _test_key("6000021 MF intermediate")


def mf_card_key() -> rsa.RSAPrivateKey:
    """The key GET DATA 7F21 certifies (6000022). What it is on a card is not public (§8)."""
    return _test_key("6000022 MF card-level key")


def surface_ca_key() -> rsa.RSAPrivateKey:
    """The 券面事項確認AP test CA 6000023: signs 券面AP EF 0004 (§6.1)."""
    return _test_key("6000023 surface AP CA")


def surface_issuer_key() -> rsa.RSAPrivateKey:
    """The 券面事項確認AP issuer key 6000024, certified by EF 0004: signs EF 0001/0002/0005."""
    return _test_key("6000024 surface AP issuer")


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------


def card_tlv(tag: int, value: bytes) -> bytes:
    """A BER-TLV as the card writes long objects: ``82 hh ll`` from 128 bytes on (§5.3: every long
    object seen on cards uses the three-byte form; DER would write ``81 xx``)."""
    return encode_tlv(tag, value, length_size=3 if len(value) >= 0x80 else 0)


def card_public_key(public_key: rsa.RSAPublicKey) -> bytes:
    """``90`` exponent ‖ ``91`` modulus: the card's RSA public-key encoding (§5.5), 265 bytes
    for RSA-2048 with e = 65537."""
    numbers = public_key.public_numbers()
    exponent = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    modulus = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    return encode_tlv(0x90, exponent) + card_tlv(0x91, modulus)


def parse_card_public_key(data: bytes) -> rsa.RSAPublicKey:
    """The key of a ``90 ‖ 91`` encoding; ValueError if either part is missing."""
    parts = {tlv.tag: tlv.value for tlv in decode_all(data)}
    if 0x90 not in parts or 0x91 not in parts:
        raise ValueError("a card public key needs tags 90 (exponent) and 91 (modulus)")
    e, n = (int.from_bytes(parts[tag], "big") for tag in (0x90, 0x91))
    return rsa.RSAPublicNumbers(e, n).public_key()


# ---------------------------------------------------------------------------------------------
# CV certificates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CvCertificate:
    """A parsed CV certificate: who signed (証明者鍵ID), whom it certifies (被証明者鍵ID)."""

    issuer_key_id: bytes
    subject_key_id: bytes
    public_key: rsa.RSAPublicKey
    signature: bytes
    body: bytes  # exactly the signed bytes: the 5F4E value

    def verify(self, ca_public_key: rsa.RSAPublicKey) -> None:
        """Raise ``cryptography.exceptions.InvalidSignature`` unless the CA key signed the body."""
        ca_public_key.verify(self.signature, self.body, padding.PKCS1v15(), hashes.SHA256())


def cv_certificate(
    ca_key: rsa.RSAPrivateKey,
    ca_key_id: bytes,
    subject_key_id: bytes,
    subject_key: rsa.RSAPublicKey,
    *,
    template: bool = True,
) -> bytes:
    """A CV certificate: ``7F21 82 02 33 {5F4E 82 01 29 body, 5F37 82 01 00 signature}``, 568
    bytes (§5.5). ``template`` False gives the contents without ``7F21``, as GET DATA answers (§8)."""
    if len(ca_key_id) != 16 or len(subject_key_id) != 16:
        raise ValueError("key ids are 16 bytes")
    body = ca_key_id + subject_key_id + card_public_key(subject_key)
    if len(body) != CV_BODY_SIZE:
        raise ValueError("a CV certificate certifies an RSA-2048 key with e = 65537")
    signature = ca_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    contents = card_tlv(0x5F4E, body) + card_tlv(0x5F37, signature)
    return card_tlv(0x7F21, contents) if template else contents


def parse_cv_certificate(data: bytes) -> CvCertificate:
    """Parse a CV certificate, with or without its ``7F21`` template (EF 0004 has it, GET DATA
    does not: myna-card ``CardVerifiableCertificate::parse``). ValueError if malformed."""
    if data[:2] == b"\x7f\x21":
        outer, _ = decode_tlv(data)
        data = outer.value
    parts = {tlv.tag: tlv.value for tlv in decode_all(data)}
    body, signature = parts.get(0x5F4E), parts.get(0x5F37)
    if body is None or signature is None or len(body) != CV_BODY_SIZE:
        raise ValueError("a CV certificate is 5F4E (297-byte body) and 5F37 (signature)")
    return CvCertificate(body[:16], body[16:32], parse_card_public_key(body[32:]), signature, body)


# ---------------------------------------------------------------------------------------------
# DigestInfo signatures (the card face's three digests in one DigestInfo, §6.2)
# ---------------------------------------------------------------------------------------------


def sha256_digest_info(digest: bytes) -> bytes:
    """``30 L 30 0D <SHA-256 OID> 05 00 04 n <digest>`` for a digest of any length < 110 bytes:
    the card face puts three concatenated SHA-256 digests (96 bytes) in one (§6.2)."""
    inner = _SHA256_ALGORITHM + bytes([0x04, len(digest)]) + digest
    if len(inner) >= 0x80:
        raise ValueError("digest too long for a short-form DigestInfo")
    return bytes([0x30, len(inner)]) + inner


def sign_digest_info(key: rsa.RSAPrivateKey | CardKey, digest_info: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 over ``digest_info`` as given (EMSA type 01), 256 bytes
    (:meth:`card_emulator.signing.CardKey.sign_block`)."""
    card_key = key if isinstance(key, CardKey) else CardKey(key)
    return card_key.sign_block(digest_info)


def verify_digest_info(public_key: rsa.RSAPublicKey, signature: bytes, digest_info: bytes) -> bool:
    """True if ``signature`` is PKCS#1 v1.5 over exactly ``digest_info`` (checked by
    ``cryptography``'s signature recovery, which checks the whole padding)."""
    try:
        recovered = public_key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        return False
    return recovered == digest_info


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data`` (32 bytes)."""
    return hashlib.sha256(data).digest()
