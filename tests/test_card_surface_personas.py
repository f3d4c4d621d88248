"""The kit's personas on the card-surface AP (券面事項確認AP, card-interface.md §6): the text-heavy
holders draw real, signed face images; the era-boundary birth dates give the right birth-date key
(0011) and 照合番号B (0012), and the age record carries the Gregorian date."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from card_emulator import AppName, Card, PinName
from card_emulator.cv import parse_cv_certificate, sha256_digest_info, verify_digest_info
from card_emulator.face import ADDRESS_LINE, NAME_HEIGHT, address_image, name_image
from card_emulator.surface import read_card_face, read_signed_record
from card_emulator.testing import personas, select_app, send, verify
from card_emulator.testing.personas import NamedPersona

TEXT_PERSONAS = (
    personas.LONG_NAME,
    personas.MEDIUM_ADDRESS,
    personas.LONG_ADDRESS,
    personas.NON_BMP_NAME,
    personas.FOREIGN_RESIDENT,
)


def read_by_sfi(card: Card, sfi: int) -> bytes:
    """jsapdu's read: the whole EF by SFI with an extended Le."""
    data, sw = send(card, bytes([0x00, 0xB0, 0x80 | sfi, 0x00, 0x00, 0x00, 0x00]))
    assert sw == 0x9000, f"{sfi}: {sw:04X}"
    return data


def read_in_chunks(card: Card, size: int) -> bytes:
    """jpki-rs's read: the current EF in 256-byte short READ BINARYs."""
    out = b""
    while len(out) < size:
        n = min(256, size - len(out))
        data, sw = send(card, bytes([0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, n & 0xFF]))
        assert sw == 0x9000
        out += data
    return out


def ink(png: bytes) -> tuple[Image.Image, int]:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.mode == "1"
    return image, image.convert("L").histogram()[0]


@pytest.mark.parametrize("persona", TEXT_PERSONAS, ids=lambda p: p.name)
def test_text_heavy_personas_draw_a_signed_face(persona: NamedPersona) -> None:
    card = persona.card()
    holder = card.issuer.holder()
    select_app(card, AppName.SURFACE)
    issuer = parse_cv_certificate(read_by_sfi(card, 4)).public_key
    assert verify(card, PinName.SURFACE_CODE_A, holder.my_number) == 0x9000
    data = read_by_sfi(card, 2)
    assert read_in_chunks(card, len(data)) == data  # the same bytes in 256-byte reads
    face = read_card_face(data)  # checks the DF21 offset table
    assert verify_digest_info(issuer, face.signature, sha256_digest_info(face.signed_digests))
    name, name_ink = ink(face.name_png)
    address, address_ink = ink(face.address_png)
    assert face.name_png == name_image(holder.name)
    assert face.address_png == address_image(holder.address)
    assert name.height == NAME_HEIGHT and name.width >= 10 * len(holder.name)  # half-width: 10 px
    assert address.height % ADDRESS_LINE == 0
    assert 0 < name_ink < name.width * name.height
    assert 0 < address_ink < address.width * address.height
    if persona is personas.LONG_ADDRESS:
        assert address.height >= 5 * ADDRESS_LINE and len(data) > 256


@pytest.mark.parametrize(
    ("persona", "era_date"),
    [
        (personas.BORN_LAST_DAY_OF_SHOWA, "640107"),
        (personas.BORN_FIRST_DAY_OF_HEISEI, "010108"),
        (personas.BORN_LAST_DAY_OF_HEISEI, "310430"),
        (personas.BORN_FIRST_DAY_OF_REIWA, "010501"),
        (personas.BORN_SHOWA_GANNEN, "011225"),
        (personas.BORN_TAISHO, "151224"),
        (personas.LEAP_DAY, "630229"),
    ],
    ids=lambda v: v.name if isinstance(v, NamedPersona) else str(v),
)
def test_era_boundaries_open_the_card_surface_ap(persona: NamedPersona, era_date: str) -> None:
    card = persona.card()
    holder = card.issuer.holder()
    pins = card.created_pins or {}
    assert pins[PinName.SURFACE_BIRTH_DATE] == era_date
    code_b = pins[PinName.SURFACE_CODE_B]
    assert code_b == f"{era_date}{holder.card_expiry.year:04d}{holder.security_code}"
    select_app(card, AppName.SURFACE)
    issuer = parse_cv_certificate(read_by_sfi(card, 4)).public_key
    assert verify(card, PinName.SURFACE_BIRTH_DATE, era_date) == 0x9000
    record = read_signed_record(read_by_sfi(card, 1), 0xFF10, issuer)
    assert record[0xDF11] == f"{holder.birth_date:%Y%m%d}".encode()
    assert verify(card, PinName.SURFACE_CODE_B, code_b) == 0x9000
    face = read_card_face(read_by_sfi(card, 2))
    assert face.birth_date == f"{holder.birth_date:%Y%m%d}"
