"""Card issuance: every EF's bytes, every private key and the initial PINs of one TEST card.

:func:`issue_card` turns a seed into a :class:`CardImage` — the content of a new card, which the
card's store is then filled from. Same arguments, same bytes. The holder is synthetic and every key
is a test key (``card_emulator.pki``).

Layouts: card-interface.md §4 (JPKI AP, here), §5 (text AP, ``card_emulator.text_files``, whose
names are re-exported here), §6–§8 (``card_emulator.issuance_aps``), §7.1 (住基AP). The files present
are exactly those ``rules.FILE_RULES`` lists (JPKI 0001 and key 001A only with a signing certificate).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from card_emulator.cv import key_id
from card_emulator.drbg import DeterministicRandom
from card_emulator.formats import years_before
from card_emulator.issuance_aps import KEY_REFERENCE, issue_more, pkcs8
from card_emulator.persona import (
    DEFAULT_ISSUED,
    Persona,
    age_on,
    certificate_expiry,
    generate_persona,
    verification_code_b,
)
from card_emulator.pin_names import parse_pin_name
from card_emulator.pki import (
    deterministic_rsa_key,
    issue_signing_certificate,
    issue_user_auth_certificate,
    test_ca,
    user_auth_subject_cn,
)
from card_emulator.rules import CONFIGURABLE_TRIES, AppName, Location, PinName
from card_emulator.text_files import (
    TEXT_AP_CA_KEY_ID,
    TEXT_AP_ISSUER_KEY_ID,
    BasicFour,
    ap_basic_info_file,
    basic_four_file,
    cv_certificate_file,
    integrity_record_file,
    my_number_file,
    read_basic_four,
    verify_integrity_record,
)

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
    issued: date  # the date asked for ("now"); for "expired", persona.issued is years earlier
    variant: Variant = "standard"
    # Retry limits that differ from rules.PIN_SPECS (the unpublished ones may be chosen per card).
    max_tries: dict[PinName, int] = field(default_factory=dict)
    mf_objects: dict[int, bytes] = field(default_factory=dict, repr=False)  # GET DATA at MF (§8)

    @property
    def serial(self) -> str:
        """The token info serial (EF 0006, §4.2): the holder's ``card_serial``."""
        return self.persona.card_serial

    @property
    def has_signing_certificate(self) -> bool:
        """Whether JPKI EF 0001 was issued (not for a holder under 15, pin-rules.md §1)."""
        return (_J, 0x0001) in self.files


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
    card_issued = years_before(now, EXPIRED_YEARS_AGO) if variant == "expired" else now
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
            pin = parse_pin_name(name)
        except ValueError as error:
            raise ValueError(f"max_tries: {error}") from None
        if pin not in CONFIGURABLE_TRIES:
            raise ValueError(f"max_tries: the limit of {pin.value} is published; it is fixed")
        if isinstance(tries, bool) or not isinstance(tries, int) or not 1 <= tries <= 15:
            raise ValueError(f"max_tries: {pin.value} must be 1-15, got {tries!r}")
        limits[pin] = tries
    return limits
