"""A synthetic card holder: name, address, numbers and initial PINs, all derived from a seed.

Every person made here is fictitious and every value is for tests only. The same seed and the
same issuance date always give the same person, on every platform and Python version: the values
come from :class:`DeterministicRandom` (SHA-256 in counter mode), never from the wall clock.

Sources: ``shared/spec/card-interface.md`` §5.3 (name and address form), §5.6 (照合番号B), §11
(number formats, My Number check digit), ``shared/spec/pin-rules.md`` §1 (PIN formats).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any, TypeVar

from card_emulator.rules import PIN_SPECS, PinName

__all__ = [
    "DEFAULT_ISSUED",
    "DeterministicRandom",
    "Era",
    "InitialPins",
    "Persona",
    "age_on",
    "card_expiry_for",
    "certificate_expiry",
    "era_code",
    "era_of",
    "era_yymmdd",
    "full_width_digits",
    "generate_persona",
    "is_valid_my_number",
    "my_number_check_digit",
    "nth_birthday_after",
    "san_birth_date",
    "verification_code_b",
]

# A fixed issuance date for reproducible cards; never the wall clock.
DEFAULT_ISSUED = date(2026, 4, 1)

_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------
# Deterministic randomness
# ---------------------------------------------------------------------------------------------


class DeterministicRandom:
    """A byte stream fixed by its label: SHA-256(key ‖ counter), key = SHA-256 of the label.

    Unlike :mod:`random`, its output is defined here and cannot change with the Python version.
    For test data only: it is predictable by design.
    """

    __slots__ = ("_buffer", "_counter", "_key")

    def __init__(self, *label: bytes | str | int) -> None:
        digest = hashlib.sha256(b"mynacard-test-drbg-v1")
        for part in label:
            if isinstance(part, bytes):
                kind, raw = b"b", part
            elif isinstance(part, str):
                kind, raw = b"s", part.encode()
            else:
                kind, raw = b"i", str(int(part)).encode()
            digest.update(kind + len(raw).to_bytes(4, "big") + raw)
        self._key = digest.digest()
        self._counter = 0
        self._buffer = b""

    def _blocks(self, first: int, end: int) -> bytes:
        """Blocks ``first`` … ``end - 1`` of the stream: SHA-256(key ‖ counter as 8 bytes)."""
        key, sha256 = self._key, hashlib.sha256
        return b"".join([sha256(key + i.to_bytes(8, "big")).digest() for i in range(first, end)])

    def bytes_at(self, offset: int, n: int) -> bytes:
        """The ``n`` bytes at ``offset`` of the stream, without moving it (counter mode allows it).

        ``bytes_at(r.position, n)`` is what ``r.bytes(n)`` would return. ValueError if negative.
        """
        if offset < 0 or n < 0:
            raise ValueError("offset and n must not be negative")
        first = offset // 32
        blocks = self._blocks(first, (offset + n + 31) // 32)
        start = offset - first * 32
        return blocks[start : start + n]

    def bytes(self, n: int) -> bytes:
        """The next ``n`` bytes of the stream."""
        buffer = self._buffer
        if len(buffer) < n:  # the blocks still needed, in one go
            first = self._counter
            self._counter = first + (n - len(buffer) + 31) // 32
            buffer += self._blocks(first, self._counter)
        self._buffer = buffer[n:]
        return buffer[:n]

    @property
    def position(self) -> int:
        """How many bytes have been taken from the stream so far."""
        return self._counter * 32 - len(self._buffer)

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)`` (rejection sampling, no modulo bias)."""
        if n <= 0:
            raise ValueError("below() needs a positive bound")
        bits = (n - 1).bit_length()
        nbytes = max(1, (bits + 7) // 8)
        while True:
            value = int.from_bytes(self.bytes(nbytes), "big") >> (nbytes * 8 - bits)
            if value < n:
                return value

    def randint(self, low: int, high: int) -> int:
        """A uniform integer in ``[low, high]``."""
        return low + self.below(high - low + 1)

    def choice(self, items: Sequence[_T]) -> _T:
        return items[self.below(len(items))]

    def digits(self, n: int) -> str:
        return "".join(str(self.below(10)) for _ in range(n))


# ---------------------------------------------------------------------------------------------
# Number formats (card-interface.md §11)
# ---------------------------------------------------------------------------------------------

_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def my_number_check_digit(d11: str) -> int:
    """Check digit of an 11-digit My Number body (総務省令第85号 第5条, card-interface.md §11.1)."""
    if re.fullmatch(r"[0-9]{11}", d11) is None:
        raise ValueError("a My Number body is exactly 11 ASCII digits")
    remainder = sum(w * int(c) for w, c in zip(_MY_NUMBER_WEIGHTS, d11, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(s: str) -> bool:
    """True for 12 ASCII digits whose last digit is the check digit of the first 11."""
    if re.fullmatch(r"[0-9]{12}", s) is None:
        return False
    return my_number_check_digit(s[:11]) == int(s[11])


_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def full_width_digits(text: str) -> str:
    """ASCII digits and hyphens to their full-width forms, as addresses are written (§5.3)."""
    return text.translate(_FULL_WIDTH)


# ---------------------------------------------------------------------------------------------
# Japanese eras (card-interface.md §11.3)
# ---------------------------------------------------------------------------------------------


class Era(IntEnum):
    """Era codes as written in the signing certificate's birth date (EYYYYMMDD)."""

    MEIJI = 1  # 明治
    TAISHO = 2  # 大正
    SHOWA = 3  # 昭和
    HEISEI = 4  # 平成
    REIWA = 5  # 令和

    @property
    def name_ja(self) -> str:
        return _ERA_NAMES_JA[self]


_ERA_NAMES_JA = {
    Era.MEIJI: "明治",
    Era.TAISHO: "大正",
    Era.SHOWA: "昭和",
    Era.HEISEI: "平成",
    Era.REIWA: "令和",
}

# First day of each era, newest first. 明治 from 1868-01-25, the Gregorian date of 明治元年1月1日.
_ERA_STARTS: tuple[tuple[date, Era], ...] = (
    (date(2019, 5, 1), Era.REIWA),
    (date(1989, 1, 8), Era.HEISEI),
    (date(1926, 12, 25), Era.SHOWA),
    (date(1912, 7, 30), Era.TAISHO),
    (date(1868, 1, 25), Era.MEIJI),
)


def era_of(d: date) -> tuple[Era, int]:
    """The era a date falls in and the year within it (元年 = 1)."""
    for start, era in _ERA_STARTS:
        if d >= start:
            return era, d.year - start.year + 1
    raise ValueError(f"{d.isoformat()} is before the Meiji era (1868-01-25)")


def era_code(d: date) -> int:
    """1 明治, 2 大正, 3 昭和, 4 平成, 5 令和."""
    return int(era_of(d)[0])


def era_yymmdd(d: date) -> str:
    """Era year, month, day as 6 digits: 1980-02-17 (昭和55) → ``"550217"`` (§5.6)."""
    _, year = era_of(d)
    if year > 99:
        raise ValueError(f"era year {year} of {d.isoformat()} does not fit in two digits")
    return f"{year:02d}{d.month:02d}{d.day:02d}"


def san_birth_date(d: date) -> str:
    """Birth date as the signing certificate writes it: era digit + Gregorian YYYYMMDD (§11.3)."""
    return f"{era_code(d)}{d.year:04d}{d.month:02d}{d.day:02d}"


# ---------------------------------------------------------------------------------------------
# Birthdays, card and certificate expiry
# ---------------------------------------------------------------------------------------------


def _birthday_in(year: int, birth: date) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:  # born on 29 February, a common year: 28 February
        return date(year, 2, 28)


def _age(birth: date, on: date) -> int:
    years = on.year - birth.year
    return years - 1 if (on.month, on.day) < (birth.month, birth.day) else years


def nth_birthday_after(birth: date, after: date, n: int) -> date:
    """The holder's n-th birthday strictly after ``after`` (n ≥ 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    first = _birthday_in(after.year, birth)
    first_year = after.year if first > after else after.year + 1
    return _birthday_in(first_year + n - 1, birth)


def card_expiry_for(birth: date, issued: date) -> date:
    """Card expiry: the 10th birthday after issuance from 18 on, else the 5th."""
    return nth_birthday_after(birth, issued, 10 if _age(birth, issued) >= 18 else 5)


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class InitialPins:
    """The four PINs the holder sets at issuance (pin-rules.md §1). Never printed: see repr."""

    signing: str
    user_auth: str
    resident_registry: str
    text_input_helper: str
    # 共通カードAP's PIN (card-interface.md §7.2): issued with the resident-registry value unless
    # given; a separate key reference with its own counter.
    common: str | None = None

    def __post_init__(self) -> None:
        for pin_name in (
            PinName.SIGNING,
            PinName.USER_AUTH,
            PinName.RESIDENT_REGISTRY,
            PinName.TEXT_INPUT_HELPER,
        ):
            value = getattr(self, pin_name.value)
            spec = PIN_SPECS[pin_name]
            if not isinstance(value, str) or not spec.format.accepts(value):
                # The value itself is withheld: PINs are never echoed (COMMON.md).
                raise ValueError(
                    f"initial {spec.name_en} must be {spec.format.description_en} (value withheld)"
                )
        if self.common is not None and not PIN_SPECS[PinName.COMMON].format.accepts(self.common):
            raise ValueError("initial common-AP PIN must be 4 digits (value withheld)")

    @property
    def common_value(self) -> str:
        """The 共通AP PIN at issuance: ``common``, else the resident-registry PIN's value."""
        return self.resident_registry if self.common is None else self.common

    def __repr__(self) -> str:
        return "InitialPins(<redacted>)"

    def as_dict(self) -> dict[PinName, str]:
        return {
            PinName.SIGNING: self.signing,
            PinName.USER_AUTH: self.user_auth,
            PinName.RESIDENT_REGISTRY: self.resident_registry,
            PinName.TEXT_INPUT_HELPER: self.text_input_helper,
        }


_ROMAJI = re.compile(r"[A-Za-z][A-Za-z0-9 .'-]*")
_SERIAL = re.compile(r"[0-9A-Za-z]{16}")


@dataclass(frozen=True, slots=True)
class Persona:
    """A synthetic card holder (TEST ONLY). Construction validates every field (ValueError)."""

    name: str  # 氏名: family name, U+3000, given name
    name_kana: str  # フリガナ, katakana; not on the chip, for display
    address: str  # 住所, block numbers in full-width digits and "－"
    prefecture_romaji: str  # certificate subject L= (card-interface.md §12.2)
    city_romaji: str  # certificate subject L=
    municipality_code: str  # 全国地方公共団体コード, 5 digits (§11.3)
    birth_date: date
    sex: str  # JIS X 0303: "1" male, "2" female, "9" not applicable, "0" unknown
    # 個人番号, 12 digits with a valid check digit (§11.1); it is also 照合番号A: not in the repr.
    my_number: str = field(repr=False)
    resident_code: str = field(repr=False)  # 住民票コード, 11 digits (§11.2)
    issued: date  # card issuance date
    card_expiry: date
    security_code: str = field(repr=False)  # 4 digits printed on the card face (§5.6)
    card_serial: str  # 16 characters, token info serial (§4.2)
    # 15-digit card number: 共通AP EF 0001 serial and MF GET DATA 0045 (card-interface.md §7.2, §8)
    card_number: str
    pins: InitialPins

    def __post_init__(self) -> None:
        _check_text("name", self.name)
        if not isinstance(self.name_kana, str):
            raise TypeError("name_kana must be a str")
        _check_text("address", self.address)
        for field_name in ("prefecture_romaji", "city_romaji"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or _ROMAJI.fullmatch(value) is None:
                raise ValueError(f"{field_name} must be ASCII letters (got {value!r})")
        _check_digits("municipality_code", self.municipality_code, 5)
        for field_name in ("birth_date", "issued", "card_expiry"):
            value = getattr(self, field_name)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise TypeError(f"{field_name} must be a datetime.date (not a datetime)")
        era_yymmdd(self.birth_date)  # raises before Meiji
        if self.birth_date > self.issued:
            raise ValueError("birth_date is after the issuance date")
        if self.card_expiry <= self.issued:
            raise ValueError("card_expiry must be after the issuance date")
        if self.sex not in ("0", "1", "2", "9"):
            raise ValueError(
                f"sex must be one of '1', '2', '9', '0' (JIS X 0303), got {self.sex!r}"
            )
        _check_digits("my_number", self.my_number, 12)
        if not is_valid_my_number(self.my_number):
            expected = my_number_check_digit(self.my_number[:11])
            raise ValueError(
                f"my_number {self.my_number} has a wrong check digit: expected {expected} "
                "(card-interface.md §11.1)"
            )
        _check_digits("resident_code", self.resident_code, 11)
        _check_digits("security_code", self.security_code, 4)
        if not isinstance(self.card_serial, str) or _SERIAL.fullmatch(self.card_serial) is None:
            raise ValueError(f"card_serial must be 16 letters or digits, got {self.card_serial!r}")
        _check_digits("card_number", self.card_number, 15)
        if not isinstance(self.pins, InitialPins):
            raise TypeError("pins must be an InitialPins")

    @property
    def family_name(self) -> str:
        return self.name.split("\u3000", 1)[0]

    @property
    def given_name(self) -> str:
        parts = self.name.split("\u3000", 1)
        return parts[1] if len(parts) == 2 else ""


def _check_text(field_name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field_name} must be a non-empty string")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"{field_name} must not contain control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):  # the card holds UTF-8 (§5.3)
        raise ValueError(f"{field_name} must be Unicode text without lone surrogates")


def _check_digits(field_name: str, value: object, length: int) -> None:
    if not isinstance(value, str) or re.fullmatch(rf"[0-9]{{{length}}}", value) is None:
        raise ValueError(f"{field_name} must be exactly {length} ASCII digits, got {value!r}")


_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(Persona))


def verification_code_b(p: Persona) -> str:
    """照合番号B: era-year YYMMDD ‖ card expiry year YYYY ‖ security code (§5.6), 14 digits."""
    return f"{era_yymmdd(p.birth_date)}{p.card_expiry.year:04d}{p.security_code}"


def age_on(p: Persona, d: date) -> int:
    """Age in full years on ``d`` (a year is added on the birthday)."""
    return _age(p.birth_date, d)


def certificate_expiry(p: Persona) -> date:
    """End of the certificates: 5th birthday after issuance, or card expiry if earlier."""
    return min(nth_birthday_after(p.birth_date, p.issued, 5), p.card_expiry)


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

# (kanji, katakana): common family names.
_FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
)  # fmt: skip
_GIVEN_NAMES_MALE: tuple[tuple[str, str], ...] = (
    ("太郎", "タロウ"), ("一郎", "イチロウ"), ("健太", "ケンタ"), ("大輔", "ダイスケ"),
    ("翔太", "ショウタ"), ("拓也", "タクヤ"), ("直樹", "ナオキ"), ("浩", "ヒロシ"),
    ("誠", "マコト"), ("蓮", "レン"), ("悠真", "ユウマ"), ("陽翔", "ハルト"),
    ("隆", "タカシ"), ("和也", "カズヤ"),
)  # fmt: skip
_GIVEN_NAMES_FEMALE: tuple[tuple[str, str], ...] = (
    ("花子", "ハナコ"), ("陽子", "ヨウコ"), ("美咲", "ミサキ"), ("結衣", "ユイ"),
    ("恵子", "ケイコ"), ("由美", "ユミ"), ("さくら", "サクラ"), ("愛", "アイ"),
    ("真由美", "マユミ"), ("彩", "アヤ"), ("陽菜", "ヒナ"), ("葵", "アオイ"),
    ("裕子", "ユウコ"), ("明美", "アケミ"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Place:
    prefecture: str
    prefecture_romaji: str
    city: str
    city_romaji: str
    municipality_code: str


_PLACES: tuple[_Place, ...] = (
    _Place("東京都", "Tokyo-to", "千代田区", "Chiyoda-ku", "13101"),
    _Place("東京都", "Tokyo-to", "新宿区", "Shinjuku-ku", "13104"),
    _Place("東京都", "Tokyo-to", "清瀬市", "Kiyose-shi", "13221"),
    _Place("神奈川県", "Kanagawa-ken", "藤沢市", "Fujisawa-shi", "14205"),
    _Place("大阪府", "Osaka-fu", "豊中市", "Toyonaka-shi", "27203"),
    _Place("愛知県", "Aichi-ken", "岡崎市", "Okazaki-shi", "23202"),
    _Place("北海道", "Hokkaido", "旭川市", "Asahikawa-shi", "01204"),
    _Place("福岡県", "Fukuoka-ken", "久留米市", "Kurume-shi", "40203"),
    _Place("宮城県", "Miyagi-ken", "石巻市", "Ishinomaki-shi", "04202"),
    _Place("京都府", "Kyoto-fu", "宇治市", "Uji-shi", "26204"),
    _Place("広島県", "Hiroshima-ken", "呉市", "Kure-shi", "34202"),
)
# Generic town names, and building names that mark the address as a test address.
_TOWNS = ("本町", "中央", "緑町", "栄町", "旭町", "若葉台", "桜台", "東町", "西町", "南町")
_BUILDINGS = ("テストハイツ", "テストコーポ", "テストマンション", "テストレジデンス")

_SIGNING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud


def _random_signing_password(rng: DeterministicRandom) -> str:
    fmt = PIN_SPECS[PinName.SIGNING].format
    while True:
        value = "".join(rng.choice(_SIGNING_ALPHABET) for _ in range(8))
        if fmt.accepts(value):
            return value


def _card_serial(seed: int, issued: date, overrides: dict[str, Any]) -> str:
    """16 characters: "TEST" + 12 hex digits of a digest of everything the card is made from.

    Different inputs give different serials, so OpenSC's file cache (keyed by the serial,
    pcsc-vpcd.md) tells the cards apart.
    """
    material = repr((seed, issued.isoformat(), sorted((k, repr(v)) for k, v in overrides.items())))
    return "TEST" + hashlib.sha256(material.encode()).hexdigest()[:12].upper()


def generate_persona(seed: int, *, issued: date = DEFAULT_ISSUED, **overrides: Any) -> Persona:
    """A synthetic adult holder (20–79 at issuance), fixed by ``seed`` and ``issued``.

    ``overrides`` replace any :class:`Persona` field; ``card_expiry`` and ``card_serial`` are
    derived after the overrides unless overridden themselves. Bad values raise ValueError, unknown
    field names TypeError. One initial PIN may be given by its name (``user_auth="1234"``); the
    others stay the seed's.
    """
    pin_values = {
        name: overrides.pop(name)
        for name in [f.name for f in dataclasses.fields(InitialPins)]
        if name in overrides
    }
    unknown = set(overrides) - _FIELD_NAMES
    if unknown:
        raise TypeError(f"unknown Persona field(s): {', '.join(sorted(unknown))}")
    if "issued" in overrides:
        raise TypeError("pass the issuance date as issued=, not as an override")
    if not isinstance(issued, date) or isinstance(issued, datetime):
        raise TypeError("issued must be a datetime.date")

    rng = DeterministicRandom(b"persona", seed)
    sex = rng.choice(("1", "2"))
    family, family_kana = rng.choice(_FAMILY_NAMES)
    given, given_kana = rng.choice(_GIVEN_NAMES_MALE if sex == "1" else _GIVEN_NAMES_FEMALE)
    place = rng.choice(_PLACES)
    block = f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    room = f"{rng.randint(1, 9)}{rng.randint(0, 1)}{rng.randint(1, 9)}"
    address = (
        f"{place.prefecture}{place.city}{rng.choice(_TOWNS)}{full_width_digits(block)}"
        f"\u3000{rng.choice(_BUILDINGS)}{full_width_digits(room)}"
    )
    # Ages 20–79 at issuance.
    birth_date = issued - timedelta(days=rng.randint(20 * 366, 79 * 365))
    body = rng.digits(11)
    pins = InitialPins(
        signing=_random_signing_password(rng),
        user_auth=rng.digits(4),
        resident_registry=rng.digits(4),
        text_input_helper=rng.digits(4),
    )
    fields: dict[str, Any] = {
        "name": f"{family}\u3000{given}",
        "name_kana": f"{family_kana}\u3000{given_kana}",
        "address": address,
        "prefecture_romaji": place.prefecture_romaji,
        "city_romaji": place.city_romaji,
        "municipality_code": place.municipality_code,
        "birth_date": birth_date,
        "sex": sex,
        "my_number": body + str(my_number_check_digit(body)),
        "resident_code": rng.digits(11),
        "issued": issued,
        "security_code": rng.digits(4),
        "pins": pins,
    }
    fields.update(overrides)
    if pin_values:
        fields["pins"] = dataclasses.replace(fields["pins"], **pin_values)
    if "card_expiry" not in overrides:
        birth = fields["birth_date"]
        if not isinstance(birth, date):
            raise TypeError("birth_date must be a datetime.date")
        fields["card_expiry"] = card_expiry_for(birth, issued)
    if "card_serial" not in overrides:
        fields["card_serial"] = _card_serial(seed, issued, overrides)
    if "card_number" not in overrides:
        # A stream of its own, so the values drawn above stay what they were before it existed.
        fields["card_number"] = DeterministicRandom(
            b"card-number", seed, issued.isoformat()
        ).digits(15)
    return Persona(**fields)
