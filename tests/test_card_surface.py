"""券面事項確認AP (card-interface.md §6) through APDUs, checked with independent parsing.

The card of seed 7 is shared by the module (its keys are derived once per process).
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from PIL import Image

from apdu.tlv import decode_all, decode_tlv, decode_with_offsets
from card_emulator import Card
from card_emulator.cv import parse_card_public_key, parse_cv_certificate, surface_ca_key
from card_emulator.face import digits_image, face_photo, name_image
from card_emulator.persona import era_yymmdd, verification_code_b
from card_emulator.rules import AppName, PinName
from tests.helpers import query, select_app, select_ef, send, verify

SEED = 7
SHA256_PREFIX = bytes.fromhex("300D06096086480165030402010500")


@pytest.fixture(scope="module")
def made() -> Card:
    return Card.create(None, seed=SEED)


@pytest.fixture
def card(made: Card) -> Iterator[Card]:
    made.reset()
    yield made


def pins(card: Card) -> dict[PinName, str]:
    return card.created_pins or {}


def read_sfi(card: Card, sfi: int) -> tuple[bytes, int]:
    """jsapdu's ``readEfBinaryFull``: the whole EF by SFI with an extended Le."""
    return send(card, bytes([0x00, 0xB0, 0x80 | sfi, 0x00, 0x00, 0x00, 0x00]))


def objects(data: bytes) -> dict[int, tuple[int, bytes, bytes]]:
    """tag → (offset from file start, value, encoded object) inside the outer TLV."""
    outer, _ = decode_tlv(data)
    return {
        t.tag: (outer.header_size + start, t.value, t.to_bytes())
        for start, t in decode_with_offsets(outer.value)
    }


def certified_key(card: Card) -> rsa.RSAPublicKey:
    """The key EF 0004 certifies, after checking EF 0004 against the test CA 6000023."""
    select_app(card, AppName.SURFACE)
    data, sw = read_sfi(card, 4)
    assert sw == 0x9000 and len(data) == 568 and data[:5] == bytes.fromhex("7F21820233")
    certificate = parse_cv_certificate(data)
    assert certificate.issuer_key_id[:7] == b"6000023"
    assert certificate.subject_key_id[:7] == b"6000024"
    certificate.verify(surface_ca_key().public_key())
    return certificate.public_key


def test_face_with_code_a_is_the_holder_and_verifies(card: Card) -> None:
    holder = card.issuer.holder()
    issuer = certified_key(card)
    assert verify(card, PinName.SURFACE_CODE_A, holder.my_number) == 0x9000
    data, sw = read_sfi(card, 2)
    assert sw == 0x9000 and data[:2] == b"\xff\x20"
    found = objects(data)
    # The offset table: nine u16 from the file start, one per object DF22..DF2A, in order.
    table = struct.unpack(">9H", found[0xDF21][1])
    assert list(table) == [found[tag][0] for tag in range(0xDF22, 0xDF2B)]
    assert sorted(found, key=lambda t: found[t][0]) == list(range(0xDF21, 0xDF2B))
    assert found[0xDF22][1] == f"{holder.birth_date:%Y%m%d}".encode()
    assert found[0xDF23][1] == holder.sex.encode()
    assert found[0xDF29][1] == f"{holder.card_expiry:%Y%m%d}".encode()
    # DF28: one SHA-256 DigestInfo over three digests (§6.2), by the key EF 0004 certifies.
    groups = ((0xDF22, 0xDF23, 0xDF24), (0xDF25, 0xDF26), (0xDF27,))
    digests = b"".join(hashlib.sha256(b"".join(found[t][2] for t in g)).digest() for g in groups)
    digest_info = bytes([0x30, 0x71]) + SHA256_PREFIX + bytes([0x04, 0x60]) + digests
    recovered = issuer.recover_data_from_signature(found[0xDF28][1], padding.PKCS1v15(), None)
    assert recovered == digest_info


def test_face_images_are_real_images(card: Card) -> None:
    holder = card.issuer.holder()
    verify(card, PinName.SURFACE_CODE_B, verification_code_b_of(card))
    found = objects(read_sfi(card, 2)[0])
    for tag in (0xDF25, 0xDF26, 0xDF2A):
        image = Image.open(io.BytesIO(found[tag][1]))
        assert image.format == "PNG" and image.mode == "1", hex(tag)
        image.load()
        black = image.convert("L").histogram()[0]
        assert 0 < black < image.width * image.height
    assert Image.open(io.BytesIO(found[0xDF2A][1])).size == (24, 12)
    photo = Image.open(io.BytesIO(found[0xDF27][1]))
    assert found[0xDF27][1][4:12] == b"jP  \r\n\x87\n"  # the JP2 container
    assert photo.format == "JPEG2000" and photo.mode == "L"
    photo.load()
    assert found[0xDF25][1] == name_image(holder.name)
    assert found[0xDF2A][1] == digits_image(holder.security_code)


def verification_code_b_of(card: Card) -> str:
    holder = card.issuer.holder()
    return f"{era_yymmdd(holder.birth_date)}{holder.card_expiry.year}{holder.security_code}"


def test_code_b_opens_the_face_but_not_the_my_number_image(card: Card) -> None:
    assert verify(card, PinName.SURFACE_CODE_B, verification_code_b_of(card)) == 0x9000
    assert pins(card)[PinName.SURFACE_CODE_B] == verification_code_b_of(card)
    for sfi, sw in ((2, 0x9000), (3, 0x9000), (4, 0x9000), (6, 0x9000), (5, 0x6982), (1, 0x6982)):
        assert read_sfi(card, sfi)[1] == sw, sfi


def test_code_a_opens_the_my_number_image(card: Card) -> None:
    holder = card.issuer.holder()
    issuer = certified_key(card)
    verify(card, PinName.SURFACE_CODE_A, holder.my_number)
    data, sw = read_sfi(card, 5)
    assert sw == 0x9000 and data[:2] == b"\xff\x40"
    df41, df42, df43 = decode_all(decode_tlv(data)[0].value)
    assert Image.open(io.BytesIO(df41.value)).size == (72, 12)
    assert df41.value == digits_image(holder.my_number)
    issuer.verify(
        df43.value, df41.to_bytes() + df42.to_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_age_record_with_the_birth_date_key_only(card: Card) -> None:
    holder = card.issuer.holder()
    issuer = certified_key(card)
    assert pins(card)[PinName.SURFACE_BIRTH_DATE] == era_yymmdd(holder.birth_date)
    assert verify(card, PinName.SURFACE_BIRTH_DATE, era_yymmdd(holder.birth_date)) == 0x9000
    data, sw = read_sfi(card, 1)
    assert sw == 0x9000 and data[:5] == bytes.fromhex("FF1082021E")  # as on cards (§6.1)
    df11, df12, df13 = decode_all(decode_tlv(data)[0].value)
    assert df11.value == f"{holder.birth_date:%Y%m%d}".encode()
    issuer.verify(
        df13.value, df11.to_bytes() + df12.to_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )
    for sfi in (2, 5, 6):
        assert read_sfi(card, sfi)[1] == 0x6982


def test_the_card_key_signs_a_challenge_and_matches_the_face(card: Card) -> None:
    verify(card, PinName.SURFACE_BIRTH_DATE, pins(card)[PinName.SURFACE_BIRTH_DATE])
    record = objects(read_sfi(card, 1)[0])
    key = parse_card_public_key(record[0xDF12][1])
    digest = hashlib.sha256(b"challenge").digest()
    digest_info = bytes([0x30, 0x31]) + SHA256_PREFIX + bytes([0x04, 0x20]) + digest
    signature, sw = send(card, bytes([0x80, 0x2A, 0x00, 0x00, 51]) + digest_info + b"\x00")
    assert sw == 0x9000
    key.verify(signature, b"challenge", padding.PKCS1v15(), hashes.SHA256())
    assert send(card, "008800" + "9A" + "04" + "01020304" + "00")[1] == 0x6985
    assert send(card, "802A00010433333333" + "00")[1] == 0x6A86


def test_surface_refusals(card: Card) -> None:
    select_app(card, AppName.SURFACE)
    assert send(card, "80AE0000")[1] == 0x66F1  # no SM in this AP (myna-card surface.rs)
    assert read_sfi(card, 2)[1] == 0x6982
    select_ef(card, 0x0013)
    assert send(card, "002401800C" + "31" * 12)[1] == 0x6985  # not changeable by the holder
    verify(card, PinName.SURFACE_CODE_A, card.issuer.holder().my_number)
    assert send(card, "002401800C" + "31" * 12)[1] == 0x6985
    assert send(card, "00B0000001")[1] == 0x6981  # a key EF is never read


def test_counters_are_the_surface_aps_own() -> None:
    with Card.create(None, seed=SEED) as card:
        assert query(card, PinName.SURFACE_CODE_A) == 0x63CA  # 10, like the text AP's A/B
        assert verify(card, PinName.SURFACE_CODE_A, "000000000000") == 0x63C9
        assert query(card, PinName.TEXT_CODE_A) == 0x63CA
        for left in range(8, -1, -1):
            assert verify(card, PinName.SURFACE_CODE_A, "000000000000") == 0x63C0 | left
        my_number = card.issuer.holder().my_number
        assert verify(card, PinName.SURFACE_CODE_A, my_number) == 0x6984
        assert query(card, PinName.SURFACE_CODE_A) == 0x63C0
        assert verify(card, PinName.TEXT_CODE_A, my_number) == 0x9000  # the text AP's A: fine
        card.issuer.reset_pin(PinName.SURFACE_CODE_A, my_number)
        assert verify(card, PinName.SURFACE_CODE_A, my_number) == 0x9000


def test_retry_limits_of_unpublished_references_are_configurable() -> None:
    with Card.create(None, seed=SEED, max_tries={"surface_code_b": 5, "text_code_a": 3}) as card:
        assert query(card, PinName.SURFACE_CODE_B) == 0x63C5
        assert query(card, PinName.TEXT_CODE_A) == 0x63C3
        assert query(card, PinName.SURFACE_BIRTH_DATE) == 0x63CA
    with pytest.raises(ValueError, match="published"):
        Card.create(None, seed=SEED, max_tries={"user_auth": 5})
    with pytest.raises(ValueError, match="1-15"):
        Card.create(None, seed=SEED, max_tries={"surface_code_a": 16})


def test_images_are_deterministic_and_differ_by_seed() -> None:
    assert face_photo(1) == face_photo(1)
    assert face_photo(1) != face_photo(2)
    assert name_image("山田\u3000太郎") == name_image("山田\u3000太郎")
    assert name_image("山田\u3000太郎") != name_image("山田\u3000花子")


def test_overridden_holder_shows_on_the_face() -> None:
    with Card.create(None, seed=SEED, name="試験\u3000花子", sex="2") as card:
        verify(card, PinName.SURFACE_CODE_A, card.issuer.holder().my_number)
        found = objects(read_sfi(card, 2)[0])
        assert found[0xDF25][1] == name_image("試験\u3000花子")
        assert found[0xDF23][1] == b"2"


def test_the_issued_code_b_matches_the_persona() -> None:
    from card_emulator.issuance import issue_card

    image = issue_card(SEED)
    assert image.pins[PinName.SURFACE_CODE_B] == verification_code_b(image.persona)
    assert image.pins[PinName.SURFACE_CODE_A] == image.persona.my_number
