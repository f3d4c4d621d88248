"""Hypothesis strategies for testing card-reading software (needs ``hypothesis``).

* APDUs: :func:`command_apdus` / :func:`raw_commands` (any ISO 7816-4 case), and per instruction
  the card knows (:data:`INSTRUCTIONS`) :func:`valid_commands` and :func:`invalid_commands`. A card
  answers every invalid command with a refusal — never ``9000``/``61xx``, never ``6F00``.
* PINs: :func:`pin_values` valid or invalid for each PIN's format (pin-rules.md §1): full-width
  digits, lower case, too short, too long, non-ASCII digits, letters only, digits only.
* Holders and cards: :func:`names`, :func:`addresses`, :func:`birth_dates` (era boundaries, 29
  February), :func:`sexes`, :func:`holders`, :func:`card_specs`, :func:`cards`.
* BER-TLV: :func:`tags`, :func:`primitive_tlvs`, :func:`tlvs` (ISO 7816-4 §5.2, X.690 §8.1).

Strategies return ``hypothesis.strategies.SearchStrategy`` objects; bytes are whole command APDUs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from apdu import ApduCase, CommandApdu
from card_emulator.card import Card
from card_emulator.issuance import EXPIRED_YEARS_AGO, Variant
from card_emulator.persona import DEFAULT_ISSUED, full_width_digits
from card_emulator.rules import APP_AIDS, FILE_RULES, PIN_SPECS, PinName
from card_emulator.testing.factory import CardSpec, default_factory
from card_emulator.testing.tlv_strategies import primitive_tlvs, tags, tlvs

__all__ = [
    "ERA_BOUNDARY_DATES",
    "INSTRUCTIONS",
    "Instruction",
    "addresses",
    "birth_dates",
    "card_specs",
    "cards",
    "command_apdus",
    "data_fields",
    "holders",
    "invalid_commands",
    "names",
    "pin_values",
    "primitive_tlvs",
    "raw_commands",
    "sexes",
    "tags",
    "tlvs",
    "valid_commands",
]

u8 = st.integers(0, 0xFF)

# ---------------------------------------------------------------------------------------------
# Command APDUs of every case (ISO 7816-4 §5.1)
# ---------------------------------------------------------------------------------------------


def data_fields(max_size: int) -> st.SearchStrategy[bytes]:
    """Non-empty data fields up to ``max_size``: mostly small random bytes, sometimes huge ones."""
    small = st.binary(min_size=1, max_size=min(max_size, 300))
    if max_size <= 300:
        return small
    # Large fields are a repeated byte so that 64 KiB values stay cheap to generate.
    large = st.tuples(st.integers(1, max_size), u8).map(lambda t: bytes([t[1]]) * t[0])
    return st.one_of(small, large)


@st.composite
def command_apdus(draw: st.DrawFn, cases: Sequence[ApduCase] | None = None) -> CommandApdu:
    """Well-formed command APDUs with random header bytes; ``.case`` is one of ``cases``
    (default: all seven, short and extended)."""
    case = draw(st.sampled_from(list(cases) if cases else list(ApduCase)))
    cla, ins, p1, p2 = draw(u8), draw(u8), draw(u8), draw(u8)
    ext = case.is_extended
    data = draw(data_fields(65535 if ext else 255)) if case.has_data else b""
    le: int | None = None
    if case.has_le:
        top = 65536 if ext else 256
        le = draw(st.one_of(st.integers(1, top), st.sampled_from([1, 255, 256, top])))
    c = CommandApdu(cla, ins, p1, p2, data, le, extended=ext)
    assert c.case is case
    return c


def raw_commands(cases: Sequence[ApduCase] | None = None) -> st.SearchStrategy[bytes]:
    """Wire bytes of well-formed command APDUs (:func:`command_apdus`)."""
    return command_apdus(cases).map(CommandApdu.to_bytes)


# ---------------------------------------------------------------------------------------------
# The card's instructions, valid and invalid (card-interface.md §2)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction the card knows: name, CLA and INS (card-interface.md §2)."""

    name: str
    cla: int
    ins: int


INSTRUCTIONS: tuple[Instruction, ...] = (
    Instruction("SELECT", 0x00, 0xA4),
    Instruction("READ_BINARY", 0x00, 0xB0),
    Instruction("READ_RECORD", 0x00, 0xB2),
    Instruction("VERIFY", 0x00, 0x20),
    Instruction("CHANGE_REFERENCE_DATA", 0x00, 0x24),
    Instruction("CHANGE_KEY", 0x80, 0x32),
    Instruction("COMPUTE_DIGITAL_SIGNATURE", 0x80, 0x2A),
    Instruction("GET_CHALLENGE", 0x00, 0x84),
    Instruction("GET_DATA", 0x00, 0xCA),
    Instruction("GET_RESPONSE", 0x00, 0xC0),
    Instruction("RESET_RETRY_COUNTER", 0x00, 0x2C),
    Instruction("UNLOCK_KEY", 0x80, 0x54),
    Instruction("TERMINAL_CERTIFICATE", 0x80, 0xA2),
    Instruction("SET_SESSION_KEY", 0x80, 0xAE),
    Instruction("LAST_COMMAND_INDICATOR", 0x80, 0xFC),
    Instruction("INTERNAL_AUTHENTICATE", 0x00, 0x88),
    # Secure messaging in the text AP (card-interface.md §5.7): CLA 08, data as encrypted objects.
    Instruction("SM_SELECT", 0x08, 0xA4),
    Instruction("SM_VERIFY", 0x08, 0x20),
    Instruction("SM_READ_BINARY", 0x08, 0xB0),
)
_BY_NAME = {i.name: i for i in INSTRUCTIONS}
_FIDS = sorted({rule.fid for rule in FILE_RULES})
_PIN_FIDS = sorted({spec.fid for spec in PIN_SPECS.values()})
_KEY_FIDS = (0x0017, 0x001A)
# MF-level GET DATA objects (card-interface.md §8): (P1P2, Le); 0 = extended Le, the rest.
_GET_DATA_OBJECTS = (
    (0x5F51, 256),
    (0x0042, 256),
    (0x0045, 256),
    (0x0066, 256),
    (0x00F0, 256),
    (0x00F2, 256),
    (0x00F7, 256),
    (0x00F8, 65536),
    (0x7F21, 65536),
)
_DF_NAMES = sorted(APP_AIDS.values())


def _sm_cryptogram(draw: st.DrawFn) -> bytes:
    """``86 L 01 <whole AES blocks>``: the shape of an encrypted SM data object (§5.7)."""
    blocks = draw(st.integers(1, 4))
    cryptogram = draw(st.binary(min_size=16 * blocks, max_size=16 * blocks))
    return bytes([0x86, len(cryptogram) + 1, 0x01]) + cryptogram


def _instruction(name: str | None) -> list[Instruction]:
    if name is None:
        return list(INSTRUCTIONS)
    try:
        return [_BY_NAME[name.upper()]]
    except KeyError:
        raise ValueError(f"unknown instruction {name!r} (one of {', '.join(_BY_NAME)})") from None


def _apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    return CommandApdu(cla, ins, p1, p2, data, le, extended=len(data) > 255).to_bytes()


def _valid_for(draw: st.DrawFn, i: Instruction) -> bytes:
    name = i.name
    if name == "SELECT":
        how = draw(st.sampled_from(["aid", "prefix", "ef"]))
        if how == "aid":
            return _apdu(0, 0xA4, 4, 0x0C, draw(st.sampled_from(list(APP_AIDS.values()))))
        if how == "prefix":  # a DF-name prefix; P2 first / last / next / previous (§2.1)
            aid = draw(st.sampled_from(_DF_NAMES))
            prefix = aid[: draw(st.integers(1, len(aid)))]
            return _apdu(0, 0xA4, 4, draw(st.sampled_from([0x0C, 0x0D, 0x0E, 0x0F])), prefix)
        return _apdu(0, 0xA4, 2, 0x0C, draw(st.sampled_from(_FIDS)).to_bytes(2, "big"))
    if name == "READ_BINARY":
        le = draw(st.integers(1, 256))
        if draw(st.booleans()):
            return _apdu(0, 0xB0, 0x80 | draw(st.sampled_from(_FIDS)) & 0x1F, draw(u8), le=le)
        return _apdu(0, 0xB0, draw(st.integers(0, 3)), draw(u8), le=le)
    if name == "READ_RECORD":
        return _apdu(0, 0xB2, draw(st.integers(1, 3)), draw(st.sampled_from([0x04, 0x14])), le=256)
    if name == "VERIFY":
        pin = draw(st.sampled_from(list(PinName)))
        p2 = draw(st.sampled_from([0x80, 0x80 | PIN_SPECS[pin].fid]))
        if draw(st.booleans()):
            return _apdu(0, 0x20, 0, p2)  # the tries query
        return _apdu(0, 0x20, 0, p2, draw(pin_values(pin)).encode("ascii"))
    if name == "CHANGE_REFERENCE_DATA":
        pin = draw(st.sampled_from([PinName.SIGNING, PinName.USER_AUTH, PinName.TEXT_INPUT_HELPER]))
        return _apdu(0, 0x24, 1, 0x80, draw(pin_values(pin)).encode("ascii"))
    if name == "CHANGE_KEY":
        return _apdu(0x80, 0x32, 0, 0x80, draw(pin_values(PinName.RESIDENT_REGISTRY)).encode())
    if name == "COMPUTE_DIGITAL_SIGNATURE":
        p1 = draw(st.integers(0, 5))
        size = 32 if p1 in (2, 4) else draw(st.integers(1, 245))
        p2 = draw(st.sampled_from([0x80, 0x97, 0x9A]))
        return _apdu(0x80, 0x2A, p1, p2, draw(st.binary(min_size=size, max_size=size)), le=256)
    if name == "GET_CHALLENGE":
        return _apdu(0, 0x84, 0, 0, le=draw(st.integers(1, 256)))
    if name == "GET_DATA":
        tag, le = draw(st.sampled_from(_GET_DATA_OBJECTS))
        if le == 256:
            le = draw(st.integers(1, 256))
        return CommandApdu(0, 0xCA, tag >> 8, tag & 0xFF, b"", le, extended=le > 256).to_bytes()
    if name == "GET_RESPONSE":
        return _apdu(0, 0xC0, 0, 0, le=draw(st.integers(1, 256)))
    if name == "INTERNAL_AUTHENTICATE":  # 共通AP key 0019 by SFI, or the current EF (§2.7)
        challenge = draw(st.binary(min_size=1, max_size=255))
        return _apdu(0, 0x88, 0, draw(st.sampled_from([0x80, 0x99])), challenge, le=256)
    if name == "SET_SESSION_KEY":  # an RSA-OAEP cryptogram as long as the modulus (§5.7)
        return _apdu(0x80, 0xAE, 0, 0, draw(st.binary(min_size=256, max_size=256)))
    if name == "SM_SELECT":
        return _apdu(0x08, 0xA4, 2, 0x0C, _sm_cryptogram(draw))
    if name == "SM_VERIFY":
        return _apdu(0x08, 0x20, 0, 0x80, _sm_cryptogram(draw))
    if name == "SM_READ_BINARY":  # 96 03 00 <Le, 2 bytes>, extended Lc and Le
        expected = bytes([0x96, 0x03, 0x00]) + draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")
        return CommandApdu(0x08, 0xB0, 0, 0, expected, 65536, extended=True).to_bytes()
    # Instructions the card refuses to users whatever the parameters (card-interface.md §2.7).
    data = draw(st.binary(min_size=0, max_size=16))
    return _apdu(i.cla, i.ins, draw(u8), draw(u8), data)


@st.composite
def valid_commands(draw: st.DrawFn, instruction: str | None = None) -> bytes:
    """Well-formed commands as clients send them, for ``instruction`` (a name of
    :data:`INSTRUCTIONS`; None: any). Valid in shape: the card may still refuse them in the
    state it is in (no AP selected, PIN not verified, wrong value)."""
    i = draw(st.sampled_from(_instruction(instruction)))
    return _valid_for(draw, i)


@st.composite
def invalid_commands(draw: st.DrawFn, instruction: str | None = None) -> bytes:
    """Commands the card must refuse in every state: malformed lengths, a wrong class, a
    non-zero logical channel, secure messaging, chaining, bad P1-P2, a missing Le, an unknown
    INS. Expect a refusal status word (never ``9000``/``61xx``, never ``6F00``)."""
    i = draw(st.sampled_from(_instruction(instruction)))
    good = _valid_for(draw, i)
    kind = draw(
        st.sampled_from(
            ["truncated", "lc_mismatch", "bad_cla", "channel", "chained", "bad_p1p2", "no_le"]
        )
    )
    cla, ins, p1, p2 = good[:4]
    if kind == "truncated":
        return good[: draw(st.integers(0, 3))]
    if kind == "lc_mismatch":  # Lc announces more bytes than follow
        lc = draw(st.integers(2, 255))
        return good[:4] + bytes([lc]) + draw(st.binary(min_size=lc - 1, max_size=lc - 1))
    if kind == "bad_cla":
        return bytes([draw(st.sampled_from([0x20, 0x3F, 0xA0, 0xB0, 0xFF]))]) + good[1:]
    if kind == "channel":
        return bytes([cla | draw(st.integers(1, 3))]) + good[1:]
    if kind == "chained":
        return bytes([cla | 0x10]) + good[1:]
    if kind == "bad_p1p2" and i.name in _BAD_P1P2:
        p1, p2 = draw(st.sampled_from(_BAD_P1P2[i.name]))
        return bytes([cla, ins, p1, p2]) + good[4:]
    if i.name in ("READ_BINARY", "GET_CHALLENGE", "GET_DATA", "GET_RESPONSE"):
        return good[:4]  # no Le: nothing to answer with (6700)
    unknown = draw(st.sampled_from([0x00, 0x0E, 0x44, 0x70, 0xE0, 0xF0]))
    return bytes([0x00, unknown, p1, p2]) + good[4:]  # an INS no application has (6D00)


_BAD_P1P2: dict[str, list[tuple[int, int]]] = {
    # P1 04 takes P2 00-0F (ISO 7816-4 §7.1.1: what to answer, which occurrence); 1C is none.
    "SELECT": [(0x04, 0x1C), (0x01, 0x0C), (0x08, 0x0C), (0x02, 0x01)],
    "READ_RECORD": [(0x00, 0x04), (0x01, 0x05), (0x01, 0xFC)],
    "VERIFY": [(0x01, 0x80), (0x00, 0x00), (0x00, 0x7F)],
    "COMPUTE_DIGITAL_SIGNATURE": [(0x06, 0x80), (0xFF, 0x80), (0x00, 0x7F)],
    "GET_CHALLENGE": [(0x01, 0x00), (0x00, 0x01)],
    "GET_RESPONSE": [(0x01, 0x00)],
    "INTERNAL_AUTHENTICATE": [(0x01, 0x99), (0x00, 0x00), (0x00, 0x7F)],
    "SET_SESSION_KEY": [(0x01, 0x00), (0x00, 0x01)],
}

# ---------------------------------------------------------------------------------------------
# PIN values (pin-rules.md §1, card-interface.md §10.1)
# ---------------------------------------------------------------------------------------------

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def _signing_password(draw: st.DrawFn) -> str:
    size = draw(st.integers(6, 16))
    body = draw(st.text(_UPPER + _DIGITS, min_size=size - 2, max_size=size - 2))
    chars = [*body, draw(st.sampled_from(_UPPER)), draw(st.sampled_from(_DIGITS))]
    return "".join(draw(st.permutations(chars)))


def pin_values(pin: PinName, *, valid: bool = True) -> st.SearchStrategy[str]:
    """Values of ``pin``'s format (``valid``), or values a careless client might send that break it:
    full-width digits (１２３４), lower case (``abc123``), too short, too long, non-ASCII digits
    (Arabic-Indic ٠١٢٣, which ``str.isdigit`` accepts), letters or digits only for the signing
    password, embedded spaces. Encode invalid ones with UTF-8 to send them."""
    spec = PIN_SPECS[PinName(pin)]
    fmt = spec.format
    if valid:
        if pin is PinName.SIGNING:
            return _signing_password()
        return st.text(_DIGITS, min_size=fmt.min_length, max_size=fmt.max_length)
    short = st.text(_DIGITS + _UPPER, min_size=1, max_size=max(1, fmt.min_length - 1))
    long = st.text(_DIGITS + _UPPER, min_size=fmt.max_length + 1, max_size=fmt.max_length + 8)
    n = fmt.min_length
    full_width = st.text(_DIGITS, min_size=n, max_size=n).map(full_width_digits)
    arabic = st.text("٠١٢٣٤٥٦٧٨٩", min_size=n, max_size=n)
    spaced = st.text(_DIGITS, min_size=n - 1, max_size=n - 1).map(lambda s: s[:1] + " " + s[1:])
    options = [short, long, full_width, arabic, spaced]
    if pin is PinName.SIGNING:
        options += [
            _signing_password().map(str.lower),
            st.text(_UPPER, min_size=6, max_size=16),  # no digit
            st.text(_DIGITS, min_size=6, max_size=16),  # no letter
            st.text("ABCDEF12345!@#-_", min_size=6, max_size=16).filter(
                lambda s: any(c in "!@#-_" for c in s)
            ),
        ]
    else:
        options.append(st.text(_UPPER + "abc", min_size=n, max_size=n))
    return st.one_of(options).filter(lambda s: not fmt.accepts(s))


# ---------------------------------------------------------------------------------------------
# Holders that break parsers (card-interface.md §5.3, §5.6, §11.3)
# ---------------------------------------------------------------------------------------------

# The last and first day of each modern era, and leap days in each era (照合番号B's YYMMDD).
ERA_BOUNDARY_DATES: tuple[date, ...] = (
    date(1912, 7, 29),  # 明治45年 last day
    date(1912, 7, 30),  # 大正元年
    date(1926, 12, 24),  # 大正15年 last day
    date(1926, 12, 25),  # 昭和元年 (one week long)
    date(1989, 1, 7),  # 昭和64年 last day
    date(1989, 1, 8),  # 平成元年
    date(2019, 4, 30),  # 平成31年 last day
    date(2019, 5, 1),  # 令和元年
    date(1988, 2, 29),  # leap day, 昭和63年
    date(2000, 2, 29),  # leap day, 平成12年 (a century leap year)
    date(2020, 2, 29),  # leap day, 令和2年
)
_KANJI = (
    "佐藤鈴木高橋田中伊渡辺山本中村小林加吉田佐々木松井上斎清水森池阿部橋石川山崎長谷川之介左衛門"
)
_RARE = "𠮷𩸽𡈽髙﨑德々ヶゑゐ"
_KANA = "あいうえおかきくけこさしすせそアイウエオカキクケコサシスセソ"
_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def names(*, max_size: int = 100) -> st.SearchStrategy[str]:
    """Names as the card's DF22 holds them: kanji and kana (rare and non-BMP ones included) with
    U+3000 between family and given name, or Latin capitals with ASCII spaces (foreign
    residents); up to ``max_size`` characters — 43 kanji already need the ``81 xx`` length."""
    part = st.text(_KANJI + _KANA + _RARE, min_size=1, max_size=max(1, max_size // 2 - 1))
    japanese = st.tuples(part, part).map(lambda t: f"{t[0]}\u3000{t[1]}")
    word = st.text(_LATIN, min_size=1, max_size=12)
    latin = st.lists(word, min_size=1, max_size=max(1, max_size // 6)).map(" ".join)
    return st.one_of(japanese, latin).map(lambda s: s[:max_size])


def addresses(*, max_size: int = 400) -> st.SearchStrategy[str]:
    """Addresses as DF23 holds them: kanji, kana, full-width digits and ``－``, an optional
    building after U+3000; up to ``max_size`` characters (86+ need ``82 xx xx`` for DF23)."""
    town = st.text(_KANJI + _KANA + _RARE, min_size=1, max_size=max(1, max_size // 3))
    numbers = st.lists(st.integers(1, 9999), min_size=1, max_size=4).map(
        lambda ns: full_width_digits("-".join(str(n) for n in ns))
    )
    building = st.one_of(st.just(""), town.map(lambda b: "\u3000" + b))
    return st.tuples(
        st.sampled_from(["東京都", "北海道", "京都府", "沖縄県"]), town, numbers, building
    ).map(lambda t: "".join(t)[:max_size])


def birth_dates(
    *, variant: Variant = "standard", issued: date = DEFAULT_ISSUED
) -> st.SearchStrategy[date]:
    """Birth dates a card issued on ``issued`` in ``variant`` can hold, era boundaries and leap
    days often: under 15 for ``under15``; on or before the (earlier) issuance for ``expired``."""
    if variant == "under15":
        low, high = issued - timedelta(days=15 * 365 - 4), issued - timedelta(days=1)
    else:
        high = issued if variant == "standard" else _years_before(issued, EXPIRED_YEARS_AGO)
        low = date(1900, 1, 1)
    edges = [d for d in ERA_BOUNDARY_DATES if low <= d <= high]
    ranged = st.dates(low, high)
    return st.one_of(st.sampled_from(edges), ranged) if edges else ranged


def sexes() -> st.SearchStrategy[str]:
    """Every sex code the card can hold: JIS X 0303 ``1``, ``2``, ``9`` and ``0``."""
    return st.sampled_from(["1", "2", "9", "0"])


@st.composite
def holders(
    draw: st.DrawFn, *, variant: Variant = "standard", issued: date = DEFAULT_ISSUED
) -> dict[str, Any]:
    """Holder overrides for the factory's ``holder=``: name, address, birth date, sex, and
    sometimes a security code; consistent with ``variant`` and ``issued``."""
    holder: dict[str, Any] = {
        "name": draw(names()),
        "address": draw(addresses()),
        "birth_date": draw(birth_dates(variant=variant, issued=issued)),
        "sex": draw(sexes()),
    }
    if draw(st.booleans()):
        holder["security_code"] = draw(st.text(_DIGITS, min_size=4, max_size=4))
    return holder


@st.composite
def card_specs(
    draw: st.DrawFn, *, seeds: Sequence[int] = (0, 1), variants: Sequence[Variant] | None = None
) -> CardSpec:
    """Specs of whole cards: a seed from ``seeds`` (few, so keys are made once per seed), a
    variant, and a holder from :func:`holders`."""
    variant = draw(st.sampled_from(list(variants or ("standard", "under15", "expired"))))
    holder = draw(holders(variant=variant))
    return CardSpec.of(seed=draw(st.sampled_from(list(seeds))), variant=variant, holder=holder)


def cards(
    *, seeds: Sequence[int] = (0, 1), variants: Sequence[Variant] | None = None
) -> st.SearchStrategy[Card]:
    """Fresh, powered cards of :func:`card_specs` (``card.created_pins`` holds their PINs). The
    test owns each card: close it, or let it be collected."""
    return card_specs(seeds=seeds, variants=variants).map(lambda spec: _make(spec))


def _make(spec: CardSpec) -> Card:
    card = default_factory().fresh(spec)
    card.power_on()
    return card


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return date(d.year - years, 2, 28)
