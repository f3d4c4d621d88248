"""Card issuance: every EF's bytes, every private key and the initial PINs of one TEST card.

:func:`issue_card` turns a seed into a :class:`CardImage` — the content of a new card, which the
card's store is then filled from. Same arguments, same bytes. The holder is synthetic and every key
is a test key (``card_emulator.pki``).

Layouts: card-interface.md §4 (JPKI AP), §5 (text AP), §7.1 (住基AP). The files present are exactly
those ``rules.FILE_RULES`` lists (JPKI 0001 and key 001A only with a signing certificate).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Literal, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apdu.tlv import Tlv, TlvError, decode_all, decode_tlv, decode_with_offsets, encode_tlv
from card_emulator.cv import key_id
from card_emulator.issuance_aps import KEY_REFERENCE, issue_more, pkcs8
from card_emulator.persona import (
    DEFAULT_ISSUED,
    DeterministicRandom,
    Persona,
    age_on,
    certificate_expiry,
    generate_persona,
    verification_code_b,
)
from card_emulator.pki import (
    deterministic_rsa_key,
    issue_signing_certificate,
    issue_user_auth_certificate,
    test_ca,
    text_ap_ca_key,
    text_ap_issuer_key,
    user_auth_subject_cn,
)
from card_emulator.rules import CONFIGURABLE_TRIES, AppName, PinName

__all__ = [
    "CERT_PRESENT",
    "CONFIGURABLE_TRIES",
    "EXPIRED_YEARS_AGO",
    "JUKI_KEY_REFERENCE",
    "TEXT_AP_CA_KEY_ID",
    "TEXT_AP_ISSUER_KEY_ID",
    "TOKEN_LABEL",
    "BasicFour",
    "CardImage",
    "Variant",
    "ap_basic_info_file",
    "basic_four_file",
    "certificate_availability_file",
    "cv_certificate_file",
    "integrity_record_file",
    "issue_card",
    "key_id",
    "my_number_file",
    "read_basic_four",
    "token_info_file",
    "verify_integrity_record",
]

Variant = Literal["standard", "under15", "expired"]
Location = tuple[AppName, int]

EXPIRED_YEARS_AGO = 6  # "expired" variant: issued this long before the given date
TOKEN_LABEL = b"JPKIAPICCTOKEN2"  # physical My Number Card (card-interface.md §4.2)
CERT_PRESENT = 0x8F  # EF 0008 byte for a present certificate (§4.1)

_J, _T, _R = AppName.JPKI, AppName.TEXT, AppName.JUKI


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardImage:
    """The content of a newly issued TEST card. The repr never shows PINs or keys."""

    persona: Persona
    files: dict[Location, bytes] = field(repr=False)  # transparent and secret EFs
    keys: dict[Location, bytes] = field(repr=False)  # PKCS#8 DER private keys
    pins: dict[PinName, str] = field(repr=False)  # initial value of every key reference
    records: dict[Location, list[bytes]] = field(repr=False)  # record EFs, record 1 first
    has_signing_certificate: bool
    serial: str  # token info serial (EF 0006), = persona.card_serial
    issued: date  # the date asked for ("now"); for "expired", persona.issued is years earlier
    variant: Variant = "standard"
    # Retry limits that differ from rules.PIN_SPECS (the unpublished ones may be chosen per card).
    max_tries: dict[PinName, int] = field(default_factory=dict)
    mf_objects: dict[int, bytes] = field(default_factory=dict, repr=False)  # GET DATA at MF (§8)


@dataclass(frozen=True, slots=True)
class BasicFour:
    """基本4情報 as read back from text AP EF 0002."""

    name: str
    address: str
    birth_date: str  # YYYYMMDD
    sex: str


# ---------------------------------------------------------------------------------------------
# JPKI AP files (card-interface.md §4)
# ---------------------------------------------------------------------------------------------

_CKF_RNG = 0x00000001
_CKF_LOGIN_REQUIRED = 0x00000004
_CKF_USER_PIN_INITIALIZED = 0x00000008
_CKF_TOKEN_INITIALIZED = 0x00000400
_UNAVAILABLE = 0xFFFFFFFF


def _padded(text: str, size: int) -> bytes:
    raw = text.encode("ascii")
    if len(raw) > size:
        raise ValueError(f"{text!r} is longer than {size} bytes")
    return raw.ljust(size, b" ")


def token_info_file(serial: str) -> bytes:
    """EF 0006: PKCS#11 CK_TOKEN_INFO, 160 bytes, CK_ULONG as big-endian u32 (§4.2)."""
    flags = _CKF_RNG | _CKF_LOGIN_REQUIRED | _CKF_USER_PIN_INITIALIZED | _CKF_TOKEN_INITIALIZED
    data = struct.pack(
        ">32s32s16s16s11I2s2s16s",
        TOKEN_LABEL.ljust(32, b" "),  # exactly 32 bytes, space padded (§4.2)
        _padded("TEST mynumber-card-emulator", 32),  # manufacturerID
        _padded("TEST-EMULATOR", 16),  # model
        _padded(serial, 16),  # serialNumber: tells cards apart in OpenSC's cache
        flags,
        1,  # ulMaxSessionCount
        0,  # ulSessionCount
        1,  # ulMaxRwSessionCount
        0,  # ulRwSessionCount
        16,  # ulMaxPinLen
        6,  # ulMinPinLen
        _UNAVAILABLE,  # total public memory
        _UNAVAILABLE,  # free public memory
        _UNAVAILABLE,  # total private memory
        _UNAVAILABLE,  # free private memory
        b"03",  # hardwareVersion, ASCII as on cards
        b"01",  # firmwareVersion
        b"9" * 16,  # utcTime
    )
    assert len(data) == 160
    return data


def certificate_availability_file(*, signing: bool, user_auth: bool = True) -> bytes:
    """EF 0008: first byte signing certificate, second authentication certificate (§4.1)."""
    return bytes([CERT_PRESENT if signing else 0x00, CERT_PRESENT if user_auth else 0x00, 0x00])


# ---------------------------------------------------------------------------------------------
# Text AP files (card-interface.md §5)
# ---------------------------------------------------------------------------------------------


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


def _card_public_key(public_key: rsa.RSAPublicKey) -> bytes:
    """``90`` exponent ‖ ``91`` modulus, the card's RSA public key encoding (§5.5)."""
    numbers = public_key.public_numbers()
    exponent = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    modulus = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    return encode_tlv(0x90, exponent) + encode_tlv(0x91, modulus)


@cache
def cv_certificate_file() -> bytes:
    """EF 0004, 568 bytes: ``7F21`` { ``5F4E`` CA key id ‖ key id ‖ public key, ``5F37``
    signature by the test CA key over the 297-byte body } (§5.5). The same on every card: built
    once per process."""
    body = (
        TEXT_AP_CA_KEY_ID
        + TEXT_AP_ISSUER_KEY_ID
        + _card_public_key(text_ap_issuer_key().public_key())
    )
    signature = text_ap_ca_key().sign(body, padding.PKCS1v15(), hashes.SHA256())
    return encode_tlv(0x7F21, encode_tlv(0x5F4E, body) + encode_tlv(0x5F37, signature))


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


def _cv_certified_key(ef0004: bytes) -> rsa.RSAPublicKey:
    """The key certified by EF 0004, after checking the CV signature against the test CA key."""
    outer, _ = decode_tlv(ef0004)
    parts = {tlv.tag: tlv.value for tlv in outer.children()}
    body, signature = parts[0x5F4E], parts[0x5F37]
    text_ap_ca_key().public_key().verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
    key_parts = {tlv.tag: tlv.value for tlv in decode_all(body[32:])}
    e = int.from_bytes(key_parts[0x90], "big")
    n = int.from_bytes(key_parts[0x91], "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


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
        key = _cv_certified_key(files[(_T, 0x0004)])
        key.verify(
            df33.value, df31.to_bytes() + df32.to_bytes(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (KeyError, ValueError, InvalidSignature):  # TlvError is a ValueError
        return False
    return True


# ---------------------------------------------------------------------------------------------
# 住基AP (card-interface.md §7.1)
# ---------------------------------------------------------------------------------------------

# One 16-byte key reference record; its meaning is not public. A test-hierarchy key id (our choice).
JUKI_KEY_REFERENCE = KEY_REFERENCE


# ---------------------------------------------------------------------------------------------
# Issuance
# ---------------------------------------------------------------------------------------------


_pkcs8 = pkcs8


def _der(certificate: Any) -> bytes:
    data: bytes = certificate.public_bytes(serialization.Encoding.DER)
    return data


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return date(d.year - years, 2, 28)


def _card_key(seed: int, purpose: str) -> rsa.RSAPrivateKey:
    return deterministic_rsa_key(f"mynacard TEST card seed={seed} {purpose} key".encode())


def _under15_birth_date(seed: int, issued: date) -> date:
    """A birth date 5–14 years before ``issued`` (5×366 days ≥ 5 years; 15×365−4 < 15 years)."""
    rng = DeterministicRandom(b"under15", seed)
    return date.fromordinal(issued.toordinal() - rng.randint(5 * 366, 15 * 365 - 4))


def issue_card(
    seed: int = 0,
    *,
    issued: date | None = None,
    variant: Variant = "standard",
    max_tries: Mapping[PinName | str, int] | None = None,
    **overrides: Any,
) -> CardImage:
    """Issue a TEST card for the synthetic holder ``generate_persona(seed, ...)``.

    ``issued`` defaults to a fixed date (never the wall clock). Variants:

    * ``standard``: an adult with both certificates, valid from ``issued``.
    * ``under15``: a holder under 15 without a signing certificate (no JPKI 0001, no key 001A,
      EF 0008 = ``00 8F 00``; pin-rules.md §1).
    * ``expired``: issued ``EXPIRED_YEARS_AGO`` years before ``issued``, so both certificates
      expired before ``issued`` while the card itself is still valid.

    ``max_tries`` sets the retry limit of key references whose real limit is not public
    (照合番号A/B, the 券面AP birth-date key: card-interface.md §5.6, §6.1), e.g.
    ``{"surface_code_b": 5}``; 1–15 (VERIFY reports it in one nibble). ValueError otherwise.

    ``overrides`` replace persona fields (ValueError for bad values, TypeError for unknown names).
    ``seed`` is a whole number from 0 (ValueError for a negative one, TypeError for a non-int).
    """
    if variant not in get_args(Variant):
        raise ValueError(f"variant must be one of {', '.join(get_args(Variant))}, got {variant!r}")
    now = DEFAULT_ISSUED if issued is None else issued
    if not isinstance(now, date) or isinstance(now, datetime):
        raise TypeError("issued must be a datetime.date")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError("seed must be an int")
    if seed < 0:  # issue 12: refused, not a card of its own (the CLI says the same)
        raise ValueError(f"seed must be a whole number from 0, not {seed}")
    limits = _retry_limits(max_tries)

    if variant == "under15":
        overrides.setdefault("birth_date", _under15_birth_date(seed, now))
    card_issued = _years_before(now, EXPIRED_YEARS_AGO) if variant == "expired" else now
    persona = generate_persona(seed, issued=card_issued, **overrides)
    if variant == "under15" and age_on(persona, card_issued) >= 15:
        raise ValueError("variant 'under15' needs a holder under 15 on the issuance date")
    not_after = certificate_expiry(persona)
    if variant == "expired" and not_after >= now:
        raise ValueError("variant 'expired' needs certificates that ended before the issued date")
    has_signing = variant != "under15"

    auth_key = _card_key(seed, "user_auth")
    auth_public = auth_key.public_key()
    auth_certificate = issue_user_auth_certificate(
        auth_public,
        subject_cn=user_auth_subject_cn(auth_public),
        issued=card_issued,
        not_after=not_after,
    )
    files: dict[Location, bytes] = {
        (_J, 0x0002): test_ca("signing").der,
        (_J, 0x0006): token_info_file(persona.card_serial),
        (_J, 0x0008): certificate_availability_file(signing=has_signing),
        (_J, 0x000A): _der(auth_certificate),
        (_J, 0x000B): test_ca("user_auth").der,
    }
    keys: dict[Location, bytes] = {(_J, 0x0017): _pkcs8(auth_key)}
    if has_signing:
        sign_key = _card_key(seed, "signing")
        sign_certificate = issue_signing_certificate(
            persona, sign_key.public_key(), issued=card_issued, not_after=not_after
        )
        files[(_J, 0x0001)] = _der(sign_certificate)
        keys[(_J, 0x001A)] = _pkcs8(sign_key)

    ef0001 = my_number_file(persona.my_number)
    ef0002 = basic_four_file(persona.name, persona.address, persona.birth_date, persona.sex)
    files[(_T, 0x0001)] = ef0001
    files[(_T, 0x0002)] = ef0002
    files[(_T, 0x0003)] = integrity_record_file(ef0001, ef0002)
    files[(_T, 0x0004)] = cv_certificate_file()
    files[(_T, 0x0005)] = ap_basic_info_file()
    # Where cards keep the 住民票コード is not public (§7.1): a SECRET EF 0003 is our choice.
    files[(_R, 0x0003)] = persona.resident_code.encode("ascii")
    records: dict[Location, list[bytes]] = {(_R, 0x0002): [JUKI_KEY_REFERENCE]}

    more = issue_more(seed, persona, lambda purpose: _card_key(seed, purpose))
    files.update(more.files)
    records.update(more.records)
    keys.update({location: _pkcs8(key) for location, key in more.keys.items()})

    pins = persona.pins.as_dict()
    pins[PinName.TEXT_CODE_A] = persona.my_number
    pins[PinName.TEXT_CODE_B] = verification_code_b(persona)
    pins.update(more.pins)

    return CardImage(
        persona=persona,
        files=dict(sorted(files.items())),
        keys=keys,
        pins=pins,
        records=records,
        has_signing_certificate=has_signing,
        serial=persona.card_serial,
        issued=now,
        variant=variant,
        max_tries=limits,
        mf_objects=more.mf_objects,
    )


def _retry_limits(given: Mapping[PinName | str, int] | None) -> dict[PinName, int]:
    """Validated ``max_tries``: only the references whose real limit is unknown may be set."""
    limits: dict[PinName, int] = {}
    for name, tries in (given or {}).items():
        try:
            pin = PinName(name)
        except ValueError:
            raise ValueError(f"max_tries: no key reference named {name!r}") from None
        if pin not in CONFIGURABLE_TRIES:
            raise ValueError(f"max_tries: the limit of {pin.value} is published; it is fixed")
        if isinstance(tries, bool) or not isinstance(tries, int) or not 1 <= tries <= 15:
            raise ValueError(f"max_tries: {pin.value} must be 1-15, got {tries!r}")
        limits[pin] = tries
    return limits
