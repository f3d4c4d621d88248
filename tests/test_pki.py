"""The test PKI: deterministic keys, test roots, end-entity certificates per card-interface.md §12."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtensionOID, NameOID

from apdu.tlv import decode_tlv
from card_emulator import pki
from card_emulator.persona import Persona, generate_persona, san_birth_date

SIGNING_DN = (
    "C=JP,O=JPKI-TEST,OU=JPKI-TEST for digital signature,"
    "OU=TEST Japan Agency for Local Authority Information Systems"
)
ISSUED = date(2026, 4, 1)
NOT_AFTER = date(2031, 2, 17)


def _dn(name: x509.Name) -> str:
    """The DN in RDN order as written (not RFC 4514's reversed order)."""
    return ",".join(f"{a.rfc4514_attribute_name}={a.value!s}" for a in name)


@pytest.fixture(scope="module")
def persona() -> Persona:
    return generate_persona(11, name="山田　太郎", address="東京都千代田区霞が関２－１－２")


@pytest.fixture(scope="module")
def signing_cert(persona: Persona) -> x509.Certificate:
    key = pki.deterministic_rsa_key(b"test_pki signing")
    return pki.issue_signing_certificate(
        persona, key.public_key(), issued=ISSUED, not_after=NOT_AFTER
    )


@pytest.fixture(scope="module")
def auth_cert() -> x509.Certificate:
    key = pki.deterministic_rsa_key(b"test_pki auth")
    return pki.issue_user_auth_certificate(
        key.public_key(), subject_cn="TEST0123456789ABCDEF", issued=ISSUED, not_after=NOT_AFTER
    )


# --- Keys -------------------------------------------------------------------------------------


def test_rsa_key_shape() -> None:
    key = pki.deterministic_rsa_key(b"test_pki shape")
    numbers = key.private_numbers()
    assert key.key_size == 2048
    assert numbers.public_numbers.e == 65537
    for prime in (numbers.p, numbers.q):
        assert prime.bit_length() == 1024
        assert prime >> 1022 == 0b11, "top two bits set"
    assert numbers.p * numbers.q == numbers.public_numbers.n
    message = b"sign me"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_same_label_same_key_even_after_the_cache_is_cleared() -> None:
    label = b"test_pki reproducible"
    first = pki.deterministic_rsa_key(label).private_numbers()
    pki.deterministic_rsa_key.cache_clear()
    assert pki.deterministic_rsa_key(label).private_numbers() == first
    assert pki.deterministic_rsa_key(b"test_pki other").private_numbers() != first


def test_key_label_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        pki.deterministic_rsa_key("text")


def test_text_ap_keys_are_distinct() -> None:
    issuer = pki.text_ap_issuer_key().public_key().public_numbers()
    ca = pki.text_ap_ca_key().public_key().public_numbers()
    assert issuer != ca


# --- Test roots (§12.1) -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["signing", "user_auth"])
def test_roots_are_self_signed_test_cas(kind: pki.CaKind) -> None:
    ca = pki.test_ca(kind)
    cert = ca.certificate
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)
    purpose = "digital signature" if kind == "signing" else "user authentication"
    assert _dn(cert.subject) == SIGNING_DN.replace("digital signature", purpose)
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key())
    assert cert.not_valid_before_utc == pki.CA_NOT_BEFORE
    assert cert.not_valid_after_utc == pki.CA_NOT_AFTER


def test_roots_are_shared_and_distinct() -> None:
    assert pki.test_ca("signing").der == pki.test_ca("signing").der
    assert pki.test_ca("signing").der != pki.test_ca("user_auth").der
    with pytest.raises(ValueError):
        pki.test_ca("other")


# --- Signing certificate (§12.2) --------------------------------------------------------------


def test_signing_certificate_chains_to_the_signing_root(signing_cert: x509.Certificate) -> None:
    ca = pki.test_ca("signing").certificate
    signing_cert.verify_directly_issued_by(ca)
    with pytest.raises(ValueError):  # issuer name differs
        signing_cert.verify_directly_issued_by(pki.test_ca("user_auth").certificate)
    aki = signing_cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_signing_certificate_subject(persona: Persona, signing_cert: x509.Certificate) -> None:
    attributes = [(a.oid, a.value) for a in signing_cert.subject]
    assert [oid for oid, _ in attributes] == [
        NameOID.COUNTRY_NAME,
        NameOID.LOCALITY_NAME,
        NameOID.LOCALITY_NAME,
        NameOID.COMMON_NAME,
    ]
    assert attributes[1][1] == persona.prefecture_romaji
    assert attributes[2][1] == persona.city_romaji
    cn = str(attributes[3][1])
    assert len(cn) == 14 + 5 + 9
    assert cn.startswith("20260401") and cn[:19].isdigit()
    assert cn[19:] == "TEST" + persona.municipality_code


def test_signing_certificate_extensions(signing_cert: x509.Certificate) -> None:
    ku = signing_cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    policies = signing_cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert policies.critical
    (policy,) = policies.value
    assert policy.policy_identifier.dotted_string == "1.2.392.200149.8.5.1.0.20"
    assert policy.policy_qualifiers == [pki.CPS_URI]
    san = signing_cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert not san.critical
    assert signing_cert.signature_hash_algorithm is not None
    assert signing_cert.signature_hash_algorithm.name == "sha256"
    assert signing_cert.public_key().key_size == 2048  # type: ignore[union-attr]


def test_signing_certificate_personal_data(
    persona: Persona, signing_cert: x509.Certificate
) -> None:
    san = signing_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    entries = list(san)
    assert all(isinstance(e, x509.OtherName) for e in entries)
    decoded = []
    for entry in entries:
        assert isinstance(entry, x509.OtherName)
        tlv, end = decode_tlv(entry.value)
        assert tlv.tag == 0x0C and end == len(entry.value), "a lone DER UTF8String"
        decoded.append((entry.type_id.dotted_string, tlv.value.decode("utf-8")))
    arc = "1.2.392.200149.8.5.5."
    assert decoded == [
        (arc + "1", "山田　太郎"),
        (arc + "4", san_birth_date(persona.birth_date)),
        (arc + "3", persona.sex),
        (arc + "5", "東京都千代田区霞が関２－１－２"),
        (arc + "2", "00000"),
        (arc + "6", "0" * len("東京都千代田区霞が関２－１－２")),
    ]


def test_validity_is_the_issuance_day_to_the_end_of_not_after(
    signing_cert: x509.Certificate,
) -> None:
    # 00:00 JST and 23:59:59 JST, expressed in UTC.
    assert signing_cert.not_valid_before_utc == datetime(2026, 3, 31, 15, 0, 0, tzinfo=UTC)
    assert signing_cert.not_valid_after_utc == datetime(2031, 2, 17, 14, 59, 59, tzinfo=UTC)


def test_certificates_are_byte_for_byte_reproducible(persona: Persona) -> None:
    key = pki.deterministic_rsa_key(b"test_pki signing").public_key()
    one = pki.issue_signing_certificate(persona, key, issued=ISSUED, not_after=NOT_AFTER)
    two = pki.issue_signing_certificate(persona, key, issued=ISSUED, not_after=NOT_AFTER)
    der = serialization.Encoding.DER
    assert one.public_bytes(der) == two.public_bytes(der)
    later = pki.issue_signing_certificate(
        persona, key, issued=date(2026, 4, 2), not_after=NOT_AFTER
    )
    assert later.serial_number != one.serial_number
    fixed = pki.issue_signing_certificate(
        persona, key, issued=ISSUED, not_after=NOT_AFTER, serial_number=12345
    )
    assert fixed.serial_number == 12345


def test_validity_outside_the_root_is_refused(persona: Persona) -> None:
    key = pki.deterministic_rsa_key(b"test_pki signing").public_key()
    with pytest.raises(ValueError, match="outside the test CA"):
        pki.issue_signing_certificate(persona, key, issued=date(2010, 1, 1), not_after=NOT_AFTER)
    with pytest.raises(ValueError):
        pki.issue_signing_certificate(persona, key, issued=ISSUED, not_after=date(2026, 3, 1))


# --- User-authentication certificate (§12.2) --------------------------------------------------


def test_auth_certificate(auth_cert: x509.Certificate) -> None:
    auth_cert.verify_directly_issued_by(pki.test_ca("user_auth").certificate)
    assert [(a.oid, a.value) for a in auth_cert.subject] == [
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.COMMON_NAME, "TEST0123456789ABCDEF"),
    ]
    ku = auth_cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert not ku.value.content_commitment
    policies = auth_cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert policies.critical
    assert [p.policy_identifier.dotted_string for p in policies.value] == [
        "1.2.392.200149.8.5.1.0.30"
    ]
    with pytest.raises(x509.ExtensionNotFound):
        auth_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    auth_cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    auth_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_auth_subject_cn_is_opaque_and_test_marked() -> None:
    cn = pki.user_auth_subject_cn(pki.deterministic_rsa_key(b"test_pki auth").public_key())
    assert len(cn) == 20 and cn.startswith("TEST") and cn.isalnum()
