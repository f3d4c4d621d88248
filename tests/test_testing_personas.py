"""Named personas (card_emulator.testing.personas): each issues and exercises what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.x509.oid import ExtensionOID

from apdu import decode_tlv
from card_emulator import AppName, Card, PinName
from card_emulator.issuance import read_basic_four
from card_emulator.persona import generate_persona, verification_code_b
from card_emulator.testing import personas, read_ef, select_app, verify
from card_emulator.testing.personas import NamedPersona

ROOT = Path(__file__).resolve().parents[1]


def basic_four_bytes(card: Card) -> bytes:
    pins = card.created_pins or {}
    assert verify(card, PinName.TEXT_CODE_B, pins[PinName.TEXT_CODE_B]) == 0x9000
    data, sw = read_ef(card, 0x0002)
    assert sw == 0x9000
    return data


def length_form(ef: bytes, tag: int) -> int:
    """The first length byte of ``tag`` in EF 0002: < 0x80 short, 0x81 or 0x82 long."""
    outer, _ = decode_tlv(ef)
    if tag == 0xFF20:
        return ef[2]
    child = next(c for c in outer.children() if c.tag == tag)
    return child.to_bytes()[2]


@pytest.mark.parametrize("persona", personas.ALL, ids=lambda p: p.name)
def test_every_persona_issues_and_reads_back(persona: NamedPersona) -> None:
    card = persona.card()
    holder = card.issuer.holder()
    for key, value in persona.holder.items():
        if key in ("name", "address", "birth_date", "sex"):
            assert getattr(holder, key) == value
    read = read_basic_four(basic_four_bytes(card))
    assert (read.name, read.address, read.sex) == (holder.name, holder.address, holder.sex)
    assert read.birth_date == f"{holder.birth_date:%Y%m%d}"
    for pin, value in persona.pins.items():
        assert verify(card, PinName(pin), value) == 0x9000
    assert card.issuer.has_signing_certificate == (persona.variant != "under15")
    card.close()


def test_the_length_forms_each_persona_promises() -> None:
    assert length_form(basic_four_bytes(personas.STANDARD.card()), 0xFF20) < 0x80
    long_name = basic_four_bytes(personas.LONG_NAME.card())
    assert length_form(long_name, 0xDF22) == 0x81 and long_name[2] == 0x82
    medium = basic_four_bytes(personas.MEDIUM_ADDRESS.card())
    assert medium[2] == 0x81 and length_form(medium, 0xDF23) < 0x80
    long_address = basic_four_bytes(personas.LONG_ADDRESS.card())
    assert long_address[2] == 0x82 and length_form(long_address, 0xDF23) == 0x82
    assert len(long_address) > 256  # more than one READ BINARY


@pytest.mark.parametrize(
    ("persona", "prefix", "era"),
    [
        (personas.BORN_LAST_DAY_OF_SHOWA, "640107", "3"),
        (personas.BORN_FIRST_DAY_OF_HEISEI, "010108", "4"),
        (personas.BORN_LAST_DAY_OF_HEISEI, "310430", "4"),
        (personas.BORN_FIRST_DAY_OF_REIWA, "010501", "5"),
        (personas.BORN_SHOWA_GANNEN, "011225", "3"),
        (personas.BORN_TAISHO, "151224", "2"),
        (personas.LEAP_DAY, "630229", "3"),
    ],
    ids=lambda v: v.name if isinstance(v, NamedPersona) else str(v),
)
def test_era_boundaries_give_the_right_verification_code_b(
    persona: NamedPersona, prefix: str, era: str
) -> None:
    card = persona.card()
    code_b = (card.created_pins or {})[PinName.TEXT_CODE_B]
    assert code_b.startswith(prefix) and len(code_b) == 14
    holder = card.issuer.holder()
    assert code_b == f"{prefix}{holder.card_expiry.year:04d}{holder.security_code}"
    certificates = card.issuer.certificates()
    if "signing" in certificates:
        san = certificates["signing"].extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME
        )
        assert f"{era}{holder.birth_date:%Y%m%d}".encode() in san.value.public_bytes()


def test_leap_day_certificates_end_on_28_february() -> None:
    card = personas.LEAP_DAY.card()
    end = card.issuer.certificates()["user_auth"].not_valid_after_utc
    assert (end.month, end.day) == (2, 28)  # 2031 is a common year (JST 23:59:59 = 14:59:59 UTC)


def test_shared_pin_values_keep_separate_counters() -> None:
    card = personas.SHARED_PIN_VALUE.card()
    assert verify(card, PinName.USER_AUTH, "0000") == 0x63C2
    assert verify(card, PinName.RESIDENT_REGISTRY, "2580") == 0x9000
    select_app(card, AppName.JPKI)
    assert card.issuer.pin_status(PinName.USER_AUTH).remaining == 2


def test_persona_code_b_matches_the_persona_module() -> None:
    card = personas.LEAP_DAY.card()
    holder = card.issuer.holder()
    persona = generate_persona(
        0,
        birth_date=holder.birth_date,
        security_code=holder.security_code,
        card_expiry=holder.card_expiry,
    )
    assert (card.created_pins or {})[PinName.TEXT_CODE_B] == verification_code_b(persona)


def test_the_readme_lists_every_persona_with_what_it_exercises() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Personas", 1)[1].split("\n### ", 1)[0]
    rows = [row for row in section.splitlines() if row.startswith("| `")]
    listed = {row.split("`")[1] for row in rows}
    assert listed == {p.name for p in personas.ALL}
