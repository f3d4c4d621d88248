"""BER-TLV codec (apdu.tlv): exact round trips, filler handling, the card's file layouts
(card-interface.md §5.2, §5.3, §5.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apdu import (
    Tlv,
    TlvError,
    decode_all,
    decode_tlv,
    decode_with_offsets,
    encode_tlv,
    find,
    find_all,
    is_constructed,
    tag_bytes,
)
from tests.strategies import primitive_tlvs, tags, tlvs

# --- round trips -------------------------------------------------------------------------------


@given(tlvs())
def test_tlv_round_trip(t: Tlv) -> None:
    raw = t.to_bytes()
    assert decode_tlv(raw) == (t, len(raw))
    assert t.size == len(raw)
    assert raw[t.header_size :] == t.value


@given(tlvs())
def test_nested_children_rebuild_parent(t: Tlv) -> None:
    if t.constructed:
        assert Tlv.of_children(t.tag, t.children(), length_size=t.length_size) == t


@given(st.lists(tlvs(), max_size=5), st.sampled_from([b"", b"\xff", b"\xff\xff", b"\x00" * 3]))
def test_decode_all_concatenation_and_filler(items: list[Tlv], filler: bytes) -> None:
    buf = b"".join(t.to_bytes() for t in items) + filler
    assert decode_all(buf) == items
    offsets = [pos for pos, _ in decode_with_offsets(buf)]
    assert offsets == [sum(t.size for t in items[:i]) for i in range(len(items))]


@given(st.binary(max_size=64), st.integers(0, 8))
def test_any_decodable_bytes_reencode_exactly(buf: bytes, offset: int) -> None:
    if offset >= len(buf):
        return
    try:
        t, end = decode_tlv(buf, offset)
    except TlvError:
        return
    assert t.to_bytes() == buf[offset:end]


@given(primitive_tlvs(), st.data())
def test_every_truncation_is_an_error(t: Tlv, data: st.DataObject) -> None:
    raw = t.to_bytes()
    cut = data.draw(st.integers(1, len(raw) - 1))
    with pytest.raises(TlvError):
        decode_tlv(raw[:cut])


@given(tags())
def test_tag_bytes_round_trip(tag: int) -> None:
    raw = tag_bytes(tag)
    assert int.from_bytes(raw, "big") == tag
    t, _ = decode_tlv(raw + b"\x00")
    assert t.tag == tag


# --- golden vectors from the card --------------------------------------------------------------

TEXT_EF_0001 = bytes.fromhex("FF 10 0C 31 32 33 34 35 36 37 38 39 30 31 38 FF FF")

# card-interface.md §5.3, synthetic person, 95 bytes.
TEXT_EF_0002 = bytes.fromhex(
    "ff 20 5c df 21 08 00 0e 00 20 00 50 00 5b df 22 0f e5 b1 b1 e7 94 b0 e3 80 80 e5 a4 aa e9 83 8e"
    " df 23 2d e6 9d b1 e4 ba ac e9 83 bd e5 8d 83 e4 bb a3 e7 94 b0 e5 8c ba e9 9c 9e e3 81 8c e9 96"
    " a2 ef bc 92 ef bc 8d ef bc 91 ef bc 8d ef bc 92 df 24 08 31 39 39 30 30 31 30 32 df 25 01 31"
)


def test_text_ap_my_number_file() -> None:
    assert decode_all(TEXT_EF_0001) == [Tlv(0xFF10, b"123456789018")]
    t, end = decode_tlv(TEXT_EF_0001)
    assert end == 15 and t.length_size == 0
    with pytest.raises(TlvError):
        decode_all(TEXT_EF_0001, skip_padding=False)


def test_text_ap_basic_four_file() -> None:
    assert len(TEXT_EF_0002) == 95
    [outer] = decode_all(TEXT_EF_0002)
    assert outer.tag == 0xFF20 and outer.constructed
    assert outer.to_bytes() == TEXT_EF_0002
    kids = outer.children()
    assert [k.tag for k in kids] == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25]
    assert find(kids, 0xDF22) == Tlv(0xDF22, "山田\u3000太郎".encode())
    assert find(kids, 0xDF23) == Tlv(0xDF23, "東京都千代田区霞が関２－１－２".encode())
    assert find(kids, 0xDF24) == Tlv(0xDF24, b"19900102")
    assert find(kids, 0xDF25) == Tlv(0xDF25, b"1")
    # DF21 holds the offsets (from file start) of DF22..DF25.
    table = kids[0].value
    offsets = [int.from_bytes(table[i : i + 2], "big") for i in range(0, 8, 2)]
    positions = {t.tag: outer.header_size + pos for pos, t in decode_with_offsets(outer.value)}
    assert offsets == [positions[tag] for tag in (0xDF22, 0xDF23, 0xDF24, 0xDF25)]
    for off, tag in zip(offsets, (0xDF22, 0xDF23, 0xDF24, 0xDF25), strict=True):
        assert decode_tlv(TEXT_EF_0002, off)[0].tag == tag
    assert Tlv.of_children(0xFF20, kids) == outer


def test_card_long_form_for_small_values() -> None:
    # The card writes 82 hh ll even where 81 xx would do (card-interface.md §5.4, §5.5).
    body = bytes(0x29)
    raw = encode_tlv(0x5F4E, body, length_size=3)
    assert raw[:5] == bytes.fromhex("5F4E820029")
    t, end = decode_tlv(raw)
    assert (t.tag, t.length_size, end) == (0x5F4E, 3, len(raw))
    assert t.to_bytes() == raw
    assert t != Tlv(0x5F4E, body)  # a different encoding is a different object


# --- lengths -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "length_size", "header"),
    [
        (0, 0, "04 00"),
        (0x7F, 0, "04 7F"),
        (0x80, 0, "04 81 80"),
        (0xFF, 0, "04 81 FF"),
        (0x100, 0, "04 82 01 00"),
        (5, 1, "04 05"),
        (5, 2, "04 81 05"),
        (5, 3, "04 82 00 05"),
        (5, 4, "04 83 00 00 05"),
        (0x80, 3, "04 82 00 80"),
        (0x10000, 0, "04 83 01 00 00"),
    ],
)
def test_length_forms(length: int, length_size: int, header: str) -> None:
    value = bytes(length)
    raw = encode_tlv(0x04, value, length_size=length_size)
    assert raw == bytes.fromhex(header) + value
    assert decode_tlv(raw)[0] == Tlv(0x04, value, length_size)


def test_length_size_is_normalised_to_minimal() -> None:
    assert Tlv(0x04, b"ab", length_size=1).length_size == 0
    assert Tlv(0x04, bytes(200), length_size=2) == Tlv(0x04, bytes(200))
    assert Tlv(0x04, b"ab", length_size=2).length_size == 2


@pytest.mark.parametrize(("length", "length_size"), [(0x80, 1), (0x100, 2), (0x10000, 3)])
def test_length_size_too_small(length: int, length_size: int) -> None:
    with pytest.raises(TlvError):
        Tlv(0x04, bytes(length), length_size)


@pytest.mark.parametrize("length_size", [-1, 5])
def test_length_size_out_of_range(length_size: int) -> None:
    with pytest.raises(TlvError):
        encode_tlv(0x04, b"", length_size=length_size)


@pytest.mark.parametrize(
    "hex_buf",
    [
        "",  # nothing
        "00 01 41",  # 00 is filler, not a tag
        "5F",  # truncated tag
        "5F 81",  # truncated tag
        "04",  # missing length
        "04 80 00 00",  # indefinite length
        "04 84 00 00 00 01 41",  # 4-byte length not supported
        "04 81",  # truncated length
        "04 82 01",  # truncated length
        "04 03 41 42",  # truncated value
        "DF 81 82 83 84 01 41",  # tag longer than 4 bytes
    ],
)
def test_decode_errors(hex_buf: str) -> None:
    with pytest.raises(TlvError) as info:
        decode_tlv(bytes.fromhex(hex_buf))
    assert isinstance(info.value, ValueError)


def test_decode_at_offset_and_bad_offset() -> None:
    buf = bytes.fromhex("01 01 AA 02 02 BB CC")
    assert decode_tlv(buf, 3) == (Tlv(0x02, b"\xbb\xcc"), 7)
    with pytest.raises(TlvError):
        decode_tlv(buf, 7)


# --- filler ------------------------------------------------------------------------------------


def test_filler_between_and_after_objects() -> None:
    buf = bytes.fromhex("00 00 01 01 AA 00 02 00 00 00")
    assert decode_all(buf) == [Tlv(0x01, b"\xaa"), Tlv(0x02, b"")]
    assert decode_all(bytes.fromhex("FF FF FF")) == []
    assert decode_all(b"") == []
    with pytest.raises(TlvError):
        decode_all(buf, skip_padding=False)


def test_ff_inside_the_data_is_not_filler() -> None:
    # A value ending in FF bytes must not be cut; FF at an object start is a tag byte (FF10).
    buf = bytes.fromhex("04 02 FF FF FF 10 01 41 FF")
    assert decode_all(buf) == [Tlv(0x04, b"\xff\xff"), Tlv(0xFF10, b"A")]


# --- tags --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "raw", "constructed"),
    [
        (0x04, "04", False),
        (0x30, "30", True),
        (0xA1, "A1", True),
        (0x5F4E, "5F4E", False),
        (0x5F37, "5F37", False),
        (0x7F21, "7F21", True),
        (0xDF21, "DF21", False),
        (0xFF10, "FF10", True),
        (0xFF20, "FF20", True),
        (0x5F8101, "5F8101", False),
    ],
)
def test_tag_bytes(tag: int, raw: str, constructed: bool) -> None:
    assert tag_bytes(tag) == bytes.fromhex(raw)
    assert is_constructed(tag) is constructed


@pytest.mark.parametrize("tag", [0, -1, 0x1F, 0xFF, 0x3010, 0x5F81, 0x5F0181, 0xDF818283FF01])
def test_invalid_tags(tag: int) -> None:
    with pytest.raises(TlvError):
        tag_bytes(tag)
    with pytest.raises(TlvError):
        Tlv(tag, b"")


def test_find() -> None:
    items = [Tlv(0xDF21, b"a"), Tlv(0xDF22, b"b"), Tlv(0xDF21, b"c")]
    assert find(items, 0xDF21) == Tlv(0xDF21, b"a")
    assert find(items, 0xDF29) is None
    assert find_all(items, 0xDF21) == [Tlv(0xDF21, b"a"), Tlv(0xDF21, b"c")]


def test_value_bytes_like_becomes_bytes() -> None:
    t = Tlv(0x04, bytearray(b"ab"))  # type: ignore[arg-type]
    assert type(t.value) is bytes
    assert hash(t) == hash(Tlv(0x04, b"ab"))


def test_repr_shows_hex_tag() -> None:
    assert repr(Tlv(0xFF10, b"1")) == "Tlv(tag=0xFF10, value=b'1')"
    assert repr(Tlv(0x04, b"1", 3)) == "Tlv(tag=0x04, value=b'1', length_size=3)"
