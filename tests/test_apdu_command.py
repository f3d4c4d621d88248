"""Command/response APDU codec and the compact notation (apdu.command, apdu.response,
apdu.notation). Case rules: ISO/IEC 7816-3 §12.1.3; golden vectors: card-interface.md."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apdu import (
    ApduCase,
    ApduFormatError,
    CommandApdu,
    ResponseApdu,
    format_command,
    format_response,
    parse_command,
    parse_hex,
    redact_command,
    respond,
)
from tests.strategies import command_apdus, raw_commands

HEADER = st.binary(min_size=4, max_size=4)

# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(ApduCase), ids=lambda c: c.value)
@given(data=st.data())
def test_object_round_trip_every_case(case: ApduCase, data: st.DataObject) -> None:
    c = data.draw(command_apdus([case]))
    parsed = CommandApdu.parse(c.to_bytes())
    assert parsed == c
    assert parsed.case is case


@given(raw_commands())
def test_bytes_round_trip(raw: bytes) -> None:
    assert CommandApdu.parse(raw).to_bytes() == raw


@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_exactly_or_fail_with_6700(raw: bytes) -> None:
    try:
        c = CommandApdu.parse(raw)
    except ApduFormatError as exc:
        assert exc.sw == 0x6700
    else:
        assert c.to_bytes() == raw


# --- parse's short path agrees with the full parser on every byte string ----------------------


@st.composite
def near_short_forms(draw: st.DrawFn) -> bytes:
    """A header, a short Lc (00 included) and a body around what that Lc announces."""
    lc = draw(st.one_of(st.sampled_from([0, 1, 2, 255]), st.integers(0, 255)))
    size = max(0, lc + draw(st.integers(-2, 2)))
    return draw(HEADER) + bytes([lc]) + draw(st.binary(min_size=size, max_size=size))


def _outcome(parse: Callable[[bytes], CommandApdu], raw: bytes) -> tuple[object, ...]:
    try:
        c = parse(raw)
    except ApduFormatError as exc:
        return ("error", exc.sw, str(exc))
    return ("ok", type(c), c, c.extended, hash(c), repr(c), c.to_bytes())


@given(
    st.one_of(st.binary(max_size=300), near_short_forms(), raw_commands()),
    st.sampled_from([bytes, bytearray, memoryview]),
)
def test_parse_agrees_with_the_full_parser(raw: bytes, kind: type) -> None:
    assert _outcome(CommandApdu.parse, kind(raw)) == _outcome(CommandApdu._parse_full, raw)


def test_parse_agrees_with_the_full_parser_on_every_short_shape() -> None:
    """What the short path decides on: the length, the Lc byte, Le 00 or not (exhaustive)."""
    header = bytes.fromhex("80A40204")
    for raw in (b"", b"\x00", header[:2], header[:3], header, header + b"\x00", header + b"\x07"):
        assert _outcome(CommandApdu.parse, raw) == _outcome(CommandApdu._parse_full, raw)
    for lc in range(256):
        for size in {1, 2, 3, 4, lc - 1, lc, lc + 1, lc + 2, lc + 3} - {-1, 0}:
            for last in (0x00, 0x01, 0xFF):
                raw = header + bytes([lc]) + (bytes(range(256)) * 2)[: size - 1] + bytes([last])
                assert _outcome(CommandApdu.parse, raw) == _outcome(CommandApdu._parse_full, raw)


def test_parsed_commands_stay_frozen() -> None:
    c = CommandApdu.parse(bytes.fromhex("00A4020C020018"))
    assert type(c) is CommandApdu
    with pytest.raises(AttributeError):  # dataclasses.FrozenInstanceError
        c.p1 = 4  # type: ignore[misc]


def test_parse_of_a_subclass_builds_the_subclass() -> None:
    class Traced(CommandApdu):
        pass

    c = Traced.parse(bytes.fromhex("00B0000000"))
    assert type(c) is Traced and c.le == 256


# --- golden vectors ----------------------------------------------------------------------------

JPKI_AID = bytes.fromhex("D392F000260100000001")
DIGEST_INFO = bytes.fromhex("3031300D060960864801650304020105000420") + bytes(range(32))


@pytest.mark.parametrize(
    ("hex_apdu", "case", "data", "le"),
    [
        ("00A4040C0AD392F000260100000001", ApduCase.CASE_3S, JPKI_AID, None),  # SELECT JPKI AP
        ("00200080", ApduCase.CASE_1, b"", None),  # VERIFY query (tries left)
        ("00B0000000", ApduCase.CASE_2S, b"", 256),  # READ BINARY, Le 00 = 256
        ("00B0000020", ApduCase.CASE_2S, b"", 32),
        ("00B00000000100", ApduCase.CASE_2E, b"", 256),
        ("00CA5F51000000", ApduCase.CASE_2E, b"", 65536),
        ("802A008033" + DIGEST_INFO.hex() + "00", ApduCase.CASE_4S, DIGEST_INFO, 256),
        ("00A4020C020018", ApduCase.CASE_3S, b"\x00\x18", None),
        ("80AE0000000003A0B0C0", ApduCase.CASE_3E, b"\xa0\xb0\xc0", None),
        ("80AE0000000003A0B0C00000", ApduCase.CASE_4E, b"\xa0\xb0\xc0", 65536),
        ("0088009700000201020100", ApduCase.CASE_4E, b"\x01\x02", 256),
    ],
)
def test_golden_vectors(hex_apdu: str, case: ApduCase, data: bytes, le: int | None) -> None:
    raw = bytes.fromhex(hex_apdu)
    c = CommandApdu.parse(raw)
    assert (c.case, c.data, c.le) == (case, data, le)
    assert c.to_bytes() == raw


def test_header_fields() -> None:
    c = CommandApdu.parse(bytes.fromhex("802A0080") + bytes([51]) + DIGEST_INFO + b"\x00")
    assert (c.cla, c.ins, c.p1, c.p2, c.p1p2, c.lc) == (0x80, 0x2A, 0x00, 0x80, 0x0080, 51)
    assert c.is_proprietary


def test_extended_4e_with_256_byte_data() -> None:
    # SET SESSION KEY carries 256 bytes: needs extended Lc (card-interface.md §2.7).
    c = CommandApdu(0x80, 0xAE, 0, 0, bytes(256))
    assert c.extended and c.case is ApduCase.CASE_3E
    assert c.to_bytes()[:7] == bytes.fromhex("80AE0000000100")


# --- malformed input: every class answers 6700 --------------------------------------------------


def _assert_6700(raw: bytes) -> None:
    with pytest.raises(ApduFormatError) as info:
        CommandApdu.parse(raw)
    assert info.value.sw == 0x6700
    assert isinstance(info.value, ValueError)


@given(st.binary(max_size=3))
def test_rejects_shorter_than_header(raw: bytes) -> None:
    _assert_6700(raw)


@given(HEADER, st.integers(1, 255), st.data())
def test_rejects_short_lc_mismatch(header: bytes, lc: int, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 300).filter(lambda n: n not in (lc, lc + 1)))
    _assert_6700(header + bytes([lc]) + bytes(size))


@given(HEADER, st.integers(0, 255))
def test_rejects_extended_marker_with_one_byte(header: bytes, b: int) -> None:
    _assert_6700(header + bytes([0, b]))  # 00 then 1 byte: neither 2S nor 2E


@given(HEADER, st.binary(min_size=1, max_size=40))
def test_rejects_extended_lc_zero_with_body(header: bytes, rest: bytes) -> None:
    _assert_6700(header + b"\x00\x00\x00" + rest)


@given(HEADER, st.integers(1, 600), st.data())
def test_rejects_extended_lc_mismatch(header: bytes, lc: int, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 700).filter(lambda n: n not in (lc, lc + 2)))  # 0: case 2E
    _assert_6700(header + b"\x00" + lc.to_bytes(2, "big") + bytes(size))


@pytest.mark.parametrize(
    "hex_apdu",
    [
        "00A4040C0BD392F000260100000001",  # Lc one longer than the data
        "00A4040C08D392F000260100000001",  # Lc two shorter (9 would be case 4S)
        "00B0000000FF",  # 00 + one byte
        "00D600000000",  # extended Lc 0000 with body
        "00D60000000002AA",  # extended Lc 2, one data byte
        "00D60000000001AABB",  # extended Lc 1 + one-byte Le (needs two)
    ],
)
def test_rejects_malformed_examples(hex_apdu: str) -> None:
    _assert_6700(bytes.fromhex(hex_apdu))


# --- construction and normalisation ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cla": 256},
        {"ins": -1},
        {"p1": 0x100},
        {"p2": 1.0},
        {"le": 0},
        {"le": 65537},
        {"data": bytes(65536)},
        {"data": "3132"},
    ],
)
def test_constructor_rejects_out_of_range(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"cla": 0, "ins": 0xB0, "p1": 0, "p2": 0} | kwargs
    with pytest.raises(ValueError):
        CommandApdu(**fields)  # type: ignore[arg-type]


def test_extended_is_normalised() -> None:
    assert CommandApdu(0, 0xB0, 0, 0, le=257).extended
    assert CommandApdu(0, 0xD6, 0, 0, bytes(256)).extended
    assert not CommandApdu(0, 0x20, 0, 0x80, extended=True).extended  # case 1 has no ext form
    assert CommandApdu(0, 0xB0, 0, 0, le=256, extended=True).case is ApduCase.CASE_2E
    assert CommandApdu(0, 0xB0, 0, 0, le=256).case is ApduCase.CASE_2S


def test_data_bytes_like_becomes_bytes() -> None:
    c = CommandApdu(0, 0xA4, 2, 0x0C, bytearray(b"\x00\x18"))  # type: ignore[arg-type]
    assert type(c.data) is bytes
    assert hash(c) == hash(CommandApdu(0, 0xA4, 2, 0x0C, b"\x00\x18"))


# --- CLA decoding (ISO 7816-4 §5.4.1) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cla", "channel", "sm", "proprietary"),
    [
        (0x00, 0, False, False),
        (0x01, 1, False, False),
        (0x03, 3, False, False),
        (0x08, 0, True, False),  # SM CLA used by the text AP (card-interface.md §5.7)
        (0x0C, 0, True, False),
        (0x10, 0, False, False),  # chaining bit only
        (0x40, 4, False, False),
        (0x4F, 19, False, False),
        (0x60, 4, True, False),
        (0x80, 0, False, True),
        (0x81, 1, False, True),
        (0x84, 0, True, True),
    ],
)
def test_cla_bits(cla: int, channel: int, sm: bool, proprietary: bool) -> None:
    c = CommandApdu(cla, 0xB0, 0, 0, le=1)
    assert (c.channel, c.is_secure_messaging, c.is_proprietary) == (channel, sm, proprietary)


def test_chaining_bit() -> None:
    assert CommandApdu(0x10, 0xDB, 0, 0, b"x").is_chained
    assert not CommandApdu(0x00, 0xDB, 0, 0, b"x").is_chained


# --- response APDUs ----------------------------------------------------------------------------


@given(st.binary(max_size=300), st.integers(0, 0xFFFF))
def test_response_round_trip(data: bytes, sw: int) -> None:
    raw = respond(data, sw)
    r = ResponseApdu.parse(raw)
    assert (r.data, r.sw) == (data, sw)
    assert r.to_bytes() == raw
    assert (r.sw1, r.sw2) == (raw[-2], raw[-1])


@pytest.mark.parametrize("raw", [b"", b"\x90"])
def test_response_too_short(raw: bytes) -> None:
    with pytest.raises(ValueError):
        ResponseApdu.parse(raw)


def test_response_ok_only_for_9000() -> None:
    assert ResponseApdu(b"", 0x9000).ok
    assert not ResponseApdu(b"", 0x6100).ok
    assert not ResponseApdu(b"", 0x63C3).ok
    assert ResponseApdu(b"", 0x63C3).describe() == "verification failed, 3 tries left"


@pytest.mark.parametrize("sw", [-1, 0x10000])
def test_response_rejects_bad_sw(sw: int) -> None:
    with pytest.raises(ValueError):
        ResponseApdu(b"", sw)


# --- notation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_apdu", "text"),
    [
        ("00A4020C020018", "00A4020C:0018"),
        ("00B0000004", "00B00000/04"),
        ("00B0000000", "00B00000/100"),
        ("00200080", "00200080"),
        ("00B00000000100", "00B00000/100+ext"),
        ("802A0080020102FF", "802A0080:0102/FF"),
    ],
)
def test_format_command(hex_apdu: str, text: str) -> None:
    c = CommandApdu.parse(bytes.fromhex(hex_apdu))
    assert format_command(c) == text
    assert parse_command(text) == c
    assert parse_command(hex_apdu) == c


@given(command_apdus())
def test_notation_round_trip(c: CommandApdu) -> None:
    assert parse_command(format_command(c, redact=False)) == c


@pytest.mark.parametrize(
    "text", ["00A4020C:", "00A4020C/", "00A4020C/0G", "00A4020C:001", "00A4020C/0", "00A40:0C"]
)
def test_parse_command_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_command(text)


@pytest.mark.parametrize(
    "text", ["00 A4 04 0C", "00:A4:04:0C", "00a4040c", " 00A4\t040C\n", "00A4 040C"]
)
def test_parse_hex_separators(text: str) -> None:
    assert parse_hex(text) == b"\x00\xa4\x04\x0c"


@pytest.mark.parametrize(
    ("text", "fragment"), [("00A", "odd"), ("00G0", "position 2"), ("0x00", "position 1")]
)
def test_parse_hex_errors_are_one_line_and_never_echo_the_text(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_hex(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert text not in str(info.value)  # the argument may be a VERIFY with a PIN in it


def test_format_response() -> None:
    assert format_response(ResponseApdu(b"", 0x9000)) == "=9000"
    assert format_response(ResponseApdu(b"\x01\xab", 0x63C2)) == "01AB=63C2"


# --- PINs never appear in traces ---------------------------------------------------------------

PIN = b"1234"


@pytest.mark.parametrize(
    ("header", "pin"),
    [
        ("00200080", PIN),  # VERIFY
        ("00200098", PIN),  # VERIFY by SFI
        ("00240180", PIN),  # CHANGE REFERENCE DATA
        ("002C0080", PIN),  # RESET RETRY COUNTER
        ("80320080", PIN),  # JICSAP CHANGE KEY
        ("00200080", b"ABCD1234"),  # sign password
    ],
)
def test_redact_command_hides_pin(header: str, pin: bytes) -> None:
    raw = bytes.fromhex(header) + bytes([len(pin)]) + pin
    text = redact_command(raw)
    assert pin.hex().upper() not in text.upper()
    assert text == header + f"{len(pin):02X}<{len(pin)} bytes redacted>"
    c = CommandApdu.parse(raw)
    assert pin.hex() not in repr(c).lower() and pin.hex().upper() not in repr(c)
    assert pin.hex().upper() not in format_command(c)


def test_redact_extended_and_le() -> None:
    raw = bytes.fromhex("00200080000004") + PIN + b"\x00\x00"
    assert redact_command(raw) == "00200080000004<4 bytes redacted>0000"


def test_redact_malformed_verify() -> None:
    raw = bytes.fromhex("0020008009") + PIN  # Lc says 9, 4 bytes follow
    assert redact_command(raw) == "00200080<5 bytes redacted>"


def test_redact_leaves_other_commands() -> None:
    for hex_apdu in ("00A4020C020018", "00200080", "00320080023132", "00B0000000"):
        assert redact_command(bytes.fromhex(hex_apdu)) == hex_apdu


@given(command_apdus())
def test_redact_never_shows_secret_data(c: CommandApdu) -> None:
    text = redact_command(c.to_bytes())
    if c.carries_secret and c.data:
        raw = c.to_bytes()
        start = 7 if c.extended else 5
        tail = raw[start + len(c.data) :]
        assert (
            text
            == raw[:start].hex().upper() + f"<{len(c.data)} bytes redacted>" + tail.hex().upper()
        )
    else:
        assert text == c.to_bytes().hex().upper()


# --- layering: apdu/ is standard library only (architecture.md) -------------------------------


def test_apdu_imports_only_the_standard_library() -> None:
    import ast
    import sys
    from pathlib import Path

    import apdu

    for path in Path(apdu.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", (path.name, name)
