"""A deterministic TEST public-key infrastructure shaped like J-LIS's JPKI (TEST KEYS ONLY).

* RSA-2048 keys derived from a label (:func:`deterministic_rsa_key`): the same label gives the same
  key everywhere, so every generated card, and every run, is byte-for-byte reproducible. The
  search is in :mod:`card_emulator.rsa_keys`, its results cached on disk by
  :mod:`card_emulator.key_cache`.
* Two self-signed test roots (:func:`test_ca`), ``O=JPKI-TEST``, never to be confused with J-LIS's.
* End-entity certificates per card-interface.md §12.2, with the test policy arc
  ``1.2.392.200149.8.5.1.0.*`` (§12.2: test environment).
* The text AP's test issuer key and its test CA (card-interface.md §5.4, §5.5).

The keys are predictable by anyone with this source: they protect nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from apdu.tlv import encode_tlv
from card_emulator import key_cache
from card_emulator.persona import DeterministicRandom, Persona, san_birth_date
from card_emulator.rsa_keys import KeyWitness, rebuild_key

__all__ = [
    "CA_NOT_AFTER",
    "CA_NOT_BEFORE",
    "CPS_URI",
    "JST",
    "OID_PD_ADDRESS",
    "OID_PD_ADDRESS_ALT",
    "OID_PD_BIRTH",
    "OID_PD_NAME",
    "OID_PD_NAME_ALT",
    "OID_PD_SEX",
    "POLICY_TEST_AUTH",
    "POLICY_TEST_SIGN",
    "CaKind",
    "TestCa",
    "deterministic_rsa_key",
    "issue_signing_certificate",
    "issue_user_auth_certificate",
    "signing_subject_cn",
    "test_ca",
    "text_ap_ca_key",
    "text_ap_issuer_key",
    "user_auth_subject_cn",
]

JST = timezone(timedelta(hours=9), "JST")

# Certificate policies (card-interface.md §12.2): production 1.2.392.200149.8.5.1.1.20 (sign) and
# .1.3.30 (auth); the test environment uses the .1.0.* arc.
POLICY_TEST_SIGN = x509.ObjectIdentifier("1.2.392.200149.8.5.1.0.20")
POLICY_TEST_AUTH = x509.ObjectIdentifier("1.2.392.200149.8.5.1.0.30")
# A reserved .invalid host (RFC 2606): a test certificate must not point at J-LIS's real CPS.
CPS_URI = "http://jpki-test.invalid/cps.html"

# jpki-personalData arc (card-interface.md §12.2); SAN order on the card: 1, 4, 3, 5, 2, 6.
OID_PD_NAME = x509.ObjectIdentifier("1.2.392.200149.8.5.5.1")
OID_PD_NAME_ALT = x509.ObjectIdentifier("1.2.392.200149.8.5.5.2")
OID_PD_SEX = x509.ObjectIdentifier("1.2.392.200149.8.5.5.3")
OID_PD_BIRTH = x509.ObjectIdentifier("1.2.392.200149.8.5.5.4")
OID_PD_ADDRESS = x509.ObjectIdentifier("1.2.392.200149.8.5.5.5")
OID_PD_ADDRESS_ALT = x509.ObjectIdentifier("1.2.392.200149.8.5.5.6")

# The real roots live 10 years (§12.1). The test roots span 30 so that cards issued on any date
# a test picks — including the "expired" variant, issued years in the past — chain inside them.
CA_NOT_BEFORE = datetime(2015, 10, 20, tzinfo=UTC)
CA_NOT_AFTER = datetime(2045, 10, 19, 23, 59, 59, tzinfo=UTC)

CaKind = Literal["signing", "user_auth"]


# ---------------------------------------------------------------------------------------------
# Deterministic RSA keys
# ---------------------------------------------------------------------------------------------

# TEST vectors: the fixed keys every card shares (the two test roots, the text AP's test CA and
# issuer key, the CV keys of card_emulator.cv: the MF-level chain 6000020-6000022 and the
# card-surface AP's CA 6000023 and issuer 6000024), shipped as the witnesses of their search
# (card_emulator.rsa_keys: where each prime is in the label's stream) so that no process searches
# for them. tests/test_keys.py checks each against a full search; rebuild_key refuses a witness
# that is not its label's.
_TEST_KEY_WITNESSES: dict[bytes, KeyWitness] = {
    b"mynacard TEST JPKI signing CA": KeyWitness(0, 138, 16000, 4),
    b"mynacard TEST JPKI user_auth CA": KeyWitness(0, 280, 39168, 218),
    b"mynacard TEST text AP CA key 6000033": KeyWitness(0, 456, 55808, 63),
    b"mynacard TEST text AP issuer key 6000034": KeyWitness(0, 540, 69248, 279),
    b"mynacard TEST CV key 6000020 MF root": KeyWitness(0, 1539, 204544, 217),
    b"mynacard TEST CV key 6000021 MF intermediate": KeyWitness(0, 1072, 125312, 381),
    b"mynacard TEST CV key 6000022 MF card-level key": KeyWitness(0, 219, 32384, 215),
    b"mynacard TEST CV key 6000023 surface AP CA": KeyWitness(0, 227, 31744, 63),
    b"mynacard TEST CV key 6000024 surface AP issuer": KeyWitness(0, 268, 35072, 947),
}


@lru_cache(maxsize=256)
def deterministic_rsa_key(label: bytes) -> rsa.RSAPrivateKey:
    """The RSA-2048 TEST key (e = 65537) named by ``label``: same label, same key, everywhere.

    p and q are 1024-bit primes with the top two bits set (so n has exactly 2048 bits) drawn from
    :class:`DeterministicRandom` over the label, with |p - q| > 2^924 (FIPS 186-4 B.3.1); the
    search is :mod:`card_emulator.rsa_keys`. Where a key comes from — the shipped TEST vectors,
    this process's memory, the on-disk key cache (:mod:`card_emulator.key_cache`) or a new search
    of some tens of milliseconds — never changes its bytes. TypeError if ``label`` is not bytes.
    """
    if not isinstance(label, bytes):
        raise TypeError("the key label must be bytes")
    witness = _TEST_KEY_WITNESSES.get(label)
    if witness is not None:
        return rebuild_key(label, witness)
    return key_cache.obtain_key(label)


def text_ap_issuer_key() -> rsa.RSAPrivateKey:
    """Signs the text AP integrity record (EF 0003); certified by the CV certificate (EF 0004)."""
    return deterministic_rsa_key(b"mynacard TEST text AP issuer key 6000034")


def text_ap_ca_key() -> rsa.RSAPrivateKey:
    """The test 券面入力補助AP CA (key id 6000033) that signs the CV certificate of EF 0004."""
    return deterministic_rsa_key(b"mynacard TEST text AP CA key 6000033")


# ---------------------------------------------------------------------------------------------
# Test certificate authorities (card-interface.md §12.1)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TestCa:
    """A self-signed TEST root: its key and certificate."""

    __test__ = False  # not a pytest test class

    kind: CaKind
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def name(self) -> x509.Name:
        return self.certificate.subject

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


_CA_PURPOSE: dict[str, str] = {
    "signing": "JPKI-TEST for digital signature",
    "user_auth": "JPKI-TEST for user authentication",
}
_CA_SERIAL: dict[str, int] = {"signing": 0x7E570020, "user_auth": 0x7E570030}


def _ca_name(kind: CaKind) -> x509.Name:
    # RDN order C, O, OU (purpose), OU (agency), as on the J-LIS roots (§12.1).
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI-TEST"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _CA_PURPOSE[kind]),
            x509.NameAttribute(
                NameOID.ORGANIZATIONAL_UNIT_NAME,
                "TEST Japan Agency for Local Authority Information Systems",
            ),
        ]
    )


@cache
def test_ca(kind: CaKind) -> TestCa:
    """The shared TEST root for ``"signing"`` (EF 0002) or ``"user_auth"`` (EF 000B)."""
    if kind not in _CA_PURPOSE:
        raise ValueError(f"kind must be 'signing' or 'user_auth', got {kind!r}")
    key = deterministic_rsa_key(f"mynacard TEST JPKI {kind} CA".encode())
    name = _ca_name(kind)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(_CA_SERIAL[kind])
        .not_valid_before(CA_NOT_BEFORE)
        .not_valid_after(CA_NOT_AFTER)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TestCa(kind, key, certificate)


test_ca.__test__ = False  # type: ignore[attr-defined]  # not a pytest test function


# ---------------------------------------------------------------------------------------------
# End-entity certificates (card-interface.md §12.2)
# ---------------------------------------------------------------------------------------------


def _validity(issued: date, not_after: date) -> tuple[datetime, datetime]:
    """notBefore 00:00:00 JST of ``issued``, notAfter 23:59:59 JST of ``not_after``, in UTC."""
    for label, value in (("issued", issued), ("not_after", not_after)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise TypeError(f"{label} must be a datetime.date")
    start = datetime.combine(issued, time(0, 0, 0), JST).astimezone(UTC)
    end = datetime.combine(not_after, time(23, 59, 59), JST).astimezone(UTC)
    if end <= start:
        raise ValueError("not_after must not be before the issuance date")
    if start < CA_NOT_BEFORE or end > CA_NOT_AFTER:
        raise ValueError(
            f"certificate validity {start:%Y-%m-%d}…{end:%Y-%m-%d} falls outside the test CA's "
            f"{CA_NOT_BEFORE:%Y-%m-%d}…{CA_NOT_AFTER:%Y-%m-%d}"
        )
    return start, end


def _spki(public_key: rsa.RSAPublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _derived_serial(kind: bytes, public_key: rsa.RSAPublicKey, issued: date) -> int:
    """A positive 63-bit serial fixed by the key and the issuance date."""
    digest = hashlib.sha256(b"serial/" + kind + _spki(public_key) + issued.isoformat().encode())
    return (int.from_bytes(digest.digest()[:8], "big") >> 1) | 1


def signing_subject_cn(persona: Persona, public_key: rsa.RSAPublicKey, issued: date) -> str:
    """CN of a signing certificate: YYYYMMDDhhmmss + 5-digit sequence + 9-character office id.

    The time is a made-up office hour (09:00–16:59 JST) on the issuance date; the office id is
    ``TEST`` + the municipality code, so the subject itself says TEST.
    """
    rng = DeterministicRandom(b"sign-cn", _spki(public_key), issued.isoformat())
    hh, mm, ss = rng.randint(9, 16), rng.below(60), rng.below(60)
    sequence = rng.digits(5)
    return f"{issued:%Y%m%d}{hh:02d}{mm:02d}{ss:02d}{sequence}TEST{persona.municipality_code}"


def user_auth_subject_cn(public_key: rsa.RSAPublicKey) -> str:
    """An opaque 20-character CN for an authentication certificate: ``TEST`` + 16 hex digits."""
    digest = hashlib.sha256(b"auth-cn/" + _spki(public_key)).hexdigest()
    return "TEST" + digest[:16].upper()


def _utf8_string(text: str) -> bytes:
    """DER UTF8String (universal tag 12); cryptography wraps it as otherName [0] EXPLICIT."""
    return encode_tlv(0x0C, text.encode("utf-8"))


def _policies(policy: x509.ObjectIdentifier) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(policy, [CPS_URI])])


def _key_usage(*, non_repudiation: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _key_ids(
    builder: x509.CertificateBuilder, ca: TestCa, public_key: rsa.RSAPublicKey
) -> x509.CertificateBuilder:
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
    ).add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)


def issue_signing_certificate(
    persona: Persona,
    public_key: rsa.RSAPublicKey,
    *,
    issued: date,
    not_after: date,
    serial_number: int | None = None,
) -> x509.Certificate:
    """署名用電子証明書 (EF 0001) for ``persona``, signed by the signing test CA.

    Subject ``C=JP, L=<prefecture>, L=<city>, CN=<signing_subject_cn>``; keyUsage critical
    {digitalSignature, nonRepudiation}; certificatePolicies critical (test policy + CPS);
    subjectAltName with the holder's personal data as otherName UTF8Strings in the card's order
    (name, birth, sex, address, name flags, address flags); AKI, SKI.
    """
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, persona.prefecture_romaji),
            x509.NameAttribute(NameOID.LOCALITY_NAME, persona.city_romaji),
            x509.NameAttribute(
                NameOID.COMMON_NAME, signing_subject_cn(persona, public_key, issued)
            ),
        ]
    )
    personal_data = [
        (OID_PD_NAME, persona.name),
        (OID_PD_BIRTH, san_birth_date(persona.birth_date)),
        (OID_PD_SEX, persona.sex),
        (OID_PD_ADDRESS, persona.address),
        # 代替文字の使用位置: one flag per character; our text never uses substitute characters.
        (OID_PD_NAME_ALT, "0" * len(persona.name)),
        (OID_PD_ADDRESS_ALT, "0" * len(persona.address)),
    ]
    san = x509.SubjectAlternativeName(
        [x509.OtherName(oid, _utf8_string(value)) for oid, value in personal_data]
    )
    return _end_entity(
        "signing", subject, public_key, issued, not_after, serial_number, POLICY_TEST_SIGN, san
    )


def issue_user_auth_certificate(
    public_key: rsa.RSAPublicKey,
    *,
    subject_cn: str,
    issued: date,
    not_after: date,
    serial_number: int | None = None,
) -> x509.Certificate:
    """利用者証明用電子証明書 (EF 000A): ``C=JP, CN=<subject_cn>``, no personal data.

    keyUsage critical {digitalSignature}; certificatePolicies critical (test policy, CPS); AKI, SKI.
    """
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, subject_cn),
        ]
    )
    return _end_entity(
        "user_auth", subject, public_key, issued, not_after, serial_number, POLICY_TEST_AUTH, None
    )


def _end_entity(
    kind: Literal["signing", "user_auth"],
    subject: x509.Name,
    public_key: rsa.RSAPublicKey,
    issued: date,
    not_after: date,
    serial_number: int | None,
    policy: x509.ObjectIdentifier,
    san: x509.SubjectAlternativeName | None,
) -> x509.Certificate:
    """What both end-entity certificates share (§12.2); only the signing one carries personal data
    and nonRepudiation."""
    start, end = _validity(issued, not_after)
    ca = test_ca(kind)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.name)
        .public_key(public_key)
        .serial_number(
            serial_number
            if serial_number is not None
            else _derived_serial(kind.encode(), public_key, issued)
        )
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(_key_usage(non_repudiation=san is not None), critical=True)
        .add_extension(_policies(policy), critical=True)
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return _key_ids(builder, ca, public_key).sign(ca.key, hashes.SHA256())
